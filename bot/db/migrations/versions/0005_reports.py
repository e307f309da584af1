"""Problem reports and their status history.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

from bot.db.models import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("reference", sa.String(16), nullable=False, unique=True),
        sa.Column("event_id", sa.Integer, sa.ForeignKey("inbound_event.id")),
        sa.Column("resident_id", sa.Integer, sa.ForeignKey("resident.id")),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("division", sa.String(32), nullable=False),
        sa.Column("village", sa.Integer),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("place", sa.String(300)),
        sa.Column("latitude", sa.Float),
        sa.Column("longitude", sa.Float),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("rating", sa.Integer),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "report_status",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("report_id", sa.Integer, sa.ForeignKey("report.id"), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("note", sa.Text),
        sa.Column("changed_by", sa.String(64), nullable=False),
        sa.Column("changed_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_report_status_report", "report_status", ["report_id", "changed_at"])


def downgrade() -> None:
    op.drop_table("report_status")
    op.drop_table("report")
