"""Erasures whose answer is still to be sent: bot/handlers/residents/erasure.py removes the chat's LINE id from the
outbox, the
request's event and the chat's lane once it has gone out.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

from bot.db.models import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pending_erasure",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("event_id", sa.Integer, sa.ForeignKey("inbound_event.id"), nullable=False),
        sa.Column("requested_at", UTCDateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("pending_erasure")
