"""Typed equivalents of every chip and card button, anywhere in the chat: LINE for PC and Mac shows no quick
replies, so what a reply offered is remembered (table offered_choice) and its words typed do what the tap does.
Each case of the newcomer review is here: typed, it gives what the tap gives."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from sqlalchemy import select, update

from bot import keys
from bot.chat.messages import MessageBuilder, WireMessage
from bot.chat.typed import Choice, decode_choices, matching_choices, offered_in, typed_key
from bot.content import load_content
from bot.db.models import Hearing, OfferedChoice, Opinion, Report, Resident, Rsvp, ServiceQuery
from bot.handlers.hearings import cards as hearing_cards
from bot.handlers.hearings.rules import NewHearing, create, parse_local
from bot.handlers.reports.rules import change_status, status_messages
from bot.handlers.services.qa import QuestionAnswering
from tests.chatting import chip_actions, opinion_taps, report_taps, say_all
from tests.conftest import ROOT, Bot, new_user_id

OPINION = "ขอไฟส่องสว่างหน้าวัดป่าบ้านดอนยาง ทางเข้าหมู่บ้านมืดมากตอนกลางคืน เด็กกลับจากโรงเรียนอันตราย"
HAPPY = opinion_taps(OPINION)
REPORT = report_taps("ขยะกองหน้าตลาดไม่มีคนเก็บ")
REFERENCE = re.compile(r"[คร]-\d{4}-\d{5}")
QUESTION = "ต่อใบอนุญาตจำหน่ายอาหารต้องใช้เอกสารอะไรบ้าง"


async def _say(bot: Bot, user: str, *turns: str) -> None:
    """Each turn as tests/chatting.py reads it (a tap by label, a menu tile, raw data or typed text), handled
    one after another."""
    await say_all(bot, user, *turns)


def _seen(messages: list[WireMessage]) -> list[tuple[Any, ...]]:
    """What a resident sees of messages: type, text (or alt text) and the labels of chips and buttons; a
    reference is one placeholder, since each resident's opinion has its own number."""
    return [
        (
            m["type"],
            REFERENCE.sub("REF", str(m.get("text") or m.get("altText"))),
            [REFERENCE.sub("REF", c.label) for c in offered_in([m])],
        )
        for m in messages
    ]


async def _after(bot: Bot, user: str, turn: str) -> list[tuple[Any, ...]]:
    before = len(bot.fake.messages_to(user))
    await _say(bot, user, turn)
    return _seen(bot.fake.messages_to(user)[before:])


async def _with_opinion(bot: Bot, *then: str) -> str:
    user = new_user_id()
    await _say(bot, user, *HAPPY, *then)
    return user


async def _resident(bot: Bot, user: str) -> Resident | None:
    async with bot.sessions() as session:
        return await session.scalar(select(Resident).where(Resident.line_user_id == user))


async def _offered_row(bot: Bot, user: str) -> OfferedChoice | None:
    async with bot.sessions() as session:
        return await session.get(OfferedChoice, user)


def _phrase(bot: Bot, key: str) -> str:
    return bot.app[keys.CONTENT].phrases[key]


# -- ข้อมูลของฉัน ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tap", "typed"),
    [
        ("tap: ถอนความคิดเห็น", "ถอนความคิดเห็น"),
        ("tap: ปิดการแจ้งข่าวสาร", "ปิดการแจ้งข่าวสาร"),
        ("tap: ลบข้อมูลทั้งหมด", "ลบข้อมูลทั้งหมด"),
        ("tap: ลบข้อมูลทั้งหมด", "ลบข้อมูลค่ะ"),  # a typed_ synonym with a polite ending
    ],
)
async def test_typing_a_mydata_chip_replies_as_tapping_it(bot: Bot, tap: str, typed: str) -> None:
    tapper = await _with_opinion(bot, "menu: ข้อมูลของฉัน")
    typist = await _with_opinion(bot, "menu: ข้อมูลของฉัน")
    tapped, typed_replies = await _after(bot, tapper, tap), await _after(bot, typist, typed)
    assert tapped and typed_replies == tapped, (typed_replies, tapped)
    tapper_row, typist_row = await _resident(bot, tapper), await _resident(bot, typist)
    assert tapper_row is not None and typist_row is not None
    assert typist_row.notify == tapper_row.notify == (tap != "tap: ปิดการแจ้งข่าวสาร")


