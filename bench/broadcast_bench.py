"""One announcement to N followers (default 100,000) through the real fan-out job and the fake LINE platform
over HTTP (which enforces LINE's 200 multicast requests per second with 429s).

Prints: requests made, peak requests in any one second (must stay under 200), wall time, recipients
reached, duplicates (must be 0); then the same with the worker process killed (SIGKILL) half-way and a new
one resuming the job.

    python bench/broadcast_bench.py [--followers 100000] [--rate 100] [--database-url postgresql+asyncpg://.../postgres]

With --database-url, each run gets a fresh database created beside the one named.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import datetime as dt
import os
import signal
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from aiohttp import web
from sqlalchemy import insert

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.harness import fresh_database  # noqa: E402
from bot.content import load_content  # noqa: E402
from bot.db.engine import create_engine, create_sessionmaker, migrate  # noqa: E402
from bot.db.models import Resident, utcnow  # noqa: E402
from bot.delivery.line import LineGateway, RetryPolicy  # noqa: E402
from bot.dev.fake_line import FakeLinePlatform  # noqa: E402
from bot.handlers.hearings.fanout import LEASE, JobRunner, announce, report  # noqa: E402
from bot.handlers.hearings.rules import NewHearing, create  # noqa: E402

TOKEN = "bench-token-" + "x" * 30


async def fill(url: str, followers: int) -> None:
    engine = create_engine(url)
    await migrate(engine)
    async with engine.begin() as conn:
        for start in range(0, followers, 20_000):
            rows = [
                {
                    "line_user_id": f"U{n:032x}",
                    "pseudonym": f"{n:032x}",
                    "followed": True,
                    "notify": True,
                    "village": n % 8 + 1,
                }
                for n in range(start, min(followers, start + 20_000))
            ]
            await conn.execute(insert(Resident), rows)
    await engine.dispose()


async def new_job(url: str) -> int:
    engine = create_engine(url)
    sessions = create_sessionmaker(engine)
    content = load_content(ROOT / "content")
    async with sessions() as session, session.begin():
        hearing = create(
            session,
            content,
            NewHearing(
                title="ประชาคมท้องถิ่นระดับตำบล",
                starts_at=utcnow() + dt.timedelta(days=20),
                place="ห้องประชุมเทศบาล",
                reminders="",
            ),
            "bench",
            at=utcnow(),  # a command's clock is the machine's
        )
        await session.flush()
        job = await announce(session, hearing, utcnow(), "multicast", "bench", now=utcnow())
        job_id = job.id
    await engine.dispose()
    return job_id


async def run_job(url: str, base: str, rate: float, clock_offset: float) -> None:
    """The worker side (a child process, so the benchmark can kill it)."""
    engine = create_engine(url)
    sessions = create_sessionmaker(engine)
    gateway = LineGateway(TOKEN, base, base, RetryPolicy(base_delay=0.05))
    offset = dt.timedelta(seconds=clock_offset)
    runner = JobRunner(
        sessions, gateway, load_content(ROOT / "content"), requests_per_second=rate, clock=lambda: utcnow() + offset
    )
    await runner.run_until_idle(timeout=3600)
    await gateway.close()
    await engine.dispose()


def peak_per_second(times: list[float]) -> int:
    times = sorted(times)
    return max((bisect.bisect_left(times, t + 1.0) - i for i, t in enumerate(times)), default=0)


async def measure(url: str, followers: int, rate: float, kill_half_way: bool) -> None:
    fake = FakeLinePlatform(access_token=TOKEN)
    runner = web.AppRunner(fake.app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    base = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
    job_id = await new_job(url)
    child = [sys.executable, __file__, "--child", "--database-url", url, "--base", base, "--rate", str(rate)]
    start = time.perf_counter()
    worker = await asyncio.create_subprocess_exec(*child)
    if kill_half_way:
        await fake.wait_for_deliveries(followers // 2, timeout=600)
        os.kill(worker.pid, signal.SIGKILL)
        await worker.wait()
        reached_before = len({d.user_id for d in fake.deliveries})
        # The new worker finds the dead one's lease expired (its clock runs a lease ahead) and resumes.
        worker = await asyncio.create_subprocess_exec(*child, "--clock-offset", str(LEASE.total_seconds() + 1))
    await worker.wait()
    wall = time.perf_counter() - start
    engine = create_engine(url)
    async with create_sessionmaker(engine)() as session:
        result = await report(session, job_id)
    await engine.dispose()
    requests = fake.requests_to("multicast")
    per_user = Counter(d.user_id for d in fake.deliveries)
    statuses = Counter(r.status for r in requests)
    label = "killed half-way, resumed" if kill_half_way else "one run"
    print(f"\n{label}:")
    print(f"  requests made        {len(requests):,}  (status counts {dict(statuses)})")
    print(f"  peak requests / 1 s  {peak_per_second([r.at for r in requests])}  (LINE allows 200)")
    print(f"  wall time            {wall:.1f} s")
    print(f"  recipients reached   {len(per_user):,} of {followers:,}")
    print(f"  duplicates           {sum(n - 1 for n in per_user.values())}")
    if kill_half_way:
        print(f"  reached before kill  {reached_before:,}")
    if result is not None:
        counts = f"sent={result.sent:,} failed={result.failed} chunks={result.chunks}"
        print(f"  job report           status={result.status} {counts}")
    await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--followers", type=int, default=100_000)
    parser.add_argument("--rate", type=float, default=100.0, help="the job's requests per second (default 100)")
    parser.add_argument("--database-url")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--base", help=argparse.SUPPRESS)
    parser.add_argument("--clock-offset", type=float, default=0.0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        asyncio.run(run_job(args.database_url, args.base, args.rate, args.clock_offset))
        return
    for kill in (False, True):
        work = Path(tempfile.mkdtemp(prefix="broadcast-bench-"))
        name = f"broadcast_bench_{int(kill)}"
        url = asyncio.run(fresh_database(args.database_url, name)) if args.database_url else None
        url = url or f"sqlite+aiosqlite:///{work}/bench.sqlite3"
        asyncio.run(fill(url, args.followers))
        asyncio.run(measure(url, args.followers, args.rate, kill))


if __name__ == "__main__":
    main()
