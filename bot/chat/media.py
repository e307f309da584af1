"""Stickers, photos, locations and files sent outside any flow: acknowledged politely, never ignored."""

from __future__ import annotations

from bot.chat.dispatch import Router, Turn
from bot.chat.outcomes import Outcome, record

router = Router("media")


@router.on_message("sticker")
async def sticker(turn: Turn) -> None:
    """Thanks for the sticker and offers the menu."""
    turn.say("sticker_received")
    record(turn, Outcome.STICKER)


@router.on_message("image")
async def image(turn: Turn) -> None:
    """A photo outside a report: explains how to attach it to one."""
    turn.say("image_received")
    record(turn, Outcome.IMAGE)


@router.on_message("location")
async def location(turn: Turn) -> None:
    """A location outside a report: explains how to attach it to one."""
    turn.say("location_received")
    record(turn, Outcome.LOCATION)


@router.on_message("video", "audio", "file", "*")
async def unsupported(turn: Turn) -> None:
    """Media the bot cannot read: asks for text or a call."""
    turn.say("media_unsupported")
    record(turn, Outcome.UNSUPPORTED, turn.message_type)
