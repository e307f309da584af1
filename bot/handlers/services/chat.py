"""Residents' questions about services: read the question, answer it (card, follow-up, timeline, "which
one?", or a polite "not something we handle"), log it for staff, and remember the service for follow-ups."""

from __future__ import annotations

from sqlalchemy import select

from bot.chat.dispatch import Router, Turn
from bot.chat.postbacks import AnswerFeedback, MenuServices, ServiceChoice
from bot.db.models import ChatContext, ServiceQuery, utcnow
from bot.handlers.hearings.chat import show_upcoming
from bot.handlers.opinions.chat import start as start_opinion
from bot.handlers.reports.chat import start as start_report
from bot.handlers.residents.cases import show_cases
from bot.handlers.residents.mydata import show as show_mydata
from bot.nlp.understand import Intent, Reading

router = Router("services")


@router.on_text(lambda turn: True)
async def question(turn: Turn) -> None:
    """Answers any text no command or flow claimed, and logs the question with what the bot made of it."""
    context = turn.batch.service_context(turn.row.lane_key)
    reading = turn.batch.reading_ahead(turn.row.id, turn.text, context) or await turn.qa.read_for_chat(
        turn.text, context
    )
    if reading.intent == Intent.SERVICES_MENU:
        await services_menu(turn)
        return
    if reading.intent == "opinion":
        await start_opinion(turn, keep_text=not reading.chip)
        return
    if reading.intent == "report":
        _log(turn, reading, context)
        await start_report(turn, reading.report_type, keep_text=not reading.chip)
        return
    if reading.intent == "my_cases":
        await show_cases(turn, reading.reference)
        return
    if reading.intent == "mydata":
        await show_mydata(turn)
        return
    if reading.intent == "hearing":
        await show_upcoming(turn)
        return
    _log(turn, reading, context)
    turn.replies += turn.qa.reply_for(reading, feedback_key=turn.row.id)
    if reading.answered and reading.service_id:
        await _remember(turn, reading.service_id)
    turn.outcome = f"{reading.intent}:{reading.service_id}" if reading.service_id else reading.intent


@router.on_postback(ServiceChoice)
async def service_chip(turn: Turn) -> None:
    """A service or one of its aspects chosen from a chip (after 'which one?', or a follow-up chip)."""
    tap = turn.tapped(ServiceChoice)
    service_id, aspect = (tap.service, tap.aspect) if tap else ("", None)
    service = turn.content.services.get(service_id)
    if service is None:
        turn.say("postback_expired")
        turn.outcome = "postback-unknown-service"
        return
    if aspect:
        turn.replies.append(turn.qa.answers.aspect(service, aspect, turn.qa.today()))
    else:
        _log(turn, Reading(text=service.label, intent="service", service_id=service_id, score=1.0))
        turn.replies.append(turn.qa.answers.card(service, feedback_key=turn.row.id, today=turn.qa.today()))
    await _remember(turn, service_id)
    turn.outcome = f"service:{service_id}" + (f":{aspect}" if aspect else "")


@router.on_postback(MenuServices)
async def services_menu(turn: Turn) -> None:
    """How to ask, with the most asked-about services as chips."""
    message = turn.builder.text("services_intro")
    chosen = [turn.content.services[sid] for sid in turn.qa.featured()]
    message["quickReply"] = {"items": turn.qa.answers.clarify(chosen)}
    turn.replies.append(message)
    turn.outcome = "services-menu"


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
        turn.outcome = "feedback-invalid"
        return
    query.feedback = tap.vote
    turn.say(f"feedback_{tap.vote}")
    turn.outcome = f"feedback:{tap.vote}"


async def _remember(turn: Turn, service_id: str) -> None:
    row = turn.batch.contexts.get(turn.row.lane_key)
    if row is None:
        row = ChatContext(lane_key=turn.row.lane_key, service_id=service_id, updated_at=utcnow())
        turn.session.add(row)
        turn.batch.contexts[turn.row.lane_key] = row
    else:
        row.service_id, row.updated_at = service_id, utcnow()


def _log(turn: Turn, reading: Reading, context: str | None = None) -> None:
    """The question, what the bot made of it and the service the chat was about; written with the batch's
    commit (no round trip here)."""
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
        created_at=utcnow(),
    )
    turn.session.add(query)
