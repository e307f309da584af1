"""The application factory: one cleanup context per resource, then the routes (listed in bot/urls.py)."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import secrets
from collections.abc import AsyncIterator

from aiohttp import web

from bot import keys, urls
from bot.chat.dispatch import Dispatcher
from bot.config import Settings
from bot.content import load_content
from bot.db.engine import create_engine, create_sessionmaker, migrate
from bot.delivery.background import Stopping, stop_tasks
from bot.delivery.inbox import Inbox
from bot.delivery.intake import EventIntake
from bot.delivery.line import LineGateway, RetryPolicy
from bot.delivery.photos import PhotoFetcher
from bot.delivery.request_body import body_deadline
from bot.handlers.hearings.fanout import JobRunner
from bot.handlers.residents.erasure import ErasureJob
from bot.handlers.residents.retention import RetentionJob
from bot.handlers.routing import routers
from bot.handlers.services.phrasings import PhrasingRefresher
from bot.handlers.services.qa import QuestionAnswering
from bot.nlp.reader import ProcessReader
from bot.nlp.tokenize import for_content
from bot.ops.metrics import Metrics
from bot.staff import web as staff_web
from bot.staff.insight import Keywords
from bot.staff.pages.insight import insight_runner

log = logging.getLogger(__name__)


def create_app(settings: Settings, with_inbox: bool = True) -> web.Application:
    """The whole service. with_inbox=False makes a web-only process, for when `python -m bot worker`
    runs the inbox elsewhere (production on PostgreSQL: acknowledgements and handling on separate cores)."""
    # The webhook enforces its own, smaller cap; this one guards every other route.
    app = web.Application(client_max_size=2 * 1024 * 1024, middlewares=[body_deadline(settings.body_timeout_seconds)])
    if not with_inbox:
        # A web-only process reads a message only for the staff's unanswered-questions page: in a thread,
        # rather than with reader processes of its own (about 280 MB each).
        settings = dataclasses.replace(settings, reader_process=False)
    app[keys.SETTINGS] = settings
    app[keys.METRICS] = Metrics()
    app.cleanup_ctx.extend([_database, _content, _line, _understanding, insight_runner])
    if with_inbox:
        app.cleanup_ctx.append(_inbox)
    staff_web.setup(app)
    urls.attach(app, settings.local_mode)
    return app


async def _database(app: web.Application) -> AsyncIterator[None]:
    engine = create_engine(app[keys.SETTINGS].database_url)
    await migrate(engine)
    app[keys.ENGINE] = engine
    app[keys.SESSIONS] = create_sessionmaker(engine)
    app[keys.INTAKE] = EventIntake(engine, app[keys.SESSIONS])
    yield
    await app[keys.INTAKE].close()
    await engine.dispose()


async def _content(app: web.Application) -> AsyncIterator[None]:
    app[keys.CONTENT] = load_content(app[keys.SETTINGS].content_dir)
    yield


async def _line(app: web.Application) -> AsyncIterator[None]:
    settings = app[keys.SETTINGS]
    runner: web.AppRunner | None = None
    if settings.local_mode:
        # No LINE channel: play LINE ourselves, on a loopback port of this same process.
        from bot.dev.fake_line import FakeLinePlatform

        token = secrets.token_urlsafe(32)
        fake = FakeLinePlatform(access_token=token)
        runner = web.AppRunner(fake.app(), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        base = f"http://127.0.0.1:{port}"
        app[keys.FAKE_LINE] = fake
        app[keys.CHANNEL_SECRET] = secrets.token_hex(16)
        policy = RetryPolicy.from_settings(settings)
        gateway = LineGateway(token, base, base, policy, on_call=app[keys.METRICS].line_call)
    else:
        assert settings.line_channel_secret
        app[keys.CHANNEL_SECRET] = settings.line_channel_secret.reveal()
        gateway = LineGateway.for_channel(settings, on_call=app[keys.METRICS].line_call)
    app[keys.LINE] = gateway
    yield
    await gateway.close()
    if runner is not None:
        await runner.cleanup()


async def _understanding(app: web.Application) -> AsyncIterator[None]:
    """The matcher (with the phrasings staff taught it, kept fresh) and the staff workspace's word tools:
    both web and worker processes need them."""
    content, settings = app[keys.CONTENT], app[keys.SETTINGS]
    if settings.reader_process:
        # Messages are read in a child process at a lower CPU priority: acknowledgements first (bot/nlp/reader.py).
        qa = QuestionAnswering(content)
        qa.reader_process = ProcessReader(content, {}, settings.reader_niceness, settings.reader_processes)
    else:
        qa = QuestionAnswering.from_content(content)  # reads in a thread
    app[keys.QA] = qa
    refresher = PhrasingRefresher(app[keys.SESSIONS], qa)
    try:
        await refresher.refresh()
        if qa.reader_process is not None:
            await qa.reader_process.warm_up()
        app[keys.PHRASINGS] = refresher
        app[keys.STAFF_KEYWORDS] = Keywords(for_content(content))
        stopping = Stopping()
        task = asyncio.create_task(refresher.run_forever(stopping))
        yield
        await stop_tasks([task], stopping)
    finally:
        if qa.reader_process is not None:
            await qa.reader_process.close()


async def _inbox(app: web.Application) -> AsyncIterator[None]:
    settings = app[keys.SETTINGS]
    public = settings.public_url or f"http://{settings.host}:{settings.port}"
    dispatcher = Dispatcher(
        routers(),
        app[keys.CONTENT],
        settings.pseudonym_key.reveal(),
        qa=app[keys.QA],
        links={"privacy": f"{public}/privacy"},
    )
    inbox = Inbox(
        app[keys.SESSIONS],
        dispatcher,
        app[keys.LINE],
        workers=settings.inbox_workers,
        settle_seconds=settings.inbox_settle_seconds,
        lease_seconds=settings.inbox_lease_seconds,
        poll_seconds=settings.inbox_poll_seconds,
        lanes_per_cycle=settings.inbox_lanes_per_cycle or (16 if settings.is_sqlite else 64),
        metrics=app[keys.METRICS],
    )
    app[keys.INBOX] = inbox
    app[keys.PHOTOS] = PhotoFetcher(app[keys.SESSIONS], app[keys.LINE], settings.data_dir / "media")
    app[keys.BROADCASTS] = JobRunner(
        app[keys.SESSIONS],
        app[keys.LINE],
        app[keys.CONTENT],
        requests_per_second=settings.broadcast_requests_per_second,
    )
    app[keys.ERASURES] = ErasureJob(app[keys.SESSIONS])
    retention = RetentionJob(app[keys.SESSIONS], app[keys.CONTENT].privacy.retention_months)
    stopping = Stopping()
    background = [
        asyncio.create_task(app[keys.PHOTOS].run_forever(stopping)),
        asyncio.create_task(app[keys.BROADCASTS].run_forever(stopping)),
        asyncio.create_task(retention.run_forever(stopping)),
        asyncio.create_task(app[keys.ERASURES].run_forever(stopping)),
    ]
    await inbox.start()
    yield
    await inbox.stop()
    await stop_tasks(background, stopping)
