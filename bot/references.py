"""Reference numbers: the one place that writes them and reads them back.

A report's reference is "ร-2569-00042" (ร: เรื่องแจ้ง), an opinion's "ค-2569-00042" (ค: ความเห็น): the kind's
letter, the Buddhist-era year, and a counter per kind and year (bot/chat/participation.py next_reference).
Before issue 16 both kinds stored the bare "2569-00042", so a report and an opinion could show the same number;
migration 0013 gave every stored row its kind's letter, and that prefixed form is the only one stored.

Residents and staff type references every which way: "ร-2569-00001", "สถานะเรื่อง ๒๕๖๙-๐๐๐๐๑", "ค 2569 00001",
"256900001", with a Thai or Latin dash or none. The letter, when typed, says which kind is meant; without it the
number may mean either kind, and the caller looks for both (stored_forms). Pure functions: no database, no content.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Each kind's letter (ร: เรื่องแจ้ง, ค: ความเห็น). Thai, because residents read and type them; two letters that
# look nothing alike, so "ร-2569-00001" and "ค-2569-00001" are not misread for each other.
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
# With the letter, a counter of fewer digits counts too (_LETTERED).
_LETTER = rf"(?:(?<![{_THAI_LETTER}])(?P<alone>[รค])[ \t]*-?[ \t]*|(?P<dashed>[รค])[ \t]*-[ \t]*)"
_REFERENCE = re.compile(
    rf"{_LETTER}?"
    r"(?<!\d)(?<!\d-)(?P<year>2[56]\d\d)"
    r"(?:[ \t]*[-/][ \t]*(?P<counted>\d{5,6})|[ \t]*(?P<padded>0\d{4}))"
    r"(?!\d)(?!-\d)"
)
# With the letter typed, the counter may come without its leading zeros ("ร-2569-2", "ค 2569 15"): the letter
# already says a reference is meant. The year and the counter are then kept apart by a dash, a slash or spaces.
_LETTERED = re.compile(
    rf"{_LETTER}"
    r"(?<!\d)(?<!\d-)(?P<year>2[56]\d\d)"
    r"(?:[ \t]*[-/][ \t]*|[ \t]+)(?P<counted>\d{1,6})"
    r"(?!\d)(?!-\d)"
)


@dataclass(frozen=True)
class Reference:
    """A reference: its kind when a prefix letter said so (None: typed without one), the year and the counter."""

    kind: str | None
    year: int
    number: int

    @property
    def bare(self) -> str:
        """The year and the counter without the kind's letter: '2569-00001' (the stored form before 0013)."""
        return f"{self.year}-{self.number:05d}"

    def stored(self, kind: str) -> str | None:
        """The stored reference of a case of `kind` this means, or None when the letter names the other kind."""
        return f"{KIND_PREFIXES[kind]}-{self.bare}" if self.means(kind) else None

    def stored_forms(self) -> tuple[str, ...]:
        """Every stored reference this may mean: its own kind's, or both kinds' when typed without a letter."""
        return tuple(form for kind in KIND_PREFIXES if (form := self.stored(kind)) is not None)

    def means(self, kind: str) -> bool:
        return self.kind is None or self.kind == kind

    def __str__(self) -> str:
        return f"{KIND_PREFIXES[self.kind]}-{self.bare}" if self.kind else self.bare


def format_reference(kind: str, year: int, number: int) -> str:
    """The reference a new case of `kind` is given and stored under: 'ร-2569-00042', 'ค-2569-00042'."""
    return str(Reference(kind, year, number))


def parse_reference(text: str) -> Reference | None:
    """The first reference in a message, or None. Thai digits and odd dashes are read as their plain forms."""
    found = _first(text)
    return found[0] if found else None


def split_reference(text: str) -> tuple[Reference | None, str]:
    """The first reference in a text and the text around it ('ถนน ร-2569-00001 ชำรุด' -> the reference and
    'ถนน  ชำรุด'): the staff search box looks the case up by the one and searches words of the other."""
    found = _first(text)
    if found is None:
        return None, text
    reference, start, end = found
    return reference, text[:start] + " " + text[end:]


def _first(text: str) -> tuple[Reference, int, int] | None:
    # Both translations keep every character in place, so the match's span is the span in `text` too.
    plain = text.translate(_THAI_DIGITS).translate(_DASHES)
    found = [hit for pattern in (_LETTERED, _REFERENCE) if (hit := _first_match(pattern, plain)) is not None]
    # The earliest in the text; at the same place the lettered form, which reaches its letter.
    return min(found, key=lambda hit: hit[1]) if found else None


def _first_match(pattern: re.Pattern[str], plain: str) -> tuple[Reference, int, int] | None:
    for match in pattern.finditer(plain):
        groups = match.groupdict()
        number = int(groups["counted"] or groups.get("padded") or 0)
        if number == 0:
            continue  # counters start at 1: "2569-00000" is nobody's reference
        letter = match["alone"] or match["dashed"]
        reference = Reference(kind=_KINDS[letter] if letter else None, year=int(match["year"]), number=number)
        return reference, match.start(), match.end()
    return None


def find_reference(text: str) -> str | None:
    """The canonical form of the reference typed in a message ('2569-00001', or 'ร-2569-00001' when the
    resident wrote the report letter), or None when there is none. find_reference(its own result) is itself."""
    found = parse_reference(text)
    return None if found is None else str(found)


def stored_reference(kind: str, typed: str) -> str | None:
    """The stored reference of the case of `kind` that `typed` names in any typed form (a tap's data, a staff
    page's address, a command's argument), or None when it names none or names the other kind."""
    found = parse_reference(typed)
    return None if found is None else found.stored(kind)
