"""The statuses the bot stores, one StrEnum per kind of status column. The columns stay strings (no database
enum, no migration): a member is a str, so what is written and read is exactly the words below, and a row
read back compares equal to its member. Code compares, assigns and queries statuses through these members
only (tests/test_statuses.py fails on a bare literal); content words every member a person reads
(`content check` names the file and line of a status without its Thai words).

This module imports nothing of bot/, so content checks may name the statuses without loading the models.
Migrations keep their own literals: a migration must not change when code changes."""

from __future__ import annotations

from enum import StrEnum


class EventStatus(StrEnum):
    """bot.db.models.InboundEvent.status: a webhook event waiting for its handler, handled, or given up."""

    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


class OutboxStatus(StrEnum):
    """bot.db.models.OutboundMessage.status: a message the bot owes, on its way, delivered, or abandoned.
    'sending' is committed just before the request leaves: found after a crash, it may have been delivered."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class OpinionStatus(StrEnum):
    """bot.db.models.Opinion.status: received, taken back by its author, or the outcome staff set."""

    RECEIVED = "received"
    CONSIDERING = "considering"
    IN_PLAN = "in_plan"
    FORWARDED = "forwarded"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class ReportState(StrEnum):
    """bot.db.models.Report.status and ReportStatus.status (a report's history): what staff did about a
    problem a resident reported. A report is 'done' before it can be rated, and reopened from there."""

    RECEIVED = "received"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    FORWARDED = "forwarded"
    REOPENED = "reopened"


class PhotoStatus(StrEnum):
    """bot.db.models.Photo.status: waiting to be fetched from LINE, stored, given up, marked for erasure (the
    photo worker deletes the file), or deleted."""

    PENDING = "pending"
    STORED = "stored"
    FAILED = "failed"
    ERASE = "erase"
    DELETED = "deleted"


class SendingState(StrEnum):
    """bot.db.models.BroadcastJob.status: the states a sending goes through (content/staff.yaml
    sending_states words each)."""

    SCHEDULED = "scheduled"
    RUNNING = "running"
    DONE = "done"
    CANCELLED = "cancelled"


class ChunkStatus(StrEnum):
    """bot.db.models.BroadcastChunk.status: one request of a sending, as OutboxStatus is one message's."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


# Every kind, for the checks that each is used and worded.
STATUS_ENUMS: tuple[type[StrEnum], ...] = (
    EventStatus,
    OutboxStatus,
    OpinionStatus,
    ReportState,
    PhotoStatus,
    SendingState,
    ChunkStatus,
)
