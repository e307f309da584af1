"""Clients that send a request's headers and never its body, against `python -m bot serve` (SQLite, the
fake LINE as its own process, loopback only).

Opens --stalled connections that each announce a body and send none, then keeps posting signed webhooks
(one every 0.1 s) for --seconds, and prints: how many genuine webhooks were acknowledged and their latency,
how many stalled connections the server answered (408) or closed, and how long it took. The bot process
runs with its hard limit on open files at --nofile (1,024 is common), so the run also shows whether the
server still accepts LINE while the stalled clients hold their descriptors.

    python bench/stalled_clients.py                       # this checkout
    python bench/stalled_clients.py --root /tmp/before    # another checkout of the bot, for comparison
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import ROOT, SECRET, bot_env, free_port, start_fake_line, stop_all, wait_http
from bot.delivery.webhook import compute_signature
from bot.dev import events


def start_bot(root: Path, env: dict[str, str], nofile: int) -> subprocess.Popen[bytes]:
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

    return subprocess.Popen(
        [sys.executable, "-m", "bot", "serve"],
        cwd=root,
        env={**env, "PYTHONPATH": str(root)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=limit,
    )


async def stall(port: int, answered: list[float], closed: list[float], started: float) -> None:
    """One client: headers announcing 500 bytes, then silence until the server answers or closes."""
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return
    head = (
        "POST /callback HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        "x-line-signature: c2ln\r\nContent-Length: 500\r\n\r\n"
    )
    writer.write(head.encode("ascii"))
    try:
        line = await reader.readline()
        if line.startswith(b"HTTP/1.1 408"):
            answered.append(time.monotonic() - started)
        await reader.read()
        closed.append(time.monotonic() - started)
    except (OSError, asyncio.IncompleteReadError):
        closed.append(time.monotonic() - started)
    finally:
        writer.close()


async def genuine(url: str, seconds: float, latencies: list[float], failures: list[str]) -> None:
    timeout = aiohttp.ClientTimeout(total=5)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        deadline = time.monotonic() + seconds
        n = 0
        while time.monotonic() < deadline:
            n += 1
            body = events.body(events.text_event(f"U{n:032x}", "สวัสดีครับ"))
            headers = {"Content-Type": "application/json", "x-line-signature": compute_signature(SECRET, body)}
            sent = time.monotonic()
            try:
                async with session.post(url, data=body, headers=headers) as response:
                    await response.read()
                    if response.status == 200:
                        latencies.append(time.monotonic() - sent)
                    else:
                        failures.append(str(response.status))
            except (aiohttp.ClientError, TimeoutError) as exc:
                failures.append(type(exc).__name__)
            await asyncio.sleep(0.1)


async def run(args: argparse.Namespace) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, args.stalled + 1024), hard))
    work = Path(tempfile.mkdtemp(prefix="stalled-"))
    fake_port, port = free_port(), free_port()
    processes = [start_fake_line(fake_port)]
    fake_url = f"http://127.0.0.1:{fake_port}"
    env = bot_env(fake_url, port, work, None, BODY_TIMEOUT_SECONDS=str(args.body_timeout))
    processes.append(start_bot(Path(args.root), env, args.nofile))
    try:
        await wait_http(f"{fake_url}/_fake/deliveries")
        await wait_http(f"http://127.0.0.1:{port}/healthz")
        answered: list[float] = []
        closed: list[float] = []
        started = time.monotonic()
        stalled = [asyncio.create_task(stall(port, answered, closed, started)) for _ in range(args.stalled)]
        await asyncio.sleep(1.0)  # let them all connect and send their headers
        latencies: list[float] = []
        failures: list[str] = []
        await genuine(f"http://127.0.0.1:{port}/callback", args.seconds, latencies, failures)
        _, pending = await asyncio.wait(stalled, timeout=5)
        for task in pending:
            task.cancel()
        ms = sorted(x * 1000 for x in latencies)
        print(f"bot at {args.root}, open-file limit {args.nofile}, body timeout {args.body_timeout:g} s")
        print(f"stalled clients: {args.stalled}; answered 408: {len(answered)}; closed by the server: {len(closed)}")
        if closed:
            print(f"  last stalled connection closed {max(closed):.1f} s after they connected")
        print(f"genuine webhooks over {args.seconds:g} s: {len(ms)} acknowledged, {len(failures)} failed", failures[:5])
        if ms:
            p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
            print(f"  latency ms: p50 {statistics.median(ms):.1f}, p99 {p99:.1f}, max {ms[-1]:.1f}")
    finally:
        stop_all(processes)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", default=str(ROOT), help="checkout of the bot to run")
    parser.add_argument("--stalled", type=int, default=1100)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--nofile", type=int, default=1024, help="the bot's hard limit on open files")
    parser.add_argument("--body-timeout", type=float, default=10.0)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    os.environ.setdefault("PYTHAINLP_OFFLINE", "1")
    main()
