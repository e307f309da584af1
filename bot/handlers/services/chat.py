"""Residents' questions about services: read any text no command or flow claimed, hand the reading to the
feature that claims its intent (Router.on_intent: a problem to bot/handlers/reports, a wish to opinions, "my
cases" to residents, ...), and answer the rest here (card, follow-up, timeline, "which one?", who else does it,
or a polite "not something we handle"), logged for staff, remembering the service for follow-ups."""

from __future__ import annotations

from sqlalchemy import select

from bot.chat.dispatch import Router, Turn
from bot.chat.outcomes import Outcome, record
from bot.chat.postbacks import AnswerFeedback, MenuServices, ServiceChoice
from bot.db.models import ChatContext, ServiceQuery
from bot.nlp.intents import Intent
from bot.nlp.understand import Reading

router = Router("services")


@router.on_text(lambda turn: True)
async def question(turn: Turn) -> None:
    """Reads any text no command or flow claimed (ahead of the batch's transaction when it could be) and hands
    the reading to the router that claims its intent."""
    context = turn.batch.service_context(turn.row.lane_key)
    reading = turn.batch.reading_ahead(turn.row.id, turn.text, context) or await turn.qa.read_for_chat(
        turn.text, context
    )
    await turn.answer_reading(reading)


@router.on_intent(Intent.SERVICES_MENU)
async def services_menu_typed(turn: Turn, reading: Reading) -> None:
    """The services menu chip's label typed ("ถามเรื่องบริการ"): what the tap gives."""
    await services_menu(turn)


@router.on_intent("*")
async def answer(turn: Turn, reading: Reading) -> None:
    """Every intent no other feature claims: a service, "which one?", a referral, the office, greetings, or
    out of scope; logged with what the bot made of it."""
    log_question(turn, reading)
    turn.replies += turn.qa.reply_for(reading, feedback_key=turn.row.id)
    if reading.answered and reading.service_id:
        await _remember(turn, reading.service_id)
    record(turn, Intent(reading.intent), *([reading.service_id] if reading.service_id else []))


@router.on_postback(ServiceChoice)
async def service_chip(turn: Turn) -> None:
    """A service or one of its aspects chosen from a chip (after 'which one?', or a follow-up chip)."""
    tap = turn.tapped(ServiceChoice)
    service_id, aspect = (tap.service, tap.aspect) if tap else ("", None)
    service = turn.content.services.get(service_id)
    if service is None:
        turn.say("postback_expired")
        record(turn, Outcome.POSTBACK_UNKNOWN_SERVICE)
        return
    if aspect:
        turn.replies.append(turn.qa.answers.aspect(service, aspect, turn.qa.today()))
    else:
        chosen = Reading(text=service.label, intent="service", service_id=service_id, score=1.0)
        log_question(turn, chosen, in_context=False)  # a chip names its service: no follow-up to resolve
        turn.replies.append(turn.qa.answers.card(service, feedback_key=turn.row.id, today=turn.qa.today()))
    await _remember(turn, service_id)
    # What a typed question about the service records ("service:land_tax"), and the aspect chosen after it.
    record(turn, Intent.SERVICE, service_id, *([aspect] if aspect else []))


@router.on_postback(MenuServices)
async def services_menu(turn: Turn) -> None:
    """How to ask, with the most asked-about services as chips."""
    message = turn.builder.text("services_intro")
    chosen = [turn.content.services[sid] for sid in turn.qa.featured()]
    message["quickReply"] = {"items": turn.qa.answers.clarify(chosen)}
    turn.replies.append(message)
    record(turn, Outcome.SERVICES_MENU)


@router.on_postback(AnswerFeedback)
async def feedback(turn: Turn) -> None:
    """👍/👎 under an answer: stored on the question (only the resident who asked can vote on it)."""
    tap = turn.tapped(AnswerFeedback)
    query = (
        await turn.session.scalar(select(ServiceQuery).where(ServiceQuery.event_id == tap.event_id))
        if tap is not None
        else None
    )
    if tap is None or query is None or turn.resident is None or query.resident_id != turn.resident.id:
        turn.say("postback_expired")
        record(turn, Outcome.FEEDBACK_INVALID)
        return
    query.feedback = tap.vote
    turn.say(f"feedback_{tap.vote}")
    record(turn, Outcome.FEEDBACK, tap.vote)


async def _remember(turn: Turn, service_id: str) -> None:
    row = turn.batch.contexts.get(turn.row.lane_key)
    if row is None:
        row = ChatContext(lane_key=turn.row.lane_key, service_id=service_id, updated_at=turn.now())
        turn.session.add(row)
        turn.batch.contexts[turn.row.lane_key] = row
    else:
        row.service_id, row.updated_at = service_id, turn.now()


def log_question(turn: Turn, reading: Reading, in_context: bool = True) -> None:
    """The question, what the bot made of it and (in_context) the service the chat was about, for staff (the
    unanswered questions inbox, the reader's figures); written with the batch's commit (no round trip here)."""
    context = turn.batch.service_context(turn.row.lane_key) if in_context else None
    query = ServiceQuery(
        event_id=turn.row.id,
        resident_id=turn.resident.id if turn.resident else None,
        text=reading.text,
        intent=reading.intent,
        service_id=reading.service_id,
        aspect=reading.aspect,
        score=round(reading.score, 4),
        answered=reading.answered,
        follow_up=reading.follow_up,
        context_service_id=context,
        created_at=turn.now(),
    )
    turn.session.add(query)
