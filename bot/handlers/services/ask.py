"""What `python -m bot ask --json` prints for one message: everything the reader decided, and the reply.

The reply is the chat's own: each message goes through the same dispatcher and routers as a webhook event
(OfflineChat), so a problem starts the report flow and "ติดตามเรื่อง" lists cases exactly as in LINE, for a
resident writing for the first time. Nothing is kept: the database is SQLite in memory and each message's
transaction is rolled back.

One JSON object per message, so a batch of messages (one per line) can be scored line by line against
expected labels (bench/qa_eval.py's sets, or anyone's): the output's n-th line is the input's n-th line,
an empty line included (it gets the answer an empty message gets)."""

from __future__ import annotations

import dataclasses
import secrets
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.chat.dispatch import Dispatcher, ReadAhead
from bot.chat.messages import WireMessage
from bot.db.engine import create_memory_engine, create_sessionmaker, migrate
from bot.db.models import InboundEvent
from bot.delivery.webhook import parse_events
from bot.dev import events
from bot.handlers.routing import routers
from bot.handlers.services.qa import QuestionAnswering, reply_text
from bot.nlp.understand import Reading

# The readings that start (or offer) a flow in the chat instead of answering at once (their routers' on_intent).
FLOW_INTENTS = ("report", "opinion")
SCORE_DIGITS = 4
PRIVACY_LINK = "http://localhost/privacy"  # where the consent notice's full text would be: no server runs


def flow_of(reading: Reading) -> str | None:
    """The flow the chat would start or offer for this reading: "report", "opinion", or None. An offer is the
    chip under a "which one?" or "cannot answer" reply (Reading.offer); "offered" says which of the two."""
    if reading.intent in FLOW_INTENTS:
        return str(reading.intent)
    return str(reading.offer) if reading.offer is not None else None


class OfflineChat:
    """The chat without LINE and without a database of record (see the module's docstring)."""

    def __init__(self, qa: QuestionAnswering, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]):
        self.qa, self._engine, self._sessions = qa, engine, sessions
        # The pseudonym key only names residents who are never stored: any key does.
        self._dispatcher = Dispatcher(
            routers(), qa.content, secrets.token_hex(32), qa=qa, links={"privacy": PRIVACY_LINK}
        )

    @classmethod
    async def open(cls, qa: QuestionAnswering) -> OfflineChat:
        engine = create_memory_engine()
        await migrate(engine)
        return cls(qa, engine, create_sessionmaker(engine))

    async def close(self) -> None:
        await self._engine.dispose()

    async def replies(self, message: str, reading: Reading) -> list[WireMessage]:
        """What the chat answers to `message` from a resident writing for the first time, read as `reading`."""
        user = "U" + secrets.token_hex(16)
        (stored,) = parse_events(events.body(events.text_event(user, message)))
        async with self._sessions() as session:
            transaction = await session.begin()
            row = InboundEvent(**dataclasses.asdict(stored))  # the columns intake stores (StoredEvent)
            session.add(row)
            await session.flush()
            batch = await self._dispatcher.prepare(session, [row])
            batch.read_ahead[row.id] = ReadAhead(message, None, reading)  # read once, as the chat reads it
            turn = await self._dispatcher.dispatch(session, row, batch)
            await transaction.rollback()
        return turn.replies

    async def record(self, message: str) -> dict[str, Any]:
        """The reading of one message and the reply a resident would read, as JSON-ready values."""
        reading = self.qa.read(message)
        messages = await self.replies(message, reading)
        return {
            "text": message,
            "intent": str(reading.intent),
            "service_id": reading.service_id,
            "score": round(reading.score, SCORE_DIGITS),
            "candidates": [{"id": m.label, "score": round(m.score, SCORE_DIGITS)} for m in reading.candidates],
            "flow": flow_of(reading),
            "offered": reading.offer is not None and reading.intent not in FLOW_INTENTS,
            "report_type": reading.report_type,
            "faq_id": reading.faq_id,
            "referral_id": reading.referral_id,
            "reference": reading.reference,
            "aspect": reading.aspect,
            "follow_up": reading.follow_up,
            "embedded": reading.embedded,
            "reply": reply_text(messages),
            "chips": chips_of(messages),
        }


def chips_of(messages: list[WireMessage]) -> list[str]:
    """The quick-reply chips under the reply, by label: what "which one?" offers is seen, not only said."""
    return [
        str(item.get("action", {}).get("label", ""))
        for message in messages
        for item in message.get("quickReply", {}).get("items", [])
    ]
