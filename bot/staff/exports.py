"""Exports of opinions, reports and questions as CSV or XLSX, shared by the workspace and the command line.

Rows stream from the database in partitions and go straight to the file, so memory stays flat however many
rows there are. Every cell is text that no spreadsheet will run (docs/security.md#exports): a value that begins
with = + - @ tab CR LF or NUL gets a leading apostrophe, and so does one that begins with any other control,
space, zero-width or bidi character (a spreadsheet, or the XLSX writer, may drop it and find a formula behind
it); CSV quotes every field. In CSV every cell is text and dates are Buddhist-era text ("05/01/2569 09:30"); in
XLSX numbers are numbers and dates are real dates shown in the Buddhist era (Excel's Thai calendar format), so
they sort, filter and sum, and only text cells carry the guard. The header is bold and frozen.
Residents appear under their keyed pseudonym, never their LINE user id.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import datetime as dt
import json
import os
import queue
import re
import shutil
import sys
import threading
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from sqlalchemy import Integer, Numeric, Select, String, and_, case, cast, func, literal, literal_column, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from bot.content import Content
from bot.db.codes import ExportKind
from bot.db.engine import driver_connection
from bot.db.models import Opinion, Report, Resident, ServiceQuery
from bot.db.statuses import OpinionStatus
from bot.delivery.geo import MAP_URL_PREFIX
from bot.handlers.services.timeline import BANGKOK
from bot.references import stored_reference
from bot.staff import sqlite_csv

# The exports of rows; ExportKind.PLAN is the opinions grouped, xlsx only.
KINDS = (ExportKind.OPINIONS, ExportKind.REPORTS, ExportKind.QUERIES)
FORMATS = ("csv", "xlsx")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\0")
# Characters that may stand, unseen or dropped, before a formula: C0 and C1 controls, spaces, the soft hyphen,
# zero-width characters, bidi marks and controls, the BOM. A value starting with one is guarded as well.
_HIDDEN_STARTS = (
    (0x00, 0x20),
    (0x7F, 0xA0),
    (0xAD, 0xAD),
    (0x061C, 0x061C),
    (0x180E, 0x180E),
    (0x2000, 0x200F),
    (0x2028, 0x202F),
    (0x205F, 0x206F),
    (0x3000, 0x3000),
    (0xFEFF, 0xFEFF),
    (0xFFF9, 0xFFFB),
)
_GUARDED = frozenset(
    {ord(c) for c in _FORMULA_STARTS} | {code for low, high in _HIDDEN_STARTS for code in range(low, high + 1)}
)
# Characters XML 1.0 (and so XLSX) cannot hold; openpyxl refuses them.
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_PARTITION = 2000
# A CSV export on SQLite runs in up to this many processes, each writing at least this many ids.
SQLITE_MAX_PROCESSES = 4
SQLITE_ROWS_PER_PROCESS = 100_000
# Excel's sheet limit (1,048,576 rows) minus the header row.
XLSX_MAX_ROWS = 1_048_575
BE_OFFSET = 543  # Buddhist era = Gregorian + 543


def neutralise(value: str) -> str:
    """Text a spreadsheet shows as it is and never evaluates."""
    return "'" + value if value and ord(value[0]) in _GUARDED else value


# The filters' sane range (the staff pages and the command line refuse the rest). Python's calendar ends at
# 9999-12-31 and begins at 0001-01-01, and a filter day becomes a Bangkok day's bounds in UTC (the day after
# `until`, the evening before `since`), so the very ends overflowed. Nothing the bot holds is older than 1900,
# and a year past 2499 is a Buddhist-era year typed by mistake (2569 is 2026). Village numbers (หมู่ที่) are
# small: past 2**31 PostgreSQL's integer refuses one, past 2**63 SQLite's.
EARLIEST_DAY = dt.date(1900, 1, 1)
LATEST_DAY = dt.date(2499, 12, 31)
MAX_VILLAGE = 999


@dataclass(frozen=True)
class Filters:
    """What staff narrowed the list to; the same filters serve the pages and the exports."""

    consultation: str | None = None
    category: str | None = None
    village: int | None = None
    status: str | None = None
    since: dt.date | None = None  # inclusive, Bangkok calendar day
    until: dt.date | None = None  # inclusive
    words: tuple[str, ...] = ()  # every word must appear in the text (the search box, tokenized)
    # A reference typed in the search box, in any form bot/references.py reads ("2569-00001", "ร 2569 00001"):
    # only the case of that reference. Kept as typed text so the audit log's record of the filters stays text.
    reference: str | None = None

    def describe(self) -> dict[str, Any]:
        """For the audit log: the filters that were set."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) not in (None, ())}


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=BANGKOK).astimezone(dt.UTC)


