"""A phrasing staff attached from the unanswered questions may teach one FAQ entry of a service
("<service_id>.<slug>", content/faq/) instead of the service as a whole; service_id stays set, so if the
entry later leaves content the phrasing still teaches its service.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("service_example") as batch:
        batch.add_column(sa.Column("faq_id", sa.String(128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("service_example") as batch:
        batch.drop_column("faq_id")
