"""ติดตามเรื่อง: a resident sees their own reports and opinions and where each stands, one of them by its
reference in detail, and never anyone else's (another resident's number is answered as an unknown one)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from bot import keys
from bot.chat.dispatch import Router, Turn
from bot.db.models import InboundEvent, Opinion, Report
from bot.handlers.opinions.rules import set_outcome, set_staff_note
from bot.handlers.reports.rules import change_status
from bot.handlers.residents.cases import show_cases
from bot.handlers.routing import routers
from bot.handlers.services.timeline import thai_short_date as case_date
from bot.references import Reference, find_reference, parse_reference
from tests import chatting
from tests.conftest import Bot, BotFactory, new_user_id
from tests.test_opinions import HAPPY as OPINION
from tests.test_reports import CLOCK
from tests.test_reports import FILE as REPORT

# -- typed references --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("2569-00001", "2569-00001"),
        ("สถานะเรื่อง 2569-00001", "2569-00001"),
        ("เรื่องที่แจ้ง เลขที่ 2569-00042 ถึงไหนแล้วครับ", "2569-00042"),
        ("ร-2569-00001", "ร-2569-00001"),
        ("ค-2569-00001", "ค-2569-00001"),
        ("ร 2569-00001", "ร-2569-00001"),
        ("ค2569-00001", "ค-2569-00001"),
        ("ร - 2569 - 00001", "ร-2569-00001"),
        ("สถานะเรื่องร-2569-00002", "ร-2569-00002"),
        ("256900001", "2569-00001"),
        ("2569 00001", "2569-00001"),
        ("๒๕๖๙-๐๐๐๐๑", "2569-00001"),
        ("ร-๒๕๖๙–๐๐๐๐๑", "ร-2569-00001"),
        ("2569/00007", "2569-00007"),
        ("2569-123456", "2569-123456"),
        ("จักร 2569-00003", "2569-00003"),  # the end of a word is not the report letter
    ],
)
def test_typed_references_are_read_in_their_stored_form(typed: str, canonical: str) -> None:
    assert find_reference(typed) == canonical


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "ติดตามเรื่อง",
        "ภาษีปี 2569 10000 บาท",  # a year and an amount
        "แผนพัฒนาท้องถิ่น 2566-2570",  # a plan period
        "ปี 2566-70",
        "โทร 081-234-5678",
        "0812345678",
        "02-2569-00001",
        "2569-00000",
        "2569-1234567",
        "12569-00001",
        "2569-00001-2",
        "2469-00001",
    ],
)
def test_other_numbers_are_not_references(typed: str) -> None:
    assert find_reference(typed) is None


_THAI_DIGITS = str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙")
_WORDS = st.sampled_from(["", "สถานะเรื่อง ", "ขอติดตามเรื่อง เลขที่ ", "เรื่องที่แจ้ง ", "hi "])
_AFTER = st.sampled_from(["", " ครับ", " ถึงไหนแล้วคะ", "?", " ขอบคุณ"])


@given(
    kind=st.sampled_from([None, "report", "opinion"]),
    year=st.integers(2500, 2699),
    number=st.integers(1, 99_999),
    dash=st.sampled_from(["-", " - ", "–", "/", "", " "]),
    prefix_dash=st.sampled_from(["-", " - ", " ", ""]),
    thai=st.booleans(),
    before=_WORDS,
    after=_AFTER,
)
def test_every_way_of_typing_a_reference_reads_back(
    kind: str | None,
    year: int,
    number: int,
    dash: str,
    prefix_dash: str,
    thai: bool,
    before: str,
    after: str,
) -> None:
    expected = Reference(kind, year, number)
    counter = f"{number:05d}"
    if dash.strip() == "" and not counter.startswith("0"):
        dash = "-"  # without a dash only a counter below 10,000 is read (see bot/references.py)
    letter = {"report": "ร", "opinion": "ค"}[kind] + prefix_dash if kind else ""
    typed = f"{before}{letter}{year}{dash}{counter}{after}"
    assert find_reference(typed.translate(_THAI_DIGITS) if thai else typed) == str(expected)


@given(st.text(max_size=80))
def test_any_text_gives_none_or_a_canonical_reference_that_reads_as_itself(text: str) -> None:
    found = find_reference(text)
    assert found is None or re.fullmatch(r"(?:[รค]-)?2[56]\d\d-\d{5,6}", found)
    assert found is None or find_reference(found) == found


def test_a_letter_names_one_stored_reference_and_a_bare_number_both() -> None:
    found = parse_reference("ค-2569-00001")
    assert found is not None and found.stored_forms() == ("ค-2569-00001",)
    assert found.means("opinion") and not found.means("report")
    bare = parse_reference("2569-00001")
    assert bare is not None and bare.stored_forms() == ("ร-2569-00001", "ค-2569-00001")


# -- conversations -----------------------------------------------------------------------------------------

FOLLOW_UPS = ("ติดตามเรื่อง", "เรื่องที่แจ้งไว้ถึงไหนแล้ว")


def _lead_routing() -> Router:
    """Stands in for the reader's my_cases branch in bot/handlers/services/chat.py (the lead's): typed follow-ups
    and references reach show_cases, as the reader will send them."""
    router = Router("my-cases-stand-in")

    @router.on_text(lambda turn: turn.text in FOLLOW_UPS or find_reference(turn.text) is not None)
    async def my_cases(turn: Turn) -> None:
        await show_cases(turn, find_reference(turn.text))

    return router


@pytest.fixture
async def typed_bot(make_bot: BotFactory, monkeypatch: pytest.MonkeyPatch) -> Bot:
    stand_in = _lead_routing()
    monkeypatch.setattr("bot.app.routers", lambda: [stand_in, *routers()])
    bot = await make_bot()
    bot.app[keys.QA].clock = lambda: CLOCK
    return bot


async def _say(bot: Bot, user: str, *turns: str) -> list[dict[str, Any]]:
    """What the bot answered to these turns."""
    before = len(bot.fake.messages_to(user))
    for turn in turns:
        event = chatting.event(bot, user, turn)  # "tap: ...", "menu: ...", raw data or typed text
        assert (await bot.post(event)).status == 200
        await bot.idle()
    return bot.fake.messages_to(user)[before:]


async def _resident_with_cases(bot: Bot) -> str:
    """A report (ร-2569-00001, now in progress with a note), then an opinion (ค-2569-00001: the same number)."""
    user = new_user_id()
    await _say(bot, user, *REPORT)
    async with bot.sessions() as session, session.begin():
        await change_status(
            session, bot.app[keys.CONTENT], "2569-00001", "in_progress", "ส่งรถเก็บขยะแล้ว", "staff", at=bot.now()
        )
    await bot.idle()
    await _say(bot, user, *OPINION[:1], *OPINION[2:])  # consent was given in the report flow
    return user


async def _row(bot: Bot, kind: type[Report] | type[Opinion], reference: str) -> Any:
    async with bot.sessions() as session:
        return await session.scalar(select(kind).where(kind.reference == reference))


def _chips(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [item["action"] for item in message.get("quickReply", {}).get("items", [])]


async def test_the_list_shows_own_cases_newest_first_with_date_status_and_office(typed_bot: Bot) -> None:
    bot = typed_bot
    user = await _resident_with_cases(bot)
    stranger = new_user_id()
    await _say(bot, stranger, *REPORT)  # ร-2569-00002, someone else's
    report, opinion = await _row(bot, Report, "ร-2569-00001"), await _row(bot, Opinion, "ค-2569-00001")
    (listed,) = await _say(bot, user, "tap: ติดตามเรื่อง")  # under the opinion's confirmation
    text = listed["text"]
    assert text.startswith("เรื่องล่าสุดของคุณ") and "2569-00002" not in text
    opinion_at, report_at = text.index("ความเห็นเลขที่ ค-2569-00001"), text.index("เรื่องแจ้งเลขที่ ร-2569-00001")
    assert opinion_at < report_at  # filed after the report
    assert f"({case_date(report.created_at)})" in text and case_date(report.created_at).endswith(" 2569")
    assert "ขยะ/ความสะอาด: ขยะกองหน้าตลาดไม่มีคนเก็บ" in text
    assert "สถานะ: กำลังดำเนินการ · กองสาธารณสุขและสิ่งแวดล้อม" in text
    assert "ด้านกายภาพ: ขอไฟส่องสว่างหน้าวัด" in text and "สถานะ: รับไว้แล้ว" in text
    chips = _chips(listed)
    assert [c.get("data") for c in chips[:2]] == ["action=cases&ref=ค-2569-00001", "action=cases&ref=ร-2569-00001"]
    assert [c["label"] for c in chips[:2]] == ["เสนอ ค-2569-00001", "แจ้ง ร-2569-00001"]
    assert chips[0]["displayText"] == "สถานะเรื่อง ค-2569-00001"  # what a resident without chips types
    assert [c["label"] for c in chips[2:]] == ["แจ้งปัญหา/ร้องเรียน", "เสนอความคิดเห็น"]
    assert opinion.resident_id == report.resident_id


@pytest.mark.parametrize("follow_up", FOLLOW_UPS)
async def test_typed_follow_ups_list_the_cases(typed_bot: Bot, follow_up: str) -> None:
    user = await _resident_with_cases(typed_bot)
    (listed,) = await _say(typed_bot, user, follow_up)
    assert "เรื่องแจ้งเลขที่ ร-2569-00001" in listed["text"] and "ความเห็นเลขที่ ค-2569-00001" in listed["text"]


async def test_the_list_says_how_many_more_there_are(typed_bot: Bot) -> None:
    user = new_user_id()
    await _say(typed_bot, user, *REPORT)
    for _ in range(6):
        await _say(typed_bot, user, *REPORT[:1], *REPORT[2:])
    (listed,) = await _say(typed_bot, user, "ติดตามเรื่อง")
    assert listed["text"].count("• เรื่องแจ้งเลขที่") == 5 and "และอีก 2 เรื่อง" in listed["text"]
    assert "ร-2569-00007" in listed["text"] and "2569-00002" not in listed["text"]  # newest first
    assert len(_chips(listed)) == 7


@pytest.mark.parametrize(
    ("before", "typed"),
    [((), "สถานะเรื่อง ร-2569-00001"), ((), "ร2569-00001"), (("ติดตามเรื่อง",), "tap: แจ้ง ร-2569-00001")],
)
async def test_one_report_by_reference_shows_its_history_in_buddhist_era_dates(
    typed_bot: Bot, before: tuple[str, ...], typed: str
) -> None:
    bot = typed_bot
    user = await _resident_with_cases(bot)
    report = await _row(bot, Report, "ร-2569-00001")
    await _say(bot, user, *before)  # the tap: on the chip of the list of cases
    (detail,) = await _say(bot, user, typed)
    day = case_date(report.created_at)
    assert detail["text"].split("\n")[:6] == [
        "เรื่องแจ้งเลขที่ ร-2569-00001",
        "ประเภท: ขยะ/ความสะอาด",
        f"แจ้งเมื่อ: {day}",
        "ผู้รับผิดชอบ: กองสาธารณสุขและสิ่งแวดล้อม",
        "สถานะล่าสุด: กำลังดำเนินการ",
        "รายละเอียด: ขยะกองหน้าตลาดไม่มีคนเก็บ",
    ]
    # Filed in the chat and moved on by staff, both by the one clock (pinned here).
    assert detail["text"].endswith(f"ความคืบหน้า\n• {day} รับเรื่องแล้ว\n• {day} กำลังดำเนินการ: ส่งรถเก็บขยะแล้ว")
    async with bot.sessions() as session:
        outcomes = list(await session.scalars(select(InboundEvent.outcome).order_by(InboundEvent.id.desc()).limit(1)))
    assert outcomes == ["case-shown"]


async def test_one_opinion_shows_its_outcome_but_not_staff_notes(typed_bot: Bot) -> None:
    bot = typed_bot
    user = await _resident_with_cases(bot)
    content = bot.app[keys.CONTENT]
    async with bot.sessions() as session, session.begin():
        await set_outcome(session, content, "2569-00001", "in_plan", "โครงการติดตั้งไฟส่องสว่าง หมู่ 4", "staff", at=bot.now())
        await set_staff_note(session, "2569-00001", "โทรถามผู้ใหญ่บ้านแล้ว", "staff", at=bot.now())
    await bot.idle()
    (detail,) = await _say(bot, user, "ค-2569-00001")
    text = detail["text"]
    assert text.startswith("ความเห็นเลขที่ ค-2569-00001\nด้าน: ด้านกายภาพ\n")
    assert "สถานะล่าสุด: บรรจุในแผนแล้ว: โครงการติดตั้งไฟส่องสว่าง หมู่ 4" in text
    assert "ความคิดเห็น: ขอไฟส่องสว่างหน้าวัด" in text and "ผู้ใหญ่บ้าน" not in text
    opinion = await _row(bot, Opinion, "ค-2569-00001")
    day = case_date(opinion.created_at)  # filed and decided by the one clock, pinned here
    assert text.endswith(f"• {day} รับไว้แล้ว\n• {day} บรรจุในแผนแล้ว")


async def test_a_bare_number_shared_by_a_report_and_an_opinion_shows_both(typed_bot: Bot) -> None:
    user = await _resident_with_cases(typed_bot)
    replies = await _say(typed_bot, user, "2569-00001")
    assert [m["text"].split("\n")[0] for m in replies] == ["เรื่องแจ้งเลขที่ ร-2569-00001", "ความเห็นเลขที่ ค-2569-00001"]


async def test_someone_elses_reference_is_answered_as_an_unknown_one(typed_bot: Bot) -> None:
    bot = typed_bot
    await _resident_with_cases(bot)  # owns report ร-2569-00001 and opinion ค-2569-00001
    stranger = new_user_id()
    await _say(bot, stranger, *REPORT)  # owns report ร-2569-00002
    # raw data on purpose: a forged tap on another resident's case (and on a number nobody has)
    asked = ("สถานะเรื่อง 2569-00001", "ร-2569-00001", "action=cases&ref=ค-2569-00001")
    unknown = ("สถานะเรื่อง 2569-00999", "ร-2569-00999", "action=cases&ref=ค-2569-00999")
    theirs = [await _say(bot, stranger, t) for t in asked]
    nobodys = [await _say(bot, stranger, t) for t in unknown]
    for got, expected in zip(theirs, nobodys, strict=True):
        assert len(got) == len(expected) == 1
        assert got[0]["text"] == expected[0]["text"].replace("2569-00999", "2569-00001")
        assert _chips(got[0]) == _chips(expected[0])
    assert theirs[0][0]["text"].startswith("ไม่พบเลขที่ 2569-00001 ในเรื่องที่คุณแจ้ง")
    # The stranger's own report under the opinion letter is not theirs either.
    (other_kind,) = await _say(bot, stranger, "ค-2569-00002")
    assert other_kind["text"].startswith("ไม่พบเลขที่ ค-2569-00002")
    async with bot.sessions() as session:
        rows = await session.scalars(select(InboundEvent.outcome).order_by(InboundEvent.id.desc()).limit(7))
        outcomes = set(rows)
    assert outcomes == {"case-not-found"}


async def test_no_cases_offers_the_report_and_opinion_flows_by_chip_or_by_typing(typed_bot: Bot) -> None:
    bot = typed_bot
    user = new_user_id()
    (none,) = await _say(bot, user, "ติดตามเรื่อง")
    assert none["text"] == bot.app[keys.CONTENT].responses["cases_none"].text
    chips = _chips(none)
    assert [(c["data"], c["displayText"]) for c in chips] == [
        ("action=menu.report", "แจ้งปัญหา/ร้องเรียน"),
        ("action=menu.opinion", "เสนอความคิดเห็น"),
    ]
    # Without chips (LINE for PC) the words the answer names start the same flows.
    for typed in ("แจ้งปัญหา", "เสนอความคิดเห็น"):
        assert f"พิมพ์ “{typed}”" in none["text"]
        (consent,) = await _say(bot, user, typed)
        assert "โปรดอย่าส่งข้อมูลอ่อนไหว" in consent["text"]
        await _say(bot, user, "ยกเลิก")
    (same,) = await _say(bot, user, "ร-2569-00001")
    assert same["text"].startswith("ไม่พบเลขที่ ร-2569-00001")


async def test_a_broken_tap_is_answered_politely(typed_bot: Bot) -> None:
    (reply,) = await _say(typed_bot, new_user_id(), "action=cases&ref=abc")  # raw data on purpose: garbled
    assert reply["text"] == typed_bot.app[keys.CONTENT].responses["postback_expired"].text


async def test_mydata_shows_buddhist_era_dates(typed_bot: Bot) -> None:
    user = new_user_id()
    await _say(typed_bot, user, *REPORT)
    report = await _row(typed_bot, Report, "ร-2569-00001")
    (summary,) = await _say(typed_bot, user, "menu: ข้อมูลของฉัน")
    # Named by its first words since the summary lists each case (issue 16 item 5), dated in the Buddhist era.
    line = next(line for line in summary["text"].splitlines() if "ร-2569-00001" in line)
    assert line.endswith(f"({case_date(report.created_at)}) รับเรื่องแล้ว"), line
