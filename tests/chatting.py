"""A resident's turns in tests, each handled before the next: "tap: หมู่ 3" taps the chip or button the bot
offered with that label (tests/taps.py), "menu: แจ้งปัญหา/ร้องเรียน" a rich menu tile, a turn starting with
'action=' sends that postback data as written (only for tests about the data itself: expired, forged or old
buttons), anything else is typed text. Also the taps of a whole opinion or report, for tests that need one filed."""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot import keys
from bot.content.model import Content
from tests.conftest import Bot
from tests.taps import MENU, TAP
from tests.taps import chips as chip_actions

Message = dict[str, Any]
__all__ = ["CLOCK", "chip_actions", "event", "opening", "opinion_taps", "report_taps", "say", "say_all", "walk"]


def event(bot: Bot, user: str, turn: str) -> dict[str, Any]:
    """The webhook event of one turn."""
    if turn.startswith(TAP):
        return bot.tap(user, turn.removeprefix(TAP))
    if turn.startswith(MENU):
        return bot.menu(user, turn.removeprefix(MENU))
    return bot.postback(user, turn) if turn.startswith("action=") else bot.text(user, turn)


async def say(bot: Bot, user: str, turn: str) -> list[Message]:
    """One turn; the messages it got back."""
    assert (await bot.post(event(bot, user, turn))).status == 200
    await bot.idle()
    return bot.last_replies(user)


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


def opinion_taps(
    text: str, village: int = 4, first: bool = True, category: str = "กายภาพ ถนน น้ำ ไฟ"
) -> tuple[str, ...]:
    """An opinion filed by tapping every step, with `text` typed as the opinion and filed under `category`
    (a chip's label: the chips offered are the categories suggested for the text); first=False after another
    submission, when the privacy notice was acknowledged already and is not shown again."""
    return (
        "menu: เสนอความคิดเห็น",
        *(("tap: รับทราบ",) if first else ()),
        f"tap: หมู่ {village}",
        text,
        "tap: เสร็จ",
        f"tap: {category}",
        "tap: ยืนยันส่ง",
    )


def report_taps(text: str, village: int = 5, first: bool = True) -> tuple[str, ...]:
    """A rubbish report filed by tapping every step, with `text` typed as the description (first: as for
    opinion_taps)."""
    return (
        "menu: แจ้งปัญหา/ร้องเรียน",
        *(("tap: รับทราบ",) if first else ()),
        "tap: ขยะ/ความสะอาด",
        f"tap: หมู่ {village}",
        text,
        "tap: เสร็จ",
        "tap: ข้าม",
        "tap: ยืนยันส่ง",
    )
