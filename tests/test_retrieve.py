"""The character matcher's sparse scoring gives what the TF-IDF cosine it implements says, label by label."""

from __future__ import annotations

import math
import random
from collections import Counter, defaultdict

import pytest

from bot.nlp.retrieve import BEST_EXAMPLE_WEIGHT, LabelIndex, char_ngrams


def _cosine_by_hand(index: LabelIndex, examples: list[tuple[str, str]], text: str) -> dict[str, float]:
    """The definition, written the slow way: best example's cosine blended with the label's pooled cosine."""
    query = index._weigh(char_ngrams(text))
    best: dict[str, float] = defaultdict(float)
    pooled: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for label, example in examples:
        vector = index._weigh(char_ngrams(example))
        best[label] = max(best[label], sum(q * vector.get(g, 0.0) for g, q in query.items()))
        for gram, count in char_ngrams(example).items():
            pooled[label][gram] += count
    scores = {}
    for label, grams in pooled.items():
        vector = index._weigh(Counter(grams))
        together = sum(q * vector.get(g, 0.0) for g, q in query.items())
        if together > 0:
            scores[label] = BEST_EXAMPLE_WEIGHT * best[label] + (1 - BEST_EXAMPLE_WEIGHT) * together
    return scores


@pytest.mark.parametrize("seed", range(5))
def test_scores_match_the_definition(seed: int) -> None:
    rng = random.Random(seed)
    alphabet = "กขคงจฉชซดตถทนบปผพฟมยรลวสหอะาิีึืุูเแโใไ่้๊๋็ั"
    labels = [f"label{i}" for i in range(7)]
    examples = [
        (rng.choice(labels), "".join(rng.choice(alphabet) for _ in range(rng.randint(2, 30)))) for _ in range(60)
    ]
    index = LabelIndex(examples)
    for _ in range(20):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 80)))
        got = {m.label: m.score for m in index.scores(text)}
        expected = _cosine_by_hand(index, examples, text)
        assert got.keys() == expected.keys()
        for label, score in expected.items():
            assert math.isclose(got[label], score, abs_tol=1e-9)


def test_best_first_and_ties_in_label_order() -> None:
    index = LabelIndex([("b", "ถนนพัง"), ("a", "ถนนพัง"), ("c", "น้ำไม่ไหล")])
    ranked = index.scores("ถนนพัง")
    assert [m.label for m in ranked] == ["a", "b"]  # equal scores: the same order in every process
    assert index.scores("") == [] and index.scores("zzz") == []
