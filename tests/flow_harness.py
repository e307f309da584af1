"""The bot in-process, for fast tests of one conversation: no aiohttp server, no HTTP, SQLite in memory.

The same path as production from the stored event on: a turn becomes LINE's webhook event (bot/dev/events.py),
is parsed as the webhook parses it and stored as intake stores it, and the real inbox handles it (lease,
read-ahead, the dispatcher and the feature routers in one transaction, the outbox) and delivers the replies
to a recording stand-in for the LINE gateway, which checks them against LINE's limits as the gateway does.
Skipped: signatures and HTTP (tests/test_webhook.py), the reader process, staff phrasings (a new database has
none) and the background jobs (photos, broadcasts, retention, erasure).

    async def test_report(flow: FlowHarness) -> None:
        user = new_user_id()
        await flow.say_all(user, "แจ้งปัญหา", "tap: รับทราบ", "tap: ถนน/ทางเท้าชำรุด", "tap: หมู่ 3")

Turns are written as for tests/chatting.py: "tap: <label>" taps an offered chip or button, "menu: <label>" a
rich menu tile, "action=..." sends raw postback data, anything else is typed. The content and the matcher
are built once per test process (nothing here changes them but the clock); each harness has its own database
and sets the clock.
"""

from __future__ import annotations

import datetime as dt
import functools
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.chat.dispatch import Dispatcher
from bot.content import Content, load_content
from bot.db.engine import create_memory_engine, create_sessionmaker, migrate
from bot.delivery.inbox import Inbox
from bot.delivery.intake import store_on_sqlite
from bot.delivery.line import LineGateway, SendResult, check_messages
from bot.delivery.webhook import parse_events
from bot.dev import events
from bot.handlers.routing import routers
from bot.handlers.services.qa import QuestionAnswering
from tests import taps

Message = dict[str, Any]
PSEUDONYM_KEY = "k" * 32
PRIVACY_LINK = "http://bot.test/privacy"
# As tests/chatting.py walks flows: consultations and reference years do not depend on the day.
CLOCK = dt.datetime(2026, 11, 23, 5, 0, tzinfo=dt.UTC)


@functools.cache
def _content() -> Content:
    from tests.conftest import ROOT

    return load_content(ROOT / "content")


@functools.cache
def _qa() -> QuestionAnswering:
    """One matcher for the process: building it takes 0.3 s, and the opinion categorizer it builds on first
    use over 3 s (it embeds the categories). Only its clock differs between harnesses, set by each."""
    return QuestionAnswering.from_content(_content())


@dataclass
class Delivery:
    to: str
    messages: list[Message]
    via: str


@dataclass
class RecordingLine:
    """Stands in for bot/delivery/line.py's LineGateway where the inbox uses it: each send is checked against
    LINE's limits (check_messages, as the gateway does first) and recorded; a reply token always works."""

    deliveries: list[Delivery] = field(default_factory=list)

    async def reply_or_push(
        self,
        to: str,
        reply_token: str | None,
        messages: Sequence[Message],
        retry_key: str,
        reply_may_have_landed: bool = False,
        on_fallback: Callable[[], Awaitable[None]] | None = None,
    ) -> SendResult:
        check_messages(messages)
        via = "reply" if reply_token else "push"
        self.deliveries.append(Delivery(to, list(messages), via))
        return SendResult(via)

    async def show_loading(self, chat_id: str, seconds: int = 5) -> None:
        return None


@dataclass
class FlowHarness:
    content: Content
    qa: QuestionAnswering
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    inbox: Inbox
    line: RecordingLine
    # How many messages each chat had when its latest turn was sent: what came after answers that turn.
    marks: dict[str, int] = field(default_factory=dict)

    @classmethod
    async def start(cls, clock: dt.datetime = CLOCK) -> FlowHarness:
        engine = create_memory_engine()
        await migrate(engine)
        sessions = create_sessionmaker(engine)
        content = _content()
        qa = _qa()
        qa.clock = lambda: clock
        dispatcher = Dispatcher(routers(), content, PSEUDONYM_KEY, qa=qa, links={"privacy": PRIVACY_LINK})
        line = RecordingLine()
        # No workers are started: run_until_idle handles each turn, as the tests' bots do.
        inbox = Inbox(sessions, dispatcher, cast(LineGateway, line), workers=0, loading_after_seconds=60.0)
        return cls(content, qa, engine, sessions, inbox, line)

    async def close(self) -> None:
        await self.inbox.stop()
        await self.engine.dispose()

    def set_clock(self, clock: dt.datetime) -> None:
        """The time the bot reads from now on (consultations open, reference years)."""
        self.qa.clock = lambda: clock

    # -- what the bot sent ---------------------------------------------------------------------------

    def messages_to(self, user: str) -> list[Message]:
        return [m for d in self.line.deliveries if d.to == user for m in d.messages]

    def last_replies(self, user: str) -> list[Message]:
        """What the bot sent this chat since its latest turn."""
        return self.messages_to(user)[self.marks.get(user, 0) :]

    # -- what the resident does ----------------------------------------------------------------------

    def event(self, user: str, turn: str) -> dict[str, Any]:
        """The webhook event of one turn, as tests/chatting.py reads turns."""
        token = secrets.token_hex(16)
        if turn.startswith(taps.TAP):
            action = taps.find(turn.removeprefix(taps.TAP), self.last_replies(user))
        elif turn.startswith(taps.MENU):
            action = taps.rich_menu_action(self.content, turn.removeprefix(taps.MENU))
        elif turn.startswith("action="):
            action = {"type": "postback", "data": turn}
        else:
            action = {"type": "message", "text": turn}
        self.marks[user] = len(self.messages_to(user))
        return taps.event_for(action, user, token)

    async def send(self, *event_list: dict[str, Any]) -> None:
        """Events as LINE posts them: parsed as the webhook parses them, stored, then handled and answered."""
        await store_on_sqlite(self.sessions, parse_events(events.body(*event_list)))
        await self.inbox.run_until_idle(timeout=30.0)

    async def say(self, user: str, turn: str) -> list[Message]:
        """One turn; the messages it got back."""
        await self.send(self.event(user, turn))
        return self.last_replies(user)

    async def say_all(self, user: str, *turns: str) -> list[list[Message]]:
        return [await self.say(user, turn) for turn in turns]
