"""Opinions for the local development plan, as a conversation.

    start ──> consultation? ──> consent? ──> village ──> text (several messages, a location) ──> category
                (if several open)  (first time or     (remembered)   "เสร็จ"                 (2 suggested
                                    new notice)                                              + อื่นๆ)
          ──> summary ──> confirm: committed, reference number shown   |   edit: back to text

Every step is saved with the event it answers (a restart mid-flow loses nothing); ยกเลิก, เมนู and ช่วยเหลือ
work at every step (bot/handlers/commands.py); anything unexpected asks the current question again.
Taps carry 'action=op&do=<what>' postbacks.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import update

from bot.content.model import Consultation
from bot.db.models import Opinion, ReferenceCounter, utcnow
from bot.dispatch import Router, Turn
from bot.intake import dialect_insert
from bot.messages import WireMessage, postback_chip, uri_chip
from bot.state import FlowState
from bot.timeline import BANGKOK

router = Router("opinions")

FLOW = "opinion"
MAX_OPINION_CHARS = 2000
GENERAL = "general"  # a suggestion kept although no consultation is open


class Step:
    """The names saved in conversation_state.step: they must keep meaning the same across deploys."""

    CONSULTATION = "consultation"
    CONSENT = "consent"
    VILLAGE = "village"
    TEXT = "text"
    CATEGORY = "category"
    CONFIRM = "confirm"


@router.on_postback("menu.opinion")
async def start_from_menu(turn: Turn) -> None:
    """Starts the flow from the menu button."""
    await start(turn)


async def start(turn: Turn) -> None:
    """Picks the consultation (or asks which), then goes on to consent or the village. Started by a message
    that reads as a proposal, that message is the opinion's first part."""
    open_now = _open_consultations(turn)
    first = [turn.text.strip()[:MAX_OPINION_CHARS]] if turn.message_type == "text" and turn.text.strip() else []
    state = FlowState(flow=FLOW, step=Step.CONSULTATION, data={"parts": first})
    if len(open_now) == 1:
        state.data["consultation"] = open_now[0].id
        await _after_consultation(turn, state)
    elif open_now:
        message = turn.builder.text("opinion_choose_consultation")
        _chips(
            message,
            [postback_chip(c.title[:20], f"action=op&do=consultation&id={c.id}", c.title[:20]) for c in open_now],
        )
        turn.replies.append(message)
        await turn.save_flow(state)
    else:
        message = turn.builder.text("opinion_none_open")
        label = _phrase(turn, "chip_keep_general")
        _chips(message, [postback_chip(label, "action=op&do=general", label)])
        turn.replies.append(message)
        await turn.save_flow(state)
    turn.outcome = "opinion-started"


@router.on_flow(FLOW)
async def step(turn: Turn) -> None:
    """Routes the resident's answer to the step the flow is at; anything unexpected re-asks."""
    state = turn.flow
    assert state is not None
    handler = _STEPS.get(state.step)
    if handler is None or not await handler(turn, state):
        await _reask(turn, state)


# -- steps: each returns False when the input does not answer its question ---------------------------------


async def _on_consultation(turn: Turn, state: FlowState) -> bool:
    """Stores the chosen consultation (or 'general') and moves on."""
    chosen = _tap(turn)
    if chosen.get("do") == "consultation" and chosen.get("id") in {c.id for c in _open_consultations(turn)}:
        state.data["consultation"] = chosen["id"]
    elif chosen.get("do") == "general":
        state.data["consultation"] = GENERAL
    else:
        return False
    await _after_consultation(turn, state)
    return True


async def _on_consent(turn: Turn, state: FlowState) -> bool:
    """Records the notice version agreed to; declining ends the flow with nothing stored."""
    answer = _tap(turn).get("do")
    if answer == "decline":
        await turn.end_flow()
        turn.say("privacy_declined")
        turn.outcome = "opinion-declined"
        return True
    if answer != "accept" or turn.resident is None:
        return False
    turn.resident.consent_version = turn.content.privacy.version
    turn.resident.consent_at = utcnow()
    await _ask_village(turn, state)
    return True


