"""Staff accounts: roles, password hashing (argon2id, off the event loop) and sign-in with throttling."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import LoginFailure, StaffUser, utcnow

# SECURITY.md item 13: argon2id with at least 19 MiB of memory, two passes, one lane.
HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# Verified when the username is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = HASHER.hash("not a password anyone has")

# What each role may do; roles grow by adding capabilities, never by special cases in handlers.
ROLES: dict[str, frozenset[str]] = {
    "viewer": frozenset({"view"}),
    "exporter": frozenset({"view", "triage", "export"}),
    "broadcaster": frozenset({"view", "triage", "export", "broadcast"}),
    "admin": frozenset({"view", "triage", "export", "broadcast", "admin"}),
}
MIN_PASSWORD_LENGTH = 10
# Failed sign-ins counted over this window; past the limits, sign-in waits until old failures age out.
THROTTLE_WINDOW = dt.timedelta(minutes=15)
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_ADDRESS = 20


class AccountError(ValueError):
    pass


@dataclass(frozen=True)
class SignIn:
    """The result of a sign-in attempt: the user, or why not (never shown to the person as such)."""

    user: StaffUser | None
    throttled: bool = False


async def hash_password(password: str) -> str:
    """About 100 ms of work: run in a thread so the server keeps answering meanwhile."""
    return await asyncio.to_thread(HASHER.hash, password)


async def _verify(password_hash: str, password: str) -> bool:
    def check() -> bool:
        try:
            return HASHER.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(check)


def check_new_account(username: str, role: str, password: str) -> None:
    if not username or len(username) > 64 or not username.replace(".", "").replace("_", "").isalnum():
        raise AccountError("username: letters, digits, '.' and '_' only, at most 64")
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"password must be at least {MIN_PASSWORD_LENGTH} characters")


async def add_user(session: AsyncSession, username: str, role: str, password: str) -> StaffUser:
    check_new_account(username, role, password)
    if await session.scalar(select(StaffUser.id).where(StaffUser.username == username)) is not None:
        raise AccountError(f"user {username} already exists")
    user = StaffUser(username=username, role=role, password_hash=await hash_password(password), active=True)
    session.add(user)
    await session.flush()
    return user


async def sign_in(session: AsyncSession, username: str, password: str, address: str) -> SignIn:
    """Check the password unless this account or address has failed too often lately; record failures."""
    since = utcnow() - THROTTLE_WINDOW
    by_account = await session.scalar(
        select(func.count()).where(LoginFailure.username == username[:64], LoginFailure.at >= since)
    )
    by_address = await session.scalar(
        select(func.count()).where(LoginFailure.address == address[:64], LoginFailure.at >= since)
    )
    if (by_account or 0) >= MAX_FAILURES_PER_ACCOUNT or (by_address or 0) >= MAX_FAILURES_PER_ADDRESS:
        session.add(LoginFailure(username=username[:64], address=address[:64], at=utcnow()))
        return SignIn(None, throttled=True)
    user = await session.scalar(select(StaffUser).where(StaffUser.username == username, StaffUser.active))
    valid = await _verify(user.password_hash if user else _DUMMY_HASH, password)
    if user is None or not valid:
        session.add(LoginFailure(username=username[:64], address=address[:64], at=utcnow()))
        return SignIn(None)
    user.last_login_at = utcnow()
    if HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = await hash_password(password)
    return SignIn(user)
