"""What became of opinions: staff set an outcome, and residents who want to hear are told in the chat
("ความคิดเห็นของคุณเรื่อง... ได้บรรจุในแผน..."). Functions take a session and never create one."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.content import Content
from bot.db.models import Opinion, OpinionChange, Resident, utcnow
from bot.inbox import queue_messages
from bot.messages import MessageBuilder
from bot.nlp.normalize import clean_text
from bot.references import stored_reference
from bot.reports import ensure_lane

# The outcome, and whether it needs a detail: the project's name, the agency, or the reason.
OUTCOMES = {"considering": False, "in_plan": True, "forwarded": True, "rejected": True}
SUMMARY_CHARS = 60
DETAIL_UNITS = 1000


class UnknownOpinion(LookupError):
    pass


async def set_outcome(
    session: AsyncSession, content: Content, reference: str, outcome: str, detail: str | None, by: str
) -> Opinion:
    """Record the outcome and queue the push (if the resident still follows and has not opted out)."""
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}")
    detail = clean_text(detail or "", DETAIL_UNITS) or None  # it goes to the resident, and into exports
    if OUTCOMES[outcome] and not detail:
        raise ValueError(f"outcome '{outcome}' needs a detail (project, agency or reason)")
    opinion = await find(session, reference)
    _record(session, opinion, "status", opinion.status, outcome, by)
    if detail != opinion.outcome_detail:
        _record(session, opinion, "outcome_detail", opinion.outcome_detail, detail, by)
    opinion.status, opinion.outcome_detail, opinion.outcome_by, opinion.outcome_at = outcome, detail, by, utcnow()
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
    stored = stored_reference("opinion", reference)
    opinion = await session.scalar(select(Opinion).where(Opinion.reference == stored)) if stored else None
    if opinion is None or opinion.status == "withdrawn":
        raise UnknownOpinion(reference)
    return opinion


def _record(session: AsyncSession, opinion: Opinion, field: str, old: str | None, new: str | None, by: str) -> None:
    session.add(OpinionChange(opinion_id=opinion.id, field=field, old=old, new=new, changed_by=by, changed_at=utcnow()))


async def correct_category(session: AsyncSession, content: Content, reference: str, category: str, by: str) -> Opinion:
    """Staff file the opinion under another plan category; the suggestion it had stays on record."""
    if category not in content.categories:
        raise ValueError(f"category must be one of {', '.join(content.categories)}")
    opinion = await find(session, reference)
    if opinion.category != category:
        _record(session, opinion, "category", opinion.category, category, by)
        opinion.category = category
    return opinion


async def set_plan_project(session: AsyncSession, reference: str, project: str | None, by: str) -> Opinion:
    """Link the opinion to a project in the plan (its name or number), or unlink it with None."""
    return await _set_text(session, reference, "plan_project", project, 200, by)


async def set_staff_note(session: AsyncSession, reference: str, note: str | None, by: str) -> Opinion:
    """A note for colleagues; residents never see it."""
    return await _set_text(session, reference, "staff_note", note, 4000, by)


async def _set_text(
    session: AsyncSession, reference: str, field: str, value: str | None, limit: int, by: str
) -> Opinion:
    """A free-text field staff keep on an opinion, cleaned as residents' text is (no control, zero-width or
    bidi characters: an export must show what the page shows) and capped; the change goes into its history."""
    opinion = await find(session, reference)
    value = clean_text(value or "", limit) or None
    old = getattr(opinion, field)
    if old != value:
        _record(session, opinion, field, old, value, by)
        setattr(opinion, field, value)
    return opinion


async def history(session: AsyncSession, opinion_id: int) -> list[OpinionChange]:
    rows = await session.scalars(
        select(OpinionChange).where(OpinionChange.opinion_id == opinion_id).order_by(OpinionChange.id)
    )
    return list(rows)
