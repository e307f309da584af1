"""When a resident can expect a result: counting calendar or working days from a date, in Asia/Bangkok,
with Thailand's public holidays (the `holidays` package) and the municipality's own additions from
content/calendar.yaml."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import holidays

BANGKOK = ZoneInfo("Asia/Bangkok")


def today_in_bangkok(now: dt.datetime | None = None) -> dt.date:
    return (now or dt.datetime.now(dt.UTC)).astimezone(BANGKOK).date()


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
