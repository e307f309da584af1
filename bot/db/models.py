"""SQLAlchemy models: what the bot stores about residents, the events LINE sent and the messages it owes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, Index, Integer, String, Text, TypeDecorator
from sqlalchemy.ext.asyncio import AsyncAttrs
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from bot.db.codes import SendingMode
from bot.db.statuses import (
    ChunkStatus,
    EventStatus,
    OpinionStatus,
    OutboxStatus,
    PhotoStatus,
    ReportState,
    SendingState,
)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timestamps are stored and returned as aware UTC datetimes on every backend (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(AsyncAttrs, DeclarativeBase):
    pass


class Resident(Base):
    """A person who follows the municipality's LINE account."""

    __tablename__ = "resident"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    line_user_id: Mapped[str] = mapped_column(String(64), unique=True)
    # Keyed HMAC of the LINE user id: what staff exports show instead of the id itself.
    pseudonym: Mapped[str] = mapped_column(String(32), unique=True)
    followed: Mapped[bool] = mapped_column(Boolean, default=True)
    followed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    unfollowed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Remembered so the next opinion does not ask again (changeable every time).
    village: Mapped[int | None] = mapped_column(Integer)
    # The privacy notice version the resident agreed to, and when; None: never agreed.
    consent_version: Mapped[str | None] = mapped_column(String(32))
    consent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Pushes about hearings and about what became of the resident's opinions; off when they opt out.
    notify: Mapped[bool] = mapped_column(Boolean, default=True)


class InboundEvent(Base):
    """One webhook event exactly as LINE sent it, stored before the webhook answers 200."""

    __tablename__ = "inbound_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    webhook_event_id: Mapped[str] = mapped_column(String(64), unique=True)
    # Events of one lane (a user, group or room) are handled one at a time, in timestamp order.
    lane_key: Mapped[str] = mapped_column(String(64))
    event_type: Mapped[str] = mapped_column(String(40))
    message_id: Mapped[str | None] = mapped_column(String(64))
    occurred_at_ms: Mapped[int] = mapped_column(BigInteger)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=EventStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    processed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        Index("ix_inbound_event_pending", "status", "lane_key", "occurred_at_ms"),
        Index("ix_inbound_event_message_id", "message_id"),
    )


class EventLane(Base):
    """A lease that lets exactly one worker, in any process, handle a lane's events at a time."""

    __tablename__ = "event_lane"

    lane_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    leased_by: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class ConversationState(Base):
    """Where a resident is in a multi-step flow; survives restarts and deploys (names, not code objects)."""

    __tablename__ = "conversation_state"

    lane_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    flow: Mapped[str] = mapped_column(String(40))
    step: Mapped[str] = mapped_column(String(40))
    data: Mapped[str] = mapped_column(Text, default="{}")
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class OutboundMessage(Base):
    """Messages the bot owes someone: written in the same transaction as the change that caused them, sent
    after commit, so a crash never loses an answer and a retry never sends one twice."""

    __tablename__ = "outbound_message"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_event.id"))
    to: Mapped[str] = mapped_column(String(64))
    reply_token: Mapped[str | None] = mapped_column(String(255))
    messages: Mapped[str] = mapped_column(Text)
    retry_key: Mapped[str] = mapped_column(String(36), unique=True)
    status: Mapped[str] = mapped_column(String(16), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    sent_via: Mapped[str | None] = mapped_column(String(16))
    last_error: Mapped[str | None] = mapped_column(String(200))
    # A reply attempt ended without a clear answer (5xx, timeout): it may have been delivered.
    reply_uncertain: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (Index("ix_outbound_message_due", "status", "to", "id"),)


class ServiceQuery(Base):
    """A question a resident asked and what the bot made of it: the staff inbox of unanswered questions
    and the measure of how often the bot helps."""

    __tablename__ = "service_query"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_event.id"))
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("resident.id"))
    text: Mapped[str] = mapped_column(Text)
    intent: Mapped[str] = mapped_column(String(32))
    service_id: Mapped[str | None] = mapped_column(String(64))
    aspect: Mapped[str | None] = mapped_column(String(16))
    score: Mapped[float] = mapped_column()
    answered: Mapped[bool] = mapped_column(Boolean)
    follow_up: Mapped[bool] = mapped_column(Boolean, default=False)
    feedback: Mapped[str | None] = mapped_column(String(8))
    # Staff triage of an unanswered question: "example" (attached to a service) or "out_of_scope".
    triage: Mapped[str | None] = mapped_column(String(16))
    # The service the chat was about when this was asked (its last answer, within the follow-up window), whether
    # or not the reader took the question as a follow-up (follow_up says whether it did; only then does the
    # inbox list the question as following that service).
    context_service_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_service_query_answered", "answered", "created_at"),)


