"""Webhook load: signed text events against the real server (with the fake LINE), then against a minimal
aiohttp app that only checks the signature. Prints acknowledgements per second, ack latency percentiles,
and, for the bot, events processed, lost and duplicated effects.

    python bench/webhook_load.py                      # SQLite, 500 events/s for 10 s
    python bench/webhook_load.py --database-url postgresql://postgres@127.0.0.1:5432/bench

Phase 1 sends at a fixed rate (open loop: latency counts from when each request was due, so a slow server
cannot hide its queue). Phase 2 sends back to back from --concurrency connections to find the most
acknowledgements per second; the ratio compares that with the minimal app. A share of requests are
redeliveries of earlier events, which must have no effect.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import random
import statistics
import subprocess
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
    fake_get,
    free_port,
    fresh_database,
    issue_tokens,
    start_bot,
    start_fake_line,
    stop_all,
    wait_http,
)
from bot.delivery.webhook import compute_signature  # noqa: E402
from bot.dev import events  # noqa: E402

FAKE_NICENESS = 15


@dataclass
class PhaseResult:
    sent: int = 0
    acked: int = 0
    errors: collections.Counter[int] = field(default_factory=collections.Counter)
    latencies_ms: list[float] = field(default_factory=list)
    seconds: float = 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]

    def summary(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "acked": self.acked,
            "acked_per_s": round(self.acked / self.seconds, 1),
            "p50_ms": round(self.percentile(50), 2),
            "p95_ms": round(self.percentile(95), 2),
            "p99_ms": round(self.percentile(99), 2),
            "errors": dict(self.errors),
        }


class Load:
    """Makes signed events; remembers what each user sent so effects can be counted afterwards."""

    def __init__(self, users: int, duplicates: float, tokens: dict[str, list[str]] | None) -> None:
        self.users = [f"U{random.getrandbits(128):032x}" for _ in range(users)]
        self.duplicates = duplicates
        self.tokens = tokens
        self.sent_bodies: list[bytes] = []
        self.acked_events: dict[str, tuple[str, float]] = {}  # webhookEventId -> (user, ack time)

    def next_body(self) -> tuple[bytes, str | None, str]:
        if self.sent_bodies and random.random() < self.duplicates:
            body = random.choice(self.sent_bodies)
            return body, None, ""
        user = random.choice(self.users)
        token = self.tokens[user].pop() if self.tokens and self.tokens[user] else None
        event = events.text_event(user, "ขอถามเรื่องภาษีป้าย", token)
        body = events.body(event)
        self.sent_bodies.append(body)
        return body, event["webhookEventId"], user


async def _post(session: aiohttp.ClientSession, url: str, load: Load, result: PhaseResult, due: float) -> None:
    body, event_id, user = load.next_body()
    headers = {"Content-Type": "application/json", "x-line-signature": compute_signature(SECRET, body)}
    result.sent += 1
    try:
        async with session.post(url, data=body, headers=headers) as response:
            await response.read()
            status = response.status
    except aiohttp.ClientError:
        status = 0
    done = time.perf_counter()
    if status == 200:
        result.acked += 1
        result.latencies_ms.append((done - due) * 1000)
        if event_id:
            load.acked_events[event_id] = (user, time.time())
    else:
        result.errors[status] += 1


async def fixed_rate(url: str, load: Load, rate: float, seconds: float) -> PhaseResult:
    result = PhaseResult()
    connector = aiohttp.TCPConnector(limit=256)
    async with aiohttp.ClientSession(connector=connector) as session:
        start = time.perf_counter()
        tasks = []
        total = int(rate * seconds)
        for i in range(total):
            due = start + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(_post(session, url, load, result, due)))
        await asyncio.gather(*tasks)
        result.seconds = time.perf_counter() - start
    return result


async def saturate(url: str, load: Load, concurrency: int, seconds: float) -> PhaseResult:
    result = PhaseResult()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:
        start = time.perf_counter()
        stop = start + seconds

        async def worker() -> None:
            while time.perf_counter() < stop:
                await _post(session, url, load, result, time.perf_counter())

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        result.seconds = time.perf_counter() - start
    return result


async def run_bot(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    fake_port, bot_port = free_port(), free_port()
    fake_url, bot_url = f"http://127.0.0.1:{fake_port}", f"http://127.0.0.1:{bot_port}"
    # Each run on an empty database, so a repeat does not inherit the backlog of the run before.
    database_url = args.database_url
    if database_url and database_url.startswith("postgres"):
        database_url = await fresh_database(database_url, "webhook_load")
    env = bot_env(fake_url, bot_port, work, database_url)
    serve = ["serve", "--reuse-port"] + (["--no-worker"] if args.separate_worker else [])
    # The fake stands in for LINE's servers, which in production run elsewhere; validating every Flex message
    # with the SDK's models costs it as much CPU as the bot spends building them. At a lower priority it takes
    # only the CPU the bot leaves (replies wait; acknowledgements do not).
    niceness = 0 if args.fake_same_priority else FAKE_NICENESS
    processes = [start_fake_line(fake_port, niceness), start_bot(serve, env)]
    try:
        await wait_http(f"{fake_url}/_fake/received")
        await wait_http(f"{bot_url}/healthz")
        # More web processes on the same port (the kernel spreads connections), once the first has migrated.
        for _ in range(args.processes - 1):
            processes.append(start_bot(serve, env))
        await asyncio.sleep(3 if args.processes > 1 else 0)  # let them start listening

        def start_worker() -> None:
            for _ in range(args.processes if args.separate_worker else 0):
                processes.append(start_bot(["worker"], env))

        # Started after the web process has migrated the database; with --worker-after-load, only once the
        # load phases are over (what acknowledging costs on its own, with no replies being made meanwhile).
        if args.separate_worker and not args.worker_after_load:
            start_worker()
        load = Load(args.users, args.duplicates, None)
        per_user = int((args.rate * args.seconds + 3000 * args.seconds) / args.users * 1.5) + 5
        load.tokens = await issue_tokens(fake_url, load.users, per_user)
        fixed = await fixed_rate(f"{bot_url}/callback", load, args.rate, args.seconds)
        saturated = (
            await saturate(f"{bot_url}/callback", load, args.concurrency, args.seconds) if args.concurrency else None
        )
        if args.separate_worker and args.worker_after_load:
            start_worker()
        expected = collections.Counter(user for user, _ in load.acked_events.values())
        drain_start = time.monotonic()
        while True:
            deliveries = await fake_get(fake_url, "deliveries")
            if len(deliveries) >= len(load.acked_events) or time.monotonic() - drain_start > args.drain_timeout:
                break
            await asyncio.sleep(0.5)
        await asyncio.sleep(1.0)  # anything extra (a duplicate effect) would show up now
        deliveries = await fake_get(fake_url, "deliveries")
        drained = time.monotonic() - drain_start
        got = collections.Counter(d["userId"] for d in deliveries)
        lost = sum(max(0, expected[u] - got[u]) for u in expected)
        duplicated = sum(max(0, got[u] - expected[u]) for u in got)
        lags = _lags(load, deliveries)
        return {
            "fixed_rate": fixed.summary(),
            "saturated": saturated.summary() if saturated else None,
            "events_acked_unique": len(load.acked_events),
            "events_processed": len(deliveries),
            "lost": lost,
            "duplicated": duplicated,
            "drain_seconds_after_load": round(drained, 1),
            "processing_lag_p50_ms": round(statistics.median(lags), 1) if lags else None,
            "processing_lag_p95_ms": round(sorted(lags)[int(0.95 * len(lags))], 1) if lags else None,
            "replies_via": dict(collections.Counter(d["via"] for d in deliveries)),
        }
    finally:
        stop_all(processes)


def _lags(load: Load, deliveries: list[dict[str, Any]]) -> list[float]:
    """Ack-to-delivery time, matching each user's n-th acknowledged event with their n-th reply."""
    acks: dict[str, list[float]] = collections.defaultdict(list)
    for user, at in load.acked_events.values():
        acks[user].append(at)
    got: dict[str, list[float]] = collections.defaultdict(list)
    for delivery in deliveries:
        got[delivery["userId"]].append(delivery["at"])
    lags = []
    for user, times in acks.items():
        for ack, delivered in zip(sorted(times), sorted(got[user]), strict=False):
            lags.append((delivered - ack) * 1000)
    return lags


