"""What became of opinions: staff set an outcome, and residents who want to hear are told in the chat
("ความคิดเห็นของคุณเรื่อง... ได้บรรจุในแผน..."). Functions take a session and never create one."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.chat.messages import MessageBuilder
from bot.content import Content
from bot.db.models import Opinion, OpinionChange, Resident
from bot.db.statuses import OpinionStatus
from bot.delivery.outbox import queue_messages
from bot.handlers.reports.rules import ensure_lane
from bot.nlp.normalize import clean_text
from bot.references import stored_reference

# The outcome, and whether it needs a detail: the project's name, the agency, or the reason.
OUTCOMES = {
    OpinionStatus.CONSIDERING: False,
    OpinionStatus.IN_PLAN: True,
    OpinionStatus.FORWARDED: True,
    OpinionStatus.REJECTED: True,
}
SUMMARY_CHARS = 60
DETAIL_UNITS = 1000
# Who a change made by the opinion's own author is recorded as: the same word ReportStatus and the audit log
# use for what residents do themselves (staff usernames are theirs; a resident has none here, by design).
BY_RESIDENT = "resident"


class UnknownOpinion(LookupError):
    pass


class WithdrawnOpinion(UnknownOpinion):
    """Its author took it back: staff see it but may not change it (still an UnknownOpinion to those who act)."""


async def set_outcome(
    session: AsyncSession,
    content: Content,
    reference: str,
    outcome: str,
    detail: str | None,
    by: str,
    *,
    at: dt.datetime,
) -> Opinion:
    """Record the outcome and queue the push (if the resident still follows and has not opted out)."""
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}")
    outcome = OpinionStatus(outcome)
    detail = clean_text(detail or "", DETAIL_UNITS) or None  # it goes to the resident, and into exports
    if OUTCOMES[outcome] and not detail:
        raise ValueError(f"outcome '{outcome}' needs a detail (project, agency or reason)")
    opinion = await find(session, reference)
    _record(session, opinion, "status", opinion.status, outcome, by, at)
    if detail != opinion.outcome_detail:
        _record(session, opinion, "outcome_detail", opinion.outcome_detail, detail, by, at)
    opinion.status, opinion.outcome_detail, opinion.outcome_by, opinion.outcome_at = outcome, detail, by, at
    resident = await session.get(Resident, opinion.resident_id) if opinion.resident_id else None
    if resident is not None and resident.followed and resident.notify:
        summary = opinion.text.split("\n")[0]
        summary = summary if len(summary) <= SUMMARY_CHARS else summary[: SUMMARY_CHARS - 1] + "…"
        message = MessageBuilder(content).text(
            f"opinion_outcome_{outcome}", reference=opinion.reference, summary=summary, detail=detail or ""
        )
        await ensure_lane(session, resident.line_user_id)
        queue_messages(session, resident.line_user_id, [message])
    return opinion


async def find(session: AsyncSession, reference: str) -> Opinion:
    """The opinion staff may work on (withdrawn ones were taken back by their authors), named by its reference
    in any typed form ('ค-2569-00001', '2569-00001', Thai digits); a report's reference ('ร-...') names none."""
    opinion = await find_to_view(session, reference)
    if opinion.status == OpinionStatus.WITHDRAWN:
        raise WithdrawnOpinion(reference)
    return opinion


async def find_to_view(session: AsyncSession, reference: str) -> Opinion:
    """The opinion the reference names, withdrawn ones included: what staff may look at (issue 16 item 12)."""
    stored = stored_reference("opinion", reference)
    opinion = await session.scalar(select(Opinion).where(Opinion.reference == stored)) if stored else None
    if opinion is None:
        raise UnknownOpinion(reference)
    return opinion


def record_withdrawal(session: AsyncSession, opinion: Opinion, at: dt.datetime) -> None:
    """The resident takes the opinion back (at `at`, the chat's clock): when goes into its history as a status
    change by the resident.

    A history row rather than a withdrawn_at column: opinion_change already is the record of every status an
    opinion went through and when (the resident's own case history and the staff page read it), so the
    withdrawal is one more row of it and needs no migration. It holds the two statuses only, never the text,
    which the caller erases (PDPA: a withdrawn opinion keeps nothing of what was written)."""
    _record(session, opinion, "status", opinion.status, OpinionStatus.WITHDRAWN, BY_RESIDENT, at)
    opinion.status = OpinionStatus.WITHDRAWN


def withdrawn_at(changes: Sequence[OpinionChange]) -> dt.datetime | None:
    """When the opinion was withdrawn, from its history (None for withdrawals made before it was recorded)."""
    moments = [c.changed_at for c in changes if c.field == "status" and c.new == OpinionStatus.WITHDRAWN]
    return moments[-1] if moments else None


def _record(
    session: AsyncSession,
    opinion: Opinion,
    field: str,
    old: str | None,
    new: str | None,
    by: str,
    at: dt.datetime,
) -> None:
    session.add(OpinionChange(opinion_id=opinion.id, field=field, old=old, new=new, changed_by=by, changed_at=at))


async def correct_category(
    session: AsyncSession, content: Content, reference: str, category: str, by: str, *, at: dt.datetime
) -> Opinion:
    """Staff file the opinion under another plan category; the suggestion it had stays on record."""
    if category not in content.categories:
        raise ValueError(f"category must be one of {', '.join(content.categories)}")
    opinion = await find(session, reference)
    if opinion.category != category:
        _record(session, opinion, "category", opinion.category, category, by, at)
        opinion.category = category
    return opinion


async def set_plan_project(
    session: AsyncSession, reference: str, project: str | None, by: str, *, at: dt.datetime
) -> Opinion:
    """Link the opinion to a project in the plan (its name or number), or unlink it with None."""
    return await _set_text(session, reference, "plan_project", project, 200, by, at)


async def set_staff_note(
    session: AsyncSession, reference: str, note: str | None, by: str, *, at: dt.datetime
) -> Opinion:
    """A note for colleagues; residents never see it."""
    return await _set_text(session, reference, "staff_note", note, 4000, by, at)


async def _set_text(
    session: AsyncSession, reference: str, field: str, value: str | None, limit: int, by: str, at: dt.datetime
) -> Opinion:
    """A free-text field staff keep on an opinion, cleaned as residents' text is (no control, zero-width or
    bidi characters: an export must show what the page shows) and capped; the change goes into its history."""
    opinion = await find(session, reference)
    value = clean_text(value or "", limit) or None
    old = getattr(opinion, field)
    if old != value:
        _record(session, opinion, field, old, value, by, at)
        setattr(opinion, field, value)
    return opinion


async def history(session: AsyncSession, opinion_id: int) -> list[OpinionChange]:
    rows = await session.scalars(
        select(OpinionChange).where(OpinionChange.opinion_id == opinion_id).order_by(OpinionChange.id)
    )
    return list(rows)
