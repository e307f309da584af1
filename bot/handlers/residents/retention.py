"""Keeping personal data no longer than the privacy notice says (content/privacy.yaml `retention_months`).

What is older than the period loses what identifies a person, and keeps what the municipality must count:
opinions and reports stay (their text is the public's input to the plan) but no longer point to a resident
and lose their map point; photos are erased (bot/delivery/photos.py removes the files); questions lose their text;
stored webhook payloads and sent messages go; answers to hearings long past go; residents who unfollowed
and have not been seen since go entirely. Run once a day by the worker; safe to run any number of times.
"""

from __future__ import annotations

import calendar
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.models import (
    Hearing,
    InboundEvent,
    OfferedChoice,
    Opinion,
    OutboundMessage,
    Photo,
    Report,
    Resident,
    Rsvp,
    ServiceQuery,
    utcnow,
)
from bot.db.statuses import EventStatus, OutboxStatus, PhotoStatus
from bot.delivery.background import Stopping
from bot.handlers.residents.rules import forget

log = logging.getLogger(__name__)
REDACTED = "{}"
RUN_EVERY = dt.timedelta(hours=24)


def months_before(moment: dt.datetime, months: int) -> dt.datetime:
    """The same day and time `months` calendar months earlier (the last day of a shorter month)."""
    month_index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(month_index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


@dataclass(frozen=True)
class Purged:
    opinions_unlinked: int
    reports_unlinked: int
    photos_erased: int
    questions_blanked: int
    events_redacted: int
    messages_deleted: int
    rsvps_deleted: int
    residents_deleted: int


def _count(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


async def purge(session: AsyncSession, now: dt.datetime, months: int) -> Purged:
    """Everything older than `months` before `now`, as the module docstring says."""
    cutoff = months_before(now, months)
    old_opinions = select(Opinion.id).where(Opinion.created_at < cutoff)
    old_reports = select(Report.id).where(Report.created_at < cutoff)
    photos = await session.execute(
        update(Photo)
        .where(
            Photo.status.in_((PhotoStatus.PENDING, PhotoStatus.STORED, PhotoStatus.FAILED)),
            or_(Photo.created_at < cutoff, Photo.opinion_id.in_(old_opinions), Photo.report_id.in_(old_reports)),
        )
        .values(status=PhotoStatus.ERASE)
    )
    opinions = await session.execute(
        update(Opinion)
        .where(Opinion.created_at < cutoff, or_(Opinion.resident_id.is_not(None), Opinion.latitude.is_not(None)))
        .values(resident_id=None, latitude=None, longitude=None)
    )
    reports = await session.execute(
        update(Report)
        .where(Report.created_at < cutoff, or_(Report.resident_id.is_not(None), Report.latitude.is_not(None)))
        .values(resident_id=None, latitude=None, longitude=None)
    )
    questions = await session.execute(
        update(ServiceQuery)
        .where(ServiceQuery.created_at < cutoff, or_(ServiceQuery.text != "", ServiceQuery.resident_id.is_not(None)))
        .values(text="", resident_id=None)
    )
    events = await session.execute(
        update(InboundEvent)
        .where(
            InboundEvent.received_at < cutoff,
            InboundEvent.status != EventStatus.PENDING,
            InboundEvent.payload != REDACTED,
        )
        .values(payload=REDACTED)
    )
    # The choices a chat was last offered count for half an hour (bot.chat.dispatch); a day on they are only clutter.
    await session.execute(delete(OfferedChoice).where(OfferedChoice.offered_at < now - dt.timedelta(days=1)))
    messages = await session.execute(
        delete(OutboundMessage).where(
            OutboundMessage.created_at < cutoff, OutboundMessage.status.in_((OutboxStatus.SENT, OutboxStatus.FAILED))
        )
    )
    rsvps = await session.execute(
        delete(Rsvp).where(Rsvp.hearing_id.in_(select(Hearing.id).where(Hearing.starts_at < cutoff)))
    )
    gone = list(
        await session.scalars(select(Resident).where(Resident.followed.is_(False), Resident.last_seen_at < cutoff))
    )
    for resident in gone:
        await forget(session, resident, resident.line_user_id)
    return Purged(
        opinions_unlinked=_count(opinions),
        reports_unlinked=_count(reports),
        photos_erased=_count(photos),
        questions_blanked=_count(questions),
        events_redacted=_count(events),
        messages_deleted=_count(messages),
        rsvps_deleted=_count(rsvps),
        residents_deleted=len(gone),
    )


class RetentionJob:
    """Runs purge() at start and then once a day; several processes running it at once do no harm."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        months: int,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self._sessions = sessions
        self._months = months
        self._clock = clock

    async def run_once(self) -> Purged:
        async with self._sessions() as session, session.begin():
            purged = await purge(session, self._clock(), self._months)
        log.info("retention purge", extra=asdict(purged))
        return purged

    async def run_forever(self, stopping: Stopping) -> None:
        while not stopping.requested:
            try:
                await self.run_once()
            except Exception:
                log.exception("retention purge failed; trying again tomorrow")
            if await stopping.sleep(RUN_EVERY.total_seconds()):
                return
