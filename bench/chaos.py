"""Faults under load, on PostgreSQL with the Procfile's shape scaled to two web and two worker processes.
Prints one row per scenario: what residents sent, what the webhook answered, and whether every acknowledged
event was answered exactly once after the fault.

    python bench/chaos.py                         # every scenario, 100 events/s for 20 s each
    python bench/chaos.py --only kill-web,postgres-down --rate 100

Scenarios (the fault strikes a quarter of the way into the load):
  baseline       no fault, for comparison
  kill-web       SIGKILL both web processes; two new ones start 2 s later (connections cut mid-request, then
                 refused, so LINE redelivers; events stored but not yet acknowledged come twice)
  kill-worker    SIGKILL one worker in the middle of its work; a new one starts 2 s later (the dead worker's
                 chats wait for their 30 s lease to run out)
  postgres-down  PostgreSQL stopped abruptly for 10 s, then started again
  line-faults    LINE answers 500, 429, times out, and accepts a message but times out before answering, on
                 replies and pushes alike

Like LINE, the load generator redelivers every event not answered 200 (same webhookEventId and reply token,
isRedelivery true) a second later, until it is acknowledged. Each resident sends one message, so "exactly
once" is exact: every resident must receive exactly one answer. Every 4th message carries a reply token that
LINE no longer honours (as after a long outage), so its answer goes by push.

Start-up: the load and the fault begin only once every process is ready (each web process has printed its
address and holds a listening socket on the port, /healthz answers 200, each worker has printed "worker
running"), or the bench fails after --ready-timeout seconds, naming the processes and their last log lines.
A process that dies unbidden (the bot exits when the database is unreachable while it starts) is restarted
by the bench's supervisor, as the Procfile's process manager (systemd, Heroku) would, after 1 s, doubling to
at most 8 s while it keeps dying before it is ready; each row counts those restarts, apart from the
processes a scenario kills and replaces on purpose.

The product under test is the `bot` package of the first PYTHONPATH entry that holds one (else this
checkout): `PYTHONPATH=/tmp/old python bench/chaos.py` measures the old code with this bench and this fake
LINE. --logs DIR keeps every process's output (DIR/SCENARIO/web1.0.log, ...).

Needs Debian's postgresql binaries (a throwaway cluster is made for each scenario).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.harness import (  # noqa: E402
    SECRET,
    PostgresCluster,
    bot_env,
    fake_get,
    free_port,
    issue_tokens,
    queue_faults,
    start_fake_line,
    stop_all,
    wait_http,
)
from bot.delivery.webhook import compute_signature  # noqa: E402
from bot.dev import events  # noqa: E402

REDELIVERY_DELAY_S = 1.0
QUESTION = "ขอถามเรื่องภาษีป้าย"
WEB = ["serve", "--no-worker", "--reuse-port"]
WORKER = ["worker"]
RESTART_BACKOFF_S = (1.0, 8.0)  # first delay, longest delay


def product_root() -> Path:
    """Where the bot under test lives: the first PYTHONPATH entry holding a bot package, else this checkout."""
    for entry in filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep)):
        if (Path(entry) / "bot" / "__main__.py").is_file():
            return Path(entry).resolve()
    return ROOT


PRODUCT = product_root()


@dataclass
class Pending:
    """One resident's one message, as LINE holds it until the webhook answers 200."""

    user: str
    event: dict[str, Any]
    attempts: int = 0


@dataclass
class Tally:
    statuses: collections.Counter[str] = field(default_factory=collections.Counter)
    redeliveries: int = 0
    acked: set[str] = field(default_factory=set)
    in_flight: int = 0
    last_error_at: float = 0.0
    first_ok_after_fault: float | None = None


