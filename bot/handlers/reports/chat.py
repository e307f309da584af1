"""Problem reports (แจ้งปัญหา / ร้องเรียน), as a conversation, and what residents do once a report is done.

    start ──> consent? ──> type ──> village ──> description (texts, a location) "เสร็จ"
          ──> where (location or a typed place; only when no location came) ──> summary ──> confirm: filed

The flow is the table REPORT (bot/chat/flows.py); consent, village, description and summary are the steps it
shares with opinions (bot/chat/participation.py). Then staff move the report through its statuses
(bot/handlers/reports/rules.py); each change is pushed to the resident, and 'done' asks for a 1-5 rating or lets
them reopen it. Taps are ReportAnswer postbacks inside the flow and ReportRating ones on status messages
(bot/chat/postbacks.py).
"""

from __future__ import annotations

from sqlalchemy import select

from bot.chat import participation as shared
from bot.chat.dispatch import Router, Turn
from bot.chat.flows import Answered, Flow, Move, Step
from bot.chat.messages import WireMessage, postback_chip
from bot.chat.numbered import chip_names, numbered
from bot.chat.outcomes import Outcome, record
from bot.chat.postbacks import FlowDo, MenuReport, RatingDo, ReportAnswer, ReportFromMessage, ReportRating
from bot.chat.state import FlowState
from bot.db.models import Report, ReportStatus
from bot.db.statuses import ReportState
from bot.handlers.services.chat import log_question
from bot.nlp.intents import Intent
from bot.nlp.normalize import clean_text
from bot.nlp.understand import Reading
from bot.references import stored_reference

router = Router("reports")

MAX_PLACE_CHARS = 300
TYPE_STEP, WHERE_STEP = "type", "where"  # saved in conversation_state.step


@router.on_postback(MenuReport)
async def start_from_menu(turn: Turn) -> None:
    """Starts the flow from the menu, or from 'แจ้งเรื่องเลย' under a service answer."""
    await start(turn)


@router.on_intent(Intent.REPORT)
async def from_reading(turn: Turn, reading: Reading) -> None:
    """A problem typed ("ไฟถนนหน้าบ้านดับ 3 วันแล้ว"): the flow starts with the type the reader found and the
    message as the description. Logged with the questions, so staff see what the reader took for a problem."""
    log_question(turn, reading)
    await start(turn, reading.report_type, keep_text=not reading.chip)


@router.on_postback(ReportFromMessage)
async def from_offer(turn: Turn) -> None:
    """แจ้งเรื่องนี้ under a "which one?" or "cannot answer" reply to a problem told: the flow, with that message
    as the description and the type the reader found in it."""
    tap = turn.tapped(ReportFromMessage)
    typed = await shared.offered_message(turn, tap)
    if tap is not None and typed is not None:
        await start(turn, tap.report_type, earlier=typed)


async def start(turn: Turn, report_type: str | None = None, keep_text: bool = True, earlier: str | None = None) -> None:
    """Asks for consent first if needed, then the type. A message that reads as a report (or the one sent
    `earlier`, when the flow was offered under its reply) is kept as the first part of the description, and
    the type the reader found in it is taken (the summary shows it and "แก้ไข" starts the description again),
    so the resident is not asked what they already told."""
    state = FlowState(flow=REPORT.name, step=TYPE_STEP, data={"parts": []})
    if earlier is not None:
        shared.keep_first_part(state, earlier)
    # Not the menu chip's label typed, nor only "แจ้งปัญหาค่ะ": anything more is the description, kept.
    elif turn.message_type == "text" and keep_text and not shared.is_start_request(turn, REPORT):
        shared.take_part(turn, state, REPORT)
    if report_type in turn.content.report_types:
        state.data["type"] = report_type  # so the type step does not apply
    await REPORT.begin(turn, state)


# -- the steps of its own (the shared ones are in bot/chat/participation.py) -----------------------------------


def _type_question(turn: Turn, flow: Flow, state: FlowState) -> WireMessage:
    chips = [
        postback_chip(t.label, flow.tap(FlowDo.TYPE, t.id).pack(), t.label) for t in turn.content.report_types.values()
    ]
    return shared.set_chips(turn.builder.text("report_ask_type", choices=numbered(chip_names(chips))), chips)


async def _on_type(turn: Turn, flow: Flow, state: FlowState) -> Answered:
    """Stores the report type."""
    chosen = shared.tap(turn, flow)
    # A type by its name or one word of it ("ขยะ", "ไฟถนนดับ"), or one of its examples, works typed.
    typed = (
        shared.typed_choice(turn.content, turn.text, _type_names(turn), _type_examples(turn))
        if turn.message_type == "text"
        else None
    )
    if chosen is not None and chosen.do == FlowDo.TYPE and chosen.choice in turn.content.report_types:
        state.data["type"] = chosen.choice
    elif typed is not None:
        state.data["type"] = typed
    else:
        return Move.REASK
    return Move.NEXT


def _where_question(turn: Turn, flow: Flow, state: FlowState) -> WireMessage:
    chips = [_location_chip(turn), shared.chip(turn, "chip_skip", flow.tap(FlowDo.SKIP).pack())]
    return shared.set_chips(turn.builder.text("report_ask_where"), chips)