async def test_notifications_back_on_and_withdrawal_by_typed_reference(bot: Bot) -> None:
    # Two opinions, so "ถอนความคิดเห็น" asks which (with one, it asks about that one straight away).
    user = await _with_opinion(
        bot, *opinion_taps(OPINION, first=False), "menu: ข้อมูลของฉัน", "ปิดการแจ้งข่าวสาร", "menu: ข้อมูลของฉัน"
    )
    assert [c.label for c in (await _offered_row_choices(bot, user))][1] == _phrase(bot, "chip_notify_on")
    await _say(bot, user, "เปิดการแจ้งข่าวสาร")
    resident = await _resident(bot, user)
    assert resident is not None and resident.notify
    async with bot.sessions() as session:
        reference = await session.scalar(select(Opinion.reference).order_by(Opinion.id))
    assert reference is not None
    # At "เลือกความคิดเห็นที่ต้องการถอนค่ะ" a reference typed in any form bot.references reads asks first.
    thai = reference.removeprefix("ค-").translate(str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙"))
    choose = bot.app[keys.CONTENT].responses["mydata_withdraw_choose"].text.split("{")[0]
    for typed, answer in ((thai, "ไม่ถอน"), (reference, "ถอน")):
        await _say(bot, user, "menu: ข้อมูลของฉัน", "ถอนความคิดเห็น")
        assert bot.fake.messages_to(user)[-1]["text"].startswith(choose)
        await _say(bot, user, typed)
        question = bot.fake.messages_to(user)[-1]
        assert f"({reference})" in question["text"] and "ใช่ไหมคะ" in question["text"], question["text"]
        await _say(bot, user, answer)
    async with bot.sessions() as session:
        opinion = await session.scalar(select(Opinion).where(Opinion.reference == reference))
    assert opinion is not None and opinion.status == "withdrawn" and opinion.text == ""


async def _offered_row_choices(bot: Bot, user: str) -> list[Choice]:
    row = await _offered_row(bot, user)
    assert row is not None
    return decode_choices(row.choices)


async def test_typed_delete_confirmation_erases_and_forgets_what_was_offered(bot: Bot) -> None:
    user = await _with_opinion(bot, "menu: ข้อมูลของฉัน", "ลบข้อมูลทั้งหมด")
    assert await _offered_row(bot, user) is not None
    await _say(bot, user, "ยืนยันลบทั้งหมด")
    assert bot.fake.messages_to(user)[-1]["text"] == bot.app[keys.CONTENT].responses["mydata_deleted"].text
    assert await _resident(bot, user) is None
    assert await _offered_row(bot, user) is None  # keyed by the LINE id: erased with the rest


# -- hearings, answers, "which one?" ----------------------------------------------------------------------------


async def _hearing(bot: Bot, title: str = "ประชุมประชาคมหมู่บ้าน") -> int:
    new = NewHearing(title=title, starts_at=parse_local("2031-12-12 09:00"), place="ศาลาอเนกประสงค์หมู่ 3")
    async with bot.sessions() as session, session.begin():
        hearing = create(session, bot.app[keys.CONTENT], new, "test", at=bot.now())
        await session.flush()
        return hearing.id


@pytest.mark.parametrize(
    ("answer", "tap", "typed"),
    [("going", "tap: ไป", "ไป"), ("not_going", "tap: ไม่สะดวก", "ไม่สะดวก"), ("maybe", "tap: ยังไม่แน่ใจ", "ไม่แน่ใจค่ะ")],
)
async def test_typing_an_rsvp_button_of_the_hearing_card_answers_it(
    bot: Bot, answer: str, tap: str, typed: str
) -> None:
    await _hearing(bot)
    tapper, typist = new_user_id(), new_user_id()
    await _say(bot, tapper, "menu: ประชาคม/ข่าวสาร")
    await _say(bot, typist, "menu: ประชาคม/ข่าวสาร")
    tapped = await _after(bot, tapper, tap)
    assert tapped and await _after(bot, typist, typed) == tapped
    async with bot.sessions() as session:
        answers = list(await session.scalars(select(Rsvp.answer)))
    assert answers == [answer, answer]


async def test_a_word_on_two_cards_asks_which_one(bot: Bot) -> None:
    await _hearing(bot, "ประชาคมครั้งที่ 1")
    await _hearing(bot, "ประชาคมครั้งที่ 2")
    user = new_user_id()
    await _say(bot, user, "menu: ประชาคม/ข่าวสาร", "ไป")
    assert bot.fake.messages_to(user)[-1]["text"] == bot.app[keys.CONTENT].responses["offered_ambiguous"].text
    async with bot.sessions() as session:
        assert list(await session.scalars(select(Rsvp))) == []
    # That reply offers nothing itself: the cards' buttons still count, "ยังไม่แน่ใจ" is as ambiguous.
    assert sum(c.action == "rsvp" for c in await _offered_row_choices(bot, user)) == 6


@pytest.mark.parametrize(
    ("vote", "tap", "typed"),
    [("up", "tap: 👍 ตรง", "ตรง"), ("down", "tap: 👎 ไม่ตรง", "ไม่ตรง"), ("down", "tap: 👎 ไม่ตรง", "👎 ไม่ตรง")],
)
async def test_typing_an_answers_feedback_button_votes(bot: Bot, vote: str, tap: str, typed: str) -> None:
    user = new_user_id()
    await _say(bot, user, QUESTION)
    async with bot.sessions() as session:
        asked = await session.scalar(select(ServiceQuery))
    assert asked is not None and asked.answered, "the question is answered with a card and its feedback buttons"
    tapper = new_user_id()
    await _say(bot, tapper, QUESTION)
    tapped = await _after(bot, tapper, tap)
    assert tapped and await _after(bot, user, typed) == tapped
    async with bot.sessions() as session:
        votes = list(await session.scalars(select(ServiceQuery.feedback).order_by(ServiceQuery.id)))
    assert votes == [vote, vote]


async def test_which_service_typed_by_number_or_name_shows_its_card(bot: Bot) -> None:
    content = bot.app[keys.CONTENT]
    featured = [content.services[sid] for sid in bot.app[keys.QA].featured()]
    assert len(featured) >= 2
    second = featured[1]
    tapper = new_user_id()
    await _say(bot, tapper, "menu: ถามเรื่องบริการ")
    # The chip is labelled shorter than the service's name: tapped by the label it shows.
    (label,) = [c["label"] for c in chip_actions(bot.last_replies(tapper)[-1]) if c["data"].endswith(f"={second.id}")]
    tapped = await _after(bot, tapper, f"tap: {label}")
    for typed in ("2", "๒", second.name):
        typist = new_user_id()
        await _say(bot, typist, "menu: ถามเรื่องบริการ")
        assert await _after(bot, typist, typed) == tapped, typed


async def _done_with_rating_asked(bot: Bot) -> tuple[str, str]:
    """A resident's report set to done by staff: the status update asks for a rating, pushed with its chips
    remembered in the same transaction."""
    user = new_user_id()
    await _say(bot, user, *REPORT)
    async with bot.sessions() as session, session.begin():
        reference = await session.scalar(select(Report.reference).order_by(Report.id.desc()))
        assert reference is not None
        # change_status itself remembers the rating chips it pushes.
        await change_status(session, bot.app[keys.CONTENT], reference, "done", None, "staff", at=bot.now())
    await bot.idle()
    return user, reference


@pytest.mark.parametrize(("tap", "typed"), [("tap: 5", "5"), ("tap: 4", "๔"), ("tap: ยังไม่เรียบร้อย", "ยังไม่เรียบร้อย")])
async def test_typing_a_status_updates_rating_chip_rates(bot: Bot, tap: str, typed: str) -> None:
    tapper, _ = await _done_with_rating_asked(bot)
    typist, _ = await _done_with_rating_asked(bot)
    tapped = await _after(bot, tapper, tap)
    assert tapped and await _after(bot, typist, typed) == tapped
    async with bot.sessions() as session:
        rows = [(r.rating, r.status) for r in await session.scalars(select(Report).order_by(Report.id))]
    assert rows[0] == rows[1] and rows[0] != (None, "done"), rows


# -- what is offered, and for how long -----------------------------------------------------------------------


async def test_an_offer_expires_and_then_the_words_are_a_question_again(bot: Bot) -> None:
    # The deletion's own confirmation: ข้อมูลของฉัน's requests ("ปิดการแจ้งข่าวสาร") are commands, typed anywhere.
    user = await _with_opinion(bot, "menu: ข้อมูลของฉัน", "tap: ลบข้อมูลทั้งหมด")
    async with bot.sessions() as session, session.begin():
        old = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=31)
        await session.execute(update(OfferedChoice).where(OfferedChoice.lane_key == user).values(offered_at=old))
    fresh = new_user_id()
    confirm = _phrase(bot, "chip_confirm_delete")
    assert await _after(bot, user, confirm) == await _after(bot, fresh, confirm)
    assert await _resident(bot, user) is not None


