"""The one wrapper around PyThaiNLP's word segmentation.

Engine: nlpo3, PyThaiNLP's Rust maximal-matching engine, which segments as newmm does at a fraction of the
cost and loads a custom dictionary faster (docs/decisions/tokenizer-engine.md). The dictionary is PyThaiNLP's
word list plus the domain words staff write in content (service names and aliases), so "เบี้ยยังชีพ" stays
one word.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

os.environ.setdefault("PYTHAINLP_OFFLINE", "1")  # fail at once instead of trying to download anything
os.environ.setdefault("PYTHAINLP_READ_ONLY", "1")

from pythainlp.corpus import thai_words
from pythainlp.tokenize import nlpo3

from bot.content import Content

# Dictionaries nlpo3 holds in this process (it refuses to load a name twice, and says so on stderr).
_LOADED: set[str] = set()


class Tokenizer:
    """Thai word segmentation with the domain dictionary loaded once."""

    def __init__(self, domain_words: Iterable[str]) -> None:
        # The words this project added to the dictionary (service names, aliases, regional and cue words).
        self.custom_words = frozenset(w.strip() for w in domain_words if w.strip() and " " not in w.strip())
        words = set(thai_words()) | self.custom_words
        listing = "\n".join(sorted(words))
        # nlpo3 keeps dictionaries by name: one per distinct word list, so two configurations never collide.
        self._name = "bot-" + hashlib.sha256(listing.encode("utf-8")).hexdigest()[:12]
        if self._name in _LOADED:
            return
        path = Path(tempfile.gettempdir()) / f"{self._name}.txt"
        if not path.exists():
            path.write_text(listing, encoding="utf-8")
        nlpo3.load_dict(str(path), self._name)
        _LOADED.add(self._name)

    def words(self, text: str) -> list[str]:
        """The words of normalized text, without spaces."""
        # Not word_tokenize(engine="nlpo3"): PyThaiNLP 5.4 drops custom_dict on that path, so the domain
        # words would be ignored. Its nlpo3.segment takes the dictionary's name directly.
        return [w for w in nlpo3.segment(text, custom_dict=self._name) if w.strip()]


def for_content(content: Content) -> Tokenizer:
    """The tokenizer with this municipality's service names and aliases as words."""
    return Tokenizer(word for service in content.services.values() for word in (service.name, *service.aliases))
