"""References carry their kind's letter: a report's "2569-00001" becomes "ร-2569-00001", an opinion's
"ค-2569-00001" (issue 16 item 4: the two kinds both had "2569-00001"). Afterwards every stored reference has
its letter, so lookups compare against one stored form.

The letters are written out here rather than imported from bot.references: a migration states what the data
became at this revision, whatever the code says later (tests/test_references.py checks they agree today).
Rows that already have the letter are left alone, so running it on a half-converted table is harmless.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

PREFIXES = {"report": "ร-", "opinion": "ค-"}  # table -> the letter and dash its references start with


def _reference(table: str) -> tuple[sa.TableClause, sa.ColumnClause[str]]:
    column = sa.column("reference", sa.String(16))
    return sa.table(table, column), column


def upgrade() -> None:
    for table, prefix in PREFIXES.items():
        rows, reference = _reference(table)
        op.execute(
            rows.update()
            .where(~reference.startswith(prefix, autoescape=True))
            .values(reference=sa.literal(prefix, sa.String) + reference)
        )


def downgrade() -> None:
    for table, prefix in PREFIXES.items():
        rows, reference = _reference(table)
        op.execute(
            rows.update()
            .where(reference.startswith(prefix, autoescape=True))
            .values(reference=sa.func.substr(reference, len(prefix) + 1))
        )
