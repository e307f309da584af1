"""Issue 14, items 5, 13 and 14: no formula reaches a spreadsheet however it hides (control, zero-width or BOM
characters before it, in residents' text or staff's), staff's free text is cleaned when saved, a stored
photo carries no metadata block at all, and absurd filter values are refused on the page, never a 500."""

from __future__ import annotations

import asyncio
import csv
import io
import unicodedata
from pathlib import Path

import openpyxl
import pytest
from PIL import Image, PngImagePlugin
from sqlalchemy import select

from bot.db.models import Opinion, Photo, ReportStatus
from tests.conftest import Bot, BotFactory
from tests.serving import cli_env, run_cli
from tests.staffing import add_opinions, add_questions, add_report, add_resident, add_staff, csrf_token, sign_in
from tests.test_photos import _opinion_with_photo, jpeg_with_gps

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\0")
# What may stand before a formula: every ASCII control, the BOM, zero-width and bidi characters.
HIDERS = ["", *(chr(c) for c in range(0x01, 0x20)), "\ufeff", "\u200b", "\u200c", "\u200d", "\u2060", "\u202e"]
PAYLOAD = 'HYPERLINK("https://evil.example","คลิก")'
CORPUS = [hider + start + PAYLOAD for start in FORMULA_STARTS for hider in HIDERS]


def _hides_a_formula(value: str) -> bool:
    """The value starts with a formula character, or does once what a spreadsheet may drop or not show
    (controls, format characters, spaces) is taken from its front."""
    if value.startswith(FORMULA_STARTS):
        return True
    rest = value
    while rest and unicodedata.category(rest[0]) in ("Cc", "Cf", "Zs"):
        rest = rest[1:]
        if rest.startswith(FORMULA_STARTS):
            return True
    return False


async def _download(bot: Bot, path: str) -> bytes:
    response = await bot.client.get(path)
    assert response.status == 200, await response.text()
    return await response.read()


async def test_no_hidden_formula_reaches_csv_or_xlsx(bot: Bot, database_url: str) -> None:
    # PostgreSQL text cannot hold NUL (the chat drops every control character before storing anything).
    corpus = CORPUS if database_url.startswith("sqlite") else [v for v in CORPUS if "\0" not in v]
    resident = await add_resident(bot)
    await add_opinions(
        bot, [(v, "physical", 1) for v in corpus], resident, staff_note=corpus[1], outcome_detail=corpus[2]
    )
    for n, value in enumerate(corpus[:40], start=1):
        await add_report(bot, resident, f"2569-9{n:04d}", value, place=corpus[-n])
    await add_questions(bot, corpus)
    await add_staff(bot, "somsri", "exporter")
    await sign_in(bot.client, "somsri")
    cells = 0
    for kind in ("opinions", "reports", "queries"):
        # CSV: SQLite's own rendering in the sqlite3 module, PostgreSQL's COPY.
        text = (await _download(bot, f"/staff/export/{kind}.csv")).decode("utf-8-sig")
        values = [c for row in csv.reader(io.StringIO(text, newline="")) for c in row]
        assert len(values) > len(corpus[:40]), kind
        assert [v for v in values if _hides_a_formula(v)] == [], kind
        cells += len(values)
    for path in (
        "/staff/export/opinions.xlsx",
        "/staff/export/reports.xlsx",
        "/staff/export/queries.xlsx",
        "/staff/export/plan.xlsx",
    ):
        book = openpyxl.load_workbook(io.BytesIO(await _download(bot, path)))
        sheet = book.active
        assert sheet is not None
        found = [cell for row in sheet.iter_rows() for cell in row]
        assert found and [c.coordinate for c in found if c.data_type == "f"] == [], path
        strings = [str(c.value) for c in found if c.value is not None]
        assert [v for v in strings if _hides_a_formula(v)] == [], path
        cells += len(found)
    book = openpyxl.load_workbook(io.BytesIO(await _download(bot, "/staff/export/opinions.xlsx")))
    texts = [row[6] for row in book.active.iter_rows(min_row=2, values_only=True)]  # type: ignore[union-attr]
    assert "'=" + PAYLOAD in texts  # "\x01=HYPERLINK(...)": the control character dropped, the apostrophe kept
    print(f"formula corpus: {len(corpus)} values, {cells} cells exported, 0 formulas")


