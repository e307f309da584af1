"""The inbox: stored webhook events are handled here, after LINE already has its 200.

A worker works in cycles. Each cycle leases a batch of chats (lanes) that have settled events or messages
due, so no other worker, in this process or another, touches them; handles their events in timestamp order
in one transaction (if one fails, the batch runs again with a savepoint per event, so a failing event undoes
nothing but itself); then has the outbox (bot/delivery/outbox.py) send what the handlers queued, each lane's
messages in order and the lanes side by side.

Why this is exactly once: a handler's effects, its outbox rows and "done" commit together, so a crash before
that commit leaves the event to be handled again with nothing done; the outbox sends each message once.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import secrets
from collections.abc import Callable
from typing import Any

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.chat.dispatch import Dispatcher, ReadAhead
from bot.chat.outcomes import Outcome, render
from bot.db.models import EventLane, InboundEvent, OutboundMessage, utcnow
from bot.db.statuses import EventStatus, OutboxStatus
from bot.delivery.background import Stopping, stop_tasks
from bot.delivery.line import LineGateway
from bot.delivery.outbox import Outbox, queue_messages
from bot.ops.metrics import Metrics

log = logging.getLogger(__name__)

MAX_HANDLING_ATTEMPTS = 3


# An event handled in this cycle: its webhook event id, status and outcome.
_Handled = tuple[str, str, str | None]


class Inbox:
    """Background workers that handle stored events and deliver the outbox."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        dispatcher: Dispatcher,
        line: LineGateway,
        workers: int = 2,
        settle_seconds: float = 0.2,
        lease_seconds: float = 30.0,
        poll_seconds: float = 1.0,
        loading_after_seconds: float = 1.0,
        lanes_per_cycle: int = 16,
        metrics: Metrics | None = None,
    ) -> None:
        self._metrics = metrics or Metrics()
        self._stopping = Stopping()
        self._sessions = sessions
        self._dispatcher = dispatcher
        self._line = line
        self._workers = workers
        self._settle = dt.timedelta(seconds=settle_seconds)
        self._lease = dt.timedelta(seconds=lease_seconds)
        self._poll = poll_seconds
        self._loading_after = loading_after_seconds
        self._lanes_per_cycle = lanes_per_cycle
        self.name = f"w-{secrets.token_hex(6)}"
        self._wake = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._held: set[str] = set()
        self._claiming = asyncio.Lock()
        # A hook for crash tests: called between steps; raising there simulates the process dying there.
        self.fault_point: Callable[[str], None] | None = None
        self._outbox = Outbox(sessions, line, self._lanes_held, self._fault)

    def wake(self) -> None:
        """New events were stored: look now rather than at the next poll."""
        self._wake.set()

    async def start(self) -> None:
        self._stopping = Stopping()
        for _ in range(self._workers):
            self._spawn(self._work())
        self._spawn(self._keep_leases())

    async def stop(self) -> None:
        """Let each worker finish the batch it is on (see bot/delivery/background.py), then release the leases."""
        self._wake.set()
        await stop_tasks(list(self._tasks), self._stopping)
        self._tasks.clear()
        held, self._held = list(self._held), set()
        if held:
            with contextlib.suppress(Exception):
                await self._release(held)

    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        task: asyncio.Task[Any] = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def run_until_idle(self, timeout: float = 10.0) -> None:
        """Handle everything pending now, without waiting for bursts to settle (tests and the CLI)."""
        async with asyncio.timeout(timeout):
            while True:
                if await self._cycle(ignore_settle=True):
                    continue
                if not await self._has_work():
                    return
                await asyncio.sleep(0.05)

    # -- the worker loop -------------------------------------------------------------------------------

    async def _work(self) -> None:
        while not self._stopping.requested:
            try:
                if await self._cycle():
                    continue
            except Exception as exc:
                log.error("inbox cycle failed", extra={"error": type(exc).__name__})
                if await self._stopping.sleep(self._poll):
                    return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll)
                if self._stopping.requested:
                    return
                self._wake.clear()
                # Let the rest of a burst arrive, so its events are handled in timestamp order.
                await asyncio.sleep(self._settle.total_seconds())

    async def _keep_leases(self) -> None:
        while not await self._stopping.sleep(self._lease.total_seconds() / 3):
            if not self._held:
                continue
            with contextlib.suppress(Exception):
                async with self._sessions() as session, session.begin():
                    await session.execute(
                        update(EventLane)
                        .where(EventLane.lane_key.in_(list(self._held)), EventLane.leased_by == self.name)
                        .values(lease_until=utcnow() + self._lease)
                    )

    async def _cycle(self, ignore_settle: bool = False) -> int:
        """Lease a batch of ready lanes, handle and deliver; return how many lanes it had."""
        lanes = await self._claim(ignore_settle)
        if not lanes:
            return 0
        try:
            async with self._sessions() as session:
                loading = self._spawn_loading(lanes)
                try:
                    await self._handle(session, lanes)
                    await self._outbox.deliver(session, lanes)
                finally:
                    for task in loading:
                        task.cancel()
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await asyncio.shield(self._release(lanes))
            raise
        except Exception as exc:
            log.error("inbox cycle failed", extra={"error": type(exc).__name__, "lanes": len(lanes)}, exc_info=True)
        except BaseException:
            # Dying with the lanes in hand, as in a crash: their leases expire and whoever claims them
            # next finishes the work.
            self._held.difference_update(lanes)
            raise
        with contextlib.suppress(Exception):
            await self._release(lanes)
        return len(lanes)

    def _fault(self, point: str) -> None:
        if self.fault_point is not None:
            self.fault_point(point)

    # -- leasing ---------------------------------------------------------------------------------------

    async def _claim(self, ignore_settle: bool) -> list[str]:
        """Lease lanes whose newest pending event has settled, or that are owed messages now."""
        # One claim at a time in this process: the next one must see the lanes this one took in _held.
        async with self._claiming:
            return await self._claim_now(ignore_settle)

    async def _claim_now(self, ignore_settle: bool) -> list[str]:
        now = utcnow()
        cutoff = now if ignore_settle else now - self._settle
        limit = self._lanes_per_cycle
        async with self._sessions() as session, session.begin():
            # A lane is ready once its newest pending event has settled: a burst is handled as a whole,
            # in timestamp order, however its webhooks interleaved on the way in.
            with_events = await session.scalars(
                select(InboundEvent.lane_key)
                .where(InboundEvent.status == EventStatus.PENDING)
                .group_by(InboundEvent.lane_key)
                .having(func.max(InboundEvent.received_at) <= cutoff)
                .order_by(func.min(InboundEvent.received_at))
                .limit(limit * 4)
            )
            with_mail = await session.scalars(
                select(OutboundMessage.to)
                .where(
                    OutboundMessage.status.in_((OutboxStatus.PENDING, OutboxStatus.SENDING)),
                    OutboundMessage.next_attempt_at <= now,
                )
                .distinct()
                .limit(limit * 4)
            )
            candidates = list(dict.fromkeys([*with_events, *with_mail]))
            if not candidates:
                return []
            # SKIP LOCKED (PostgreSQL): workers in other processes pass over lanes being leased right now
            # instead of queueing behind them. SQLite has one writer at a time and ignores the clause.
            # Besides free lanes, this process's own orphans: lanes it still holds in the database but no
            # longer works on (a cycle failed with the database down, so releasing failed too). Taking them
            # back at once, rather than after the lease, keeps what this process knows about their sends.
            # Never a lane this process is working on: when the event loop was too busy to renew its lease
            # (a slow machine), the lease looks expired, and taking the lane again would handle its events
            # twice, side by side.
            working = EventLane.lane_key.not_in(list(self._held))
            orphaned = EventLane.leased_by == self.name
            free = list(
                await session.scalars(
                    select(EventLane.lane_key)
                    .where(
                        EventLane.lane_key.in_(candidates),
                        working,
                        or_(EventLane.lease_until.is_(None), EventLane.lease_until < now, orphaned),
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
                # Counted before handling, so an event whose handler kills the process cannot loop forever.
                await session.execute(
                    update(InboundEvent)
                    .where(InboundEvent.lane_key.in_(free), InboundEvent.status == EventStatus.PENDING)
                    .values(attempts=InboundEvent.attempts + 1)
                )
        self._held.update(free)
        return free

    async def _release(self, lanes: list[str]) -> None:
        self._held.difference_update(lanes)
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(EventLane)
                .where(EventLane.lane_key.in_(lanes), EventLane.leased_by == self.name)
                .values(leased_by=None, lease_until=None)
            )

    async def _has_work(self) -> bool:
        async with self._sessions() as session:
            events = await session.scalar(
                select(func.count()).select_from(InboundEvent).where(InboundEvent.status == EventStatus.PENDING)
            )
            owed = await session.scalar(
                select(func.count())
                .select_from(OutboundMessage)
                .where(
                    OutboundMessage.status.in_((OutboxStatus.PENDING, OutboxStatus.SENDING)),
                    OutboundMessage.next_attempt_at <= utcnow(),
                )
            )
        return bool(events or owed)

    # -- handling events -------------------------------------------------------------------------------

    async def _handle(self, session: AsyncSession, lanes: list[str]) -> None:
        """Every pending event of the lanes, in timestamp order, in one transaction.

        Failures are rare, so the usual path pays for no savepoints: one per event, each flushed on its own,
        cost a third to a half of the events handled a second (docs/decisions/inbox-savepoints.md). When
        anything in the batch fails, a handler or the database refusing what one wrote (at its flush or at the
        commit, whichever comes first), the batch is rolled back and run again with each event in a savepoint
        of its own: the failing event undoes only itself, its chat's earlier events stand, its later ones wait
        for the next cycle (so the chat's order holds), and every other chat is answered.
        """
        # Typed questions are read first, holding no connection: on SQLite the webhook shares the only one.
        ahead = await self._dispatcher.read_ahead(self._sessions, lanes)
        try:
            handled = await self._handle_batch(session, lanes, ahead, savepoints=False)
        except Exception as exc:
            log.warning("batch failed, handling it again event by event", extra={"error": type(exc).__name__})
            handled = await self._handle_batch(session, lanes, ahead, savepoints=True)
        for event_id, status, outcome in handled:
            self._metrics.events_handled[status] += 1
            log.info("event handled", extra={"webhook_event_id": event_id, "outcome": outcome})

    async def _handle_batch(
        self, session: AsyncSession, lanes: list[str], ahead: dict[int, ReadAhead], savepoints: bool
    ) -> list[_Handled]:
        handled: list[_Handled] = []
        async with session.begin():
            rows = list(
                await session.scalars(
                    select(InboundEvent)
                    .where(InboundEvent.lane_key.in_(lanes), InboundEvent.status == EventStatus.PENDING)
                    .order_by(InboundEvent.lane_key, InboundEvent.occurred_at_ms, InboundEvent.id)
                    # PostgreSQL: a process that took a lane over after our lease lapsed waits here for our
                    # commit, then finds these events handled, not pending. SQLite has one writer at a time.
                    .with_for_update()
                )
            )
            # What is logged is read now, before anything can fail: after a rollback the session's objects
            # are expired, and reading one needs the database (which raises in an async session).
            seen = [(row.lane_key, row.webhook_event_id, row.attempts) for row in rows]
            batch = await self._dispatcher.prepare(session, rows)
            batch.read_ahead = ahead
            stalled: set[str] = set()
            for row, (lane, event_id, attempt) in zip(rows, seen, strict=True):
                if lane in stalled:
                    continue
                savepoint = await session.begin_nested() if savepoints else None
                try:
                    if attempt > MAX_HANDLING_ATTEMPTS:
                        self._give_up(session, row, event_id)
                    else:
                        await self._handle_one(session, batch, row)
                    done = (event_id, row.status, row.outcome)
                    if savepoint is not None:
                        await savepoint.commit()  # flushes this event's changes: the database's refusal is here
                except Exception as exc:
                    if savepoint is None:
                        raise
                    # A rollback that fails (the connection is gone) escapes from here and fails the cycle.
                    await savepoint.rollback()
                    stalled.add(lane)
                    log.error(
                        "event failed",
                        extra={"webhook_event_id": event_id, "error": type(exc).__name__, "attempt": attempt},
                    )
                    continue
                handled.append(done)
        return handled

    async def _handle_one(self, session: AsyncSession, batch: Any, row: InboundEvent) -> None:
        turn = await self._dispatcher.dispatch(session, row, batch)
        self._fault("handled")
        if turn.replies and not turn.silent and turn.chat_id:
            queue_messages(session, turn.chat_id, turn.replies, turn.reply_token, row.id)
        row.status, row.outcome, row.processed_at = EventStatus.DONE, turn.outcome[:64], utcnow()

    def _give_up(self, session: AsyncSession, row: InboundEvent, event_id: str) -> None:
        """An event that failed every attempt: apologise to the resident once, keep the event for staff."""
        row.status, row.outcome, row.processed_at = EventStatus.FAILED, render(Outcome.HANDLER_ERROR), utcnow()
        turn = self._dispatcher.turn_for(session, row)
        if turn.chat_id and not turn.silent and turn.event_type in {"message", "postback", "follow"}:
            queue_messages(session, turn.chat_id, [turn.builder.text("processing_failed")], turn.reply_token, row.id)
        log.error("event failed for good", extra={"webhook_event_id": event_id})

    def _spawn_loading(self, lanes: list[str]) -> list[asyncio.Task[Any]]:
        """The typing dots, shown only when answers take longer than a moment (saves LINE calls)."""

        async def later(chat_id: str) -> None:
            await asyncio.sleep(self._loading_after)
            await self._line.show_loading(chat_id, seconds=10)

        return [self._spawn(later(lane)) for lane in lanes if lane.startswith("U")]

    def _lanes_held(self, now: dt.datetime) -> Select[str]:
        """The chats whose lease this worker still holds at `now`."""
        return select(EventLane.lane_key).where(EventLane.leased_by == self.name, EventLane.lease_until > now)
