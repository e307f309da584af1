"""Statuses are StrEnums (bot/db/statuses.py) over string columns: what is stored is exactly each member's
value, content words every member a person reads, and no code under bot/ compares, assigns or queries a status
as a bare string literal (migrations and the enum definitions aside)."""

from __future__ import annotations

import ast
import datetime as dt
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import select, text

from bot import keys
from bot.content import ContentError, load_content
from bot.content import ids as content_ids
from bot.content.participation import REPORT_STATUSES
from bot.content.staff_labels import SENDING_STATES
from bot.db import models
from bot.db.statuses import (
    STATUS_ENUMS,
    ChunkStatus,
    EventStatus,
    OpinionStatus,
    OutboxStatus,
    PhotoStatus,
    ReportState,
    SendingState,
)
from bot.handlers.opinions import rules as opinion_rules
from bot.handlers.reports import rules as report_rules
from bot.handlers.reports.rules import change_status
from tests.chatting import report_taps, say_all
from tests.conftest import BotFactory, new_user_id

ROOT = Path(__file__).resolve().parent.parent
BOT = ROOT / "bot"
CLOCK = dt.datetime(2026, 11, 23, 5, 0, tzinfo=dt.UTC)

# Files of bot/ that may still write a status as a bare string: none (an entry holding none fails below).
ALLOWED: set[str] = set()

# Each status column and the enum its values come from.
COLUMNS = {
    (models.InboundEvent, "status"): EventStatus,
    (models.OutboundMessage, "status"): OutboxStatus,
    (models.Opinion, "status"): OpinionStatus,
    (models.Report, "status"): ReportState,
    (models.ReportStatus, "status"): ReportState,
    (models.Photo, "status"): PhotoStatus,
    (models.BroadcastJob, "status"): SendingState,
    (models.BroadcastChunk, "status"): ChunkStatus,
}


def test_each_status_column_has_its_enum_and_defaults_to_a_member() -> None:
    columns = {(m, c.name) for m in models.Base.__subclasses__() for c in m.__table__.columns if c.name == "status"}
    assert columns == set(COLUMNS)
    assert set(COLUMNS.values()) == set(STATUS_ENUMS)
    for (model, name), enum in COLUMNS.items():
        column = model.__table__.columns[name]
        assert column.type.python_type is str  # a string column: no database enum, no migration
        if column.default is not None:
            assert type(column.default.arg) is enum, model.__name__
    for enum in STATUS_ENUMS:
        assert all(isinstance(member, str) and str(member) == member.value for member in enum)


def test_the_lists_content_and_commands_check_are_the_enums_values() -> None:
    assert tuple(s.value for s in ReportState) == REPORT_STATUSES
    assert tuple(s.value for s in OpinionStatus) == content_ids.OPINION_STATUSES
    assert set(content_ids.OPINION_OUTCOMES) == set(opinion_rules.OUTCOMES)
    assert set(OpinionStatus) - set(opinion_rules.OUTCOMES) == {OpinionStatus.RECEIVED, OpinionStatus.WITHDRAWN}
    assert tuple(s.value for s in SendingState) == SENDING_STATES
    assert tuple(ReportState) == report_rules.STATUSES


def test_content_words_every_status_a_person_reads() -> None:
    content = load_content(ROOT / "content")
    assert set(ReportState) <= set(content.report_statuses)
    assert all(f"status_{s}" in content.phrases for s in OpinionStatus)
    assert all(f"opinion_outcome_{s}" in content.responses for s in opinion_rules.OUTCOMES)
    assert set(SendingState) <= set(content.staff_labels.words["sending_states"])


def test_a_report_status_without_its_words_is_a_content_error_at_its_line(tmp_path: Path) -> None:
    copy = tmp_path / "content"
    shutil.copytree(ROOT / "content", copy)
    reports = copy / "reports.yaml"
    lines = reports.read_text(encoding="utf-8").splitlines(keepends=True)
    kept = [line for line in lines if not line.lstrip().startswith(f"{ReportState.REOPENED}:")]
    assert len(kept) == len(lines) - 1
    reports.write_text("".join(kept), encoding="utf-8")
    try:
        load_content(copy)
    except ContentError as exc:
        message = str(exc)
    else:
        raise AssertionError("content without the words of 'reopened' loaded")
    assert f"status '{ReportState.REOPENED}' needs its words" in message
    assert f"{reports}:" in message


