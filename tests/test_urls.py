"""bot/urls.py lists every path the server answers: the app built in each mode serves exactly its table, in its
order, with its handlers."""

from __future__ import annotations

import pytest
from aiohttp import web

from bot import urls
from bot.app import create_app
from bot.config import Secret, Settings


def settings_for(local_mode: bool) -> Settings:
    if local_mode:
        return Settings()  # no LINE channel
    return Settings(line_channel_secret=Secret("a" * 32), line_channel_access_token=Secret("b" * 32))


def served(app: web.Application) -> list[tuple[str, str]]:
    return [(route.method, route.resource.canonical) for route in app.router.routes() if route.resource]


def listed(table: tuple[urls.Route | urls.Static, ...]) -> list[tuple[str, str]]:
    """What aiohttp makes of the table: a GET answers HEAD too (HEAD first), a static folder GET then HEAD."""
    expected: list[tuple[str, str]] = []
    for route in table:
        if isinstance(route, urls.Static):
            expected += [("GET", route.prefix), ("HEAD", route.prefix)]
        elif route.method == "GET":
            expected += [("HEAD", route.path), ("GET", route.path)]
        else:
            expected.append((route.method, route.path))
    return expected


@pytest.mark.parametrize("local_mode", [True, False], ids=["local", "line"])
def test_every_route_the_app_serves_is_in_the_table(local_mode: bool) -> None:
    settings = settings_for(local_mode)
    assert settings.local_mode is local_mode
    app = create_app(settings)
    assert served(app) == listed(urls.table(local_mode))
    handlers = {(r.method, r.resource.canonical): r.handler for r in app.router.routes() if r.resource}
    for route in urls.table(local_mode):
        if isinstance(route, urls.Route):
            assert handlers[(route.method, route.path)] is route.handler, route


def test_the_table_names_each_kind_of_path_once() -> None:
    paths = [(r.method, r.path) if isinstance(r, urls.Route) else ("GET", r.prefix) for r in urls.table(True)]
    assert len(paths) == len(set(paths))
    shown = {path for _, path in paths}
    for path in ("/callback", "/healthz", "/metrics", "/privacy", "/staff", "/staff/login", "/staff/static", "/"):
        assert path in shown, path
    line_mode = {r.path for r in urls.table(local_mode=False) if isinstance(r, urls.Route)}
    assert "/simulator" not in line_mode and "/" not in line_mode
