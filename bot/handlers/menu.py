"""The main menu's buttons (postbacks 'action=menu.<feature>')."""

from __future__ import annotations

from bot.dispatch import Router, Turn

router = Router("menu")


@router.on_postback("menu.contact")
async def contact(turn: Turn) -> None:
    """The office's address, phone and hours."""
    turn.say("contact")
    turn.outcome = "contact"


@router.on_postback("menu.hearings")
async def feature_not_open_yet(turn: Turn) -> None:
    """Features whose chat flows are not switched on here yet: say so, and give the office's phone."""
    chip = turn.postback["action"].removeprefix("menu.")
    turn.say("feature_coming", topic=turn.builder.chip(chip).label)
    turn.outcome = f"feature-pending:{chip}"
