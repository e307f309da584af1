"""Exports at scale: N opinions (default 1,000,000) written to a database, then exported to CSV and to XLSX
by `python -m bot export` (a child process each, so its peak memory is measured alone). Prints seconds and
peak RSS for each, and the same rows exported by `sqlite3 -csv` for comparison. On PostgreSQL the CSV export
is PostgreSQL's own COPY; on SQLite it is rendered by SQLite and written by the sqlite3 module in one child
process per core (bot/staff/sqlite_csv.py).

Targets (issue 5): CSV within 3x of sqlite3 -csv; peak RSS under 300 MB for both formats.

    python bench/export_bench.py [--rows 1000000] [--database-url postgresql+asyncpg://...]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.db.engine import create_engine, migrate  # noqa: E402
from bot.db.models import Opinion, Resident  # noqa: E402
from bot.handlers.residents.rules import pseudonym_for  # noqa: E402

CATEGORIES = ("physical", "economy", "society_environment", "politics_administration", "safety_order", "virtue")
TEXTS = (
    "อยากให้ซ่อมถนนในหมู่บ้านที่เป็นหลุมเป็นบ่อ ฝนตกน้ำขังทุกปี",
    "ขอไฟส่องสว่างซอย 5 มืดมากตอนกลางคืน",
    "อยากให้มีตลาดนัดชุมชนทุกวันเสาร์ ให้ชาวบ้านขายของ",
    "ขอให้จัดอบรมอาชีพเสริมให้ผู้สูงอายุ",
    '=HYPERLINK("x") ข้อความทดสอบสูตร',
)
BATCH = 20_000


async def fill(url: str, rows: int) -> None:
    engine = create_engine(url)
    await migrate(engine)
    rng = random.Random(7)
    async with engine.begin() as conn:
        residents = [
            {"line_user_id": f"U{i:032x}", "pseudonym": pseudonym_for("k" * 32, f"U{i:032x}"), "followed": True}
            for i in range(1000)
        ]
        await conn.execute(insert(Resident), residents)
    for start in range(0, rows, BATCH):
        batch = [
            {
                "reference": f"{2569 + n // 100_000}-{n % 100_000:05d}",
                "resident_id": rng.randint(1, 1000),
                "consultation_id": "local_plan_2571_2575",
                "village": rng.randint(1, 8),
                "category": rng.choice(CATEGORIES),
                "category_suggested": rng.choice(CATEGORIES),
                "text": rng.choice(TEXTS),
                "status": "received",
            }
            for n in range(start, min(rows, start + BATCH))
        ]
        async with engine.begin() as conn:
            await conn.execute(insert(Opinion), batch)
    await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of the CSV export and of sqlite3, medians compared")
    parser.add_argument(
        "--database-url", help="an empty database (default: a fresh SQLite file in a temporary directory)"
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="export-bench-"))
    url = args.database_url or f"sqlite+aiosqlite:///{work}/bench.sqlite3"
    print(f"filling {args.rows:,} opinions ...", flush=True)
    start = time.perf_counter()
    asyncio.run(fill(url, args.rows))
    print(f"filled in {time.perf_counter() - start:.1f} s")
    env = {**os.environ, "DATABASE_URL": url, "DATA_DIR": str(work)}
    results = []
    # This machine's timings wander by a third from run to run: CSV and the sqlite3 baseline are run
    # --repeat times and their medians compared (XLSX, at two minutes a run, once).
    for fmt in ["csv"] * args.repeat + ["xlsx"]:
        out = work / f"opinions.{fmt}"
        # A wrapper process runs the export as its only child, so RUSAGE_CHILDREN's peak is that export's.
        probe = subprocess.run(
            [
                sys.executable,
                "-c",
                "import resource,subprocess,sys,time;t=time.perf_counter();"
                "subprocess.run(sys.argv[1:],check=True,capture_output=True);"
                "print(time.perf_counter()-t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)",
                sys.executable,
                "-m",
                "bot",
                "export",
                "opinions",
                "--format",
                fmt,
                "--out",
                str(out),
            ],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        seconds, peak_kb = probe.stdout.split()
        results.append((fmt, float(seconds), out.stat().st_size, int(peak_kb) / 1024))
    print(f"\n{'format':<8}{'seconds':>10}{'rows/s':>12}{'MB out':>10}{'peak RSS MB':>14}")
    for fmt, seconds, size, peak in results:
        print(f"{fmt:<8}{seconds:>10.1f}{args.rows / seconds:>12,.0f}{size / 1e6:>10.1f}{peak:>14.0f}")
    csv_median = statistics.median(seconds for fmt, seconds, _, _ in results if fmt == "csv")
    if shutil.which("sqlite3"):
        if url.startswith("sqlite"):
            database = url.split("///", 1)[1]
        else:
            # The same rows (the generator is seeded) in a SQLite file, for the sqlite3 baseline.
            database = str(work / "baseline.sqlite3")
            asyncio.run(fill(f"sqlite+aiosqlite:///{database}", args.rows))
        query = (
            "SELECT o.*, r.pseudonym FROM opinion o LEFT JOIN resident r ON r.id = o.resident_id "
            "WHERE o.status != 'withdrawn' ORDER BY o.id"
        )
        baselines = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            with (work / "sqlite3.csv").open("w") as out:
                subprocess.run(
                    [shutil.which("sqlite3") or "sqlite3", "-csv", "-header", database, query], stdout=out, check=True
                )
            baselines.append(time.perf_counter() - start)
        baseline = statistics.median(baselines)
        ratio = csv_median / baseline
        print(
            f"sqlite3 -csv on the same rows: median {baseline:.1f} s ({', '.join(f'{b:.1f}' for b in baselines)}); "
            f"CSV export median {csv_median:.1f} s -> {ratio:.1f}x (target <= 3x)"
        )
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
