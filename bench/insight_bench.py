"""/staff/insight under load: 10,000 realistic Thai opinions (varied from tests/data/opinions_dev.tsv: words
swapped, sentences joined, one in ten a near-copy of an earlier one), 300 or 2,000 characters long.

Part 1 groups them (bot.staff.insight.summarise, as the page's worker process runs it) in a fresh process and
prints its time and peak memory (ru_maxrss of that process). --before PATH also times group_similar of an
older checkout (e.g. `git worktree add /tmp/insight-before HEAD~N`) on the same texts.
Part 2 serves the bot (SQLite, fake LINE), stores the opinions, signs two viewers in, and posts signed
webhooks at --rate per second while both load /staff/insight; prints /callback latency percentiles with and
without the viewers, and how long their pages took.

    python bench/insight_bench.py --length 300 --before /tmp/insight-before
    python bench/insight_bench.py --length 2000 --skip-serve
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import multiprocessing
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.harness import SECRET, bot_env, free_port, start_bot, start_fake_line, stop_all, wait_http  # noqa: E402

OPENINGS = ["", "ผมอยากเสนอว่า", "ดิฉันขอเสนอ", "ในฐานะชาวบ้านหมู่ {v}", "ขอฝากถึงเทศบาลครับ", "อีกเรื่องคือ", "นอกจากนี้"]
ENDINGS = ["", "ครับ", "ค่ะ", "ขอบคุณครับ", "ฝากด้วยนะคะ", "ช่วยดูให้หน่อย", "ด่วนมาก", "เพราะเดือดร้อนกันมาก"]
PASSWORD = "bench password 1234"


def make_opinions(count: int, length: int, seed: int = 1) -> list[tuple[str, str, int]]:
    """(text, category, village): dev-set opinions with a third of their words swapped for others of the set,
    joined up to `length` characters; one in ten is a near-copy of an earlier one (a campaign, a neighbour)."""
    from bot.nlp.tokenize import Tokenizer

    tokenizer = Tokenizer([])
    base = []
    for line in (ROOT / "tests/data/opinions_dev.tsv").read_text("utf-8").splitlines():
        if line and not line.startswith("#"):
            text, category = line.split("\t")
            base.append((tokenizer.words(text), category))
    vocabulary = sorted({w for words, _ in base for w in words})
    rnd = random.Random(seed)
    made: list[tuple[str, str, int]] = []
    while len(made) < count:
        if len(made) > 10 and rnd.random() < 0.1:
            text, category, village = rnd.choice(made[-2000:])
            copy = rnd.choice(OPENINGS).format(v=village) + text[rnd.randint(0, len(text) // 10) :]
            made.append(((copy + " " + rnd.choice(ENDINGS))[:length], category, village))
            continue
        village, parts = rnd.randint(1, 12), []
        category = rnd.choice(base)[1]
        while sum(map(len, parts)) < length:
            words = [w if rnd.random() > 0.3 else rnd.choice(vocabulary) for w in rnd.choice(base)[0]]
            joined = (" " if rnd.random() < 0.4 else "").join(words)
            parts.append(rnd.choice(OPENINGS).format(v=village) + joined + rnd.choice(ENDINGS))
        made.append((" ".join(parts)[:length], category, village))
    return made


def _group_now(opinions: list[tuple[str, str, int]], before: str | None) -> dict[str, Any]:
    """In a fresh process: the grouping's seconds and that process's peak memory."""
    if before:
        sys.path.insert(0, before)
        for name in [m for m in sys.modules if m == "bot" or m.startswith("bot.")]:
            del sys.modules[name]
    from bot.staff import insight

    start_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    if before:
        groups = insight.group_similar([text for text, _, _ in opinions])
        words = len(opinions)
        singles = sum(1 for g in groups if g.size == 1)
    else:
        from bot.nlp.tokenize import Tokenizer

        keywords = insight.Keywords(Tokenizer([]))
        started = time.perf_counter()
        rows = [(f"r{i}", text[: insight.MAX_CHARS], c, v, len(text) > insight.MAX_CHARS) for i, (text, c, v) in
                enumerate(opinions)]
        result = insight.summarise(rows, keywords)
        groups, words, singles = result.groups, sum(len(k) for k in result.keywords.values()), result.singles
    seconds = time.perf_counter() - started
    return {
        "seconds": round(seconds, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "rss_before_mb": round(start_rss / 1024),
        "opinions_like_no_other": singles,
        "largest": [g.size for g in groups[:5]],
        "keywords": words,
    }


def group_in_child(opinions: list[tuple[str, str, int]], before: str | None = None) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=context) as pool:
        return pool.submit(_group_now, opinions, before).result()


async def serve_and_load(opinions: list[tuple[str, str, int]], args: argparse.Namespace, work: Path) -> None:
    from sqlalchemy import insert
    from sqlalchemy.ext.asyncio import create_async_engine

    from bot.db.models import Opinion
    from bot.delivery.webhook import compute_signature
    from bot.dev import events

    fake_port, port = free_port(), free_port()
    fake_url, url = f"http://127.0.0.1:{fake_port}", f"http://127.0.0.1:{port}"
    env = bot_env(fake_url, port, work, None)
    processes = [start_fake_line(fake_port, 15), start_bot(["serve"], env)]
    try:
        await wait_http(f"{fake_url}/_fake/received")
        await wait_http(f"{url}/healthz")
        engine = create_async_engine(f"sqlite+aiosqlite:///{work}/bench.sqlite3")
        async with engine.begin() as conn:
            await conn.execute(
                insert(Opinion),
                [
                    {"reference": f"2569-{i:05d}", "consultation_id": "local_plan_2571_2575", "village": v,
                     "category": c, "category_suggested": c, "text": t}
                    for i, (t, c, v) in enumerate(opinions, start=1)
                ],
            )
        await engine.dispose()
        viewers = []
        for name in ("viewer1", "viewer2"):
            command = [sys.executable, "-m", "bot", "staff", "add", name, "--role", "viewer"]
            secret = f"{PASSWORD}\n{PASSWORD}\n"
            run = dict(input=secret, text=True, cwd=ROOT, env=env, check=True, capture_output=True)
            await asyncio.to_thread(subprocess.run, command, **run)  # type: ignore[call-overload]
            session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))  # cookies of 127.0.0.1
            form = {"username": name, "password": PASSWORD, "next": "/staff"}
            async with session.post(f"{url}/staff/login", data=form, allow_redirects=False) as response:
                assert response.status == 303, f"sign-in failed: {response.status}"
            viewers.append(session)

        async def callbacks(seconds: float) -> list[float]:
            latencies: list[float] = []
            async with aiohttp.ClientSession() as session:
                async def one() -> None:
                    user = f"U{random.getrandbits(128):032x}"
                    body = events.body(events.text_event(user, "ขอถามเรื่องภาษีป้าย", None))
                    headers = {"Content-Type": "application/json", "x-line-signature": compute_signature(SECRET, body)}
                    sent = time.perf_counter()
                    async with session.post(f"{url}/callback", data=body, headers=headers) as response:
                        await response.read()
                    latencies.append((time.perf_counter() - sent) * 1000)

                tasks, start = [], time.perf_counter()
                for i in range(int(seconds * args.rate)):
                    await asyncio.sleep(max(0.0, start + i / args.rate - time.perf_counter()))
                    tasks.append(asyncio.create_task(one()))
                await asyncio.gather(*tasks)
            return latencies

        async def view(session: aiohttp.ClientSession) -> float:
            started = time.perf_counter()
            async with session.get(f"{url}/staff/insight", allow_redirects=False) as response:
                assert response.status == 200, response.status
                assert "ความคิดเห็นที่ไม่ซ้ำใคร" in await response.text()
            return time.perf_counter() - started

        def summary(latencies: list[float]) -> str:
            ordered = sorted(latencies)
            at = lambda p: ordered[min(len(ordered) - 1, int(p * len(ordered)))]  # noqa: E731
            return (
                f"n {len(ordered)}  p50 {at(0.5):.1f} ms  p95 {at(0.95):.1f} ms  p99 {at(0.99):.1f} ms  "
                f"max {ordered[-1]:.1f} ms"
            )

        print(f"/callback alone at {args.rate:.0f}/s:            {summary(await callbacks(5))}")
        load = asyncio.create_task(callbacks(args.seconds))
        await asyncio.sleep(0.5)
        pages = await asyncio.gather(*(view(s) for s in viewers))
        print(f"/callback while 2 viewers load the page: {summary(await load)}")
        took = ", ".join(f"{p:.1f} s" for p in pages)
        print(f"  the two viewers' pages took {took} (first visit: worker start-up and grouping)")
        again = await asyncio.gather(*(view(s) for s in viewers))
        print(f"  again (cached): {', '.join(f'{p * 1000:.0f} ms' for p in again)}")
        for session in viewers:
            await session.close()
    finally:
        stop_all(processes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--length", type=int, default=300, help="characters per opinion (300 or 2000)")
    parser.add_argument("--before", help="an older checkout whose group_similar to time on the same texts")
    parser.add_argument("--rate", type=float, default=50.0, help="signed webhooks per second during the load")
    parser.add_argument("--seconds", type=float, default=20.0, help="how long webhooks are posted while viewing")
    parser.add_argument("--skip-serve", action="store_true", help="only part 1 (the grouping)")
    args = parser.parse_args()
    opinions = make_opinions(args.count, args.length)
    print(f"{len(opinions)} opinions of {args.length} characters")
    print(f"grouping + keywords now (summarise, worker-like fresh process): {group_in_child(opinions)}")
    if args.before:
        print(f"group_similar of {args.before} (grouping only): {group_in_child(opinions, args.before)}")
    if not args.skip_serve:
        with tempfile.TemporaryDirectory() as tmp:
            asyncio.run(serve_and_load(opinions, args, Path(tmp)))


if __name__ == "__main__":
    main()
