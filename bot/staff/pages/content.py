"""Consultations and content: which consultations are open, and each service answer as residents see it."""

from __future__ import annotations

from aiohttp import web

from bot import keys
from bot.ops.invocation import bot_command
from bot.staff.preview import render_messages
from bot.staff.shell import now, render, requires


@requires("view")
async def page(request: web.Request) -> web.Response:
    """Consultations with their dates and state, and the list of services to preview."""
    content, today = request.app[keys.CONTENT], now(request)
    return render(
        request,
        "consultations.html",
        consultations=[(c, c.is_open(today)) for c in content.consultations.values()],
        services=content.services,
        villages={v.no: v.name for v in content.municipality.villages},
        # As the server's own interpreter runs it, from the directory the server was started in.
        check_command=bot_command("content check"),
    )


@requires("view")
async def service_preview(request: web.Request) -> web.Response:
    """The card a resident gets for this service, and the answer to "how many days"."""
    content = request.app[keys.CONTENT]
    service = content.services.get(request.match_info["service_id"])
    if service is None:
        raise web.HTTPNotFound(text="ไม่มีบริการนี้", content_type="text/plain")
    qa = request.app[keys.QA]
    card = render_messages([qa.answers.card(service, None)])
    timeline = render_messages([qa.answers.aspect(service, "timeline", qa.today())])
    return render(request, "service.html", service=service, card=card, timeline=timeline)
