"""GET /metrics in Prometheus' text format: what this process counted since it started (webhook events
received, events handled, LINE API calls by result) and what the database says now (events waiting and the
age of the oldest, messages and photos waiting, announcement chunks waiting, the share of questions answered
in the last 24 hours). Each process is scraped on its own; counters restart with it, as Prometheus expects.

The database's figures are read at most once every GAUGE_SECONDS, one reading at a time: scrapes meanwhile get
the last figures, so a flood of GET /metrics costs one set of queries, not one per request, and never queues
in front of the webhook's intake for SQLite's single connection. Scrapes are answered at most
SCRAPES_PER_SECOND, one at a time: an anonymous flood of them waits, idle, instead of taking the event loop
from LINE's webhook."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections import Counter
from dataclasses import dataclass, field

from aiohttp import web
from sqlalchemy import case, func, select

from bot import keys
from bot.db.models import BroadcastChunk, InboundEvent, OutboundMessage, Photo, ServiceQuery, utcnow
from bot.db.statuses import ChunkStatus, EventStatus, OutboxStatus, PhotoStatus
from bot.staff.pacing import Busy, Pacer

GAUGE_SECONDS = 5.0
# Prometheus scrapes each process every 15 s or so; a flood of scrapes is answered at this pace, the rest
# waiting idle (a waiting request costs a connection, not CPU), and beyond SCRAPES_WAITING refused with 503.
SCRAPES_PER_SECOND = 10.0
SCRAPES_WAITING = 1000


@dataclass(frozen=True)
class Gauges:
    """What the database said at one moment."""

    pending: int
    oldest: dt.datetime | None
    outbox: int
    photos: int
    photos_failed: int
    chunks: int
    asked: int
    answered: int
    at: dt.datetime


@dataclass
class GaugeCache:
    """The last Gauges read, and the lock that lets one request at a time read new ones."""

    max_age: float = GAUGE_SECONDS
    last: Gauges | None = None
    read_at: float = float("-inf")
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    pace: Pacer = field(default_factory=lambda: Pacer(SCRAPES_PER_SECOND, SCRAPES_WAITING))


@dataclass
class Metrics:
    """In-process counters; the webhook, the inbox and the LINE gateway add to them."""

    events_received: Counter[str] = field(default_factory=Counter)  # stored | duplicate
    events_handled: Counter[str] = field(default_factory=Counter)  # done | failed
    line_calls: Counter[tuple[str, str]] = field(default_factory=Counter)  # (call, status)
    gauges: GaugeCache = field(default_factory=GaugeCache)

    def line_call(self, call: str, status: int | None) -> None:
        self.line_calls[(call, str(status) if status is not None else "none")] += 1


def _line(name: str, value: float, **labels: str) -> str:
    if labels:
        inner = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
        return f"{name}{{{inner}}} {value:g}"
    return f"{name} {value:g}"


def _block(name: str, kind: str, help_text: str, lines: list[str]) -> list[str]:
    return [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}", *lines]


async def _read_gauges(app: web.Application) -> Gauges:
    now = utcnow()
    async with app[keys.SESSIONS]() as session:
        pending, oldest = (
            await session.execute(
                select(func.count(), func.min(InboundEvent.received_at)).where(
                    InboundEvent.status == EventStatus.PENDING
                )
            )
        ).one()
        outbox = await session.scalar(
            select(func.count())
            .select_from(OutboundMessage)
            .where(OutboundMessage.status.in_((OutboxStatus.PENDING, OutboxStatus.SENDING)))
        )
        photos = await session.scalar(
            select(func.count()).select_from(Photo).where(Photo.status.in_((PhotoStatus.PENDING, PhotoStatus.ERASE)))
        )
        photos_failed = await session.scalar(
            select(func.count()).select_from(Photo).where(Photo.status == PhotoStatus.FAILED)
        )
        chunks = await session.scalar(
            select(func.count())
            .select_from(BroadcastChunk)
            .where(BroadcastChunk.status.in_((ChunkStatus.PENDING, ChunkStatus.SENDING)))
        )
        asked, answered = (
            await session.execute(
                select(func.count(), func.sum(case((ServiceQuery.answered, 1), else_=0))).where(
                    ServiceQuery.created_at >= now - dt.timedelta(hours=24),
                    ServiceQuery.intent.in_(("service", "clarify", "out_of_scope")),
                )
            )
        ).one()
    return Gauges(
        pending=int(pending or 0),
        oldest=oldest,
        outbox=int(outbox or 0),
        photos=int(photos or 0),
        photos_failed=int(photos_failed or 0),
        chunks=int(chunks or 0),
        asked=int(asked or 0),
        answered=int(answered or 0),
        at=now,
    )


async def gauges(app: web.Application) -> Gauges:
    """The database's figures, at most GAUGE_SECONDS old; while one request reads them, others that have older
    figures go on with those, and those with none wait for that one reading."""
    cache = app[keys.METRICS].gauges
    if cache.last is not None and (time.monotonic() - cache.read_at < cache.max_age or cache.lock.locked()):
        return cache.last
    async with cache.lock:
        if cache.last is None or time.monotonic() - cache.read_at >= cache.max_age:
            cache.last = await _read_gauges(app)
            cache.read_at = time.monotonic()
        return cache.last


async def render(app: web.Application) -> str:
    metrics = app[keys.METRICS]
    g = await gauges(app)
    pending, oldest, outbox, photos, photos_failed = g.pending, g.oldest, g.outbox, g.photos, g.photos_failed
    chunks, asked, answered, now = g.chunks, g.asked, g.answered, g.at
    lag = (now - oldest).total_seconds() if oldest is not None else 0.0
    out: list[str] = []
    out += _block(
        "bot_webhook_events_total",
        "counter",
        "Webhook events acknowledged by this process, by whether they were new.",
        [_line("bot_webhook_events_total", n, result=r) for r, n in sorted(metrics.events_received.items())],
    )
    out += _block(
        "bot_events_handled_total",
        "counter",
        "Stored events this process finished handling.",
        [_line("bot_events_handled_total", n, status=s) for s, n in sorted(metrics.events_handled.items())],
    )
    out += _block(
        "bot_line_api_calls_total",
        "counter",
        "Calls to LINE's API by this process, by call and HTTP status (none: no answer).",
        [_line("bot_line_api_calls_total", n, call=c, status=s) for (c, s), n in sorted(metrics.line_calls.items())],
    )
    out += _block(
        "bot_queue_size",
        "gauge",
        "Work waiting in the database.",
        [
            _line("bot_queue_size", pending or 0, queue="events"),
            _line("bot_queue_size", outbox or 0, queue="outbox"),
            _line("bot_queue_size", photos or 0, queue="photos"),
            _line("bot_queue_size", chunks or 0, queue="broadcast_chunks"),
        ],
    )
    out += _block(
        "bot_photos_failed",
        "gauge",
        "Photos that could not be stored (a bad file, a full disk or a read-only media directory).",
        [_line("bot_photos_failed", photos_failed or 0)],
    )
    out += _block(
        "bot_event_lag_seconds",
        "gauge",
        "Age of the oldest event not yet handled.",
        [_line("bot_event_lag_seconds", lag)],
    )
    share = (int(answered or 0) / asked) if asked else 0.0
    out += _block(
        "bot_answer_rate",
        "gauge",
        "Share of service questions in the last 24 hours the bot answered outright.",
        [_line("bot_answer_rate", round(share, 4))],
    )
    out += _block(
        "bot_questions_24h",
        "gauge",
        "Service questions in the last 24 hours.",
        [_line("bot_questions_24h", asked or 0)],
    )
    return "\n".join(out) + "\n"


async def metrics_endpoint(request: web.Request) -> web.Response:
    """Prometheus scrape target."""
    try:
        async with request.app[keys.METRICS].gauges.pace:
            text = await render(request.app)
    except Busy:
        raise web.HTTPServiceUnavailable(text="busy", content_type="text/plain") from None
    return web.Response(text=text, content_type="text/plain", charset="utf-8")
