"""content/office.yaml: the words that say what a question about the municipality's office asks (its phone,
its hours, whether it is open on a day, where it is), the words for days and months, and the names of the
municipality's own holidays from content/calendar.yaml."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from bot.content.source import ContentErrors, Located, read_yaml

OFFICE_TOPICS = ("phone", "hours", "open_day", "where")
RELATIVE_DAYS = {"today": 0, "tomorrow": 1, "day_after_tomorrow": 2}


@dataclass(frozen=True)
class OfficeCues:
    """Cue words per topic and per day; every word is kept compact (no spaces) and case-folded."""

    topics: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Days from today per word: "วันนี้" 0, "พรุ่งนี้" 1, ...
    relative_days: dict[str, int] = field(default_factory=dict)
    # Index 0 is Monday (datetime.weekday()); index 0 of months is January.
    weekdays: tuple[tuple[str, ...], ...] = ()
    months: tuple[tuple[str, ...], ...] = ()
    # Names staff gave to the extra holidays in calendar.yaml ({date: ..., name: ...}).
    holiday_names: dict[dt.date, str] = field(default_factory=dict)


def compact(text: str) -> str:
    return "".join(text.split()).casefold()


def read_office(file: Path, calendar_file: Path, errors: ContentErrors) -> OfficeCues:
    """office.yaml is optional: without it office questions get the municipality's whole contact card."""
    holiday_names = _holiday_names(calendar_file)
    if not file.is_file():
        return OfficeCues(holiday_names=holiday_names)
    src = read_yaml(file, errors)
    if src is None:
        return OfficeCues(holiday_names=holiday_names)
    data = src.data if isinstance(src.data, dict) else {}
    if not isinstance(src.data, dict):
        src.error((), "expected 'topics', 'days', 'weekdays' and 'months'")
    topics = _named_lists(src, data, "topics", OFFICE_TOPICS)
    days = _named_lists(src, data, "days", tuple(RELATIVE_DAYS))
    relative = {word: RELATIVE_DAYS[name] for name, words in days.items() for word in words}
    return OfficeCues(
        topics=topics,
        relative_days=relative,
        weekdays=_ordered_lists(src, data, "weekdays", 7),
        months=_ordered_lists(src, data, "months", 12),
        holiday_names=holiday_names,
    )


def _words(src: Located, path: tuple[str | int, ...], raw: object) -> tuple[str, ...]:
    if not isinstance(raw, list) or not raw or not all(isinstance(w, str) and w.strip() for w in raw):
        src.error(path, "needs a list of words")
        return ()
    return tuple(compact(w) for w in raw)


def _named_lists(
    src: Located, data: dict[str, object], section: str, names: tuple[str, ...]
) -> dict[str, tuple[str, ...]]:
    raw = data.get(section)
    if not isinstance(raw, dict):
        src.error((section,), f"'{section}' must map each of {', '.join(names)} to a list of words")
        return {}
    result: dict[str, tuple[str, ...]] = {}
    for name, words in raw.items():
        if name not in names:
            src.error((section, name), f"unknown {section[:-1]} '{name}'; use {', '.join(names)}")
            continue
        result[str(name)] = _words(src, (section, name), words)
    for name in names:
        if name not in raw:
            src.error((section,), f"'{name}' is required in '{section}'")
    return result


def _ordered_lists(src: Located, data: dict[str, object], section: str, count: int) -> tuple[tuple[str, ...], ...]:
    raw = data.get(section)
    if not isinstance(raw, list) or len(raw) != count:
        src.error((section,), f"'{section}' must list {count} entries in order, each a list of words")
        return ()
    return tuple(_words(src, (section, i), words) for i, words in enumerate(raw))


def _holiday_names(file: Path) -> dict[dt.date, str]:
    """Names of calendar.yaml's extra holidays; the dates themselves are checked by the calendar's reader."""
    if not file.is_file():
        return {}
    src = read_yaml(file, ContentErrors())  # its errors are reported once, by _read_calendar
    raw = src.data.get("extra_holidays") if src is not None and isinstance(src.data, dict) else None
    names: dict[dt.date, str] = {}
    for item in raw if isinstance(raw, list) else []:
        day, name = (item.get("date"), item.get("name")) if isinstance(item, dict) else (None, None)
        if isinstance(day, dt.date) and isinstance(name, str) and name.strip():
            names[day] = name.strip()
    return names
