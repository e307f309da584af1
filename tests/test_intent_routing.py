"""Intents are routed by the routers (issue 17 step 6): each feature's router claims the intents it answers,
one router per intent, and the services handler, which reads every free text, answers only what nobody claims;
it calls no other feature."""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

from bot.chat.dispatch import Dispatcher
from bot.content import load_content
from bot.handlers.routing import routers
from bot.nlp.intents import Intent

ROOT = Path(__file__).resolve().parent.parent

CLAIMED_BY = {
    Intent.OPINION: "opinions",
    Intent.REPORT: "reports",
    Intent.MY_CASES: "cases",
    Intent.MYDATA: "mydata",
    Intent.HEARING: "hearings",
    Intent.SERVICES_MENU: "services",
}


def test_each_feature_claims_its_intents_and_the_services_answer_the_rest() -> None:
    claims = Counter(intent for router in routers() for intent in router.intents)
    assert all(count == 1 for count in claims.values()), claims
    owners = {intent: router.name for router in routers() for intent in router.intents}
    assert {intent: owners[intent] for intent in CLAIMED_BY} == CLAIMED_BY
    assert owners["*"] == "services"
    dispatcher = Dispatcher(routers(), load_content(ROOT / "content"), "k" * 32)
    for intent in Intent:
        handler = dispatcher._intent_handler(intent)
        assert handler is not None, intent
        expected = next(r for r in routers() if r.name == CLAIMED_BY.get(intent, "services"))
        assert handler in expected.intents.values(), intent


def test_the_services_chat_imports_no_other_feature() -> None:
    tree = ast.parse((ROOT / "bot/handlers/services/chat.py").read_text("utf-8"))
    imported = [
        node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("bot.handlers.")
    ]
    assert all(module.startswith("bot.handlers.services.") for module in imported), imported
