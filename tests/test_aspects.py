"""Every part of a service answers its own question (penalties, benefit, where, who, deadlines), and dated
windows are read against a given day: open until, opens again on, due by, next pay day, in BE dates."""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import pytest

from bot.content import check_content, load_content
from bot.handlers.services.cards import ServiceAnswers, thai_date
from bot.handlers.services.timeline import WorkingCalendar
from bot.handlers.services.windows import DueBy, Ended, MonthDay, OpensOn, OpenUntil, PayDay, Period, Window, state_on

ROOT = Path(__file__).resolve().parent.parent
CONTENT = load_content(ROOT / "content")
ANSWERS = ServiceAnswers(CONTENT, WorkingCalendar())
DAY = dt.date(2026, 12, 1)


def answer(service_id: str, aspect: str, today: dt.date = DAY) -> str:
    return str(ANSWERS.aspect(CONTENT.services[service_id], aspect, today)["text"])


def office_phone() -> str:
    return CONTENT.municipality.phone


# -- each aspect, for a service that has it and one that does not --------------------------------------


def test_penalties_come_from_the_service_and_an_unknown_one_says_whom_to_ask() -> None:
    text = answer("land_building_tax", "penalties")
    assert "ร้อยละ 40" in text and "ร้อยละ 1 ต่อเดือน" in text
    assert "ร้อยละ 10 ของภาษี" in answer("signboard_tax", "penalties")
    none = answer("complaint", "penalties")
    assert "ยังไม่มีข้อมูลค่าปรับ" in none and office_phone() in none


def test_benefit_names_the_amount_and_the_next_pay_day() -> None:
    text = answer("elderly_allowance", "benefit")
    assert "600 บาท" in text and "1,000 บาท" in text
    # 10 December 2569 is Constitution Day: the 10th's transfer is the working day before.
    assert thai_date(dt.date(2026, 12, 9)) in text
    none = answer("building_permit", "benefit")
    assert "ไม่พบข้อมูลเงินหรือสิทธิ" in none and office_phone() in none


def test_where_gives_the_channel_and_the_office() -> None:
    service = CONTENT.services["land_building_tax"]
    text = answer("land_building_tax", "where")
    assert service.channel in text and service.office.location in text and office_phone() in text


def test_who_lists_conditions_and_a_service_without_them_says_so() -> None:
    assert "60 ปีบริบูรณ์" in answer("elderly_allowance", "who")
    none = answer("complaint", "who")
    assert CONTENT.services["complaint"].summary in none and "ยังไม่มีเงื่อนไข" in none


def test_deadlines_without_any_dates_say_whom_to_ask() -> None:
    text = answer("id_card", "deadlines")
    assert "ไม่พบช่วงรับหรือกำหนดวันที่" in text and office_phone() in text
    assert "ภายในเดือนมีนาคม" in answer("signboard_tax", "deadlines")


@pytest.mark.parametrize("aspect", ["penalties", "benefit", "where", "who", "deadlines", "contact", "timeline"])
def test_no_aspect_of_any_service_is_an_empty_answer(aspect: str) -> None:
    for service_id in CONTENT.services:
        heading_and_lines = answer(service_id, aspect).splitlines()
        assert len(heading_and_lines) >= 2 or aspect == "timeline", (service_id, aspect)
        assert all(line.strip() for line in heading_and_lines)


def test_card_shows_who_and_penalties() -> None:
    alt = ANSWERS.alt_text(CONTENT.services["land_building_tax"], DAY)
    assert CONTENT.phrases["card_who"] in alt and CONTENT.phrases["card_penalties"] in alt
    assert "ร้อยละ 40" in alt


def test_contact_words_moved_to_where_are_all_still_somewhere() -> None:
    words = {w for ws in CONTENT.aspects.values() for w in ws}
    assert {"ติดต่อที่ไหน", "ไปที่ไหน", "ยื่นที่ไหน", "กองไหน", "เบอร์โทร", "ติดต่อใคร", "เปิดกี่โมง"} <= words
    assert "ยื่นที่ไหน" in CONTENT.aspects["where"] and "เบอร์โทร" in CONTENT.aspects["contact"]


def test_specific_aspects_are_checked_before_fees() -> None:
    order = list(CONTENT.aspects)
    for specific in ("penalties", "deadlines", "benefit", "who"):
        assert order.index(specific) < order.index("fees")

    # What the reader does with that order: the first aspect whose word is in the message.
    def first(text: str) -> str:
        return next(name for name, words in CONTENT.aspects.items() if any(w in text for w in words))

    assert first("จ่ายช้าโดนปรับเท่าไหร่") == "penalties"
    assert first("ได้เงินเดือนละเท่าไหร่") == "benefit"
    assert first("เงินเข้าวันที่เท่าไหร่") == "deadlines"
    assert first("ใครยื่นได้บ้าง") == "who"
    assert first("จ่ายที่ไหน") == "where"
    assert first("ค่าธรรมเนียมเท่าไหร่") == "fees"


