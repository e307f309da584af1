"""A resident's turns in tests: a postback when the turn starts with 'action=', else typed text, each handled
before the next; and the tap sequences of a whole opinion or report, for tests that need one filed."""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot import keys
from bot.content.model import Content
from tests.conftest import Bot

Message = dict[str, Any]


async def say(bot: Bot, user: str, turn: str) -> list[Message]:
    """One turn; the messages it got back."""
    seen = len(bot.fake.messages_to(user))
    event = bot.postback(user, turn) if turn.startswith("action=") else bot.text(user, turn)
    assert (await bot.post(event)).status == 200
    await bot.idle()
    return bot.fake.messages_to(user)[seen:]


async def say_all(bot: Bot, user: str, *turns: str) -> list[list[Message]]:
    """Each turn in order; the messages each got back."""
    return [await say(bot, user, turn) for turn in turns]


# Flows walked at a fixed time, so consultations and reference years do not depend on the day.
CLOCK = dt.datetime(2026, 11, 23, 5, 0, tzinfo=dt.UTC)


async def walk(bot: Bot, user: str, *turns: str) -> list[list[Message]]:
    """say_all at CLOCK."""
    bot.app[keys.QA].clock = lambda: CLOCK
    return await say_all(bot, user, *turns)


def opening(content: Content, response_id: str) -> str:
    """A response's text up to its first placeholder: what a reply built from it starts with."""
    return content.responses[response_id].text.split("{")[0]


def chip_actions(message: Message) -> list[dict[str, Any]]:
    """The actions of a message's quick-reply chips."""
    return [item["action"] for item in message.get("quickReply", {}).get("items", [])]


def opinion_taps(text: str, village: int = 4) -> tuple[str, ...]:
    """An opinion filed by tapping every step, with `text` typed as the opinion."""
    return (
        "action=menu.opinion",
        "action=op&do=accept",
        f"action=op&do=village&n={village}",
        text,
        "action=op&do=done",
        "action=op&do=category&id=physical",
        "action=op&do=confirm",
    )


def report_taps(text: str, village: int = 5) -> tuple[str, ...]:
    """A rubbish report filed by tapping every step, with `text` typed as the description."""
    return (
        "action=menu.report",
        "action=rp&do=accept",
        "action=rp&do=type&id=waste",
        f"action=rp&do=village&n={village}",
        text,
        "action=rp&do=done",
        "action=rp&do=skip",
        "action=rp&do=confirm",
    )