class ChatContext(Base):
    """The service a chat was last answered about, so "กี่วัน" right after means that service."""

    __tablename__ = "chat_context"

    lane_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    service_id: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class OfferedChoice(Base):
    """The chips and buttons the bot's last reply in a chat offered, so their words typed act as the tap
    (LINE for PC and Mac shows no quick replies). One row per chat, replaced by each reply that offers some."""

    __tablename__ = "offered_choice"

    lane_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    choices: Mapped[str] = mapped_column(Text)  # JSON [[label, postback data], ...]
    offered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Opinion(Base):
    """An opinion or proposal for the local plan, committed when the resident confirms it."""

    __tablename__ = "opinion"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(16), unique=True)  # "ค-2569-00042" (bot/references.py)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_event.id"))
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("resident.id"))
    consultation_id: Mapped[str | None] = mapped_column(String(64))
    village: Mapped[int | None] = mapped_column(Integer)
    category_suggested: Mapped[str | None] = mapped_column(String(32))
    category: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    latitude: Mapped[float | None] = mapped_column()
    longitude: Mapped[float | None] = mapped_column()
    # received, withdrawn, or an outcome set by staff: considering, in_plan, forwarded, rejected.
    status: Mapped[str] = mapped_column(String(16), default=OpinionStatus.RECEIVED)
    outcome_detail: Mapped[str | None] = mapped_column(Text)  # the project, the agency, or the reason
    outcome_by: Mapped[str | None] = mapped_column(String(64))
    outcome_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Set by staff in the workspace: the plan project this opinion fed, and a note for colleagues.
    plan_project: Mapped[str | None] = mapped_column(String(200))
    staff_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_opinion_created", "created_at"),)


class ReferenceCounter(Base):
    """The last reference number given per kind and Buddhist-era year ("ความเห็นเลขที่ ค-2569-00042": the 42nd
    opinion of 2569; bot/references.py writes and reads the form)."""

    __tablename__ = "reference_counter"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class Report(Base):
    """A problem a resident reported, with the status staff keep up to date."""

    __tablename__ = "report"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(16), unique=True)  # "ร-2569-00042" (bot/references.py)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_event.id"))
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("resident.id"))
    type: Mapped[str] = mapped_column(String(32))
    division: Mapped[str] = mapped_column(String(32))
    village: Mapped[int | None] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    place: Mapped[str | None] = mapped_column(String(300))
    latitude: Mapped[float | None] = mapped_column()
    longitude: Mapped[float | None] = mapped_column()
    status: Mapped[str] = mapped_column(String(16), default=ReportState.RECEIVED)
    rating: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReportStatus(Base):
    """Every status a report went through, who set it and why: the history residents and staff see."""

    __tablename__ = "report_status"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id"))
    status: Mapped[str] = mapped_column(String(16))  # ReportState
    note: Mapped[str | None] = mapped_column(Text)
    changed_by: Mapped[str] = mapped_column(String(64))
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Photo(Base):
    """A photo a resident attached: recorded with the opinion or report, fetched from LINE after commit,
    stored re-encoded without EXIF (no GPS, no camera data)."""

    __tablename__ = "photo"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[str] = mapped_column(String(64), unique=True)
    opinion_id: Mapped[int | None] = mapped_column(ForeignKey("opinion.id"))
    report_id: Mapped[int | None] = mapped_column(ForeignKey("report.id"))
    status: Mapped[str] = mapped_column(String(16), default=PhotoStatus.PENDING)
    path: Mapped[str | None] = mapped_column(String(200))
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)  # none: due now
    error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class OpinionChange(Base):
    """One change staff made to an opinion (category, outcome, plan project, note): its history page."""

    __tablename__ = "opinion_change"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    opinion_id: Mapped[int] = mapped_column(ForeignKey("opinion.id"))
    field: Mapped[str] = mapped_column(String(32))
    old: Mapped[str | None] = mapped_column(Text)
    new: Mapped[str | None] = mapped_column(Text)
    changed_by: Mapped[str] = mapped_column(String(64))
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ServiceExample(Base):
    """A phrasing staff attached to a service, or to one of its FAQ entries, from the unanswered questions:
    the matcher learns it without a code or content change."""

    __tablename__ = "service_example"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    service_id: Mapped[str] = mapped_column(String(64))
    # Set when the phrasing teaches one FAQ entry of the service ("<service_id>.<slug>", content/faq/).
    faq_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    text: Mapped[str] = mapped_column(Text)
    added_by: Mapped[str] = mapped_column(String(64))
    added_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class StaffUser(Base):
    """A municipal staff member who signs in to the workspace."""

    __tablename__ = "staff_user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))  # viewer, exporter, broadcaster, admin
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class StaffSession(Base):
    """A signed-in browser. Only a hash of the cookie's value is stored, so a copy of the database does not
    let anyone sign in."""

    __tablename__ = "staff_session"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"))
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class LoginFailure(Base):
    """A failed sign-in, counted per account and per address to throttle password guessing."""

    __tablename__ = "login_failure"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_login_failure_at", "at"),)


