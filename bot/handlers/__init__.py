"""Feature handlers, one module per feature; `routers()` lists them in the order they are consulted."""

from __future__ import annotations

from bot.dispatch import Router
from bot.handlers import cases, commands, fallback, follow, hearings, media, menu, mydata, opinions, reports, services


def routers() -> list[Router]:
    """Commands first (they work at every step), the fallback last."""
    return [
        commands.router,
        hearings.router,
        follow.router,
        opinions.router,
        reports.router,
        mydata.router,
        cases.router,
        services.router,
        menu.router,
        media.router,
        fallback.router,
    ]
