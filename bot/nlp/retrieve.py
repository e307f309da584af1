"""Matching a question to the service or intent it is about, with a score to decide when to abstain.

Character 2-4-grams with TF-IDF weights, compared by cosine similarity: ahead of BM25 on words when measured
(docs/decisions/retrieval-method.md), and it needs no model download and no word boundaries, so typos and
missing spaces cost little. Each label (a service or an intent) is scored by its best-matching example and
by all its examples together; both views are blended.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

NGRAM_SIZES = (2, 3, 4)
# Blend of "closest single example" and "all examples of the label together" (chosen on the dev set).
BEST_EXAMPLE_WEIGHT = 0.6

Vector = dict[str, float]


def char_ngrams(text: str) -> Counter[str]:
    """Character n-grams of text with spaces removed and its ends marked (so short words still count)."""
    compact = "^" + "".join(text.split()) + "$"
    grams: Counter[str] = Counter()
    for n in NGRAM_SIZES:
        for i in range(len(compact) - n + 1):
            grams[compact[i : i + n]] += 1
    return grams


@dataclass(frozen=True)
class Match:
    label: str
    score: float


class LabelIndex:
    """Example texts grouped by label, ready to score a query against every label."""

    def __init__(self, examples: Iterable[tuple[str, str]]) -> None:
        pairs = [(label, text) for label, text in examples if text.strip()]
        counts = [char_ngrams(text) for _, text in pairs]
        document_frequency: Counter[str] = Counter()
        for grams in counts:
            document_frequency.update(grams.keys())
        total = len(counts)
        self._idf = {g: math.log((1 + total) / (1 + df)) + 1.0 for g, df in document_frequency.items()}
        self._labels = [label for label, _ in pairs]
        self._postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        grouped: dict[str, Counter[str]] = defaultdict(Counter)
        for i, ((label, _), grams) in enumerate(zip(pairs, counts, strict=True)):
            for gram, weight in self._weigh(grams).items():
                self._postings[gram].append((i, weight))
            grouped[label].update(grams)
        self._label_postings: dict[str, list[tuple[str, float]]] = defaultdict(list)
        for label, grams in grouped.items():
            for gram, weight in self._weigh(grams).items():
                self._label_postings[gram].append((label, weight))
        self.labels = sorted(grouped)

    def _weigh(self, grams: Counter[str]) -> Vector:
        """Sublinear TF times IDF, L2-normalised; n-grams never seen in any example are dropped."""
        vector = {g: (1 + math.log(c)) * self._idf[g] for g, c in grams.items() if g in self._idf}
        norm = math.sqrt(sum(w * w for w in vector.values())) or 1.0
        return {g: w / norm for g, w in vector.items()}

    def scores(self, text: str) -> list[Match]:
        """Every label with a score in [0, 1], best first."""
        query = self._weigh(char_ngrams(text))
        best_example: dict[str, float] = defaultdict(float)
        per_example: dict[int, float] = defaultdict(float)
        per_label: dict[str, float] = defaultdict(float)
        for gram, q in query.items():
            for index, weight in self._postings.get(gram, ()):
                per_example[index] += q * weight
            for label, weight in self._label_postings.get(gram, ()):
                per_label[label] += q * weight
        for index, score in per_example.items():
            label = self._labels[index]
            best_example[label] = max(best_example[label], score)
        blended = [
            Match(label, BEST_EXAMPLE_WEIGHT * best_example[label] + (1 - BEST_EXAMPLE_WEIGHT) * per_label[label])
            for label in set(best_example) | set(per_label)
        ]
        return sorted(blended, key=lambda m: m.score, reverse=True)