async def test_a_filed_report_stores_the_members_values(make_bot: BotFactory) -> None:
    bot = await make_bot()
    bot.app[keys.QA].clock = lambda: CLOCK
    await say_all(bot, new_user_id(), *report_taps("ขยะกองหน้าตลาดไม่มีคนเก็บ"))
    async with bot.sessions() as session:
        report = await session.scalar(select(models.Report))
        assert report is not None and report.status == ReportState.RECEIVED
        assert (await session.scalar(text("SELECT status FROM report"))) == "received"
        assert list(await session.scalars(text("SELECT status FROM report_status"))) == ["received"]
        events = set(await session.scalars(text("SELECT status FROM inbound_event")))
        sent = set(await session.scalars(text("SELECT status FROM outbound_message")))
    assert events == {EventStatus.DONE} and events == {"done"}
    assert sent == {OutboxStatus.SENT} and sent == {"sent"}
    async with bot.sessions() as session, session.begin():
        await change_status(
            session, bot.app[keys.CONTENT], report.reference, "in_progress", None, "staff:somchai", at=bot.now()
        )
    async with bot.sessions() as session:
        raw = await session.scalar(text("SELECT status FROM report"))
        history = list(await session.scalars(text("SELECT status FROM report_status ORDER BY id")))
        stored = await session.scalar(select(models.Report))
    assert raw == "in_progress" and type(raw) is str and history == ["received", "in_progress"]
    assert stored is not None and stored.status == ReportState.IN_PROGRESS


async def test_defaults_store_the_members_values(make_bot: BotFactory) -> None:
    bot = await make_bot()
    async with bot.sessions() as session, session.begin():
        session.add(models.Opinion(reference="ค-2569-09999", category="other", text="ทดสอบ"))
        await session.flush()
        opinion_id = await session.scalar(text("SELECT id FROM opinion WHERE reference = 'ค-2569-09999'"))
        session.add(models.Photo(message_id="m-status-test", opinion_id=opinion_id))
    async with bot.sessions() as session:
        opinion = await session.scalar(text("SELECT status FROM opinion WHERE reference = 'ค-2569-09999'"))
        photo = await session.scalar(text("SELECT status FROM photo WHERE message_id = 'm-status-test'"))
    assert opinion == OpinionStatus.RECEIVED == "received"
    assert photo == PhotoStatus.PENDING == "pending"


# The scan: a string literal that is one of the enums' values, used as a status.
VALUES = frozenset(member.value for enum in STATUS_ENUMS for member in enum)
STATUS_WORDS = ("status", "statuses", "states")
# Compared, an outcome is a status too (attempt.outcome == "sent"); assigned, it may be a log's word ("stored").
COMPARED_WORDS = (*STATUS_WORDS, "outcome")


def _is_status(node: ast.AST, words: tuple[str, ...] = STATUS_WORDS) -> bool:
    """`x.status`, `status`, `OPEN_REPORT_STATUSES`, `report_status` ...: something that holds a status."""
    name = node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else None
    return name is not None and name.lower().split("_")[-1] in words


