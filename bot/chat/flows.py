"""A conversation flow declared once, as a table of its steps (python-telegram-bot's ConversationHandler
`states={...}` and aiogram's StatesGroup are the models).

Each step has the question it asks (`ask`) and the function that reads the resident's answer (`answer`); the
answer says where the chat goes: on to the next step of the table (`Move.NEXT`), to a step by its name ("แก้ไข"
goes back to the description), nowhere because the step answered within itself (`Move.STAY`: one part of a
description added), back to the same question because the input did not answer it (`Move.REASK`), or out of the
flow (`Move.END`: filed or declined). A step may say it does not apply (`applies`: the privacy notice already
agreed to, a report type already known); going forward passes over it.

Adding a step is one line in the table and its two functions. The opinion and report flows are two tables
(bot/handlers/opinions/chat.py, bot/handlers/reports/chat.py); the steps they share (consent, village,
description, summary) are written once in bot/chat/participation.py, which also says what a flow does with
input that answers nothing (keeps typed text as the description).

Where a chat is, is saved by name (conversation_state.flow, .step): a flow's and a step's names never change,
or residents in the middle of a flow at a deploy would lose their place (tests/test_flows.py replays states
saved by the code before these tables).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import Enum, StrEnum

from bot.chat.dispatch import Router, Turn
from bot.chat.messages import WireMessage
from bot.chat.outcomes import FlowLabel, record
from bot.chat.postbacks import FlowAnswer
from bot.chat.state import FlowState


class Move(Enum):
    """Where an answer sends the chat, besides a step named by its name."""

    NEXT = "next"  # the next step of the table that applies
    STAY = "stay"  # the answer said what it had to (a description part added); the step stays, state saved
    REASK = "reask"  # not an answer to this question: the flow says so and asks it again
    END = "end"  # the flow is over (filed, declined) and the answer said its last word


class FlowOutcome(StrEnum):
    """What a turn in a flow did, recorded as '<the flow's kind>-<this>' (Flow.outcome: "report-aside:village");
    arriving at a step records '<kind>-<the step's name>' ("report-consent"). Never change a value."""

    ASIDE = "aside"  # input answered beside the question, asked again under it; details: the step
    REASK = "reask"  # input that answers nothing, the question asked again; details: the step
    KEPT = "kept"  # input that answers nothing kept as the description (participation); details: the step
    TEXT = "text"  # a part of the description added (participation)
    TEXT_EMPTY = "text-empty"  # เสร็จ with no description yet (participation)
    DECLINED = "declined"  # the privacy notice declined: the flow ends, nothing kept (participation)


Answered = Move | str  # or the name of the step to go to
Ask = Callable[[Turn, "Flow", FlowState], WireMessage]
Answer = Callable[[Turn, "Flow", FlowState], Awaitable[Answered]]
Applies = Callable[[Turn, FlowState], bool]


@dataclass(frozen=True)
class Step:
    name: str  # saved in conversation_state.step: never renamed
    ask: Ask
    answer: Answer
    applies: Applies | None = None  # None: always; False for this chat: passed over going forward


class Flow:
    """One flow: its name (saved), its kind (the prefix of its response ids and outcomes: 'opinion_ask_text',
    'opinion-saved'), the postback class of its taps, and its steps in order."""

    def __init__(self, name: str, kind: str, tap: type[FlowAnswer], steps: list[Step]) -> None:
        names = [step.name for step in steps]
        if len(set(names)) != len(names):
            raise ValueError(f"flow {name}: two steps share a name ({names})")
        self.name, self.kind, self.tap = name, kind, tap
        self.steps = {step.name: step for step in steps}

    def outcome(self, what: FlowOutcome | Step) -> FlowLabel:
        """A kind of outcome of this flow, for bot/chat/outcomes.py's record: '<kind>-<what>', what being a
        FlowOutcome or the step the chat arrived at ("report-aside", "report-consent")."""
        return FlowLabel(f"{self.kind}-{what.name if isinstance(what, Step) else what.value}")

    def attach(self, router: Router) -> None:
        """The router hands this flow every event of a chat that is in it."""
        router.on_flow(self.name)(self.handle)

    def question(self, turn: Turn, state: FlowState) -> WireMessage:
        """The question of the step the chat is at: asked on arrival, again after input that is no answer, and
        what typed answers are read against (LINE for PC and Mac shows no chips)."""
        return self.steps[state.step].ask(turn, self, state)

    async def begin(self, turn: Turn, state: FlowState) -> None:
        """Opens the flow at its first step that applies."""
        await self.go(turn, state, self._following(turn, state, None))

    async def go(self, turn: Turn, state: FlowState, name: str) -> None:
        """Moves the chat to step `name`, asks its question and saves where the chat is."""
        state.step = name
        turn.replies.append(self.question(turn, state))
        await turn.save_flow(state)
        record(turn, self.outcome(self.steps[name]))

    async def handle(self, turn: Turn) -> None:
        """An event of a chat in this flow: the current step reads it, and the chat moves as the answer says."""
        state = turn.flow
        assert state is not None and state.flow == self.name
        step = self.steps.get(state.step)
        if step is None:
            # A step this version does not have (saved by a newer one, rolled back): start over, keeping the data.
            await self.begin(turn, state)
            return
        aside = self.aside(turn, state)
        if aside is not None:
            turn.replies += [aside, self.question(turn, state)]
            record(turn, self.outcome(FlowOutcome.ASIDE), state.step)
            return
        moved = await step.answer(turn, self, state)
        if moved is Move.NEXT:
            await self.go(turn, state, self._following(turn, state, state.step))
        elif moved is Move.STAY:
            await turn.save_flow(state)
        elif moved is Move.REASK:
            await self.reask(turn, state)
        elif isinstance(moved, str):
            await self.go(turn, state, moved)

    def aside(self, turn: Turn, state: FlowState) -> WireMessage | None:
        """Input answered beside the question (it is asked again under it); none in a plain flow."""
        return None

    async def reask(self, turn: Turn, state: FlowState) -> None:
        """Input that answers nothing: say so and ask the same question again."""
        turn.replies += [turn.builder.text("flow_reask"), self.question(turn, state)]
        record(turn, self.outcome(FlowOutcome.REASK), state.step)

    def _following(self, turn: Turn, state: FlowState, after: str | None) -> str:
        names = list(self.steps)
        start = 0 if after is None else names.index(after) + 1
        for name in names[start:]:
            applies = self.steps[name].applies
            if applies is None or applies(turn, state):
                return name
        raise LookupError(f"flow {self.name}: no step after {after}; the last step must end the flow")