async def _on_where(turn: Turn, flow: Flow, state: FlowState) -> Answered:
    """A location, a typed place, or ข้าม (tapped or typed). A chip's word is never a place."""
    if shared.answer(turn, flow) == FlowDo.SKIP or shared.is_done(turn, flow):
        pass  # "เสร็จ" or "ส่ง" here means nothing more to add, not a place called เสร็จ or ส่ง
    elif turn.message_type == "text" and shared.is_chip_word(turn.content, turn.text):
        return Move.REASK  # "แก้ไข", "ถอน": asked again, not filed as the place
    elif turn.message_type == "location":
        sent = shared.sent_location(turn)
        if sent is None:
            # Asked again, politely, at the same step: the description typed so far is kept.
            turn.say("location_invalid")
            turn.replies.append(flow.question(turn, state))
            record(turn, Outcome.REPORT_LOCATION_INVALID)
            return Move.STAY
        state.data["location"] = list(sent)
    elif turn.message_type == "text" and turn.text.strip():
        state.data["place"] = clean_text(turn.text, MAX_PLACE_CHARS)
    else:
        return Move.REASK
    return Move.NEXT


def _summary(turn: Turn, flow: Flow, state: FlowState) -> WireMessage:
    village = state.data.get("village")
    if shared.has_location(state):
        where = shared.phrase(turn, "place_location")
    else:
        where = state.data.get("place") or shared.phrase(turn, "place_unspecified")
    message = turn.builder.text(
        "report_summary",
        type=turn.content.report_types[state.data["type"]].label,
        village=shared.village_name(turn, village) if village else shared.phrase(turn, "village_unspecified"),
        where=where,
        text=shared.description(state)[:1500],
    )
    return shared.set_chips(message, shared.summary_chips(turn, flow))


async def _file(turn: Turn, flow: Flow, state: FlowState) -> None:
    """Files the report with a reference number and its first status."""
    kind = turn.content.report_types[state.data["type"]]
    reference = await shared.next_reference(turn, "report")
    latitude, longitude = shared.location(state)
    report = Report(
        reference=reference,
        event_id=turn.row.id,
        resident_id=turn.resident.id if turn.resident else None,
        type=kind.id,
        division=kind.division.id,
        village=state.data.get("village"),
        text=shared.description(state),
        place=state.data.get("place"),
        latitude=latitude,
        longitude=longitude,
        status=ReportState.RECEIVED,
        created_at=turn.now(),
        updated_at=turn.now(),
    )
    turn.session.add(report)
    await turn.session.flush()
    first = ReportStatus(report_id=report.id, status=ReportState.RECEIVED, changed_by="resident", changed_at=turn.now())
    turn.session.add(first)
    shared.attach_photos(turn, state, report_id=report.id)
    turn.say("report_saved", reference=reference, office=kind.division.name)
    record(turn, Outcome.REPORT_SAVED, reference)


def _no_location_yet(turn: Turn, state: FlowState) -> bool:
    return not shared.has_location(state)


def _type_names(turn: Turn) -> dict[str, list[str]]:
    return {t.id: [t.label] for t in turn.content.report_types.values()}


def _type_examples(turn: Turn) -> dict[str, list[str]]:
    return {t.id: list(t.examples) for t in turn.content.report_types.values()}


def _text_chips(turn: Turn, flow: Flow) -> list[dict[str, object]]:
    return [_location_chip(turn), shared.done_chip(turn, flow)]


def _location_chip(turn: Turn) -> dict[str, object]:
    """Opens LINE's location picker; what the resident picks arrives as a location message."""
    return {"type": "action", "action": {"type": "location", "label": shared.phrase(turn, "chip_send_location")}}


# The names are saved in conversation_state (flow, step): never rename one.
REPORT = shared.ParticipationFlow(
    name="report",
    kind="report",
    tap=ReportAnswer,
    steps=[
        shared.consent_step(),
        Step(TYPE_STEP, ask=_type_question, answer=_on_type, applies=lambda turn, state: not state.data.get("type")),
        shared.village_step(),
        shared.description_step(chips=_text_chips),
        Step(
            WHERE_STEP,
            ask=_where_question,
            answer=_on_where,
            applies=lambda turn, state: not shared.has_location(state),
        ),
        shared.summary_step(ask=_summary, file=_file),
    ],
)
REPORT.attach(router)


# -- after the report is done ---------------------------------------------------------------------------------


@router.on_postback(ReportRating)
async def after_done(turn: Turn) -> None:
    """A rating (1-5) or 'not fixed yet' under a status message: only the resident who reported counts."""
    tap = turn.tapped(ReportRating)
    # Taps sent before references had their letter carry the bare number: read in any form, as typed ones are.
    reference = stored_reference("report", tap.reference if tap else "") or ""
    report = await turn.session.scalar(select(Report).where(Report.reference == reference))
    if tap is None or report is None or turn.resident is None or report.resident_id != turn.resident.id:
        turn.say("postback_expired")
        record(turn, Outcome.REPORT_RATING_INVALID)
        return
    if tap.do == RatingDo.REOPEN:
        report.status, report.updated_at = ReportState.REOPENED, turn.now()
        turn.session.add(
            ReportStatus(report_id=report.id, status=ReportState.REOPENED, changed_by="resident", changed_at=turn.now())
        )
        turn.say("report_reopened", reference=reference)
        record(turn, Outcome.REPORT_REOPENED, reference)
        return
    if tap.stars is None or not 1 <= tap.stars <= 5:
        turn.say("postback_expired")
        record(turn, Outcome.REPORT_RATING_INVALID)
        return
    report.rating = tap.stars
    turn.say("report_rated")
    record(turn, Outcome.REPORT_RATED, tap.stars)
