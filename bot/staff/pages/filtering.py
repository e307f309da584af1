"""Reading the filter bar of a list page (and an export link) into Filters, leniently: a bad value is
dropped and said so, never a server error. Each problem is a code the page words in Thai
(templates/_filter_problems.html); an export refuses with 400 and the same words."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from aiohttp import web

from bot import keys
from bot.references import split_reference
from bot.staff.dates import DateError, parse_day
from bot.staff.exports import MAX_VILLAGE, Filters

PAGE_SIZE = 50
# A value chosen from a list (consultation, status, division) is an id: short, printable.
MAX_ID_CHARS = 100


@dataclass(frozen=True)
class Problem:
    """A filter that was dropped: which (`field`), why (`code`), and what it was (`value`, shown escaped)."""

    field: str
    code: str  # unreadable | date_range | village_range | unknown
    value: str


def _date(raw: str | None, problems: list[Problem], name: str) -> dt.date | None:
    """A day as staff type it, in the Buddhist era (bot/staff/dates.py), or as an export link carries it."""
    if not raw:
        return None
    try:
        return parse_day(raw)
    except DateError as exc:
        problems.append(Problem(name, exc.code, raw[:40]))
        return None


def text_filter(query: Mapping[str, str], name: str, problems: list[Problem]) -> str | None:
    """A filter that names an id: refused if it could not be one (control characters, which PostgreSQL
    text cannot even hold when it is NUL, or absurd length)."""
    raw = query.get(name) or None
    if raw is not None and (len(raw) > MAX_ID_CHARS or not raw.isprintable()):
        problems.append(Problem(name, "unreadable", raw[:40]))
        return None
    return raw


def filters_from(request: web.Request, query: Mapping[str, str] | None = None) -> tuple[Filters, list[Problem]]:
    """The filters in the query string, and the problems found reading it (shown above the list)."""
    query = request.query if query is None else query
    content = request.app[keys.CONTENT]
    problems: list[Problem] = []
    village: int | None = None
    if raw := query.get("village"):
        try:
            village = int(raw)
        except ValueError:
            problems.append(Problem("village", "unreadable", raw[:40]))
        else:
            if not 1 <= village <= MAX_VILLAGE:
                problems.append(Problem("village", "village_range", raw[:40]))
                village = None
    category = query.get("category") or None
    if category and category not in content.categories:
        problems.append(Problem("category", "unknown", category[:40]))
        category = None
    consultation = text_filter(query, "consultation", problems)
    status = text_filter(query, "status", problems)
    # A reference in the search box finds its case; the words around it still narrow by the text.
    reference, search = split_reference((query.get("q") or "").strip()[:200])
    search = search.strip()
    words = request.app[keys.STAFF_KEYWORDS].search_words(search) if search else ()
    filters = Filters(
        consultation=consultation,
        category=category,
        village=village,
        status=status,
        since=_date(query.get("since"), problems, "since"),
        until=_date(query.get("until"), problems, "until"),
        words=words,
        reference=None if reference is None else str(reference),
    )
    return filters, problems


def page_number(request: web.Request) -> int:
    try:
        return max(1, min(100_000, int(request.query.get("page", "1"))))
    except ValueError:
        return 1


def query_without_page(request: web.Request) -> str:
    from urllib.parse import urlencode

    return urlencode([(k, v) for k, v in request.query.items() if k != "page" and v])
