"""Sending one message to many residents, as a persistent job the worker runs at its time.

A job is claimed with a lease (FOR UPDATE SKIP LOCKED on PostgreSQL), so one process runs it however many
are up; a crashed process's lease runs out and another resumes the job. Before the first request the job's
audience is written down as chunks of at most 500 recipients, each with its own retry key. A chunk is
marked 'sending' before its request and 'sent' after; a chunk found 'sending' after a crash is sent again
with the same key, which LINE answers 409 if the first attempt got through: counted as sent, delivered
once. Requests are paced well under LINE's 200 multicast requests per second.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import re
import secrets
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.chat.messages import WireMessage
from bot.content import Content
from bot.db.codes import RsvpAnswer, SendingMode
from bot.db.models import BroadcastChunk, BroadcastJob, Hearing, Resident, Rsvp, utcnow
from bot.db.statuses import ChunkStatus, SendingState
from bot.delivery.background import Stopping
from bot.delivery.line import LineGateway, LineSendError, check_messages
from bot.handlers.hearings import cards
from bot.handlers.hearings.rules import REMINDED, reminder_times
from bot.nlp.normalize import clean_text

log = logging.getLogger(__name__)

CHUNK_SIZE = 500  # LINE's multicast maximum
# A chunk that failed with a retryable error this many times (each time after the gateway's own retries)
# is given up and counted as failed.
MAX_CHUNK_ATTEMPTS = 5
LEASE = dt.timedelta(seconds=60)
# After retryable failures, the job waits this long before another try (the lease is released early).
BACKOFF = dt.timedelta(seconds=30)

FaultPoint = Callable[[str], Awaitable[None]]


async def _no_fault(_where: str) -> None:
    return None


class BroadcastError(ValueError):
    """What is wrong, in English (the command line prints it); `code` names it for the staff pages."""

    def __init__(self, code: str, message: str | None = None) -> None:
        super().__init__(message or code)
        self.code = code


class AlreadySubmitted(Exception):
    """The announce form's one-time key was used before: `job_id` is the sending it created."""

    def __init__(self, job_id: int) -> None:
        super().__init__(f"this form was already sent as job {job_id}")
        self.job_id = job_id


# The one-time key an announce form carries (secrets.token_urlsafe(16) makes 22 of these characters).
FORM_KEY = re.compile(r"^[A-Za-z0-9_-]{16,43}$")
# Announcements that count as "already announced": sent, being sent, or waiting for their time.
LIVE = (SendingState.SCHEDULED, SendingState.RUNNING, SendingState.DONE)


def _announce_key(hearing: Hearing, form_key: str | None) -> str:
    if form_key is None:
        return f"h{hearing.id}:announce:{uuid.uuid4()}"
    if not FORM_KEY.match(form_key):
        raise BroadcastError("form_key", "the form's one-time key is malformed")
    return f"h{hearing.id}:announce:form:{form_key}"


def schedule_announcement(
    session: AsyncSession,
    hearing: Hearing,
    run_at: dt.datetime,
    mode: str,
    by: str,
    form_key: str | None = None,
    *,
    now: dt.datetime,
) -> BroadcastJob:
    """The announcement at run_at, scheduled `now` (form_key, when given, becomes part of its unique dedupe
    key)."""
    if mode not in tuple(SendingMode):
        raise BroadcastError("mode", f"mode must be one of {', '.join(SendingMode)}")
    if run_at >= hearing.starts_at:
        raise BroadcastError("too_late", "the announcement must go out before the hearing starts")
    job = _job(hearing, "announce", _announce_key(hearing, form_key), run_at, by, created_at=now, mode=mode)
    session.add(job)
    return job


async def submitted_job(session: AsyncSession, hearing: Hearing, form_key: str) -> int | None:
    """The job an announce form with this one-time key already created, if any."""
    job_id = await session.scalar(
        select(BroadcastJob.id).where(BroadcastJob.dedupe_key == _announce_key(hearing, form_key))
    )
    return None if job_id is None else int(job_id)


async def last_announcement(session: AsyncSession, hearing_id: int) -> BroadcastJob | None:
    """The hearing's newest announcement that is sent, being sent or waiting (None: never announced)."""
    return await session.scalar(
        select(BroadcastJob)
        .where(BroadcastJob.hearing_id == hearing_id, BroadcastJob.kind == "announce", BroadcastJob.status.in_(LIVE))
        .order_by(BroadcastJob.id.desc())
        .limit(1)
    )