def _common(model: Any, filters: Filters) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.since:
        conditions.append(model.created_at >= _day_start(filters.since))
    if filters.until:
        conditions.append(model.created_at < _day_start(filters.until + dt.timedelta(days=1)))
    conditions += [model.text.contains(word, autoescape=True) for word in filters.words]
    return conditions


def _reference(model: Any, kind: str, filters: Filters) -> list[ColumnElement[bool]]:
    if filters.reference is None:
        return []
    # None when the letter names the other kind: 'ค-...' in the reports list finds nothing (NULL matches none).
    return [model.reference == stored_reference(kind, filters.reference)]


def opinion_conditions(filters: Filters) -> list[ColumnElement[bool]]:
    conditions = _common(Opinion, filters) + _reference(Opinion, "opinion", filters)
    if filters.consultation:
        conditions.append(Opinion.consultation_id == filters.consultation)
    if filters.category:
        conditions.append(Opinion.category == filters.category)
    if filters.village is not None:
        conditions.append(Opinion.village == filters.village)
    if filters.status:
        conditions.append(Opinion.status == filters.status)
    return conditions


def report_conditions(filters: Filters) -> list[ColumnElement[bool]]:
    conditions = _common(Report, filters) + _reference(Report, "report", filters)
    if filters.village is not None:
        conditions.append(Report.village == filters.village)
    if filters.status:
        conditions.append(Report.status == filters.status)
    return conditions


def query_conditions(filters: Filters) -> list[ColumnElement[bool]]:
    return _common(ServiceQuery, filters)


# Which filters mean something for each kind (the command line refuses the others rather than ignore them).
APPLICABLE = {
    "opinions": {"consultation", "category", "village", "status", "since", "until", "words", "reference"},
    "reports": {"village", "status", "since", "until", "words", "reference"},
    "queries": {"since", "until", "words"},
}


# Every cell is rendered to its final text by the database itself (labels, Bangkok times, the apostrophe
# before a formula), so a million rows stream through Python without a function call per cell: that is what
# keeps a CSV export within a small factor of `sqlite3 -csv` (docs/decisions/sqlite-csv.md).
Render = Callable[[str], ColumnElement[str]]  # dialect name -> SQL expression

# What a column holds, for the XLSX cell it becomes: text (guarded), a number, a date and time, a number with
# two decimals, or a web address (a link).
TEXT, NUMBER, MOMENT, DECIMAL, LINK = "text", "number", "moment", "decimal", "link"
# Excel's code for the Thai Buddhist calendar (07) in the Thai locale (041E), digits as 0-9 (1): the year
# shows as 2569; a spreadsheet that ignores the code still holds and shows the right day.
MOMENT_FORMAT = "[$-107041E]dd/mm/yyyy hh:mm"
DECIMAL_FORMAT = "0.00"


class Heading(str):
    """A header cell's text, with what the XLSX writer needs to lay its column out: the width in characters
    and the kind of value below it (CSV writes it as the text it is)."""

    width: float
    kind: str

    def __new__(cls, text: str, width: float = 14, kind: str = TEXT) -> Heading:
        heading = super().__new__(cls, text)
        heading.width, heading.kind = width, kind
        return heading


@dataclass(frozen=True)
class Column:
    header: str
    render: Render
    kind: str = TEXT
    # The value itself for XLSX (a number or a UTC datetime); None when the rendered text is the value.
    raw: Any = None
    width: float = 14  # characters, for the XLSX column


