"""The staff workspace: accounts, sessions, sign-in throttling, the append-only audit log, opinion history,
staff-taught service phrasings and triage of unanswered questions.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

from bot.db.models import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# The audit log is append-only in the database itself, not only by the application's good manners.
_SQLITE_GUARDS = [
    f"CREATE TRIGGER audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
    for verb in ("UPDATE", "DELETE")
]
_POSTGRES_GUARDS = [
    """CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$""",
    """CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log
       FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()""",
]


def upgrade() -> None:
    op.add_column("opinion", sa.Column("plan_project", sa.String(200)))
    op.add_column("opinion", sa.Column("staff_note", sa.Text))
    op.create_index("ix_opinion_created", "opinion", ["created_at"])
    op.add_column("service_query", sa.Column("triage", sa.String(16)))
    op.create_table(
        "opinion_change",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("opinion_id", sa.Integer, sa.ForeignKey("opinion.id"), nullable=False),
        sa.Column("field", sa.String(32), nullable=False),
        sa.Column("old", sa.Text),
        sa.Column("new", sa.Text),
        sa.Column("changed_by", sa.String(64), nullable=False),
        sa.Column("changed_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_opinion_change_opinion", "opinion_change", ["opinion_id"])
    op.create_table(
        "service_example",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("service_id", sa.String(64), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("added_by", sa.String(64), nullable=False),
        sa.Column("added_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "staff_user",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("last_login_at", UTCDateTime),
    )
    op.create_table(
        "staff_session",
        sa.Column("id_hash", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("staff_user.id"), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("last_seen_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "login_failure",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_login_failure_at", "login_failure", ["at"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("target", sa.String(100)),
        sa.Column("detail", sa.Text, nullable=False),
    )
    guards = _POSTGRES_GUARDS if op.get_bind().dialect.name == "postgresql" else _SQLITE_GUARDS
    for statement in guards:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    for name in ("audit_log", "login_failure", "staff_session", "staff_user", "service_example", "opinion_change"):
        op.drop_table(name)
    op.drop_index("ix_opinion_created", "opinion")
    with op.batch_alter_table("service_query") as table:
        table.drop_column("triage")
    with op.batch_alter_table("opinion") as table:
        table.drop_column("staff_note")
        table.drop_column("plan_project")
