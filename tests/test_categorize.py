"""Plan-category suggestions: clear opinions land in their category, both methods rank every category,
and `python -m bot categorize` speaks the JSON-lines convention."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.content import load_content
from bot.nlp.categorize import Categorizer
from tests.serving import cli_env, run_cli

ROOT = Path(__file__).resolve().parent.parent
CONTENT = load_content(ROOT / "content")

CLEAR = [
    ("ถนนในหมู่บ้านเป็นหลุมบ่อ อยากให้ซ่อมด่วน", "physical"),
    ("อยากให้มีการฝึกอาชีพทำขนมขายให้กลุ่มแม่บ้าน", "economy"),
    ("ขอให้ดูแลผู้สูงอายุที่อยู่บ้านคนเดียว", "society_environment"),
    ("อยากให้เทศบาลเปิดเผยข้อมูลงบประมาณทุกโครงการ", "politics_administration"),
    ("ขอติดกล้องวงจรปิดตรงทางแยกที่เกิดอุบัติเหตุบ่อย", "safety_order"),
    ("อยากให้ช่วยจัดงานประเพณีแห่เทียนเข้าพรรษา", "virtue"),
]


@pytest.fixture(scope="module")
def embedded() -> Categorizer:
    return Categorizer(CONTENT)


@pytest.mark.parametrize(("opinion", "category"), CLEAR)
def test_clear_opinions_get_their_category(embedded: Categorizer, opinion: str, category: str) -> None:
    assert embedded.method == "e5"
    assert embedded.suggest(opinion)[0].category == category


def test_lexical_fallback_ranks_every_category() -> None:
    lexical = Categorizer(CONTENT, use_embeddings=False)
    ranked = lexical.suggest("ขอไฟฟ้าส่องสว่างในซอย")
    assert lexical.method == "char-ngrams"
    assert sorted(s.category for s in ranked) == sorted(CONTENT.categories)
    assert ranked[0].category == "physical"
    assert [s.score for s in ranked] == sorted((s.score for s in ranked), reverse=True)


def test_empty_opinion_scores_nothing(embedded: Categorizer) -> None:
    assert {s.score for s in embedded.suggest(" \u200b ")} == {0.0}


def test_categorize_cli_json_lines(tmp_path: Path) -> None:
    opinions = "อยากให้ทำถนนคอนกรีตเข้าหมู่บ้าน\n\nอยากให้มีกิจกรรมจิตอาสาที่วัด\n"
    result = run_cli(cli_env(tmp_path), "categorize", stdin=opinions)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["category"] for line in lines] == ["physical", "virtue"]
    assert all(set(line) == {"text", "category", "scores"} and len(line["scores"]) == 6 for line in lines)
