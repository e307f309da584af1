""" "Delete everything" leaves nothing of the resident behind: after the answer has gone out, no table of the
database holds their LINE id, a number they typed (a house number, a phone number), their words or their map
point; opinions and reports stay countable; messages the resident sends meanwhile are still answered."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import subprocess
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bot import keys
from bot.db.models import Base, EventLane, Opinion, OutboundMessage, PendingErasure, Report, Resident
from bot.dev import events
from bot.handlers.residents.erasure import reduce_text
from tests import chatting
from tests.conftest import Bot, BotFactory, new_user_id
from tests.serving import cli_env, run_cli

CLOCK = dt.datetime(2026, 11, 23, 5, 0, tzinfo=dt.UTC)
HOUSE = "บ้านเลขที่ 99/123"
PHONE = "081-234-5678"
OPINION_TEXT = f"ขอไฟส่องสว่างหน้า{HOUSE} ซอยมืดมาก ติดต่อ {PHONE}"
LATITUDE, LONGITUDE = 15.123456, 104.654321
REPORT_TEXT = "ขยะกองข้างทางไม่มีคนเก็บ"
REPORT_PLACE = f"หน้า{HOUSE}"
QUESTION = "ภาษีป้ายต้องยื่นเดือนไหน"
CHAT = "สวัสดีครับ ผมสมชาย"


async def _say(bot: Bot, user: str, *turns: str | dict[str, Any]) -> None:
    """Each turn as tests/chatting.py reads it ("tap: หมู่ 4", typed text) or a ready event; one after another."""
    for turn in turns:
        event = turn if isinstance(turn, dict) else chatting.event(bot, user, turn)
        assert (await bot.post(event)).status == 200
        await bot.idle()


async def _resident_with_everything(make_bot: BotFactory) -> tuple[Bot, str]:
    """A resident who followed, consented, gave an opinion with a map point, filed a report, asked and chatted."""
    bot = await make_bot()
    bot.app[keys.QA].clock = lambda: CLOCK
    user = new_user_id()
    await _say(
        bot,
        user,
        bot.follow(user),
        "menu: เสนอความคิดเห็น",
        "tap: รับทราบ",
        "tap: หมู่ 4",
        OPINION_TEXT,
        events.location_event(user, LATITUDE, LONGITUDE, bot.fake.issue_reply_token(user)),
        "tap: เสร็จ",
        "tap: กายภาพ ถนน น้ำ ไฟ",
        "tap: ยืนยันส่ง",
        "menu: แจ้งปัญหา/ร้องเรียน",
        "tap: ขยะ/ความสะอาด",
        "tap: หมู่ 4",
        REPORT_TEXT,
        "tap: เสร็จ",
        REPORT_PLACE,
        "tap: ยืนยันส่ง",
        QUESTION,
        CHAT,
    )
    async with bot.sessions() as session:
        opinion = await session.scalar(select(Opinion))
        report = await session.scalar(select(Report))
    assert opinion is not None and opinion.text == OPINION_TEXT and opinion.latitude == LATITUDE
    assert report is not None and report.place == REPORT_PLACE and report.resident_id == opinion.resident_id
    return bot, user


def _strings(value: Any) -> list[str]:
    """The value as stored, and every string inside it when it is JSON (payloads keep Thai as \\u escapes)."""
    text = str(value)
    found = [text]
    try:
        decoded = json.loads(text)
    except ValueError:
        return found
    stack = [decoded]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            found.append(item)
        elif isinstance(item, dict):
            stack.extend([*item.keys(), *item.values()])
        elif isinstance(item, list):
            stack.extend(item)
    return found


async def _where_found(bot: Bot, *needles: str) -> list[str]:
    """'table.column: needle' for every needle found in any column of any table."""
    hits = []
    async with bot.sessions() as session:
        for table in Base.metadata.sorted_tables:
            for row in (await session.execute(select(table))).all():
                for column, value in zip(table.columns, row, strict=True):
                    if value is None:
                        continue
                    strings = _strings(value)
                    hits.extend(f"{table.name}.{column.name}: {n}" for n in needles if any(n in s for s in strings))
    return hits


async def _erasures_finished(bot: Bot) -> None:
    """The worker's erasure job, run until nothing waits (the inbox's own loops may hold the chat a moment)."""
    async with asyncio.timeout(15):
        while True:
            await bot.app[keys.ERASURES].run_once()
            async with bot.sessions() as session:
                if not await session.scalar(select(func.count()).select_from(PendingErasure)):
                    return
            await asyncio.sleep(0.1)


async def _delete_everything(bot: Bot, user: str) -> None:
    await _say(bot, user, "menu: ข้อมูลของฉัน", "tap: ลบข้อมูลทั้งหมด", "tap: ยืนยันลบทั้งหมด")


def _deleted_answer(bot: Bot) -> str:
    return bot.app[keys.CONTENT].responses["mydata_deleted"].text


async def _announce_hearing(bot: Bot, database_url: str, tmp_path: Path, user: str) -> None:
    """A hearing for village 4 announced with the command line; the bot's own worker sends it to the resident."""
    env = cli_env(tmp_path, database_url)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return run_cli(env, "hearing", *args)

    hearing = ("--title", "ประชาคมหมู่ 4", "--starts", "2031-01-10 09:00", "--place", "วัดบ้านนา", "--villages", "4")
    created = await asyncio.to_thread(run, "create", *hearing, "--json")
    assert created.returncode == 0, created.stderr
    received = sum(1 for d in bot.fake.deliveries if d.user_id == user)
    announced = await asyncio.to_thread(run, "announce", str(json.loads(created.stdout)["id"]))
    assert announced.returncode == 0, announced.stderr
    await bot.fake.wait_for_deliveries(received + 1, timeout=20, user_id=user)
    assert bot.fake.deliveries[-1].via == "multicast"


