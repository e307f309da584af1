"""content/ validation: the shipped files pass; broken files are reported as file:line with a reason."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from bot.chat.messages import MessageBuilder
from bot.content import ContentError, check_content, load_content
from tests.serving import cli_env, run_cli

ROOT = Path(__file__).resolve().parent.parent
CHIPS = "    quick_replies: [services, report, contact, help]"


def test_shipped_content_is_valid_and_every_response_renders() -> None:
    content = load_content(ROOT / "content")
    builder = MessageBuilder(content)
    for response in content.responses.values():
        params = {name: "ตัวอย่าง" for name in response.params}
        message = builder.text(response.id, **params)
        assert "{" not in message["text"], response.id
        assert message["text"].strip()


def _replace(file: Path, old: str, new: str) -> None:
    text = file.read_text("utf-8")
    assert old in text, old
    file.write_text(text.replace(old, new, 1), "utf-8")


def _line_of(file: Path, needle: str) -> int:
    return next(i for i, line in enumerate(file.read_text("utf-8").splitlines(), 1) if needle in line)


@pytest.mark.parametrize(
    ("file", "old", "new", "needle", "message"),
    [
        (
            "responses.yaml",
            "{phone} ({office_hours})\n" + CHIPS,
            "{telephone} ({office_hours})\n" + CHIPS,
            "{telephone}",
            "unknown placeholder {telephone}",
        ),
        (
            "responses.yaml",
            "quick_replies: [services, contact]",
            "quick_replies: [services, contactt]",
            "quick_replies: [services, contactt]",
            "unknown chip 'contactt'",
        ),
        (
            "responses.yaml",
            "label: เสนอความคิดเห็น",
            "label: เสนอความคิดเห็นต่อแผนพัฒนาท้องถิ่นของเทศบาล",
            "label: เสนอความคิดเห็นต่อแผน",
            "LINE allows 20",
        ),
        (
            "municipality.yaml",
            "{number: 3, name: บ้านดอนยาง}",
            "{number: 4, name: บ้านดอนยาง}",
            "{number: 4, name: บ้านดอนยาง}",
            "expected 3",
        ),
        ("municipality.yaml", "phone: 0-0000-0000 (เบอร์ตัวอย่าง)", "phone: ''", "phone: ''", "'phone'"),
        ("commands.yaml", "cancel: [ยกเลิก,", "cancel: [เมนู, ยกเลิก,", "cancel: [เมนู", "already means 'menu'"),
        ("responses.yaml", "  menu:\n    text: เลือก", "  menu:\n    text: [เลือก", "text: [เลือก", "YAML syntax error"),
        (
            "reports.yaml",
            "words: [ขยะ, ถังขยะ,",
            "words: [ขยะ, ทางเท้า, ถังขยะ,",
            "words: [ขยะ, ทางเท้า",
            "'ทางเท้า' is already a word of type 'road'",
        ),
        ("reports.yaml", "words: [ขยะ, ถังขยะ,", "words: [ขยะ, ถัง ขยะ,", "words: [ขยะ, ถัง ขยะ", "without spaces"),
    ],
)
def test_broken_content_is_reported_with_file_and_line(
    content_copy: Path, file: str, old: str, new: str, needle: str, message: str
) -> None:
    path = content_copy / file
    _replace(path, old, new)
    content, errors = check_content(content_copy)
    assert content is None
    expected_line = _line_of(path, needle)
    matching = [e for e in errors if message in e]
    assert matching, errors
    assert any(e.startswith(f"{path}:") for e in matching)
    if "YAML syntax" not in message:
        assert f"{path}:{expected_line}:" in matching[0], (matching, expected_line)
    with pytest.raises(ContentError):
        load_content(content_copy)


@pytest.mark.parametrize(
    ("old", "new", "needle", "message"),
    [
        ("office: engineering", "office: roads", "office: roads", "not a division id"),
        (
            "{text: นายช่างตรวจสถานที่และพิจารณาแบบแปลน (อาจให้แก้ไขแบบ), days: null}",
            "{text: นายช่างตรวจสถานที่และพิจารณาแบบแปลน (อาจให้แก้ไขแบบ), days: สิบวัน}",
            "days: สิบวัน",
            "whole number",
        ),
        (
            "day_kind: calendar, certainty: secondary}",
            "day_kind: weekly, certainty: secondary}",
            "day_kind: weekly",
            "day_kind must be one of",
        ),
        ("related: [house_number,", "related: [house_numbers,", "related: [house_numbers", "unknown service"),
        ("last_reviewed: 2026-11-22", "last_reviewed: soon", "last_reviewed: soon", "YYYY-MM-DD"),
        ("label: ขออนุญาตก่อสร้าง", "label: ขออนุญาตก่อสร้างอาคารทุกประเภท", "label: ขออนุญาตก่อสร้างอาคาร", "LINE allows 20"),
        (
            "channel: ยื่นด้วยตนเองที่งานธุรการกองช่าง",
            "chanel: ยื่นด้วยตนเองที่งานธุรการกองช่าง",
            "chanel:",
            "unknown field 'chanel'",
        ),
    ],
)
def test_broken_service_file_is_reported_with_its_line(
    content_copy: Path, old: str, new: str, needle: str, message: str
) -> None:
    path = content_copy / "services" / "building_permit.yaml"
    _replace(path, old, new)
    content, errors = check_content(content_copy)
    assert content is None
    matching = [e for e in errors if message in e]
    assert matching, errors
    assert matching[0].startswith(f"{path}:{_line_of(path, needle)}:"), (matching, _line_of(path, needle))


def test_missing_file_is_reported(content_copy: Path) -> None:
    (content_copy / "commands.yaml").unlink()
    _, errors = check_content(content_copy)
    assert any("commands.yaml:1: required file is missing" in e for e in errors)


def _content_check(directory: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return run_cli(cli_env(tmp_path / "var", HOME=str(tmp_path)), "content", "check", "--dir", str(directory))


def test_content_check_cli(content_copy: Path, tmp_path: Path) -> None:
    ok = _content_check(content_copy, tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert "content OK" in ok.stdout
    _replace(content_copy / "responses.yaml", "quick_replies: [services, contact]", "quick_replies: [nope]")
    bad = _content_check(content_copy, tmp_path)
    assert bad.returncode == 1
    assert f"{content_copy / 'responses.yaml'}:" in bad.stdout and "unknown chip 'nope'" in bad.stdout
