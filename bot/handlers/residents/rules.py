"""Resident records: who follows the account, and the keyed pseudonym staff see instead of the LINE id."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import (
    ChatContext,
    ConversationState,
    OfferedChoice,
    Opinion,
    Report,
    Resident,
    Rsvp,
    ServiceQuery,
    utcnow,
)


def pseudonym_for(key: str, line_user_id: str) -> str:
    """A stable id per resident that cannot be turned back into the LINE id without the key."""
    return hmac.new(key.encode("utf-8"), line_user_id.encode("utf-8"), hashlib.sha256).hexdigest()[:32]


async def touch_resident(
    session: AsyncSession,
    line_user_id: str,
    pseudonym_key: str,
    known: dict[str, Resident] | None = None,
    now: dt.datetime | None = None,
) -> Resident:
    """The resident for this LINE user, created on first contact, with last_seen_at updated (to `now`, the
    chat's clock).

    known: residents already loaded for this batch (a miss there means none exists yet).
    """
    if known is not None:
        resident = known.get(line_user_id)
    else:
        resident = await session.scalar(select(Resident).where(Resident.line_user_id == line_user_id))
    now = now or utcnow()
    if resident is None:
        # Someone who writes to us follows the account, even if the follow event predates the bot.
        resident = Resident(
            line_user_id=line_user_id,
            pseudonym=pseudonym_for(pseudonym_key, line_user_id),
            followed=True,
            followed_at=now,
            created_at=now,
            last_seen_at=now,
        )
        session.add(resident)
        # First contact only: written now, so what this event stores can point to the resident's id.
        await session.flush()
        if known is not None:
            known[line_user_id] = resident
    else:
        resident.last_seen_at = now
    return resident


async def forget(session: AsyncSession, resident: Resident, lane: str) -> None:
    """What erasing a person removes, whether they asked (ข้อมูลของฉัน) or left long ago (retention): their
    opinions and reports stay, pointing to no one; their questions lose their text; their answers to
    hearings, the chat's context, conversation state and the choices last offered go, and so does the resident
    record."""
    await session.execute(update(Opinion).where(Opinion.resident_id == resident.id).values(resident_id=None))
    await session.execute(update(Report).where(Report.resident_id == resident.id).values(resident_id=None))
    await session.execute(
        update(ServiceQuery).where(ServiceQuery.resident_id == resident.id).values(resident_id=None, text="")
    )
    await session.execute(delete(Rsvp).where(Rsvp.resident_id == resident.id))
    await session.execute(delete(ChatContext).where(ChatContext.lane_key == lane))
    await session.execute(delete(ConversationState).where(ConversationState.lane_key == lane))
    await session.execute(delete(OfferedChoice).where(OfferedChoice.lane_key == lane))
    await session.execute(delete(Resident).where(Resident.id == resident.id))