async def test_after_deleting_everything_no_table_holds_the_line_id_or_what_they_typed(
    make_bot: BotFactory, database_url: str, tmp_path: Path
) -> None:
    bot, user = await _resident_with_everything(make_bot)
    await _announce_hearing(bot, database_url, tmp_path, user)
    needles = (user, HOUSE, "99/123", PHONE, QUESTION, CHAT, str(LATITUDE), str(LONGITUDE))
    assert {hit.split(":")[0] for hit in await _where_found(bot, *needles)} >= {
        "resident.line_user_id",
        "inbound_event.lane_key",
        "inbound_event.payload",
        "event_lane.lane_key",
        "outbound_message.to",
        "broadcast_chunk.recipients",
        "opinion.text",
        "opinion.latitude",
    }
    await _delete_everything(bot, user)
    assert bot.fake.messages_to(user)[-1]["text"] == _deleted_answer(bot)
    await _erasures_finished(bot)
    assert await _where_found(bot, *needles) == []
    async with bot.sessions() as session:
        opinion = await session.scalar(select(Opinion))
        report = await session.scalar(select(Report))
        waiting = await session.scalar(select(func.count()).select_from(PendingErasure))
    # Still countable for the plan, pointing to no one.
    assert opinion is not None and opinion.resident_id is None and opinion.event_id is None
    assert opinion.village == 4 and opinion.category == "physical" and opinion.consultation_id
    assert opinion.text == reduce_text(OPINION_TEXT) and "ขอไฟส่องสว่าง" in opinion.text
    assert opinion.latitude is None and opinion.longitude is None
    assert report is not None and report.resident_id is None and report.type == "waste" and report.village == 4
    assert report.text == REPORT_TEXT and report.place == reduce_text(REPORT_PLACE)
    assert waiting == 0
    # Coming back, the resident starts afresh, and is answered.
    await _say(bot, user, "menu: เสนอความคิดเห็น")
    assert "โปรดอย่าส่งข้อมูลอ่อนไหว" in bot.fake.messages_to(user)[-1]["text"]