async def test_a_stale_offer_does_not_capture_an_unrelated_question(bot: Bot) -> None:
    user = await _with_opinion(bot, "menu: ข้อมูลของฉัน")
    fresh = new_user_id()
    assert await _after(bot, user, QUESTION) == await _after(bot, fresh, QUESTION)
    resident = await _resident(bot, user)
    assert resident is not None and resident.notify


async def test_the_next_offer_replaces_the_last_and_cancel_forgets_it(bot: Bot) -> None:
    user = await _with_opinion(bot, "menu: ข้อมูลของฉัน")
    summary = await _offered_row_choices(bot, user)
    assert [c.data for c in summary][-1] == "action=md&do=delete"
    await _say(bot, user, "tap: ลบข้อมูลทั้งหมด", "ยกเลิก")
    assert not any(c.action == "md" for c in await _offered_row_choices(bot, user))
    await _say(bot, user, _phrase(bot, "chip_confirm_delete"))  # the question's words no longer delete anything
    assert bot.fake.messages_to(user)[-1]["text"] != bot.app[keys.CONTENT].responses["mydata_deleted"].text
    assert await _resident(bot, user) is not None


async def test_inside_a_flow_its_own_question_decides(bot: Bot) -> None:
    """An RSVP card shown, then the opinion flow started: "ไม่" answers the consent question (decline), it is
    not read against the card's buttons."""
    await _hearing(bot)
    user = new_user_id()
    await _say(bot, user, "menu: ประชาคม/ข่าวสาร", "menu: เสนอความคิดเห็น", "ไม่สะดวก")
    async with bot.sessions() as session:
        assert list(await session.scalars(select(Rsvp))) == []


