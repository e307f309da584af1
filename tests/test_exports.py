"""Exports read back the way staff open them (the csv module, openpyxl): Thai intact, the BOM Excel needs,
pseudonyms instead of LINE ids, the list's filters applied, an audit row each time, and not one formula
out of a corpus of spreadsheet-injection payloads."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import json
import subprocess
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select, update

from bot.db.models import AuditEntry, ServiceQuery
from bot.staff.exports import neutralise
from tests.conftest import Bot
from tests.serving import cli_env, run_cli
from tests.staffing import add_opinions, add_questions, add_report, add_resident, add_staff, sign_in

# Payloads that spreadsheets run or that hide a formula behind whitespace (docs/security.md#exports).
ATTACKS = [
    "=1+1",
    '=HYPERLINK("https://evil.example","คลิก")',
    "+1+1",
    "-1+1",
    "@SUM(A1:A2)",
    "\t=1+1",
    "\r=1+1",
    "\n=1+1",
    "\0=1+1",
    "=cmd|' /C calc'!A0",
    "＝1+1",  # full-width equals: harmless text in spreadsheets, kept as it is
    "ปกติ =1+1",
]
# PostgreSQL cannot store NUL in text (and the chat strips control characters before storing anything), so
# the NUL payload is checked by the neutralise() test only.
STORED_ATTACKS = [a for a in ATTACKS if "\0" not in a]


async def _exporter(bot: Bot) -> None:
    await add_staff(bot, "somsri", "exporter")
    await sign_in(bot.client, "somsri")


async def _download(bot: Bot, path: str) -> bytes:
    response = await bot.client.get(path)
    assert response.status == 200, await response.text()
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["Cache-Control"] == "no-store"
    return await response.read()


def _starts_dangerously(value: str) -> bool:
    return value.startswith(("=", "+", "-", "@", "\t", "\r", "\n", "\0"))


def test_neutralise_covers_every_dangerous_start() -> None:
    for attack in ATTACKS:
        assert not _starts_dangerously(neutralise(attack))
    assert neutralise("ถนนชำรุด") == "ถนนชำรุด"


async def test_csv_export_is_excel_ready_thai_with_pseudonyms(bot: Bot) -> None:
    resident = await add_resident(bot)
    other = await add_resident(bot)
    await add_opinions(bot, [("ขอไฟส่องสว่างซอย 5", "physical", 5), ("ตลาดนัดชุมชน", "economy", 3)], resident)
    await add_opinions(bot, [("ซ่อมถนนหมู่ 3", "physical", 3)], other)
    await _exporter(bot)
    raw = await _download(bot, "/staff/export/opinions.csv")
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][0] == "เลขที่อ้างอิง" and "ผู้ส่ง (นามแฝง)" in rows[0]
    assert {r[6] for r in rows[1:]} == {"ขอไฟส่องสว่างซอย 5", "ตลาดนัดชุมชน", "ซ่อมถนนหมู่ 3"}
    pseudonyms = [r[-1] for r in rows[1:]]
    assert pseudonyms[0] == pseudonyms[1] != pseudonyms[2]
    assert resident.line_user_id not in raw.decode("utf-8-sig") and other.line_user_id not in raw.decode("utf-8-sig")
    assert b'"' in raw.splitlines()[1][:1]  # every field quoted
    filtered = list(
        csv.reader(io.StringIO((await _download(bot, "/staff/export/opinions.csv?village=3")).decode("utf-8-sig")))
    )
    assert len(filtered) == 3
    for query, expected in (("since=2000-01-01&q=ซอย", 2), ("until=2000-01-01", 1)):
        raw_rows = (await _download(bot, f"/staff/export/opinions.csv?{query}")).decode("utf-8-sig")
        assert len(list(csv.reader(io.StringIO(raw_rows)))) == expected, query
    async with bot.sessions() as session:
        entries = list(await session.scalars(select(AuditEntry).where(AuditEntry.action == "export")))
    assert [json.loads(e.detail)["rows"] for e in entries] == [3, 2, 1, 0]
    assert json.loads(entries[1].detail)["filters"] == {"village": 3} and entries[1].actor == "somsri"


async def test_no_formula_survives_into_csv_or_xlsx(bot: Bot) -> None:
    resident = await add_resident(bot)
    await add_opinions(bot, [(attack, "physical", 1) for attack in STORED_ATTACKS], resident, staff_note="=1+1")
    await add_report(bot, resident, "ร-2569-00001", '=HYPERLINK("x")', place="@evil")
    await add_questions(bot, ["=1+1", "-2"])
    await _exporter(bot)
    for kind in ("opinions", "reports", "queries"):
        text = (await _download(bot, f"/staff/export/{kind}.csv")).decode("utf-8-sig")
        cells = [c for row in csv.reader(io.StringIO(text)) for c in row]
        assert cells and not any(_starts_dangerously(c) for c in cells), kind
        book = openpyxl.load_workbook(io.BytesIO(await _download(bot, f"/staff/export/{kind}.xlsx")))
        sheet = book.active
        assert sheet is not None
        values = [cell for row in sheet.iter_rows() for cell in row]
        assert values and all(cell.data_type != "f" for cell in values), kind
        strings = [str(cell.value) for cell in values if cell.value is not None]
        assert not any(_starts_dangerously(v) for v in strings), kind
    book = openpyxl.load_workbook(io.BytesIO(await _download(bot, "/staff/export/opinions.xlsx")))
    texts = [row[6] for row in book.active.iter_rows(min_row=2, values_only=True)]  # type: ignore[union-attr]
    assert "'=1+1" in texts and "ปกติ =1+1" in texts and "＝1+1" in texts


async def test_the_plan_workbook_groups_by_category_and_village(bot: Bot) -> None:
    await add_opinions(
        bot,
        [
            ("ขอไฟส่องสว่างซอย 5 ด้วยครับ", "physical", 5),
            ("ขอไฟส่องสว่างซอย 5 มืดมาก", "physical", 5),
            ("ซ่อมถนนหมู่ 3", "physical", 3),
            ("ตลาดนัดชุมชน", "economy", 3),
        ],
    )
    await _exporter(bot)
    book = openpyxl.load_workbook(io.BytesIO(await _download(bot, "/staff/export/plan.xlsx")))
    rows = list(book.active.iter_rows(values_only=True))  # type: ignore[union-attr]
    assert rows[0][:4] == ("หมวด (ยุทธศาสตร์)", "หมู่ที่", "หมู่บ้าน", "จำนวนความคิดเห็น")
    counts = {(r[0], r[1]): r[3] for r in rows[1:]}
    physical = next(label for label, _ in counts if "กายภาพ" in label)
    assert counts[(physical, 5)] == 2 and counts[(physical, 3)] == 1 and len(counts) == 3
    five = next(r for r in rows[1:] if r[0] == physical and r[1] == 5)
    assert "(2)" in five[4]  # the two lights opinions are one issue raised twice


async def test_export_command_writes_the_file_and_audits_it(bot: Bot, database_url: str, tmp_path: Path) -> None:
    await add_opinions(bot, [("ขอไฟส่องสว่างซอย 5", "physical", 5), ("ตลาดนัดชุมชน", "economy", 3)])
    env = cli_env(tmp_path, database_url)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return run_cli(env, "export", *args)

    out = tmp_path / "opinions.xlsx"
    done = await asyncio.to_thread(run, "opinions", "--format", "xlsx", "--out", str(out), "--category", "economy")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"1 rows -> {out}"
    rows = list(openpyxl.load_workbook(out).active.iter_rows(values_only=True))  # type: ignore[union-attr]
    assert len(rows) == 2 and rows[1][6] == "ตลาดนัดชุมชน"
    wrong = await asyncio.to_thread(
        run, "queries", "--format", "csv", "--out", str(tmp_path / "q.csv"), "--village", "3"
    )
    assert wrong.returncode == 2 and "--village" in wrong.stderr
    async with bot.sessions() as session:
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "export"))
    assert entry is not None and entry.actor.startswith("cli") and json.loads(entry.detail)["rows"] == 1


async def test_csv_on_sqlite_in_several_processes_matches_the_rows_read_through_the_driver(
    bot: Bot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The SQLite CSV path cuts the ids into ranges written by child processes and joins them; it must give
    byte for byte what reading the same rendered rows through SQLAlchemy gives, filters included."""
    from bot import keys
    from bot.staff import exports

    async with bot.sessions() as session:
        if session.get_bind().dialect.name != "sqlite":
            pytest.skip("PostgreSQL writes CSV with COPY (tested above)")
    resident = await add_resident(bot)
    texts = [(f'ความเห็นที่ {i} "ถนน"', "physical" if i % 2 else "economy", i % 3 + 1) for i in range(23)]
    await add_opinions(bot, texts + [(attack, "virtue", 1) for attack in STORED_ATTACKS], resident)
    monkeypatch.setattr(exports, "SQLITE_ROWS_PER_PROCESS", 5)
    monkeypatch.setattr(exports.os, "cpu_count", lambda: 4)
    content = bot.app[keys.CONTENT]
    for filters in (exports.Filters(), exports.Filters(village=2, since=dt.date(2000, 1, 1))):
        split, read = tmp_path / "split.csv", tmp_path / "read.csv"
        async with bot.sessions() as session:
            count = await exports.export_to_file(session, content, "opinions", filters, "csv", split)
        async with bot.sessions() as session:
            rows = exports.export_rows(session, content, "opinions", filters)
            expected = await exports.write_export(rows, "csv", read)
        assert count == expected > 0
        assert split.read_bytes() == read.read_bytes()
        assert [p.name for p in tmp_path.iterdir() if ".part" in p.name] == []  # noqa: ASYNC240


