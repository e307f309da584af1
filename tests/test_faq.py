"""content/faq/: the shipped entries load and are sourced; a broken entry is a file:line error that stops
`content check` and `serve`; an answer renders with its certainty note and its chips."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from bot.content import FaqEntry, check_content, load_content
from bot.content.services import CERTAINTIES
from bot.handlers.services.cards import FAQ_MENU_CHIP, ServiceAnswers
from bot.handlers.services.timeline import WorkingCalendar
from tests.serving import cli_env, run_cli

ROOT = Path(__file__).resolve().parent.parent
# Every service has sourced facts in services-facts.yaml, so every one has at least three entries.
MIN_PER_SERVICE = 3
FAQ_FILE = "elderly_allowance.yaml"
ISSUE_EXAMPLES = (
    "ย้ายบ้านแล้วเบี้ยยังได้ไหม",
    "เบี้ยเข้าบัญชีไหน วันไหน",
    "ไม่มีโฉนดขออนุญาตก่อสร้างได้ไหม",
    "ยื่นภาษีป้ายช้าปรับเท่าไหร่",
)


def _line_of(file: Path, needle: str) -> int:
    return next(i for i, line in enumerate(file.read_text("utf-8").splitlines(), 1) if needle in line)


def test_shipped_faq_loads_with_three_sourced_entries_for_every_service() -> None:
    content = load_content(ROOT / "content")
    per_service = Counter(entry.service_id for entry in content.faq.values())
    assert set(per_service) == set(content.services)
    assert min(per_service.values()) >= MIN_PER_SERVICE, per_service
    for key, entry in content.faq.items():
        assert key == entry.id == f"{entry.service_id}.{entry.id.split('.', 1)[1]}"
        assert len(entry.examples) >= 3 and entry.sources and entry.certainty in CERTAINTIES
    # The questions the issue names are answered by an entry of their own.
    phrasings = {p for entry in content.faq.values() for p in entry.phrasings}
    for asked in ISSUE_EXAMPLES:
        assert asked in phrasings, asked


def _entry_text(**fields: str) -> str:
    base = {
        "id": "late_fee",
        "question": "จ่ายช้าปรับไหม",
        "examples": "[จ่ายช้าโดนอะไร, เลยกำหนดปรับเท่าไหร่, ช้าไปหนึ่งเดือน]",
        "answer": "คำตอบ",
        "sources": "[พ.ร.บ.ตัวอย่าง]",
        "certainty": "seen",
    }
    base.update(fields)
    return "".join(f"  {k}: {v}\n" if i else f"- {k}: {v}\n" for i, (k, v) in enumerate(base.items()))


GOOD = _entry_text()


@pytest.mark.parametrize(
    ("file_name", "text", "needle", "message"),
    [
        ("no_such_service.yaml", GOOD, "- id: late_fee", "no service 'no_such_service'"),
        (FAQ_FILE, GOOD.replace("  answer: คำตอบ\n", ""), "- id: late_fee", "'answer' is required"),
        (FAQ_FILE, _entry_text(examples="[จ่ายช้า, ปรับไหม]"), "  examples:", "at least 3"),
        (FAQ_FILE, GOOD + GOOD.replace("คำตอบ", "อีกคำตอบ"), "- id: late_fee", "used twice"),
        (FAQ_FILE, _entry_text(answer="''"), "  answer:", "'answer' must be a non-empty text"),
        (FAQ_FILE, _entry_text(answer="ก" * 4_800), "  answer:", "at most 4700"),
        (FAQ_FILE, _entry_text(certainty="maybe"), "  certainty:", "certainty must be one of"),
        (FAQ_FILE, _entry_text(id="Late-Fee"), "- id: Late-Fee", "id must be a slug"),
        (FAQ_FILE, GOOD + "  answr: x\n", "  answr:", "unknown field 'answr'"),
    ],
)
def test_broken_entry_is_reported_with_its_file_and_line(
    content_copy: Path, file_name: str, text: str, needle: str, message: str
) -> None:
    file = content_copy / "faq" / file_name
    if file.exists():
        # The broken entry goes after the shipped ones, so its line is not the file's first.
        text = file.read_text("utf-8") + "\n" + text
    file.write_text(text, "utf-8")
    content, errors = check_content(content_copy)
    assert content is None
    matching = [e for e in errors if message in e]
    assert matching, errors
    line = max(i for i, row in enumerate(file.read_text("utf-8").splitlines(), 1) if needle in row)
    assert matching[0].startswith(f"{file}:{line}:"), (matching, line)


def test_a_missing_certainty_note_is_reported(content_copy: Path) -> None:
    responses = content_copy / "responses.yaml"
    text = responses.read_text("utf-8")
    responses.write_text("\n".join(r for r in text.splitlines() if "faq_note_recalled:" not in r) + "\n", "utf-8")
    _, errors = check_content(content_copy)
    assert any("'faq_note_recalled'" in e and "/faq/" in e for e in errors), errors


def _break(content_copy: Path) -> Path:
    file = content_copy / "faq" / FAQ_FILE
    file.write_text(file.read_text("utf-8").replace("  certainty: seen", "  certainty: sure", 1), "utf-8")
    return file


def test_content_check_exits_non_zero_on_a_broken_entry(content_copy: Path, tmp_path: Path) -> None:
    env = cli_env(tmp_path / "var", HOME=str(tmp_path))
    assert run_cli(env, "content", "check", "--dir", str(content_copy)).returncode == 0
    file = _break(content_copy)
    bad = run_cli(env, "content", "check", "--dir", str(content_copy))
    assert bad.returncode == 1
    assert f"{file}:{_line_of(file, 'certainty: sure')}: certainty must be one of" in bad.stdout


def test_the_server_refuses_to_start_with_a_broken_entry(content_copy: Path, tmp_path: Path) -> None:
    file = _break(content_copy)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = cli_env(tmp_path / "var", HOME=str(tmp_path), CONTENT_DIR=str(content_copy), PORT=str(port))
    started = subprocess.run(
        [sys.executable, "-m", "bot", "serve"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert started.returncode == 1, started.stderr
    assert "content/ has errors" in started.stderr
    assert f"{file}:{_line_of(file, 'certainty: sure')}:" in started.stderr


CONTENT = load_content(ROOT / "content")
ANSWERS = ServiceAnswers(CONTENT, WorkingCalendar())


def _entry(certainty: str) -> FaqEntry:
    return FaqEntry(
        id="elderly_allowance.sample",
        service_id="elderly_allowance",
        question="ถาม",
        examples=("ก", "ข", "ค"),
        answer="คำตอบสั้น ๆ ค่ะ",
        sources=("แหล่ง",),
        certainty=certainty,
    )


def test_a_seen_answer_is_said_as_written_with_chips_to_the_card_and_the_menu() -> None:
    builder, content = ANSWERS, CONTENT
    service = content.services["elderly_allowance"]
    message = builder.faq(service, _entry("seen"))
    assert message["type"] == "text" and message["text"] == "คำตอบสั้น ๆ ค่ะ"
    card, menu = (item["action"] for item in message["quickReply"]["items"])
    assert card == {
        "type": "postback",
        "label": service.label,
        "data": "action=svc&id=elderly_allowance",
        "displayText": service.label,
    }
    chip = content.quick_replies[FAQ_MENU_CHIP]
    # The menu chip sends the menu command itself, so typing it does the same.
    assert menu == {"type": "message", "label": chip.label, "text": chip.text}
    assert chip.text in content.commands["menu"]


@pytest.mark.parametrize("certainty", ["secondary", "local", "recalled"])
def test_an_unconfirmed_answer_carries_a_note_with_the_office_and_its_phone(certainty: str) -> None:
    builder, content = ANSWERS, CONTENT
    service = content.services["elderly_allowance"]
    text = builder.faq(service, _entry(certainty))["text"]
    answer, note = text.split("\n", 1)
    assert answer == "คำตอบสั้น ๆ ค่ะ"
    assert service.office.name in note and content.municipality.phone in note and "{" not in note


def test_every_shipped_entry_renders_within_lines_limit() -> None:
    builder, content = ANSWERS, CONTENT
    for entry in content.faq.values():
        message = builder.faq(content.services[entry.service_id], entry)
        assert len(message["text"].encode("utf-16-le")) // 2 <= 5000
        assert (entry.certainty == "seen") == (message["text"] == entry.answer), entry.id
