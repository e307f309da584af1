"""What a problem is about, from its words: the report type whose subject words (content/reports.yaml `words`)
a message names most specifically.

A resident who tells a problem at length ("ทางเท้าหน้าตลาดแตกเป็นร่อง เดินลำบาก ...") names its subject in a
word or two; the rest is where, since when and how annoyed. Those subject words pick the report type as well
as the embedding does on the dev half of tests/data/realistic.tsv, for a fraction of a millisecond instead of
tens (docs/decisions/embedding-cascade.md), so the reader embeds such a message only when its words are
unclear: none of them, or two types named about as strongly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

# The winner's weight must be at least this many times the runner-up's for the words to be clear.
CLEAR_RATIO = 2.0


@dataclass(frozen=True)
class TopicVote:
    report_type: str | None
    weight: float
    runner_up: float

    @property
    def clear(self) -> bool:
        return self.report_type is not None and self.weight >= CLEAR_RATIO * self.runner_up


class ReportTopics:
    """Built once from content; vote() is pure."""

    def __init__(
        self,
        words_by_type: dict[str, tuple[str, ...]],
        word_count: Callable[[str], int],
        compounds: frozenset[str] = frozenset(),
    ) -> None:
        # One-word subjects are compared with the message's words (so "หมา" is not found inside "หมายเลข");
        # a subject the tokenizer would split (none, while the reader puts every subject in its dictionary) is
        # looked for in the text without spaces.
        self._one_word = {w: t for t, words in words_by_type.items() for w in words if word_count(w) == 1}
        self._several = tuple((w, t) for t, words in words_by_type.items() for w in words if word_count(w) != 1)
        # The dictionary's own compounds (a service's name, "ไฟถนนดับ") are one word that holds a subject.
        self._compounds = compounds

    def vote(self, words: Iterable[str], compact: str) -> TopicVote:
        """Each subject named once counts its length in characters: "ท่อระบายน้ำ" says more than "น้ำ",
        and "เผาขยะ" (a nuisance) outweighs the "ขยะ" inside it."""
        named: set[str] = set()
        for word in words:
            if word in self._one_word:
                named.add(word)
            elif word in self._compounds:
                named |= {subject for subject in self._one_word if subject in word}
        named |= {w for w, _ in self._several if w in compact}
        # A subject inside a longer one named ("ขยะ" in "เผาขยะ") is not counted again.
        named = {w for w in named if not any(w != other and w in other for other in named)}
        weights: dict[str, float] = {}
        for word in named:
            kind = self._one_word.get(word) or next(t for w, t in self._several if w == word)
            weights[kind] = weights.get(kind, 0.0) + len(word)
        if not weights:
            return TopicVote(None, 0.0, 0.0)
        ranked = sorted(weights.items(), key=lambda kv: (-kv[1], kv[0]))
        runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
        return TopicVote(ranked[0][0], ranked[0][1], runner_up)
