"""Hearings, residents' RSVPs, and persistent fan-out jobs with their chunks.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

from bot.db.models import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hearing",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("consultation_id", sa.String(64)),
        sa.Column("starts_at", UTCDateTime, nullable=False),
        sa.Column("place", sa.String(300), nullable=False),
        sa.Column("latitude", sa.Float),
        sa.Column("longitude", sa.Float),
        sa.Column("villages", sa.String(200), nullable=False),
        sa.Column("agenda", sa.Text),
        sa.Column("invited", sa.String(300)),
        sa.Column("online_url", sa.String(500)),
        sa.Column("capacity", sa.Integer),
        sa.Column("rsvp_enabled", sa.Boolean, nullable=False),
        sa.Column("reminders", sa.String(100), nullable=False),
        sa.Column("attendance", sa.Integer),
        sa.Column("minutes", sa.Text),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "rsvp",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("hearing_id", sa.Integer, sa.ForeignKey("hearing.id"), nullable=False),
        sa.Column("resident_id", sa.Integer, sa.ForeignKey("resident.id"), nullable=False),
        sa.Column("answer", sa.String(16), nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_index("ux_rsvp_hearing_resident", "rsvp", ["hearing_id", "resident_id"], unique=True)
    op.create_table(
        "broadcast_job",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("hearing_id", sa.Integer, sa.ForeignKey("hearing.id"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("dedupe_key", sa.String(64), nullable=False, unique=True),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("run_at", UTCDateTime, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("note", sa.Text),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("started_at", UTCDateTime),
        sa.Column("finished_at", UTCDateTime),
        sa.Column("leased_by", sa.String(64)),
        sa.Column("lease_until", UTCDateTime),
        sa.Column("recipients", sa.Integer, nullable=False),
        sa.Column("sent", sa.Integer, nullable=False),
        sa.Column("failed", sa.Integer, nullable=False),
    )
    op.create_index("ix_broadcast_job_due", "broadcast_job", ["status", "run_at"])
    op.create_table(
        "broadcast_chunk",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("job_id", sa.Integer, sa.ForeignKey("broadcast_job.id"), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("recipients", sa.Text, nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("retry_key", sa.String(36), nullable=False, unique=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("sent_at", UTCDateTime),
        sa.Column("last_error", sa.String(200)),
    )
    op.create_index("ix_broadcast_chunk_job", "broadcast_chunk", ["job_id", "status", "seq"])


def downgrade() -> None:
    for name in ("broadcast_chunk", "broadcast_job", "rsvp", "hearing"):
        op.drop_table(name)
