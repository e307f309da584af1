"""Issue 16 item 9: the workspace speaks Thai, not codes. Every code a page shows (roles, audit actions and
details, opinion history, statuses, sendings) has its word in content (content/staff.yaml, responses.yaml's
status_..., reports.yaml); a missing word is a content error with file:line; rendered pages show none of the
codes, no `->`, no `{...}`, and their dates in the Buddhist era."""

from __future__ import annotations

import ast
import datetime as dt
import html
import re
from pathlib import Path

from bot.content import check_content, load_content
from bot.content.staff_labels import required_codes
from bot.handlers.opinions.rules import OUTCOMES
from bot.handlers.reports.rules import STATUSES
from bot.ops import audit
from bot.staff.labels import StaffWords, thai_when
from tests.conftest import ROOT, Bot
from tests.staff_pages import STAFF, page_paths, seed
from tests.staffing import add_staff, sign_in

CONTENT = load_content(ROOT / "content")


def test_every_code_has_its_thai_word() -> None:
    labels = CONTENT.staff_labels
    roles, sections, coded = required_codes()
    assert set(roles) <= set(labels.roles) and set(roles) <= set(labels.rights)
    for section, codes in sections.items():
        assert set(codes) <= set(labels.words[section]), section
    for key, codes in coded.items():
        assert set(codes) <= set(labels.audit_values[key]), key
    words = StaffWords(CONTENT)
    for status in ("received", "withdrawn", *OUTCOMES):
        assert words.opinion_status(status) != status
    for status in STATUSES:
        assert words.report_status(status) != status
    everything = [*labels.roles.values(), *(w for s in labels.words.values() for w in s.values())]
    assert all(re.search("[\u0e00-\u0e7f]", w) or w in ("CSV", "Excel") for w in everything)


