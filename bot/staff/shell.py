"""What every page of the workspace uses: where the workspace lives (PREFIX, its static folder), who is signed in
(set by the guard in bot/staff/web.py), the capability check and its decorator, and rendering a template.

Pages import this module and never bot/staff/web.py; bot/urls.py attaches both to their paths.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from bot import keys
from bot.staff.accounts import ROLES
from bot.staff.dates import moment_fields, shown_day
from bot.staff.labels import StaffWords, thai_when
from bot.staff.sessions import SignedIn

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
PREFIX = "/staff"
STATIC = Path(__file__).parent / "static"
# The signed-in person of a /staff request, set by the guard once the session is resumed.
USER = web.RequestKey("staff_user", SignedIn)


def signed_in(request: web.Request) -> SignedIn:
    user: SignedIn = request[USER]
    return user


def now(request: web.Request) -> dt.datetime:
    """The one clock, the chat's (qa.clock): what staff do is dated by the time residents' chats are dated by,
    so a case filed in the chat and moved on by staff reads in order, and a test pins both at once."""
    return request.app[keys.QA].clock()


def can(request: web.Request, capability: str) -> bool:
    user: SignedIn | None = request.get(USER)
    return user is not None and capability in ROLES.get(user.role, frozenset())


def requires(capability: str) -> Callable[[Handler], Handler]:
    """Handler decorator: 403 unless the signed-in role has this capability."""

    def wrap(handler: Handler) -> Handler:
        async def guarded(request: web.Request) -> web.StreamResponse:
            if not can(request, capability):
                raise web.HTTPForbidden(text="สิทธิ์ของบัญชีนี้ไม่พอสำหรับหน้านี้", content_type="text/plain")
            return await handler(request)

        guarded.__doc__ = handler.__doc__
        guarded.__name__ = handler.__name__
        return guarded

    return wrap


def templates() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("bot.staff", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # One way to show a moment: Buddhist-era Thai ("1 ธ.ค. 2569 14:05"); `bangkok` is its older name.
    env.filters["thai_when"] = thai_when
    env.filters["bangkok"] = thai_when
    env.filters["number"] = lambda value: f"{value:,}"
    # Date fields are filled in the Buddhist era (chromium's date inputs would show Gregorian years).
    env.filters["day_field"] = shown_day
    env.filters["moment_fields"] = moment_fields
    return env


def render(request: web.Request, template: str, status: int = 200, **context: Any) -> web.Response:
    content = request.app[keys.CONTENT]
    user: SignedIn | None = request.get(USER)
    page = (
        request.app[keys.STAFF_TEMPLATES]
        .get_template(template)
        .render(
            user=user,
            csrf=user.csrf_token if user else "",
            can=lambda capability: can(request, capability),
            municipality=content.municipality,
            words=StaffWords(content),
            path=request.path,
            **context,
        )
    )
    return web.Response(text=page, content_type="text/html", status=status)
