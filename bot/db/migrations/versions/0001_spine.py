"""The spine: residents, stored webhook events, lanes, conversation state and the outbox.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from bot.db.models import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "resident",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("line_user_id", sa.String(64), nullable=False, unique=True),
        sa.Column("pseudonym", sa.String(32), nullable=False, unique=True),
        sa.Column("followed", sa.Boolean, nullable=False),
        sa.Column("followed_at", UTCDateTime),
        sa.Column("unfollowed_at", UTCDateTime),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("last_seen_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "inbound_event",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("webhook_event_id", sa.String(64), nullable=False, unique=True),
        sa.Column("lane_key", sa.String(64), nullable=False),
        sa.Column("event_type", sa.String(40), nullable=False),
        sa.Column("message_id", sa.String(64)),
        sa.Column("occurred_at_ms", sa.BigInteger, nullable=False),
        sa.Column("received_at", UTCDateTime, nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("processed_at", UTCDateTime),
        sa.Column("outcome", sa.String(64)),
    )
    op.create_index("ix_inbound_event_pending", "inbound_event", ["status", "lane_key", "occurred_at_ms"])
    op.create_index("ix_inbound_event_message_id", "inbound_event", ["message_id"])
    op.create_table(
        "event_lane",
        sa.Column("lane_key", sa.String(64), primary_key=True),
        sa.Column("leased_by", sa.String(64)),
        sa.Column("lease_until", UTCDateTime),
    )
    op.create_table(
        "conversation_state",
        sa.Column("lane_key", sa.String(64), primary_key=True),
        sa.Column("flow", sa.String(40), nullable=False),
        sa.Column("step", sa.String(40), nullable=False),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "outbound_message",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("event_id", sa.Integer, sa.ForeignKey("inbound_event.id")),
        sa.Column("to", sa.String(64), nullable=False),
        sa.Column("reply_token", sa.String(255)),
        sa.Column("messages", sa.Text, nullable=False),
        sa.Column("retry_key", sa.String(36), nullable=False, unique=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", UTCDateTime, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("sent_at", UTCDateTime),
        sa.Column("sent_via", sa.String(16)),
        sa.Column("last_error", sa.String(200)),
    )
    op.create_index("ix_outbound_message_due", "outbound_message", ["status", "to", "id"])


def downgrade() -> None:
    for table in ("outbound_message", "conversation_state", "event_lane", "inbound_event", "resident"):
        op.drop_table(table)
