"""Opinions for the local development plan, as a conversation.

    start ──> consultation? ──> consent? ──> village ──> text (several messages, a location) ──> category
                (if several open)  (first time or     (remembered)   "เสร็จ"                 (2 suggested
                                    new notice)                                              + อื่นๆ)
          ──> summary ──> confirm: committed, reference number shown   |   edit: back to text

Every step is saved with the event it answers (a restart mid-flow loses nothing); ยกเลิก, เมนู and ช่วยเหลือ
work at every step (bot/chat/commands.py); anything unexpected asks the current question again.
Taps are OpinionAnswer postbacks (bot/chat/postbacks.py); the steps shared with reports are in participation.py.
"""

from __future__ import annotations

import asyncio
from typing import Any

from bot.chat import participation as shared
from bot.chat.dispatch import Router, Turn
from bot.chat.messages import WireMessage, postback_chip
from bot.chat.numbered import chip_names, numbered
from bot.chat.postbacks import FlowDo, MenuOpinion, OpinionAnswer
from bot.chat.state import FlowState
from bot.content.model import Consultation
from bot.db.models import Opinion, utcnow
from bot.handlers.hearings import cards
from bot.handlers.hearings.rules import upcoming
from bot.handlers.services.timeline import BANGKOK

router = Router("opinions")

FLOW = "opinion"
TAP = OpinionAnswer  # the flow's taps: OpinionAnswer(FlowDo.CONFIRM) is 'action=op&do=confirm'
GENERAL = "general"  # a suggestion kept although no consultation is open


class Step:
    """The names saved in conversation_state.step: they must keep meaning the same across deploys."""

    CONSULTATION = "consultation"
    CONSENT = "consent"
    VILLAGE = "village"
    TEXT = "text"
    CATEGORY = "category"
    CONFIRM = "confirm"


@router.on_postback(MenuOpinion)
async def start_from_menu(turn: Turn) -> None:
    """Starts the flow from the menu button."""
    await start(turn)


async def start(turn: Turn, keep_text: bool = True) -> None:
    """Picks the consultation (or asks which), then goes on to consent or the village. Started by a message
    that reads as a proposal, that message is the opinion's first part (not when it was the menu chip's label
    typed: keep_text False)."""
    open_now = _open_consultations(turn)
    state = FlowState(flow=FLOW, step=Step.CONSULTATION, data={"parts": []})
    # "เสนอความคิดเห็นค่ะ" only asks to start; anything more is the opinion, kept (the text step shows it).
    if turn.message_type == "text" and keep_text and not shared.is_start_request(turn, TAP):
        shared.take_part(turn, state, TAP)
    if len(open_now) == 1:
        state.data["consultation"] = open_now[0].id
        await _after_consultation(turn, state)
    else:
        if not open_now:
            await _say_next_hearing(turn)
        turn.replies.append(_consultation_question(turn))
        await turn.save_flow(state)
    turn.outcome = "opinion-started"


def _consultation_question(turn: Turn) -> WireMessage:
    """Which open consultation; with none open, whether to keep the idea as a general suggestion."""
    open_now = _open_consultations(turn)
    if not open_now:
        message = turn.builder.text("opinion_none_open")
        return shared.set_chips(message, [shared.chip(turn, "chip_keep_general", TAP(FlowDo.GENERAL).pack())])
    chips = [postback_chip(c.title[:20], TAP(FlowDo.CONSULTATION, c.id).pack(), c.title) for c in open_now]
    message = turn.builder.text("opinion_choose_consultation", choices=numbered(chip_names(chips)))
    return shared.set_chips(message, chips)


async def _say_next_hearing(turn: Turn) -> None:
    """With no consultation open, the next hearing for the resident's village is where to be heard."""
    village = turn.resident.village if turn.resident else None
    coming = await upcoming(turn.session, turn.qa.clock(), village)
    if coming:
        hearing = coming[0]
        turn.say(
            "opinion_next_hearing", title=hearing.title, when=cards.when(turn.content, hearing), place=hearing.place
        )


@router.on_flow(FLOW)
async def step(turn: Turn) -> None:
    """Routes the resident's answer to the step the flow is at; anything unexpected re-asks."""
    state = turn.flow
    assert state is not None
    if (aside := shared.aside(turn, TAP)) is not None:
        turn.replies += [aside, _question(turn, state)]
        turn.outcome = f"opinion-aside:{state.step}"
        return
    handler = _STEPS.get(state.step)
    if handler is None or not await handler(turn, state):
        await _reask(turn, state)