def _safe(expression: ColumnElement[Any], dialect: str) -> ColumnElement[str]:
    """The value as text, '' for NULL, with an apostrophe before anything a spreadsheet would evaluate."""
    as_text = func.coalesce(cast(expression, String), "")
    # The codes written into the SQL as numbers (ours, not input): 120 bound values per column would crowd the
    # statement's parameters.
    codes = sorted(_GUARDED)
    if dialect == "sqlite":
        # unicode() reads the first character's code without copying the text as substr() does (a quarter of
        # a million-row export's time). It gives NULL for text that starts with NUL, hence the second test.
        first = func.unicode(expression)
        dangerous = or_(first.in_([literal_column(str(c)) for c in codes]), and_(first.is_(None), expression > ""))
        return case((dangerous, literal("'") + as_text), else_=as_text)
    # PostgreSQL's ascii() is the first character's code point in a UTF-8 database, 0 for ''; its text cannot
    # hold NUL at all.
    dangerous = func.ascii(as_text).in_([literal_column(str(c)) for c in codes if c])
    return case((dangerous, literal("'") + as_text), else_=as_text)


def _plain(column: Any) -> Render:
    return lambda dialect: _safe(column, dialect)


def _number(column: Any) -> Render:
    """A number only ever starts with a minus sign of all the dangerous characters."""
    as_text = func.coalesce(cast(column, String), "")
    return lambda _dialect: case((column < 0, literal("'") + as_text), else_=as_text)


def _generated(column: Any) -> Render:
    """Values this program makes in a fixed format (reference numbers, hex pseudonyms): nothing to guard."""
    return lambda _dialect: func.coalesce(column, "")


def _labelled(column: Any, labels: dict[str, str]) -> Render:
    """Ids shown as the labels content gives them (labels neutralised here, ids in SQL)."""
    mapping = {key: neutralise(label) for key, label in labels.items()}
    return lambda dialect: (
        case(mapping, value=column, else_=_safe(column, dialect)) if mapping else _safe(column, dialect)
    )


def _bangkok(column: Any) -> Render:
    """Thai time as Buddhist-era text, "05/01/2569 09:30" (day/month/year as Thai offices write it)."""

    def render(dialect: str) -> ColumnElement[str]:
        if dialect == "postgresql":
            local = func.timezone("Asia/Bangkok", column)
            year = cast(cast(func.date_part("year", local), Integer) + BE_OFFSET, String)
            moment = func.to_char(local, "DD/MM/", type_=String) + year + func.to_char(local, " HH24:MI", type_=String)
            return func.coalesce(moment, "")
        # SQLite keeps UTC text; Thailand has kept UTC+7 all year since 1920.
        year = cast(cast(func.strftime("%Y", column, "+7 hours"), Integer) + BE_OFFSET, String)
        day = func.strftime("%d/%m/", column, "+7 hours", type_=String)
        moment = day + year + func.strftime(" %H:%M", column, "+7 hours", type_=String)
        return func.coalesce(moment, "")

    return render


def _map_link(latitude: Any, longitude: Any) -> Render:
    """An OpenStreetMap link with a marker at the point (bot.delivery.geo.map_url makes the same one), '' without
    one."""

    def six_places(column: Any, dialect: str) -> ColumnElement[str]:
        # As Python's f"{x:.6f}": PostgreSQL's numeric keeps the six places of round(), SQLite's printf pads.
        if dialect == "postgresql":
            return cast(func.round(cast(column, Numeric), 6), String)
        return func.printf("%.6f", column)

    def render(dialect: str) -> ColumnElement[str]:
        lat, lon = six_places(latitude, dialect), six_places(longitude, dialect)
        url = literal(MAP_URL_PREFIX) + lat + literal("&mlon=") + lon
        url = url + literal("#map=17/") + lat + literal("/") + lon
        return case((and_(latitude.is_not(None), longitude.is_not(None)), url), else_="")

    return render


def _yes_no(column: Any) -> Render:
    return lambda _dialect: case((column.is_(True), "ใช่"), else_="ไม่ใช่")


def _two_decimals(column: Any) -> Render:
    def render(dialect: str) -> ColumnElement[str]:
        if dialect == "postgresql":
            return func.coalesce(func.to_char(column, "FM0.00"), "")
        return func.coalesce(func.printf("%.2f", column), "")

    return render