# -- every chip and button a reply can offer is typeable ----------------------------------------------------


def _content() -> Any:
    return load_content(ROOT / "content")


def _every_offering_message(content: Any) -> list[WireMessage]:
    """The replies that offer postback choices, built as the handlers build them: every response's content
    chips, every service card (aspects, related services, feedback buttons), "which one?", a hearing card,
    a status update asking for a rating, ข้อมูลของฉัน's questions."""
    builder = MessageBuilder(content)
    qa = QuestionAnswering.from_content(content)
    today = dt.date(2026, 12, 1)
    messages: list[WireMessage] = []
    for response_id, template in content.responses.items():
        messages.append(builder.text(response_id, **dict.fromkeys(template.params, "x")))
    for service in content.services.values():
        messages.append(qa.answers.card(service, feedback_key=1, today=today))
    messages.append(
        {"type": "text", "text": "?", "quickReply": {"items": qa.answers.clarify(list(content.services.values()))}}
    )
    hearing = Hearing(id=7, title="ประชาคม", starts_at=parse_local("2031-12-12 09:00"), place="ศาลา", rsvp_enabled=True)
    messages.append(hearing_cards.announcement(content, hearing))
    report = Report(id=1, reference="ร-2569-00001", status="done")
    messages += status_messages(content, report, None)
    phrases = content.phrases
    for ids in (
        ("chip_withdraw", "chip_notify_off", "chip_delete_all"),
        ("chip_notify_on",),
        ("chip_confirm_delete", "chip_keep"),
        ("chip_withdraw_yes", "chip_withdraw_no"),
    ):
        items = [
            {"type": "action", "action": {"type": "postback", "label": phrases[i], "data": f"action=md&do={i}"}}
            for i in ids
        ]
        messages.append({"type": "text", "text": "?", "quickReply": {"items": items}})
    return messages


