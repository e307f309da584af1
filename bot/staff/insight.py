"""What a pile of texts says: near-duplicates grouped with their counts, and the words that come up most.

Grouping compares character 2-4-grams (the matcher's representation: robust to typos and to Thai written
without spaces) with TF-IDF weights, feature-hashed with a sign (so collisions cancel out on average instead of
adding up, which put every long opinion in one group). Rows are compared block by block, so memory stays
bounded. Each text is read up to its first MAX_CHARS characters. Figures: docs/decisions/insight-limits.md.
Keywords are PyThaiNLP words (through bot.nlp.tokenize) without stop words, counted once per text.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import re
import time
import unicodedata
from collections import Counter, OrderedDict
from collections.abc import Awaitable, Callable, Hashable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field

import numpy as np
from pythainlp.corpus import thai_stopwords

from bot.nlp.normalize import normalize
from bot.nlp.retrieve import NGRAM_SIZES
from bot.nlp.tokenize import Tokenizer

_DIMENSIONS = 1024  # a power of two: a bucket's low bits are its column
_BUCKETS = 1 << 22
_BUCKET_MASK = np.uint64(_BUCKETS - 1)
_BLOCK_ROWS = 256
_SLICE_TEXTS = 250  # what one slice of n-grams costs at its peak: about 10 MB at 300 characters a text
# Texts are compared (and their words counted) by their first this many characters: near-duplicates start
# alike, and the cost of everything here grows with the length read.
MAX_CHARS = 300
# Cosine similarity at which two texts say the same thing in other words (chosen on tests/data/opinions_dev.tsv:
# docs/decisions/insight-limits.md).
SAME_THING = 0.35
# Words that say nothing about the subject in residents' messages, beyond PyThaiNLP's stop words.
_CHAT_WORDS = {"อยาก", "ให้", "ขอ", "ครับ", "ค่ะ", "คะ", "นะ", "ด้วย", "หน่อย", "ช่วย", "ทำ", "มี", "ได้", "เป็น"}

# fold(): what normalize() does that matters for comparing texts, at a tenth of its cost (PyThaiNLP's normalize
# was most of the work for thousands of texts: docs/decisions/insight-limits.md).
_INVISIBLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
_REPEATS = re.compile(r"([\u0e01-\u0e2e\u0e30-\u0e4e])\1{2,}|([A-Za-z])\2{2,}")
_SPELLINGS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
_SPACES = re.compile(r"\s+")


def fold(text: str, max_chars: int = MAX_CHARS) -> str:
    """The first max_chars characters of text, cleaned for comparison: NFC, no invisible characters, Thai
    digits as Arabic, runs of a letter collapsed, the two common Thai misspellings of vowels (เเ, ํา) fixed,
    Latin lower-cased, spaces squeezed."""
    text = unicodedata.normalize("NFC", text[: max_chars + 16])
    text = _INVISIBLE.sub("", text).translate(_SPELLINGS).replace("เเ", "แ").replace("\u0e4d\u0e32", "\u0e33")
    text = _REPEATS.sub(lambda m: m.group(1) or m.group(2), text)
    return _SPACES.sub(" ", text.lower()).strip()[:max_chars]


@dataclass
class Group:
    """Texts that say nearly the same thing: the first stands for the group."""

    members: list[int] = field(default_factory=list)  # indexes into the texts given

    @property
    def size(self) -> int:
        return len(self.members)


def _gram_hashes(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(row, 64-bit hash) of every character n-gram occurrence, as bot.nlp.retrieve.char_ngrams cuts them
    (spaces removed, ends marked), hashed without Python loops over characters."""
    compact = ["\x02" + "".join(t.split()) + "\x03" for t in texts]
    lengths = np.fromiter((len(c) for c in compact), dtype=np.int64, count=len(compact))
    points = np.frombuffer("".join(compact).encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    row_of = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)
    rows, hashes = [], []
    with np.errstate(over="ignore"):
        for n in NGRAM_SIZES:
            valid = np.arange(len(points) - n + 1)
            valid = valid[valid + n <= (starts + lengths)[row_of[valid]]]
            h = np.full(len(valid), np.uint64(n * 0x9E3779B97F4A7C15 & 0xFFFFFFFFFFFFFFFF))
            for k in range(n):
                h = (h ^ points[valid + k]) * np.uint64(0x100000001B3)
            # splitmix64's finaliser: every bit of the n-gram reaches the column and the sign.
            h ^= h >> np.uint64(30)
            h *= np.uint64(0xBF58476D1CE4E5B9)
            h ^= h >> np.uint64(27)
            h *= np.uint64(0x94D049BB133111EB)
            h ^= h >> np.uint64(31)
            rows.append(row_of[valid])
            hashes.append(h)
    return np.concatenate(rows), np.concatenate(hashes)


