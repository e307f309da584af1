"""A photo that could not be fetched or written waits before it is tried again (bot/delivery/photos.py RETRY_AFTER),
instead of being tried every pass and marked failed within seconds of a full disk.

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

from bot.db.models import UTCDateTime

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("photo") as batch:
        batch.add_column(sa.Column("next_attempt_at", UTCDateTime, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("photo") as batch:
        batch.drop_column("next_attempt_at")