def _moment(header: str, column: Any) -> Column:
    return Column(header, _bangkok(column), MOMENT, column, 17)


def _count(header: str, column: Any, width: float = 9) -> Column:
    return Column(header, _number(column), NUMBER, column, width)


def _coordinates(model: Any) -> list[Column]:
    """The point as two numbers and as a link to it on the map."""
    return [
        Column("ละติจูด", _number(model.latitude), NUMBER, model.latitude, 11),
        Column("ลองจิจูด", _number(model.longitude), NUMBER, model.longitude, 11),
        Column("แผนที่", _map_link(model.latitude, model.longitude), LINK, None, 30),
    ]


def opinion_columns(content: Content) -> list[Column]:
    categories = {c.id: c.label for c in content.categories.values()}
    consultations = {c.id: c.title for c in content.consultations.values()}
    statuses = {k.removeprefix("status_"): v for k, v in content.phrases.items() if k.startswith("status_")}
    return [
        Column("เลขที่อ้างอิง", _generated(Opinion.reference)),
        _moment("วันเวลาที่ส่ง", Opinion.created_at),
        Column("การรับฟังความคิดเห็น", _labelled(Opinion.consultation_id, consultations), width=30),
        _count("หมู่ที่", Opinion.village),
        Column("หมวด", _labelled(Opinion.category, categories), width=30),
        Column("หมวดที่ระบบเสนอ", _labelled(Opinion.category_suggested, categories), width=30),
        Column("ความคิดเห็น", _plain(Opinion.text), width=60),
        *_coordinates(Opinion),
        Column("สถานะ", _labelled(Opinion.status, statuses)),
        Column("รายละเอียดผลการพิจารณา", _plain(Opinion.outcome_detail), width=30),
        Column("โครงการในแผน", _plain(Opinion.plan_project), width=30),
        Column("บันทึกเจ้าหน้าที่", _plain(Opinion.staff_note), width=30),
        Column("ผู้ส่ง (นามแฝง)", _generated(Resident.pseudonym), width=18),
    ]


def report_columns(content: Content) -> list[Column]:
    types = {t.id: t.label for t in content.report_types.values()}
    divisions = {d.id: d.name for d in content.municipality.divisions}
    return [
        Column("เลขที่อ้างอิง", _generated(Report.reference)),
        _moment("วันเวลาที่แจ้ง", Report.created_at),
        Column("ประเภท", _labelled(Report.type, types), width=20),
        Column("หน่วยงานที่รับผิดชอบ", _labelled(Report.division, divisions), width=24),
        _count("หมู่ที่", Report.village),
        Column("รายละเอียด", _plain(Report.text), width=60),
        Column("สถานที่", _plain(Report.place), width=30),
        *_coordinates(Report),
        Column("สถานะ", _labelled(Report.status, content.report_statuses)),
        _count("คะแนนความพึงพอใจ", Report.rating, 12),
        _moment("ปรับปรุงล่าสุด", Report.updated_at),
        Column("ผู้แจ้ง (นามแฝง)", _generated(Resident.pseudonym), width=18),
    ]


def query_columns(content: Content) -> list[Column]:
    services = {s.id: s.name for s in content.services.values()}
    intents = content.staff_labels.words.get("intents", {})  # every Intent has its word (content check)
    return [
        _moment("วันเวลาที่ถาม", ServiceQuery.created_at),
        Column("คำถาม", _plain(ServiceQuery.text), width=60),
        Column("ความตั้งใจที่ระบบอ่านได้", _labelled(ServiceQuery.intent, intents), width=24),
        Column("บริการที่ตรงที่สุด", _labelled(ServiceQuery.service_id, services), width=30),
        Column("คะแนนความตรง", _two_decimals(ServiceQuery.score), DECIMAL, ServiceQuery.score, 10),
        Column("ตอบได้", _yes_no(ServiceQuery.answered), width=8),
        Column("คำติชม", _plain(ServiceQuery.feedback), width=8),
        Column("การคัดแยกของเจ้าหน้าที่", _plain(ServiceQuery.triage)),
        Column("ผู้ถาม (นามแฝง)", _generated(Resident.pseudonym), width=18),
    ]