def _vectors(texts: Sequence[str]) -> np.ndarray:
    """Unit rows: sublinear TF times IDF of each n-gram, in a signed hashed column.

    Two passes over slices of the texts: the first counts document frequencies, the second cuts the n-grams
    again and fills the rows; cutting twice costs less than keeping every slice's n-grams until the IDF is
    known (for 10,000 texts of 300 characters, 60 MB more at the peak). Frequencies are counted per bucket of
    2**22 (an n-gram's hash cut to 22 bits, whose low 10 bits are its column and the next its sign), not per
    exact n-gram: a few thousand texts hold far fewer distinct n-grams than buckets, and a bincount is a
    fraction of the cost of merging sorted n-grams. Each slice adds to the frequencies what np.unique counts
    of its buckets, and reads its IDF from them: no array of 2**22 floats is ever made (three of them
    were 80 MB at the peak)."""
    total = len(texts)
    document_frequency = np.zeros(_BUCKETS, dtype=np.uint32)
    for start in range(0, total, _SLICE_TEXTS):
        _, bucket, _ = _bucket_counts(texts[start : start + _SLICE_TEXTS])
        present, texts_with_it = np.unique(bucket, return_counts=True)
        document_frequency[present] += texts_with_it.astype(np.uint32)
    matrix = np.empty((total, _DIMENSIONS), dtype=np.float32)
    for start in range(0, total, _SLICE_TEXTS):
        offset, bucket, count = _bucket_counts(texts[start : start + _SLICE_TEXTS])
        size = min(_SLICE_TEXTS, total - start)
        idf = np.log((1 + total) / (1 + document_frequency[bucket].astype(np.float32))) + 1.0
        weight = (1 + np.log(count, dtype=np.float32)) * idf
        weight[(bucket >> 10) & 1 == 0] *= -1
        cell = offset * _DIMENSIONS + (bucket & (_DIMENSIONS - 1)).astype(np.int64)
        flat = np.bincount(cell, weights=weight, minlength=size * _DIMENSIONS)
        matrix[start : start + size] = flat.reshape(size, _DIMENSIONS)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    matrix /= norms
    return matrix


