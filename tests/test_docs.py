"""The documents the code cites exist: every docs/ path named in bot/, tests/ and bench/ is a file, every
"#section" after it is a heading of that file, and the links between the notes in docs/ resolve too."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
CITING = ("bot", "tests", "bench")
# A cited document: docs/<path>.md, optionally followed by #<section>.
CITATION = re.compile(r"\bdocs/((?:[\w.-]+/)*[\w.-]+\.md)(?:#([\w-]+))?")
# Markdown links inside docs/: [text](relative/path.md#section).
LINK = re.compile(r"\]\(([^)\s#]+\.md)?(?:#([\w-]+))?\)")
# Documents that used to be cited but were never in the repository.
ABSENT = re.compile(r"SECURITY\.md|shared/reference/|shared/design/|\bNLP\.md")


def heading_slug(heading: str) -> str:
    """The anchor GitHub gives a Markdown heading: lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"[^\w\s-]", "", heading.strip().lower())
    return re.sub(r"\s", "-", text)


def anchors(document: Path) -> set[str]:
    lines = document.read_text(encoding="utf-8").splitlines()
    return {heading_slug(line.lstrip("#")) for line in lines if re.match(r"#{1,6}\s", line)}


def citing_files() -> list[Path]:
    here = Path(__file__).resolve()
    found = [p for folder in CITING for p in sorted((ROOT / folder).rglob("*.py")) if p.resolve() != here]
    return [p for p in found if "__pycache__" not in p.parts]


def citations() -> list[tuple[str, str, str | None]]:
    """(file:line, document, section or None) for every docs/ citation in the code."""
    found = []
    for path in citing_files():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            for match in CITATION.finditer(line):
                found.append((f"{path.relative_to(ROOT)}:{number}", match.group(1), match.group(2)))
    return found


def test_slugs_follow_githubs_rule() -> None:
    assert heading_slug(" Staff sign-in and sessions") == "staff-sign-in-and-sessions"
    assert heading_slug("Personal data (PDPA)") == "personal-data-pdpa"
    assert heading_slug("The Python SDK") == "the-python-sdk"


def test_the_code_cites_the_docs() -> None:
    cited = {document for _, document, _ in citations()}
    assert {"security.md", "line-platform.md"} <= cited


@pytest.mark.parametrize(("where", "document", "section"), citations())
def test_every_cited_document_and_section_exists(where: str, document: str, section: str | None) -> None:
    path = DOCS / document
    assert path.is_file(), f"{where}: docs/{document} does not exist"
    if section is not None:
        assert section in anchors(path), f"{where}: docs/{document} has no heading '#{section}'"


def test_no_comment_cites_a_document_outside_the_repository() -> None:
    stale = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in citing_files()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if ABSENT.search(line)
    ]
    assert not stale, f"cite docs/ instead: {stale}"


def test_links_between_the_notes_resolve() -> None:
    broken = []
    for note in sorted(DOCS.rglob("*.md")):
        for number, line in enumerate(note.read_text(encoding="utf-8").splitlines(), start=1):
            for match in LINK.finditer(line):
                target = (note.parent / match.group(1)).resolve() if match.group(1) else note
                if not target.is_file():
                    broken.append(f"{note.relative_to(ROOT)}:{number}: {match.group(1)} does not exist")
                elif match.group(2) and match.group(2) not in anchors(target):
                    broken.append(f"{note.relative_to(ROOT)}:{number}: no heading '#{match.group(2)}'")
    assert not broken, "\n".join(broken)
