"""What the command line changes is audited as the workspace's forms are (the README: every status change is
in /staff/audit): `report status` and `opinion outcome` write the row the status and outcome forms write,
by the command line (คำสั่งบนเครื่องแม่ข่าย); `hearing list` prints its counts in Thai words, not a dict."""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import re
from pathlib import Path

from bot import keys
from bot.db.models import Rsvp
from bot.handlers.hearings.rules import NewHearing, create, parse_local
from tests.conftest import Bot
from tests.serving import cli_env, run_cli
from tests.staffing import add_opinions, add_report, add_resident, add_staff, sign_in


async def _audit_rows(bot: Bot) -> list[str]:
    """The audit log's rows as text, one string per row."""
    await add_staff(bot, "somsri", "admin")
    await sign_in(bot.client, "somsri")
    page = await (await bot.client.get("/staff/audit")).text()
    rows = re.findall(r"<tr><td data-label=\"เมื่อ\">.*?</tr>", page, flags=re.S)
    return [html.unescape(re.sub(r"<[^>]+>", " ", row)) for row in rows]


async def test_a_report_status_set_from_the_command_line_is_audited(
    bot: Bot, database_url: str, tmp_path: Path
) -> None:
    resident = await add_resident(bot)
    await add_report(bot, resident, "ร-2569-00001", "ถนนชำรุด")
    env = cli_env(tmp_path, database_url)
    # Typed without its letter, as the README's example may be: the audit names the stored reference.
    done = await asyncio.to_thread(run_cli, env, "report", "status", "2569-00001", "in_progress", "--by", "somchai")
    assert done.returncode == 0, done.stderr
    [row] = [r for r in await _audit_rows(bot) if "เปลี่ยนสถานะเรื่องร้องเรียน" in r]
    assert "คำสั่งบนเครื่องแม่ข่าย" in row and "ร-2569-00001" in row
    assert "สถานะ: " + bot.app[keys.CONTENT].report_statuses["in_progress"] in row
    assert "in_progress" not in row and "cli:" not in row


async def test_an_opinion_outcome_set_from_the_command_line_is_audited(
    bot: Bot, database_url: str, tmp_path: Path
) -> None:
    [reference] = await add_opinions(bot, [("ขอไฟส่องสว่างซอย 5", "physical", 5)], await add_resident(bot))
    env = cli_env(tmp_path, database_url)
    args = ("opinion", "outcome", reference, "in_plan", "--detail", "โครงการไฟส่องสว่าง", "--by", "nid")
    done = await asyncio.to_thread(run_cli, env, *args)
    assert done.returncode == 0, done.stderr
    [row] = [r for r in await _audit_rows(bot) if "แก้ไขความคิดเห็น" in r]
    assert "คำสั่งบนเครื่องแม่ข่าย" in row and reference in row and "บันทึกผลการพิจารณา" in row
    assert "outcome" not in row and "cli:" not in row


async def test_hearing_list_prints_its_answers_in_thai_words(bot: Bot, database_url: str, tmp_path: Path) -> None:
    content = bot.app[keys.CONTENT]
    new = NewHearing(title="ประชาคมหมู่ 3", starts_at=parse_local("2031-12-12 09:00"), place="ศาลาหมู่ 3", villages="3")
    going, maybe = await add_resident(bot, village=3), await add_resident(bot, village=3)
    async with bot.sessions() as session, session.begin():
        hearing = create(session, content, new, "t", at=bot.now())
        await session.flush()
        now = dt.datetime.now(dt.UTC)
        for resident, answer in ((going, "going"), (maybe, "maybe")):
            session.add(Rsvp(hearing_id=hearing.id, resident_id=resident.id, answer=answer, updated_at=now))
    listed = await asyncio.to_thread(run_cli, cli_env(tmp_path, database_url), "hearing", "list")
    assert listed.returncode == 0, listed.stderr
    [line] = [line for line in listed.stdout.splitlines() if "ประชาคมหมู่ 3" in line]
    assert "{" not in line and "going" not in line and "villages" not in line, line
    assert line.endswith("ไป 1 · ไม่สะดวก 0 · ยังไม่แน่ใจ 1"), line
    assert "\tหมู่ที่ 3\t" in line, line