# -- windows against today -------------------------------------------------------------------------------


def registration_line(today: dt.date) -> str:
    return next(line for line in answer("elderly_allowance", "deadlines", today).splitlines() if "ลงทะเบียน" in line)


def test_elderly_registration_is_closed_in_december_and_opens_on_1_january() -> None:
    line = registration_line(dt.date(2026, 12, 1))
    assert CONTENT.phrases["window_opens"].split("{date}")[0].split(": ")[1] in line
    assert "1 มกราคม 2570" in line
    assert "1 มกราคม 2570" in registration_line(dt.date(2026, 12, 31))  # last day of the year


def test_elderly_registration_open_runs_across_adjacent_periods() -> None:
    # 30 September is the end of one period and 1 October starts the next: open until 30 November.
    assert "30 พฤศจิกายน 2569" in registration_line(dt.date(2026, 9, 30))
    assert "30 พฤศจิกายน 2569" in registration_line(dt.date(2026, 1, 1))
    assert "30 พฤศจิกายน 2569" in registration_line(dt.date(2026, 11, 30))
    assert "1 มกราคม 2570" in registration_line(dt.date(2026, 12, 1))


def window(*periods: Period, monthly_day: int | None = None, on_day_off: str = "same") -> Window:
    return Window("w", tuple(periods), monthly_day, "seen", None, on_day_off)


def test_a_window_across_new_year() -> None:
    winter = window(Period(MonthDay(11, 1), MonthDay(2, 28)))
    assert state_on(winter, dt.date(2026, 12, 31)) == OpenUntil(dt.date(2027, 2, 28))
    assert state_on(winter, dt.date(2027, 1, 1)) == OpenUntil(dt.date(2027, 2, 28))
    assert state_on(winter, dt.date(2027, 2, 28)) == OpenUntil(dt.date(2027, 2, 28))
    assert state_on(winter, dt.date(2027, 3, 1)) == OpensOn(dt.date(2027, 11, 1))
    assert state_on(winter, dt.date(2026, 10, 31)) == OpensOn(dt.date(2026, 11, 1))


def test_signboard_filing_window_either_side_of_its_boundaries() -> None:
    filing = CONTENT.services["signboard_tax"].windows[0]
    assert state_on(filing, dt.date(2026, 12, 31)) == OpensOn(dt.date(2027, 1, 1))
    assert state_on(filing, dt.date(2027, 1, 1)) == OpenUntil(dt.date(2027, 3, 31))
    assert state_on(filing, dt.date(2027, 3, 31)) == OpenUntil(dt.date(2027, 3, 31))
    assert state_on(filing, dt.date(2027, 4, 1)) == OpensOn(dt.date(2028, 1, 1))
    text = answer("signboard_tax", "deadlines", dt.date(2027, 3, 15))
    assert "เปิดอยู่ตอนนี้" in text and "31 มีนาคม 2570" in text


def test_a_one_off_deadline_counts_down_then_says_it_passed() -> None:
    land = CONTENT.services["land_building_tax"].windows[0]
    assert state_on(land, dt.date(2026, 6, 20)) == DueBy(dt.date(2026, 6, 30), 10)
    assert state_on(land, dt.date(2026, 6, 30)) == DueBy(dt.date(2026, 6, 30), 0)
    assert state_on(land, dt.date(2026, 7, 1)) == Ended(dt.date(2026, 6, 30))
    assert "อีก 10 วัน" in answer("land_building_tax", "deadlines", dt.date(2026, 6, 20))
    assert "วันสุดท้าย" in answer("land_building_tax", "deadlines", dt.date(2026, 6, 30))
    passed = answer("land_building_tax", "deadlines", dt.date(2026, 12, 1))
    assert "30 มิถุนายน 2569" in passed and "ผ่านไปแล้ว" in passed and office_phone() in passed


def test_a_yearly_deadline_rolls_over_to_next_year() -> None:
    march = window(Period(None, MonthDay(3, 31)))
    assert state_on(march, dt.date(2026, 3, 31)) == DueBy(dt.date(2026, 3, 31), 0)
    assert state_on(march, dt.date(2026, 4, 1)) == DueBy(dt.date(2027, 3, 31), 364)
    assert state_on(march, dt.date(2026, 12, 31)) == DueBy(dt.date(2027, 3, 31), 90)


def test_dated_window_before_during_after() -> None:
    once = window(Period(dt.date(2026, 4, 1), dt.date(2026, 6, 30)))
    assert state_on(once, dt.date(2026, 3, 31)) == OpensOn(dt.date(2026, 4, 1))
    assert state_on(once, dt.date(2026, 4, 1)) == OpenUntil(dt.date(2026, 6, 30))
    assert state_on(once, dt.date(2026, 7, 1)) == Ended(dt.date(2026, 6, 30))


