"""Global commands a resident can type at any step: เมนู, ช่วยเหลือ, ยกเลิก, ติดต่อ."""

from __future__ import annotations

from bot.chat.dispatch import Router, Turn
from bot.chat.outcomes import Outcome, record

router = Router("commands")


@router.on_text(lambda turn: turn.is_command("cancel"), escape=True)
async def cancel(turn: Turn) -> None:
    """Drops the open flow, if any, and says so."""
    had_flow = await turn.end_flow()
    turn.say("cancelled" if had_flow else "nothing_to_cancel")
    record(turn, Outcome.CANCELLED if had_flow else Outcome.NOTHING_TO_CANCEL)


@router.on_text(lambda turn: turn.is_command("menu"), escape=True)
async def show_menu(turn: Turn) -> None:
    """Shows the main menu; an open flow stays where it was, to be resumed or cancelled."""
    turn.say("menu")
    record(turn, Outcome.MENU)


@router.on_text(lambda turn: turn.is_command("help"), escape=True)
async def show_help(turn: Turn) -> None:
    """Explains how to use the chat and how to reach a person."""
    turn.say("help")
    record(turn, Outcome.HELP)


@router.on_text(lambda turn: turn.is_command("contact"), escape=True)
async def show_contact(turn: Turn) -> None:
    """The office's address, phone and hours."""
    turn.say("contact")
    record(turn, Outcome.CONTACT)
