"""Problem reports (แจ้งปัญหา / ร้องเรียน), as a conversation, and what residents do once a report is done.

    start ──> consent? ──> type ──> village ──> description (texts, a location) "เสร็จ"
          ──> where (location or a typed place; only when no location came) ──> summary ──> confirm: filed

Then staff move the report through its statuses (bot/handlers/reports/rules.py); each change is pushed to the resident,
and 'done' asks for a 1-5 rating or lets them reopen it. Taps are ReportAnswer postbacks inside the flow and
ReportRating ones on status messages (bot/chat/postbacks.py).
"""

from __future__ import annotations

from sqlalchemy import select

from bot.chat import participation as shared
from bot.chat.dispatch import Router, Turn
from bot.chat.messages import WireMessage, postback_chip
from bot.chat.numbered import chip_names, numbered
from bot.chat.postbacks import FlowDo, MenuReport, RatingDo, ReportAnswer, ReportRating
from bot.chat.state import FlowState
from bot.db.models import Report, ReportStatus, utcnow
from bot.nlp.normalize import clean_text
from bot.references import stored_reference

router = Router("reports")

FLOW = "report"
TAP = ReportAnswer  # the flow's taps: ReportAnswer(FlowDo.SKIP) is 'action=rp&do=skip'
MAX_PLACE_CHARS = 300


class Step:
    """Names saved in conversation_state.step: they must keep meaning the same across deploys."""

    CONSENT = "consent"
    TYPE = "type"
    VILLAGE = "village"
    TEXT = "text"
    WHERE = "where"
    CONFIRM = "confirm"


@router.on_postback(MenuReport)
async def start_from_menu(turn: Turn) -> None:
    """Starts the flow from the menu, or from 'แจ้งเรื่องเลย' under a service answer."""
    await start(turn)


async def start(turn: Turn, report_type: str | None = None, keep_text: bool = True) -> None:
    """Asks for consent first if needed, then the type. A message that reads as a report is kept as the
    first part of the description, and the type the reader found in it is taken (the summary shows it and
    "แก้ไข" starts the description again), so the resident is not asked what they already told."""
    state = FlowState(flow=FLOW, step=Step.TYPE, data={"parts": []})
    # Not the menu chip's label typed, nor only "แจ้งปัญหาค่ะ": anything more is the description, kept.
    if turn.message_type == "text" and keep_text and not shared.is_start_request(turn, TAP):
        shared.take_part(turn, state, TAP)
    if report_type in turn.content.report_types:
        state.data["type"] = report_type
    await _ask(turn, state, Step.CONSENT if shared.needs_consent(turn) else _after_consent(state))


def _after_consent(state: FlowState) -> str:
    return Step.VILLAGE if state.data.get("type") else Step.TYPE


@router.on_flow(FLOW)
async def step(turn: Turn) -> None:
    """Routes the resident's answer to the step the flow is at; anything unexpected re-asks."""
    state = turn.flow
    assert state is not None
    if (aside := shared.aside(turn, TAP)) is not None:
        turn.replies += [aside, _question(turn, state)]
        turn.outcome = f"report-aside:{state.step}"
        return
    handler = _STEPS.get(state.step)
    if handler is None or not await handler(turn, state):
        # A typed description is not lost: it becomes the description, or is added to it.
        lead, kept = shared.unanswered(turn, TAP, state)
        turn.replies += [lead, _question(turn, state)]
        if kept:
            await turn.save_flow(state)
        turn.outcome = f"report-{'kept' if kept else 'reask'}:{state.step}"


async def _on_consent(turn: Turn, state: FlowState) -> bool:
    """Records the notice version agreed to; declining ends the flow with nothing stored."""
    agreed = await shared.answer_consent(turn, TAP)
    if agreed is None:
        return False
    if agreed:
        await _ask(turn, state, _after_consent(state))
    return True


async def _on_type(turn: Turn, state: FlowState) -> bool:
    """Stores the report type and asks for the village."""
    chosen = shared.tap(turn, TAP)
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
        return False
    await _ask(turn, state, Step.VILLAGE)
    return True


async def _on_village(turn: Turn, state: FlowState) -> bool:
    """Stores the village (remembered for next time) and asks what happened."""
    village = shared.answer_village(turn, TAP)
    if village is False:
        return False
    state.data["village"] = village
    await _ask(turn, state, Step.TEXT)
    return True


async def _on_text(turn: Turn, state: FlowState) -> bool:
    """Collects the description and an optional location until เสร็จ. "แก้ไข" starts the description again."""
    if shared.wants_rewrite(turn):
        return await _rewrite(turn, state)
    if shared.is_done(turn, TAP):
        if not state.data.get("parts"):
            turn.replies.append(shared.set_chips(turn.builder.text("report_text_empty"), _text_chips(turn)))
            return True
        await _ask(turn, state, Step.CONFIRM if shared.has_location(state) else Step.WHERE)
        return True
    message = shared.take_part(turn, state, TAP)
    if message is None:
        return False
    turn.replies.append(shared.set_chips(message, _text_chips(turn)))
    await turn.save_flow(state)
    turn.outcome = "report-text"
    return True