async def _on_village(turn: Turn, state: FlowState) -> bool:
    """Takes a village chip (or a typed number) and asks for the opinion itself."""
    tap = _tap(turn)
    number: int | None
    if tap.get("do") == "village" and tap.get("n", "").isdigit():
        number = int(tap["n"])
    elif turn.message_type == "text" and (match := re.search(r"\d+", turn.text)):
        number = int(match.group())
    else:
        return False
    known = {v.no for v in turn.content.municipality.villages}
    if number != 0 and number not in known:
        return False
    state.data["village"] = number or None
    if turn.resident is not None and number:
        turn.resident.village = number
    await _ask_text(turn, state)
    return True


async def _on_text(turn: Turn, state: FlowState) -> bool:
    """Collects text (and a location) until เสร็จ; then suggests categories."""
    done_words = {_phrase(turn, "chip_done")}
    if _tap(turn).get("do") == "done" or (turn.message_type == "text" and turn.text.strip() in done_words):
        return await _finish_text(turn, state)
    if turn.message_type == "location":
        state.data["location"] = [turn.message.get("latitude"), turn.message.get("longitude")]
        message = turn.builder.text("opinion_location_saved")
    elif turn.message_type in ("image", "video", "audio", "file"):
        message = turn.builder.text("opinion_media_not_taken")
    elif turn.message_type == "text" and turn.text.strip():
        parts: list[str] = state.data.setdefault("parts", [])
        room = MAX_OPINION_CHARS - sum(len(p) for p in parts)
        if room <= 0:
            message = turn.builder.text("opinion_text_too_long", limit=str(MAX_OPINION_CHARS))
        else:
            parts.append(turn.text.strip()[:room])
            message = (
                turn.builder.text("opinion_text_more", count=str(len(parts)))
                if len(turn.text) <= room
                else turn.builder.text("opinion_text_too_long", limit=str(MAX_OPINION_CHARS))
            )
    else:
        return False
    _chips(message, [_done_chip(turn)])
    turn.replies.append(message)
    await turn.save_flow(state)
    turn.outcome = "opinion-text"
    return True


async def _finish_text(turn: Turn, state: FlowState) -> bool:
    if not state.data.get("parts"):
        message = turn.builder.text("opinion_text_empty")
        _chips(message, [_done_chip(turn)])
        turn.replies.append(message)
        return True
    ranked = turn.qa.categorizer.suggest(_opinion_text(state))
    state.data["suggested"] = ranked[0].category
    state.step = Step.CATEGORY
    message = turn.builder.text("opinion_ask_category")
    other = _phrase(turn, "chip_other_category")
    _chips(
        message,
        [
            *(_category_chip(turn, s.category) for s in ranked[:2]),
            postback_chip(other, "action=op&do=all_categories", other),
        ],
    )
    turn.replies.append(message)
    await turn.save_flow(state)
    turn.outcome = "opinion-category"
    return True


async def _on_category(turn: Turn, state: FlowState) -> bool:
    """Takes the category, or shows all of them, then the summary to confirm."""
    tap = _tap(turn)
    if tap.get("do") == "all_categories":
        message = turn.builder.text("opinion_all_categories")
        _chips(message, [_category_chip(turn, cid) for cid in turn.content.categories])
        turn.replies.append(message)
        return True
    if tap.get("do") != "category" or tap.get("id") not in turn.content.categories:
        return False
    state.data["category"] = tap["id"]
    state.step = Step.CONFIRM
    turn.replies.append(_summary(turn, state))
    await turn.save_flow(state)
    turn.outcome = "opinion-summary"
    return True


