"""How long a full garbage collection stops the event loop, with what start-up builds (content, the NLP
dictionaries and indexes) collected as usual and after `python -m bot` freezes it (bot/__main__.py).

    python bench/gc_pause.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.__main__ import freeze_startup_objects  # noqa: E402
from bot.content import load_content  # noqa: E402
from bot.handlers.services.qa import QuestionAnswering  # noqa: E402


def full_collection_ms(rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        gc.collect()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    qa = QuestionAnswering.from_content(load_content(ROOT / "content"))
    qa.read("ขอถามเรื่องภาษีป้าย")  # builds what the first question builds
    before = full_collection_ms(args.rounds)
    tracked = len(gc.get_objects())
    freeze_startup_objects()
    after = full_collection_ms(args.rounds)
    print(f"objects tracked after start-up: {tracked:,}")
    print(f"full collection, median of {args.rounds}: {before:.1f} ms as usual, {after:.3f} ms after the freeze")


if __name__ == "__main__":
    main()
