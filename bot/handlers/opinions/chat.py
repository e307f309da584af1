"""Opinions for the local development plan, as a conversation.

    start ──> consultation? ──> consent? ──> village ──> text (several messages, a location) ──> category
                (if several open)  (first time or     (remembered)   "เสร็จ"                 (2 suggested
                                    new notice)                                              + อื่นๆ)
          ──> summary ──> confirm: committed, reference number shown   |   edit: back to text

The flow is the table OPINION (bot/chat/flows.py); consent, village, text and summary are the steps it shares
with reports (bot/chat/participation.py). Every step is saved with the event it answers (a restart mid-flow
loses nothing); ยกเลิก, เมนู and ช่วยเหลือ work at every step (bot/chat/commands.py); anything unexpected asks
the current question again. Taps are OpinionAnswer postbacks (bot/chat/postbacks.py).
"""

from __future__ import annotations

import asyncio
from typing import Any

from bot.chat import participation as shared
from bot.chat.dispatch import Router, Turn
from bot.chat.flows import Answered, Flow, Move, Step
from bot.chat.messages import WireMessage, postback_chip
from bot.chat.numbered import chip_names, numbered
from bot.chat.outcomes import Outcome, record
from bot.chat.postbacks import FlowDo, MenuOpinion, OpinionAnswer, OpinionFromMessage
from bot.chat.state import FlowState
from bot.content.model import Consultation
from bot.db.models import Opinion
from bot.db.statuses import OpinionStatus
from bot.handlers.hearings import cards
from bot.handlers.hearings.rules import upcoming
from bot.handlers.services.timeline import BANGKOK
from bot.nlp.intents import Intent
from bot.nlp.understand import Reading

router = Router("opinions")

GENERAL = "general"  # a suggestion kept although no consultation is open
CONSULTATION_STEP, CATEGORY_STEP = "consultation", "category"  # saved in conversation_state.step


@router.on_postback(MenuOpinion)
async def start_from_menu(turn: Turn) -> None:
    """Starts the flow from the menu button."""
    await start(turn)


@router.on_intent(Intent.OPINION)
async def from_reading(turn: Turn, reading: Reading) -> None:
    """A wish or suggestion typed ("อยากให้มีตลาดชุมชน"): the flow starts with it as the opinion's text."""
    await start(turn, keep_text=not reading.chip)


@router.on_postback(OpinionFromMessage)
async def from_offer(turn: Turn) -> None:
    """เสนอเป็นความคิดเห็น under a reply that could not answer a wish: the flow, with that message kept."""
    typed = await shared.offered_message(turn, turn.tapped(OpinionFromMessage))
    if typed is not None:
        await start(turn, earlier=typed)


async def start(turn: Turn, keep_text: bool = True, earlier: str | None = None) -> None:
    """Picks the consultation (or asks which), then goes on to consent or the village. Started by a message
    that reads as a proposal (or offered under the reply to one sent `earlier`), that message is the opinion's
    first part (not when it was the menu chip's label typed: keep_text False)."""
    open_now = _open_consultations(turn)
    state = FlowState(flow=OPINION.name, step=CONSULTATION_STEP, data={"parts": []})
    if earlier is not None:
        shared.keep_first_part(state, earlier)
    # "เสนอความคิดเห็นค่ะ" only asks to start; anything more is the opinion, kept (the text step shows it).
    elif turn.message_type == "text" and keep_text and not shared.is_start_request(turn, OPINION):
        shared.take_part(turn, state, OPINION)
    if len(open_now) == 1:
        state.data["consultation"] = open_now[0].id  # so the consultation step does not apply
    elif not open_now:
        await _say_next_hearing(turn)
    await OPINION.begin(turn, state)
    record(turn, Outcome.OPINION_STARTED)


# -- the steps of its own (the shared ones are in bot/chat/participation.py) -----------------------------------


def _consultation_question(turn: Turn, flow: Flow, state: FlowState) -> WireMessage:
    """Which open consultation; with none open, whether to keep the idea as a general suggestion."""
    open_now = _open_consultations(turn)
    if not open_now:
        message = turn.builder.text("opinion_none_open")
        return shared.set_chips(message, [shared.chip(turn, "chip_keep_general", flow.tap(FlowDo.GENERAL).pack())])
    chips = [postback_chip(c.title[:20], flow.tap(FlowDo.CONSULTATION, c.id).pack(), c.title) for c in open_now]
    message = turn.builder.text("opinion_choose_consultation", choices=numbered(chip_names(chips)))
    return shared.set_chips(message, chips)


async def _on_consultation(turn: Turn, flow: Flow, state: FlowState) -> Answered:
    """Stores the chosen consultation (or 'general')."""
    chosen = shared.tap(turn, flow)
    if chosen is not None and chosen.do == FlowDo.CONSULTATION:
        if chosen.choice not in {c.id for c in _open_consultations(turn)}:
            return Move.REASK
        state.data["consultation"] = chosen.choice
    elif chosen is not None and chosen.do == FlowDo.GENERAL:
        state.data["consultation"] = GENERAL
    else:
        return Move.REASK
    return Move.NEXT


async def _say_next_hearing(turn: Turn) -> None:
    """With no consultation open, the next hearing for the resident's village is where to be heard."""
    village = turn.resident.village if turn.resident else None
    coming = await upcoming(turn.session, turn.now(), village)
    if coming:
        hearing = coming[0]
        turn.say(
            "opinion_next_hearing", title=hearing.title, when=cards.when(turn.content, hearing), place=hearing.place
        )


