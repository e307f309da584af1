"""What the bot's last reply in a chat offered (its chips and buttons), so the same words typed do what a tap
does: LINE for PC and Mac shows no quick replies. And the service a chat was about when a question was asked,
so the staff inbox can show a follow-up's context even when the reader did not take it as one.

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

from bot.db.models import UTCDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "offered_choice",
        sa.Column("lane_key", sa.String(64), primary_key=True),
        # JSON: [[label, postback data], ...] in the order the reply showed them.
        sa.Column("choices", sa.Text, nullable=False),
        sa.Column("offered_at", UTCDateTime, nullable=False),
    )
    with op.batch_alter_table("service_query") as batch:
        batch.add_column(sa.Column("context_service_id", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("service_query") as batch:
        batch.drop_column("context_service_id")
    op.drop_table("offered_choice")
