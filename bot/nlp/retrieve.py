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

import numpy as np
import numpy.typing as npt

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
    """Example texts grouped by label, ready to score a query against every label.

    The weights sit in two sparse matrices (n-gram -> examples, n-gram -> labels) held as numpy arrays, so a
    query costs a few vector operations rather than a Python loop over every posting: a long post's focus
    windows are each scored, and that loop was most of a message's reading by characters.
    """

    def __init__(self, examples: Iterable[tuple[str, str]]) -> None:
        pairs = [(label, text) for label, text in examples if text.strip()]
        counts = [char_ngrams(text) for _, text in pairs]
        document_frequency: Counter[str] = Counter()
        for grams in counts:
            document_frequency.update(grams.keys())
        total = len(counts)
        self._idf = {g: math.log((1 + total) / (1 + df)) + 1.0 for g, df in document_frequency.items()}
        self.labels = sorted({label for label, _ in pairs})
        label_of = {label: i for i, label in enumerate(self.labels)}
        owner = np.array([label_of[label] for label, _ in pairs], dtype=np.int64)
        grouped: dict[str, Counter[str]] = defaultdict(Counter)
        for (label, _), grams in zip(pairs, counts, strict=True):
            grouped[label].update(grams)
        self._gram_ids = {gram: i for i, gram in enumerate(sorted(self._idf))}
        self._examples = self._postings([self._weigh(grams) for grams in counts])
        self._by_label = self._postings([self._weigh(grouped[label]) for label in self.labels])
        # Examples in label order, and where each label's run starts: a label's best example is one reduceat.
        self._order = np.argsort(owner, kind="stable")
        self._starts = np.searchsorted(owner[self._order], np.arange(len(self.labels)))

    def _weigh(self, grams: Counter[str]) -> Vector:
        """Sublinear TF times IDF, L2-normalised; n-grams never seen in any example are dropped."""
        vector = {g: (1 + math.log(c)) * self._idf[g] for g, c in grams.items() if g in self._idf}
        norm = math.sqrt(sum(w * w for w in vector.values())) or 1.0
        return {g: w / norm for g, w in vector.items()}

    def _postings(self, rows: list[Vector]) -> _Postings:
        """rows[i][gram] as postings per n-gram: for each gram, the rows holding it and the weights."""
        gram_ids = [self._gram_ids[gram] for vector in rows for gram in vector]
        row_ids = [row for row, vector in enumerate(rows) for _ in vector]
        weights = [weight for vector in rows for weight in vector.values()]
        by_gram = np.argsort(np.array(gram_ids, dtype=np.int64), kind="stable")
        counts = np.bincount(np.array(gram_ids, dtype=np.int64), minlength=len(self._gram_ids))
        starts = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
        return _Postings(
            starts, np.array(row_ids, dtype=np.int64)[by_gram], np.array(weights, dtype=np.float64)[by_gram], len(rows)
        )

    def scores(self, text: str) -> list[Match]:
        """Every label the query shares an n-gram with, with a score in [0, 1], best first."""
        query = self._weigh(char_ngrams(text))
        ids = np.array([self._gram_ids[g] for g in query], dtype=np.int64)
        if not len(ids):
            return []
        q = np.array(list(query.values()), dtype=np.float64)
        per_example = self._examples.dot(ids, q)
        per_label = self._by_label.dot(ids, q)
        # Every label has an example (labels come from the examples), so no run is empty.
        best_example = np.maximum.reduceat(per_example[self._order], self._starts)
        blended = BEST_EXAMPLE_WEIGHT * best_example + (1 - BEST_EXAMPLE_WEIGHT) * per_label
        shared = np.flatnonzero(per_label > 0)
        ranked = sorted(((float(blended[i]), self.labels[i]) for i in shared), key=lambda sl: (-sl[0], sl[1]))
        return [Match(label, score) for score, label in ranked]


@dataclass(frozen=True)
class _Postings:
    """A sparse gram x row matrix in compressed form (CSR): gram g's rows are rows[starts[g]:starts[g+1]]."""

    starts: npt.NDArray[np.int64]
    rows: npt.NDArray[np.int64]
    weights: npt.NDArray[np.float64]
    size: int

    def dot(self, grams: npt.NDArray[np.int64], q: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """The query's dot product with every row."""
        lengths = self.starts[grams + 1] - self.starts[grams]
        # The positions of every posting of the query's grams, built without a Python loop.
        offsets = np.repeat(self.starts[grams] - np.cumsum(lengths) + lengths, lengths) + np.arange(lengths.sum())
        products = self.weights[offsets] * np.repeat(q, lengths)
        return np.bincount(self.rows[offsets], weights=products, minlength=self.size).astype(np.float64)