def _text_hint(turn: Turn, state: FlowState) -> dict[str, str]:
    """The consultation's first guiding question, under "what would you like to propose?"."""
    consultation = turn.content.consultations.get(state.data.get("consultation") or "")
    return {"hint": consultation.guiding_questions[0] if consultation and consultation.guiding_questions else ""}


def _done_chip(turn: Turn, flow: Flow) -> list[dict[str, Any]]:
    return [shared.done_chip(turn, flow)]


async def _suggest_categories(turn: Turn, flow: Flow, state: FlowState) -> None:
    """The text is complete: the two categories it reads as, offered first at the next step."""
    # Tens of milliseconds of model work: off the event loop, which meanwhile acknowledges webhooks.
    ranked = await asyncio.to_thread(turn.qa.categorizer.suggest, shared.description(state))
    state.data["suggested"] = ranked[0].category
    state.data["runner_up"] = ranked[1].category


def _category_question(turn: Turn, flow: Flow, state: FlowState) -> WireMessage:
    """The two suggested categories and อื่นๆ; after อื่นๆ, every category."""
    if state.data.get("all_categories"):
        chips = [_category_chip(turn, flow, cid) for cid in turn.content.categories]
        message = turn.builder.text("opinion_all_categories", choices=numbered(chip_names(chips)))
        return shared.set_chips(message, chips)
    suggested = (state.data["suggested"], state.data["runner_up"])
    chips = [
        *(_category_chip(turn, flow, category) for category in suggested),
        shared.chip(turn, "chip_other_category", flow.tap(FlowDo.ALL_CATEGORIES).pack()),
    ]
    # The text names the suggestion and lists the chips: LINE for PC shows no chips to read it from.
    message = turn.builder.text(
        "opinion_ask_category",
        suggested=turn.content.categories[suggested[0]].label,
        choices=numbered(chip_names(chips)),
    )
    return shared.set_chips(message, chips)


async def _on_category(turn: Turn, flow: Flow, state: FlowState) -> Answered:
    """Takes the category, or asks again with all of them."""
    chosen = shared.tap(turn, flow)
    if chosen is not None and chosen.do == FlowDo.ALL_CATEGORIES:
        state.data["all_categories"] = True  # the question at this step now lists them all (typed ones too)
        return CATEGORY_STEP
    # Any category by name works typed, also one the chips do not show ("ด้านสังคม", "เศรษฐกิจ").
    typed = shared.typed_choice(turn.content, turn.text, _category_names(turn)) if turn.message_type == "text" else None
    if chosen is not None and chosen.do == FlowDo.CATEGORY and chosen.choice in turn.content.categories:
        state.data["category"] = chosen.choice
    elif typed is not None:
        state.data["category"] = typed
    else:
        return Move.REASK
    return Move.NEXT


def _summary(turn: Turn, flow: Flow, state: FlowState) -> WireMessage:
    consultation = turn.content.consultations.get(state.data.get("consultation") or "")
    village = state.data.get("village")
    message = turn.builder.text(
        "opinion_summary",
        consultation=consultation.title if consultation else shared.phrase(turn, "general_suggestion"),
        village=shared.village_name(turn, village) if village else shared.phrase(turn, "village_unspecified"),
        category=turn.content.categories[state.data["category"]].label,
        text=shared.description(state)[:1500],
    )
    return shared.set_chips(message, shared.summary_chips(turn, flow))


async def _file(turn: Turn, flow: Flow, state: FlowState) -> None:
    """Commits the opinion with its reference number."""
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
        status=OpinionStatus.RECEIVED,
        created_at=turn.now(),
    )
    turn.session.add(opinion)
    await turn.session.flush()
    shared.attach_photos(turn, state, opinion_id=opinion.id)
    turn.say("opinion_saved", reference=reference)
    record(turn, Outcome.OPINION_SAVED, reference)


# -- helpers -------------------------------------------------------------------------------------------------


def _open_consultations(turn: Turn) -> list[Consultation]:
    now = turn.now().astimezone(BANGKOK)
    village = turn.resident.village if turn.resident else None
    return [
        c
        for c in turn.content.consultations.values()
        if c.is_open(now) and (c.villages is None or village is None or village in c.villages)
    ]


def _category_names(turn: Turn) -> dict[str, list[str]]:
    return {cid: [c.label, c.short] for cid, c in turn.content.categories.items()}


def _category_chip(turn: Turn, flow: Flow, category_id: str) -> dict[str, Any]:
    category = turn.content.categories[category_id]
    return postback_chip(category.short, flow.tap(FlowDo.CATEGORY, category_id).pack(), category.label)


# The names are saved in conversation_state (flow, step): never rename one.
OPINION = shared.ParticipationFlow(
    name="opinion",
    kind="opinion",
    tap=OpinionAnswer,
    steps=[
        Step(
            CONSULTATION_STEP,
            ask=_consultation_question,
            answer=_on_consultation,
            applies=lambda turn, state: "consultation" not in state.data,
        ),
        shared.consent_step(),
        shared.village_step(),
        shared.description_step(chips=_done_chip, hint=_text_hint, finish=_suggest_categories),
        Step(CATEGORY_STEP, ask=_category_question, answer=_on_category),
        shared.summary_step(ask=_summary, file=_file),
    ],
)
OPINION.attach(router)
