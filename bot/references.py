"""Reference numbers as residents type them back: "2569-00001", "สถานะเรื่อง ๒๕๖๙-๐๐๐๐๑", "ร-2569-00001",
"ค 2569 00001", "256900001".

The bot gives references as a Buddhist-era year and a counter ("2569-00042", bot/handlers/participation.py
next_reference). Issue 16 will give reports and opinions their own visible forms ("ร-2569-00042" for a report,
"ค-2569-00042" for an opinion); residents may type either form already, so the letter is read as a hint of
the kind and the bare number is what today's rows store. Pure functions: no database, no content.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# The letter issue 16 proposes for each kind (ร: เรื่องแจ้ง, ค: ความเห็น).
KIND_PREFIXES = {"report": "ร", "opinion": "ค"}
_KINDS = {letter: kind for kind, letter in KIND_PREFIXES.items()}

_THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
# Hyphens, dashes and minus signs phone keyboards and copied text put where a "-" was meant.
_DASHES = str.maketrans({ch: "-" for ch in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe63\uff0d"})
_THAI_LETTER = "\u0e01-\u0e4e"

# A year of this century or the last in the Buddhist era (2500-2699), then the counter, five or six digits as
# the bot writes it: after a dash (or a slash) any such number; after a space or nothing only one that starts
# with 0 (every counter below 10,000 does), so "ภาษีปี 2569 10000 บาท" is not a reference. Plan periods
# ("2566-2570", "2566-70") have too few digits to be one. The prefix letter counts when it stands alone or is
# followed by a dash: "ร-2569-00001", "ร 2569-00001", "เรื่องร-2569-00001", but not as the end of a word.
_REFERENCE = re.compile(
    rf"(?:(?<![{_THAI_LETTER}])(?P<alone>[รค])[ \t]*-?[ \t]*|(?P<dashed>[รค])[ \t]*-[ \t]*)?"
    r"(?<!\d)(?<!\d-)(?P<year>2[56]\d\d)"
    r"(?:[ \t]*[-/][ \t]*(?P<counted>\d{5,6})|[ \t]*(?P<padded>0\d{4}))"
    r"(?!\d)(?!-\d)"
)


@dataclass(frozen=True)
class Reference:
    """A reference a resident typed: its kind when a prefix letter said so, the year and the counter."""

    kind: str | None
    year: int
    number: int

    @property
    def bare(self) -> str:
        """The form stored today and given in every reply so far: '2569-00001'."""
        return f"{self.year}-{self.number:05d}"

    def stored_forms(self) -> tuple[str, ...]:
        """Every stored reference this may mean: the bare form, and the prefixed forms issue 16 may store."""
        kinds = (self.kind,) if self.kind else tuple(KIND_PREFIXES)
        return (self.bare, *(f"{KIND_PREFIXES[k]}-{self.bare}" for k in kinds))

    def means(self, kind: str) -> bool:
        return self.kind is None or self.kind == kind

    def __str__(self) -> str:
        return f"{KIND_PREFIXES[self.kind]}-{self.bare}" if self.kind else self.bare


def parse_reference(text: str) -> Reference | None:
    """The first reference in a message, or None. Thai digits and odd dashes are read as their plain forms."""
    plain = text.translate(_THAI_DIGITS).translate(_DASHES)
    for match in _REFERENCE.finditer(plain):
        number = int(match["counted"] or match["padded"])
        if number == 0:
            continue  # counters start at 1: "2569-00000" is nobody's reference
        letter = match["alone"] or match["dashed"]
        return Reference(kind=_KINDS[letter] if letter else None, year=int(match["year"]), number=number)
    return None


def find_reference(text: str) -> str | None:
    """The canonical form of the reference typed in a message ('2569-00001', or 'ร-2569-00001' when the
    resident wrote the report letter), or None when there is none. find_reference(its own result) is itself."""
    found = parse_reference(text)
    return None if found is None else str(found)


def for_kind(kind: str, stored: str) -> str:
    """The reference to put in a tap for one of the resident's cases: the stored form, with the kind's letter
    when it has none yet, so a report and an opinion that share a number are told apart."""
    found = parse_reference(stored)
    return str(Reference(kind, found.year, found.number)) if found else stored
