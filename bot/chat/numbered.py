"""Choices said in a prompt's text as a numbered list ("1 ด้านเศรษฐกิจ"), and the number a resident types for one.

LINE for PC and Mac shows no quick replies: a prompt whose choices live only in its chips shows nothing to pick
there. So a prompt that offers a list also writes it out, one numbered line per chip, and a typed "1" (or "๑")
picks the chip its line names. The text is the one record of what each number meant: the reader looks the
number up in the question it answers, so a number means what the resident was shown, never a chip position the
text did not show (at the village question "3" stays หมู่ 3).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

# "3 ด้านสังคมและสิ่งแวดล้อม" on a line of its own, the name exactly as the chip's line was written.
_LINE = re.compile(r"^(\d{1,2}) (.+)$", re.MULTILINE)


def numbered(names: Iterable[str]) -> str:
    """One line per choice, numbered from 1, in the order the chips show them."""
    return "\n".join(f"{number} {name}" for number, name in enumerate(names, start=1))


def chip_names(chips: Iterable[dict[str, Any]]) -> list[str]:
    """What each chip's line says: the text its tap shows (the full name, "ด้านเศรษฐกิจ" of the chip
    "เศรษฐกิจ อาชีพ"), else its label."""
    names = []
    for chip in chips:
        action = chip.get("action", {})
        names.append(str(action.get("displayText") or action.get("label") or ""))
    return names


def listed_name(text: str, number: str) -> str | None:
    """The name the prompt's numbered line `number` shows, or None when the text lists no such line.
    `number` is compared as typed answers are (Thai digits already read as 0-9)."""
    if not number.isdigit():
        return None
    for line in _LINE.finditer(text):
        if int(line.group(1)) == int(number):
            return line.group(2)
    return None
