"""Reading the filter bar of a list page (and an export link) into Filters, leniently: a bad value is
dropped and said so, never a server error."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from aiohttp import web

from bot import keys
from bot.staff.exports import Filters

PAGE_SIZE = 50


def _date(raw: str | None, problems: list[str], name: str) -> dt.date | None:
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        problems.append(f"วันที่ '{raw}' ใน {name} อ่านไม่ได้ (ใช้รูปแบบ ปปปป-ดด-วว)")
        return None


def filters_from(request: web.Request, query: Mapping[str, str] | None = None) -> tuple[Filters, list[str]]:
    """The filters in the query string, and the problems found reading it (shown above the list)."""
    query = request.query if query is None else query
    content = request.app[keys.CONTENT]
    problems: list[str] = []
    village: int | None = None
    if query.get("village"):
        try:
            village = int(query["village"])
        except ValueError:
            problems.append("หมู่ที่ต้องเป็นตัวเลข")
    category = query.get("category") or None
    if category and category not in content.categories:
        problems.append("ไม่มีหมวดนี้")
        category = None
    consultation = query.get("consultation") or None
    search = (query.get("q") or "").strip()[:200]
    words = request.app[keys.STAFF_KEYWORDS].search_words(search) if search else ()
    filters = Filters(
        consultation=consultation,
        category=category,
        village=village,
        status=query.get("status") or None,
        since=_date(query.get("since"), problems, "ตั้งแต่"),
        until=_date(query.get("until"), problems, "ถึง"),
        words=words,
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
