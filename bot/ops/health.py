"""/healthz: liveness and readiness, for the service manager, load balancers and scripts that wait for a start."""

from __future__ import annotations

from aiohttp import web

from bot import keys
from bot.db.engine import ping


async def healthz(request: web.Request) -> web.Response:
    """Liveness and readiness: 200 when the database answers, 503 when it does not."""
    ok = await ping(request.app[keys.ENGINE])
    body = {
        "status": "ok" if ok else "degraded",
        "database": "ok" if ok else "unreachable",
        "mode": "local" if request.app[keys.SETTINGS].local_mode else "line",
    }
    return web.json_response(body, status=200 if ok else 503)
