"""content/services/*.yaml: one municipal service per file, validated field by field with file:line errors."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.content.model import Division
from bot.content.source import ContentErrors, Located, read_yaml
from bot.delivery.limits import QUICK_REPLY_LABEL_MAX
from bot.handlers.services.windows import MonthDay, Period, Window

DAY_KINDS = ("calendar", "working", "unspecified")
CERTAINTIES = ("seen", "secondary", "local", "recalled")
FEE_KINDS = ("national", "local", "none", "unknown")
_REQUIRED = (
    "id",
    "name",
    "label",
    "summary",
    "aliases",
    "examples",
    "office",
    "channel",
    "steps",
    "documents",
    "fees",
    "sources",
    "last_reviewed",
)
_OPTIONAL = (
    "who",
    "time_limit",
    "benefit",
    "deadlines",
    "windows",
    "penalties",
    "if_late",
    "related",
    "offers_report",
)
# A window gives its dates in exactly one of these forms (services/README.md).
WINDOW_FORMS = ("yearly", "dates", "monthly_day")
_WINDOW_KEYS = ("what", *WINDOW_FORMS, "on_day_off", "certainty", "note")
ON_DAY_OFF = ("same", "before")
# Dates are Gregorian; a year from here on is a Buddhist-era year typed by mistake (2569 BE = 2026).
BUDDHIST_ERA_FROM = 2400
MIN_EXAMPLES = 3


@dataclass(frozen=True)
class Step:
    text: str
    days: int | None
    day_kind: str
    certainty: str


@dataclass(frozen=True)
class TimeLimit:
    days: int
    day_kind: str
    basis: str
    note: str | None
    certainty: str


@dataclass(frozen=True)
class Fee:
    text: str
    kind: str


@dataclass(frozen=True)
class ServiceEntry:
    """Everything a resident needs to know about one service, as staff wrote it."""

    id: str
    name: str
    label: str
    summary: str
    aliases: tuple[str, ...]
    examples: tuple[str, ...]
    office: Division
    channel: str
    who: tuple[str, ...]
    steps: tuple[Step, ...]
    time_limit: TimeLimit | None
    documents: tuple[str, ...]
    fees: tuple[Fee, ...]
    benefit: str | None
    deadlines: tuple[str, ...]
    windows: tuple[Window, ...]
    penalties: tuple[str, ...]
    if_late: str | None
    related: tuple[str, ...]
    offers_report: bool
    sources: tuple[str, ...]
    last_reviewed: dt.date

    @property
    def uncertain(self) -> bool:
        """Some figure here is not confirmed by an official source, or is set locally."""
        certainties = [s.certainty for s in self.steps if s.days is not None]
        if self.time_limit is not None:
            certainties.append(self.time_limit.certainty)
        return any(c != "seen" for c in certainties) or any(f.kind in ("local", "unknown") for f in self.fees)


def read_services(directory: Path, divisions: dict[str, Division], errors: ContentErrors) -> dict[str, ServiceEntry]:
    """Every services/*.yaml file; `related` ids are checked across files once all are read."""
    if not directory.is_dir():
        errors.add(f"{directory}:1", "the services directory is missing")
        return {}
    services: dict[str, ServiceEntry] = {}
    where_related: dict[str, Located] = {}
    for file in sorted(directory.glob("*.yaml")):
        src = read_yaml(file, errors)
        if src is None:
            continue
        entry = _service(src, file.stem, divisions)
        if entry is not None:
            services[entry.id] = entry
            where_related[entry.id] = src
    for entry in services.values():
        for i, other in enumerate(entry.related):
            if other not in services:
                where_related[entry.id].error(("related", i), f"unknown service '{other}'")
    return services


def _service(src: Located, stem: str, divisions: dict[str, Division]) -> ServiceEntry | None:
    data = src.data
    if not isinstance(data, dict):
        src.error((), "a service file must be a mapping of fields")
        return None
    before = len(src.errors.items)
    for key in _REQUIRED:
        if key not in data:
            src.error((), f"'{key}' is required")
    for key in data:
        if key not in _REQUIRED and key not in _OPTIONAL:
            src.error((key,), f"unknown field '{key}'")
    if data.get("id") != stem:
        src.error(("id",), f"id must match the file name: '{stem}'")
    office = divisions.get(str(data.get("office")))
    if office is None and "office" in data:
        src.error(("office",), f"office '{data.get('office')}' is not a division id in municipality.yaml")
    label = data.get("label")
    if isinstance(label, str) and len(label) > QUICK_REPLY_LABEL_MAX:
        src.error(("label",), f"label is {len(label)} characters; LINE allows {QUICK_REPLY_LABEL_MAX} on a button")
    examples = _texts(src, data, "examples")
    if "examples" in data and len(examples) < MIN_EXAMPLES:
        src.error(("examples",), f"give at least {MIN_EXAMPLES} example questions")
    reviewed = data.get("last_reviewed")
    if "last_reviewed" in data and not isinstance(reviewed, dt.date):
        src.error(("last_reviewed",), "last_reviewed must be a date written YYYY-MM-DD")
    entry_fields: dict[str, Any] = {
        "id": stem,
        "name": _text(src, data, "name"),
        "label": _text(src, data, "label"),
        "summary": _text(src, data, "summary"),
        "aliases": _texts(src, data, "aliases"),
        "examples": examples,
        "channel": _text(src, data, "channel"),
        "who": _texts(src, data, "who", required=False),
        "steps": _steps(src, data.get("steps")),
        "time_limit": _time_limit(src, data.get("time_limit")),
        "documents": _texts(src, data, "documents"),
        "fees": _fees(src, data.get("fees")),
        "benefit": _text(src, data, "benefit", required=False),
        "deadlines": _texts(src, data, "deadlines", required=False),
        "windows": _windows(src, data.get("windows")),
        "penalties": _texts(src, data, "penalties", required=False),
        "if_late": _text(src, data, "if_late", required=False),
        "related": _texts(src, data, "related", required=False),
        "offers_report": bool(data.get("offers_report", False)),
        "sources": _texts(src, data, "sources"),
    }
    if len(src.errors.items) > before or office is None or not isinstance(reviewed, dt.date):
        return None
    return ServiceEntry(office=office, last_reviewed=reviewed, **entry_fields)


def _text(src: Located, data: dict[str, Any], key: str, required: bool = True) -> Any:
    value = data.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        if key in data or required:
            src.error((key,), f"'{key}' must be a non-empty text")
        return None
    return value.strip()


def _texts(src: Located, data: dict[str, Any], key: str, required: bool = True) -> tuple[str, ...]:
    value = data.get(key)
    if value is None:
        return ()
    if not isinstance(value, list) or (required and not value):
        src.error((key,), f"'{key}' must be a list of texts")
        return ()
    result = []
    for i, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            src.error((key, i), f"each item of '{key}' must be a non-empty text")
            continue
        result.append(item.strip())
    return tuple(result)


def _days(src: Located, path: tuple[str | int, ...], item: dict[str, Any]) -> tuple[int | None, str, str]:
    days = item.get("days")
    if days is not None and (not isinstance(days, int) or isinstance(days, bool) or days < 0):
        src.error((*path, "days"), "days must be a whole number of days, or null when no figure is published")
        days = None
    kind = item.get("day_kind", "unspecified" if days is None else None)
    if kind not in DAY_KINDS:
        src.error((*path, "day_kind"), f"day_kind must be one of {', '.join(DAY_KINDS)}")
    certainty = item.get("certainty", "seen")
    if certainty not in CERTAINTIES:
        src.error((*path, "certainty"), f"certainty must be one of {', '.join(CERTAINTIES)}")
    return days, str(kind), str(certainty)


def _steps(src: Located, raw: object) -> tuple[Step, ...]:
    if not isinstance(raw, list) or not raw:
        src.error(("steps",), "'steps' must list at least one step")
        return ()
    steps = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            src.error(("steps", i), "each step needs a 'text'")
            continue
        days, kind, certainty = _days(src, ("steps", i), item)
        steps.append(Step(text=item["text"].strip(), days=days, day_kind=kind, certainty=certainty))
    return tuple(steps)


def _time_limit(src: Located, raw: object) -> TimeLimit | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or not isinstance(raw.get("basis"), str):
        src.error(("time_limit",), "time_limit needs days, day_kind and basis")
        return None
    days, kind, certainty = _days(src, ("time_limit",), raw)
    if days is None:
        src.error(("time_limit", "days"), "time_limit needs a number of days")
        return None
    note = raw.get("note")
    return TimeLimit(
        days=days, day_kind=kind, basis=raw["basis"], note=note if isinstance(note, str) else None, certainty=certainty
    )


def _fees(src: Located, raw: object) -> tuple[Fee, ...]:
    if not isinstance(raw, list) or not raw:
        src.error(("fees",), "'fees' must list at least one fee (kind: none when there is no charge)")
        return ()
    fees = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            src.error(("fees", i), "each fee needs a 'text' and a 'kind'")
            continue
        if item.get("kind") not in FEE_KINDS:
            src.error(("fees", i, "kind"), f"fee kind must be one of {', '.join(FEE_KINDS)}")
            continue
        fees.append(Fee(text=item["text"].strip(), kind=item["kind"]))
    return tuple(fees)


def _windows(src: Located, raw: object) -> tuple[Window, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not raw:
        src.error(("windows",), "'windows' must be a list of windows, each {what, yearly | dates | monthly_day}")
        return ()
    windows = []
    for i, item in enumerate(raw):
        window = _window(src, ("windows", i), item)
        if window is not None:
            windows.append(window)
    return tuple(windows)


def _window(src: Located, path: tuple[str | int, ...], item: object) -> Window | None:
    if not isinstance(item, dict):
        src.error(path, "a window is a mapping: {what, yearly | dates | monthly_day, certainty, note}")
        return None
    before = len(src.errors.items)
    for key in item:
        if key not in _WINDOW_KEYS:
            src.error((*path, key), f"unknown field '{key}' (a window has {', '.join(_WINDOW_KEYS)})")
    what, note = item.get("what"), item.get("note")
    if not isinstance(what, str) or not what.strip():
        src.error((*path, "what"), "'what' must say in Thai what the dates are for")
    if note is not None and (not isinstance(note, str) or not note.strip()):
        src.error((*path, "note"), "'note' must be a non-empty text")
    certainty = item.get("certainty", "seen")
    if certainty not in CERTAINTIES:
        src.error((*path, "certainty"), f"certainty must be one of {', '.join(CERTAINTIES)}")
    on_day_off = item.get("on_day_off", "same")
    if on_day_off not in ON_DAY_OFF or (on_day_off != "same" and "monthly_day" not in item):
        src.error((*path, "on_day_off"), f"on_day_off is for monthly_day only, one of {', '.join(ON_DAY_OFF)}")
    forms = [f for f in WINDOW_FORMS if f in item]
    if len(forms) != 1:
        src.error(path, f"give exactly one of {', '.join(WINDOW_FORMS)}")
        return None
    periods: tuple[Period, ...] = ()
    monthly_day = None
    if forms[0] == "monthly_day":
        monthly_day = _monthly_day(src, (*path, "monthly_day"), item["monthly_day"])
    else:
        periods = _periods(src, (*path, forms[0]), item[forms[0]], yearly=forms[0] == "yearly")
    if len(src.errors.items) > before:
        return None
    return Window(
        what=str(what).strip(),
        periods=periods,
        monthly_day=monthly_day,
        certainty=str(certainty),
        note=note.strip() if isinstance(note, str) else None,
        on_day_off=str(on_day_off),
    )


def _monthly_day(src: Located, path: tuple[str | int, ...], raw: object) -> int | None:
    if not isinstance(raw, int) or isinstance(raw, bool) or not 1 <= raw <= 31:
        src.error(path, "monthly_day must be a day of the month, 1 to 31 (a shorter month uses its last day)")
        return None
    return raw


def _periods(src: Located, path: tuple[str | int, ...], raw: object, yearly: bool) -> tuple[Period, ...]:
    form = "{from: MM-DD, to: MM-DD}" if yearly else "{from: YYYY-MM-DD, to: YYYY-MM-DD}"
    if not isinstance(raw, list) or not raw:
        src.error(path, f"give a list of periods, each {form} ('from' may be left out for a deadline)")
        return ()
    periods = []
    for i, item in enumerate(raw):
        where = (*path, i)
        if not isinstance(item, dict) or "to" not in item or set(item) - {"from", "to"}:
            src.error(where, f"each period is {form}")
            continue
        read = _month_day if yearly else _one_date
        end = read(src, (*where, "to"), item["to"])
        start = read(src, (*where, "from"), item["from"]) if "from" in item else None
        if end is None or ("from" in item and start is None):
            continue
        if isinstance(start, dt.date) and isinstance(end, dt.date) and end < start:
            src.error((*where, "to"), "'to' is before 'from'")
            continue
        periods.append(Period(start=start, end=end))
    if len({p.start is None for p in periods}) > 1:
        src.error(path, "either every period has a 'from' (a window) or none has (deadlines), not both")
    return tuple(periods)


def _month_day(src: Located, path: tuple[str | int, ...], raw: object) -> MonthDay | None:
    """'MM-DD' of a yearly date; 02-29 is refused because most years do not have it."""
    text = raw if isinstance(raw, str) else ""
    parts = text.split("-")
    if len(parts) == 2 and all(p.isdigit() and len(p) == 2 for p in parts):
        month, day = int(parts[0]), int(parts[1])
        try:
            dt.date(2025, month, day)  # a year without 29 February
        except ValueError:
            pass
        else:
            return MonthDay(month, day)
    src.error(path, f'a yearly date is written MM-DD in quotes, e.g. "03-31" (not {raw!r}; 02-29 is not allowed)')
    return None


def _one_date(src: Located, path: tuple[str | int, ...], raw: object) -> dt.date | None:
    if isinstance(raw, dt.date) and not isinstance(raw, dt.datetime):
        if raw.year < BUDDHIST_ERA_FROM:
            return raw
        src.error(path, f"{raw} looks like a Buddhist-era year: write the Gregorian year ({raw.year - 543})")
        return None
    src.error(path, f"a date is written YYYY-MM-DD in the Gregorian calendar, e.g. 2026-06-30 (not {raw!r})")
    return None