# -- steps: each returns False when the input does not answer its question ---------------------------------


async def _on_consultation(turn: Turn, state: FlowState) -> bool:
    """Stores the chosen consultation (or 'general') and moves on."""
    chosen = shared.tap(turn, TAP)
    if chosen is None:
        return False
    if chosen.do == FlowDo.CONSULTATION and chosen.choice in {c.id for c in _open_consultations(turn)}:
        state.data["consultation"] = chosen.choice
    elif chosen.do == FlowDo.GENERAL:
        state.data["consultation"] = GENERAL
    else:
        return False
    await _after_consultation(turn, state)
    return True


async def _on_consent(turn: Turn, state: FlowState) -> bool:
    """Records the notice version agreed to; declining ends the flow with nothing stored."""
    agreed = await shared.answer_consent(turn, TAP)
    if agreed is None:
        return False
    if agreed:
        await _ask(turn, state, Step.VILLAGE)
    else:
        turn.outcome = "opinion-declined"
    return True


async def _on_village(turn: Turn, state: FlowState) -> bool:
    """Takes a village chip (or a typed number) and asks for the opinion itself."""
    village = shared.answer_village(turn, TAP)
    if village is False:
        return False
    state.data["village"] = village
    await _ask(turn, state, Step.TEXT)
    return True


async def _on_text(turn: Turn, state: FlowState) -> bool:
    """Collects text (and a location) until เสร็จ; then suggests categories. "แก้ไข" starts the text again."""
    if shared.is_done(turn, TAP):
        return await _finish_text(turn, state)
    if shared.wants_rewrite(turn):
        return await _rewrite(turn, state)
    message = shared.take_part(turn, state, TAP)
    if message is None:
        return False
    turn.replies.append(shared.set_chips(message, [shared.done_chip(turn, TAP)]))
    await turn.save_flow(state)
    turn.outcome = "opinion-text"
    return True


async def _finish_text(turn: Turn, state: FlowState) -> bool:
    if not state.data.get("parts"):
        message = turn.builder.text("opinion_text_empty")
        turn.replies.append(shared.set_chips(message, [shared.done_chip(turn, TAP)]))
        return True
    # Tens of milliseconds of model work: off the event loop, which meanwhile acknowledges webhooks.
    ranked = await asyncio.to_thread(turn.qa.categorizer.suggest, shared.description(state))
    state.data["suggested"] = ranked[0].category
    state.data["runner_up"] = ranked[1].category
    await _ask(turn, state, Step.CATEGORY)
    return True


async def _on_category(turn: Turn, state: FlowState) -> bool:
    """Takes the category, or shows all of them, then the summary to confirm."""
    chosen = shared.tap(turn, TAP)
    if chosen is not None and chosen.do == FlowDo.ALL_CATEGORIES:
        state.data["all_categories"] = True  # the question at this step now lists them all (typed ones too)
        turn.replies.append(_question(turn, state))
        await turn.save_flow(state)
        return True
    # Any category by name works typed, also one the chips do not show ("ด้านสังคม", "เศรษฐกิจ").
    typed = shared.typed_choice(turn.content, turn.text, _category_names(turn)) if turn.message_type == "text" else None
    if chosen is not None and chosen.do == FlowDo.CATEGORY and chosen.choice in turn.content.categories:
        state.data["category"] = chosen.choice
    elif typed is not None:
        state.data["category"] = typed
    else:
        return False
    await _ask(turn, state, Step.CONFIRM)
    return True


async def _on_confirm(turn: Turn, state: FlowState) -> bool:
    """Commits the opinion with a reference number, or goes back to editing the text."""
    answer = shared.answer(turn, TAP)
    if answer == FlowDo.EDIT:
        return await _rewrite(turn, state)
    if answer != FlowDo.CONFIRM:
        return False
    reference = await shared.next_reference(turn, "opinion")
    latitude, longitude = shared.location(state)
    consultation = state.data.get("consultation")
    opinion = Opinion(
        reference=reference,
        event_id=turn.row.id,
        resident_id=turn.resident.id if turn.resident else None,
        consultation_id=None if consultation == GENERAL else consultation,
        village=state.data.get("village"),
        category_suggested=state.data.get("suggested"),
        category=state.data["category"],
        text=shared.description(state),
        latitude=latitude,
        longitude=longitude,
        status="received",
        created_at=utcnow(),
    )
    turn.session.add(opinion)
    await turn.session.flush()
    shared.attach_photos(turn, state, opinion_id=opinion.id)
    shared.remember_village(turn, state)
    await turn.end_flow()
    turn.say("opinion_saved", reference=reference)
    turn.outcome = f"opinion-saved:{reference}"
    return True


