"""The main menu's buttons (postbacks 'action=menu.<feature>')."""

from __future__ import annotations

from bot.chat.dispatch import Router, Turn
from bot.chat.outcomes import Outcome, record
from bot.chat.postbacks import MenuContact

router = Router("menu")


@router.on_postback(MenuContact)
async def contact(turn: Turn) -> None:
    """The office's address, phone and hours."""
    turn.say("contact")
    record(turn, Outcome.CONTACT)
