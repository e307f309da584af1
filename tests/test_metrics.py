"""GET /metrics: Prometheus text with the counters and queue gauges an operator alerts on."""

from __future__ import annotations

import re

from tests.conftest import Bot, new_user_id


def _value(text: str, name: str, **labels: str) -> float:
    label_text = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    pattern = re.escape(name + (f"{{{label_text}}}" if labels else "")) + r" ([0-9.e+-]+)$"
    match = re.search(pattern, text, re.MULTILINE)
    assert match, f"{name} {labels} not in metrics"
    return float(match.group(1))


async def test_metrics_count_events_line_calls_and_queues(bot: Bot) -> None:
    user = new_user_id()
    event = bot.text(user, "ทำบัตรประชาชนใช้อะไรบ้าง")
    assert (await bot.post(event)).status == 200
    assert (await bot.post(event)).status == 200  # LINE redelivers: counted as a duplicate
    await bot.idle()
    response = await bot.client.get("/metrics")
    assert response.status == 200 and response.content_type == "text/plain"
    text = await response.text()
    assert _value(text, "bot_webhook_events_total", result="stored") == 1
    assert _value(text, "bot_webhook_events_total", result="duplicate") == 1
    assert _value(text, "bot_events_handled_total", status="done") == 1
    assert _value(text, "bot_line_api_calls_total", call="reply", status="200") == 1
    assert _value(text, "bot_queue_size", queue="events") == 0
    assert _value(text, "bot_event_lag_seconds") == 0
    assert _value(text, "bot_questions_24h") == 1 and _value(text, "bot_answer_rate") == 1
    assert "# TYPE bot_webhook_events_total counter" in text
