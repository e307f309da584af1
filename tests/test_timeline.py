"""Expected dates: calendar and working days across weekends and Thai public holidays, in Buddhist-era text."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from bot.content import load_content
from bot.handlers.services.cards import ServiceAnswers
from bot.handlers.services.timeline import WorkingCalendar, thai_date, thai_short_date, today_in_bangkok

CONTENT = load_content(Path(__file__).resolve().parent.parent / "content")


def test_working_days_skip_weekend_and_songkran() -> None:
    calendar = WorkingCalendar()
    # Friday 10 April 2026; Songkran holidays Monday 13 - Wednesday 15 April.
    assert calendar.add_days(dt.date(2026, 4, 10), 1, "working") == dt.date(2026, 4, 16)
    assert calendar.add_days(dt.date(2026, 4, 10), 3, "working") == dt.date(2026, 4, 20)
    assert calendar.holidays_between(dt.date(2026, 4, 10), dt.date(2026, 4, 20)) == [
        dt.date(2026, 4, 13),
        dt.date(2026, 4, 14),
        dt.date(2026, 4, 15),
    ]


def test_calendar_days_count_every_day() -> None:
    assert WorkingCalendar().add_days(dt.date(2026, 4, 10), 45, "calendar") == dt.date(2026, 5, 25)


def test_content_overrides_add_and_remove_days_off() -> None:
    monday = dt.date(2026, 6, 1)
    local = WorkingCalendar(extra_holidays=frozenset({monday}), working_days=frozenset({dt.date(2026, 4, 13)}))
    assert not local.is_working_day(monday)
    assert local.is_working_day(dt.date(2026, 4, 13))
    assert local.add_days(dt.date(2026, 5, 29), 1, "working") == dt.date(2026, 6, 2)


def test_today_is_bangkok_time() -> None:
    late_utc = dt.datetime(2026, 11, 22, 18, 30, tzinfo=dt.UTC)  # 01:30 on the 23rd in Bangkok
    assert today_in_bangkok(late_utc) == dt.date(2026, 11, 23)


def test_buddhist_era_date() -> None:
    assert thai_date(dt.date(2026, 11, 23)) == "วันจันทร์ 23 พฤศจิกายน 2569"


def test_timeline_answer_counts_working_days_and_names_the_date() -> None:
    answers = ServiceAnswers(CONTENT, WorkingCalendar())
    text = answers.timeline(CONTENT.services["public_works_request"], dt.date(2026, 4, 10))["text"]
    due = WorkingCalendar().add_days(dt.date(2026, 4, 10), 15, "working")
    assert thai_date(due) in text and "15 วันทำการ" in text
    closed = WorkingCalendar().holidays_between(dt.date(2026, 4, 10), due)
    assert dt.date(2026, 4, 13) in closed  # Songkran is not counted
    assert f"{len(closed)} วัน" in text
    building = answers.timeline(CONTENT.services["building_permit"], dt.date(2026, 4, 10))["text"]
    assert thai_date(dt.date(2026, 5, 25)) in building and "1567" in building
    none = answers.timeline(CONTENT.services["elderly_allowance"], dt.date(2026, 4, 10))["text"]
    assert CONTENT.municipality.phone in none


def test_short_dates_are_the_day_in_bangkok_with_the_buddhist_era_year() -> None:
    # 23:30 UTC on 22 November is already 23 November in Bangkok.
    assert thai_short_date(dt.datetime(2026, 11, 22, 23, 30, tzinfo=dt.UTC)) == "23 พ.ย. 2569"
    assert thai_short_date(dt.date(2026, 12, 1)) == "1 ธ.ค. 2569"
    assert thai_date(dt.date(2026, 11, 23)) == "วันจันทร์ 23 พฤศจิกายน 2569"
