"""Cleaning chat text before anything reads it: the same input always gives the same, stable output.

What it does, in order: Unicode NFC; control, zero-width and bidi characters removed (newlines kept); Thai
digits to Arabic; PyThaiNLP's normalize (ํา -> ำ, เเ -> แ, tone and vowel order, repeated vowels); runs of
three or more of the same letter collapsed (มากกกก -> มาก, also because newmm can hang on long runs);
Latin lower-cased; spaces squeezed; length capped in UTF-16 units, as LINE counts.
"""

from __future__ import annotations

import re
import unicodedata

from pythainlp.util import normalize as thai_normalize

from bot.delivery.limits import TEXT_MAX_UTF16

# Cc and Cf categories cover control, zero-width (U+200B-U+200D, U+2060, U+FEFF) and bidi (U+202A-U+202E,
# U+2066-U+2069) characters; newline and tab are the only ones that carry meaning in a chat message.
_KEEP = {"\n", "\t"}
_REPEATS = re.compile(r"([\u0e01-\u0e2e\u0e30-\u0e4e])\1{2,}|([A-Za-z])\2{2,}")
# Thai writes at most two marks over or under a letter (a vowel and a tone); longer stacks are noise.
_MARK_STACKS = re.compile(r"[\u0e31\u0e34-\u0e3a\u0e47-\u0e4e]{3,}")
_SPACES = re.compile(r"[ \t\u00a0\u3000]+")
_THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")


def normalize(text: str) -> str:
    """The canonical form of a resident's message (idempotent: normalize(normalize(x)) == normalize(x))."""
    result = text
    # Each pass can expose something for another (removing a zero-width space joins two repeated letters):
    # repeat until nothing changes; two passes settle every case seen, four is a safe bound.
    for _ in range(4):
        cleaned = _once(result)
        if cleaned == result:
            break
        result = cleaned
    return result


def _once(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    text = "".join(ch for ch in text if ch in _KEEP or unicodedata.category(ch) not in ("Cc", "Cf", "Cs"))
    text = text.translate(_THAI_DIGITS)
    # Runs collapsed before PyThaiNLP sees them too: its regular expressions take quadratic time on a long
    # run of one tone mark (5,000 of them: 250 ms), which a hostile message could send.
    text = _REPEATS.sub(lambda m: m.group(1) or m.group(2), text)
    text = _MARK_STACKS.sub(lambda m: m.group(0)[:2], text)
    text = thai_normalize(text)
    text = _REPEATS.sub(lambda m: m.group(1) or m.group(2), text)
    text = text.lower()
    text = "\n".join(_SPACES.sub(" ", line).strip() for line in text.split("\n")).strip()
    text = unicodedata.normalize("NFC", text)
    return cap_utf16(text, TEXT_MAX_UTF16)


def clean_text(text: str, max_units: int = TEXT_MAX_UTF16) -> str:
    """What residents wrote, made safe to store and show (docs/security.md#resident-text-and-photos): NFC, no
    control, zero-width or bidi characters (newlines and tabs kept), at most max_units UTF-16 units. Unlike
    normalize() it keeps the resident's own spelling, case and repeated letters. Idempotent."""
    text = unicodedata.normalize("NFC", text)
    text = "".join(ch for ch in text if ch in _KEEP or unicodedata.category(ch) not in ("Cc", "Cf", "Cs"))
    return cap_utf16(unicodedata.normalize("NFC", text).strip(), max_units)


def cap_utf16(text: str, units: int) -> str:
    """At most `units` UTF-16 code units, never splitting a surrogate pair."""
    if len(text) <= units // 2:
        return text
    encoded = text.encode("utf-16-le")
    if len(encoded) <= units * 2:
        return text
    cut = encoded[: units * 2]
    return cut.decode("utf-16-le", "ignore")
