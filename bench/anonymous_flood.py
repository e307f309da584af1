"""Anonymous floods against the bot's public routes, and what they do to LINE's webhook: a steady trickle of
signed /callback events while (a) sign-ins with wrong passwords from rotating loopback addresses and rotating
names, or (b) GET /metrics, are kept in flight from many connections. Prints /callback p50/p95/p99 (open loop:
latency counts from when each event was due) with no flood, under the sign-in flood and under the metrics
flood, and what the flood itself got back. LINE gives up on an acknowledgement after 2 s.

    python bench/anonymous_flood.py                                   # SQLite, 20 events/s, 10 s per phase
    python bench/anonymous_flood.py --database-url postgresql://postgres@127.0.0.1:5432/postgres

The bot decides a sign-in's address from the connection's peer (request.remote; no X-Forwarded-For is
trusted), so the sign-in flood binds each connection to its own address out of 127.1.0.0/16: every attempt
comes from an address and a name the server has not seen.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import concurrent.futures
import contextlib
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.harness import (  # noqa: E402
    bot_env,
    free_port,
    fresh_database,
    issue_tokens,
    start_bot,
    start_fake_line,
    stop_all,
    wait_http,
)
from bench.webhook_load import FAKE_NICENESS, Load, fixed_rate  # noqa: E402

PASSWORD = "bench staff password"


async def _sign_in_once(port: int, address: str, username: str) -> int:
    """One sign-in with a wrong password over a fresh connection from `address`; the status, 0 on error."""
    body = urlencode({"username": username, "password": "not-the-password", "next": "/staff"}).encode()
    head = (
        f"POST /staff/login HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/x-www-form-urlencoded"
        f"\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    writer = None
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(address, 0))
        writer.write(head + body)
        await writer.drain()
        status_line = await reader.readline()
        await reader.read()
        return int(status_line.split()[1])
    except (OSError, ValueError, IndexError):
        return 0
    finally:
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


async def _until(stop: float, clients: list[Coroutine[Any, Any, None]]) -> None:
    """Runs the flood's clients and drops whatever they still have in flight at `stop` (connections closed)."""
    tasks = [asyncio.create_task(c) for c in clients]
    await asyncio.wait(tasks, timeout=max(0.0, stop - time.perf_counter()))
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def sign_in_flood(port: int, in_flight: int, seconds: float) -> collections.Counter[int]:
    statuses: collections.Counter[int] = collections.Counter()
    counter = 0
    stop = time.perf_counter() + seconds

    async def attacker() -> None:
        nonlocal counter
        while time.perf_counter() < stop:
            counter += 1
            n = counter % 65_000
            statuses[await _sign_in_once(port, f"127.1.{n // 250}.{n % 250 + 1}", f"guess{counter}")] += 1

    await _until(stop, [attacker() for _ in range(in_flight)])
    return statuses


async def metrics_flood(url: str, in_flight: int, seconds: float) -> collections.Counter[int]:
    statuses: collections.Counter[int] = collections.Counter()
    stop = time.perf_counter() + seconds
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:

        async def scraper() -> None:
            while time.perf_counter() < stop:
                try:
                    async with session.get(url) as response:
                        await response.read()
                        statuses[response.status] += 1
                except aiohttp.ClientError:
                    statuses[0] += 1

        await _until(stop, [scraper() for _ in range(in_flight)])
    return statuses


FLOODS = {"sign_in": sign_in_flood, "metrics": metrics_flood}


def _flood_in_process(flood: str, target: tuple[Any, ...], in_flight: int, seconds: float) -> collections.Counter[int]:
    return asyncio.run(FLOODS[flood](*target, in_flight, seconds))  # type: ignore[operator]


async def phase(
    args: argparse.Namespace, bot_url: str, port: int, load: Load, flood: str | None
) -> dict[str, Any]:
    trickle = asyncio.create_task(fixed_rate(f"{bot_url}/callback", load, args.rate, args.seconds))
    flood_statuses: collections.Counter[int] = collections.Counter()
    if flood is not None:
        target = (port,) if flood == "sign_in" else (f"{bot_url}/metrics",)
        in_flight = args.sign_ins if flood == "sign_in" else args.scrapes
        if args.flood_process:
            # The attacker's own process: its client work does not delay the webhook sender's event loop.
            with concurrent.futures.ProcessPoolExecutor(1) as pool:
                flood_statuses = await asyncio.get_running_loop().run_in_executor(
                    pool, _flood_in_process, flood, target, in_flight, args.seconds
                )
        else:
            flood_statuses = await FLOODS[flood](*target, in_flight, args.seconds)
    result = await trickle
    return {"callback": result.summary(), "flood": dict(sorted(flood_statuses.items()))}


async def run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    fake_port, bot_port = free_port(), free_port()
    fake_url, bot_url = f"http://127.0.0.1:{fake_port}", f"http://127.0.0.1:{bot_port}"
    database_url = args.database_url
    if database_url and database_url.startswith("postgres"):
        database_url = await fresh_database(database_url, "anonymous_flood")
    env = bot_env(fake_url, bot_port, work, database_url)
    processes = [start_fake_line(fake_port, FAKE_NICENESS), start_bot(["serve"], env)]
    try:
        await wait_http(f"{fake_url}/_fake/received")
        await wait_http(f"{bot_url}/healthz")
        # A real account, so the flood's names are a mix the server cannot tell apart from it.
        await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "bot", "staff", "add", "somsri", "--role", "viewer"],
            input=PASSWORD + "\n",
            text=True,
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
        load = Load(args.users, 0.0, None)
        load.tokens = await issue_tokens(fake_url, load.users, int(args.rate * args.seconds * 3 / args.users) + 5)
        report: dict[str, Any] = {"database": "postgresql" if args.database_url else "sqlite"}
        for name, flood in (("no_flood", None), ("sign_in_flood", "sign_in"), ("metrics_flood", "metrics")):
            report[name] = await phase(args, bot_url, bot_port, load, flood)
            await asyncio.sleep(args.pause)
        return report
    finally:
        stop_all(processes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=20.0, help="signed webhook events per second")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each phase")
    parser.add_argument("--sign-ins", type=int, default=150, help="sign-ins kept in flight in the sign-in flood")
    parser.add_argument("--scrapes", type=int, default=400, help="GET /metrics kept in flight in the metrics flood")
    parser.add_argument("--users", type=int, default=50, help="residents the webhook events come from")
    parser.add_argument("--pause", type=float, default=3.0, help="seconds between phases (the server settles)")
    parser.add_argument(
        "--database-url", help="PostgreSQL server to run on (a database named anonymous_flood); default: SQLite"
    )
    parser.add_argument(
        "--flood-process", action="store_true", help="flood from a process of its own (default: the sender's loop)"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        report = asyncio.run(run(args, Path(tmp)))
    if args.json:
        print(json.dumps(report, indent=2))
        return
    where = "its own process" if args.flood_process else "the sender's process"
    print(
        f"database: {report['database']}; /callback at {args.rate:g} events/s, {args.seconds:g} s per phase;"
        f" flood from {where}"
    )
    for name in ("no_flood", "sign_in_flood", "metrics_flood"):
        c = report[name]["callback"]
        print(
            f"{name:14} /callback p50 {c['p50_ms']:8.1f} ms  p95 {c['p95_ms']:8.1f} ms  p99 {c['p99_ms']:8.1f} ms"
            f"  acked {c['acked']}/{c['sent']} errors {c['errors']}  flood answers {report[name]['flood']}"
        )


if __name__ == "__main__":
    main()
