"""Conversations as data (tests/conversations/*.yaml), played through the signed webhook and the fake LINE."""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from bot import keys
from bot.db.models import InboundEvent, Resident, ServiceQuery
from bot.dev import events
from tests.conftest import Bot, new_user_id

SCRIPTS = Path(__file__).parent / "conversations"
CASES = [case for file in sorted(SCRIPTS.glob("*.yaml")) for case in yaml.safe_load(file.read_text("utf-8"))]


def _event(bot: Bot, user: str, turn: dict[str, Any]) -> dict[str, Any]:
    """A turn's event: `tap: LABEL` taps what the bot's last replies offered, `menu: LABEL` a rich menu tile;
    `postback: DATA` sends data as written, for turns about the data itself (stale, forged, garbled)."""
    if "tap" in turn:
        return bot.tap(user, turn["tap"])
    if "menu" in turn:
        return bot.menu(user, turn["menu"])
    token = bot.token(user)
    if "text" in turn:
        event = events.text_event(user, turn["text"], token)
    elif "postback" in turn:
        event = events.postback_event(user, turn["postback"], token)
    elif "follow" in turn:
        event = bot.follow(user)
    elif "unfollow" in turn:
        event = events.base_event("unfollow", user)
    elif "sticker" in turn:
        event = events.sticker_event(user, token)
    elif "image" in turn:
        event = events.image_event(user, str(secrets.randbelow(10**15)), token)
    elif "location" in turn:
        event = events.location_event(user, 13.7, 100.5, token)
    elif "video" in turn:
        event = events.base_event("message", user, token)
        event["message"] = {"type": "video", "id": "1", "duration": 1000, "contentProvider": {"type": "line"}}
    else:
        raise ValueError(f"unknown turn {turn}")
    if turn.get("standby"):
        event["mode"] = "standby"
        event.pop("replyToken", None)
    return event


def _check(bot: Bot, message: dict[str, Any], expectation: str | dict[str, str]) -> None:
    content = bot.app[keys.CONTENT]
    if isinstance(expectation, str):
        assert _pattern(content.responses[expectation].text).fullmatch(message["text"]), (expectation, message)
    elif "card" in expectation:
        assert message["type"] == "flex", message
        assert message["altText"].startswith(content.services[expectation["card"]].name), message["altText"][:80]
    else:
        assert expectation["contains"] in message["text"], message["text"]


def _pattern(template: str) -> re.Pattern[str]:
    """A template's text with each {placeholder} matching anything."""
    parts = re.split(r"\{[a-z_]+\}", template)
    return re.compile(".*?".join(re.escape(p) for p in parts), re.DOTALL)


# Conversations run at a fixed time, so consultations and reference years do not depend on the day.
CLOCK = dt.datetime(2026, 11, 23, 5, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
async def test_conversation(bot: Bot, case: dict[str, Any]) -> None:
    clock = dt.datetime.fromisoformat(case["clock"]) if "clock" in case else CLOCK
    bot.app[keys.QA].clock = lambda: clock
    user = new_user_id()
    seen = 0
    for turn in case["turns"]:
        assert (await bot.post(_event(bot, user, turn))).status == 200
        await bot.idle()
        got = bot.fake.messages_to(user)[seen:]
        seen += len(got)
        expected = turn["expect"]
        assert len(got) == len(expected), (turn, [m.get("text") for m in got])
        for message, expectation in zip(got, expected, strict=True):
            _check(bot, message, expectation)
        labels = [i["action"]["label"] for i in got[-1].get("quickReply", {}).get("items", [])] if got else []
        if "chips" in turn:
            assert labels == turn["chips"]
        if "chips_start" in turn:
            assert labels[: len(turn["chips_start"])] == turn["chips_start"], labels


async def test_follow_records_the_resident_and_unfollow_marks_inactive(bot: Bot) -> None:
    user = new_user_id()
    await bot.post(bot.follow(user))
    await bot.idle()
    async with bot.sessions() as session:
        resident = await session.scalar(select(Resident).where(Resident.line_user_id == user))
    assert resident is not None and resident.followed and resident.pseudonym != user
    await bot.post(events.base_event("unfollow", user))
    await bot.idle()
    async with bot.sessions() as session:
        resident = await session.scalar(select(Resident).where(Resident.line_user_id == user))
    assert resident is not None and not resident.followed and resident.unfollowed_at is not None


async def test_joining_a_group_explains_one_to_one_service(bot: Bot) -> None:
    group = "C" + secrets.token_hex(16)
    event = events.base_event("join", new_user_id(), bot.fake.issue_reply_token(group))
    event["source"] = {"type": "group", "groupId": group}
    await bot.post(event)
    await bot.idle()
    assert len(bot.fake.messages_to(group)) == 1
    async with bot.sessions() as session:
        assert await session.scalar(select(Resident)) is None


async def test_unsend_blanks_the_stored_text(bot: Bot) -> None:
    user = new_user_id()
    message = bot.text(user, "เบอร์บ้านฉันคือ 081-234-5678")
    await bot.post(message)
    await bot.idle()
    unsend = events.base_event("unsend", user)
    unsend["unsend"] = {"messageId": message["message"]["id"]}
    await bot.post(unsend)
    await bot.idle()
    async with bot.sessions() as session:
        rows = {r.event_type: r for r in await session.scalars(select(InboundEvent))}
    stored = json.loads(rows["message"].payload)["message"]
    assert stored["text"] == "" and stored["unsent"] is True
    assert "081-234-5678" not in rows["message"].payload
    async with bot.sessions() as session:
        logged = list(await session.scalars(select(ServiceQuery)))
    assert [q.text for q in logged] == [""]
    assert rows["unsend"].outcome == "unsent:1"


async def test_feedback_is_stored_on_the_question_and_only_its_asker_can_vote(bot: Bot) -> None:
    user, stranger = new_user_id(), new_user_id()
    await bot.post(bot.text(user, "สอบถามเรื่องภาษีป้ายค่ะ"))
    await bot.idle()
    card = bot.fake.messages_to(user)[0]
    buttons = card["contents"]["footer"]["contents"][1]["contents"]
    # The stranger sends the data of a card in someone else's chat (forged): raw data on purpose.
    down = buttons[1]["action"]["data"]
    await bot.post(bot.postback(stranger, down))
    await bot.post(bot.tap(user, bot.app[keys.CONTENT].phrases["feedback_up"]))
    await bot.idle()
    async with bot.sessions() as session:
        query = await session.scalar(select(ServiceQuery))
    assert query is not None and query.feedback == "up" and query.service_id == "signboard_tax" and query.answered
    assert bot.fake.messages_to(user)[-1]["text"] == bot.app[keys.CONTENT].responses["feedback_up"].text
    expired = bot.app[keys.CONTENT].responses["postback_expired"].text
    assert bot.fake.messages_to(stranger)[-1]["text"] == expired


async def test_unanswered_questions_are_logged_for_staff(bot: Bot) -> None:
    user = new_user_id()
    await bot.post(bot.text(user, "ราคาทองวันนี้เท่าไหร่"))
    await bot.idle()
    async with bot.sessions() as session:
        query = await session.scalar(select(ServiceQuery))
    assert query is not None and not query.answered and query.intent == "out_of_scope"
    assert query.text == "ราคาทองวันนี้เท่าไหร่"
