"""Dates staff type into the workspace, and the same dates written back into its fields: the Buddhist era
(issue 16 item 9). A Thai municipality's staff write "01/11/2569"; chromium's <input type=date> follows the
browser's locale and shows Gregorian years, so the forms have text fields this module reads.

A day is "วว/ดด/ปปปป" with a Buddhist-era year (separators / - . and Thai digits accepted), or an ISO
"yyyy-mm-dd" as links and older bookmarks carry it (Gregorian, the machine form). A year is read in the other
era only when its own reading is impossible and the other is in range and the nearer one to this year, so
a guess is never a close call: "01/11/2026" is a Gregorian year typed by mistake (พ.ศ. 2026 is 1483),
"2569-11-01" a Buddhist-era one. Anything else is refused with a code the template words in Thai next to
the field."""

from __future__ import annotations

import datetime as dt
import re

from bot.handlers.services.timeline import BANGKOK, today_in_bangkok
from bot.staff.exports import BE_OFFSET, EARLIEST_DAY, LATEST_DAY

# The years the exports take (exports.EARLIEST_DAY..LATEST_DAY): พ.ศ. 2443-3042.
GREGORIAN_YEARS = range(EARLIEST_DAY.year, LATEST_DAY.year + 1)
_THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
_DAY_FIRST = re.compile(r"^(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
# "09:00", "9.00", "09:00 น." (as Thai time is written), or HH:MM:SS as <input type=time> may send it.
_TIME = re.compile(r"^([01]?\d|2[0-3])[:.]([0-5]\d)(?::[0-5]\d)?\s*(?:น\.?)?$")


class DateError(ValueError):
    """A typed date or time that is not one: `code` is unreadable (not in a form this module reads) or
    date_range (a real date outside the years the exports take)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _plain(text: str) -> str:
    return text.strip().translate(_THAI_DIGITS)


def _year(year: int, buddhist: bool) -> int:
    """The Gregorian year of a typed one, read in the era its form stands for (`buddhist`); in the other
    era only when its own reading is out of range and the other reading is in range and nearer this year
    ("2026" in a พ.ศ. field is 2026, never 1483; "2442" is no year of either, not Gregorian 2442)."""
    own, other = (year - BE_OFFSET, year) if buddhist else (year, year - BE_OFFSET)
    if own in GREGORIAN_YEARS:
        return own
    this_year = today_in_bangkok().year
    if other in GREGORIAN_YEARS and abs(other - this_year) < abs(own - this_year):
        return other
    raise DateError("date_range")


def parse_day(text: str) -> dt.date:
    """The day staff typed: '1/11/2569', '๑/๑๑/๒๕๖๙', '2026-11-01' (all 1 November 2026)."""
    plain = _plain(text)
    if match := _DAY_FIRST.match(plain):
        day, month, year = (int(g) for g in match.groups())
        buddhist = True
    elif match := _ISO.match(plain):
        year, month, day = (int(g) for g in match.groups())
        buddhist = False
    else:
        raise DateError("unreadable")
    gregorian = _year(year, buddhist)
    try:
        return dt.date(gregorian, month, day)
    except ValueError:
        raise DateError("unreadable") from None  # 31/02, month 13


def parse_time(text: str) -> dt.time:
    """'09:00', '9.00', '09.00 น.'."""
    match = _TIME.match(_plain(text))
    if match is None:
        raise DateError("unreadable")
    return dt.time(int(match.group(1)), int(match.group(2)))


def parse_moment(day: str, time: str) -> dt.datetime:
    """A day and a time typed in Thai time, as an aware UTC datetime. An old form's single
    'yyyy-mm-ddTHH:MM' (datetime-local, the command line's tests) in `day` with no time is read too."""
    if not time.strip() and "T" in day:
        day, time = day.split("T", 1)
    local = dt.datetime.combine(parse_day(day), parse_time(time))
    return local.replace(tzinfo=BANGKOK).astimezone(dt.UTC)


def day_field(day: dt.date) -> str:
    """What a day field shows: '01/11/2569'."""
    return f"{day.day:02d}/{day.month:02d}/{day.year + BE_OFFSET}"


def moment_fields(moment: dt.datetime) -> tuple[str, str]:
    """A moment as a day field and a time field in Thai time: ('12/06/2570', '09:00')."""
    local = moment.astimezone(BANGKOK)
    return day_field(local.date()), f"{local:%H:%M}"


def shown_day(raw: str) -> str:
    """A day field's value after a submit: the day in the Buddhist era when it was read (so a Gregorian
    year typed by mistake comes back corrected), else what was typed, for staff to fix."""
    try:
        return day_field(parse_day(raw))
    except DateError:
        return raw
