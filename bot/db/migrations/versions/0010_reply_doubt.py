"""Outbox rows remember whether a reply attempt may have been delivered (a 5xx or no answer), so a later
'Invalid reply token' is read as "delivered" only then, and not after a clear refusal such as a 429.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbound_message") as batch:
        batch.add_column(sa.Column("reply_uncertain", sa.Boolean, nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("outbound_message") as batch:
        batch.drop_column("reply_uncertain")