def _recorded_details() -> list[tuple[str, str, object]]:
    """(file:line, detail key, literal value or None) of every audit.record(...) call in bot/."""
    found: list[tuple[str, str, object]] = []
    for file in (ROOT / "bot").rglob("*.py"):
        tree = ast.parse(file.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "record":
                if not (isinstance(node.func.value, ast.Name) and node.func.value.id == "audit"):
                    continue
                for keyword in node.keywords:
                    value = keyword.value.value if isinstance(keyword.value, ast.Constant) else None
                    found.append((f"{file.relative_to(ROOT)}:{node.lineno}", keyword.arg or "**", value))
    return found


def test_every_detail_the_code_records_is_one_the_workspace_has_words_for() -> None:
    recorded = _recorded_details()
    assert len(recorded) > 20
    for where, key, value in recorded:
        if key in ("**", "at"):  # a dict of details built beside the call (its keys are checked where it is
            continue  # built), and the entry's moment, which is no detail
        assert key in audit.DETAIL_KEYS, f"{where}: detail '{key}' is not in bot.ops.audit.DETAIL_KEYS"
        if key in audit.CODED_VALUES and isinstance(value, str):
            assert value in audit.CODED_VALUES[key], f"{where}: {key}={value} has no word"


def test_a_missing_word_is_a_content_error_naming_the_line(content_copy: Path) -> None:
    staff = content_copy / "staff.yaml"
    lines = staff.read_text(encoding="utf-8").splitlines(keepends=True)
    staff.write_text("".join(line for line in lines if not line.startswith("  report_assign:")), encoding="utf-8")
    content, problems = check_content(content_copy)
    assert content is None
    assert any(re.search(r"staff\.yaml:\d+: 'report_assign' has no word in 'audit_actions'", p) for p in problems)


def test_dates_are_buddhist_era_thai_in_thai_time() -> None:
    moment = dt.datetime(2026, 12, 1, 7, 5, 9, tzinfo=dt.UTC)
    assert thai_when(moment) == "1 ธ.ค. 2569 14:05"
    assert thai_when(moment, "date") == "1 ธ.ค. 2569"
    assert thai_when(moment, "second") == "1 ธ.ค. 2569 14:05:09"
    assert thai_when(dt.date(2027, 1, 2)) == "2 ม.ค. 2570"
    assert thai_when("2026-11-01", "date") == "1 พ.ย. 2569"
    assert thai_when(None) == ""
    assert thai_when(moment, "%d/%m/%Y") == "1 ธ.ค. 2569"  # an old template's pattern still gets the era


def test_audit_details_read_as_words() -> None:
    words = StaffWords(CONTENT)
    details = dict(
        words.audit_details({"format": "xlsx", "rows": 1200, "filters": {"village": 3, "since": "2026-11-01"}})
    )
    assert details == {"ชนิดไฟล์": "Excel", "จำนวนแถว": "1,200", "ตัวกรอง": "หมู่ที่ 3, ตั้งแต่ 1 พ.ย. 2569"}
    assert dict(words.audit_details({"step": "announce", "mode": "broadcast"})) == {
        "ขั้นตอน": "ประกาศ",
        "วิธีส่ง": "ทุกคนที่เป็นเพื่อน",
    }
    assert words.audit_target("broadcast", "hearing:7").href == "/staff/hearings/7"
    assert words.opinion_change("status", "received", "in_plan") == ("สถานะ", "รับไว้แล้ว", "บรรจุในแผนแล้ว")


def _visible_text(page: str) -> str:
    """What a person reads: no tags or attributes (a select's option values are codes, on purpose)."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def _codes() -> set[str]:
    roles, sections, coded = required_codes()
    codes = {*roles, *(c for s in sections.values() for c in s), *(c for s in coded.values() for c in s)}
    codes |= {"received", "withdrawn", *OUTCOMES, *STATUSES}
    # Names that are the same in both languages are not codes a person would stumble on.
    return codes - {"yes", "no"}


async def test_no_page_shows_a_code_an_arrow_braces_or_a_gregorian_date(bot: Bot) -> None:
    await add_staff(bot, STAFF, "admin")
    async with bot.sessions() as session, session.begin():
        samples = await session.run_sync(seed)
    assert (await sign_in(bot.client, STAFF)).status == 303
    code = re.compile(
        r"(?<![\w.:/-])(" + "|".join(sorted(map(re.escape, _codes()), key=len, reverse=True)) + r")(?![\w-])"
    )
    problems: list[str] = []
    for path in page_paths(samples):
        response = await bot.client.get(path)
        assert response.status == 200, path
        text = _visible_text(await response.text()).replace("LINE broadcast", "LINE")
        for pattern, what in ((code, "a code"), (re.compile(r"->|[{}]"), "an arrow or braces")):
            problems += [f"{path}: {what} {m.group(0)!r}" for m in pattern.finditer(text)]
        if re.search(r"\b\d{1,2}/\d{1,2}/\d{4}\b|\b20[2-3]\d\b", text):
            problems.append(f"{path}: a Gregorian date")
    assert not problems, problems
    audit_page = _visible_text(await (await bot.client.get("/staff/audit")).text())
    for words in ("ดาวน์โหลดไฟล์", "ตัวกรอง: หมู่ที่ 3", "ตั้งแต่ 1 พ.ย. 2569", "สิทธิ์: เจ้าหน้าที่จัดการเรื่อง", "วิธีส่ง: ทุกคนที่เป็นเพื่อน"):
        assert words in audit_page
    assert re.search(r"\d{1,2} [ก-๙.]+ 25\d\d \d\d:\d\d:\d\d", audit_page)
    history = _visible_text(await (await bot.client.get(samples["/staff/opinions/{reference}"])).text())
    assert "รายละเอียดผลการพิจารณา" in history and "รับไว้พิจารณา" in history
    assert re.search(r"\d{1,2} [ก-๙.]+ 25\d\d \d\d:\d\d", history)