def _bucket_counts(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(text, bucket, count): one entry per text and n-gram bucket it holds, with how often."""
    row, hashes = _gram_hashes(texts)
    pairs, count = np.unique((row.astype(np.uint64) << np.uint64(22)) | (hashes & _BUCKET_MASK), return_counts=True)
    return (pairs >> np.uint64(22)).astype(np.int64), (pairs & _BUCKET_MASK).astype(np.int64), count


def group_similar(texts: Sequence[str], threshold: float = SAME_THING, folded: bool = False) -> list[Group]:
    """Groups of near-duplicates, largest first; each text is in exactly one group. Two texts at least
    `threshold` alike share a group, and so do their groups (single linkage), whatever order they came in.
    folded: the texts already went through fold()."""
    if not texts:
        return []
    vectors = _vectors(texts if folded else [fold(t) for t in texts])
    parent = np.arange(len(texts), dtype=np.int64)
    for start in range(0, len(texts), _BLOCK_ROWS):
        block = vectors[start : start + _BLOCK_ROWS] @ vectors[start:].T
        a, b = np.nonzero(block >= threshold)
        del block
        above = b > a  # the block's own rows meet each other on both sides of the diagonal
        _join(parent, a[above] + start, b[above] + start)
    members: dict[int, list[int]] = {}
    for index, root in enumerate(parent.tolist()):
        members.setdefault(root, []).append(index)
    groups = [Group(m) for m in members.values()]
    return sorted(groups, key=lambda g: (-g.size, g.members[0]))


def _join(parent: np.ndarray, a: np.ndarray, b: np.ndarray) -> None:
    """Union-find over arrays of pairs: each tree hangs from its smallest index, and parent is left pointing
    straight at the roots. Whole arrays at a time, so thousands of copies of one message cost no Python loop
    per pair."""
    while True:
        _flatten(parent)
        ra, rb = parent[a], parent[b]
        apart = ra != rb
        if not apart.any():
            return
        a, b, ra, rb = a[apart], b[apart], ra[apart], rb[apart]
        np.minimum.at(parent, np.maximum(ra, rb), np.minimum(ra, rb))


def _flatten(parent: np.ndarray) -> None:
    while True:
        grand = parent[parent]
        if np.array_equal(grand, parent):
            return
        parent[:] = grand


class Keywords:
    """Counts the subject words of texts."""

    def __init__(self, tokenizer: Tokenizer) -> None:
        self._tokenizer = tokenizer
        self._stop = set(thai_stopwords()) | _CHAT_WORDS

    def words(self, text: str, folded: bool = False) -> set[str]:
        """folded: text already went through fold() (else it is normalized here)."""
        return {
            w
            for w in self._tokenizer.words(text if folded else normalize(text))
            if len(w) > 1 and w not in self._stop and not w.isdigit() and any(c.isalpha() for c in w)
        }

    def top(self, texts: Sequence[str], limit: int = 10, folded: bool = False) -> list[tuple[str, int]]:
        """The words found in the most texts, with in how many."""
        counts: Counter[str] = Counter()
        for text in texts:
            counts.update(self.words(text, folded))
        return counts.most_common(limit)

    def search_words(self, query: str) -> tuple[str, ...]:
        """The words of a search box entry: every one must appear in a matching text."""
        words = [w for w in self._tokenizer.words(normalize(query)) if w.strip()]
        meaningful = [w for w in words if w not in self._stop]
        return tuple(dict.fromkeys(meaningful or words))


@dataclass(frozen=True)
class OpinionGroup:
    text: str  # the first opinion of the group stands for it
    references: tuple[str, ...]
    villages: tuple[tuple[int | None, int], ...]  # (village, count), most first
    category: str

    @property
    def size(self) -> int:
        return len(self.references)


# Groups of repeated opinions an Insight keeps, largest first; the rest are only counted. All of them crossed
# back from the worker process before (thousands of one-opinion groups), and unpickling them in the web
# process took the event loop's time.
KEPT_GROUPS = 100


@dataclass(frozen=True)
class Insight:
    groups: list[OpinionGroup]  # repeated opinions (two or more), the KEPT_GROUPS largest
    singles: int  # opinions like no other
    keywords: dict[str, list[tuple[str, int]]]  # category id -> (word, in how many opinions)
    considered: int
    truncated: bool  # only the newest opinions were read
    shortened: int = 0  # opinions read only up to their first MAX_CHARS characters


# (reference, text, category, village, longer than MAX_CHARS); the text may be cut at MAX_CHARS already.
Row = tuple[str, str, str, int | None, bool]


def summarise(rows: Sequence[Row], keywords: Keywords, truncated: bool = False) -> Insight:
    """Groups and top words per category of the rows. Pure and CPU-bound: the web process runs it in
    InsightRunner's worker process."""
    folded = [fold(text) for _, text, _, _, _ in rows]
    found = group_similar(folded, folded=True)
    groups = []
    for group in [g for g in found if g.size > 1][:KEPT_GROUPS]:
        members = [rows[i] for i in group.members]
        villages = Counter(m[3] for m in members).most_common()
        category = Counter(m[2] for m in members).most_common(1)[0][0]
        groups.append(OpinionGroup(members[0][1], tuple(m[0] for m in members), tuple(villages), category))
    by_category: dict[str, list[str]] = {}
    for (_, _, category, _, _), text in zip(rows, folded, strict=True):
        by_category.setdefault(category, []).append(text)
    return Insight(
        groups=groups,
        singles=sum(1 for g in found if g.size == 1),
        keywords={category: keywords.top(texts, folded=True) for category, texts in by_category.items()},
        considered=len(rows),
        truncated=truncated,
        shortened=sum(1 for row in rows if row[4]),
    )


# The worker process's own Keywords, built once when the pool starts it.
_worker_keywords: Keywords | None = None
_WORKER_NICENESS = 10  # as `python -m bot worker`: the web process's requests come first


def _start_worker(domain_words: tuple[str, ...]) -> None:
    global _worker_keywords
    os.nice(_WORKER_NICENESS)
    _worker_keywords = Keywords(Tokenizer(domain_words))


def _summarise_in_worker(rows: Sequence[Row], truncated: bool) -> Insight:
    assert _worker_keywords is not None, "the pool's initializer builds it"
    return summarise(rows, _worker_keywords, truncated)


class InsightRunner:
    """Runs summarise() outside the web process, in one worker process started on first use ('spawn': a fresh
    interpreter, safe next to asyncio's threads), so the event loop and the GIL stay free for /callback.

    One run at a time: the pool has one worker, and viewers asking for the same key while it runs await the
    same result. Results are kept for `ttl` seconds under their key (which should name the filters and the
    data's freshness), at most `entries` of them."""

    def __init__(self, domain_words: Iterable[str], ttl: float = 300.0, entries: int = 16) -> None:
        self._domain_words = tuple(domain_words)
        self._ttl = ttl
        self._entries = entries
        self._pool: ProcessPoolExecutor | None = None
        self._running: dict[Hashable, asyncio.Future[Insight]] = {}
        self._cache: OrderedDict[Hashable, tuple[float, Insight]] = OrderedDict()
        self.runs = 0  # summarise() calls made, for tests and metrics

    async def get(self, key: Hashable, load: Callable[[], Awaitable[tuple[list[Row], bool]]]) -> Insight:
        """The insight for key: cached, being computed, or computed now from what load() returns (rows, and
        whether they are only the newest)."""
        cached = self._cache.get(key)
        if cached is not None and cached[0] > time.monotonic():
            self._cache.move_to_end(key)
            return cached[1]
        running = self._running.get(key)
        if running is None:
            running = asyncio.ensure_future(self._compute(key, load))
            self._running[key] = running
            running.add_done_callback(lambda _: self._running.pop(key, None))
        # Shielded: a viewer who leaves does not cancel the run the others wait for.
        return await asyncio.shield(running)

    async def _compute(self, key: Hashable, load: Callable[[], Awaitable[tuple[list[Row], bool]]]) -> Insight:
        rows, truncated = await load()
        self.runs += 1
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_worker,
                initargs=(self._domain_words,),
            )
        try:
            insight = await asyncio.wrap_future(self._pool.submit(_summarise_in_worker, rows, truncated))
        except BrokenProcessPool:
            self._pool = None  # the worker died (killed, out of memory): the next request starts another
            raise
        self._cache[key] = (time.monotonic() + self._ttl, insight)
        while len(self._cache) > self._entries:
            self._cache.popitem(last=False)
        return insight

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await asyncio.to_thread(pool.shutdown, wait=True, cancel_futures=True)
