"""Dated windows of a service, read against a given day: when registration is open, by when a form is due,
the next pay day of an allowance.

Staff write a window in a service file as yearly dates ("01-01" to "09-30"), as dates of one year, or as a
day of each month (services/README.md). This module only computes; bot.handlers.services.cards turns the result into
words
from responses.yaml. `today` is always passed in, so answers and tests never depend on the real clock.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass

ONE_DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class MonthDay:
    """A date that comes back every year (Feb 29 is refused when content is read: it is not in every year)."""

    month: int
    day: int

    def in_year(self, year: int) -> dt.date:
        return dt.date(year, self.month, self.day)


Boundary = MonthDay | dt.date


@dataclass(frozen=True)
class Period:
    """From `start` to `end`, both days included. No start: a deadline (something is due by `end`).
    Yearly periods may run over the new year (11-01 to 02-28)."""

    start: Boundary | None
    end: Boundary


@dataclass(frozen=True)
class Window:
    """One dated thing about a service: periods (yearly or one-off), or a pay day of each month."""

    what: str
    periods: tuple[Period, ...]
    monthly_day: int | None
    certainty: str
    note: str | None
    # A pay day on a day the office is closed moves to the working day before ("before") or stays.
    on_day_off: str = "same"

    @property
    def is_deadline(self) -> bool:
        return bool(self.periods) and all(p.start is None for p in self.periods)


# What a window says on a given day.
@dataclass(frozen=True)
class OpenUntil:
    until: dt.date


@dataclass(frozen=True)
class OpensOn:
    opens: dt.date


@dataclass(frozen=True)
class Ended:
    last: dt.date


@dataclass(frozen=True)
class DueBy:
    due: dt.date
    days_left: int


@dataclass(frozen=True)
class PayDay:
    day: dt.date


State = OpenUntil | OpensOn | Ended | DueBy | PayDay


def state_on(window: Window, today: dt.date, is_working_day: Callable[[dt.date], bool] | None = None) -> State:
    """Where `today` falls for this window (`is_working_day` moves a pay day off a holiday)."""
    if window.monthly_day is not None:
        if window.on_day_off == "before" and is_working_day is not None:
            return PayDay(_next_pay_day_before_days_off(window.monthly_day, today, is_working_day))
        return PayDay(next_monthly(window.monthly_day, today))
    if window.is_deadline:
        return _deadline_state(window.periods, today)
    return _window_state(window.periods, today)


def next_monthly(day: int, today: dt.date) -> dt.date:
    """The next `day` of a month on or after today; in a shorter month, its last day."""
    this_month = _clamped(today.year, today.month, day)
    if this_month >= today:
        return this_month
    year, month = (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)
    return _clamped(year, month, day)


def _next_pay_day_before_days_off(day: int, today: dt.date, is_working_day: Callable[[dt.date], bool]) -> dt.date:
    """The next pay day, paid on the last working day before it when it falls on a day off (the 10th on
    a Sunday is paid on Friday the 8th); a pay day moved to before today is already paid: the next month."""
    start = dt.date(today.year, today.month, 1)
    for months in range(3):
        year, month = divmod(start.month - 1 + months, 12)
        paid = _clamped(start.year + year, month + 1, day)
        while not is_working_day(paid):
            paid -= ONE_DAY
        if paid >= today:
            return paid
    raise AssertionError("a pay day comes every month")


def _clamped(year: int, month: int, day: int) -> dt.date:
    return dt.date(year, month, min(day, calendar.monthrange(year, month)[1]))


def _window_state(periods: tuple[Period, ...], today: dt.date) -> State:
    spans = _merged(span for p in periods for span in _spans(p, today.year))
    for start, end in spans:
        if start <= today <= end:
            return OpenUntil(end)
    coming = [start for start, _ in spans if start > today]
    if coming:
        return OpensOn(min(coming))
    return Ended(max(end for _, end in spans))


def _deadline_state(periods: tuple[Period, ...], today: dt.date) -> State:
    dues = sorted(d for p in periods for d in _on_or_around(p.end, today.year))
    coming = [d for d in dues if d >= today]
    if coming:
        return DueBy(coming[0], (coming[0] - today).days)
    return Ended(dues[-1])


def _on_or_around(boundary: Boundary, year: int) -> list[dt.date]:
    """A one-off date as it is; a yearly one in the years around `year` (enough to find the next one)."""
    if isinstance(boundary, dt.date):
        return [boundary]
    return [boundary.in_year(y) for y in (year - 1, year, year + 1)]


def _spans(period: Period, year: int) -> list[tuple[dt.date, dt.date]]:
    start, end = period.start, period.end
    if isinstance(start, dt.date) and isinstance(end, dt.date):
        return [(start, end)]
    assert isinstance(start, MonthDay) and isinstance(end, MonthDay)  # checked when content is read
    wraps = (end.month, end.day) < (start.month, start.day)
    return [(start.in_year(y), end.in_year(y + 1 if wraps else y)) for y in (year - 1, year, year + 1)]


def _merged(spans: Iterable[tuple[dt.date, dt.date]]) -> list[tuple[dt.date, dt.date]]:
    """Spans that overlap or follow one another day after day are one: 'Jan-Sep' and 'Oct-Nov' are open
    from January to November, so on 30 September the answer is 'until 30 November', not 'until tomorrow'."""
    result: list[tuple[dt.date, dt.date]] = []
    for start, end in sorted(spans):
        if result and start <= result[-1][1] + ONE_DAY:
            result[-1] = (result[-1][0], max(result[-1][1], end))
        else:
            result.append((start, end))
    return result