async def test_staff_free_text_is_cleaned_when_saved(bot: Bot) -> None:
    await add_staff(bot, "somsri", "admin")
    await sign_in(bot.client, "somsri")
    resident = await add_resident(bot)
    [reference] = await add_opinions(bot, [("ขอไฟส่องสว่างซอย 5", "physical", 5)], resident)
    await add_report(bot, resident, "ร-2569-00001", "ถนนเป็นหลุม")
    here = f"/staff/opinions/{reference}"
    hostile = "\x01=" + PAYLOAD + "\u202e\u200b"
    for form in (
        {"action": "note", "note": hostile},
        {"action": "project", "project": "\ufeff@SUM(1)"},
        {"action": "outcome", "outcome": "in_plan", "detail": "\x02+" + PAYLOAD},
    ):
        token = await csrf_token(bot.client, here)
        response = await bot.client.post(here, data={**form, "csrf": token}, allow_redirects=False)
        assert response.status == 303 and "saved=" in response.headers["Location"], form
    token = await csrf_token(bot.client, "/staff/reports/2569-00001")
    response = await bot.client.post(
        "/staff/reports/2569-00001",
        data={"action": "status", "status": "in_progress", "note": "\x03-ช่าง\u202eจะเข้าซ่อม", "csrf": token},
        allow_redirects=False,
    )
    assert response.status == 303
    async with bot.sessions() as session:
        opinion = await session.scalar(select(Opinion).where(Opinion.reference == reference))
        note = await session.scalar(select(ReportStatus.note).where(ReportStatus.note.is_not(None)))
    assert opinion is not None
    assert opinion.staff_note == "=" + PAYLOAD
    assert opinion.plan_project == "@SUM(1)"
    assert opinion.outcome_detail == "+" + PAYLOAD
    assert note == "-ช่างจะเข้าซ่อม"
    # What an export shows is what the page shows: the formula guarded, nothing hidden.
    book = openpyxl.load_workbook(io.BytesIO(await _download(bot, "/staff/export/opinions.xlsx")))
    header, row = list(book.active.iter_rows(min_row=1, max_row=2, values_only=True))  # type: ignore[union-attr]
    # By header name: a column added to the export (the map link was one) does not move what is checked.
    cell = dict(zip(header, row, strict=True))
    assert cell["บันทึกเจ้าหน้าที่"] == "'=" + PAYLOAD
    assert cell["รายละเอียดผลการพิจารณา"] == "'+" + PAYLOAD
    assert cell["โครงการในแผน"] == "'@SUM(1)"


def _markers(data: bytes) -> list[tuple[int, bytes]]:
    """Every JPEG marker of the file, in order, with its segment's payload (b"" for those without one)."""
    assert data[:2] == b"\xff\xd8"
    found: list[tuple[int, bytes]] = [(0xD8, b"")]
    i = 2
    while i < len(data):
        assert data[i] == 0xFF, f"no marker at {i}"
        marker = data[i + 1]
        if marker == 0xD9:
            found.append((marker, b""))
            break
        length = int.from_bytes(data[i + 2 : i + 4], "big")
        found.append((marker, data[i + 4 : i + 2 + length]))
        i += 2 + length
        if marker == 0xDA:  # entropy-coded data up to the next marker that is not a stuffed byte or a restart
            while not (data[i] == 0xFF and data[i + 1] not in (0x00, *range(0xD0, 0xD8))):
                i += 1
    return found


def _photo_full_of_metadata() -> bytes:
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><rdf:Description CreatorTool="SecretCam"/></rdf:RDF>'
    xmp += b"</x:xmpmeta>"
    return jpeg_with_gps(comment=b"home of Somchai, soi 5", xmp=xmp)


