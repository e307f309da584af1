"""Whether a resident wants pushes (hearing news, what became of their opinions).

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("resident") as table:
        table.add_column(sa.Column("notify", sa.Boolean, nullable=False, server_default=sa.true()))


def downgrade() -> None:
    with op.batch_alter_table("resident") as table:
        table.drop_column("notify")
