"""Issue 16 item 9 (references): with its letter typed, a reference needs no leading zeros ("ร-2569-2",
"ค 2569 15"); without the letter a bare year and number still needs the zero-padded form, so "ภาษีปี 2569
10000 บาท" is no reference."""

from __future__ import annotations

import pytest

from bot.references import find_reference, parse_reference, split_reference


# -- 9. references with the letter and a short counter ----------------------------------------------------------
@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("ร-2569-2", "ร-2569-00002"),
        ("ค 2569 15", "ค-2569-00015"),
        ("ร2569-7", "ร-2569-00007"),
        ("ร 2569 ๑๕", "ร-2569-00015"),
        ("สถานะ ค-๒๕๖๙-๓", "ค-2569-00003"),
        ("ร 2569/12345", "ร-2569-12345"),
        ("ค-2569-00015", "ค-2569-00015"),
        ("2569 00012", "2569-00012"),
    ],
)
def test_a_lettered_reference_needs_no_leading_zeros(typed: str, meant: str) -> None:
    assert find_reference(typed) == meant


@pytest.mark.parametrize(
    "typed", ["ภาษีปี 2569 10000 บาท", "2569-2", "2569 15", "ร-2569-0", "มีค 2569 15", "แผน 2566-2570", "ร-2569-2-3"]
)
def test_numbers_that_are_not_references_stay_so(typed: str) -> None:
    assert parse_reference(typed) is None


def test_a_short_lettered_reference_is_split_out_of_the_search_box() -> None:
    reference, rest = split_reference("ถนน ร-2569-3 ชำรุด")
    assert reference is not None and str(reference) == "ร-2569-00003"
    assert rest.split() == ["ถนน", "ชำรุด"]