class AuditEntry(Base):
    """What staff did (sign-ins, exports, status changes, broadcasts, data requests). Rows are only ever
    added: the database refuses updates and deletes. Details hold ids and counts, never personal data."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(40))
    target: Mapped[str | None] = mapped_column(String(100))
    detail: Mapped[str] = mapped_column(Text, default="{}")


class Hearing(Base):
    """A public hearing or community forum (ประชาคม): when and where, for whom, and what came of it."""

    __tablename__ = "hearing"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    consultation_id: Mapped[str | None] = mapped_column(String(64))
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    place: Mapped[str] = mapped_column(String(300))
    latitude: Mapped[float | None] = mapped_column()
    longitude: Mapped[float | None] = mapped_column()
    # Village numbers, comma-separated; empty: every village.
    villages: Mapped[str] = mapped_column(String(200), default="")
    agenda: Mapped[str | None] = mapped_column(Text)
    invited: Mapped[str | None] = mapped_column(String(300))
    online_url: Mapped[str | None] = mapped_column(String(500))
    capacity: Mapped[int | None] = mapped_column(Integer)
    rsvp_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # Reminders as "days_before@HH:MM", comma-separated (Bangkok time): "1@18:00,0@07:00" by default.
    reminders: Mapped[str] = mapped_column(String(100), default="1@18:00,0@07:00")
    attendance: Mapped[int | None] = mapped_column(Integer)
    minutes: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def village_numbers(self) -> tuple[int, ...]:
        return tuple(int(v) for v in self.villages.split(",") if v.strip())


class Rsvp(Base):
    """A resident's answer to a hearing: going, not_going or maybe; changeable until it starts."""

    __tablename__ = "rsvp"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hearing_id: Mapped[int] = mapped_column(ForeignKey("hearing.id"))
    resident_id: Mapped[int] = mapped_column(ForeignKey("resident.id"))
    answer: Mapped[str] = mapped_column(String(16))  # bot.db.codes.RsvpAnswer
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ux_rsvp_hearing_resident", "hearing_id", "resident_id", unique=True),)


class BroadcastJob(Base):
    """One sending to many residents (an announcement, a reminder, a follow-up), run by the worker at its
    time. Its chunks are written before the first request, so a crash resumes without sending twice."""

    __tablename__ = "broadcast_job"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hearing_id: Mapped[int] = mapped_column(ForeignKey("hearing.id"))
    kind: Mapped[str] = mapped_column(String(16))  # bot.db.codes.SendingKind
    # Unique per hearing: a reminder is scheduled once however many times the hearing is announced.
    dedupe_key: Mapped[str] = mapped_column(String(64), unique=True)
    mode: Mapped[str] = mapped_column(String(16), default=SendingMode.MULTICAST)
    run_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default=SendingState.SCHEDULED)
    note: Mapped[str | None] = mapped_column(Text)  # the follow-up message's text
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    leased_by: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    sent: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (Index("ix_broadcast_job_due", "status", "run_at"),)


class BroadcastChunk(Base):
    """Up to 500 recipients of a job and the retry key their one request uses, however often it is retried."""

    __tablename__ = "broadcast_chunk"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("broadcast_job.id"))
    seq: Mapped[int] = mapped_column(Integer)
    recipients: Mapped[str] = mapped_column(Text)  # JSON list of LINE user ids ([] for a broadcast)
    size: Mapped[int] = mapped_column(Integer)
    retry_key: Mapped[str] = mapped_column(String(36), unique=True)
    status: Mapped[str] = mapped_column(String(16), default=ChunkStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (Index("ix_broadcast_chunk_job", "job_id", "status", "seq"),)


class PendingErasure(Base):
    """A resident's "delete everything" whose last traces wait for its answer to be sent: until then the chat's
    LINE id stays in that answer's outbox row, in the request's event and in the chat's lane
    (bot/handlers/residents/erasure.py
    removes them). Names no one itself."""

    __tablename__ = "pending_erasure"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("inbound_event.id"))
    requested_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