async def _workbook(bot: Bot, path: str) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(await _download(bot, path)))


def _column(sheet: object, header: str) -> int:
    """The 1-based index of the column under header."""
    headers = [c.value for c in next(sheet.iter_rows(max_row=1))]  # type: ignore[attr-defined]
    return headers.index(header) + 1


async def test_xlsx_keeps_numbers_and_dates_with_a_bold_frozen_header(bot: Bot) -> None:
    """Numbers are numeric cells, dates real dates shown in the Buddhist era, text guarded, the header bold
    and frozen, the long text columns wide: a spreadsheet sorts, filters and sums them as they are."""
    resident = await add_resident(bot)
    await add_opinions(bot, [("=1+1 ขอไฟ", "physical", 5)], resident, latitude=14.123456, longitude=100.5)
    await add_report(bot, resident, "ร-2569-00001", "ถนนชำรุด", rating=4, latitude=14.2, longitude=100.6)
    await add_questions(bot, ["ขอใบอนุญาตก่อสร้าง"])
    async with bot.sessions() as session, session.begin():
        await session.execute(update(ServiceQuery).values(score=0.8123))
    await _exporter(bot)
    sheet = (await _workbook(bot, "/staff/export/opinions.xlsx")).active
    assert sheet is not None and sheet.freeze_panes == "A2"
    assert all(cell.font.bold for cell in sheet[1])
    village, when = sheet.cell(2, _column(sheet, "หมู่ที่")), sheet.cell(2, _column(sheet, "วันเวลาที่ส่ง"))
    assert village.data_type == "n" and village.value == 5
    assert when.is_date and isinstance(when.value, dt.datetime) and "107041E" in when.number_format
    latitude = sheet.cell(2, _column(sheet, "ละติจูด"))
    assert latitude.data_type == "n" and latitude.value == pytest.approx(14.123456)
    text = sheet.cell(2, _column(sheet, "ความคิดเห็น"))
    assert text.data_type == "s" and text.value == "'=1+1 ขอไฟ"
    width = sheet.column_dimensions[openpyxl.utils.get_column_letter(_column(sheet, "ความคิดเห็น"))].width
    assert width >= 40
    link = sheet.cell(2, _column(sheet, "แผนที่"))
    assert link.value == "https://www.openstreetmap.org/?mlat=14.123456&mlon=100.500000#map=17/14.123456/100.500000"
    assert link.hyperlink is not None and link.hyperlink.target == link.value
    reports = (await _workbook(bot, "/staff/export/reports.xlsx")).active
    assert reports is not None
    rating = reports.cell(2, _column(reports, "คะแนนความพึงพอใจ"))
    assert rating.data_type == "n" and rating.value == 4
    assert reports.cell(2, _column(reports, "ปรับปรุงล่าสุด")).is_date
    queries = (await _workbook(bot, "/staff/export/queries.xlsx")).active
    assert queries is not None
    score = queries.cell(2, _column(queries, "คะแนนความตรง"))
    assert score.data_type == "n" and score.value == pytest.approx(0.8123) and score.number_format == "0.00"


