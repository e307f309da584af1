"""Typed postbacks (bot/chat/postbacks.py): every class packs to exactly the string the bot built by hand before
them (buttons already in residents' chats keep working), reads back what it packed, turns anything malformed into
None, and is the only place in bot/ that writes 'action=' data. Content's postbacks are read by the same classes."""

from __future__ import annotations

import ast
import re
import shutil
from pathlib import Path

import pytest

from bot.chat.dispatch import Router
from bot.chat.postbacks import (
    RSVP_ANSWERS,
    AnswerFeedback,
    FlowAnswer,
    FlowDo,
    MenuContact,
    MenuHearings,
    MenuMyData,
    MenuOpinion,
    MenuReport,
    MenuServices,
    MyDataDo,
    MyDataRequest,
    OpinionAnswer,
    OpinionFromMessage,
    Postback,
    RatingDo,
    ReportAnswer,
    ReportFromMessage,
    ReportRating,
    RsvpChoice,
    ServiceChoice,
    ShowCases,
    fields_of,
    known_actions,
    parse_postback,
)
from bot.content import check_content, load_content
from bot.db.codes import RsvpAnswer
from bot.handlers.reports.rules import RATINGS

ROOT = Path(__file__).resolve().parent.parent
BOT = ROOT / "bot"
HAND_BUILT = re.compile(r"(?<!\w)action=")

# Each typed tap and the literal the code built at b11a099, template by template (`git show b11a099:<file>`).
PACKED: list[tuple[Postback, str]] = [
    # content/responses.yaml quick_replies (and the rich menu's tiles); services/cards.py's 'แจ้งเรื่องเลย'
    (MenuServices(), "action=menu.services"),
    (MenuOpinion(), "action=menu.opinion"),
    (MenuReport(), "action=menu.report"),
    (MenuHearings(), "action=menu.hearings"),
    (MenuMyData(), "action=menu.mydata"),
    (MenuContact(), "action=menu.contact"),
    # services/cards.py, services/referrals.py: f"action=svc&id={service.id}", f"action=svc&id={service.id}&a={a}"
    (ServiceChoice("signboard_tax"), "action=svc&id=signboard_tax"),
    (ServiceChoice("signboard_tax", "documents"), "action=svc&id=signboard_tax&a=documents"),
    (ServiceChoice("land_tax", "timeline"), "action=svc&id=land_tax&a=timeline"),
    # services/cards.py: f"action=feedback&e={event_id}&v={vote}"
    (AnswerFeedback(42, "up"), "action=feedback&e=42&v=up"),
    (AnswerFeedback(7, "down"), "action=feedback&e=7&v=down"),
    # hearings/cards.py: f"action=rsvp&h={hearing.id}&a={value}"
    (RsvpChoice(3, "going"), "action=rsvp&h=3&a=going"),
    (RsvpChoice(3, "not_going"), "action=rsvp&h=3&a=not_going"),
    (RsvpChoice(12, "maybe"), "action=rsvp&h=12&a=maybe"),
    # residents/cases.py: f"action={ACTION}&ref={case.reference}"; content: action=cases
    (ShowCases(), "action=cases"),
    (ShowCases("ร-2569-00001"), "action=cases&ref=ร-2569-00001"),
    (ShowCases("ค-2569-00012"), "action=cases&ref=ค-2569-00012"),
    # residents/mydata.py: f"action={ACTION}&do={what}", ...&do=withdraw_one&ref=..., ...&do=withdraw_confirmed&ref=...
    *((MyDataRequest(do), f"action=md&do={do.value}") for do in MyDataDo),
    (MyDataRequest(MyDataDo.WITHDRAW_ONE, "ค-2569-00001"), "action=md&do=withdraw_one&ref=ค-2569-00001"),
    (MyDataRequest(MyDataDo.WITHDRAW_CONFIRMED, "ค-2569-00001"), "action=md&do=withdraw_confirmed&ref=ค-2569-00001"),
    # chat/participation.py (both flows): f"action={action}&do=accept" / decline / done, &do=village&n={no}
    *(
        (flow(do), f"action={action}&do={do.value}")
        for flow, action in ((OpinionAnswer, "op"), (ReportAnswer, "rp"))
        for do in (FlowDo.ACCEPT, FlowDo.DECLINE, FlowDo.DONE, FlowDo.CONFIRM, FlowDo.EDIT)
    ),
    (OpinionAnswer(FlowDo.VILLAGE, village=4), "action=op&do=village&n=4"),
    (OpinionAnswer(FlowDo.VILLAGE, village=0), "action=op&do=village&n=0"),
    (ReportAnswer(FlowDo.VILLAGE, village=12), "action=rp&do=village&n=12"),
    # opinions/chat.py: &do=general, &do=consultation&id={c.id}, &do=all_categories, &do=category&id={category_id}
    (OpinionAnswer(FlowDo.GENERAL), "action=op&do=general"),
    (OpinionAnswer(FlowDo.CONSULTATION, "budget_2571"), "action=op&do=consultation&id=budget_2571"),
    (OpinionAnswer(FlowDo.ALL_CATEGORIES), "action=op&do=all_categories"),
    (OpinionAnswer(FlowDo.CATEGORY, "physical"), "action=op&do=category&id=physical"),
    # reports/chat.py: &do=type&id={t.id}, &do=skip
    (ReportAnswer(FlowDo.TYPE, "street_light"), "action=rp&do=type&id=street_light"),
    (ReportAnswer(FlowDo.SKIP), "action=rp&do=skip"),
    # reports/rules.py: f"action=rpr&ref={report.reference}&v={n}", f"action=rpr&ref={report.reference}&do=reopen"
    *((ReportRating("ร-2569-00001", stars=n), f"action=rpr&ref=ร-2569-00001&v={n}") for n in RATINGS),
    (ReportRating("ร-2569-00001", do=RatingDo.REOPEN), "action=rpr&ref=ร-2569-00001&do=reopen"),
    # services/cards.py offer(): the flow offered under a reply, keeping the message of event e (new: no old string)
    (ReportFromMessage(81, "nuisance"), "action=rp.msg&e=81&t=nuisance"),
    (ReportFromMessage(81), "action=rp.msg&e=81"),
    (OpinionFromMessage(82), "action=op.msg&e=82"),
]