async def _on_where(turn: Turn, state: FlowState) -> bool:
    """A location, a typed place, or ข้าม (tapped or typed); then the summary. A chip's word is never a place."""
    if shared.answer(turn, TAP) == FlowDo.SKIP or shared.is_done(turn, TAP):
        pass  # "เสร็จ" or "ส่ง" here means nothing more to add, not a place called เสร็จ or ส่ง
    elif turn.message_type == "text" and shared.is_chip_word(turn.content, turn.text):
        return False  # "แก้ไข", "ถอน": asked again, not filed as the place
    elif turn.message_type == "location":
        sent = shared.sent_location(turn)
        if sent is None:
            # Asked again, politely, at the same step: the description typed so far is kept.
            turn.say("location_invalid")
            turn.replies.append(_question(turn, state))
            turn.outcome = "report-location-invalid"
            return True
        state.data["location"] = list(sent)
    elif turn.message_type == "text" and turn.text.strip():
        state.data["place"] = clean_text(turn.text, MAX_PLACE_CHARS)
    else:
        return False
    await _ask(turn, state, Step.CONFIRM)
    return True


async def _on_confirm(turn: Turn, state: FlowState) -> bool:
    """Files the report with a reference number and its first status, or goes back to the description."""
    answer = shared.answer(turn, TAP)
    if answer == FlowDo.EDIT:
        return await _rewrite(turn, state)
    if answer != FlowDo.CONFIRM:
        return False
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
        status="received",
        created_at=utcnow(),
        updated_at=utcnow(),
    )
    turn.session.add(report)
    await turn.session.flush()
    turn.session.add(ReportStatus(report_id=report.id, status="received", changed_by="resident", changed_at=utcnow()))
    shared.attach_photos(turn, state, report_id=report.id)
    shared.remember_village(turn, state)
    await turn.end_flow()
    turn.say("report_saved", reference=reference, office=kind.division.name)
    turn.outcome = f"report-saved:{reference}"
    return True


async def _rewrite(turn: Turn, state: FlowState) -> bool:
    """แก้ไข: the description is cleared and asked for again; type, village, photos and location stay."""
    state.data["parts"] = []
    turn.say("report_edit_cleared")  # else the old description just vanishes from the next question
    await _ask(turn, state, Step.TEXT)
    return True


_STEPS = {
    Step.CONSENT: _on_consent,
    Step.TYPE: _on_type,
    Step.VILLAGE: _on_village,
    Step.TEXT: _on_text,
    Step.WHERE: _on_where,
    Step.CONFIRM: _on_confirm,
}


async def _ask(turn: Turn, state: FlowState, step: str) -> None:
    state.step = step
    turn.replies.append(_question(turn, state))
    await turn.save_flow(state)
    turn.outcome = f"report-{step}"


def _question(turn: Turn, state: FlowState) -> WireMessage:
    if state.step == Step.CONSENT:
        return shared.consent_question(turn, TAP)
    if state.step == Step.TYPE:
        chips = [
            postback_chip(t.label, TAP(FlowDo.TYPE, t.id).pack(), t.label) for t in turn.content.report_types.values()
        ]
        return shared.set_chips(turn.builder.text("report_ask_type", choices=numbered(chip_names(chips))), chips)
    if state.step == Step.VILLAGE:
        return shared.village_question(turn, TAP)
    if state.step == Step.TEXT:
        return shared.set_chips(shared.text_question(turn, TAP, state, "report_ask_text"), _text_chips(turn))
    if state.step == Step.WHERE:
        chips = [_location_chip(turn), shared.chip(turn, "chip_skip", TAP(FlowDo.SKIP).pack())]
        return shared.set_chips(turn.builder.text("report_ask_where"), chips)
    return _summary(turn, state)


def _summary(turn: Turn, state: FlowState) -> WireMessage:
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
    return shared.set_chips(
        message,
        [
            shared.chip(turn, "chip_confirm", TAP(FlowDo.CONFIRM).pack()),
            shared.chip(turn, "chip_edit", TAP(FlowDo.EDIT).pack()),
        ],
    )


def _type_names(turn: Turn) -> dict[str, list[str]]:
    return {t.id: [t.label] for t in turn.content.report_types.values()}


def _type_examples(turn: Turn) -> dict[str, list[str]]:
    return {t.id: list(t.examples) for t in turn.content.report_types.values()}


def _text_chips(turn: Turn) -> list[dict[str, object]]:
    return [_location_chip(turn), shared.done_chip(turn, TAP)]


def _location_chip(turn: Turn) -> dict[str, object]:
    """Opens LINE's location picker; what the resident picks arrives as a location message."""
    return {"type": "action", "action": {"type": "location", "label": shared.phrase(turn, "chip_send_location")}}


@router.on_postback(ReportRating)
async def after_done(turn: Turn) -> None:
    """A rating (1-5) or 'not fixed yet' under a status message: only the resident who reported counts."""
    tap = turn.tapped(ReportRating)
    # Taps sent before references had their letter carry the bare number: read in any form, as typed ones are.
    reference = stored_reference("report", tap.reference if tap else "") or ""
    report = await turn.session.scalar(select(Report).where(Report.reference == reference))
    if tap is None or report is None or turn.resident is None or report.resident_id != turn.resident.id:
        turn.say("postback_expired")
        turn.outcome = "report-rating-invalid"
        return
    if tap.do == RatingDo.REOPEN:
        report.status, report.updated_at = "reopened", utcnow()
        turn.session.add(
            ReportStatus(report_id=report.id, status="reopened", changed_by="resident", changed_at=utcnow())
        )
        turn.say("report_reopened", reference=reference)
        turn.outcome = f"report-reopened:{reference}"
        return
    if tap.stars is None or not 1 <= tap.stars <= 5:
        turn.say("postback_expired")
        turn.outcome = "report-rating-invalid"
        return
    report.rating = tap.stars
    turn.say("report_rated")
    turn.outcome = f"report-rated:{tap.stars}"


shared.asks(TAP, _question)
