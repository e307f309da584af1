"""Problem reports after filing: each status change reaches the resident, 'done' asks for a rating or lets
them reopen, and only the resident who reported can do either."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot import keys
from bot.db.models import Report, ReportStatus
from bot.handlers.reports.rules import change_status
from tests.chatting import report_taps, say_all
from tests.conftest import Bot, BotFactory, new_user_id
from tests.serving import cli_env, run_cli

CLOCK = dt.datetime(2026, 11, 23, 5, 0, tzinfo=dt.UTC)
FILE = report_taps("ขยะกองหน้าตลาดไม่มีคนเก็บ")


async def _filed(make_bot: BotFactory) -> tuple[Bot, str]:
    bot = await make_bot()
    bot.app[keys.QA].clock = lambda: CLOCK
    user = new_user_id()
    await say_all(bot, user, *FILE)
    return bot, user


async def test_a_filed_report_has_its_division_and_first_status(make_bot: BotFactory) -> None:
    bot, _ = await _filed(make_bot)
    async with bot.sessions() as session:
        report = await session.scalar(select(Report))
        history = list(await session.scalars(select(ReportStatus.status)))
    assert report is not None and report.reference == "ร-2569-00001" and report.division == "health"
    assert report.village == 5 and report.text == "ขยะกองหน้าตลาดไม่มีคนเก็บ" and report.place is None
    assert history == ["received"]


async def test_status_changes_are_pushed_and_done_asks_for_a_rating(make_bot: BotFactory) -> None:
    bot, user = await _filed(make_bot)
    content = bot.app[keys.CONTENT]
    for status, note in (("in_progress", "ส่งรถเก็บขยะแล้ว"), ("done", None)):
        async with bot.sessions() as session, session.begin():
            await change_status(session, content, "2569-00001", status, note, "staff:somchai", at=bot.now())
        await bot.idle()
    pushed = [d for d in bot.fake.deliveries if d.user_id == user and d.via == "push"]
    texts = [m.get("text", "") for d in pushed for m in d.messages]
    assert any(content.report_statuses["in_progress"] in t and "ส่งรถเก็บขยะแล้ว" in t for t in texts)
    rating = pushed[-1].messages[-1]
    assert [i["action"]["label"] for i in rating["quickReply"]["items"]] == ["1", "2", "3", "4", "5", "ยังไม่เรียบร้อย"]
    stranger = new_user_id()
    # Raw data on purpose: the rating chip's data sent from another chat (forged), which must not count.
    await say_all(bot, stranger, "action=rpr&ref=2569-00001&v=1")
    await say_all(bot, user, "tap: 4")
    # Raw data: once "4" is tapped the question's chips are gone; its reopen chip's data still reopens.
    await say_all(bot, user, "action=rpr&ref=2569-00001&do=reopen")
    async with bot.sessions() as session:
        report = await session.scalar(select(Report))
        history = list(await session.scalars(select(ReportStatus.changed_by).order_by(ReportStatus.id)))
    assert report is not None and report.rating == 4 and report.status == "reopened"
    assert history == ["resident", "staff:somchai", "staff:somchai", "resident"]


async def test_residents_who_opted_out_are_not_pushed(make_bot: BotFactory) -> None:
    bot, user = await _filed(make_bot)
    await say_all(bot, user, "menu: ข้อมูลของฉัน", "tap: ปิดการแจ้งข่าวสาร")
    before = len(bot.fake.messages_to(user))
    async with bot.sessions() as session, session.begin():
        await change_status(session, bot.app[keys.CONTENT], "2569-00001", "in_progress", None, "staff", at=bot.now())
    await bot.idle()
    assert len(bot.fake.messages_to(user)) == before


def test_report_status_cli(tmp_path: Path) -> None:
    env = cli_env(tmp_path)
    # The command works on the server's database; it does not make an empty one of its own.
    missing = run_cli(env, "report", "status", "2569-99999", "done")
    assert missing.returncode == 2 and f"no database at {tmp_path}/bot.sqlite3" in missing.stderr
    created = run_cli(env, "staff", "add", "somsri", "--role", "admin", "--create", stdin="a long password\n")
    assert created.returncode == 0, created.stderr
    result = run_cli(env, "report", "status", "2569-99999", "done")
    assert result.returncode == 1 and "no report 2569-99999" in result.stderr


@pytest.mark.parametrize("steps_done", range(1, 7))
async def test_cancel_works_at_every_step(make_bot: BotFactory, steps_done: int) -> None:
    bot = await make_bot()
    bot.app[keys.QA].clock = lambda: CLOCK
    user = new_user_id()
    await say_all(bot, user, *FILE[:steps_done], "ยกเลิก")
    assert bot.fake.messages_to(user)[-1]["text"] == bot.app[keys.CONTENT].responses["cancelled"].text
    async with bot.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Report)) == 0