async def announce(
    session: AsyncSession,
    hearing: Hearing,
    run_at: dt.datetime,
    mode: str,
    by: str,
    form_key: str | None = None,
    again: int | None = None,
    *,
    now: dt.datetime,
) -> BroadcastJob:
    """Schedule the announcement and the reminders that go with it (those still ahead of `now`, the time it is
    asked), at most once per hearing unless asked.

    A hearing already announced (see last_announcement) is announced again only when `again` is the id of
    that last announcement (what the person was shown when asked "send again?"); otherwise AlreadyAnnounced.
    With form_key, a second submit of the same form raises AlreadySubmitted naming the first job: the key
    is checked by the database's unique index on dedupe_key (inside a savepoint, so this transaction goes
    on), which holds between processes on SQLite and PostgreSQL alike. Call it in a transaction that took
    the hearing's row with lock_hearing(), so two different forms cannot both find it not yet announced."""
    dedupe = _announce_key(hearing, form_key) if form_key is not None else None
    if form_key is not None:
        earlier = await submitted_job(session, hearing, form_key)
        if earlier is not None:
            raise AlreadySubmitted(earlier)
    last = await last_announcement(session, hearing.id)
    if last is not None and again != last.id:
        raise AlreadyAnnounced(last)
    try:
        async with session.begin_nested():
            job = schedule_announcement(session, hearing, run_at, mode, by, form_key, now=now)
            await session.flush()
    except IntegrityError:
        # Another request with the same key got there first (it committed while this one waited on the index).
        if dedupe is None:
            raise
        earlier = await session.scalar(select(BroadcastJob.id).where(BroadcastJob.dedupe_key == dedupe))
        if earlier is None:
            raise
        raise AlreadySubmitted(int(earlier)) from None
    await schedule_reminders(session, hearing, now, by)
    await session.flush()
    return job


class AlreadyAnnounced(Exception):
    """The hearing was announced before: that sending's id, status, when (finished, started or due) and
    how many it reached, copied out (the transaction that found it is rolled back)."""

    def __init__(self, last: BroadcastJob) -> None:
        super().__init__(f"hearing already announced by job {last.id} ({last.status})")
        self.job_id, self.status, self.sent, self.recipients = last.id, last.status, last.sent, last.recipients
        self.when = last.finished_at or last.started_at or last.run_at


async def lock_hearing(session: AsyncSession, hearing_id: int) -> Hearing | None:
    """The hearing, its row locked until the transaction ends (PostgreSQL; SQLite's BEGIN IMMEDIATE already
    holds the whole database), so announcements of one hearing are decided one at a time."""
    return await session.get(Hearing, hearing_id, with_for_update=True, populate_existing=True)


async def schedule_reminders(session: AsyncSession, hearing: Hearing, now: dt.datetime, by: str) -> list[BroadcastJob]:
    """Reminder jobs for the hearing's reminder times still ahead; ones already scheduled are left alone."""
    jobs = []
    for key, due in reminder_times(hearing):
        dedupe = f"h{hearing.id}:reminder:{key}"
        if due <= now or await session.scalar(select(BroadcastJob.id).where(BroadcastJob.dedupe_key == dedupe)):
            continue
        job = _job(hearing, "reminder", dedupe, due, by, created_at=now)
        try:
            async with session.begin_nested():
                session.add(job)
                await session.flush()
        except IntegrityError:
            # Scheduled meanwhile by another transaction: once is what the unique key is for.
            if job in session:
                session.expunge(job)
            continue
        jobs.append(job)
    return jobs


def schedule_follow_up(
    session: AsyncSession, hearing: Hearing, note: str, by: str, *, now: dt.datetime
) -> BroadcastJob:
    """A thank-you (with the minutes, say) to those who answered ไป, due `now`: sent as soon as the worker can."""
    note = clean_text(note, 1000)  # it goes to residents as a LINE message, and into the sending's record
    if not note:
        raise BroadcastError("note", "the follow-up needs a message")
    job = _job(hearing, "follow_up", f"h{hearing.id}:follow_up:{uuid.uuid4()}", now, by, created_at=now, note=note)
    session.add(job)
    return job


def _job(
    hearing: Hearing, kind: str, dedupe: str, run_at: dt.datetime, by: str, *, created_at: dt.datetime, **values: Any
) -> BroadcastJob:
    return BroadcastJob(
        hearing_id=hearing.id,
        kind=kind,
        dedupe_key=dedupe,
        run_at=run_at,
        status=SendingState.SCHEDULED,
        created_by=by,
        created_at=created_at,
        recipients=0,
        sent=0,
        failed=0,
        **values,
    )


def audience_statement(hearing: Hearing, kind: str) -> Any:
    """The LINE user ids a job goes to: followers who have not opted out, in the hearing's villages (for an
    announcement), or who answered ไป / ยังไม่แน่ใจ (reminder) or ไป (follow-up)."""
    statement = select(Resident.line_user_id).where(Resident.followed.is_(True), Resident.notify.is_(True))
    if kind == "announce":
        if hearing.village_numbers:
            statement = statement.where(Resident.village.in_(hearing.village_numbers))
    else:
        answers = REMINDED if kind == "reminder" else (RsvpAnswer.GOING,)
        statement = statement.join(Rsvp, Rsvp.resident_id == Resident.id).where(
            Rsvp.hearing_id == hearing.id, Rsvp.answer.in_(answers)
        )
    return statement.order_by(Resident.id)


