"""What a pile of texts says: near-duplicates grouped with their counts, and the words that come up most.

Grouping compares character 2-4-grams (the matcher's representation: robust to typos and to Thai written
without spaces), hashed into a fixed-size vector so a few thousand texts compare in one matrix product.
Keywords are PyThaiNLP words (through bot.nlp.tokenize) without stop words, counted once per text.
"""

from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from pythainlp.corpus import thai_stopwords

from bot.nlp.normalize import normalize
from bot.nlp.retrieve import char_ngrams
from bot.nlp.tokenize import Tokenizer

_DIMENSIONS = 4096
# Cosine similarity at which two texts say the same thing in other words. On tests/data/opinions_dev.tsv
# (150 different opinions) 0.35 joins one pair, both about the child development centre; 0.33 also joins
# "ส่งเสริมการเลี้ยงโคขุน" with "ส่งเสริมการเล่นดนตรีไทย". "ขอไฟส่องสว่างซอย 5 ด้วยครับ" and
# "อยากได้ไฟส่องสว่างในซอย5ครับ" score 0.39-0.43.
SAME_THING = 0.35
# Words that say nothing about the subject in residents' messages, beyond PyThaiNLP's stop words.
_CHAT_WORDS = {"อยาก", "ให้", "ขอ", "ครับ", "ค่ะ", "คะ", "นะ", "ด้วย", "หน่อย", "ช่วย", "ทำ", "มี", "ได้", "เป็น"}


@dataclass
class Group:
    """Texts that say nearly the same thing: the first stands for the group."""

    members: list[int] = field(default_factory=list)  # indexes into the texts given

    @property
    def size(self) -> int:
        return len(self.members)


def _vectors(texts: Sequence[str]) -> np.ndarray:
    grams = [char_ngrams(normalize(t)) for t in texts]
    document_frequency: Counter[str] = Counter()
    for g in grams:
        document_frequency.update(g.keys())
    total = len(texts)
    matrix = np.zeros((total, _DIMENSIONS), dtype=np.float32)
    for row, counts in enumerate(grams):
        for gram, count in counts.items():
            idf = np.log((1 + total) / (1 + document_frequency[gram])) + 1.0
            # crc32 rather than hash(): stable across processes, so groups do not change between restarts.
            matrix[row, zlib.crc32(gram.encode()) % _DIMENSIONS] += (1 + np.log(count)) * idf
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    result: np.ndarray = matrix / norms
    return result


def group_similar(texts: Sequence[str], threshold: float = SAME_THING) -> list[Group]:
    """Groups of near-duplicates, largest first; each text is in exactly one group. Two texts at least
    `threshold` alike share a group, and so do their groups (single linkage), whatever order they came in."""
    if not texts:
        return []
    vectors = _vectors(texts)
    parent = list(range(len(texts)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b in np.argwhere(np.triu(vectors @ vectors.T, k=1) >= threshold):
        ra, rb = root(int(a)), root(int(b))
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    members: dict[int, list[int]] = {}
    for index in range(len(texts)):
        members.setdefault(root(index), []).append(index)
    groups = [Group(m) for m in members.values()]
    return sorted(groups, key=lambda g: (-g.size, g.members[0]))


class Keywords:
    """Counts the subject words of texts."""

    def __init__(self, tokenizer: Tokenizer) -> None:
        self._tokenizer = tokenizer
        self._stop = set(thai_stopwords()) | _CHAT_WORDS

    def words(self, text: str) -> set[str]:
        return {
            w
            for w in self._tokenizer.words(normalize(text))
            if len(w) > 1 and w not in self._stop and not w.isdigit() and any(c.isalpha() for c in w)
        }

    def top(self, texts: Sequence[str], limit: int = 10) -> list[tuple[str, int]]:
        """The words found in the most texts, with in how many."""
        counts: Counter[str] = Counter()
        for text in texts:
            counts.update(self.words(text))
        return counts.most_common(limit)

    def search_words(self, query: str) -> tuple[str, ...]:
        """The words of a search box entry: every one must appear in a matching text."""
        words = [w for w in self._tokenizer.words(normalize(query)) if w.strip()]
        meaningful = [w for w in words if w not in self._stop]
        return tuple(dict.fromkeys(meaningful or words))