async def test_the_line_id_stays_only_until_the_answer_is_sent(make_bot: BotFactory) -> None:
    bot, user = await _resident_with_everything(make_bot)
    await _say(bot, user, "menu: ข้อมูลของฉัน", "tap: ลบข้อมูลทั้งหมด")
    for endpoint in ("reply", "push"):
        for _ in range(4):  # every retry of one send (bot/delivery/line.py's RetryPolicy)
            bot.fake.add_fault(endpoint, {"status": 500})
    await _say(bot, user, "tap: ยืนยันลบทั้งหมด")
    assert bot.fake.messages_to(user)[-1]["text"] != _deleted_answer(bot)
    await bot.app[keys.ERASURES].run_once()
    async with bot.sessions() as session:
        owed = list(await session.scalars(select(OutboundMessage).where(OutboundMessage.status == "pending")))
        waiting = await session.scalar(select(func.count()).select_from(PendingErasure))
    # The answer is owed: its address stays, and so does the chat's lane the inbox sends it through.
    assert [row.to for row in owed] == [user] and waiting == 1
    assert sorted(hit.split(":")[0] for hit in await _where_found(bot, user)) == [
        "event_lane.lane_key",
        "inbound_event.lane_key",
        "outbound_message.to",
    ]
    async with asyncio.timeout(30):
        while bot.fake.messages_to(user)[-1]["text"] != _deleted_answer(bot):
            await bot.idle()
            await asyncio.sleep(0.2)
    await _erasures_finished(bot)
    assert await _where_found(bot, user, HOUSE) == []


async def test_messages_sent_right_after_the_request_are_answered_as_a_newcomers(make_bot: BotFactory) -> None:
    bot, user = await _resident_with_everything(make_bot)
    await _say(bot, user, "menu: ข้อมูลของฉัน", "tap: ลบข้อมูลทั้งหมด")
    now = int(dt.datetime.now(dt.UTC).timestamp() * 1000)
    confirm = bot.tap(user, "ยืนยันลบทั้งหมด", timestamp_ms=now)
    again = bot.text(user, QUESTION, timestamp_ms=now + 1)
    assert (await bot.post(confirm, again)).status == 200
    await bot.idle()
    texts = [m.get("text", m.get("altText", "")) for m in bot.fake.messages_to(user)[-3:]]
    apology = bot.app[keys.CONTENT].responses["processing_failed"].text
    assert _deleted_answer(bot) in texts and apology not in texts
    assert any("ภาษีป้าย" in t for t in texts[texts.index(_deleted_answer(bot)) + 1 :])
    await _erasures_finished(bot)
    # What went before the request is gone; the newcomer's question and its answer stay, as anyone's would.
    assert await _where_found(bot, HOUSE, PHONE, CHAT, str(LATITUDE)) == []
    async with bot.sessions() as session:
        residents = list(await session.scalars(select(Resident)))
        lanes = list(await session.scalars(select(EventLane.lane_key)))
        waiting = await session.scalar(select(func.count()).select_from(PendingErasure))
    assert [r.line_user_id for r in residents] == [user] and residents[0].consent_version is None
    assert user in lanes and waiting == 0
    await _say(bot, user, "menu: เสนอความคิดเห็น")
    assert "โปรดอย่าส่งข้อมูลอ่อนไหว" in bot.fake.messages_to(user)[-1]["text"]


def test_reduced_text_keeps_the_words_and_drops_numbers_and_addresses() -> None:
    assert reduce_text(OPINION_TEXT) == "ขอไฟส่องสว่างหน้าบ้านเลขที่ … ซอยมืดมาก ติดต่อ …"
    assert reduce_text("โทร ๐๘๑ ๒๓๔ ๕๖๗๘ หรือ somchai@example.com ดู https://x.example/a?b=1") == "โทร … หรือ … ดู …"
    assert reduce_text("ถนนพัง") == "ถนนพัง"
