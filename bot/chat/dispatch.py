"""Picks the handler for a stored event: global commands first, then the resident's open flow, then (for
typed text) the chips and buttons the chat was last offered, then the routes of each feature router in the
order they were included, then the fallback.

A handler receives a Turn: the event, the database session of the transaction it runs in, and a place to
put its replies. It never talks to LINE; the inbox sends what it queued once the transaction commits.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.chat.messages import MessageBuilder, WireMessage
from bot.chat.outcomes import UNHANDLED, Outcome, Recorded, record
from bot.chat.postbacks import Postback, fields_of
from bot.chat.state import IDLE_LIMIT, FlowState, clear_state, save_state, state_from_row
from bot.chat.typed import Choice, decode_choices, encode_choices, matching_choices, offered_in, typed_key
from bot.chat.typed import command_key as command_key  # where the handlers import it from
from bot.content import Content
from bot.db.models import ChatContext, ConversationState, InboundEvent, OfferedChoice, Resident, utcnow
from bot.db.statuses import EventStatus
from bot.delivery.lineids import valid_id
from bot.handlers.residents.rules import touch_resident
from bot.handlers.services.qa import QuestionAnswering
from bot.nlp.understand import Reading

# Offered chips and buttons are read as typed taps this long, as long as a flow stays open (bot/chat/state.py):
# later, a word that happens to be a chip's label is a new question, not an answer to a forgotten card.
OFFER_LIMIT = IDLE_LIMIT

Handler = Callable[["Turn"], Awaitable[None]]
# Answers a typed message once it is read: the feature whose router claims the reading's intent (on_intent).
IntentHandler = Callable[["Turn", Reading], Awaitable[None]]
TextPredicate = Callable[["Turn"], bool]
Tap = TypeVar("Tap", bound=Postback)


@dataclass
class Turn:
    """One event being handled: what came in, who sent it, and what the bot will answer."""

    session: AsyncSession
    row: InboundEvent
    raw: dict[str, Any]
    builder: MessageBuilder
    content: Content
    commands: dict[str, frozenset[str]]
    qa: QuestionAnswering
    batch: Batch
    links: dict[str, str]
    resident: Resident | None = None
    replies: list[WireMessage] = field(default_factory=list)
    # What became of the event, as stored (inbound_event.outcome): set through outcomes.record, never assigned.
    outcome: Recorded = UNHANDLED
    # Typed text read as the tap of an offered choice: the handlers see a postback, this keeps what was typed.
    typed_tap: str | None = None
    # The chat's offered choices are forgotten after this turn (ยกเลิก, เมนู: the resident moved on).
    clears_offered: bool = False
    # Nothing of this chat is kept after the turn, offered choices included (the resident erased their data).
    forgets_chat: bool = False
    # The handler of each intent, from the routers (Dispatcher._intent_handler).
    intent_handler: Callable[[str], IntentHandler | None] = lambda intent: None

    @property
    def event_type(self) -> str:
        return "postback" if self.typed_tap is not None else self.row.event_type

    @property
    def source(self) -> dict[str, Any]:
        source = self.raw.get("source")
        return source if isinstance(source, dict) else {}

    @property
    def user_id(self) -> str | None:
        return valid_id(self.source.get("userId"))

    @property
    def is_direct_chat(self) -> bool:
        return self.source.get("type") == "user" and self.user_id is not None

    @property
    def chat_id(self) -> str | None:
        """Where replies go: the group or room, or the resident's own chat."""
        return None if self.row.lane_key == "-" else self.row.lane_key

    @property
    def reply_token(self) -> str | None:
        token = self.raw.get("replyToken")
        return token if isinstance(token, str) else None

    @property
    def silent(self) -> bool:
        """In standby mode another channel answers; the bot must send nothing."""
        return self.raw.get("mode") == "standby"

    @property
    def message(self) -> dict[str, Any]:
        message = self.raw.get("message")
        return message if isinstance(message, dict) else {}

    @property
    def message_type(self) -> str | None:
        value = self.message.get("type")
        return value if isinstance(value, str) else None

    @property
    def text(self) -> str:
        value = self.message.get("text")
        return value if isinstance(value, str) else ""

    @property
    def postback_data(self) -> str:
        """The data of the tapped button as sent ('action=svc&id=land_tax'); '' for anything else."""
        data = (self.raw.get("postback") or {}).get("data") if isinstance(self.raw.get("postback"), dict) else None
        return data if isinstance(data, str) else ""

    @property
    def postback(self) -> dict[str, str]:
        """The postback's fields: {'action': 'svc', 'id': 'land_tax'} (bot/chat/postbacks.py names them)."""
        return fields_of(self.postback_data)

    def tapped(self, kind: type[Tap]) -> Tap | None:
        """The tap as `kind` (ServiceChoice, MyDataRequest, ...); None when it is another action's or malformed."""
        return kind.parse(self.postback_data)

    def now(self) -> dt.datetime:
        """The chat's one clock (the dispatcher's qa.clock): every time a handler, a flow, a reference or an
        expiry reads or stores comes from here, so a test that pins qa.clock pins all of them."""
        return self.qa.clock()

    async def answer_reading(self, reading: Reading) -> None:
        """A typed message has been read: the router that claims its intent answers it (a problem starts the
        report flow in bot/handlers/reports, a question gets its service answer in bot/handlers/services)."""
        handler = self.intent_handler(reading.intent)
        if handler is not None:
            await handler(self, reading)

    def is_command(self, name: str) -> bool:
        """True when the text is one of the words for a global command (เมนู, ยกเลิก ...), with or without a
        polite ending ("ถอนความคิดเห็นค่ะ"), as typed answers are compared."""
        words = self.commands.get(name, frozenset())
        return command_key(self.text) in words or typed_key(self.content, self.text) in words

    def say(self, response_id: str, **params: str) -> None:
        self.replies.append(self.builder.text(response_id, **params))

    @property
    def flow(self) -> FlowState | None:
        """The chat's open flow, if any."""
        return self.batch.states.get(self.row.lane_key)

    async def save_flow(self, state: FlowState) -> None:
        """Store the flow's step; later events of the same batch see it at once."""
        await save_state(self.session, self.row.lane_key, state, self.now())
        self.batch.states[self.row.lane_key] = state

    async def end_flow(self) -> bool:
        """Close the chat's open flow; True if there was one."""
        self.batch.states.pop(self.row.lane_key, None)
        return await clear_state(self.session, self.row.lane_key)

    def offered(self) -> list[Choice]:
        """The postback chips and buttons the chat's last replies offered, while they still count."""
        row = self.batch.offered.get(self.row.lane_key)
        if row is None or self.now() - row.offered_at > OFFER_LIMIT:
            return []
        return decode_choices(row.choices)

    def take_tap(self, data: str | Postback) -> None:
        """From here on this typed text is handled as the tap that sends `data`: same handler, same replies."""
        self.typed_tap = self.text
        self.raw = {k: v for k, v in self.raw.items() if k != "message"} | {
            "type": "postback",
            "postback": {"data": data if isinstance(data, str) else data.pack()},
        }

    async def forget_offered(self) -> None:
        """Remove the chat's offered choices now (erasure: the row is keyed by the resident's LINE id)."""
        lane = self.row.lane_key
        row = self.batch.offered.pop(lane, None)
        if row is not None and row in self.session:
            # Out of the session, so a later event of the batch may offer anew; the row itself goes by a
            # statement, which is a no-op when residents.forget() has removed it already.
            self.session.expunge(row)
        await self.session.execute(delete(OfferedChoice).where(OfferedChoice.lane_key == lane))
        self.forgets_chat = True


