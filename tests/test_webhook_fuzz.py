"""Webhook payloads generated from LINE's webhook model (tests/webhook_events.py) and mutated: every body
is answered 200 or 4xx, never 5xx, and every event the server stored is handled to the end: none left
failed by a handler that raised."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.db.models import InboundEvent
from tests.conftest import Bot
from tests.webhook_events import mutated_event

_SUPPRESSED = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large]


def _body(events: list[dict[str, object]]) -> bytes:
    return json.dumps({"destination": "U" + "0" * 32, "events": events}, ensure_ascii=False).encode()


@settings(max_examples=400, deadline=None, suppress_health_check=_SUPPRESSED)
@given(events=st.lists(mutated_event(), min_size=1, max_size=5))
async def test_generated_bodies_never_get_a_5xx(bot: Bot, events: list[dict[str, object]]) -> None:
    response = await bot.post(body=_body(events))
    assert response.status == 200 or 400 <= response.status < 500, await response.text()


@settings(max_examples=120, deadline=None, suppress_health_check=_SUPPRESSED)
@given(events=st.lists(mutated_event(), min_size=1, max_size=5))
async def test_stored_events_are_all_handled(bot: Bot, events: list[dict[str, object]]) -> None:
    if (await bot.post(body=_body(events))).status != 200:
        return
    await bot.idle()
    async with bot.sessions() as session:
        failed = list(
            await session.execute(
                select(InboundEvent.event_type, InboundEvent.status, InboundEvent.outcome, InboundEvent.payload).where(
                    InboundEvent.status != "done"
                )
            )
        )
    assert failed == []