async def run_minimal(args: argparse.Namespace) -> dict[str, Any]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "minimal_app.py"), "--port", str(port), "--secret", SECRET],
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        await wait_http(f"{url}/callback")
        load = Load(args.users, args.duplicates, None)
        fixed = await fixed_rate(f"{url}/callback", load, args.rate, args.seconds)
        saturated = (
            await saturate(f"{url}/callback", load, args.concurrency, args.seconds) if args.concurrency else None
        )
        return {"fixed_rate": fixed.summary(), "saturated": saturated.summary() if saturated else None}
    finally:
        process.terminate()
        process.wait(timeout=15)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=500.0, help="events per second in phase 1")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each phase")
    parser.add_argument("--concurrency", type=int, default=32, help="connections in phase 2")
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--duplicates", type=float, default=0.05, help="share of requests that are redeliveries")
    parser.add_argument(
        "--database-url",
        help="on PostgreSQL, the server to run on (each run creates and uses a database named webhook_load "
        "there); default: a fresh SQLite file",
    )
    parser.add_argument(
        "--separate-worker",
        action="store_true",
        help="run `serve --no-worker` and `worker` as two processes (as the Procfile does)",
    )
    parser.add_argument("--drain-timeout", type=float, default=180.0)
    parser.add_argument(
        "--processes",
        type=int,
        default=1,
        help="web processes sharing the port (and as many workers with --separate-worker); PostgreSQL only",
    )
    parser.add_argument(
        "--worker-after-load",
        action="store_true",
        help="with --separate-worker: start the worker only after the load phases (acknowledging alone)",
    )
    parser.add_argument(
        "--fake-same-priority",
        action="store_true",
        help="run the fake LINE at the bot's CPU priority (by default it yields: LINE's servers are elsewhere)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="run bot and minimal app this many times in turn; print each run and the medians",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    reports = []
    for _ in range(args.repeat):
        reports.append(measure(args))
        if not args.json:
            print_report(args, reports[-1])
    if args.json:
        print(json.dumps(reports if args.repeat > 1 else reports[0], indent=2))
    elif args.repeat > 1:
        print_medians(reports)


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """One run of the bot, then of the minimal app, under the same load."""
    with tempfile.TemporaryDirectory() as tmp:
        bot = asyncio.run(run_bot(args, Path(tmp)))
    minimal = asyncio.run(run_minimal(args))
    ratio = bot["saturated"]["acked_per_s"] / minimal["saturated"]["acked_per_s"] if bot["saturated"] else float("nan")
    fixed_ratio = bot["fixed_rate"]["acked_per_s"] / minimal["fixed_rate"]["acked_per_s"]
    return {
        "database": "postgresql" if args.database_url else "sqlite",
        "processes": (
            f"{args.processes} web + {args.processes} worker" if args.separate_worker else f"{args.processes} web"
        )
        + (" (workers after the load)" if args.worker_after_load else ""),
        "bot": bot,
        "minimal": minimal,
        "ratio_fixed_rate_ack_rate": round(fixed_ratio, 2),
        "ratio_saturated_ack_rate": round(ratio, 2),
    }


def print_report(args: argparse.Namespace, report: dict[str, Any]) -> None:
    bot, minimal = report["bot"], report["minimal"]
    fixed_ratio, ratio = report["ratio_fixed_rate_ack_rate"], report["ratio_saturated_ack_rate"]
    print(
        f"webhook load ({report['database']}, {report['processes']} process(es), {args.rate:.0f} events/s "
        f"for {args.seconds:.0f} s, then {args.concurrency} connections back to back; "
        f"{args.duplicates:.0%} redeliveries)"
    )
    for name, result in (("bot", bot), ("minimal app", minimal)):
        for phase in ("fixed_rate", "saturated"):
            r = result[phase]
            if r is None:
                continue
            print(
                f"  {name:12} {phase:10} acked/s {r['acked_per_s']:8.1f}  p50 {r['p50_ms']:6.2f} ms  "
                f"p95 {r['p95_ms']:6.2f} ms  p99 {r['p99_ms']:6.2f} ms  errors {r['errors'] or 0}"
            )
    print(
        f"  events acknowledged (unique) {bot['events_acked_unique']}, processed {bot['events_processed']}, "
        f"not answered when the bench stopped {bot['lost']} (lost, or still queued if the drain timed out), "
        f"duplicated {bot['duplicated']}"
    )
    print(
        f"  processing lag ack->reply p50 {bot['processing_lag_p50_ms']} ms, p95 {bot['processing_lag_p95_ms']} "
        f"ms; drained {bot['drain_seconds_after_load']} s after load; replies via {bot['replies_via']}"
    )
    print(f"  ratio bot/minimal acks per second: at {args.rate:.0f}/s offered {fixed_ratio:.2f}; saturated {ratio:.2f}")


def print_medians(reports: list[dict[str, Any]]) -> None:
    """The figures that wander most from run to run on a shared machine, as medians over the runs."""

    def median(path: str) -> float:
        values = []
        for report in reports:
            value: Any = report
            for key in path.split("."):
                value = value[key] if value is not None else None
            if value is not None:
                values.append(value)
        return statistics.median(values) if values else float("nan")

    print(f"medians over {len(reports)} runs:")
    print(
        f"  bot fixed rate p50 {median('bot.fixed_rate.p50_ms'):.2f} ms, p95 {median('bot.fixed_rate.p95_ms'):.2f} "
        f"ms, p99 {median('bot.fixed_rate.p99_ms'):.2f} ms; saturated {median('bot.saturated.acked_per_s'):.0f} "
        f"acks/s (minimal app {median('minimal.saturated.acked_per_s'):.0f}); saturated ratio "
        f"{median('ratio_saturated_ack_rate'):.2f} (each run's ratio: "
        f"{', '.join(str(r['ratio_saturated_ack_rate']) for r in reports)})"
    )


if __name__ == "__main__":
    main()
