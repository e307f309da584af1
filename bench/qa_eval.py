"""How well the bot reads residents' messages.

Two sets: tests/data/qa_dev.tsv (questions we wrote: top-1 accuracy, out-of-scope rejection, per-service
precision/recall) and tests/data/realistic.tsv (messages real residents wrote on public pages, with URLs),
reported as its dev half (tuned on) and its test half (never tuned on) side by side: right, wrong service,
"which one?" with the right one among the chips, out of scope rejected, resident-written rows, latency and CPU
per message, and how many messages needed the embedding. Then cold start and peak RSS.

    python bench/qa_eval.py                 # the report
    python bench/qa_eval.py --misses dev    # every miss of the dev half (never look at the test half's)
    python bench/qa_eval.py --sweep         # qa_dev.tsv accuracy for other ACCEPT/CLARIFY thresholds
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
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


def _declined(expected: str) -> bool:
    """A row out of scope: nobody to refer to ("-") or another agency's work ("referral:<id>")."""
    return expected == "-" or expected.startswith("referral:")


def predicted(reading: object) -> str:
    """What the dev set's second column would say for this reading."""
    intent = reading.intent  # type: ignore[attr-defined]
    if intent == "service":
        return str(reading.service_id)  # type: ignore[attr-defined]
    if intent in ("out_of_scope", "clarify", "referral"):
        # A referral declines the question and says who handles it.
        return "?" if intent == "clarify" else "-"
    return "intent:" + intent


@dataclass(frozen=True)
class Row:
    id: str
    text: str
    expected: str
    kind: str
    written_by: str
    split: str


def load_realistic(path: Path) -> list[Row]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        cells = line.split("\t")
        rows.append(Row(*cells[:6]))
    return rows


def outcome(expected: str, reading: object, content: object) -> str:
    """right / offered (the flow expected, with a fitting type, offered as a chip that keeps the message:
    counted as right, as the issue counts it, and shown apart) / wrong (another service answered) /
    clarify-right / rejected (out of scope kept out) / missed (anything else)."""
    r = reading
    intent = r.intent  # type: ignore[attr-defined]
    offer = getattr(r, "offer", None)
    service = r.service_id if intent == "service" else None  # type: ignore[attr-defined]
    out_of_scope = _declined(expected)
    if out_of_scope:
        if service or intent in ("report", "opinion"):
            return "wrong"
        if expected.startswith("referral:"):
            return "right" if r.referral_id == expected.removeprefix("referral:") else "rejected"  # type: ignore[attr-defined]
        return "right" if intent in ("out_of_scope", "referral", "clarify") else "rejected"
    if expected.startswith("intent:report:"):
        kind = expected.removeprefix("intent:report:")
        if intent == "report" or offer == "report":
            fits = r.report_type == kind or (kind == "other" and r.report_type is None)  # type: ignore[attr-defined]
            return ("right" if intent == "report" else "offered") if fits else "report-type"
        return "wrong" if service else "missed"
    if expected.startswith("intent:"):
        if intent == expected.removeprefix("intent:"):
            return "right"
        if offer is not None and offer == expected.removeprefix("intent:"):
            return "offered"
        return "wrong" if service else "missed"
    if service == expected:
        return "right"
    # A question about a service that offers the report flow is well served by starting that flow.
    if intent == "report" and getattr(content.services.get(expected), "offers_report", False):  # type: ignore[attr-defined]
        return "right"
    if intent == "clarify" and expected in [m.label for m in r.candidates]:  # type: ignore[attr-defined]
        return "clarify-right"
    return "wrong" if service else "missed"


