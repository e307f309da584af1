"""What became of an opinion, set by staff: considered, in the plan (which project), forwarded, or not taken.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

from bot.db.models import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("opinion") as table:
        table.add_column(sa.Column("outcome_detail", sa.Text))
        table.add_column(sa.Column("outcome_by", sa.String(64)))
        table.add_column(sa.Column("outcome_at", UTCDateTime))


def downgrade() -> None:
    with op.batch_alter_table("opinion") as table:
        table.drop_column("outcome_at")
        table.drop_column("outcome_by")
        table.drop_column("outcome_detail")