@pytest.mark.parametrize(("tap", "old"), PACKED, ids=[old for _, old in PACKED])
def test_each_tap_packs_to_the_string_the_bot_built_before(tap: Postback, old: str) -> None:
    assert tap.pack() == old


@pytest.mark.parametrize(("tap", "old"), PACKED, ids=[old for _, old in PACKED])
def test_each_tap_reads_back_what_it_packed(tap: Postback, old: str) -> None:
    assert type(tap).parse(old) == tap
    assert parse_postback(old) == tap
    assert parse_postback(tap.pack()) == tap


def test_every_action_is_compared_with_its_old_string() -> None:
    assert {type(tap).action for tap, _ in PACKED} == set(known_actions())


def test_values_a_tap_may_carry_match_what_the_handlers_accept() -> None:
    assert set(RSVP_ANSWERS) == set(RsvpAnswer)
    assert {RsvpChoice.parse(f"action=rsvp&h=1&a={a}") for a in RsvpAnswer} == {RsvpChoice(1, a) for a in RsvpAnswer}


def test_taps_sent_percent_encoded_read_the_same() -> None:
    """An older build wrote typed answers back with urlencode: a reference's Thai letter as %E0%B8%84."""
    encoded = "action=md&do=withdraw_confirmed&ref=%E0%B8%84-2569-00001"
    assert parse_postback(encoded) == MyDataRequest(MyDataDo.WITHDRAW_CONFIRMED, "ค-2569-00001")


@pytest.mark.parametrize(
    "data",
    [
        "",
        "garbage",
        "%zz",
        "action=",
        "action=nope",
        "action=menu.nope",
        "do=accept",
        "action=svc",  # no service
        "action=feedback&e=x&v=up",
        "action=feedback&e=1&v=sideways",
        "action=feedback&v=up",
        "action=rsvp",
        "action=rsvp&h=&a=going",
        "action=rsvp&h=1&a=yes",
        "action=rsvp&h=-1&a=going",
        "action=rsvp&h=๓&a=going",
        "action=md",
        "action=md&do=explode",
        "action=op",
        "action=op&do=skipper",
        "action=op&do=village&n=abc",
        "action=rp&do=village&n=1.5",
        "action=rpr&v=5",  # no reference
        "action=rpr&ref=ร-2569-00001&v=five",
        "action=rpr&ref=ร-2569-00001&do=close",
        "action=svc&id=x&action=rp",  # the last action counts, and it is missing its fields
        "&".join(f"k{n}=v" for n in range(30)) + "&action=menu.report",  # more fields than any action has
        "action=feedback&e=" + "9" * 5000 + "&v=up",
    ],
)
def test_malformed_data_reads_as_nothing(data: str) -> None:
    assert parse_postback(data) is None
    for kind in (ServiceChoice, AnswerFeedback, RsvpChoice, MyDataRequest, OpinionAnswer, ReportAnswer, ReportRating):
        assert kind.parse(data) is None


