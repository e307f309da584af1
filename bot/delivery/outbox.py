"""The outbox: what handlers owe residents, queued in the handler's own transaction and sent after it commits.

Why a message is sent exactly once: its row commits with the handler's effects, so it exists only if they do.
Each row is marked 'sending' just before its own request leaves; a row found 'sending' after a crash may have
been delivered, and the retry is arranged so LINE itself refuses a second delivery (a push reuses its retry key;
a reply token works only once). A chat's messages go in order, one chat beside the other; a message backing
off holds back the later ones of its chat.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm.attributes import set_committed_value

from bot.db.models import EventLane, OutboundMessage, utcnow
from bot.db.statuses import OutboxStatus
from bot.delivery.groupcommit import GroupCommit
from bot.delivery.limits import MESSAGES_PER_REQUEST
from bot.delivery.line import LineGateway, LineLimitError, LineSendError, new_retry_key

log = logging.getLogger(__name__)

MAX_SEND_ATTEMPTS = 8
# LINE requests in flight at once from one worker.
SEND_CONCURRENCY = 32


def queue_messages(
    session: AsyncSession,
    to: str,
    messages: list[dict[str, Any]],
    reply_token: str | None = None,
    event_id: int | None = None,
) -> None:
    """Add outbox rows for messages (five per LINE request); only the first may use the reply token."""
    for start in range(0, len(messages), MESSAGES_PER_REQUEST):
        session.add(
            OutboundMessage(
                event_id=event_id,
                to=to,
                reply_token=reply_token if start == 0 else None,
                messages=json.dumps(messages[start : start + MESSAGES_PER_REQUEST], ensure_ascii=False),
                retry_key=new_retry_key(),
                status=OutboxStatus.PENDING,
                attempts=0,
                next_attempt_at=utcnow(),
            )
        )


class SendOutcome(StrEnum):
    """What one attempt at a row's request came to in this cycle (not stored: it decides the row's status)."""

    UNTRIED = "untried"  # an earlier message of its chat must go first
    SENT = "sent"
    RETRY = "retry"
    FAILED = "failed"


@dataclass
class _Attempt:
    """One outbox row being sent in this cycle."""

    row: OutboundMessage
    may_have_landed: bool
    outcome: SendOutcome = SendOutcome.UNTRIED
    via: str | None = None
    error: str | None = None
    token_dropped: bool = False
    reply_uncertain: bool = False


class Outbox:
    """Sends what the chats a worker holds are owed. `lanes_held(now)` selects the chats whose lease the worker
    still holds; `fault(point)` is the crash tests' hook (bot.delivery.inbox.Inbox.fault_point)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        line: LineGateway,
        lanes_held: Callable[[dt.datetime], Select[str]],
        fault: Callable[[str], None],
    ) -> None:
        self._sessions = sessions
        self._line = line
        self._lanes_held = lanes_held
        self._fault = fault
        # Outbox rows whose reply token LINE refused outright while the database could not record it (the
        # send left 'sending' with the token in place): the next try pushes, instead of reading 'sending' as
        # "the reply may have landed". Lost with the process, which then falls back to that reading.
        self._token_refused: set[int] = set()
        self._sending_marks: GroupCommit[int, set[int]] = GroupCommit(self._commit_sending, SEND_CONCURRENCY)

    async def deliver(self, session: AsyncSession, lanes: list[str]) -> None:
        """Send what the lanes are owed: each lane in order, the lanes side by side."""
        now = utcnow()
        async with session.begin():
            # Only chats this worker still holds: after a stall longer than the lease, another worker may
            # have taken the chat, and both sending its messages could answer twice.
            held = self._lanes_held(now).where(EventLane.lane_key.in_(lanes))
            rows = list(
                await session.scalars(
                    select(OutboundMessage)
                    .where(
                        OutboundMessage.to.in_(held),
                        OutboundMessage.status.in_((OutboxStatus.PENDING, OutboxStatus.SENDING)),
                    )
                    .order_by(OutboundMessage.to, OutboundMessage.id)
                )
            )
            per_lane: dict[str, list[_Attempt]] = defaultdict(list)
            waiting: set[str] = set()
            for row in rows:
                if row.to in waiting:
                    continue
                if row.next_attempt_at > now:
                    waiting.add(row.to)  # a message backing off holds back the later ones, to keep order
                    continue
                if row.attempts >= MAX_SEND_ATTEMPTS:
                    row.status = OutboxStatus.FAILED
                    log.error("send abandoned", extra={"outbound": row.id, "attempts": row.attempts})
                    continue
                if row.id in self._token_refused:
                    self._token_refused.discard(row.id)
                    row.reply_token = None
                # Left 'sending' by a crash, or an earlier reply went unanswered: it may have been delivered
                # (read only while the send still has a reply token).
                doubt = row.status == OutboxStatus.SENDING or row.reply_uncertain
                per_lane[row.to].append(_Attempt(row, may_have_landed=doubt))
        attempts = [a for lane in per_lane.values() for a in lane]
        if not attempts:
            return
        limit = asyncio.Semaphore(SEND_CONCURRENCY)

        async def send_lane(lane: list[_Attempt]) -> None:
            for attempt in lane:
                async with limit:
                    self._fault("before-sending")
                    if not await self._mark_sending(attempt.row):
                        return  # the chat is no longer ours (or the database is away): send nothing
                    self._fault("sending")
                    await self._send(attempt)
                if attempt.outcome == SendOutcome.RETRY:
                    return  # later messages wait, so the resident never reads them out of order

        await asyncio.gather(*(send_lane(lane) for lane in per_lane.values()))
        async with session.begin():
            for attempt in attempts:
                self._record(attempt)

    async def _mark_sending(self, row: OutboundMessage) -> bool:
        """Commit 'sending' for one row just before its request leaves; False when it must not be sent.

        Marked one by one (many per commit) rather than the whole batch up front: a row found 'sending' after
        a crash is read as "may have been delivered", and with an expired token that answer is withheld, so
        only rows whose request really left may carry it.
        """
        try:
            ours = await self._sending_marks.submit(row.id)
        except Exception as exc:
            log.warning("could not mark a send", extra={"outbound": row.id, "error": type(exc).__name__})
            return False
        if row.id not in ours:
            return False
        # What the database now holds, without making the row dirty (this session is between transactions).
        set_committed_value(row, "status", OutboxStatus.SENDING)
        set_committed_value(row, "attempts", row.attempts + 1)
        return True

    async def _commit_sending(self, ids: list[int]) -> set[int]:
        # The lease is checked again here, right before the requests, which narrows the window in which a
        # worker that stalled past its lease could send beside the worker that took the chat over.
        async with self._sessions() as session, session.begin():
            marked = await session.scalars(
                update(OutboundMessage)
                .where(OutboundMessage.id.in_(ids), OutboundMessage.to.in_(self._lanes_held(utcnow())))
                .values(status=OutboxStatus.SENDING, attempts=OutboundMessage.attempts + 1)
                .returning(OutboundMessage.id)
            )
            return set(marked)

    async def _send(self, attempt: _Attempt) -> None:
        row = attempt.row

        async def forget_token() -> None:
            # Persisted at once: from here this send is a push, whose retry key makes retries safe.
            attempt.token_dropped = True
            self._token_refused.add(row.id)
            self._fault("token-refused")
            async with self._sessions() as other, other.begin():
                await other.execute(
                    update(OutboundMessage).where(OutboundMessage.id == row.id).values(reply_token=None)
                )
            self._token_refused.discard(row.id)

        try:
            result = await self._line.reply_or_push(
                row.to,
                row.reply_token,
                json.loads(row.messages),
                row.retry_key,
                reply_may_have_landed=attempt.may_have_landed,
                on_fallback=forget_token,
            )
        except LineSendError as exc:
            attempt.error = str(exc)[:200]
            attempt.reply_uncertain = exc.what == "reply" and exc.may_have_landed
            attempt.outcome = (
                SendOutcome.RETRY if exc.retryable and row.attempts < MAX_SEND_ATTEMPTS else SendOutcome.FAILED
            )
            log.warning(
                "send failed",
                extra={"outbound": row.id, "status": exc.status, "will_retry": attempt.outcome == SendOutcome.RETRY},
            )
            return
        except LineLimitError as exc:
            attempt.outcome, attempt.error = SendOutcome.FAILED, str(exc)[:200]
            log.error("message over LINE's limits", extra={"outbound": row.id})
            return
        self._fault("sent")
        attempt.outcome, attempt.via = SendOutcome.SENT, result.via

    @staticmethod
    def _record(attempt: _Attempt) -> None:
        row = attempt.row
        if attempt.token_dropped:
            row.reply_token = None
        row.reply_uncertain = row.reply_uncertain or attempt.reply_uncertain
        if attempt.outcome == SendOutcome.SENT:
            row.status, row.sent_at, row.sent_via = OutboxStatus.SENT, utcnow(), attempt.via
        elif attempt.outcome == SendOutcome.RETRY:
            row.status, row.last_error = OutboxStatus.PENDING, attempt.error
            row.next_attempt_at = utcnow() + dt.timedelta(seconds=min(300, 2**row.attempts))
        elif attempt.outcome == SendOutcome.FAILED:
            row.status, row.last_error = OutboxStatus.FAILED, attempt.error
        # Otherwise never tried (an earlier message of the lane must go first): the row was left as it was.
