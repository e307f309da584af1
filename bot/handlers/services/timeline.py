"""When a resident can expect a result: counting calendar or working days from a date, in Asia/Bangkok,
with Thailand's public holidays (the `holidays` package) and the municipality's own additions from
content/calendar.yaml; and how every date a resident reads is written (Thai words, Buddhist-era year)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import holidays
from pythainlp.util import thai_strftime

BANGKOK = ZoneInfo("Asia/Bangkok")


def today_in_bangkok(now: dt.datetime | None = None) -> dt.date:
    return (now or dt.datetime.now(dt.UTC)).astimezone(BANGKOK).date()


# Residents read every date in Thai with the Buddhist-era year: these two are the only places that write one.
def thai_date(day: dt.date) -> str:
    """'วันจันทร์ 23 พฤศจิกายน 2569': weekday, day, month and Buddhist-era year (deadlines, hearings)."""
    return _buddhist_era(day, "%A %-d %B %Y")


def thai_short_date(moment: dt.datetime | dt.date) -> str:
    """'23 พ.ย. 2569': the day in Bangkok of a stored moment (when a case was filed, changed, a notice seen)."""
    day = moment.astimezone(BANGKOK).date() if isinstance(moment, dt.datetime) else moment
    return _buddhist_era(day, "%-d %b %Y")


def _buddhist_era(day: dt.date, pattern: str) -> str:
    # thai_strftime adds 543 to the year and writes Thai month and weekday names, whatever the locale.
    return thai_strftime(dt.datetime(day.year, day.month, day.day), pattern)


@dataclass
class WorkingCalendar:
    """Which days a Thai government office is open."""

    extra_holidays: frozenset[dt.date] = frozenset()
    working_days: frozenset[dt.date] = frozenset()
    _national: dict[int, holidays.HolidayBase] = field(default_factory=dict)

    def is_working_day(self, day: dt.date) -> bool:
        if day in self.working_days:
            return True
        if day.weekday() >= 5 or day in self.extra_holidays:
            return False
        if day.year not in self._national:
            self._national[day.year] = holidays.country_holidays("TH", years=day.year)
        return day not in self._national[day.year]

    def add_days(self, start: dt.date, days: int, kind: str) -> dt.date:
        """The date `days` days after start: every day counts for 'calendar', only open days for 'working'
        (the day of filing itself is not counted, as Thai administrative deadlines are reckoned)."""
        if kind != "working":
            return start + dt.timedelta(days=days)
        day, left = start, days
        while left > 0:
            day += dt.timedelta(days=1)
            if self.is_working_day(day):
                left -= 1
        return day

    def holidays_between(self, start: dt.date, end: dt.date) -> list[dt.date]:
        """Weekdays between start (exclusive) and end (inclusive) on which the office is closed."""
        days = (start + dt.timedelta(days=i) for i in range(1, (end - start).days + 1))
        return [d for d in days if d.weekday() < 5 and not self.is_working_day(d)]


def calendar_from(extra: Iterable[dt.date], working: Iterable[dt.date]) -> WorkingCalendar:
    return WorkingCalendar(extra_holidays=frozenset(extra), working_days=frozenset(working))