async def _on_confirm(turn: Turn, state: FlowState) -> bool:
    """Commits the opinion with a reference number, or goes back to editing the text."""
    answer = _tap(turn).get("do")
    if answer == "edit":
        state.data["parts"] = []
        await _ask_text(turn, state)
        return True
    if answer != "confirm":
        return False
    reference = await _next_reference(turn, "opinion")
    location = state.data.get("location") or [None, None]
    consultation = state.data.get("consultation")
    turn.session.add(
        Opinion(
            reference=reference,
            event_id=turn.row.id,
            resident_id=turn.resident.id if turn.resident else None,
            consultation_id=None if consultation == GENERAL else consultation,
            village=state.data.get("village"),
            category_suggested=state.data.get("suggested"),
            category=state.data["category"],
            text=_opinion_text(state),
            latitude=location[0],
            longitude=location[1],
            status="received",
            created_at=utcnow(),
        )
    )
    await turn.end_flow()
    turn.say("opinion_saved", reference=reference)
    turn.outcome = f"opinion-saved:{reference}"
    return True


_STEPS = {
    Step.CONSULTATION: _on_consultation,
    Step.CONSENT: _on_consent,
    Step.VILLAGE: _on_village,
    Step.TEXT: _on_text,
    Step.CATEGORY: _on_category,
    Step.CONFIRM: _on_confirm,
}


# -- questions -----------------------------------------------------------------------------------------------


async def _after_consultation(turn: Turn, state: FlowState) -> None:
    resident = turn.resident
    if resident is not None and resident.consent_version == turn.content.privacy.version:
        await _ask_village(turn, state)
        return
    state.step = Step.CONSENT
    turn.replies.append(_consent_question(turn))
    await turn.save_flow(state)


async def _ask_village(turn: Turn, state: FlowState) -> None:
    state.step = Step.VILLAGE
    villages = turn.content.municipality.villages
    known = turn.resident.village if turn.resident else None
    chips = []
    if known:
        name = _village_name(turn, known)
        message = turn.builder.text("opinion_ask_village_known", village=name)
        chips.append(postback_chip(_phrase(turn, "chip_same_village"), f"action=op&do=village&n={known}", name))
    else:
        message = turn.builder.text("opinion_ask_village")
    # LINE shows 13 chips: villages beyond the first 11 are typed as a number ("หมู่ 14" or "14").
    chips += [
        postback_chip(
            _phrase(turn, "village_chip", number=v.no), f"action=op&do=village&n={v.no}", _village_name(turn, v.no)
        )
        for v in villages[: 12 - len(chips)]
    ]
    unspecified = _phrase(turn, "chip_unspecified_village")
    chips.append(postback_chip(unspecified, "action=op&do=village&n=0", unspecified))
    _chips(message, chips)
    turn.replies.append(message)
    await turn.save_flow(state)
    turn.outcome = "opinion-village"


async def _ask_text(turn: Turn, state: FlowState) -> None:
    state.step = Step.TEXT
    consultation = turn.content.consultations.get(state.data.get("consultation") or "")
    hint = consultation.guiding_questions[0] if consultation and consultation.guiding_questions else ""
    message = turn.builder.text("opinion_ask_text", hint=hint)
    _chips(message, [_done_chip(turn)])
    turn.replies.append(message)
    await turn.save_flow(state)
    turn.outcome = "opinion-ask-text"


def _consent_question(turn: Turn) -> WireMessage:
    privacy = turn.content.privacy
    globals_ = {**turn.content.municipality.placeholders(), "retention_months": privacy.retention_months}
    message: WireMessage = {"type": "text", "text": privacy.notice.format_map(globals_)}
    accept, decline = _phrase(turn, "chip_accept"), _phrase(turn, "chip_decline")
    chips = [
        postback_chip(accept, "action=op&do=accept", accept),
        postback_chip(decline, "action=op&do=decline", decline),
    ]
    if turn.links.get("privacy"):
        chips.append(uri_chip(_phrase(turn, "chip_read_privacy"), turn.links["privacy"]))
    _chips(message, chips)
    return message