_MODELS: dict[str, Any] = {"opinions": Opinion, "reports": Report, "queries": ServiceQuery}


def columns_for(kind: str, content: Content) -> list[Column]:
    return {"opinions": opinion_columns, "reports": report_columns, "queries": query_columns}[kind](content)


def export_statement(
    kind: str, filters: Filters, columns: list[Column], dialect: str, typed: bool = False
) -> Select[Any]:
    """The rendered rows of one export, oldest first, each with the resident's pseudonym ('' once they
    deleted their data). typed: numbers and dates as values (for XLSX), the rest rendered as for CSV."""
    model: Any = _MODELS[kind]
    conditions = {
        "opinions": opinion_conditions,
        "reports": report_conditions,
        "queries": query_conditions,
    }[kind]
    rendered: list[Any] = [c.raw if typed and c.raw is not None else c.render(dialect) for c in columns]
    statement: Select[Any] = (
        select(*rendered)
        .select_from(model)
        .outerjoin(Resident, Resident.id == model.resident_id)
        .where(*conditions(filters))
        .order_by(model.id)
    )
    if kind == "opinions":
        # Withdrawn opinions were taken back by their authors: they are not the municipality's to hand on.
        statement = statement.where(Opinion.status != OpinionStatus.WITHDRAWN)
    return statement


async def export_rows(
    session: AsyncSession, content: Content, kind: str, filters: Filters, typed: bool = False
) -> AsyncIterator[list[list[Any]]]:
    """Batches of neutralised rows (the header first), streamed from the database; typed as for
    export_statement."""
    columns = columns_for(kind, content)
    yield [[Heading(neutralise(c.header), c.width, c.kind) for c in columns]]
    dialect = session.get_bind().dialect.name
    result = await session.stream(
        export_statement(kind, filters, columns, dialect, typed).execution_options(yield_per=_PARTITION)
    )
    # While the file takes one batch, the database already renders the next.
    batches = aiter(result.partitions())
    ahead = asyncio.ensure_future(anext(batches, None))
    try:
        while (partition := await ahead) is not None:
            ahead = asyncio.ensure_future(anext(batches, None))
            yield partition  # rows of str, written as they are
    finally:
        if not ahead.done():
            ahead.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ahead


async def export_to_file(
    session: AsyncSession, content: Content, kind: str, filters: Filters, fmt: str, path: Path
) -> int:
    """One export written to path as CSV or XLSX; the number of data rows."""
    bind = session.get_bind()
    if fmt == "csv" and bind.dialect.name == "postgresql":
        return await _copy_csv(session, content, kind, filters, path)
    if fmt == "csv" and bind.dialect.name == "sqlite" and bind.engine.url.database not in (None, "", ":memory:"):
        return await _sqlite_csv(session, content, kind, filters, path)
    typed = fmt == "xlsx"
    return await write_export(export_rows(session, content, kind, filters, typed), fmt, path)


async def write_export(rows: AsyncIterator[list[list[Any]]], fmt: str, path: Path) -> int:
    """Write the batches to path as CSV or XLSX; the number of data rows written."""
    if fmt == "csv":
        return await _write_csv(rows, path)
    if fmt == "xlsx":
        return await write_xlsx_sheets([("ข้อมูล", rows)], path)
    raise ValueError(f"format must be one of {', '.join(FORMATS)}")


async def _copy_csv(session: AsyncSession, content: Content, kind: str, filters: Filters, path: Path) -> int:
    """On PostgreSQL the database writes the CSV itself (COPY ... TO STDOUT, every field quoted) from the
    same rendered query: no Python work per row at all."""
    columns = columns_for(kind, content)
    sql, arguments = _driver_query(export_statement(kind, filters, columns, "postgresql"), session.get_bind().dialect)
    driver = await driver_connection(await session.connection())
    _start_csv(path, columns, lineterminator="\n")  # COPY ends its lines with \n
    with path.open("ab") as handle:

        async def write(chunk: bytes) -> None:
            handle.write(chunk)

        status = await driver.copy_from_query(
            sql, *arguments, output=write, format="csv", force_quote=True, encoding="utf-8"
        )
    return int(str(status).rsplit(" ", 1)[-1])


