"""Outcomes are a declared contract (bot/chat/outcomes.py): every handler records one through record(turn, ...)
with an Outcome member, a reading's Intent or a flow's FlowOutcome, never by assigning a string; and the strings
stored in inbound_event.outcome are exactly those the free-form assignments stored before."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from bot.chat.flows import FlowOutcome
from bot.chat.outcomes import UNHANDLED, Outcome, record, render
from bot.db.models import InboundEvent
from bot.dev import events
from bot.handlers.opinions.chat import OPINION
from bot.handlers.reports.chat import REPORT
from bot.nlp.intents import Intent
from tests.conftest import new_user_id
from tests.flow_harness import FlowHarness

ROOT = Path(__file__).resolve().parent.parent
BOT = ROOT / "bot"
# Where an outcome may be assigned anything: the module of record and render.
HELPER_MODULE = "bot/chat/outcomes.py"
# Elsewhere an .outcome may only be assigned render's call (the inbox's "handler-error").
HELPER_CALLS = frozenset({"render"})
# Other assignments of something called outcome, each with why it is no event's outcome recorded by a handler.
ALLOWED = {
    ("bot/delivery/outbox.py", "attempt.outcome"): "a send attempt's SendOutcome, not the event's",
    ("bot/delivery/inbox.py", "turn.outcome[:64]"): "the inbox stores the outcome the turn recorded on its row",
}


def _assigned(node: ast.AST) -> Iterator[tuple[ast.expr, ast.expr | None]]:
    """(target, value) of each name an assignment sets; value None when it cannot be told (a, b = pair)."""
    if isinstance(node, ast.Assign):
        pairs: list[tuple[ast.expr, ast.expr | None]] = [(t, node.value) for t in node.targets]
    elif isinstance(node, ast.AnnAssign | ast.AugAssign):
        pairs = [(node.target, node.value)]
    else:
        return
    while pairs:
        target, value = pairs.pop()
        if isinstance(target, ast.Tuple | ast.List):
            if isinstance(value, ast.Tuple | ast.List) and len(value.elts) == len(target.elts):
                pairs += zip(target.elts, value.elts, strict=True)
            else:
                pairs += [(t, None) for t in target.elts]
        else:
            yield target, value


def _is_helper_call(value: ast.expr | None) -> bool:
    if not isinstance(value, ast.Call):
        return False
    func = value.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
    return name in HELPER_CALLS


def bare_outcomes(source: str, path: str) -> list[str]:
    """'path:line: assignment' of each `X.outcome = ...` that is not render's call, outside bot/chat/outcomes.py."""
    if path == HELPER_MODULE:
        return []
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        for target, value in _assigned(node):
            if not (isinstance(target, ast.Attribute) and target.attr == "outcome"):
                continue
            if _is_helper_call(value):
                continue
            if (path, ast.unparse(target)) in ALLOWED or (value and (path, ast.unparse(value)) in ALLOWED):
                continue
            found.append((node.lineno, f"{path}:{node.lineno}: {ast.unparse(node).splitlines()[0]}"))
    return [hit for _, hit in sorted(found)]


def scan(root: Path) -> list[str]:
    """The bare outcome assignments of every module under root/bot."""
    return [
        hit
        for module in sorted((root / "bot").rglob("*.py"))
        for hit in bare_outcomes(module.read_text(encoding="utf-8"), module.relative_to(root).as_posix())
    ]


def test_no_outcome_is_assigned_as_a_bare_string_under_bot() -> None:
    """Handlers record outcomes through record(turn, ...); anything else assigned to an .outcome under bot/ fails."""
    assert scan(ROOT) == []


def test_the_scan_finds_what_handlers_assigned_before() -> None:
    """The assignments the code had before Outcome, and some it might grow, are found; the helper's are not."""
    source = """
turn.outcome = "welcomed"
turn.outcome = f"report-saved:{reference}"
turn.outcome = "cancelled" if had_flow else "nothing-to-cancel"
self.outcome = f"{self.kind}-{name}"
row.status, row.outcome, row.processed_at = "failed", "handler-error", now
turn.outcome: str = "ignored"
turn.outcome += ":more"
turn.outcome = OUTCOME
a, turn.outcome = pair
record(turn, Outcome.WELCOMED)
turn.outcome = render(Outcome.WELCOMED)
row.status, row.outcome = "failed", render(Outcome.HANDLER_ERROR)
turn.outcome_detail = "x"
opinion.status = "in_plan"
"""
    hits = bare_outcomes(source, "bot/chat/example.py")
    assert [int(hit.split(":")[1]) for hit in hits] == list(range(2, 11)), hits
    assert bare_outcomes("turn.outcome = 'x'", HELPER_MODULE) == []
    assert bare_outcomes("turn.outcome = 'x'", "bot/chat/dispatch.py") != []


@pytest.mark.parametrize("kinds", [Outcome, FlowOutcome], ids=lambda kinds: kinds.__name__)
def test_each_kind_is_its_own_word_with_no_colon(kinds: type[Outcome] | type[FlowOutcome]) -> None:
    """A StrEnum quietly makes a second member with the same value an alias: each value must be unique."""
    values = [member.value for member in kinds.__members__.values()]
    assert len(values) == len(set(values)), sorted(v for v in values if values.count(v) > 1)
    for value in values:
        assert value and ":" not in value and value == value.strip() and " " not in value, value


