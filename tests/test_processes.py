"""The production shape: `serve --no-worker` plus two `worker` processes sharing one database.
Every event is answered once, and each resident's answers come in the order they wrote."""

from __future__ import annotations

import asyncio
import os
import random
import socket
import subprocess
import sys
from pathlib import Path

import aiohttp

from bot.delivery.webhook import compute_signature
from bot.dev import events
from bot.dev.fake_line import FakeLinePlatform
from tests.conftest import ACCESS_TOKEN, CHANNEL_SECRET, new_user_id

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _wait_healthy(url: str) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(150):
            try:
                async with session.get(url) as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise TimeoutError(url)


async def test_web_and_two_workers_answer_each_event_once_in_order(
    database_url: str, fake_line: FakeLinePlatform, tmp_path: Path
) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "LINE_CHANNEL_SECRET": CHANNEL_SECRET,
        "LINE_CHANNEL_ACCESS_TOKEN": ACCESS_TOKEN,
        "LINE_API_BASE_URL": fake_line.base_url,
        "LINE_DATA_API_BASE_URL": fake_line.base_url,  # type: ignore[attr-defined]
        "PSEUDONYM_KEY": "p" * 32,
        "STAFF_SESSION_SECRET": "s" * 32,
        "PORT": str(port),
        "DATABASE_URL": database_url,
        "DATA_DIR": str(tmp_path),
        "INBOX_SETTLE_SECONDS": "0.1",
        "INBOX_POLL_SECONDS": "0.05",
        "LOG_LEVEL": "WARNING",
    }
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "cwd": ROOT, "env": env}
    processes = [subprocess.Popen([sys.executable, "-m", "bot", "serve", "--no-worker"], **quiet)]  # type: ignore[call-overload]
    try:
        await _wait_healthy(f"http://127.0.0.1:{port}/healthz")
        processes += [subprocess.Popen([sys.executable, "-m", "bot", "worker"], **quiet) for _ in range(2)]  # type: ignore[call-overload]
        users = [new_user_id() for _ in range(12)]
        base = 1_700_000_000_000
        batch = [
            events.text_event(
                u, ["เมนู", "ช่วยเหลือ", "ติดต่อ"][i % 3], fake_line.issue_reply_token(u), timestamp_ms=base + i
            )
            for u in users
            for i in range(6)
        ]
        random.Random(11).shuffle(batch)
        async with aiohttp.ClientSession() as session:
            for event in batch:
                raw = events.body(event)
                async with session.post(
                    f"http://127.0.0.1:{port}/callback",
                    data=raw,
                    headers={"x-line-signature": compute_signature(CHANNEL_SECRET, raw)},
                ) as r:
                    assert r.status == 200
        await fake_line.wait_for_deliveries(len(batch), timeout=60)
        await asyncio.sleep(1.0)  # a double send would show up now
        assert len(fake_line.deliveries) == len(batch)
        for user in users:
            texts = [m["text"].split("\n")[0][:12] for m in fake_line.messages_to(user)]
            assert len(texts) == 6
            # เมนู, ช่วยเหลือ, ติดต่อ repeat in that order: the answers must too.
            assert texts[:3] == texts[3:], texts
            assert len(set(texts[:3])) == 3
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=15)
