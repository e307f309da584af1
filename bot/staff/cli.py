"""The staff commands of the command line: `staff add` and `export`. Both work on the configured database
(migrated first), so an operator can create the first admin before the server ever starts."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import getpass
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config import Settings
from bot.db.codes import ExportKind
from bot.ops.commands import command_actor, in_transaction
from bot.staff.exports import APPLICABLE, EARLIEST_DAY, FORMATS, LATEST_DAY, MAX_VILLAGE, Filters

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.content import Content


def _day(text: str) -> dt.date:
    """A filter day, YYYY-MM-DD, within the range the exports take."""
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError("expected YYYY-MM-DD") from None
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise argparse.ArgumentTypeError(f"expected a day from {EARLIEST_DAY} to {LATEST_DAY} (Gregorian years)")
    return day


def _village(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("expected a village number") from None
    if not 1 <= number <= MAX_VILLAGE:
        raise argparse.ArgumentTypeError(f"expected a village number from 1 to {MAX_VILLAGE}")
    return number


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    staff = commands.add_parser("staff", help="staff accounts for the /staff workspace")
    staff_commands = staff.add_subparsers(dest="staff_command", required=True)
    add = staff_commands.add_parser("add", help="add an account (password asked, or read from stdin)")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=["viewer", "exporter", "broadcaster", "admin"])
    add.add_argument(
        "--create",
        action="store_true",
        help="make a new, empty database if there is none (the first account before the server's first start)",
    )

    export = commands.add_parser("export", help="export opinions, reports or questions as CSV or XLSX")
    export.add_argument("kind", choices=list(ExportKind), help="plan: opinions grouped by category and village")
    export.add_argument("--format", choices=FORMATS, required=True)
    export.add_argument("--out", type=Path, required=True, help="the file to write")
    export.add_argument("--consultation", help="consultation id (opinions)")
    export.add_argument("--category", help="plan category id (opinions)")
    export.add_argument("--village", type=_village, help="village number")
    export.add_argument("--status", help="status id")
    export.add_argument("--since", type=_day, help="first day, YYYY-MM-DD (Bangkok time)")
    export.add_argument("--until", type=_day, help="last day, YYYY-MM-DD (Bangkok time)")


def run(settings: Settings, args: argparse.Namespace) -> int:
    if args.command == "staff":
        return _staff_add(settings, args.username, args.role)
    return _export(settings, args)


def _read_password() -> str:
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise ValueError("the two passwords differ")
    return first


def _staff_add(settings: Settings, username: str, role: str) -> int:
    from bot.db.models import utcnow
    from bot.ops import audit
    from bot.staff.accounts import AccountError, add_user

    try:
        password = _read_password()
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return 2

    async def work(session: object, _content: object) -> None:
        await add_user(session, username, role, password)  # type: ignore[arg-type]
        audit.record(session, command_actor(), "account_add", username, at=utcnow(), role=role)  # type: ignore[arg-type]

    try:
        in_transaction(settings, work)
    except AccountError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    print(f"added {username} ({role})")
    return 0


def _export(settings: Settings, args: argparse.Namespace) -> int:
    filters = Filters(
        consultation=args.consultation,
        category=args.category,
        village=args.village,
        status=args.status,
        since=args.since,
        until=args.until,
    )
    applicable = APPLICABLE[ExportKind.OPINIONS if args.kind == ExportKind.PLAN else args.kind]
    misplaced = sorted(set(filters.describe()) - applicable)
    if misplaced:
        print(f"{', '.join('--' + m for m in misplaced)} do(es) not apply to {args.kind}", file=sys.stderr)
        return 2
    if args.kind == ExportKind.PLAN and args.format != "xlsx":
        print("the plan summary is XLSX only", file=sys.stderr)
        return 2
    try:
        count = asyncio.run(_write(settings, args.kind, args.format, args.out, filters))
    except UnknownFilterValue as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except (OSError, ValueError) as exc:
        print(f"export failed: {exc}", file=sys.stderr)
        return 1
    print(f"{count} rows -> {args.out}")
    return 0


class UnknownFilterValue(ValueError):
    """A filter names a consultation, category, status or village there is none of: the export would be
    empty for a typing error, and look like a true "no opinions"."""


# The filters that name something, and the column of each kind that holds it.
_NAMED_FILTERS = ("consultation", "category", "status", "village")


def _known_values(content: Content, kind: str, name: str) -> set[str]:
    """What content defines for a filter (the database may hold more: a consultation since removed)."""
    if name == "consultation":
        return set(content.consultations)
    if name == "category":
        return set(content.categories)
    if name == "village":
        return {str(village.no) for village in content.municipality.villages}
    if kind == "reports":
        return set(content.report_statuses)
    return {key.removeprefix("status_") for key in content.phrases if key.startswith("status_")}


async def _check_filter_values(session: AsyncSession, content: Content, kind: str, filters: Filters) -> None:
    """Refuse a filter value that neither content nor any stored row has, naming the valid ones."""
    from sqlalchemy import select

    from bot.db.models import Opinion, Report

    model = Report if kind == "reports" else Opinion
    columns = {"consultation": "consultation_id", "category": "category", "status": "status", "village": "village"}
    for name in _NAMED_FILTERS:
        value = getattr(filters, name)
        known = _known_values(content, kind, name)
        if value is None or str(value) in known:
            continue  # the usual case costs no query: a million-row export should not scan first
        column = getattr(model, columns[name])
        if await session.scalar(select(column).where(column == value).limit(1)) is not None:
            continue
        stored = await session.scalars(select(column).distinct())
        valid = known | {str(v) for v in stored if v is not None}
        shown = sorted(valid, key=lambda v: (len(v), v) if name == "village" else (0, v))
        raise UnknownFilterValue(
            f"no {name} {value!r} in content/ or the database; valid --{name} values: {', '.join(shown) or 'none'}"
        )


async def _write(settings: Settings, kind: str, fmt: str, out: Path, filters: Filters) -> int:
    from bot.content import load_content
    from bot.db.engine import create_engine, create_sessionmaker, migrate
    from bot.db.models import utcnow
    from bot.handlers.opinions.plan import plan_rows
    from bot.ops import audit
    from bot.staff.exports import export_to_file, write_xlsx_sheets

    content = load_content(settings.content_dir)
    engine = create_engine(settings.database_url)
    try:
        await migrate(engine)
        sessions = create_sessionmaker(engine)
        partial = out.with_name(out.name + ".partial")
        async with sessions() as session:
            rows_of = ExportKind.OPINIONS if kind == ExportKind.PLAN else kind
            await _check_filter_values(session, content, rows_of, filters)
            if kind == ExportKind.PLAN:
                count = await write_xlsx_sheets([("สรุปเพื่อจัดทำแผน", plan_rows(session, content, filters))], partial)
            else:
                count = await export_to_file(session, content, kind, filters, fmt, partial)
        # A half-written file never takes the real name.
        partial.replace(out)
        async with sessions() as session, session.begin():
            actor, described = command_actor(), filters.describe()
            audit.record(session, actor, "export", kind, at=utcnow(), format=fmt, rows=count, filters=described)
        return count
    finally:
        await engine.dispose()
