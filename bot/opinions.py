"""What became of opinions: staff set an outcome, and residents who want to hear are told in the chat
("ความคิดเห็นของคุณเรื่อง... ได้บรรจุในแผน..."). Functions take a session and never create one."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.content import Content
from bot.db.models import Opinion, Resident, utcnow
from bot.inbox import queue_messages
from bot.messages import MessageBuilder
from bot.reports import ensure_lane

# The outcome, and whether it needs a detail: the project's name, the agency, or the reason.
OUTCOMES = {"considering": False, "in_plan": True, "forwarded": True, "rejected": True}
SUMMARY_CHARS = 60


class UnknownOpinion(LookupError):
    pass


async def set_outcome(
    session: AsyncSession, content: Content, reference: str, outcome: str, detail: str | None, by: str
) -> Opinion:
    """Record the outcome and queue the push (if the resident still follows and has not opted out)."""
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}")
    if OUTCOMES[outcome] and not (detail and detail.strip()):
        raise ValueError(f"outcome '{outcome}' needs a detail (project, agency or reason)")
    opinion = await session.scalar(select(Opinion).where(Opinion.reference == reference))
    if opinion is None or opinion.status == "withdrawn":
        raise UnknownOpinion(reference)
    opinion.status, opinion.outcome_detail, opinion.outcome_by, opinion.outcome_at = outcome, detail, by, utcnow()
    resident = await session.get(Resident, opinion.resident_id) if opinion.resident_id else None
    if resident is not None and resident.followed and resident.notify:
        summary = opinion.text.split("\n")[0]
        summary = summary if len(summary) <= SUMMARY_CHARS else summary[: SUMMARY_CHARS - 1] + "…"
        message = MessageBuilder(content).text(
            f"opinion_outcome_{outcome}", reference=reference, summary=summary, detail=detail or ""
        )
        await ensure_lane(session, resident.line_user_id)
        queue_messages(session, resident.line_user_id, [message])
    return opinion
