"""ข้อมูลของฉัน (issue 16 items 5-7): withdrawing an opinion is asked first and names it, by tap or typed
answer, and happens once; every date a resident reads is Buddhist-era Thai; the privacy notice states the
lawful basis it rests on, asks for no consent it does not need, offers only rights the chat has, and names
LINE's operator."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from sqlalchemy import func, select

from bot import keys
from bot.db.models import AuditEntry, Opinion, Resident
from bot.handlers.hearings.rules import NewHearing, create, parse_local
from tests.chatting import opinion_taps, report_taps, say_all
from tests.conftest import Bot, BotFactory, new_user_id

CLOCK = dt.datetime(2026, 11, 23, 5, 0, tzinfo=dt.UTC)
OPINION = "ขอไฟส่องสว่างหน้าวัดป่าบ้านดอนยาง ทางเข้าหมู่บ้านมืดมากตอนกลางคืน เด็กกลับจากโรงเรียนอันตราย"
FIRST_WORDS = OPINION[:39] + "…"  # the question names the first 40 characters
HAPPY = opinion_taps(OPINION)
# Asked to withdraw: with one opinion, "ถอนความคิดเห็น" asks about that one straight away.
ASK_WITHDRAW = ("menu: ข้อมูลของฉัน", "tap: ถอนความคิดเห็น")
REPORT = report_taps("ขยะกองหน้าตลาดไม่มีคนเก็บ", first=False)  # after HAPPY: the notice was read
# A year of the Christian era as a date would show it (2000-2099), not part of a longer number.
GREGORIAN_YEAR = re.compile(r"(?<!\d)20\d\d(?!\d)")
BUDDHIST_YEAR = re.compile(r"(?<!\d)25\d\d(?!\d)")


async def _with_opinion(make_bot: BotFactory) -> tuple[Bot, str, str]:
    """A resident with one opinion filed; its stored reference."""
    bot = await make_bot()
    bot.app[keys.QA].clock = lambda: CLOCK
    user = new_user_id()
    await say_all(bot, user, *HAPPY)
    async with bot.sessions() as session:
        reference = await session.scalar(select(Opinion.reference))
    assert reference is not None
    return bot, user, reference


async def _opinion(bot: Bot) -> Opinion:
    async with bot.sessions() as session:
        opinion = await session.scalar(select(Opinion))
    assert opinion is not None
    return opinion


async def _withdraw_requests(bot: Bot) -> int:
    async with bot.sessions() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "data_request", AuditEntry.detail.contains("withdraw"))
        )
    return int(count or 0)


def _last(bot: Bot, user: str) -> dict[str, Any]:
    return bot.fake.messages_to(user)[-1]


def _phrase(bot: Bot, key: str) -> str:
    return bot.app[keys.CONTENT].phrases[key]


def _response(bot: Bot, key: str) -> str:
    return bot.app[keys.CONTENT].responses[key].text


def _chips(message: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (item["action"]["label"], item["action"].get("data", item["action"].get("uri", "")))
        for item in message.get("quickReply", {}).get("items", [])
    ]


# -- 5. withdrawing asks first and names the opinion ----------------------------------------------------------


async def test_choosing_an_opinion_asks_first_naming_it_and_withdraws_nothing(make_bot: BotFactory) -> None:
    bot, user, reference = await _with_opinion(make_bot)
    await say_all(bot, user, *ASK_WITHDRAW)
    question = _last(bot, user)
    assert f"‘{FIRST_WORDS}’ ({reference})" in question["text"] and "ใช่ไหมคะ" in question["text"]
    assert _chips(question) == [
        (_phrase(bot, "chip_withdraw_yes"), f"action=md&do=withdraw_confirmed&ref={reference}"),
        (_phrase(bot, "chip_withdraw_no"), "action=md&do=withdraw_kept"),
    ]
    opinion = await _opinion(bot)
    assert opinion.status == "received" and opinion.text == OPINION
    assert await _withdraw_requests(bot) == 0


async def test_a_double_tap_on_withdraw_withdraws_once(make_bot: BotFactory) -> None:
    bot, user, reference = await _with_opinion(make_bot)
    await say_all(bot, user, *ASK_WITHDRAW, "tap: ถอน")
    assert _last(bot, user)["text"] == _response(bot, "mydata_withdrawn").format(reference=reference)
    # raw data on purpose: the second tap is on the question's button, now older than the last replies
    await say_all(bot, user, f"action=md&do=withdraw_confirmed&ref={reference}")
    assert _last(bot, user)["text"].startswith(
        _response(bot, "mydata_already_withdrawn").format(reference=reference)[:20]
    )
    opinion = await _opinion(bot)
    assert opinion.status == "withdrawn" and opinion.text == ""
    assert await _withdraw_requests(bot) == 1


async def test_not_withdrawing_keeps_the_opinion(make_bot: BotFactory) -> None:
    bot, user, _ = await _with_opinion(make_bot)
    await say_all(bot, user, *ASK_WITHDRAW, "tap: ไม่ถอน")
    assert _last(bot, user)["text"] == _response(bot, "mydata_withdraw_kept")
    # The question is closed: a "ใช่" typed later is not a confirmation.
    await say_all(bot, user, "ใช่")
    assert (await _opinion(bot)).status == "received"


@pytest.mark.parametrize("typed", ["ใช่", "ถอน", "ยืนยัน ", "ใช่ค่ะ"])
async def test_typed_yes_withdraws(make_bot: BotFactory, typed: str) -> None:
    bot, user, reference = await _with_opinion(make_bot)
    await say_all(bot, user, *ASK_WITHDRAW, typed)
    assert (await _opinion(bot)).status == "withdrawn"
    assert _last(bot, user)["text"] == _response(bot, "mydata_withdrawn").format(reference=reference)


async def test_typed_no_or_cancel_keeps_and_other_text_asks_again(make_bot: BotFactory) -> None:
    bot, user, reference = await _with_opinion(make_bot)
    await say_all(bot, user, *ASK_WITHDRAW, "ไม่")
    assert _last(bot, user)["text"] == _response(bot, "mydata_withdraw_kept")
    await say_all(bot, user, *ASK_WITHDRAW, "ยกเลิก")
    assert _last(bot, user)["text"] == _response(bot, "cancelled")
    await say_all(bot, user, *ASK_WITHDRAW, "ภาษีป้ายยื่นเมื่อไหร่")
    again = _last(bot, user)
    assert reference in again["text"] and "ใช่ไหมคะ" in again["text"]
    assert (await _opinion(bot)).status == "received"
    await say_all(bot, user, "ถอนเลย")
    assert (await _opinion(bot)).status == "withdrawn"


async def test_another_tap_closes_the_question(make_bot: BotFactory) -> None:
    """Asked to withdraw, then tapping delete-everything: a "ใช่" now must not withdraw the opinion."""
    bot, user, _ = await _with_opinion(make_bot)
    # raw data on purpose: ลบข้อมูลทั้งหมด is the summary's chip, older than the question's last replies
    await say_all(bot, user, *ASK_WITHDRAW, "action=md&do=delete", "ใช่")
    assert (await _opinion(bot)).status == "received"


async def test_nobody_else_can_withdraw_or_even_be_asked(make_bot: BotFactory) -> None:
    bot, _, reference = await _with_opinion(make_bot)
    stranger = new_user_id()
    # raw data on purpose: someone else's buttons, which this chat was never offered
    for step in (f"action=md&do=withdraw_one&ref={reference}", f"action=md&do=withdraw_confirmed&ref={reference}"):
        await say_all(bot, stranger, step)
        assert _last(bot, stranger)["text"] == _response(bot, "postback_expired")
    assert (await _opinion(bot)).status == "received"


# -- 6. Buddhist-era dates everywhere a resident reads one ----------------------------------------------------


def _strings(value: Any) -> list[str]:
    """Every text inside a message (a Flex card's texts and alt text included)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for key, v in value.items() if key not in ("data", "uri", "url", "type") for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


async def test_no_reply_a_resident_reads_shows_a_gregorian_year(make_bot: BotFactory) -> None:
    bot = await make_bot()
    bot.app[keys.QA].clock = lambda: CLOCK
    hearing = NewHearing(
        title="ประชุมประชาคมหมู่บ้าน",
        starts_at=parse_local("2031-12-12 09:00"),  # ahead of real time, so that no job of the app touches it
        place="ศาลาอเนกประสงค์หมู่ 3",
        agenda="รับฟังปัญหาและความต้องการ",
    )
    async with bot.sessions() as session, session.begin():
        created = create(session, bot.app[keys.CONTENT], hearing, "test", at=bot.now())
        await session.flush()
        hearing_id = created.id
    user = new_user_id()
    await say_all(bot, user, *HAPPY, *REPORT)
    async with bot.sessions() as session:
        opinion_ref = await session.scalar(select(Opinion.reference))
    # ติดตามเรื่อง is offered under the report's confirmation, not under ข้อมูลของฉัน's summary.
    await say_all(bot, user, "tap: ติดตามเรื่อง", f"tap: เสนอ {opinion_ref}", "menu: ข้อมูลของฉัน")
    bot.app[keys.QA].clock = lambda: dt.datetime(2031, 11, 23, 5, 0, tzinfo=dt.UTC)
    await say_all(
        bot,
        user,
        "menu: ประชาคม/ข่าวสาร",
        "tap: ไป",
        # raw data on purpose: the card's ยังไม่แน่ใจ, on an older message than the answer just saved
        f"action=rsvp&h={hearing_id}&a=maybe",
        *ASK_WITHDRAW,
    )
    replies = [(m, " ".join(_strings(m))) for m in bot.fake.messages_to(user)]
    dated = [text for _, text in replies if BUDDHIST_YEAR.search(text)]
    # The summary, the case list and detail, the hearing card and both RSVP answers each show a date.
    assert len(dated) >= 6
    assert [text for _, text in replies if GREGORIAN_YEAR.search(text)] == []
    # The notice version in the summary, as a Thai date.
    assert any(re.search(r"ประกาศความเป็นส่วนตัว: รับทราบฉบับวันที่ \d+ \S+ 25\d\d", text) for _, text in replies)


# -- ข้อมูลของฉัน's requests typed anywhere, and what the summary says to type ------------------------------------


async def test_mydata_requests_typed_anywhere_act_and_are_never_filed(make_bot: BotFactory) -> None:
    """ "ถอนความคิดเห็น" typed after "สวัสดี", or after "ไม่" to a withdrawal, started a new opinion and was filed
    as one: ข้อมูลของฉัน's requests are commands, typed anywhere; within an opinion being written, withdrawing and
    deleting wait for it (it is kept), and notifications switch at once."""
    bot, user, reference = await _with_opinion(make_bot)
    content = bot.app[keys.CONTENT]
    replies = await say_all(bot, user, "สวัสดี", "ถอนความคิดเห็นค่ะ", "ไม่", "ขอถอนความคิดเห็น", "ไม่ถอน")
    # One opinion: no choice to make, the question names it (two are listed to choose from, test below).
    asked = f"‘{FIRST_WORDS}’ ({reference})"
    assert asked in replies[1][-1]["text"] and asked in replies[3][-1]["text"]
    idea = "อยากให้มีตลาดนัดชุมชนทุกวันเสาร์"
    after_flow = content.responses["mydata_after_flow"].text.split("{")[0]
    replies = await say_all(bot, user, "menu: เสนอความคิดเห็น", "tap: หมู่ 4", idea, "ถอนความคิดเห็น", "ลบข้อมูลทั้งหมด")
    assert replies[3][0]["text"].startswith(after_flow) and replies[4][0]["text"].startswith(after_flow)
    replies = await say_all(bot, user, "ปิดการแจ้งข่าวสาร", "เสร็จ", "tap: เศรษฐกิจ อาชีพ", "ส่ง")
    assert replies[0][0]["text"] == content.responses["news_off_done"].text
    async with bot.sessions() as session:
        texts = list(await session.scalars(select(Opinion.text).order_by(Opinion.id)))
        resident = await session.scalar(select(Resident))
    assert texts == [OPINION, idea]  # nothing typed as a request became an opinion, or part of one
    assert resident is not None and not resident.notify


async def test_the_summary_says_what_to_type_and_names_each_opinion(make_bot: BotFactory) -> None:
    """LINE for PC shows no chips: the summary says what to type for each, and names opinions and reports by
    their first words, as the withdrawal's choices do (a reference alone says little)."""
    bot, user, reference = await _with_opinion(make_bot)
    idea = opinion_taps("อยากให้มีตลาดนัดชุมชน", first=False, category="เศรษฐกิจ อาชีพ")
    await say_all(bot, user, *report_taps("ขยะกองหน้าตลาดไม่มีคนเก็บ", first=False), *idea, "menu: ข้อมูลของฉัน")
    summary = _last(bot, user)
    for label, _ in _chips(summary):
        assert f"“{label}”" in summary["text"], label
    assert f"{reference} ‘{FIRST_WORDS}’" in summary["text"] and "‘ขยะกองหน้าตลาดไม่มีคนเก็บ’" in summary["text"]
    await say_all(bot, user, "tap: ถอนความคิดเห็น")
    assert f"2 {reference} ‘{FIRST_WORDS}’" in _last(bot, user)["text"].split("\n")  # newest first
    await say_all(bot, user, "2")
    assert f"‘{FIRST_WORDS}’ ({reference})" in _last(bot, user)["text"]


# -- 7. the privacy notice -------------------------------------------------------------------------------------


async def test_the_notice_states_public_task_and_asks_no_consent(make_bot: BotFactory) -> None:
    bot = await make_bot()
    user = new_user_id()
    await say_all(bot, user, "menu: เสนอความคิดเห็น")
    notice = _last(bot, user)
    text = notice["text"]
    assert "มาตรา 24 (4)" in text and "ภารกิจ" in text
    assert "ยินยอม" not in text  # the basis is the municipality's public task, not the resident's consent
    assert "แก้ไข" not in text or "แก้ไขหมู่บ้าน" in text  # no right the chat does not offer
    labels = [label for label, _ in _chips(notice)]
    assert labels[:2] == [_phrase(bot, "chip_accept"), _phrase(bot, "chip_decline")]
    assert "ยินยอม" not in " ".join(labels)
    full = bot.app[keys.CONTENT].privacy.full
    # LINE Official Account's Thai terms name LY Corporation (Japan) as the provider, LINE Plus and its
    # affiliates as distributors: both texts name LY Corporation, and that messages may pass abroad.
    for said in (text, full):
        assert "LY Corporation" in said and "นอกประเทศไทย" in said
        assert "ไลน์ คอมพานี" not in said and "LINE Corporation" not in said
    assert "ถอนความยินยอม" not in full
    # Acknowledging records the version the resident was shown, as consenting did.
    await say_all(bot, user, "tap: รับทราบ")
    async with bot.sessions() as session:
        resident = await session.scalar(select(Resident))
    assert resident is not None and resident.consent_version == bot.app[keys.CONTENT].privacy.version