def test_every_offered_choice_typed_by_its_label_is_that_choice() -> None:
    """A new chip or button whose label cannot be typed (emoji only), or that two choices of one reply share,
    fails here: its typed form would do nothing, or the wrong thing."""
    content = _content()
    checked = 0
    for message in _every_offering_message(content):
        choices = offered_in([message])
        for choice in choices:
            assert typed_key(content, choice.label), f"{choice.label!r} ({choice.data}) has no typeable form"
            found = matching_choices(content, choices, choice.label)
            assert [c.data for c in found] == [choice.data], (choice, found)
            checked += 1
    assert checked > 100


def test_every_typed_synonym_names_a_phrase_and_does_not_point_two_ways() -> None:
    """typed_<id> only works when <id> is a phrase (a misspelt id would silently do nothing), and a synonym
    of one chip is not also the label or a synonym of another chip offered with it."""
    content = _content()
    for phrase_id in content.phrases:
        if phrase_id.startswith("typed_chip_") or phrase_id.startswith("typed_feedback_"):
            assert phrase_id.removeprefix("typed_") in content.phrases, phrase_id
    for message in _every_offering_message(content):
        choices = offered_in([message])
        for choice in choices:
            for word in (choice.label, choice.display):
                if word:
                    assert len({c.data for c in matching_choices(content, choices, word)}) <= 1, (word, choices)


def test_offered_choices_are_postbacks_only_from_chips_buttons_and_templates() -> None:
    message: WireMessage = {
        "type": "flex",
        "altText": "x",
        "contents": {
            "type": "bubble",
            "footer": {
                "type": "box",
                "contents": [
                    {
                        "type": "button",
                        "action": {"type": "postback", "label": "ไป", "data": "action=rsvp&h=1&a=going"},
                    },
                    {"type": "button", "action": {"type": "uri", "label": "ดูแผนที่", "uri": "https://example.org"}},
                ],
            },
        },
        "quickReply": {
            "items": [
                {"type": "action", "action": {"type": "location", "label": "ส่งตำแหน่ง"}},
                {"type": "action", "action": {"type": "camera", "label": "ถ่ายรูป"}},
                {
                    "type": "action",
                    "action": {"type": "postback", "label": "5", "data": "action=rpr&v=5", "displayText": "⭐"},
                },
            ]
        },
    }
    template: WireMessage = {
        "type": "template",
        "altText": "x",
        "template": {"type": "buttons", "actions": [{"type": "postback", "label": "ใช่", "data": "action=x&do=yes"}]},
    }
    assert offered_in([message, template]) == [
        Choice("ไป", "action=rsvp&h=1&a=going"),
        Choice("5", "action=rpr&v=5", "⭐"),
        Choice("ใช่", "action=x&do=yes"),
    ]
    assert decode_choices('[["ไป", "action=rsvp"], ["x"], 3, ["a", "b", "c", "d"]]') == [Choice("ไป", "action=rsvp")]
    assert decode_choices("not json") == []
