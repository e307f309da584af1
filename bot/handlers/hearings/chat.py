"""Hearings in the chat: what is coming up for the resident's village (with RSVP buttons) and the RSVP
postbacks themselves (changeable until the hearing starts). Opting out of or back into announcements
("ไม่รับข่าวสาร" / "รับข่าวสาร") is ข้อมูลของฉัน's switch (bot/handlers/residents/mydata.py)."""

from __future__ import annotations

from bot.chat.dispatch import Router, Turn
from bot.chat.outcomes import Outcome, record
from bot.chat.postbacks import MenuHearings, RsvpChoice
from bot.db.models import Hearing
from bot.handlers.hearings import cards
from bot.handlers.hearings.rules import answers_of, going_count, record_rsvp, upcoming
from bot.nlp.intents import Intent
from bot.nlp.understand import Reading

router = Router("hearings")


@router.on_postback(MenuHearings)
async def from_menu(turn: Turn) -> None:
    """The menu's ประชาคม button."""
    await show_upcoming(turn)


@router.on_intent(Intent.HEARING)
async def from_reading(turn: Turn, reading: Reading) -> None:
    """A question about the coming hearings typed ("ประชาคมครั้งหน้าเมื่อไหร่"): what the menu button gives."""
    await show_upcoming(turn)


async def show_upcoming(turn: Turn) -> None:
    """Upcoming hearings for the resident's village, each with their answer so far, or that none is planned."""
    village = turn.resident.village if turn.resident else None
    hearings = await upcoming(turn.session, turn.now(), village)
    if not hearings:
        turn.say("hearing_none")
        record(turn, Outcome.HEARINGS, "none")
        return
    answers = await answers_of(turn.session, turn.resident.id) if turn.resident and turn.resident.id else {}
    shown = []
    for hearing in hearings:
        full = hearing.capacity is not None and await going_count(turn.session, hearing.id) >= hearing.capacity
        shown.append((hearing, answers.get(hearing.id), full))
    turn.say("hearing_upcoming", count=str(len(hearings)))
    turn.replies.append(cards.carousel(turn.content, shown))
    record(turn, Outcome.HEARINGS, len(hearings))


@router.on_postback(RsvpChoice)
async def rsvp(turn: Turn) -> None:
    """ไป / ไม่สะดวก / ยังไม่แน่ใจ tapped on an announcement."""
    tap = turn.tapped(RsvpChoice)
    hearing = await turn.session.get(Hearing, tap.hearing_id) if tap and tap.hearing_id else None
    if tap is None or hearing is None or turn.resident is None:
        turn.say("postback_expired")
        record(turn, Outcome.RSVP, "unknown")
        return
    answer = tap.answer
    result = await record_rsvp(turn.session, hearing, turn.resident, answer, turn.now())
    if result == "saved":
        turn.say(f"rsvp_saved_{answer}", title=hearing.title, date=cards.when(turn.content, hearing))
    else:
        turn.say(f"rsvp_{result}", title=hearing.title)
    record(turn, Outcome.RSVP, hearing.id, answer, result)
