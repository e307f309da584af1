"""Question answering on tests/data/qa_dev.tsv: top-1 accuracy, out-of-scope rejection, per-service
precision/recall, the confusions, latency per query, cold start and memory.

    python bench/qa_eval.py            # the report
    python bench/qa_eval.py --sweep    # accuracy for other ACCEPT/CLARIFY thresholds (how they were chosen)
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


def load_dev(path: Path) -> list[tuple[str, str, str]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        text, expected, context = [*line.split("\t"), "", ""][:3]
        rows.append((text, expected, context.strip()))
    return rows


def predicted(reading: object) -> str:
    """What the dev set's second column would say for this reading."""
    intent = reading.intent  # type: ignore[attr-defined]
    if intent == "service":
        return str(reading.service_id)  # type: ignore[attr-defined]
    if intent in ("out_of_scope", "clarify"):
        return "-" if intent == "out_of_scope" else "?"
    return "intent:" + intent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sweep", action="store_true")
    args = parser.parse_args()
    started = time.perf_counter()
    from bot.content import load_content
    from bot.nlp import understand
    from bot.nlp.understand import Understanding

    content = load_content(ROOT / "content")
    understanding = Understanding(content)
    understanding.read("สวัสดี")  # first call warms caches
    cold = time.perf_counter() - started
    rows = load_dev(ROOT / "tests" / "data" / "qa_dev.tsv")

    if args.sweep:
        for accept in (0.26, 0.30, 0.34, 0.38, 0.42):
            for clarify in (0.18, 0.24, 0.28):
                for margin in (0.0, 0.03, 0.05, 0.08):
                    if clarify >= accept:
                        continue
                    understand.ACCEPT, understand.CLARIFY, understand.MARGIN = accept, clarify, margin
                    got = [(predicted(understanding.read(t, c or None)), e) for t, e, c in rows]
                    inside = [(p, e) for p, e in got if e != "-"]
                    wrong = sum(p not in (e, "?", "-") for p, e in inside) / len(inside)
                    refused = sum(p in ("-", "?") for p, e in got if e == "-") / sum(e == "-" for _, e in got)
                    right = sum(p == e for p, e in inside) / len(inside)
                    print(
                        f"ACCEPT {accept:.2f} CLARIFY {clarify:.2f} MARGIN {margin:.2f}: right {right:.3f} "
                        f"wrong {wrong:.3f} out-of-scope refused {refused:.3f}"
                    )
        return

    latencies, results = [], []
    for text, expected, context in rows:
        t0 = time.perf_counter()
        reading = understanding.read(text, context or None)
        latencies.append((time.perf_counter() - t0) * 1000)
        results.append((text, expected, predicted(reading), reading))
    services = [r for r in results if r[1] not in ("-",) and not r[1].startswith("intent:")]
    out = [r for r in results if r[1] == "-"]
    intents = [r for r in results if r[1].startswith("intent:")]
    top1 = sum(
        r[1] == r[3].candidates[0].label if r[3].candidates and not r[3].follow_up else r[1] == r[2] for r in services
    ) / len(services)
    answered_right = sum(r[1] == r[2] for r in services) / len(services)
    clarified = sum(r[2] == "?" for r in services) / len(services)
    clarified_right = sum(r[2] == "?" and r[1] in [m.label for m in r[3].candidates] for r in services)
    wrong = [r for r in services if r[2] not in (r[1], "?")]
    rejected = sum(r[2] in ("-", "?") for r in out) / len(out)
    rejected_strict = sum(r[2] == "-" for r in out) / len(out)
    intent_acc = sum(r[1] == r[2] for r in intents) / len(intents)
    print(
        f"dev set: {len(services)} service questions (incl. follow-ups), {len(intents)} other intents, "
        f"{len(out)} out of scope"
    )
    print(f"top-1 accuracy (best candidate is right): {top1:.3f}")
    print(
        f"answered with the right service: {answered_right:.3f}; asked which one (grey zone): {clarified:.3f} "
        f"({clarified_right} of those offered the right one); answered wrongly: {len(wrong) / len(services):.3f}"
    )
    print(
        f"out of scope rejected (not answered as a service): {rejected:.3f} (said 'out of scope' outright: "
        f"{rejected_strict:.3f})"
    )
    print(f"other intents right: {intent_acc:.3f}")
    print(
        f"latency per query: p50 {statistics.median(latencies):.3f} ms, "
        f"p95 {sorted(latencies)[int(0.95 * len(latencies))]:.3f} ms"
    )
    print(
        f"cold start (import, content, index, first answer): {cold:.2f} s; "
        f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
    )
    print("\nper service: precision / recall (answered outright)")
    truth = Counter(r[1] for r in services)
    said = Counter(r[2] for r in results)
    hits = Counter(r[1] for r in services if r[1] == r[2])
    for sid in sorted(truth):
        precision = hits[sid] / said[sid] if said[sid] else 0.0
        print(f"  {sid:26} P {precision:.2f}  R {hits[sid] / truth[sid]:.2f}  (n={truth[sid]})")
    print("\nconfusions (expected -> got):")
    for text, expected, got, reading in results:
        if got != expected and not (expected == "-" and got == "?"):
            print(f"  {expected:26} -> {got:26} {reading.score:.2f}  {text}")


if __name__ == "__main__":
    main()