def test_pay_day_this_month_next_month_and_across_the_year() -> None:
    tenth = window(monthly_day=10)
    assert state_on(tenth, dt.date(2026, 11, 10)) == PayDay(dt.date(2026, 11, 10))
    assert state_on(tenth, dt.date(2026, 11, 11)) == PayDay(dt.date(2026, 12, 10))
    assert state_on(tenth, dt.date(2026, 12, 11)) == PayDay(dt.date(2027, 1, 10))
    assert state_on(window(monthly_day=31), dt.date(2027, 2, 1)) == PayDay(dt.date(2027, 2, 28))


def test_pay_day_on_a_day_off_moves_to_the_working_day_before() -> None:
    tenth = window(monthly_day=10, on_day_off="before")
    open_day = WorkingCalendar().is_working_day
    # 10 January 2027 is a Sunday: paid on Friday 8 January.
    assert state_on(tenth, dt.date(2026, 12, 31), open_day) == PayDay(dt.date(2027, 1, 8))
    # On the Saturday after that Friday the January money is paid: next is 10 February (a Wednesday).
    assert state_on(tenth, dt.date(2027, 1, 9), open_day) == PayDay(dt.date(2027, 2, 10))
    text = answer("elderly_allowance", "benefit", dt.date(2027, 1, 8))
    assert "วันนี้" in text and thai_date(dt.date(2027, 1, 8)) in text


def test_timeline_reads_the_windows_too() -> None:
    text = answer("elderly_allowance", "timeline", dt.date(2026, 12, 1))
    assert "1 มกราคม 2570" in text and office_phone() in text


def test_card_with_today_says_whether_open_and_without_names_the_window() -> None:
    service = CONTENT.services["signboard_tax"]
    assert "31 มีนาคม 2570" in ANSWERS.alt_text(service, dt.date(2027, 2, 1))
    assert service.windows[0].what in ANSWERS.alt_text(service)


# -- bad windows in content are file:line errors ------------------------------------------------------


def broken_copy(tmp_path: Path, windows_yaml: str) -> list[str]:
    content = tmp_path / "content"
    for file in (ROOT / "content").rglob("*"):
        if file.is_file():
            target = content / file.relative_to(ROOT / "content")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(file.read_bytes())
    service = content / "services" / "signboard_tax.yaml"
    text = service.read_text(encoding="utf-8")
    start, end = text.index("windows:\n"), text.index("penalties:\n")
    service.write_text(text[:start] + textwrap.dedent(windows_yaml) + text[end:], encoding="utf-8")
    loaded, problems = check_content(content)
    assert loaded is None
    return problems


@pytest.mark.parametrize(
    ("windows_yaml", "reason"),
    [
        ('windows:\n  - what: x\n    yearly: [{from: "02-29", to: "03-31"}]\n', "02-29 is not allowed"),
        ('windows:\n  - what: x\n    yearly: [{from: "13-01", to: "03-31"}]\n', "MM-DD"),
        ("windows:\n  - what: x\n    dates: [{from: 2569-01-01, to: 2569-03-31}]\n", "Buddhist-era"),
        ("windows:\n  - what: x\n    dates: [{from: 2026-04-01, to: 2026-03-01}]\n", "'to' is before 'from'"),
        ("windows:\n  - what: x\n    monthly_day: 32\n", "monthly_day must be"),
        ("windows:\n  - what: x\n    monthly_day: 10\n    dates: [{to: 2026-01-01}]\n", "exactly one of"),
        ('windows:\n  - yearly: [{to: "03-31"}]\n', "'what'"),
        ('windows:\n  - what: x\n    yearly: [{to: "03-31"}]\n    certainty: sure\n', "certainty must be"),
        ('windows:\n  - what: x\n    yearly: [{to: "03-31"}]\n    on_day_off: before\n', "on_day_off"),
        (
            'windows:\n  - what: x\n    yearly: [{to: "03-31"}, {from: "01-01", to: "02-01"}]\n',
            "either every period",
        ),
    ],
)
def test_bad_windows_are_reported_with_file_and_line(tmp_path: Path, windows_yaml: str, reason: str) -> None:
    problems = broken_copy(tmp_path, windows_yaml)
    mine = [p for p in problems if "signboard_tax.yaml:" in p and reason in p]
    assert mine, problems
    line = int(mine[0].split("signboard_tax.yaml:")[1].split(":")[0])
    text = (tmp_path / "content" / "services" / "signboard_tax.yaml").read_text(encoding="utf-8")
    assert text.index("windows:") <= sum(len(x) + 1 for x in text.splitlines()[: line - 1])
