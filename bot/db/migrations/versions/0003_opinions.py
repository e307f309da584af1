"""Opinions for the local plan, reference numbers, and what residents agreed to and where they live.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

from bot.db.models import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("resident") as table:
        table.add_column(sa.Column("village", sa.Integer))
        table.add_column(sa.Column("consent_version", sa.String(32)))
        table.add_column(sa.Column("consent_at", UTCDateTime))
    op.create_table(
        "opinion",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("reference", sa.String(16), nullable=False, unique=True),
        sa.Column("event_id", sa.Integer, sa.ForeignKey("inbound_event.id")),
        sa.Column("resident_id", sa.Integer, sa.ForeignKey("resident.id")),
        sa.Column("consultation_id", sa.String(64)),
        sa.Column("village", sa.Integer),
        sa.Column("category_suggested", sa.String(32)),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("latitude", sa.Float),
        sa.Column("longitude", sa.Float),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "reference_counter",
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("year", sa.Integer, primary_key=True),
        sa.Column("last", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("reference_counter")
    op.drop_table("opinion")
    with op.batch_alter_table("resident") as table:
        table.drop_column("consent_at")
        table.drop_column("consent_version")
        table.drop_column("village")
