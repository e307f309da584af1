"""Every router, the features' and the chat framework's basic ones, in the order they are consulted."""

from __future__ import annotations

from bot.chat import commands, fallback, follow, media, menu
from bot.chat.dispatch import Router
from bot.handlers.hearings import chat as hearings
from bot.handlers.opinions import chat as opinions
from bot.handlers.reports import chat as reports
from bot.handlers.residents import cases, mydata
from bot.handlers.services import chat as services


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