async def _sqlite_csv(session: AsyncSession, content: Content, kind: str, filters: Filters, path: Path) -> int:
    """On SQLite the same rendered query runs on the sqlite3 module over contiguous ranges of ids, in as many
    processes as there are cores (up to 4) once there are enough rows; see bot/staff/sqlite_csv.py."""
    bind = session.get_bind()
    columns = columns_for(kind, content)
    statement = export_statement(kind, filters, columns, "sqlite")
    model = _MODELS[kind]
    low, high = (await session.execute(select(func.min(model.id), func.max(model.id)))).one()
    _start_csv(path, columns, lineterminator="\r\n")  # what the csv module ends lines with in the parts
    if low is None:
        return 0
    parts = max(1, min(os.cpu_count() or 1, SQLITE_MAX_PROCESSES, (high - low + 1) // SQLITE_ROWS_PER_PROCESS))
    step = (high - low + 1) // parts
    ranges = [(low + k * step, high if k == parts - 1 else low + (k + 1) * step - 1) for k in range(parts)]
    jobs = [_driver_query(statement.where(model.id.between(a, b)), bind.dialect) for a, b in ranges]
    database = str(bind.engine.url.database)
    if parts == 1:
        return await asyncio.to_thread(sqlite_csv.write_part, database, *jobs[0], str(path))
    # The first range is written straight after the header; the others beside it, then appended in order.
    outs = [path] + [path.with_name(f"{path.name}.part{k}") for k in range(1, parts)]
    try:
        counts = await asyncio.gather(
            *(_sqlite_child(database, sql, params, out) for (sql, params), out in zip(jobs, outs, strict=True))
        )
        with path.open("ab") as joined:
            for part in outs[1:]:
                with part.open("rb") as piece:
                    shutil.copyfileobj(piece, joined, 1 << 20)
    finally:
        for part in outs[1:]:
            part.unlink(missing_ok=True)
    return sum(counts)


def _start_csv(path: Path, columns: list[Column], lineterminator: str) -> None:
    """A new CSV file holding the BOM Excel needs to read it as UTF-8, and the quoted header row."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write("\ufeff")
        header = [neutralise(c.header) for c in columns]
        csv.writer(handle, quoting=csv.QUOTE_ALL, lineterminator=lineterminator).writerow(header)


def _driver_query(statement: Select[Any], dialect: Any) -> tuple[str, list[Any]]:
    """SQL text and positional values for the database driver itself (asyncpg's COPY, the sqlite3 module),
    each value through its type's own bind processing (on SQLite a datetime becomes the text stored), as
    SQLAlchemy would send it. IN lists are rendered out: "expanding" parameters otherwise leave placeholders
    only SQLAlchemy fills."""
    compiled = statement.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    params = compiled.construct_params()
    values = []
    for name in compiled.positiontup or ():
        bound = compiled.binds.get(name)
        processor = bound.type.dialect_impl(dialect).bind_processor(dialect) if bound is not None else None
        values.append(processor(params[name]) if processor else params[name])
    return compiled.string, values


async def _sqlite_child(database: str, sql: str, params: list[Any], out: Path) -> int:
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.staff.sqlite_csv",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    job = {"database": database, "sql": sql, "params": params, "out": str(out)}
    stdout, stderr = await child.communicate(json.dumps(job).encode())
    if child.returncode != 0:
        raise OSError(f"CSV export part failed: {stderr.decode(errors='replace')[-500:]}")
    return int(stdout)


async def _write_csv(rows: AsyncIterator[list[list[Any]]], path: Path) -> int:
    count = -1  # the header is not a data row
    with path.open("w", encoding="utf-8", newline="") as handle:
        # The BOM Excel needs to read the file as UTF-8 (Thai otherwise shows as mojibake). Written once by
        # hand: the utf-8-sig codec would be consulted on every row.
        handle.write("\ufeff")
        writer = csv.writer(handle, quoting=csv.QUOTE_ALL)
        async for batch in rows:
            writer.writerows(batch)
            count += len(batch)
    return max(count, 0)


_DONE = object()


async def write_xlsx_sheets(sheets: Iterable[tuple[str, AsyncIterator[list[list[Any]]]]], path: Path) -> int:
    """Write sheets of rows to an XLSX file. openpyxl's write-only mode keeps memory flat; it runs in a
    thread fed through a bounded queue, so building a large file never stalls the server's event loop."""
    handoff: queue.Queue[object] = queue.Queue(maxsize=4)
    outcome: dict[str, object] = {}
    writer = threading.Thread(target=_xlsx_writer, args=(handoff, path, outcome), daemon=True)
    writer.start()
    count = 0
    try:
        for title, rows in sheets:
            await _hand(handoff, ("sheet", title))
            first = True
            async for batch in rows:
                count += len(batch) - (1 if first else 0)
                first = False
                await _hand(handoff, ("rows", batch))
    finally:
        await _hand(handoff, _DONE)
        await asyncio.to_thread(writer.join)
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return count


async def _hand(handoff: queue.Queue[object], item: object) -> None:
    while True:
        try:
            handoff.put_nowait(item)
            return
        except queue.Full:
            await asyncio.sleep(0.005)


def _xlsx_writer(handoff: queue.Queue[object], path: Path, outcome: dict[str, object]) -> None:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet: Any = None
    layout: list[str] = []
    written = 0
    failed = False
    while (item := handoff.get()) is not _DONE:
        if failed:
            continue  # drain, so the producer never blocks on a full queue
        kind: str
        payload: Any
        kind, payload = item  # type: ignore[misc]
        try:
            if kind == "sheet":
                sheet, written, layout = book.create_sheet(title=payload[:31]), 0, []
                continue
            for row in payload:
                if written > XLSX_MAX_ROWS:
                    raise ValueError(f"more than {XLSX_MAX_ROWS:,} rows: narrow the filters or export CSV")
                if written == 0:
                    layout = _header(sheet, row)
                else:
                    sheet.append([_cell(sheet, v, layout[i] if i < len(layout) else TEXT) for i, v in enumerate(row)])
                written += 1
        except Exception as exc:  # handed to the caller, who raises it in the event loop
            outcome["error"], failed = exc, True
    if not failed:
        try:
            book.save(path)
        except Exception as exc:
            outcome["error"] = exc


def _header(sheet: Any, row: list[Any]) -> list[str]:
    """The bold header row, frozen so it stays in view, and each column's width; the columns' kinds."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    sheet.freeze_panes = "A2"  # must be set before the first row is written
    bold, wrap = Font(bold=True), Alignment(wrap_text=True, vertical="top")
    cells = []
    for index, text in enumerate(row, start=1):
        width = text.width if isinstance(text, Heading) else max(10, min(40, len(str(text)) + 4))
        sheet.column_dimensions[get_column_letter(index)].width = width
        cell = WriteOnlyCell(sheet, value=_text(str(text)))
        cell.font, cell.alignment = bold, wrap
        cells.append(cell)
    sheet.append(cells)
    return [text.kind if isinstance(text, Heading) else TEXT for text in row]


def _cell(sheet: Any, value: Any, kind: str) -> Any:
    """One value as its XLSX cell: numbers stay numbers, datetimes become dates in Thai time shown in the
    Buddhist era, web addresses links, and text is guarded (see neutralise)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        if kind != DECIMAL:
            return value
        return _formatted(sheet, value, DECIMAL_FORMAT)
    if isinstance(value, dt.datetime):
        # Excel has no time zones: the cell holds the Bangkok wall-clock time staff expect to read.
        local = value.astimezone(BANGKOK).replace(tzinfo=None) if value.tzinfo else value
        return _formatted(sheet, local, MOMENT_FORMAT)
    text = _text(str(value))
    if kind == LINK and text.startswith("https://"):
        from openpyxl.cell import WriteOnlyCell

        cell = WriteOnlyCell(sheet, value=text)
        cell.hyperlink = text
        return cell
    return text


def _formatted(sheet: Any, value: Any, number_format: str) -> Any:
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, value=value)
    cell.number_format = number_format
    return cell


def _text(value: str) -> str:
    # The characters XML cannot hold are dropped first and the guard applied again to what is left, so
    # dropping them can never bring a formula to the front; openpyxl then writes the value as text.
    return neutralise(_XML_ILLEGAL.sub("", value))
