"""The audit log: who did what in the workspace and the command line, and residents' data requests. Only
ever appended to (the database refuses anything else); details carry ids, filters and counts, never
residents' personal data."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import AuditEntry

ACTIONS = (
    "login",
    "login_failed",
    "logout",
    "export",
    "opinion_change",
    "report_status",
    "report_assign",
    "question_triage",
    "account_add",
    "account_change",
    "broadcast",
    "data_request",
)
# The keys record() is given as details, and the values of those that hold a code rather than a number or
# a name: the workspace shows each in Thai words from content/staff.yaml, which must label all of them.
DETAIL_KEYS = (
    "attempts",
    "refused",
    "collapsed",
    "format",
    "rows",
    "filters",
    "change",
    "status",
    "division",
    "action",
    "questions",
    "faq",
    "role",
    "step",
    "job",
    "mode",
    "again",
    "friends",
    "request",
)
CODED_VALUES: dict[str, tuple[str, ...]] = {
    "change": ("role", "disable", "enable", "password", "category", "outcome", "project", "note"),
    "step": ("create", "edit", "record", "follow_up", "announce"),
    "action": ("attach", "out_of_scope"),
    "request": ("withdraw", "erasure"),
    "format": ("csv", "xlsx"),
}


def record(
    session: AsyncSession, actor: str, event: str, target: str | None = None, *, at: dt.datetime, **detail: object
) -> None:
    """One entry, dated `at`: the one clock where the action happened (a staff page's, the chat's turn), the
    machine's time in a command."""
    if event not in ACTIONS:
        raise ValueError(f"unknown audit action {event}")
    session.add(
        AuditEntry(
            at=at,
            actor=actor[:64],
            action=event,
            target=target[:100] if target else None,
            detail=json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str),
        )
    )
