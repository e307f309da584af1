"""The right to erasure, done through: after "delete everything" nothing in the database points to the resident.

It happens in two halves. The first runs inside the handling of the resident's own request
(bot/handlers/residents/mydata.py
calls erase()), in the worker's transaction: the resident record, their answers to hearings, the chat's state and
context go (bot/handlers/residents/rules.py forget()); photos are marked for erasure (bot/delivery/photos.py removes
the files); opinions
and reports stay countable (category or type, village, consultation, status, dates) but lose the link to the
person and to the event that carried them, their exact map point, and in their text and typed place every
number (house numbers, phone and ID numbers), web address and e-mail address (reduce_text()); questions lose
their text; every stored event of the chat already handled loses its payload (the LINE id, the texts) and its
lane key (the LINE id); the messages already sent to the chat go.

Three things still carry the chat's LINE id after that commit, because the answer "your data was deleted" must
reach the resident: the outbox row of that answer (its address), the request's own event (its lane key) and the
chat's lane row (the lease the worker holds while it sends). A PendingErasure row (which names no one) says so;
ErasureJob, run by the worker every few seconds, finishes once the answer is sent or has failed for good: it
deletes those outbox rows, tombstones the event, removes the id from stored payloads of group chats and from
hearing announcements' recipient lists, and deletes the lane row once nothing of the chat is left. Events of the
chat still pending (the resident wrote again) keep their lane and are handled as a newcomer's; a new follow
creates fresh rows.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import delete, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.models import (
    BroadcastChunk,
    EventLane,
    InboundEvent,
    Opinion,
    OutboundMessage,
    PendingErasure,
    Photo,
    Report,
    Resident,
    ServiceQuery,
    utcnow,
)
from bot.db.statuses import ChunkStatus, EventStatus, OutboxStatus, PhotoStatus
from bot.delivery.background import Stopping
from bot.delivery.intake import dialect_insert
from bot.handlers.residents.rules import forget

log = logging.getLogger(__name__)

# What an erased chat's events carry instead of the LINE id (never a valid LINE id: those are U/C/R + 32 hex),
# and instead of the payload (JSON without a source, which the dispatcher reads as an event from no one).
ERASED_LANE = "erased"
ERASED_PAYLOAD = '{"erased":true}'
RUN_EVERY_SECONDS = 5.0
PER_RUN = 50

_ADDRESSES = re.compile(r"(?:https?://|www\.)\S+|\S*@\S+", re.IGNORECASE)
# A run of digits (any script: Thai ๙๙, Arabic 99) with what joins such runs: 99/123, 081-234 5678, 1.2.3.
_NUMBERS = re.compile(r"\d+(?:[\s/.,:\-–]*\d+)*")
GONE = "…"


def reduce_text(text: str) -> str:
    """What stays of an erased resident's words: every number and every web or e-mail address is replaced by
    an ellipsis, so a typed house number, phone or ID number does not survive; the rest still says what the
    opinion or report was about."""
    return _NUMBERS.sub(GONE, _ADDRESSES.sub(GONE, text))


async def erase(session: AsyncSession, resident: Resident, lane: str, event_id: int) -> None:
    """The first half, in the transaction handling the request (event `event_id` of chat `lane`)."""
    opinions = select(Opinion.id).where(Opinion.resident_id == resident.id)
    reports = select(Report.id).where(Report.resident_id == resident.id)
    await session.execute(
        update(Photo)
        .where(or_(Photo.opinion_id.in_(opinions), Photo.report_id.in_(reports)))
        .values(status=PhotoStatus.ERASE)
    )
    for opinion in await session.scalars(select(Opinion).where(Opinion.resident_id == resident.id)):
        opinion.text = reduce_text(opinion.text)
        opinion.event_id = opinion.latitude = opinion.longitude = None
    for report in await session.scalars(select(Report).where(Report.resident_id == resident.id)):
        report.text = reduce_text(report.text)
        report.place = reduce_text(report.place) if report.place else report.place
        report.event_id = report.latitude = report.longitude = None
    await session.execute(update(ServiceQuery).where(ServiceQuery.resident_id == resident.id).values(event_id=None))
    await forget(session, resident, lane)
    # Events already handled: nothing of them is read again. Pending ones (the resident wrote again right after)
    # keep their lane and payload, so they are handled, in order, as a newcomer's.
    await session.execute(
        update(InboundEvent)
        .where(InboundEvent.lane_key == lane, InboundEvent.status != EventStatus.PENDING, InboundEvent.id != event_id)
        .values(lane_key=ERASED_LANE, payload=ERASED_PAYLOAD, message_id=None)
    )
    # The request itself keeps its lane until its answer is sent (the inbox addresses the answer by it).
    await session.execute(update(InboundEvent).where(InboundEvent.id == event_id).values(payload=ERASED_PAYLOAD))
    await session.execute(
        delete(OutboundMessage).where(
            OutboundMessage.to == lane, OutboundMessage.status.in_((OutboxStatus.SENT, OutboxStatus.FAILED))
        )
    )
    # The machine's time: the erasure job that finishes it runs on its own, as the inbox does.
    session.add(PendingErasure(event_id=event_id, requested_at=utcnow()))


@dataclass(frozen=True)
class Finished:
    done: bool  # False: to be tried again later (the answer is still owed, or the chat is busy right now)
    lane_deleted: str | None = None  # the chat whose lane row went (see repair_lanes)


async def finish(session: AsyncSession, pending: PendingErasure) -> Finished:
    """The second half for one request, once its answer is no longer owed; deletes `pending` when done."""
    event = await session.get(InboundEvent, pending.event_id)
    if event is None or event.lane_key == ERASED_LANE:
        await session.delete(pending)
        return Finished(done=True)
    lane = event.lane_key
    # The answer and anything queued to the chat before it (sent in order, so before it).
    before = or_(OutboundMessage.event_id == event.id, OutboundMessage.created_at <= (event.processed_at or utcnow()))
    owed = await session.scalar(
        select(
            exists().where(
                OutboundMessage.to == lane,
                OutboundMessage.status.in_((OutboxStatus.PENDING, OutboxStatus.SENDING)),
                before,
            )
        )
    )
    if owed:
        return Finished(done=False)
    await session.execute(
        delete(OutboundMessage).where(
            OutboundMessage.to == lane, OutboundMessage.status.in_((OutboxStatus.SENT, OutboxStatus.FAILED)), before
        )
    )
    await session.execute(
        update(InboundEvent)
        .where(
            InboundEvent.lane_key == lane,
            InboundEvent.status != EventStatus.PENDING,
            InboundEvent.occurred_at_ms <= event.occurred_at_ms,
        )
        .values(lane_key=ERASED_LANE, payload=ERASED_PAYLOAD, message_id=None)
    )
    # The resident's messages in group chats carry their id as the sender. Found by a read first: on SQLite a
    # scanning UPDATE would hold the write lock (and the webhook's acknowledgements) for the whole scan.
    mentioned = list(
        await session.scalars(
            select(InboundEvent.id).where(
                InboundEvent.status != EventStatus.PENDING,
                InboundEvent.occurred_at_ms <= event.occurred_at_ms,
                InboundEvent.payload.contains(lane, autoescape=True),
            )
        )
    )
    if mentioned:
        await session.execute(update(InboundEvent).where(InboundEvent.id.in_(mentioned)).values(payload=ERASED_PAYLOAD))
    if not await _drop_from_announcements(session, lane):
        return Finished(done=False)  # an announcement naming the resident is being sent right now
    lane_deleted = await session.execute(
        delete(EventLane)
        .where(
            EventLane.lane_key == lane,
            or_(EventLane.lease_until.is_(None), EventLane.lease_until < utcnow()),
            ~exists().where(InboundEvent.lane_key == lane),
            ~exists().where(OutboundMessage.to == lane),
        )
        .returning(EventLane.lane_key)
    )
    deleted = lane_deleted.scalar_one_or_none()
    if deleted is None and await session.scalar(select(exists().where(EventLane.lane_key == lane))):
        still_used = await session.scalar(
            select(
                or_(
                    exists().where(InboundEvent.lane_key == lane),
                    exists().where(OutboundMessage.to == lane),
                )
            )
        )
        if not still_used:
            return Finished(done=False)  # leased at this moment
        # Otherwise the resident wrote again: the lane is a newcomer's now, and stays.
    await session.delete(pending)
    return Finished(done=True, lane_deleted=deleted)


async def _drop_from_announcements(session: AsyncSession, lane: str) -> bool:
    """The LINE id out of stored recipient lists; False if a chunk naming it is in flight (left alone)."""
    naming = BroadcastChunk.recipients.contains(f'"{lane}"', autoescape=True)
    chunks = list(await session.scalars(select(BroadcastChunk).where(naming)))
    in_flight = False
    for chunk in chunks:
        if chunk.status == ChunkStatus.SENDING:
            in_flight = True
            continue
        chunk.recipients = json.dumps([r for r in json.loads(chunk.recipients) if r != lane])
    return not in_flight


async def repair_lanes(session: AsyncSession, lanes: Collection[str] | None = None) -> int:
    """Lane rows for pending events that have none (of `lanes`, or of any chat).

    The webhook skips inserting a chat's lane row when it sees one already (so an acknowledgement never waits on
    the worker); on PostgreSQL, a message stored at the very moment finish() deleted that row would be left
    without one, and never handled. Run after deleting lanes, and again on the next run.
    """
    without = (
        select(InboundEvent.lane_key)
        .where(InboundEvent.status == EventStatus.PENDING, ~exists().where(EventLane.lane_key == InboundEvent.lane_key))
        .distinct()
    )
    if lanes is not None:
        if not lanes:
            return 0
        without = without.where(InboundEvent.lane_key.in_(list(lanes)))
    missing = sorted(await session.scalars(without))
    if missing:
        rows = [{"lane_key": lane} for lane in missing]
        await session.execute(dialect_insert(session)(EventLane).on_conflict_do_nothing(), rows)
    return len(missing)


class ErasureJob:
    """Finishes erasures whose answer has gone out; several processes running it at once do no harm."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], every_seconds: float = RUN_EVERY_SECONDS) -> None:
        self._sessions = sessions
        self._every = every_seconds
        # Lanes deleted by the previous run, checked once more (see repair_lanes); None: check every chat.
        self._recheck: set[str] | None = None

    async def run_once(self) -> int:
        """Finish what can be finished now; return how many erasures were completed."""
        if self._recheck is None or self._recheck:
            async with self._sessions() as session, session.begin():
                await repair_lanes(session, self._recheck)
        self._recheck = set()
        async with self._sessions() as session:
            waiting = await session.scalar(select(func.count()).select_from(PendingErasure))
        if not waiting:
            return 0
        done = 0
        async with self._sessions() as session:
            ids = list(await session.scalars(select(PendingErasure.id).order_by(PendingErasure.id).limit(PER_RUN)))
        for pending_id in ids:
            async with self._sessions() as session, session.begin():
                pending = await session.get(PendingErasure, pending_id, with_for_update=True)
                if pending is None:
                    continue
                finished = await finish(session, pending)
            done += finished.done
            if finished.lane_deleted is not None:
                self._recheck.add(finished.lane_deleted)
        if self._recheck:
            async with self._sessions() as session, session.begin():
                await repair_lanes(session, self._recheck)
        log.info("erasures finished", extra={"finished": done, "waiting": int(waiting) - done})
        return done

    async def run_forever(self, stopping: Stopping) -> None:
        while not stopping.requested:
            try:
                await self.run_once()
            except Exception:
                log.exception("finishing erasures failed; trying again shortly")
            if await stopping.sleep(self._every):
                return
