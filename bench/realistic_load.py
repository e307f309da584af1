"""Realistic replay: the messages residents really wrote (tests/data/realistic.tsv, column 2) sent through the
real webhook of one bot process (`python -m bot serve`, its inbox worker inside), signed as LINE signs
them, with the fake LINE taking the replies. Prints messages answered per second, reply latency from the
webhook request to the reply reaching the fake LINE (p50/p95/p99), the bot process's CPU per message and
its peak RSS.

    python bench/realistic_load.py                          # closed loop, 64 residents at a time, 20 s, SQLite
    python bench/realistic_load.py --rate 50                # open loop: 50 messages/s
    python bench/realistic_load.py --db postgresql://postgres@127.0.0.1:5432/postgres

Closed loop: --concurrency residents each send a message and wait for its reply before the next one (the
most the bot can answer). Open loop (--rate): messages are sent when due whatever the bot does, so a queue
shows as latency. Every message comes from a new resident, so no message lands inside the report or
opinion flow an earlier one started; the texts go round in a shuffled order. Latency includes the inbox's
settle time (INBOX_SETTLE_SECONDS, 0.2 s by default: a chat's burst is handled together). Target (issue 15):
at least 50 realistic messages a second on one worker.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import random
import shlex
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.harness import (  # noqa: E402
    SECRET,
    bot_env,
    free_port,
    fresh_database,
    issue_tokens,
    start_bot,
    start_fake_line,
    stop_all,
    wait_http,
)
from bench.webhook_load import FAKE_NICENESS  # noqa: E402
from bot.delivery.webhook import compute_signature  # noqa: E402
from bot.dev import events  # noqa: E402

REALISTIC = ROOT / "tests" / "data" / "realistic.tsv"
CLOCK_TICKS = 100  # os.sysconf("SC_CLK_TCK") on Linux
# Closed loop: reply tokens are issued before the load for at most this many messages a second.
CLOSED_LOOP_CEILING = 300


def realistic_texts(path: Path = REALISTIC) -> list[str]:
    with path.open(encoding="utf-8", newline="") as f:
        return [row[1] for row in csv.reader(f, delimiter="\t") if row and not row[0].startswith("#")]


@dataclass
class Replay:
    """Who sent what when, and when each reply reached the fake LINE (time.time() on both sides)."""

    texts: list[str]
    tokens: dict[str, list[str]]
    sent_at: dict[str, float] = field(default_factory=dict)
    replied_at: dict[str, float] = field(default_factory=dict)
    waiting: dict[str, asyncio.Future[float]] = field(default_factory=dict)
    refused: dict[int, int] = field(default_factory=dict)
    progress: asyncio.Event = field(default_factory=asyncio.Event)  # set at each reply
    _next: int = 0

    def take(self) -> tuple[str, str, str] | None:
        """A fresh resident, their reply token and the next text; None once the tokens are used up."""
        if self._next >= len(self.users):
            return None
        user, text = self.users[self._next], self.texts[self._next % len(self.texts)]
        self._next += 1
        return user, self.tokens[user][0], text

    def __post_init__(self) -> None:
        self.users = list(self.tokens)


async def send(session: aiohttp.ClientSession, url: str, replay: Replay, user: str, token: str, text: str) -> None:
    body = events.body(events.text_event(user, text, token))
    headers = {"Content-Type": "application/json", "x-line-signature": compute_signature(SECRET, body)}
    replay.sent_at[user] = time.time()
    try:
        async with session.post(url, data=body, headers=headers) as response:
            await response.read()
            status = response.status
    except aiohttp.ClientError:
        status = 0
    if status != 200:
        replay.refused[status] = replay.refused.get(status, 0) + 1
        replay.sent_at.pop(user, None)


async def watch_replies(fake_url: str, replay: Replay, stop: asyncio.Event) -> None:
    """One long-poll on the fake's deliveries for everyone (a waiter per resident would cost the fake more
    CPU than the bot); the first delivery to a resident is the reply to their message."""
    after = 0
    async with aiohttp.ClientSession() as session:
        while not stop.is_set():
            async with session.get(f"{fake_url}/_fake/deliveries", params={"after": after, "wait": 2}) as response:
                for delivery in await response.json():
                    after = max(after, int(delivery["seq"]))
                    user = delivery["userId"]
                    if user in replay.sent_at and user not in replay.replied_at:
                        replay.replied_at[user] = float(delivery["at"])
                        replay.progress.set()
                        waiter = replay.waiting.pop(user, None)
                        if waiter is not None and not waiter.done():
                            waiter.set_result(float(delivery["at"]))


async def closed_loop(url: str, replay: Replay, concurrency: int, seconds: float, reply_timeout: float) -> None:
    loop = asyncio.get_running_loop()
    stop_at = time.monotonic() + seconds
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:

        async def resident() -> None:
            while time.monotonic() < stop_at and (taken := replay.take()) is not None:
                user, token, text = taken
                replay.waiting[user] = loop.create_future()
                waiter = replay.waiting[user]
                await send(session, url, replay, user, token, text)
                if user in replay.sent_at:
                    try:
                        await asyncio.wait_for(waiter, reply_timeout)
                    except TimeoutError:
                        replay.waiting.pop(user, None)

        await asyncio.gather(*(resident() for _ in range(concurrency)))


async def open_loop(url: str, replay: Replay, rate: float, seconds: float) -> None:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=256)) as session:
        start = time.perf_counter()
        tasks = []
        for i in range(int(rate * seconds)):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            taken = replay.take()
            if taken is None:
                break
            tasks.append(asyncio.create_task(send(session, url, replay, *taken)))
        await asyncio.gather(*tasks)


async def drain(replay: Replay, timeout: float) -> None:
    """Until every message sent has its reply, or no reply came for `timeout` seconds."""
    while len(replay.replied_at) < len(replay.sent_at):
        replay.progress.clear()
        try:
            await asyncio.wait_for(replay.progress.wait(), timeout)
        except TimeoutError:
            return


def family(pid: int) -> list[int]:
    """The process and its live descendants (the server's reader process, bot/nlp/reader.py)."""
    found = [pid]
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            found += family(int(child))
    return found


def process_cpu_seconds(pid: int) -> float:
    """CPU of the process and its live descendants."""
    total = 0.0
    for member in family(pid):
        fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime
    return total


def process_memory_mb(pid: int) -> dict[str, float]:
    """RSS now and at its peak of the server process, and of the largest of its descendants (the reader)."""

    def of(member: int) -> dict[str, float]:
        lines = Path(f"/proc/{member}/status").read_text().splitlines()
        status = dict(line.split(":", 1) for line in lines if ":" in line)
        return {key: int(status[key].split()[0]) / 1024 for key in ("VmRSS", "VmHWM")}

    server = of(pid)
    children = [of(member) for member in family(pid)[1:]]
    reader = max(children, key=lambda m: m["VmHWM"], default={"VmRSS": 0.0, "VmHWM": 0.0})
    return {**server, "reader_VmRSS": reader["VmRSS"], "reader_VmHWM": reader["VmHWM"]}


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


async def run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    fake_port, bot_port = free_port(), free_port()
    fake_url, bot_url = f"http://127.0.0.1:{fake_port}", f"http://127.0.0.1:{bot_port}"
    database_url = None if args.db == "sqlite" else await fresh_database(args.db, "realistic_load")
    fake = start_fake_line(fake_port, FAKE_NICENESS)
    bot = start_bot(["serve"], bot_env(fake_url, bot_port, work, database_url))
    try:
        await wait_http(f"{fake_url}/_fake/received")
        await wait_http(f"{bot_url}/healthz", timeout=60)
        texts = realistic_texts()
        random.Random(args.seed).shuffle(texts)
        budget = int((args.rate or CLOSED_LOOP_CEILING) * args.seconds) + args.concurrency + args.warmup
        users = [f"U{random.getrandbits(128):032x}" for _ in range(budget)]
        tokens = await issue_tokens(fake_url, users, 1)
        stop = asyncio.Event()
        callback = f"{bot_url}/callback"
        # Warm-up (not counted): the first messages pay for lazily built caches and connections.
        warm = Replay(texts, dict(list(tokens.items())[: args.warmup]))
        watcher = asyncio.create_task(watch_replies(fake_url, warm, stop))
        await closed_loop(callback, warm, min(args.concurrency, max(args.warmup, 1)), 60, args.reply_timeout)
        stop.set()
        await watcher
        replay = Replay(texts, dict(list(tokens.items())[args.warmup :]))
        stop = asyncio.Event()
        watcher = asyncio.create_task(watch_replies(fake_url, replay, stop))
        cpu_before, started = process_cpu_seconds(bot.pid), time.time()
        if args.rate:
            await open_loop(callback, replay, args.rate, args.seconds)
        else:
            await closed_loop(callback, replay, args.concurrency, args.seconds, args.reply_timeout)
        await drain(replay, args.drain_timeout)
        cpu_used, memory = process_cpu_seconds(bot.pid) - cpu_before, process_memory_mb(bot.pid)
        stop.set()
        await watcher
        return summarize(args, replay, started, cpu_used, memory)
    finally:
        stop_all([bot, fake])


def summarize(
    args: argparse.Namespace, replay: Replay, started: float, cpu_seconds: float, memory: dict[str, float]
) -> dict[str, Any]:
    latencies = [(replay.replied_at[u] - replay.sent_at[u]) * 1000 for u in replay.replied_at]
    answered = len(latencies)
    last_reply = max(replay.replied_at.values(), default=started)
    span = max(last_reply - started, 1e-9)
    return {
        "mode": f"open loop {args.rate:g}/s" if args.rate else f"closed loop, {args.concurrency} residents",
        "database": "sqlite" if args.db == "sqlite" else "postgresql",
        "seconds": args.seconds,
        "sent": len(replay.sent_at),
        "answered": answered,
        "unanswered": len(replay.sent_at) - answered,
        "refused": replay.refused,
        "answered_per_s": round(answered / span, 1),
        "p50_ms": round(percentile(latencies, 50), 1),
        "p95_ms": round(percentile(latencies, 95), 1),
        "p99_ms": round(percentile(latencies, 99), 1),
        "mean_ms": round(statistics.fmean(latencies), 1) if latencies else None,
        "cpu_ms_per_message": round(cpu_seconds * 1000 / answered, 2) if answered else None,
        "bot_cpu_share_of_one_core": round(cpu_seconds / span, 2),
        "rss_mb_end": round(memory["VmRSS"], 1),
        "rss_mb_peak": round(memory["VmHWM"], 1),
        "reader_rss_mb_peak": round(memory["reader_VmHWM"], 1),
        "texts": len(set(replay.texts)),
    }


def print_report(summary: dict[str, Any]) -> None:
    s = summary
    print(
        f"realistic replay ({s['mode']}, {s['database']}, {s['seconds']:g} s, {s['texts']} distinct texts, "
        "one serve process with its worker)"
    )
    print(f"  sent {s['sent']}, answered {s['answered']}, unanswered {s['unanswered']}, refused {s['refused'] or 0}")
    print(f"  answered per second {s['answered_per_s']} (target >= 50)")
    print(
        f"  reply latency (webhook request -> reply at the fake LINE) p50 {s['p50_ms']} ms, p95 {s['p95_ms']} ms, "
        f"p99 {s['p99_ms']} ms, mean {s['mean_ms']} ms"
    )
    print(
        f"  bot CPU (server and reader process) {s['cpu_ms_per_message']} ms per message "
        f"({s['bot_cpu_share_of_one_core']} of a core); server RSS {s['rss_mb_end']} MB at the end, "
        f"peak {s['rss_mb_peak']} MB; reader process peak {s['reader_rss_mb_peak']} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20.0, help="how long messages are sent")
    parser.add_argument("--rate", type=float, help="open loop: messages per second (default: closed loop)")
    parser.add_argument("--concurrency", type=int, default=64, help="closed loop: residents waiting at once")
    parser.add_argument(
        "--db",
        default="sqlite",
        help="sqlite (a fresh file), or a PostgreSQL server URL (a database named realistic_load is made there)",
    )
    parser.add_argument("--warmup", type=int, default=20, help="messages sent first and not counted")
    parser.add_argument("--seed", type=int, default=15, help="order of the texts")
    parser.add_argument("--reply-timeout", type=float, default=30.0, help="closed loop: give up on a reply after")
    parser.add_argument("--drain-timeout", type=float, default=30.0, help="stop waiting once no reply came this long")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.rate is not None and args.rate <= 0:
        parser.error("--rate must be above 0")
    print("$ " + shlex.join([Path(sys.executable).name, *sys.argv]), flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        summary = asyncio.run(run(args, Path(tmp)))
    if args.json:
        print(json.dumps(summary, indent=2, ensure_ascii=False))
    else:
        print_report(summary)


if __name__ == "__main__":
    main()