async def _rewrite(turn: Turn, state: FlowState) -> bool:
    """แก้ไข: the text is cleared and asked for again; consultation, village, photos and location stay."""
    state.data["parts"] = []
    turn.say("opinion_edit_cleared")  # else the old text just vanishes from the next question
    await _ask(turn, state, Step.TEXT)
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
    await _ask(turn, state, Step.CONSENT if shared.needs_consent(turn) else Step.VILLAGE)


async def _ask(turn: Turn, state: FlowState, step: str) -> None:
    """Moves the flow to `step`, asks its question and saves where the chat is."""
    state.step = step
    turn.replies.append(_question(turn, state))
    await turn.save_flow(state)
    turn.outcome = f"opinion-{step}"


def _question(turn: Turn, state: FlowState) -> WireMessage:
    """The question of the step the flow is at (asked first, and again after unexpected input)."""
    if state.step == Step.CONSULTATION:
        return _consultation_question(turn)
    if state.step == Step.CONSENT:
        return shared.consent_question(turn, TAP)
    if state.step == Step.VILLAGE:
        return shared.village_question(turn, TAP)
    if state.step == Step.TEXT:
        consultation = turn.content.consultations.get(state.data.get("consultation") or "")
        hint = consultation.guiding_questions[0] if consultation and consultation.guiding_questions else ""
        message = shared.text_question(turn, TAP, state, "opinion_ask_text", hint=hint)
        return shared.set_chips(message, [shared.done_chip(turn, TAP)])
    if state.step == Step.CATEGORY and state.data.get("all_categories"):
        chips = [_category_chip(turn, cid) for cid in turn.content.categories]
        message = turn.builder.text("opinion_all_categories", choices=numbered(chip_names(chips)))
        return shared.set_chips(message, chips)
    if state.step == Step.CATEGORY:
        suggested = (state.data["suggested"], state.data["runner_up"])
        chips = [
            *(_category_chip(turn, category) for category in suggested),
            shared.chip(turn, "chip_other_category", TAP(FlowDo.ALL_CATEGORIES).pack()),
        ]
        # The text names the suggestion and lists the chips: LINE for PC shows no chips to read it from.
        message = turn.builder.text(
            "opinion_ask_category",
            suggested=turn.content.categories[suggested[0]].label,
            choices=numbered(chip_names(chips)),
        )
        return shared.set_chips(message, chips)
    return _summary(turn, state)


def _summary(turn: Turn, state: FlowState) -> WireMessage:
    consultation = turn.content.consultations.get(state.data.get("consultation") or "")
    village = state.data.get("village")
    message = turn.builder.text(
        "opinion_summary",
        consultation=consultation.title if consultation else shared.phrase(turn, "general_suggestion"),
        village=shared.village_name(turn, village) if village else shared.phrase(turn, "village_unspecified"),
        category=turn.content.categories[state.data["category"]].label,
        text=shared.description(state)[:1500],
    )
    return shared.set_chips(
        message,
        [
            shared.chip(turn, "chip_confirm", TAP(FlowDo.CONFIRM).pack()),
            shared.chip(turn, "chip_edit", TAP(FlowDo.EDIT).pack()),
        ],
    )


async def _reask(turn: Turn, state: FlowState) -> None:
    """The input did not answer the question: say so, and ask the same question again. A typed opinion is
    not lost: it becomes the opinion, or is added to it (and the text step will not ask for it again)."""
    lead, kept = shared.unanswered(turn, TAP, state)
    turn.replies += [lead, _question(turn, state)]
    if kept:
        await turn.save_flow(state)
    turn.outcome = f"opinion-{'kept' if kept else 'reask'}:{state.step}"


# -- helpers -------------------------------------------------------------------------------------------------


def _open_consultations(turn: Turn) -> list[Consultation]:
    now = turn.qa.clock().astimezone(BANGKOK)
    village = turn.resident.village if turn.resident else None
    return [
        c
        for c in turn.content.consultations.values()
        if c.is_open(now) and (c.villages is None or village is None or village in c.villages)
    ]


def _category_names(turn: Turn) -> dict[str, list[str]]:
    return {cid: [c.label, c.short] for cid, c in turn.content.categories.items()}


def _category_chip(turn: Turn, category_id: str) -> dict[str, Any]:
    category = turn.content.categories[category_id]
    return postback_chip(category.short, TAP(FlowDo.CATEGORY, category_id).pack(), category.label)


shared.asks(TAP, _question)
