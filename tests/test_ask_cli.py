"""`python -m bot ask`: offline answers, one JSON object per stdin line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_ask_reads_stdin_and_prints_json_lines(tmp_path: Path) -> None:
    questions = "ขออนุญาติสร้างบ้านใช้เวลากี่วัน\nหวยงวดนี้ออกอะไร\n\nสวัสดีค่ะ\n"
    result = subprocess.run(
        [sys.executable, "-m", "bot", "ask"],
        input=questions,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "DATA_DIR": str(tmp_path)},
        check=True,
    )
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["text"] for line in lines] == ["ขออนุญาติสร้างบ้านใช้เวลากี่วัน", "หวยงวดนี้ออกอะไร", "สวัสดีค่ะ"]
    assert lines[0]["intent"] == "service" and lines[0]["service_id"] == "building_permit"
    assert "45 วัน" in lines[0]["reply"]
    assert lines[1]["service_id"] is None and lines[1]["intent"] in ("out_of_scope", "clarify")
    assert lines[2]["intent"] == "greeting" and lines[2]["reply"]
    assert all(set(line) == {"text", "intent", "service_id", "score", "reply"} for line in lines)


def test_ask_with_text_prints_the_reply(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "ask", "แจ้งเกิดลูกต้องไปภายในกี่วัน"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "DATA_DIR": str(tmp_path)},
        check=True,
    )
    assert result.stdout.startswith("แจ้งเกิด")
    assert "15 วัน" in result.stdout
