"""Problem reports after they are filed: status changes by staff, each pushed to the resident who reported,
and the rating or reopening that follows 'done'. Used by the chat, the command line and (later) the staff
workspace; functions take a session and never create one."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.chat.dispatch import remember_pushed
from bot.chat.messages import MessageBuilder, WireMessage, postback_chip
from bot.chat.postbacks import RatingDo, ReportRating
from bot.content import Content
from bot.db.models import EventLane, Report, ReportStatus, Resident
from bot.db.statuses import ReportState
from bot.delivery.intake import dialect_insert
from bot.delivery.outbox import queue_messages
from bot.nlp.normalize import clean_text
from bot.references import stored_reference

STATUSES = tuple(ReportState)
NOTE_UNITS = 1000
RATINGS = range(1, 6)


class UnknownReport(LookupError):
    pass


async def find(session: AsyncSession, reference: str) -> Report:
    """The report a reference names in any typed form ('ร-2569-00001', '2569-00001', Thai digits); an
    opinion's reference ('ค-...') names none."""
    stored = stored_reference("report", reference)
    report = await session.scalar(select(Report).where(Report.reference == stored)) if stored else None
    if report is None:
        raise UnknownReport(reference)
    return report


async def change_status(
    session: AsyncSession,
    content: Content,
    reference: str,
    status: str,
    note: str | None,
    changed_by: str,
    *,
    at: dt.datetime,
) -> Report:
    """Record a new status with its history row, and queue a push to the resident (if they still follow
    and have not opted out). The push leaves with the commit, through the outbox."""
    if status not in STATUSES:
        raise ValueError(f"status must be one of {', '.join(STATUSES)}")
    status = ReportState(status)
    note = clean_text(note or "", NOTE_UNITS) or None  # staff's free text, cleaned as residents' text is
    report = await find(session, reference)
    report.status, report.updated_at = status, at
    session.add(ReportStatus(report_id=report.id, status=status, note=note, changed_by=changed_by, changed_at=at))
    resident = await session.get(Resident, report.resident_id) if report.resident_id else None
    if resident is not None and resident.followed and resident.notify:
        await ensure_lane(session, resident.line_user_id)
        messages = status_messages(content, report, note)
        queue_messages(session, resident.line_user_id, messages)
        # Its rating chips typed ("5", "ยังไม่เรียบร้อย") act as taps, for residents on LINE for PC and Mac.
        await remember_pushed(session, resident.line_user_id, messages, at=at)
    return report


def status_messages(content: Content, report: Report, note: str | None) -> list[WireMessage]:
    builder = MessageBuilder(content)
    message = builder.text(
        "report_status_changed",
        reference=report.reference,
        status=content.report_statuses.get(report.status, report.status),
        note=note or "",
    )
    if report.status != ReportState.DONE:
        return [message]
    ask = builder.text("report_ask_rating")
    chips = [postback_chip(str(n), ReportRating(report.reference, stars=n).pack(), "⭐" * n) for n in RATINGS]
    reopen = content.phrases["chip_reopen"]
    chips.append(postback_chip(reopen, ReportRating(report.reference, do=RatingDo.REOPEN).pack(), reopen))
    ask["quickReply"] = {"items": chips}
    return [message, ask]


async def ensure_lane(session: AsyncSession, lane_key: str) -> None:
    """Messages owed outside any event need their chat's lane, which the inbox leases to send them."""
    insert = dialect_insert(session)
    await session.execute(insert(EventLane).values(lane_key=lane_key).on_conflict_do_nothing())


async def assign(
    session: AsyncSession, content: Content, reference: str, division_id: str, by: str, *, at: dt.datetime
) -> Report:
    """Hand the report to another division; the history says so (the resident is not pushed about it)."""
    divisions = {d.id: d for d in content.municipality.divisions}
    if division_id not in divisions:
        raise ValueError(f"division must be one of {', '.join(divisions)}")
    report = await find(session, reference)
    if report.division != division_id:
        report.division, report.updated_at = division_id, at
        note = content.phrases["report_assigned_note"].format(division=divisions[division_id].name)
        session.add(ReportStatus(report_id=report.id, status=report.status, note=note, changed_by=by, changed_at=at))
    return report
