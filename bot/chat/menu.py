"""The main menu's buttons (postbacks 'action=menu.<feature>')."""

from __future__ import annotations

from bot.chat.dispatch import Router, Turn

router = Router("menu")


@router.on_postback("menu.contact")
async def contact(turn: Turn) -> None:
    """The office's address, phone and hours."""
    turn.say("contact")
    turn.outcome = "contact"
