"""Storing webhook events: one transaction for every event of every request that arrived meanwhile.

Requests wait for the commit that holds their events, so a 200 still means "stored", but a burst of webhooks
costs one transaction instead of one each (measured: docs/decisions/group-commit.md).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from bot.db.engine import driver_connection
from bot.db.models import EventLane, InboundEvent, utcnow
from bot.db.statuses import EventStatus
from bot.delivery.groupcommit import GroupCommit

# Upper bound on events per transaction, so one commit stays short.
MAX_EVENTS_PER_COMMIT = 2000


@dataclass(frozen=True)
class StoredEvent:
    """A webhook event as the webhook stores it."""

    webhook_event_id: str
    lane_key: str
    event_type: str
    message_id: str | None
    occurred_at_ms: int
    payload: str


def dialect_insert(session: AsyncSession) -> Any:
    """INSERT with ON CONFLICT support for the session's backend."""
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


async def store_on_sqlite(sessions: async_sessionmaker[AsyncSession], events: list[StoredEvent]) -> set[str]:
    """Store events in one transaction, ignoring ones already stored; return the ids that were new."""
    now = utcnow()
    async with sessions() as session, session.begin():
        # One cached statement with a list of parameter sets: SQLAlchemy batches it into multi-row
        # INSERTs ("insertmanyvalues") without compiling a new statement for every batch size.
        rows = [{**e.__dict__, "received_at": now, "status": EventStatus.PENDING, "attempts": 0} for e in events]
        statement = (
            sqlite.insert(InboundEvent)
            .on_conflict_do_nothing(index_elements=["webhook_event_id"])
            .returning(InboundEvent.webhook_event_id, sort_by_parameter_order=True)
        )
        new_ids = set(await session.scalars(statement, rows))
        lanes = sorted({e.lane_key for e in events if e.webhook_event_id in new_ids})
        if lanes:
            await session.execute(sqlite.insert(EventLane).on_conflict_do_nothing(), [{"lane_key": k} for k in lanes])
    return new_ids


# Every event of a group commit and the lanes of the new ones, in one statement (so one round trip and atomic
# without a transaction around it), with the values as arrays. This is the busiest path of the server, and one
# statement acknowledges faster than the ORM's bulk insert (docs/decisions/group-commit.md). Lanes go in sorted,
# so two web processes inserting the same lanes wait for each other instead of deadlocking.
#
# The NOT EXISTS filters keep acknowledgements from waiting on the worker. ON CONFLICT alone waits for any
# transaction that is updating the conflicting row, and the worker updates both tables: an event's row while
# its handling transaction runs (hundreds of milliseconds, longer at the worker's lower CPU priority), and a
# chat's lane row while leasing it. A redelivered event or a resident's next message would then be
# acknowledged only after that transaction ends. Rows already committed are seen in the statement's snapshot
# and skipped without a wait; ON CONFLICT still settles races between web processes inserting the same row.
#
# OFFSET 0 keeps each NOT EXISTS a lookup in the unique index for every incoming row. Without it PostgreSQL
# turns it into a join, and while a table has no statistics yet (a new database, until autovacuum first
# analyzes it) the prepared statement's plan reads the whole table into a hash on every commit: on a fresh
# database the intake slowed as the table grew, PostgreSQL's own CPU becoming the limit.
_STORE_ON_POSTGRESQL = """
WITH new AS (
    INSERT INTO inbound_event
        (webhook_event_id, lane_key, event_type, message_id, occurred_at_ms, payload, received_at, status, attempts)
    SELECT e.*, $7::timestamptz, 'pending', 0
    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[])
        AS e(webhook_event_id, lane_key, event_type, message_id, occurred_at_ms, payload)
    WHERE NOT EXISTS (SELECT 1 FROM inbound_event AS old WHERE old.webhook_event_id = e.webhook_event_id OFFSET 0)
    ON CONFLICT (webhook_event_id) DO NOTHING
    RETURNING webhook_event_id, lane_key
), lanes AS (
    INSERT INTO event_lane (lane_key)
    SELECT DISTINCT new.lane_key FROM new
    WHERE NOT EXISTS (SELECT 1 FROM event_lane AS old WHERE old.lane_key = new.lane_key OFFSET 0)
    ORDER BY new.lane_key
    ON CONFLICT DO NOTHING
)
SELECT webhook_event_id FROM new
"""


async def store_on_postgresql(driver: Any, events: list[StoredEvent]) -> set[str]:
    """The same on PostgreSQL, in one statement on an asyncpg connection (autocommit)."""
    # In id order, so two web processes inserting the same redelivered events wait for each other instead of
    # deadlocking (as the lanes below).
    events = sorted(events, key=lambda e: e.webhook_event_id)
    columns = [
        [e.webhook_event_id for e in events],
        [e.lane_key for e in events],
        [e.event_type for e in events],
        [e.message_id for e in events],
        [e.occurred_at_ms for e in events],
        [e.payload for e in events],
    ]
    rows = await driver.fetch(_STORE_ON_POSTGRESQL, *columns, utcnow())
    return {row["webhook_event_id"] for row in rows}


class StorageUnavailable(Exception):
    """The events could not be stored (the database is down, restarting, or refused them): LINE should retry."""


class EventIntake:
    """Group commit: each request hands its events over and waits for the transaction that stores them.

    On PostgreSQL the intake keeps one connection of its own: a group commit is one statement, and taking a
    connection from the pool for each would add the pool's liveness ping, a second round trip, to every
    acknowledgement (docs/decisions/group-commit.md). A connection that fails is thrown away; the next commit
    opens a new one.
    """

    def __init__(self, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._engine = engine
        self._sessions = sessions
        self._own: AsyncConnection | None = None
        self._group: GroupCommit[list[StoredEvent], set[str]] = GroupCommit(
            self._store_groups, MAX_EVENTS_PER_COMMIT, size=len
        )

    async def store(self, events: list[StoredEvent]) -> set[str]:
        """Store the events and return the ids that were new; StorageUnavailable when they were not stored."""
        if not events:
            return set()
        new_ids = await self._group.submit(events)
        return {e.webhook_event_id for e in events} & new_ids

    async def close(self) -> None:
        await self._group.close()
        if self._own is not None:
            with contextlib.suppress(Exception):
                await self._own.close()
            self._own = None

    async def _store_groups(self, groups: list[list[StoredEvent]]) -> set[str]:
        events = [e for events in groups for e in events]
        if self._engine.dialect.name != "postgresql":
            return await store_on_sqlite(self._sessions, events)
        try:
            if self._own is None:
                self._own = await self._engine.connect()
            return await store_on_postgresql(await driver_connection(self._own), events)
        except BaseException as exc:
            broken, self._own = self._own, None
            if broken is not None:
                with contextlib.suppress(Exception):
                    await broken.invalidate()
                    await broken.close()
            # The driver's own errors come straight from asyncpg, past SQLAlchemy's translation, and a cut
            # connection shows as more than one kind (InterfaceError, a PostgresError for "terminating
            # connection", even InternalClientError "another operation is in progress"): whatever failed, the
            # events were not stored, and LINE should deliver them again.
            if isinstance(exc, Exception):
                raise StorageUnavailable(type(exc).__name__) from exc
            raise