async def audience_size(session: AsyncSession, hearing: Hearing, kind: str = "announce") -> int:
    count = await session.scalar(select(func.count()).select_from(audience_statement(hearing, kind).subquery()))
    return int(count or 0)


def message_for(content: Content, hearing: Hearing, job: BroadcastJob) -> list[WireMessage]:
    if job.kind == "announce":
        return [cards.announcement(content, hearing)]
    if job.kind == "reminder":
        return [cards.reminder(content, hearing)]
    return [cards.follow_up(content, hearing, job.note or "")]


@dataclass(frozen=True)
class JobReport:
    id: int
    hearing_id: int
    kind: str
    mode: str
    status: str
    run_at: dt.datetime
    recipients: int
    sent: int
    failed: int
    chunks: int
    chunks_sent: int
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    created_by: str

    @property
    def seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return round((self.finished_at - self.started_at).total_seconds(), 3)
        return None

    def as_dict(self) -> dict[str, Any]:
        return {
            "job": self.id,
            "hearing": self.hearing_id,
            "kind": self.kind,
            "mode": self.mode,
            "status": self.status,
            "run_at": self.run_at.isoformat(),
            "recipients": self.recipients,
            "sent": self.sent,
            "failed": self.failed,
            "chunks": self.chunks,
            "chunks_sent": self.chunks_sent,
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "seconds": self.seconds,
            "by": self.created_by,
        }


async def report(session: AsyncSession, job_id: int) -> JobReport | None:
    job = await session.get(BroadcastJob, job_id, populate_existing=True)
    if job is None:
        return None
    counts = dict(
        (
            await session.execute(
                select(BroadcastChunk.status, func.count())
                .where(BroadcastChunk.job_id == job_id)
                .group_by(BroadcastChunk.status)
            )
        ).all()
    )
    return JobReport(
        id=job.id,
        hearing_id=job.hearing_id,
        kind=job.kind,
        mode=job.mode,
        status=job.status,
        run_at=job.run_at,
        recipients=job.recipients,
        sent=job.sent,
        failed=job.failed,
        chunks=sum(counts.values()),
        chunks_sent=counts.get(ChunkStatus.SENT, 0),
        started_at=job.started_at,
        finished_at=job.finished_at,
        created_by=job.created_by,
    )