def _literals(node: ast.AST | None) -> list[ast.Constant]:
    """The status literals node is or holds (a tuple, list, set, or a dict's keys)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in VALUES:
        return [node]
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return [c for e in node.elts for c in _literals(e)]
    if isinstance(node, ast.Dict):
        return [c for k in node.keys for c in _literals(k)]
    if isinstance(node, ast.IfExp):
        return _literals(node.body) + _literals(node.orelse)
    return []


def _listed(node: ast.AST | None) -> list[ast.Constant]:
    """A tuple, list, set or dict of two or more entries, each a status literal: a list of statuses."""
    if isinstance(node, ast.Dict):
        elements: list[ast.expr | None] = list(node.keys)
    elif isinstance(node, ast.Tuple | ast.List | ast.Set):
        elements = list(node.elts)
    else:
        return []
    found = _literals(node)
    return found if len(elements) > 1 and len(found) == len(elements) else []


def _is_enum_class(node: ast.ClassDef) -> bool:
    return any(isinstance(b, ast.Name | ast.Attribute) and "Enum" in ast.unparse(b) for b in node.bases)


def _bare_literals(tree: ast.AST) -> Iterator[ast.Constant]:
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and _is_enum_class(node):
            skip.update(id(n) for n in ast.walk(node))
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            if any(_is_status(s, COMPARED_WORDS) for s in sides):
                yield from (c for s in sides for c in _literals(s))
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if _is_status(target):
                    yield from _literals(node.value)
                    if isinstance(node.value, ast.Call):  # status: Mapped[str] = mapped_column(default="...")
                        yield from (c for k in node.value.keywords if k.arg == "default" for c in _literals(k.value))
                elif isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
                    for part, value in zip(target.elts, node.value.elts, strict=False):
                        if _is_status(part):
                            yield from _literals(value)
            if all(isinstance(t, ast.Name) for t in targets):
                # A list of statuses under any name (LIVE = ("scheduled", "running", "done")), or a dict's keys.
                yield from _listed(node.value)
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr == "in_" and _is_status(func.value):
                yield from (c for a in node.args for c in _literals(a))
            if _is_status(func):  # report_status(turn, "received")
                yield from (c for a in node.args for c in _literals(a))
            yield from (c for k in node.keywords if k.arg == "status" for c in _literals(k.value))
            # add_argument("status", choices=["received", "in_progress", ...])
            yield from (c for k in node.keywords if k.arg == "choices" for c in _listed(k.value))
            for before, after in zip(node.args, node.args[1:], strict=False):  # set_committed_value(r, "status", "x")
                if isinstance(before, ast.Constant) and before.value == "status":
                    yield from _literals(after)
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and key.value == "status":
                    yield from _literals(value)


def bare_status_literals(root: Path = ROOT) -> dict[str, list[str]]:
    """file -> 'file:line: "literal"' of every bare status literal under root/bot (migrations and
    bot/db/statuses.py, the enums' definitions, aside)."""
    found: dict[str, list[str]] = {}
    for path in sorted((root / "bot").rglob("*.py")):
        relative = path.relative_to(root).as_posix()
        if relative.startswith("bot/db/migrations/") or relative == "bot/db/statuses.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=relative)
        hits = sorted({(c.lineno, c.value) for c in _bare_literals(tree)})
        if hits:
            found[relative] = [f'{relative}:{line}: "{value}"' for line, value in hits]
    return found


def test_no_status_is_a_bare_string_literal() -> None:
    found = bare_status_literals()
    problems = [hit for file, hits in found.items() if file not in ALLOWED for hit in hits]
    assert not problems, "use the status's StrEnum member (bot/db/statuses.py):\n" + "\n".join(problems)
    stale = sorted(ALLOWED - set(found))
    assert not stale, f"no status literal left in {stale}: take them off ALLOWED"


def test_the_scan_sees_each_way_a_status_is_written() -> None:
    source = """
x = row.status == "pending"
y = Photo.status.in_(("stored", "failed"))
row.status = "done"
row.status, row.at = "sent", now
Report(status="received")
update(Photo).values(status="erase")
rows = [{"status": "pending"}]
set_committed_value(row, "status", "sending")
LIVE = ("scheduled", "running", "done")
OPEN_REPORT_STATUSES = ("received", "in_progress")
label = report_status(turn, "reopened")
OUTCOMES = {"considering": False, "in_plan": True}
if attempt.outcome == "failed": pass
class Model:
    status: Mapped[str] = mapped_column(String(16), default="pending")
class Fine(StrEnum):
    DONE = "done"
ok = turn.outcome_text == "done" or say("cancelled") or {"sent": 1}
turn.outcome = "cancelled"
parser.add_argument("outcome", choices=["in_plan", "rejected"])
ACTORS = ("resident", "done")
"""
    hits = sorted((c.lineno, c.value) for c in _bare_literals(ast.parse(source)))
    lines = sorted({line for line, _ in hits})
    assert lines == [*range(2, 15), 16, 21], hits


def test_templates_compare_statuses_with_the_enums_values() -> None:
    """Templates cannot name the enums: the words they compare a status with must still be members' values."""
    compared = re.compile(r"\bstatus\s*(?:==|!=|in)\s*(\"[a-z_]+\"|\([^)]*\))")
    seen: list[str] = []
    for path in sorted(BOT.rglob("*.html")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for match in compared.finditer(line):
                for word in re.findall(r'"([a-z_]+)"', match.group(1)):
                    seen.append(word)
                    assert word in VALUES, f"{path.relative_to(ROOT)}:{number}: '{word}' is no status's value"
    assert seen  # the pattern still finds the comparisons (hearing_confirm.html, _photos.html, ...)
