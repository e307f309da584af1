"""content/reading.yaml: the words that help read what residents type themselves, validated with file:line errors.

Regional words and common misspellings are read as the words the examples use ("บ่" as "ไม่", "เบี้ยคนแก่" as
"เบี้ยผู้สูงอายุ"); cue words say a message tells of a problem, a wish, or asks a question. All are compared word by
word (bot.nlp.tokenize), so a cue never matches inside another word ("ยะ" is not found in "ขยะ").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bot.content.source import ContentErrors, read_yaml

_CUE_LISTS = ("problem_cues", "wish_cues", "question_cues")


@dataclass(frozen=True)
class ReadingLexicon:
    regional: dict[str, str] = field(default_factory=dict)
    problem_cues: tuple[str, ...] = ()
    wish_cues: tuple[str, ...] = ()
    question_cues: tuple[str, ...] = ()


def read_reading(file: Path, errors: ContentErrors) -> ReadingLexicon:
    if not file.is_file():
        errors.add(f"{file}:1", "required file is missing")
        return ReadingLexicon()
    src = read_yaml(file, errors)
    if src is None:
        return ReadingLexicon()
    data = src.data if isinstance(src.data, dict) else {}
    regional = data.get("regional")
    if not isinstance(regional, dict):
        src.error(("regional",), "'regional' must map a word residents write to the word the examples use")
        regional = {}
    words: dict[str, str] = {}
    for word, standard in regional.items():
        if not isinstance(word, str) or not isinstance(standard, str) or not word.strip() or not standard.strip():
            src.error(("regional", word), "each regional word needs the standard word it stands for")
            continue
        if word.strip() == standard.strip():
            src.error(("regional", word), "a word read as itself changes nothing: remove it")
            continue
        words[word.strip()] = standard.strip()
    cues: dict[str, tuple[str, ...]] = {}
    for name in _CUE_LISTS:
        raw = data.get(name)
        if not isinstance(raw, list) or not raw or not all(isinstance(c, str) and c.strip() for c in raw):
            src.error((name,), f"'{name}' must be a list of words")
            raw = []
        cues[name] = tuple(str(c).strip() for c in raw)
    return ReadingLexicon(regional=words, **cues)
