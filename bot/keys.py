"""Every aiohttp AppKey in one place, so a newcomer sees what the application holds."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web
from jinja2 import Environment
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.content import Content
    from bot.delivery.inbox import Inbox
    from bot.delivery.intake import EventIntake
    from bot.delivery.line import LineGateway
    from bot.delivery.photos import PhotoFetcher
    from bot.dev.fake_line import FakeLinePlatform
    from bot.handlers.hearings.fanout import JobRunner
    from bot.handlers.residents.erasure import ErasureJob
    from bot.handlers.services.phrasings import PhrasingRefresher
    from bot.handlers.services.qa import QuestionAnswering
    from bot.ops.metrics import Metrics
    from bot.staff.insight import InsightRunner, Keywords
    from bot.staff.throttle import SignInGuard

SETTINGS: web.AppKey[Settings] = web.AppKey("settings")
ENGINE = web.AppKey("engine", AsyncEngine)
SESSIONS = web.AppKey("sessions", async_sessionmaker[AsyncSession])
CONTENT: web.AppKey[Content] = web.AppKey("content")
LINE: web.AppKey[LineGateway] = web.AppKey("line")
INBOX: web.AppKey[Inbox] = web.AppKey("inbox")
INTAKE: web.AppKey[EventIntake] = web.AppKey("intake")
QA: web.AppKey[QuestionAnswering] = web.AppKey("qa")
PHOTOS: web.AppKey[PhotoFetcher] = web.AppKey("photos")
ERASURES: web.AppKey[ErasureJob] = web.AppKey("erasures")
CHANNEL_SECRET = web.AppKey("channel_secret", str)
FAKE_LINE: web.AppKey[FakeLinePlatform] = web.AppKey("fake_line")
PHRASINGS: web.AppKey[PhrasingRefresher] = web.AppKey("phrasings")
STAFF_TEMPLATES = web.AppKey("staff_templates", Environment)
STAFF_KEYWORDS: web.AppKey[Keywords] = web.AppKey("staff_keywords")
STAFF_INSIGHT: web.AppKey[InsightRunner] = web.AppKey("staff_insight")
BROADCASTS: web.AppKey[JobRunner] = web.AppKey("broadcasts")
METRICS: web.AppKey[Metrics] = web.AppKey("metrics")
STAFF_SIGN_IN: web.AppKey[SignInGuard] = web.AppKey("staff_sign_in")