class JobRunner:
    """Runs due jobs; one per process is enough (a job's chunks go out one after another, paced).

    Its clock (due, leases, sent and finished times) is the machine's in the server, not the chat's: it runs
    on its own rather than for a request, as the inbox and outbox do; a test drives a runner with its own."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        line: LineGateway,
        content: Content,
        requests_per_second: float = 100.0,
        poll_seconds: float = 1.0,
        clock: Callable[[], dt.datetime] = utcnow,
        fault_point: FaultPoint = _no_fault,
    ) -> None:
        self._sessions = sessions
        self._line = line
        self._content = content
        self._interval = 1.0 / requests_per_second
        self._poll = poll_seconds
        self._clock = clock
        self._fault = fault_point
        self.name = f"broadcast-{secrets.token_hex(4)}"
        self._last_request = 0.0

    async def run_forever(self, stopping: Stopping) -> None:
        while not stopping.requested:
            try:
                worked = await self.run_once()
            except Exception:
                log.exception("broadcast job failed; it resumes when its lease runs out")
                worked = False
            if not worked and await stopping.sleep(self._poll):
                return

    async def run_once(self) -> bool:
        """Claim one due job and run it to its end (or to a pause after failures); False when none is due."""
        job_id = await self._claim()
        if job_id is None:
            return False
        await self._materialise(job_id)
        await self._send_chunks(job_id)
        return True

    async def run_until_idle(self, timeout: float = 30.0) -> None:
        """For tests and the command line: run every job that is due now, then return."""
        async with asyncio.timeout(timeout):
            while await self.run_once():
                pass

    async def _claim(self) -> int | None:
        now = self._clock()
        async with self._sessions() as session, session.begin():
            job_id = await session.scalar(
                select(BroadcastJob.id)
                .where(
                    or_(
                        (BroadcastJob.status == SendingState.SCHEDULED) & (BroadcastJob.run_at <= now),
                        (BroadcastJob.status == SendingState.RUNNING) & (BroadcastJob.lease_until < now),
                    )
                )
                .order_by(BroadcastJob.run_at)
                .limit(1)
                .with_for_update(skip_locked=True)
            )
            if job_id is None:
                return None
            await session.execute(
                update(BroadcastJob)
                .where(BroadcastJob.id == job_id)
                .values(
                    status=SendingState.RUNNING,
                    leased_by=self.name,
                    lease_until=now + LEASE,
                    started_at=func.coalesce(BroadcastJob.started_at, now),
                )
            )
        return int(job_id)

    async def _materialise(self, job_id: int) -> None:
        """Write the audience down as chunks, once: a resumed job keeps the chunks it had."""
        async with self._sessions() as session, session.begin():
            if await session.scalar(select(BroadcastChunk.id).where(BroadcastChunk.job_id == job_id).limit(1)):
                return
            job = await session.get(BroadcastJob, job_id)
            hearing = await session.get(Hearing, job.hearing_id) if job else None
            if job is None or hearing is None:
                return
            if job.mode == "broadcast":
                # LINE sends to every friend; our count of followers is what the report can say.
                size = await audience_size(session, hearing, "announce")
                session.add(_chunk(job_id, 0, [], size))
                job.recipients = size
                return
            users = list(await session.scalars(audience_statement(hearing, job.kind)))
            for seq, start in enumerate(range(0, len(users), CHUNK_SIZE)):
                part = users[start : start + CHUNK_SIZE]
                session.add(_chunk(job_id, seq, part, len(part)))
            job.recipients = len(users)
        await self._fault("after-materialise")

    async def _send_chunks(self, job_id: int) -> None:
        async with self._sessions() as session:
            job = await session.get(BroadcastJob, job_id)
            hearing = await session.get(Hearing, job.hearing_id) if job else None
        if job is None or hearing is None:
            return
        messages = message_for(self._content, hearing, job)
        check_messages(messages)
        while True:
            async with self._sessions() as session, session.begin():
                chunk = await session.scalar(
                    select(BroadcastChunk)
                    .where(
                        BroadcastChunk.job_id == job_id,
                        BroadcastChunk.status.in_((ChunkStatus.PENDING, ChunkStatus.SENDING)),
                    )
                    .order_by(BroadcastChunk.seq)
                    .limit(1)
                )
                if chunk is None:
                    await self._finish(session, job_id)
                    return
                chunk.status, chunk.attempts = ChunkStatus.SENDING, chunk.attempts + 1
                await session.execute(
                    update(BroadcastJob).where(BroadcastJob.id == job_id).values(lease_until=self._clock() + LEASE)
                )
            await self._fault("before-request")
            outcome = await self._request(job.mode, chunk, messages)
            await self._fault("after-request")
            async with self._sessions() as session, session.begin():
                stored = await session.get(BroadcastChunk, chunk.id)
                assert stored is not None
                if outcome is None:
                    stored.status, stored.sent_at = ChunkStatus.SENT, self._clock()
                    await session.execute(
                        update(BroadcastJob)
                        .where(BroadcastJob.id == job_id)
                        .values(sent=BroadcastJob.sent + stored.size)
                    )
                    continue
                stored.last_error = str(outcome)[:200]
                if outcome.retryable and stored.attempts < MAX_CHUNK_ATTEMPTS:
                    # Leave it 'sending' (same key next time) and let the job rest before trying again.
                    await session.execute(
                        update(BroadcastJob)
                        .where(BroadcastJob.id == job_id)
                        .values(lease_until=self._clock() + BACKOFF)
                    )
                    log.warning("broadcast paused after a failure", extra={"job": job_id, "status": outcome.status})
                    return
                stored.status = ChunkStatus.FAILED
                await session.execute(
                    update(BroadcastJob)
                    .where(BroadcastJob.id == job_id)
                    .values(failed=BroadcastJob.failed + stored.size)
                )

    async def _request(self, mode: str, chunk: BroadcastChunk, messages: list[WireMessage]) -> LineSendError | None:
        """One paced request; None when LINE accepted it (now or, 409, before)."""
        loop = asyncio.get_running_loop()
        wait = self._last_request + self._interval - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
        self._last_request = loop.time()
        try:
            if mode == "broadcast":
                await self._line.broadcast(messages, chunk.retry_key)
            else:
                await self._line.multicast(json.loads(chunk.recipients), messages, chunk.retry_key)
        except LineSendError as exc:
            return exc
        return None

    async def _finish(self, session: AsyncSession, job_id: int) -> None:
        await session.execute(
            update(BroadcastJob)
            .where(BroadcastJob.id == job_id)
            .values(status=SendingState.DONE, finished_at=self._clock(), leased_by=None, lease_until=None)
        )


def _chunk(job_id: int, seq: int, recipients: list[str], size: int) -> BroadcastChunk:
    return BroadcastChunk(
        job_id=job_id,
        seq=seq,
        recipients=json.dumps(recipients),
        size=size,
        retry_key=str(uuid.uuid4()),
        status=ChunkStatus.PENDING,
        attempts=0,
    )
