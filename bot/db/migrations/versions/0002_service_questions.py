"""Service questions: the query log (answered or not, feedback) and each chat's last service.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from bot.db.models import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "service_query",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("event_id", sa.Integer, sa.ForeignKey("inbound_event.id")),
        sa.Column("resident_id", sa.Integer, sa.ForeignKey("resident.id")),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("intent", sa.String(32), nullable=False),
        sa.Column("service_id", sa.String(64)),
        sa.Column("aspect", sa.String(16)),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("answered", sa.Boolean, nullable=False),
        sa.Column("follow_up", sa.Boolean, nullable=False),
        sa.Column("feedback", sa.String(8)),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_service_query_answered", "service_query", ["answered", "created_at"])
    op.create_table(
        "chat_context",
        sa.Column("lane_key", sa.String(64), primary_key=True),
        sa.Column("service_id", sa.String(64), nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("chat_context")
    op.drop_table("service_query")