@pytest.mark.parametrize("fmt", ["jpeg", "png"])
async def test_a_stored_photo_has_no_metadata_segment(make_bot: BotFactory, tmp_path: Path, fmt: str) -> None:
    if fmt == "jpeg":
        original = _photo_full_of_metadata()
        markers = {m for m, _ in _markers(original)}
        assert {0xFE, 0xE1} <= markers  # the fixture really carries a comment, EXIF and XMP
        assert sum(1 for m, p in _markers(original) if m == 0xE1) == 2
    else:
        text = PngImagePlugin.PngInfo()
        text.add_text("Comment", "home of Somchai, soi 5")
        text.add_itxt("XML:com.adobe.xmp", "SecretCam")
        out = io.BytesIO()
        Image.new("RGB", (320, 240), (10, 200, 40)).save(out, format="PNG", pnginfo=text)
        original = out.getvalue()
    bot, _ = await _opinion_with_photo(make_bot, original)
    async with bot.sessions() as session:
        photo = await session.scalar(select(Photo))
    assert photo is not None and photo.status == "stored" and photo.path
    stored = (tmp_path / "media" / photo.path).read_bytes()
    markers = _markers(stored)
    # Only what a plain baseline JPEG needs: SOI, the JFIF header, tables, the frame, the scan, EOI.
    assert {m for m, _ in markers} <= {0xD8, 0xE0, 0xDB, 0xC4, 0xC0, 0xDA, 0xD9}, [hex(m) for m, _ in markers]
    assert [p[:5] for m, p in markers if m == 0xE0] == [b"JFIF\x00"]
    for secret in (b"PhoneMaker", b"Somchai", b"SecretCam", b"xmpmeta"):
        assert secret not in stored
    with Image.open(io.BytesIO(stored)) as image:
        assert not image.getexif() and not {"comment", "xmp", "icc_profile", "exif"} & set(image.info)


BAD_FILTERS = [
    ("until=9999-12-31", "until"),
    ("since=0001-01-01", "since"),
    ("since=9999-12-31", "since"),
    ("until=0001-01-01", "until"),
    ("since=1%2F1%2F2442", "since"),  # a year of neither era (พ.ศ. 2442 is 1899; staff type พ.ศ.)
    ("village=123456789012345678901234", "village"),
    ("village=-99999999999999999999", "village"),
    ("village=2147483648", "village"),
    ("village=0", "village"),
    ("village=" + "9" * 5000, "village"),
    ("status=%00", "status"),
    ("consultation=%00", "consultation"),
    ("consultation=" + "x" * 5000, "consultation"),
]


async def test_absurd_filters_are_refused_on_the_page_not_a_500(bot: Bot) -> None:
    await add_staff(bot, "somsri", "exporter")
    await sign_in(bot.client, "somsri")
    resident = await add_resident(bot)
    await add_opinions(bot, [("ขอไฟส่องสว่างซอย 5", "physical", 5)], resident)
    await add_report(bot, resident, "ร-2569-00001", "ถนนเป็นหลุม")
    tried = 0
    for query, field in [*BAD_FILTERS, ("division=%00", "division")]:
        pages = ["/staff/reports"] if field == "division" else ["/staff/opinions", "/staff/reports", "/staff/insight"]
        for page in pages:
            response = await bot.client.get(f"{page}?{query}")
            body = await response.text()
            assert response.status == 200, (page, query, response.status)
            assert "ไม่ได้กรองตาม" in body, (page, query)  # the bad filter is dropped, and the page says so
            tried += 1
    for query, _field in BAD_FILTERS:
        for kind in ("opinions.csv", "opinions.xlsx", "reports.csv", "queries.xlsx", "plan.xlsx"):
            response = await bot.client.get(f"/staff/export/{kind}?{query}")
            assert response.status == 400, (kind, query, response.status)
            body = await response.text()
            assert "ดาวน์โหลดไม่ได้" in body and "ไม่ได้กรองตาม" in body, (kind, query)
            tried += 1
    # The edges still allowed work.
    for query in ("since=1900-01-01", "until=2499-12-31", "village=999"):
        assert (await bot.client.get(f"/staff/opinions?{query}")).status == 200
        assert (await bot.client.get(f"/staff/export/opinions.csv?{query}")).status == 200
    print(f"bad filter requests: {tried}, 5xx: 0")


async def test_the_export_command_refuses_absurd_filters_with_a_message(
    bot: Bot, database_url: str, tmp_path: Path
) -> None:
    env = cli_env(tmp_path, database_url)
    out = tmp_path / "opinions.csv"
    for flag, value in (("--until", "9999-12-31"), ("--since", "0001-01-01"), ("--village", "9" * 24)):
        args = ("export", "opinions", "--format", "csv", "--out", str(out), flag, value)
        done = await asyncio.to_thread(run_cli, env, *args)
        assert done.returncode == 2 and "expected" in done.stderr and "Traceback" not in done.stderr, done.stderr
        assert not out.exists()
    done = await asyncio.to_thread(
        run_cli, env, "export", "opinions", "--format", "csv", "--out", str(out), "--until", "2499-12-31"
    )
    assert done.returncode == 0 and out.exists(), done.stderr
