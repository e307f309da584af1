"""The inbox: stored webhook events are handled here, after LINE already has its 200.

Each chat (a lane) is leased by one worker at a time, in any process, so a resident's messages are handled
one at a time in timestamp order. A handler's effects and the messages it owes are committed in one
transaction with the event marked done; the messages are sent afterwards from that outbox. A worker killed
at any point therefore leaves either nothing done (the event is handled again) or a committed outbox row that
is sent on restart, never both and never neither.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.models import EventLane, InboundEvent, OutboundMessage, utcnow
from bot.dispatch import Dispatcher
from bot.line import LineGateway, LineLimitError, LineSendError, new_retry_key

log = logging.getLogger(__name__)

MESSAGES_PER_SEND = 5
MAX_HANDLING_ATTEMPTS = 3
MAX_SEND_ATTEMPTS = 8
# Events a lane handles before it lets other lanes go first.
LANE_BATCH = 20


@dataclass(frozen=True)
class StoredEvent:
    """A webhook event as the webhook stores it."""

    webhook_event_id: str
    lane_key: str
    event_type: str
    message_id: str | None
    occurred_at_ms: int
    payload: str


def _insert(dialect_name: str) -> Any:
    return postgresql.insert if dialect_name == "postgresql" else sqlite.insert


async def store_events(sessions: async_sessionmaker[AsyncSession], events: list[StoredEvent]) -> set[str]:
    """Store every event in one transaction, ignoring ones already stored; return the ids that were new."""
    if not events:
        return set()
    now = utcnow()
    async with sessions() as session, session.begin():
        insert = _insert(session.get_bind().dialect.name)
        rows = [{**event.__dict__, "received_at": now, "status": "pending", "attempts": 0} for event in events]
        statement = (
            insert(InboundEvent)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["webhook_event_id"])
            .returning(InboundEvent.webhook_event_id)
        )
        new_ids = set((await session.execute(statement)).scalars())
        lanes = sorted({e.lane_key for e in events if e.webhook_event_id in new_ids})
        if lanes:
            await session.execute(
                insert(EventLane).values([{"lane_key": k} for k in lanes]).on_conflict_do_nothing()
            )
    return new_ids


async def ensure_lane(session: AsyncSession, lane_key: str) -> None:
    """Make sure a lane row exists, for messages owed to someone outside any event (status updates...)."""
    insert = _insert(session.get_bind().dialect.name)
    await session.execute(insert(EventLane).values(lane_key=lane_key).on_conflict_do_nothing())


def queue_messages(
    session: AsyncSession,
    to: str,
    messages: list[dict[str, Any]],
    reply_token: str | None = None,
    event_id: int | None = None,
) -> None:
    """Add outbox rows for messages (five per LINE request); only the first may use the reply token."""
    for start in range(0, len(messages), MESSAGES_PER_SEND):
        session.add(
            OutboundMessage(
                event_id=event_id,
                to=to,
                reply_token=reply_token if start == 0 else None,
                messages=json.dumps(messages[start : start + MESSAGES_PER_SEND], ensure_ascii=False),
                retry_key=new_retry_key(),
                status="pending",
                attempts=0,
            )
        )


class Inbox:
    """Background workers that handle stored events and deliver the outbox."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        dispatcher: Dispatcher,
        line: LineGateway,
        workers: int = 4,
        settle_seconds: float = 0.2,
        lease_seconds: float = 30.0,
        poll_seconds: float = 1.0,
        loading_after_seconds: float = 1.0,
    ) -> None:
        self._sessions = sessions
        self._dispatcher = dispatcher
        self._line = line
        self._workers = workers
        self._settle = dt.timedelta(seconds=settle_seconds)
        self._lease = dt.timedelta(seconds=lease_seconds)
        self._poll = poll_seconds
        self._loading_after = loading_after_seconds
        self.name = f"w-{secrets.token_hex(6)}"
        self._wake = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._held: set[str] = set()
        # A hook for crash tests: called between steps; raising here simulates a worker dying there.
        self.fault_point: Any = None

    def wake(self) -> None:
        """New events were stored: look now rather than at the next poll."""
        self._wake.set()

    async def start(self) -> None:
        for _ in range(self._workers):
            self._spawn(self._work())
        self._spawn(self._keep_leases())

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        held, self._held = list(self._held), set()
        if held:
            with contextlib.suppress(Exception):
                async with self._sessions() as session, session.begin():
                    await session.execute(
                        update(EventLane)
                        .where(EventLane.lane_key.in_(held), EventLane.leased_by == self.name)
                        .values(leased_by=None, lease_until=None)
                    )

    def _spawn(self, coro: Any) -> None:
        task: asyncio.Task[None] = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def run_until_idle(self, timeout: float = 10.0) -> None:
        """Handle everything pending now (tests and the CLI): returns when no lane has work left."""
        async with asyncio.timeout(timeout):
            while True:
                lanes = await self._claim(limit=16, ignore_settle=True)
                if not lanes:
                    if not await self._has_work():
                        return
                    await asyncio.sleep(0.05)
                    continue
                await asyncio.gather(*(self._run_lane(lane, ignore_settle=True) for lane in lanes))

    # -- the worker loop -------------------------------------------------------------------------------

    async def _work(self) -> None:
        while True:
            try:
                lanes = await self._claim(limit=1)
            except Exception as exc:
                log.error("inbox claim failed", extra={"error": type(exc).__name__})
                lanes = []
            if lanes:
                for lane in lanes:
                    await self._run_lane(lane)
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll)
                self._wake.clear()
                # Let the rest of a burst arrive, so its events are handled in timestamp order.
                await asyncio.sleep(self._settle.total_seconds())

    async def _keep_leases(self) -> None:
        while True:
            await asyncio.sleep(self._lease.total_seconds() / 3)
            if not self._held:
                continue
            with contextlib.suppress(Exception):
                async with self._sessions() as session, session.begin():
                    await session.execute(
                        update(EventLane)
                        .where(EventLane.lane_key.in_(list(self._held)), EventLane.leased_by == self.name)
                        .values(lease_until=utcnow() + self._lease)
                    )

    async def _has_work(self) -> bool:
        async with self._sessions() as session:
            events = await session.scalar(
                select(func.count()).select_from(InboundEvent).where(InboundEvent.status == "pending")
            )
            owed = await session.scalar(
                select(func.count())
                .select_from(OutboundMessage)
                .where(OutboundMessage.status.in_(("pending", "sending")),
                       OutboundMessage.next_attempt_at <= utcnow())
            )
        return bool(events or owed)

    async def _claim(self, limit: int, ignore_settle: bool = False) -> list[str]:
        """Lease up to `limit` lanes that have settled events or due outbox rows."""
        now = utcnow()
        cutoff = now if ignore_settle else now - self._settle
        async with self._sessions() as session, session.begin():
            # A lane is ready once its newest pending event has settled: a burst is handled as a whole,
            # in timestamp order, however its webhooks interleaved on the way in.
            with_events = await session.scalars(
                select(InboundEvent.lane_key)
                .where(InboundEvent.status == "pending")
                .group_by(InboundEvent.lane_key)
                .having(func.max(InboundEvent.received_at) <= cutoff)
                .limit(64)
            )
            with_mail = await session.scalars(
                select(OutboundMessage.to)
                .where(OutboundMessage.status.in_(("pending", "sending")), OutboundMessage.next_attempt_at <= now)
                .distinct()
                .limit(64)
            )
            candidates = sorted(set(with_events) | set(with_mail))
            if not candidates:
                return []
            # SKIP LOCKED (PostgreSQL): workers in other processes pass over lanes being leased right now
            # instead of queueing behind them. SQLite has one writer at a time, so it needs no such clause.
            free = list(
                await session.scalars(
                    select(EventLane.lane_key)
                    .where(
                        EventLane.lane_key.in_(candidates),
                        or_(EventLane.lease_until.is_(None), EventLane.lease_until < now),
                    )
                    .limit(limit)
                    .with_for_update(skip_locked=True)
                )
            )
            if free:
                await session.execute(
                    update(EventLane)
                    .where(EventLane.lane_key.in_(free))
                    .values(leased_by=self.name, lease_until=now + self._lease)
                )
        self._held.update(free)
        return free

    async def _release(self, lane: str) -> None:
        self._held.discard(lane)
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(EventLane)
                .where(EventLane.lane_key == lane, EventLane.leased_by == self.name)
                .values(leased_by=None, lease_until=None)
            )

    async def _run_lane(self, lane: str, ignore_settle: bool = False) -> None:
        try:
            await self._work_lane(lane, ignore_settle)
        except Exception as exc:
            log.error("lane failed", extra={"error": type(exc).__name__}, exc_info=True)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await asyncio.shield(self._release(lane))
            raise
        except BaseException:
            # The worker is dying with the lane in hand, as in a crash: the lease is left to expire, and
            # whoever claims the lane then finishes its work.
            self._held.discard(lane)
            raise
        with contextlib.suppress(Exception):
            await self._release(lane)

    async def _work_lane(self, lane: str, ignore_settle: bool) -> None:
        for _ in range(LANE_BATCH):
            event_id = await self._next_event(lane, ignore_settle)
            if event_id is None:
                break
            loading = self._spawn_loading(lane)
            try:
                handled = await self._handle(event_id)
                await self._deliver(lane)
            finally:
                if loading is not None:
                    loading.cancel()
            if not handled:
                return
        await self._deliver(lane)

    async def _next_event(self, lane: str, ignore_settle: bool) -> int | None:
        """The lane's earliest pending event, unless a newer one is still settling (then: come back later)."""
        cutoff = utcnow() if ignore_settle else utcnow() - self._settle
        async with self._sessions() as session:
            pending = (
                await session.execute(
                    select(InboundEvent.id, InboundEvent.received_at)
                    .where(InboundEvent.lane_key == lane, InboundEvent.status == "pending")
                    .order_by(InboundEvent.occurred_at_ms, InboundEvent.id)
                )
            ).all()
        if not pending or max(received for _, received in pending) > cutoff:
            return None
        return int(pending[0][0])

    # -- handling one event ----------------------------------------------------------------------------

    async def _handle(self, event_id: int) -> bool:
        """Run the event's handler; its effects, its messages and 'done' commit together. False on failure."""
        async with self._sessions() as session:
            async with session.begin():
                row = await session.get(InboundEvent, event_id)
                if row is None or row.status != "pending":
                    return True
                row.attempts += 1
                attempts = row.attempts
            if attempts > MAX_HANDLING_ATTEMPTS:
                await self._give_up(session, event_id)
                return True
            try:
                async with session.begin():
                    row = await session.get(InboundEvent, event_id, populate_existing=True)
                    assert row is not None
                    turn = await self._dispatcher.dispatch(session, row)
                    self._fault("handled")
                    if turn.replies and not turn.silent and turn.chat_id:
                        queue_messages(session, turn.chat_id, turn.replies, turn.reply_token, row.id)
                    row.status, row.outcome, row.processed_at = "done", turn.outcome[:64], utcnow()
            except Exception as exc:
                log.error("event failed", extra={"event_row": event_id, "error": type(exc).__name__,
                                                 "attempt": attempts})
                return False
        log.info("event handled", extra={"webhook_event_id": row.webhook_event_id, "outcome": row.outcome})
        return True

    async def _give_up(self, session: AsyncSession, event_id: int) -> None:
        """An event that failed every attempt: apologise to the resident once, keep the event for staff."""
        async with session.begin():
            row = await session.get(InboundEvent, event_id, populate_existing=True)
            assert row is not None
            row.status, row.outcome, row.processed_at = "failed", "handler-error", utcnow()
            turn = self._dispatcher.turn_for(session, row)
            if turn.chat_id and not turn.silent and turn.event_type in {"message", "postback", "follow"}:
                queue_messages(session, turn.chat_id, [turn.builder.text("processing_failed")],
                               turn.reply_token, row.id)
        log.error("event failed for good", extra={"webhook_event_id": row.webhook_event_id})

    def _fault(self, point: str) -> None:
        if self.fault_point is not None:
            self.fault_point(point)

    def _spawn_loading(self, lane: str) -> asyncio.Task[None] | None:
        """The typing dots, only when an answer takes longer than a moment (saves LINE calls otherwise)."""
        if not lane.startswith("U"):
            return None

        async def later() -> None:
            await asyncio.sleep(self._loading_after)
            await self._line.show_loading(lane, seconds=10)

        task = asyncio.create_task(later())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # -- delivering the outbox -------------------------------------------------------------------------

    async def _deliver(self, lane: str) -> None:
        """Send what the lane is owed, oldest first; stop at the first send that must wait, to keep order."""
        while True:
            async with self._sessions() as session:
                async with session.begin():
                    row = await session.scalar(
                        select(OutboundMessage)
                        .where(OutboundMessage.to == lane, OutboundMessage.status.in_(("pending", "sending")))
                        .order_by(OutboundMessage.id)
                        .limit(1)
                    )
                    if row is None or row.next_attempt_at > utcnow():
                        return
                    if row.attempts >= MAX_SEND_ATTEMPTS:
                        row.status = "failed"
                        log.error("send abandoned", extra={"outbound": row.id, "attempts": row.attempts})
                        continue
                    may_have_landed = row.attempts > 0
                    row.status, row.attempts = "sending", row.attempts + 1
                self._fault("sending")
                if not await self._send(session, row, may_have_landed):
                    return

    async def _send(self, session: AsyncSession, row: OutboundMessage, may_have_landed: bool) -> bool:
        """One outbox row to LINE; True when the lane may go on to its next row."""

        async def forget_token() -> None:
            async with self._sessions() as other, other.begin():
                await other.execute(
                    update(OutboundMessage).where(OutboundMessage.id == row.id).values(reply_token=None)
                )

        try:
            result = await self._line.reply_or_push(
                row.to, row.reply_token, json.loads(row.messages), row.retry_key,
                reply_may_have_landed=may_have_landed, on_fallback=forget_token,
            )
        except LineSendError as exc:
            retry = exc.retryable and row.attempts < MAX_SEND_ATTEMPTS
            async with session.begin():
                row.status = "pending" if retry else "failed"
                row.last_error = str(exc)[:200]
                row.next_attempt_at = utcnow() + dt.timedelta(seconds=min(300, 2**row.attempts))
            log.warning("send failed", extra={"outbound": row.id, "status": exc.status, "will_retry": retry})
            return not retry
        except LineLimitError as exc:
            async with session.begin():
                row.status, row.last_error = "failed", str(exc)[:200]
            log.error("message over LINE's limits", extra={"outbound": row.id})
            return True
        self._fault("sent")
        async with session.begin():
            row.status, row.sent_at, row.sent_via = "sent", utcnow(), result.via
        return True


