"""Staff accounts: roles, password hashing (argon2id, off the event loop and outside any transaction) and the
database side of sign-in: failures counted per account and address across processes."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.models import LoginFailure, StaffUser, utcnow

# docs/security.md#staff-sign-in-and-sessions: argon2id with at least 19 MiB of memory, two passes, one lane.
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
# Rows of login_failure are of use to the throttle for THROTTLE_WINDOW; a day's are kept to look into.
KEEP_FAILURES = dt.timedelta(days=1)


class AccountError(ValueError):
    pass


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


@dataclass(frozen=True)
class Checked:
    """What check_password found: the account whose password matched (its id), or why not, and the attempt it
    recorded (taken back when the sign-in completes)."""

    user_id: int | None
    attempt_id: int | None = None
    throttled: bool = False
    new_hash: str | None = None


def _lock_key(kind: str, value: str) -> int:
    digest = hashlib.blake2b(f"staff-sign-in:{kind}:{value}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


async def check_password(
    sessions: async_sessionmaker[AsyncSession], username: str, password: str, address: str
) -> Checked:
    """Counts this account's and address's recent failures and records the attempt in one short transaction
    (serialised per account and address on PostgreSQL, so concurrent attempts from several processes cannot
    all read the same count), then verifies the password with no transaction or connection held: with
    SQLite's single connection, a transaction held through argon2 would hold up the webhook's intake."""
    username, address = username[:64], address[:64]
    since = utcnow() - THROTTLE_WINDOW
    async with sessions() as session, session.begin():
        if session.get_bind().dialect.name == "postgresql":
            for key in sorted({_lock_key("account", username), _lock_key("address", address)}):
                await session.execute(select(func.pg_advisory_xact_lock(key)))
        by_account = await session.scalar(
            select(func.count()).where(LoginFailure.username == username, LoginFailure.at >= since)
        )
        by_address = await session.scalar(
            select(func.count()).where(LoginFailure.address == address, LoginFailure.at >= since)
        )
        if (by_account or 0) >= MAX_FAILURES_PER_ACCOUNT or (by_address or 0) >= MAX_FAILURES_PER_ADDRESS:
            return Checked(None, throttled=True)
        user = await session.scalar(select(StaffUser).where(StaffUser.username == username, StaffUser.active))
        user_id, password_hash = (user.id, user.password_hash) if user else (None, _DUMMY_HASH)
        # Counted as a failure until the sign-in completes, so attempts under way count as well.
        attempt = LoginFailure(username=username, address=address, at=utcnow())
        session.add(attempt)
        await session.flush()
        attempt_id = attempt.id
    if not await _verify(password_hash, password) or user_id is None:
        return Checked(None, attempt_id)
    new_hash = await hash_password(password) if HASHER.check_needs_rehash(password_hash) else None
    return Checked(user_id, attempt_id, new_hash=new_hash)


async def complete_sign_in(session: AsyncSession, checked: Checked) -> StaffUser | None:
    """The account whose password check_password accepted, unless it was disabled meanwhile; the attempt no
    longer counts as a failure."""
    if checked.attempt_id is not None:
        await session.execute(delete(LoginFailure).where(LoginFailure.id == checked.attempt_id))
    user = await session.get(StaffUser, checked.user_id) if checked.user_id is not None else None
    if user is None or not user.active:
        return None
    user.last_login_at = utcnow()
    if checked.new_hash is not None:
        user.password_hash = checked.new_hash
    return user


async def purge_login_failures(session: AsyncSession, now: dt.datetime) -> int:
    """Failures older than KEEP_FAILURES count for nothing any more (the audit log keeps the record)."""
    result = await session.execute(delete(LoginFailure).where(LoginFailure.at < now - KEEP_FAILURES))
    return int(getattr(result, "rowcount", 0) or 0)