def realistic_report(understanding: object, content: object, show_misses: str | None) -> None:
    rows = load_realistic(ROOT / "tests" / "data" / "realistic.tsv")
    results: dict[str, list[tuple[Row, str, object, float, float]]] = {"dev": [], "test": []}
    for row in rows:
        w0, c0 = time.perf_counter(), time.process_time()
        reading = understanding.read(row.text)  # type: ignore[attr-defined]
        wall, cpu = (time.perf_counter() - w0) * 1000, (time.process_time() - c0) * 1000
        results[row.split].append((row, outcome(row.expected, reading, content), reading, wall, cpu))
    print("\nrealistic.tsv (messages residents wrote; dev = tuned on, test = never tuned on)")
    print(f"{'':38}{'dev':>12}{'test':>12}")

    def line(name: str, pick: Callable[[list[tuple[Row, str, object, float, float]]], str]) -> None:
        print(f"{name:38}{pick(results['dev']):>12}{pick(results['test']):>12}")

    def share(select: Callable[[Row], bool], good: tuple[str, ...]) -> Callable[[list], str]:
        def pick(rs: list) -> str:
            chosen = [o for row, o, *_ in rs if select(row)]
            return f"{sum(o in good for o in chosen) / len(chosen):.3f} /{len(chosen)}" if chosen else "-"

        return pick

    in_scope = lambda row: not _declined(row.expected)  # noqa: E731
    line("rows", lambda rs: str(len(rs)))
    line("right (in scope)", share(in_scope, ("right", "offered")))
    line("  of which offered as a chip", share(in_scope, ("offered",)))
    line("wrong service/flow (in scope)", share(in_scope, ("wrong",)))
    line("which one? with the right chip", share(in_scope, ("clarify-right",)))
    line("report flow, other type", share(in_scope, ("report-type",)))
    line("out of scope rejected", share(lambda row: not in_scope(row), ("right", "rejected")))
    offered_anyway = lambda rs: (  # noqa: E731
        f"{sum(getattr(r[2], 'offer', None) is not None for r in rs if not in_scope(r[0]))}"
        f" /{sum(not in_scope(r[0]) for r in rs)}"
    )
    line("  offered report/opinion anyway", offered_anyway)
    line("  with the right referral", share(lambda row: row.expected.startswith("referral:"), ("right",)))
    line(
        "resident-written right (in scope)",
        share(lambda row: in_scope(row) and row.written_by == "resident", ("right", "offered")),
    )
    for kind in ("question", "problem", "wish", "office", "my_cases"):
        line(f"  {kind}: right", share(lambda row, k=kind: row.kind == k, ("right", "offered")))
    line("embedded (share of messages)", lambda rs: f"{sum(r[2].embedded for r in rs) / len(rs):.2f}" if rs else "-")
    everything = results["dev"] + results["test"]
    walls = sorted(r[3] for r in everything)
    cpus = [r[4] for r in everything]
    print(
        f"latency per message (both halves, {len(walls)}): p50 {statistics.median(walls):.1f} ms, "
        f"p95 {walls[int(0.95 * len(walls))]:.1f} ms, max {walls[-1]:.1f} ms; mean CPU {statistics.mean(cpus):.1f} ms"
    )
    if show_misses:
        print(f"\nmisses of the {show_misses} half (expected -> got):")
        for row, o, reading, *_ in results[show_misses]:
            if o not in ("right", "rejected", "offered"):
                got = reading.intent + ":" + str(reading.service_id or reading.report_type or reading.referral_id or "")  # type: ignore[attr-defined]
                print(f"  {row.id} {o:13} {row.expected:30} -> {got:34} {row.text[:90]}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sweep", action="store_true")
    parser.add_argument("--misses", choices=("dev",), help="print the misses of the dev half")
    parser.add_argument("--chars-only", action="store_true", help="without the embedding (for comparison)")
    args = parser.parse_args()
    started = time.perf_counter()
    from bot.content import load_content
    from bot.nlp import understand
    from bot.nlp.understand import Understanding

    content = load_content(ROOT / "content")
    understanding = Understanding(content, use_embeddings=not args.chars_only)
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
                    inside = [(p, e) for p, e in got if not _declined(e)]
                    wrong = sum(p not in (e, "?", "-") for p, e in inside) / len(inside)
                    refused = sum(p in ("-", "?") for p, e in got if _declined(e)) / sum(_declined(e) for _, e in got)
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
        got = predicted(reading)
        if reading.intent == "report" and getattr(content.services.get(expected), "offers_report", False):
            got = expected  # a problem told: the report flow is the answer (see outcome())
        results.append((text, expected, got, reading))
    services = [r for r in results if not _declined(r[1]) and not r[1].startswith("intent:")]
    # Out of scope: "-" (nobody to refer to) or "referral:<id>" (another agency's work: declined, and referred).
    out = [r for r in results if _declined(r[1])]
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
    referable = [r for r in out if r[1].startswith("referral:")]
    referred_right = sum(r[3].referral_id == r[1].removeprefix("referral:") for r in referable)
    referred_anyway = [r for r in out if r[1] == "-" and r[3].intent == "referral"]
    print(
        f"  referred to the right agency: {referred_right}/{len(referable)}; referred though labelled nobody's: "
        f"{len(referred_anyway)}/{len(out) - len(referable)} {[r[0] for r in referred_anyway]}"
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
        if got != expected and not (_declined(expected) and got in ("?", "-")):
            print(f"  {expected:26} -> {got:26} {reading.score:.2f}  {text}")
    realistic_report(understanding, content, args.misses)
    print(
        f"\ncold start (import, content, index, first answer): {cold:.2f} s; "
        f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
    )


if __name__ == "__main__":
    main()
