"""Photos attached to opinions and reports.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

from bot.db.models import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "photo",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("message_id", sa.String(64), nullable=False, unique=True),
        sa.Column("opinion_id", sa.Integer, sa.ForeignKey("opinion.id")),
        sa.Column("report_id", sa.Integer, sa.ForeignKey("report.id")),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("path", sa.String(200)),
        sa.Column("width", sa.Integer),
        sa.Column("height", sa.Integer),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("error", sa.String(200)),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_photo_status", "photo", ["status"])


def downgrade() -> None:
    op.drop_table("photo")