def _summary(turn: Turn, state: FlowState) -> WireMessage:
    consultation = turn.content.consultations.get(state.data.get("consultation") or "")
    title = consultation.title if consultation else _phrase(turn, "general_suggestion")
    village = state.data.get("village")
    message = turn.builder.text(
        "opinion_summary",
        consultation=title,
        village=_village_name(turn, village) if village else _phrase(turn, "village_unspecified"),
        category=turn.content.categories[state.data["category"]].label,
        text=_opinion_text(state)[:1500],
    )
    confirm, edit = _phrase(turn, "chip_confirm"), _phrase(turn, "chip_edit")
    _chips(
        message,
        [postback_chip(confirm, "action=op&do=confirm", confirm), postback_chip(edit, "action=op&do=edit", edit)],
    )
    return message


async def _reask(turn: Turn, state: FlowState) -> None:
    """The input did not answer the question: say so, and ask the same question again."""
    turn.say("flow_reask")
    if state.step == Step.CONSENT:
        turn.replies.append(_consent_question(turn))
    elif state.step == Step.VILLAGE:
        await _ask_village(turn, state)
    elif state.step == Step.TEXT:
        await _ask_text(turn, state)
    elif state.step == Step.CATEGORY:
        await _finish_text(turn, state)
    elif state.step == Step.CONFIRM:
        turn.replies.append(_summary(turn, state))
    else:
        await start(turn)
    turn.outcome = f"opinion-reask:{state.step}"


# -- helpers -------------------------------------------------------------------------------------------------


def _open_consultations(turn: Turn) -> list[Consultation]:
    now = turn.qa.clock().astimezone(BANGKOK)
    village = turn.resident.village if turn.resident else None
    return [
        c
        for c in turn.content.consultations.values()
        if c.is_open(now) and (c.villages is None or village is None or village in c.villages)
    ]


def _tap(turn: Turn) -> dict[str, str]:
    """This flow's postback, or {} for anything else."""
    data = turn.postback if turn.event_type == "postback" else {}
    return data if data.get("action") == "op" else {}


def _phrase(turn: Turn, phrase_id: str, **params: Any) -> str:
    return turn.qa.answers.phrase(phrase_id, **params)


def _village_name(turn: Turn, number: int) -> str:
    names = {v.no: v.name for v in turn.content.municipality.villages}
    return _phrase(turn, "village_name", number=number, village=names.get(number, ""))


def _done_chip(turn: Turn) -> dict[str, Any]:
    label = _phrase(turn, "chip_done")
    return postback_chip(label, "action=op&do=done", label)


def _category_chip(turn: Turn, category_id: str) -> dict[str, Any]:
    category = turn.content.categories[category_id]
    return postback_chip(category.short, f"action=op&do=category&id={category_id}", category.label)


def _chips(message: WireMessage, items: list[dict[str, Any]]) -> None:
    message["quickReply"] = {"items": items[:13]}


def _opinion_text(state: FlowState) -> str:
    return "\n".join(state.data.get("parts", []))


async def _next_reference(turn: Turn, kind: str) -> str:
    """'2569-00042': Buddhist-era year and a number that counts up per year, safe across processes (the
    counter row is locked by the UPDATE until the opinion commits)."""
    year = turn.qa.clock().astimezone(BANGKOK).year + 543
    insert = dialect_insert(turn.session)
    await turn.session.execute(insert(ReferenceCounter).values(kind=kind, year=year, last=0).on_conflict_do_nothing())
    number = await turn.session.scalar(
        update(ReferenceCounter)
        .where(ReferenceCounter.kind == kind, ReferenceCounter.year == year)
        .values(last=ReferenceCounter.last + 1)
        .returning(ReferenceCounter.last)
    )
    return f"{year}-{int(number or 0):05d}"