def test_a_tap_of_one_action_is_not_read_as_another() -> None:
    assert ReportAnswer.parse("action=op&do=confirm") is None
    assert OpinionAnswer.parse("action=rp&do=confirm") is None
    assert ServiceChoice.parse("action=menu.services") is None
    assert MenuReport.parse("action=menu.opinion") is None
    assert MenuReport.parse("action=menu.report&extra=1") == MenuReport()  # unknown fields are ignored, as before


def test_routers_match_on_the_classes() -> None:
    router = Router("sample")

    @router.on_postback(ServiceChoice, MenuServices)
    async def handler(turn: object) -> None: ...

    assert set(router.postbacks) == {"svc", "menu.services"}
    with pytest.raises(ValueError, match="one action"):
        router.on_postback(FlowAnswer)  # the base of the two flows' taps is no action of its own


def test_fields_of_never_raises() -> None:
    assert fields_of("&".join(["a=1"] * 50)) == {}
    assert fields_of("action=svc&id=x") == {"action": "svc", "id": "x"}


# -- no postback data is written by hand outside bot/chat/postbacks.py -----------------------------------------


def _documentation(tree: ast.AST) -> set[int]:
    """The string statements (docstrings, and notes written as strings): they may quote the data."""
    return {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
    }


def _hand_built(source: str) -> list[tuple[int, str]]:
    """(line, text) of each string in the code, f-strings' text parts included, that writes 'action='."""
    tree = ast.parse(source)
    docs = _documentation(tree)
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs
        if HAND_BUILT.search(node.value)
    ]


def test_no_postback_data_is_built_by_hand() -> None:
    """Every 'action=...' the bot sends is a class's pack(); docstrings may still quote the data."""
    leftovers = [
        f"{path.relative_to(ROOT)}:{line}: {text!r}"
        for path in sorted(BOT.rglob("*.py"))
        if path.name != "postbacks.py"
        for line, text in _hand_built(path.read_text("utf-8"))
    ]
    assert not leftovers, "\n".join(leftovers)


def test_the_check_finds_data_built_by_hand() -> None:
    source = '"""Taps carry action=x."""\nA = f"action=svc&id={1}"\nB = "action=menu.report"\nC = "transaction=1"\n'
    assert sorted(line for line, _ in _hand_built(source)) == [2, 3]


def test_handlers_read_taps_through_their_classes() -> None:
    """Handlers take the typed tap (turn.tapped(Kind)), not the raw data's fields by name."""
    leftovers = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in sorted((BOT / "handlers").rglob("*.py"))
        for number, line in enumerate(path.read_text("utf-8").splitlines(), 1)
        if ".postback.get(" in line or ".postback[" in line
    ]
    assert not leftovers, "\n".join(leftovers)


# -- content's postbacks -------------------------------------------------------------------------------------


def test_every_postback_in_content_is_read_by_a_class() -> None:
    content = load_content(ROOT / "content")
    with_data = [option for option in content.quick_replies.values() if option.postback]
    assert with_data
    for option in with_data:
        assert option.postback is not None
        tap = parse_postback(option.postback)
        assert tap is not None, option.id
        assert tap.pack() == option.postback, option.id


def test_content_check_refuses_a_postback_no_class_reads(tmp_path: Path) -> None:
    target = tmp_path / "content"
    shutil.copytree(ROOT / "content", target)
    path = target / "responses.yaml"
    text = path.read_text("utf-8")
    assert "postback: action=menu.report\n" in text
    path.write_text(text.replace("postback: action=menu.report\n", "postback: action=menu.reprot\n", 1), "utf-8")
    content, errors = check_content(target)
    assert content is None
    line = next(i for i, row in enumerate(path.read_text("utf-8").splitlines(), 1) if "action=menu.reprot" in row)
    assert any(e.startswith(f"{path}:{line}:") and "action=menu.reprot" in e for e in errors), errors