def test_every_kind_is_recorded_somewhere() -> None:
    """No member is left behind when the code that recorded it goes."""
    sources = "\n".join(
        p.read_text(encoding="utf-8") for p in sorted(BOT.rglob("*.py")) if p != BOT / "chat" / "outcomes.py"
    )
    for kinds in (Outcome, FlowOutcome):
        for name in kinds.__members__:
            assert f"{kinds.__name__}.{name}" in sources, f"{kinds.__name__}.{name} is recorded nowhere"


def test_an_outcome_renders_as_the_assignments_did() -> None:
    assert UNHANDLED == render(Outcome.IGNORED) == "ignored"
    assert render(Outcome.WELCOMED) == "welcomed"
    assert render(Outcome.REPORT_SAVED, "ร-2569-00001") == "report-saved:ร-2569-00001"
    assert render(Outcome.RSVP, 7, "going", "saved") == "rsvp:7:going:saved"
    assert render(Outcome.CASES_LISTED, 0) == "cases-listed:0"
    assert render(Outcome.UNSUPPORTED, None) == "unsupported:None"  # as f"unsupported:{turn.message_type}" was
    assert render(Intent.SERVICE, "land_tax", "fees") == "service:land_tax:fees"
    assert render(Intent.GREETING) == "greeting"
    assert render(REPORT.outcome(REPORT.steps["consent"])) == "report-consent"
    assert render(OPINION.outcome(FlowOutcome.ASIDE), "village") == "opinion-aside:village"
    assert render(REPORT.outcome(FlowOutcome.TEXT_EMPTY)) == "report-text-empty"
    assert render(OPINION.outcome(FlowOutcome.DECLINED)) == "opinion-declined"
    turn = SimpleNamespace(outcome=UNHANDLED)  # what tests/test_built_message_limits.py hands the case handler
    record(turn, Outcome.CASES_LISTED, 5)
    record(turn, Outcome.CASE_SHOWN)  # the last recorded is stored
    assert turn.outcome == "case-shown"


# -- stored outcomes are the strings the code stored before Outcome ------------------------------------------------


async def _outcomes(flow: FlowHarness) -> list[str | None]:
    async with flow.sessions() as session:
        return list(await session.scalars(select(InboundEvent.outcome).order_by(InboundEvent.id)))


async def test_a_report_filed_stores_the_same_outcomes(flow: FlowHarness) -> None:
    user = new_user_id()
    await flow.say_all(
        user,
        "แจ้งปัญหา",
        "tap: รับทราบ",
        "tap: ถนน/ทางเท้าชำรุด",
        "tap: หมู่ 3",
        "ถนนทรุดเป็นหลุมใหญ่หน้าโรงเรียน",
        "tap: เสร็จ",
        "หน้าโรงเรียนบ้านดอนยาง",
        "tap: ยืนยันส่ง",
    )
    assert await _outcomes(flow) == [
        "report-consent",
        "report-type",
        "report-village",
        "report-text",
        "report-text",
        "report-where",
        "report-confirm",
        "report-saved:ร-2569-00001",
    ]


async def test_an_opinion_filed_stores_the_same_outcomes(flow: FlowHarness) -> None:
    user = new_user_id()
    await flow.say_all(
        user,
        "menu: เสนอความคิดเห็น",
        "tap: รับทราบ",
        "tap: หมู่ 3",
        "ตอนนี้เป็นหลุมลึก ฝนตกน้ำขัง รถล้มบ่อย",
        "tap: เสร็จ",
        "tap: กายภาพ ถนน น้ำ ไฟ",
        "tap: ยืนยันส่ง",
    )
    assert await _outcomes(flow) == [
        "opinion-started",
        "opinion-village",
        "opinion-text",
        "opinion-text",
        "opinion-category",
        "opinion-confirm",
        "opinion-saved:ค-2569-00001",
    ]


async def test_asides_reasks_and_commands_store_the_same_outcomes(flow: FlowHarness) -> None:
    user = new_user_id()
    await flow.say_all(
        user,
        "แจ้งปัญหา",
        "อ่านฉบับเต็ม",
        "อ้าว",
        "tap: รับทราบ",
        "tap: ถนน/ทางเท้าชำรุด",
        "อะไร",
        "tap: หมู่ 3",
        "tap: เสร็จ",
        "ยกเลิก",
        "เรื่องของฉัน",
        "ร-2569-00009",
    )
    assert await _outcomes(flow) == [
        "report-consent",
        "report-aside:consent",
        "report-reask:consent",
        "report-type",
        "report-village",
        "report-kept:village",
        "report-text",
        "report-where",
        "cancelled",
        "cases-none",
        "case-not-found",
    ]


async def test_other_turns_store_the_same_outcomes(flow: FlowHarness) -> None:
    user = new_user_id()
    await flow.send(events.follow_event(user, "t" * 32), events.sticker_event(user, "s" * 32))
    await flow.say_all(
        user,
        "สวัสดี",
        "ภาษีที่ดินจ่ายที่ไหน",
        "ขอบคุณ",
        "ประชาคมครั้งหน้าเมื่อไหร่",
        "menu: เสนอความคิดเห็น",
        "tap: ไม่ส่งตอนนี้",
        "ยกเลิก",
        "เมนู",
        "ข้อมูลของฉัน",
        "action=nonsense=1",
    )
    assert await _outcomes(flow) == [
        "welcomed",
        "sticker",
        "greeting",
        "service:land_building_tax",
        "thanks",
        "hearings:none",
        "opinion-started",
        "opinion-declined",
        "nothing-to-cancel",
        "menu",
        "mydata-shown",
        "postback-unknown",
    ]
