"""Every path the server answers, and the handler behind it; bot/app.py attaches them (attach).

A GET path answers HEAD too. The fake LINE platform of local mode listens on a loopback port of its own
(bot/dev/fake_line.py) and is not in this table.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from bot.delivery.webhook import callback
from bot.dev import simulator
from bot.handlers.hearings import pages as hearings
from bot.handlers.opinions import pages as opinions
from bot.handlers.reports import pages as reports
from bot.handlers.residents.pages import privacy_notice
from bot.handlers.services import pages as questions
from bot.ops.health import healthz
from bot.ops.metrics import metrics_endpoint
from bot.staff import web as sign_in
from bot.staff.pages import accounts, content, exports, insight, overview
from bot.staff.shell import PREFIX, STATIC, Handler

GET, POST = "GET", "POST"


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: Handler


@dataclass(frozen=True)
class Static:
    """A folder served as files under a prefix."""

    prefix: str
    folder: Path


# LINE posts residents' events here.
WEBHOOK = (Route(POST, "/callback", callback),)

# The staff workspace: every request under PREFIX passes the guard (bot/staff/web.py) first.
STAFF: tuple[Route | Static, ...] = (
    Route(GET, f"{PREFIX}/login", sign_in.login_page),
    Route(POST, f"{PREFIX}/login", sign_in.login),
    Route(POST, f"{PREFIX}/logout", sign_in.logout),
    Static(f"{PREFIX}/static", STATIC),
    Route(GET, PREFIX, overview.page),
    Route(GET, f"{PREFIX}/opinions", opinions.opinion_list),
    Route(GET, f"{PREFIX}/opinions/{{reference}}", opinions.opinion_page),
    Route(POST, f"{PREFIX}/opinions/{{reference}}", opinions.opinion_update),
    Route(GET, f"{PREFIX}/photos/{{photo_id}}", opinions.photo),
    Route(GET, f"{PREFIX}/insight", insight.page),
    Route(GET, f"{PREFIX}/reports", reports.report_list),
    Route(GET, f"{PREFIX}/reports/{{reference}}", reports.report_page),
    Route(POST, f"{PREFIX}/reports/{{reference}}", reports.report_update),
    Route(GET, f"{PREFIX}/questions", questions.page),
    Route(POST, f"{PREFIX}/questions", questions.triage),
    Route(GET, f"{PREFIX}/hearings", hearings.hearing_list),
    Route(POST, f"{PREFIX}/hearings", hearings.hearing_create),
    Route(GET, f"{PREFIX}/hearings/{{hearing_id}}", hearings.hearing_page),
    Route(POST, f"{PREFIX}/hearings/{{hearing_id}}", hearings.hearing_update),
    Route(GET, f"{PREFIX}/hearings/{{hearing_id}}/sendings/{{job_id}}", hearings.sending_page),
    Route(GET, f"{PREFIX}/consultations", content.page),
    Route(GET, f"{PREFIX}/services/{{service_id}}", content.service_preview),
    Route(GET, f"{PREFIX}/export/{{kind}}.{{format}}", exports.download),
    Route(GET, f"{PREFIX}/accounts", accounts.account_list),
    Route(POST, f"{PREFIX}/accounts", accounts.account_update),
    Route(GET, f"{PREFIX}/audit", accounts.audit_log),
)

# For operators and residents: health, the metrics page, the privacy notice the chat links to.
SERVICE = (
    Route(GET, "/healthz", healthz),
    Route(GET, "/metrics", metrics_endpoint),
    Route(GET, "/privacy", privacy_notice),
)

# Local mode only (no LINE channel): a chat page that plays a resident.
SIMULATOR = (
    Route(GET, "/", simulator.home),
    Route(GET, "/simulator", simulator.page),
    Route(POST, "/simulator/api/send", simulator.send),
    Route(GET, "/simulator/api/messages", simulator.messages),
)


def table(local_mode: bool) -> tuple[Route | Static, ...]:
    """Every route of the server, in the order they are attached."""
    return WEBHOOK + STAFF + SERVICE + (SIMULATOR if local_mode else ())


def attach(app: web.Application, local_mode: bool) -> None:
    _add(app.router, table(local_mode))


def add_staff_routes(app: web.Application) -> None:
    """The workspace's routes alone (tests list its pages from them)."""
    _add(app.router, STAFF)


def _add(router: web.UrlDispatcher, routes: tuple[Route | Static, ...]) -> None:
    for route in routes:
        if isinstance(route, Static):
            router.add_static(route.prefix, route.folder)
        elif route.method == GET:
            router.add_get(route.path, route.handler)
        else:
            router.add_route(route.method, route.path, route.handler)