class Slot:
    """One line of the Procfile scaled out: a process, restarted when it dies, as a process manager would."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], logs: Path, port: int | None) -> None:
        self.name, self.args, self.env, self.logs, self.port = name, args, env, logs, port
        self.process: subprocess.Popen[bytes] | None = None
        self.log: Path | None = None
        self.incarnation = 0
        self.ready = False
        self.failures = 0  # deaths in a row before being ready
        self.restart_at: float | None = None
        self.held = False  # killed by a scenario, which starts it again itself
        self.restarts = 0  # after dying unbidden
        self.replaced = 0  # after a scenario's SIGKILL

    def start(self) -> None:
        self.log = self.logs / f"{self.name}.{self.incarnation}.log"
        self.incarnation += 1
        self.ready, self.restart_at = False, None
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot", *self.args], cwd=PRODUCT, env=self.env, stdout=out, stderr=out
            )

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def check_ready(self) -> bool:
        """Printed its start-up line and, for a web process, holds a listening socket on the port."""
        if self.ready or not self.alive() or self.log is None:
            return self.ready
        text = self.log.read_bytes()
        if self.port is None:
            self.ready = b"worker running" in text
        else:
            assert self.process is not None
            self.ready = b"Serving LINE webhook" in text and _listens(self.process.pid, self.port)
        if self.ready:
            self.failures = 0
        return self.ready

    def supervise(self, now: float) -> None:
        if self.held or self.process is None or self.alive():
            self.check_ready()
            return
        if self.restart_at is None:
            self.failures += 1
            first, longest = RESTART_BACKOFF_S
            self.restart_at = now + min(longest, first * 2 ** (self.failures - 1))
        elif now >= self.restart_at:
            self.restarts += 1
            self.start()

    def tail(self, lines: int = 5) -> str:
        if self.log is None or not self.log.exists():
            return "(no output)"
        kept = [line for line in self.log.read_text(errors="replace").splitlines() if line.strip()]
        return "\n".join("    " + line[:300] for line in kept[-lines:]) or "    (no output)"


def _listens(pid: int, port: int) -> bool:
    """Whether process pid holds a TCP socket listening on port (Linux's /proc)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as f:
            for row in f.read().splitlines()[1:]:
                cols = row.split()
                if cols[3] == "0A" and int(cols[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(f"socket:[{cols[9]}]")
    with contextlib.suppress(OSError):
        for fd in os.listdir(f"/proc/{pid}/fd"):
            with contextlib.suppress(OSError):
                if os.readlink(f"/proc/{pid}/fd/{fd}") in inodes:
                    return True
    return False


class Deployment:
    """Two web processes on one port and two workers, on one PostgreSQL, talking to one fake LINE, under a
    supervisor that restarts whatever dies."""

    def __init__(self, work: Path, extra_env: dict[str, str], ready_timeout: float) -> None:
        self.cluster = PostgresCluster()
        self.fake_port, self.bot_port = free_port(), free_port()
        self.fake_url = f"http://127.0.0.1:{self.fake_port}"
        self.bot_url = f"http://127.0.0.1:{self.bot_port}"
        self.env = bot_env(self.fake_url, self.bot_port, work, self.cluster.url, **extra_env)
        work.mkdir(parents=True, exist_ok=True)
        self.webs = [Slot(f"web{i}", WEB, self.env, work, self.bot_port) for i in (1, 2)]
        self.workers = [Slot(f"worker{i}", WORKER, self.env, work, None) for i in (1, 2)]
        self.ready_timeout = ready_timeout
        self.ready_s = 0.0
        self.others: list[subprocess.Popen[bytes]] = []
        self._supervisor: asyncio.Task[None] | None = None

    async def start(self) -> None:
        began = time.monotonic()
        self.cluster.start()
        self.others.append(start_fake_line(self.fake_port))
        await wait_http(f"{self.fake_url}/_fake/received")
        self._supervisor = asyncio.create_task(self._supervise())
        deadline = time.monotonic() + self.ready_timeout
        self.webs[0].start()  # the first one migrates the database, alone
        await self._wait_ready(self.webs[:1], deadline)
        for slot in self.webs[1:] + self.workers:
            slot.start()
        await self._wait_ready(self.webs + self.workers, deadline)
        self.ready_s = time.monotonic() - began

    async def _wait_ready(self, slots: list[Slot], deadline: float) -> None:
        while not all(slot.check_ready() for slot in slots):
            if time.monotonic() > deadline:
                report = "\n".join(
                    f"  {slot.name}: {'starting' if slot.alive() else 'dead'}, {slot.restarts} restarts\n{slot.tail()}"
                    for slot in slots
                    if not slot.ready
                )
                raise SystemExit(f"chaos: not ready after {self.ready_timeout:.0f} s:\n{report}")
            await asyncio.sleep(0.2)
        try:
            await wait_http(f"{self.bot_url}/healthz", timeout=max(1.0, deadline - time.monotonic()))
        except TimeoutError:
            raise SystemExit(f"chaos: {self.bot_url}/healthz did not answer below 500 in time") from None

    async def _supervise(self) -> None:
        while True:
            now = time.monotonic()
            for slot in self.webs + self.workers:
                slot.supervise(now)
            await asyncio.sleep(0.2)

    async def replace(self, slots: list[Slot], after: float) -> None:
        """SIGKILL these processes and start them again `after` seconds later (the supervisor waits)."""
        for slot in slots:
            slot.held = True
            assert slot.process is not None
            slot.process.send_signal(signal.SIGKILL)
            slot.process.wait()
            self.others.append(slot.process)
        await asyncio.sleep(after)
        for slot in slots:
            slot.replaced += 1
            slot.start()
            slot.held = False

    def restarts(self) -> dict[str, int]:
        return {
            "web": sum(s.restarts for s in self.webs),
            "worker": sum(s.restarts for s in self.workers),
            "replaced_by_scenario": sum(s.replaced for s in self.webs + self.workers),
        }

    async def stop(self) -> None:
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
        running = [s.process for s in self.webs + self.workers if s.process is not None]
        await asyncio.to_thread(stop_all, running + self.others)
        self.cluster.remove()

    async def query(self, sql: str) -> list[asyncpg.Record]:
        connection = await asyncpg.connect(self.cluster.url.replace("postgresql+asyncpg", "postgresql"))
        try:
            return list(await connection.fetch(sql))
        finally:
            await connection.close()


async def deliver(session: aiohttp.ClientSession, url: str, item: Pending, tally: Tally, fault_over: float) -> bool:
    """POST the event as LINE would; True when acknowledged."""
    item.event["deliveryContext"]["isRedelivery"] = item.attempts > 0
    body = events.body(item.event)
    headers = {"Content-Type": "application/json", "x-line-signature": compute_signature(SECRET, body)}
    if item.attempts:
        tally.redeliveries += 1
    item.attempts += 1
    tally.in_flight += 1
    try:
        async with session.post(url, data=body, headers=headers, timeout=aiohttp.ClientTimeout(total=10)) as r:
            await r.read()
            status = str(r.status)
    except (aiohttp.ClientError, TimeoutError) as exc:
        status = type(exc).__name__
    finally:
        tally.in_flight -= 1
    tally.statuses[status] += 1
    now = time.monotonic()
    if status != "200":
        tally.last_error_at = now
        return False
    tally.acked.add(item.event["webhookEventId"])
    if fault_over and now >= fault_over and tally.first_ok_after_fault is None:
        tally.first_ok_after_fault = now
    return True


async def send_with_redelivery(
    url: str, items: list[Pending], rate: float, tally: Tally, fault_over: Callable[[], float]
) -> None:
    """Send items at `rate`; whatever is not acknowledged is redelivered a second later, until it is."""
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=128)) as session:

        async def one(item: Pending, due: float) -> None:
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            while not await deliver(session, url, item, tally, fault_over()):
                if item.attempts > 120:
                    return  # given up: counted as lost below
                await asyncio.sleep(REDELIVERY_DELAY_S)

        start = time.monotonic()
        await asyncio.gather(*(one(item, start + i / rate) for i, item in enumerate(items)))


@dataclass
class Scenario:
    name: str
    fault: Callable[[Deployment, Tally], Awaitable[float]]  # strikes; returns when (monotonic) the fault ended
    env: dict[str, str] = field(default_factory=dict)


async def no_fault(deployment: Deployment, tally: Tally) -> float:
    return 0.0


async def kill_web(deployment: Deployment, tally: Tally) -> float:
    # Strike while requests are being answered, so some connections are cut mid-request.
    for _ in range(1000):
        if tally.in_flight >= 3:
            break
        await asyncio.sleep(0.001)
    await deployment.replace(deployment.webs, after=2.0)
    return time.monotonic()


async def kill_worker(deployment: Deployment, tally: Tally) -> float:
    await deployment.replace(deployment.workers[:1], after=2.0)
    return time.monotonic()


async def postgres_down(deployment: Deployment, tally: Tally) -> float:
    await asyncio.to_thread(deployment.cluster.stop)
    await asyncio.sleep(10)
    await asyncio.to_thread(deployment.cluster.start)
    return time.monotonic()


async def line_faults(deployment: Deployment, tally: Tally) -> float:
    # Longer than the bot's request timeout (set below), so "timeout" is a real timeout on the bot's side.
    mix: list[dict[str, Any]] = [{"status": 500}, {"status": 429}, {"timeout": 3}, {"accept_then_timeout": 3}]
    for endpoint in ("reply", "push"):
        await queue_faults(deployment.fake_url, endpoint, mix * 15)
    return time.monotonic()


SCENARIOS = [
    Scenario("baseline", no_fault),
    Scenario("kill-web", kill_web),
    Scenario("kill-worker", kill_worker),
    Scenario("postgres-down", postgres_down),
    Scenario("line-faults", line_faults, env={"LINE_REQUEST_TIMEOUT_SECONDS": "1.5"}),
]


async def run(
    scenario: Scenario, rate: float, seconds: float, drain_timeout: float, ready_timeout: float, logs: Path | None
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        deployment = Deployment(logs / scenario.name if logs else Path(tmp), scenario.env, ready_timeout)
        try:
            await deployment.start()
            return await _measure(deployment, scenario, rate, seconds, drain_timeout)
        finally:
            await deployment.stop()


async def _measure(
    deployment: Deployment, scenario: Scenario, rate: float, seconds: float, drain_timeout: float
) -> dict[str, Any]:
    users = [f"U{random.getrandbits(128):032x}" for _ in range(int(rate * seconds))]
    tokens = await issue_tokens(deployment.fake_url, users, 1)
    # Every 4th message arrives with a reply token LINE no longer honours (as after a long outage), so pushes
    # are exercised as well as replies.
    items = [
        Pending(u, events.text_event(u, QUESTION, tokens[u][0] if i % 4 else f"expired{i:028d}"))
        for i, u in enumerate(users)
    ]
    tally = Tally()
    fault_ended = 0.0

    async def strike() -> None:
        nonlocal fault_ended
        await asyncio.sleep(seconds / 4)
        fault_ended = await scenario.fault(deployment, tally)

    started = time.monotonic()
    await asyncio.gather(
        send_with_redelivery(f"{deployment.bot_url}/callback", items, rate, tally, lambda: fault_ended),
        strike(),
    )
    deliveries = await _drain(deployment.fake_url, len(tally.acked), drain_timeout)
    got = collections.Counter(d["userId"] for d in deliveries)
    acked_users = {item.user for item in items if item.event["webhookEventId"] in tally.acked}
    lost = {u for u in acked_users if got[u] == 0}
    # Sends the bot took for delivered: a reply attempt got a 5xx or no answer, and its retry found the token
    # invalid. Pushing then could answer twice, so the bot does not; where the fake had in fact delivered
    # nothing, the resident is left unanswered (the price of "never twice").
    assumed = {
        r["to"] for r in await deployment.query("SELECT \"to\" FROM outbound_message WHERE sent_via = 'reply-assumed'")
    }
    inbox = await deployment.query("SELECT status, count(*) AS n FROM inbound_event GROUP BY status")
    return {
        "scenario": scenario.name,
        "events": len(items),
        "acknowledged": len(tally.acked),
        "answers": dict(tally.statuses),
        "redeliveries": tally.redeliveries,
        "answered": sum(1 for u in acked_users if got[u] >= 1),
        "lost": len(lost),
        "lost_after_ambiguous_reply": len(lost & assumed),
        "duplicated": sum(n - 1 for n in got.values() if n > 1),
        "unacknowledged_answered": sum(1 for u in got if u not in acked_users),
        "recovery_s": round(tally.first_ok_after_fault - fault_ended, 1) if tally.first_ok_after_fault else None,
        "all_answered_after_s": round(time.monotonic() - started, 1),
        "replies_via": dict(collections.Counter(d["via"] for d in deliveries)),
        "line_answered": dict(
            collections.Counter(
                f"{r['endpoint']} {r['status']}"
                for r in await fake_get(deployment.fake_url, "received")
                if r["endpoint"] in ("reply", "push")
            )
        ),
        "inbox": {row["status"]: row["n"] for row in inbox},
        "product": _describe(PRODUCT),
        "restarts": deployment.restarts(),
        "ready_s": round(deployment.ready_s, 1),
    }


def _describe(root: Path) -> str:
    """The product's directory and commit (with "+changes" when its tracked files differ from it)."""
    git = ["git", "-C", str(root)]
    try:
        commit = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run([*git, "status", "--porcelain", "--untracked-files=no", "bot"], capture_output=True)
    except OSError:
        return str(root)
    return f"{root} {commit}{'+changes' if dirty.stdout.strip() else ''}"


async def _drain(fake_url: str, expected: int, timeout: float) -> list[dict[str, Any]]:
    """Wait until the fake has as many deliveries as events acknowledged, then a little longer: a duplicate
    would arrive late."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(await fake_get(fake_url, "deliveries")) >= expected:
            break
        await asyncio.sleep(0.5)
    await asyncio.sleep(3.0)
    return await fake_get(fake_url, "deliveries")


def print_table(rows: list[dict[str, Any]], rate: float, seconds: float) -> None:
    print(f"chaos (PostgreSQL, 2 web + 2 worker processes, {rate:.0f} events/s for {seconds:.0f} s per scenario)")
    print(f"product under test: {PRODUCT}")
    header = (
        f"{'scenario':14} {'events':>6} {'acked':>6} {'redeliv':>7} {'answered':>8} {'lost':>4} {'ambig':>5} "
        f"{'dup':>3} {'restarts':>8} {'recover s':>9} {'done s':>6}  webhook answered / LINE answered"
    )
    print(header)
    for r in rows:
        recovery = "-" if r["recovery_s"] is None else f"{r['recovery_s']:.1f}"
        print(
            f"{r['scenario']:14} {r['events']:6} {r['acknowledged']:6} {r['redeliveries']:7} {r['answered']:8} "
            f"{r['lost']:4} {r['lost_after_ambiguous_reply']:5} {r['duplicated']:3} "
            f"{r['restarts']['web'] + r['restarts']['worker']:8} {recovery:>9} "
            f"{r['all_answered_after_s']:6.1f}  "
            f"{r['answers']} / {r['line_answered']}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=100.0, help="new events per second")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the load in each scenario")
    parser.add_argument("--only", help="comma-separated scenario names")
    parser.add_argument("--drain-timeout", type=float, default=120.0)
    parser.add_argument(
        "--ready-timeout", type=float, default=180.0, help="seconds for every process to be ready before the load"
    )
    parser.add_argument("--logs", type=Path, help="keep each process's output under this directory")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    chosen = [s for s in SCENARIOS if not args.only or s.name in args.only.split(",")]
    if os.getuid() != 0 and not os.access("/usr/lib/postgresql", os.R_OK):
        raise SystemExit("PostgreSQL's binaries are needed")
    rows = [
        asyncio.run(run(s, args.rate, args.seconds, args.drain_timeout, args.ready_timeout, args.logs)) for s in chosen
    ]
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
    else:
        print_table(rows, args.rate, args.seconds)
    print(
        "  lost: acknowledged but never answered; ambig: of those, sends the bot withheld because a reply may "
        "have been delivered (5xx or timeout, then 'Invalid reply token'); restarts: processes that died "
        "unbidden and the supervisor started again",
        file=sys.stderr if args.json else sys.stdout,
    )
    unexplained = any(r["lost"] > r["lost_after_ambiguous_reply"] for r in rows)
    if unexplained or any(r["duplicated"] or r["acknowledged"] < r["events"] for r in rows):
        sys.exit(1)


if __name__ == "__main__":
    main()