async def test_the_date_in_xlsx_is_bangkok_time_and_in_csv_buddhist_era_text(bot: Bot) -> None:
    moment = dt.datetime(2026, 1, 4, 20, 15, tzinfo=dt.UTC)  # 03:15 on 5 January 2569 in Bangkok
    await add_opinions(bot, [("ขอไฟ", "physical", 5)], created_at=moment)
    await _exporter(bot)
    sheet = (await _workbook(bot, "/staff/export/opinions.xlsx")).active
    assert sheet is not None
    assert sheet.cell(2, _column(sheet, "วันเวลาที่ส่ง")).value == dt.datetime(2026, 1, 5, 3, 15)
    rows = list(csv.reader(io.StringIO((await _download(bot, "/staff/export/opinions.csv")).decode("utf-8-sig"))))
    assert rows[1][rows[0].index("วันเวลาที่ส่ง")] == "05/01/2569 03:15"
    assert rows[1][rows[0].index("แผนที่")] == ""  # no point, no link


async def test_the_plan_workbook_counts_are_numbers_and_withdrawn_opinions_are_counted_apart(bot: Bot) -> None:
    await add_opinions(bot, [("ขอไฟ", "physical", 5), ("ขอไฟซอย 2", "physical", 5), ("ถนน", "physical", None)])
    await add_opinions(bot, [("", "physical", 5), ("", "economy", 7)], status="withdrawn")
    await _exporter(bot)
    sheet = (await _workbook(bot, "/staff/export/plan.xlsx")).active
    assert sheet is not None and sheet.freeze_panes == "A2" and sheet["A1"].font.bold
    count_col, withdrawn_col = _column(sheet, "จำนวนความคิดเห็น"), _column(sheet, "ถอนแล้ว (ไม่นับรวม)")
    rows = list(sheet.iter_rows(min_row=2))
    counts = [r[count_col - 1] for r in rows]
    assert all(c.data_type == "n" for c in counts) and sum(c.value for c in counts) == 3
    by_village = {(r[0].value, r[1].value): (r[count_col - 1].value, r[withdrawn_col - 1].value) for r in rows}
    physical = next(label for label, _ in by_village if "กายภาพ" in label)
    assert by_village[(physical, 5)] == (2, 1)
    assert by_village[(physical, "ไม่ระบุ")] == (1, 0)
    economy = [v for (label, village), v in by_village.items() if village == 7]
    assert economy == [(0, 1)]  # only withdrawn there: listed, nothing counted