class Router:
    """The routes of one feature; handlers are registered with its decorators."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.events: dict[str, Handler] = {}
        self.messages: dict[str, Handler] = {}
        self.postbacks: dict[str, Handler] = {}
        self.texts: list[tuple[TextPredicate, Handler, bool]] = []
        self.flows: dict[str, Handler] = {}
        self.intents: dict[str, IntentHandler] = {}

    def on_event(self, *types: str) -> Callable[[Handler], Handler]:
        return self._register(self.events, types)

    def on_message(self, *types: str) -> Callable[[Handler], Handler]:
        return self._register(self.messages, types)

    def on_postback(self, *kinds: type[Postback] | Literal["*"]) -> Callable[[Handler], Handler]:
        """Taps of these actions (bot/chat/postbacks.py); the handler reads its tap with turn.tapped(kind),
        which is None when the data names the action but is malformed. "*": any action no router claims."""
        actions = tuple(k if isinstance(k, str) else k.action for k in kinds)
        if not all(actions):
            raise ValueError("on_postback takes the class of one action (OpinionAnswer, not FlowAnswer)")
        return self._register(self.postbacks, actions)

    def on_flow(self, *flows: str) -> Callable[[Handler], Handler]:
        return self._register(self.flows, flows)

    def on_intent(self, *intents: str) -> Callable[[IntentHandler], IntentHandler]:
        """Typed messages the reader read as these intents (bot/nlp/understand.py's Intent); "*": any intent no
        router claims."""

        def decorator(handler: IntentHandler) -> IntentHandler:
            for intent in intents:
                self.intents.setdefault(intent, handler)
            return handler

        return decorator

    def on_text(self, predicate: TextPredicate, escape: bool = False) -> Callable[[Handler], Handler]:
        """escape=True: checked before any open flow (ยกเลิก, เมนู, ช่วยเหลือ work at every step)."""

        def decorator(handler: Handler) -> Handler:
            self.texts.append((predicate, handler, escape))
            return handler

        return decorator

    @staticmethod
    def _register(table: dict[str, Handler], keys: tuple[str, ...]) -> Callable[[Handler], Handler]:
        def decorator(handler: Handler) -> Handler:
            for key in keys:
                table.setdefault(key, handler)
            return handler

        return decorator


# How long "กี่วัน" still refers to the service answered last.
FOLLOW_UP_MINUTES = 30


@dataclass(frozen=True)
class ReadAhead:
    """A typed message read before its batch's transaction, with the service the chat was about then."""

    text: str
    context_service: str | None
    reading: Reading


@dataclass
class Batch:
    """What a batch of events needs from the database, loaded in two queries instead of two per event."""

    residents: dict[str, Resident]
    states: dict[str, FlowState]
    # The service each chat was last answered about (for follow-ups like "กี่วัน").
    contexts: dict[str, ChatContext] = field(default_factory=dict)
    # What each chat's last replies offered (chips, card buttons), for typed equivalents of the taps.
    offered: dict[str, OfferedChoice] = field(default_factory=dict)
    # Typed messages already read, by event id (Dispatcher.read_ahead).
    read_ahead: dict[int, ReadAhead] = field(default_factory=dict)
    # The chat's clock (Turn.now): how recent a follow-up's context is.
    clock: Callable[[], dt.datetime] = utcnow

    def service_context(self, lane: str) -> str | None:
        """The service a follow-up in this chat is about, while the last answer is recent enough."""
        row = self.contexts.get(lane)
        if row is None or self.clock() - row.updated_at > dt.timedelta(minutes=FOLLOW_UP_MINUTES):
            return None
        return row.service_id

    def reading_ahead(self, event_id: int, text: str, context_service: str | None) -> Reading | None:
        """The reading done ahead for this event, unless the chat's context changed since (an earlier event
        of the batch answered about another service)."""
        ahead = self.read_ahead.get(event_id)
        if ahead is None or ahead.text != text or ahead.context_service != context_service:
            return None
        return ahead.reading


class Dispatcher:
    """Holds the routers in order and runs the first handler that matches an event."""

    def __init__(
        self,
        routers: list[Router],
        content: Content,
        pseudonym_key: str,
        qa: QuestionAnswering | None = None,
        links: dict[str, str] | None = None,
    ) -> None:
        self._routers = routers
        self._content = content
        self._builder = MessageBuilder(content)
        self._qa = qa or QuestionAnswering.from_content(content)
        self._pseudonym_key = pseudonym_key
        self._links = links or {}
        self._commands = {name: frozenset(command_key(w) for w in words) for name, words in content.commands.items()}

    def turn_for(self, session: AsyncSession, row: InboundEvent, batch: Batch | None = None) -> Turn:
        return Turn(
            session=session,
            row=row,
            raw=json.loads(row.payload),
            builder=self._builder,
            content=self._content,
            commands=self._commands,
            qa=self._qa,
            batch=batch or Batch(residents={}, states={}, clock=self._qa.clock),
            links=self._links,
            intent_handler=self._intent_handler,
        )

    async def prepare(self, session: AsyncSession, rows: list[InboundEvent]) -> Batch:
        """Load the residents and conversation states of the chats these events come from."""
        lanes = sorted({row.lane_key for row in rows})
        residents = await session.scalars(select(Resident).where(Resident.line_user_id.in_(lanes)))
        states = await session.scalars(select(ConversationState).where(ConversationState.lane_key.in_(lanes)))
        contexts = await session.scalars(select(ChatContext).where(ChatContext.lane_key.in_(lanes)))
        offered = await session.scalars(select(OfferedChoice).where(OfferedChoice.lane_key.in_(lanes)))
        return Batch(
            residents={r.line_user_id: r for r in residents},
            states={s.lane_key: state_from_row(s) for s in states},
            contexts={c.lane_key: c for c in contexts},
            offered={o.lane_key: o for o in offered},
            clock=self._qa.clock,
        )

    async def read_ahead(self, sessions: async_sessionmaker[AsyncSession], lanes: list[str]) -> dict[int, ReadAhead]:
        """Read these chats' typed messages before their batch's transaction opens.

        Reading takes 15-80 ms of CPU a message; done inside the transaction, it held SQLite's one connection
        (and its write lock) all that time, and the webhook's acknowledgements waited behind it. Chats in
        the middle of a flow are skipped (their texts are answers, not questions), and so are commands.
        An event whose chat changed context during the batch is simply read again by its handler.
        """
        async with sessions() as session:
            # First attempts only: after a failure (a message that kills the reader, say) the handler reads
            # on its own, once per attempt, until the inbox gives up.
            rows = list(
                await session.scalars(
                    select(InboundEvent).where(
                        InboundEvent.lane_key.in_(lanes),
                        InboundEvent.status == EventStatus.PENDING,
                        InboundEvent.attempts <= 1,
                    )
                )
            )
            if not rows:
                return {}
            batch = await self.prepare(session, rows)
        now, wanted = self._qa.clock(), []
        for row in rows:
            turn = self.turn_for(session, row, batch)
            if turn.event_type != "message" or turn.message_type != "text":
                continue
            in_flow = turn.flow is not None and not turn.flow.expired(now)
            if in_flow or any(turn.is_command(name) for name in self._commands):
                continue
            wanted.append((row.id, turn.text, batch.service_context(row.lane_key)))
        readings = await asyncio.gather(
            *(self._qa.read_for_chat(text, context) for _, text, context in wanted), return_exceptions=True
        )
        return {
            event_id: ReadAhead(text, context, reading)
            for (event_id, text, context), reading in zip(wanted, readings, strict=True)
            if isinstance(reading, Reading)  # a failed reading is tried again by the handler, which reports it
        }

    async def dispatch(self, session: AsyncSession, row: InboundEvent, batch: Batch | None = None) -> Turn:
        batch = batch or await self.prepare(session, [row])
        turn = self.turn_for(session, row, batch)
        if turn.is_direct_chat and turn.user_id:
            turn.resident = await touch_resident(
                session, turn.user_id, self._pseudonym_key, batch.residents, turn.now()
            )
        flow = turn.flow
        if flow is not None and flow.expired(turn.now()) and turn.event_type in ("message", "postback"):
            # Said once, then this message is handled as if no flow had been open.
            await turn.end_flow()
            turn.say("flow_expired")
        handler = self._pick(turn)
        if handler is not None:
            await handler(turn)
        remember_offered(turn)
        return turn

    def _pick(self, turn: Turn) -> Handler | None:
        if turn.event_type == "message" and turn.message_type == "text":
            return self._pick_text(turn)
        if turn.event_type in ("message", "postback") and (flow_handler := self._flow_handler(turn)) is not None:
            return flow_handler  # inside a flow, a sticker or a stray tap gets the question asked again
        if turn.event_type == "message":
            return self._first("messages", turn.message_type or "*")
        if turn.event_type == "postback":
            return self._first("postbacks", turn.postback.get("action", "*"))
        return self._first("events", turn.event_type)

    def _pick_text(self, turn: Turn) -> Handler | None:
        for router in self._routers:
            for predicate, handler, escape in router.texts:
                if escape and predicate(turn):
                    turn.clears_offered = True
                    return handler
        flow_handler = self._flow_handler(turn)
        if flow_handler is not None:
            return flow_handler  # the flow reads typed answers against its own question (Flow.question)
        chosen = matching_choices(turn.content, turn.offered(), turn.text)
        if len({c.data for c in chosen}) == 1:
            turn.take_tap(chosen[0].data)
            return self._pick(turn)
        if chosen:
            return ask_which_offered
        for router in self._routers:
            for predicate, handler, escape in router.texts:
                if not escape and predicate(turn):
                    return handler
        return self._first("messages", "text")

    def _intent_handler(self, intent: str) -> IntentHandler | None:
        claimed = next((router.intents[intent] for router in self._routers if intent in router.intents), None)
        return claimed or next((router.intents["*"] for router in self._routers if "*" in router.intents), None)

    def _flow_handler(self, turn: Turn) -> Handler | None:
        flow = turn.flow
        return None if flow is None else self._first("flows", flow.flow)

    def _first(self, table: str, key: str) -> Handler | None:
        for router in self._routers:
            routes: dict[str, Handler] = getattr(router, table)
            if key in routes:
                return routes[key]
        for router in self._routers:
            fallbacks: dict[str, Handler] = getattr(router, table)
            if "*" in fallbacks:
                return fallbacks["*"]
        return None


async def ask_which_offered(turn: Turn) -> None:
    """The typed word is on several offered buttons (two hearings' "ไป"): which one is for a tap to tell."""
    turn.say("offered_ambiguous")
    record(turn, Outcome.OFFERED_AMBIGUOUS)


def remember_offered(turn: Turn) -> None:
    """Keep the postback choices this turn's replies offer, for their words typed later; written with the
    batch's commit (the row was loaded with the batch: no round trip here). A reply that offers none keeps
    the earlier ones (card buttons stay tappable in the chat), a command like ยกเลิก forgets them."""
    if turn.silent or turn.chat_id is None or turn.forgets_chat:
        return
    choices = offered_in(turn.replies)
    if not choices and not turn.clears_offered:
        return
    lane = turn.row.lane_key
    row = turn.batch.offered.get(lane)
    if row is None:
        if not choices:
            return
        row = OfferedChoice(lane_key=lane)
        turn.session.add(row)
        turn.batch.offered[lane] = row
    row.choices, row.offered_at = encode_choices(choices), turn.now()


async def remember_pushed(
    session: AsyncSession, lane_key: str, messages: list[WireMessage], *, at: dt.datetime
) -> None:
    """The same for messages pushed outside any event of the chat (a report's status update asking for its
    rating): its chips typed ("5", "ยังไม่เรียบร้อย") then act as their taps. One read of the chat's row."""
    choices = offered_in(messages)
    if not choices:
        return
    row = await session.get(OfferedChoice, lane_key)
    if row is None:
        row = OfferedChoice(lane_key=lane_key)
        session.add(row)
    row.choices, row.offered_at = encode_choices(choices), at
