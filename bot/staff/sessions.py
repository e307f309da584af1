"""Server-side staff sessions (docs/security.md#staff-sign-in-and-sessions): a random cookie value, stored
only as a keyed hash; a new one at every sign-in; ended after 30 idle minutes or 8 hours, whichever comes
first."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import StaffSession, StaffUser, utcnow

# Touching last_seen_at on every request would write on every page view; a minute's precision is enough.
_TOUCH_EVERY = dt.timedelta(seconds=30)


@dataclass(frozen=True)
class SessionPolicy:
    key: bytes
    idle: dt.timedelta
    absolute: dt.timedelta

    def hash(self, token: str) -> str:
        return hmac.new(self.key, token.encode("ascii", "replace"), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class SignedIn:
    """The staff member behind a request."""

    user_id: int
    username: str
    role: str
    csrf_token: str


async def start(session: AsyncSession, policy: SessionPolicy, user: StaffUser) -> str:
    """A fresh session for this user; the returned token goes into the cookie and nowhere else."""
    token = secrets.token_urlsafe(32)
    # The machine's time, not the one clock staff actions are dated by: idle and absolute limits measure real
    # time between real requests (as the sign-in failure windows in accounts.py do).
    now = utcnow()
    session.add(
        StaffSession(
            id_hash=policy.hash(token),
            user_id=user.id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            last_seen_at=now,
        )
    )
    # Sessions that timed out are of no use to anyone: clear this user's while we are here.
    await session.execute(
        delete(StaffSession).where(StaffSession.user_id == user.id, StaffSession.last_seen_at < now - policy.idle)
    )
    return token


async def resume(session: AsyncSession, policy: SessionPolicy, token: str) -> SignedIn | None:
    """The signed-in staff member for this cookie, or None when it is unknown, timed out or disabled."""
    row = await session.execute(
        select(StaffSession, StaffUser)
        .join(StaffUser, StaffUser.id == StaffSession.user_id)
        .where(StaffSession.id_hash == policy.hash(token))
    )
    found = row.first()
    if found is None:
        return None
    stored, user = found
    now = utcnow()
    if not user.active or now - stored.last_seen_at > policy.idle or now - stored.created_at > policy.absolute:
        await session.delete(stored)
        return None
    if now - stored.last_seen_at > min(_TOUCH_EVERY, policy.idle / 4):
        stored.last_seen_at = now
    return SignedIn(user.id, user.username, user.role, stored.csrf_token)


async def end(session: AsyncSession, policy: SessionPolicy, token: str) -> None:
    await session.execute(delete(StaffSession).where(StaffSession.id_hash == policy.hash(token)))


async def end_all(session: AsyncSession, user_id: int) -> None:
    """Sign a user out everywhere (role changed, account disabled, password reset)."""
    await session.execute(delete(StaffSession).where(StaffSession.user_id == user_id))
