"""The response ids the code says are declared (bot/content/ids.py), today's content has every one of them,
and content that lacks one, or a parameter of one, is refused by `content check` and by the server's start."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest

from bot.chat import participation
from bot.content import ContentError, check_content, ids, load_content
from bot.content import services as service_files
from bot.db.codes import RsvpAnswer
from bot.db.statuses import OpinionStatus
from bot.handlers.opinions import rules as opinions
from bot.handlers.opinions.chat import OPINION
from bot.handlers.reports.chat import REPORT
from bot.handlers.services import cards, referrals
from bot.handlers.services.office import OfficeTopic
from tests.response_usage import Use, scan
from tests.serving import cli_env, run_cli

ROOT = Path(__file__).resolve().parent.parent
USES, MENTIONS = scan(ROOT / "bot")
DECLARED: dict[str, Mapping[str, frozenset[str]]] = {
    "message": ids.MESSAGES,
    "phrase": ids.PHRASES,
    "chip": {chip: frozenset() for chip in ids.CHIPS},
}
FAMILY_GLOBS = {pattern.replace("{}", "*"): pattern for pattern in ids.FAMILIES}


def _ids_made_by(use: Use) -> list[str]:
    """The declared ids an f-string makes: those of the family declared with the same shape."""
    assert use.pattern is not None
    pattern = FAMILY_GLOBS.get(use.pattern)
    if pattern is None:
        return []
    return [pattern.format(value) for value in ids.FAMILIES[pattern]]


def test_the_scan_finds_the_code_saying_things() -> None:
    """Guards the test below against a scanner that silently finds nothing."""
    said = {(u.kind, u.literal) for u in USES}
    assert {("message", "welcome"), ("phrase", "hearing_when"), ("phrase", "chip_reopen")} <= said
    assert any(u.pattern == "rsvp_saved_*" for u in USES)
    assert len(USES) > 150


def test_every_id_the_code_uses_is_declared() -> None:
    problems = []
    for use in USES:
        if use.literal is not None:
            if use.literal not in DECLARED[use.kind]:
                problems.append(f"{use.where}: {use.kind} '{use.literal}' is not declared in bot/content/ids.py")
            continue
        assert use.pattern is not None
        if use.pattern.startswith(ids.OPTIONAL_PHRASE_PREFIX):
            continue  # typed synonyms: read when the content has them
        made = _ids_made_by(use)
        if not made:
            problems.append(
                f"{use.where}: the {use.kind} ids of f-string '{use.pattern}' are not declared: add "
                f"each('{use.pattern.replace('*', '{}')}', VALUES, ...) to bot/content/ids.py"
            )
        problems += [
            f"{use.where}: {use.kind} '{i}' ({use.pattern}) is not declared"
            for i in made
            if i not in DECLARED[use.kind]
        ]
    assert not problems, "\n".join(problems)


def test_every_call_gives_the_declared_params() -> None:
    """What a call passes is what ids.py declares: no more (a message could never show it), no less (the
    content may use it, and the bot would fail saying that message)."""
    problems = []
    for use in USES:
        if use.params is None or use.kind == "chip":
            continue  # **mapping: not readable here
        made = [use.literal] if use.literal is not None else _ids_made_by(use)
        for rid in made:
            declared = DECLARED[use.kind].get(rid)
            if declared is not None and declared != use.params:
                problems.append(
                    f"{use.where}: {use.kind} '{rid}' is given {sorted(use.params)}; "
                    f"bot/content/ids.py declares {sorted(declared)}"
                )
    assert not problems, "\n".join(problems)


def test_ids_kept_in_tables_and_said_later_are_declared() -> None:
    """An id of today's responses.yaml written anywhere in bot/ (a table like COMMAND_RESPONSES, an id a
    helper returns) is said somewhere: it is declared too. Chip ids are left out: they share their names
    with intents ('report', 'opinion')."""
    content = load_content(ROOT / "content")
    known = set(content.responses) | set(content.phrases)
    declared = set(ids.MESSAGES) | set(ids.PHRASES)
    problems = [
        f"{m.where}: '{m.text}' of responses.yaml is named here but not declared in bot/content/ids.py"
        for m in MENTIONS
        if m.text in known and m.text not in declared
    ]
    assert not problems, "\n".join(problems)


def test_the_values_ids_are_built_from_are_the_codes_own() -> None:
    assert (OPINION.kind, REPORT.kind) == tuple(participation.DECLINED) == ids.FLOW_KINDS
    assert tuple(RsvpAnswer) == ids.RSVP_ANSWERS
    assert tuple(opinions.OUTCOMES) == ids.OPINION_OUTCOMES
    assert tuple(OpinionStatus) == ids.OPINION_STATUSES
    assert ids.DAY_KINDS == service_files.DAY_KINDS
    assert tuple(c for c in service_files.CERTAINTIES if c != "seen") == ids.NOTED_CERTAINTIES
    assert ids.ASPECT_CHIPS == cards.ASPECT_CHIPS
    assert {f"answer_{s}" for s in ids.ANSWER_SECTIONS} == set(cards.ASPECT_SECTIONS.values())
    assert set(ids.OFFICE_TOPICS) == {t.value for t in OfficeTopic} - {OfficeTopic.OPEN_DAY.value}
    assert {cards.FAQ_MENU_CHIP, referrals.REPORT_CHIP} <= ids.CHIPS


def test_every_declared_id_is_in_todays_content_with_its_params() -> None:
    content = load_content(ROOT / "content")
    for rid, params in ids.MESSAGES.items():
        assert rid in content.responses, rid
        assert set(content.responses[rid].params) == params, rid
    assert set(ids.PHRASES) <= set(content.phrases), set(ids.PHRASES) - set(content.phrases)
    assert set(content.quick_replies) >= ids.CHIPS


def _delete_entry(file: Path, key: str) -> None:
    """Remove `  key:` and the lines indented under it from a responses.yaml."""
    lines = file.read_text("utf-8").splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.rstrip() == f"  {key}:")
    end = start + 1
    while end < len(lines) and (lines[end].startswith("    ") or not lines[end].strip()):
        end += 1
    file.write_text("".join(lines[:start] + lines[end:]), "utf-8")


def _line_of(file: Path, needle: str) -> int:
    return next(i for i, line in enumerate(file.read_text("utf-8").splitlines(), 1) if needle in line)


def test_deleting_welcome_fails_the_check_naming_the_file(content_copy: Path, tmp_path: Path) -> None:
    file = content_copy / "responses.yaml"
    _delete_entry(file, "welcome")
    content, errors = check_content(content_copy)
    assert content is None
    assert f"{file}: missing message 'welcome'" in errors
    with pytest.raises(ContentError, match="missing message 'welcome'"):
        load_content(content_copy)
    checked = run_cli(cli_env(tmp_path / "var", HOME=str(tmp_path)), "content", "check", "--dir", str(content_copy))
    assert checked.returncode == 1
    assert f"{file}: missing message 'welcome'" in checked.stdout


def test_the_server_refuses_to_start_without_welcome(content_copy: Path, tmp_path: Path) -> None:
    file = content_copy / "responses.yaml"
    _delete_entry(file, "welcome")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = cli_env(tmp_path / "var", HOME=str(tmp_path), CONTENT_DIR=str(content_copy), PORT=str(port))
    started = subprocess.run(
        [sys.executable, "-m", "bot", "serve"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert started.returncode == 1, started.stderr
    assert "content/ has errors" in started.stderr
    assert f"{file}: missing message 'welcome'" in started.stderr


def test_a_missing_phrase_or_chip_is_named(content_copy: Path) -> None:
    file = content_copy / "responses.yaml"
    _delete_entry(file, "back_to_menu")
    text = file.read_text("utf-8")
    file.write_text("\n".join(line for line in text.splitlines() if not line.startswith("  hearing_map:")), "utf-8")
    _, errors = check_content(content_copy)
    assert f"{file}: missing phrase 'hearing_map'" in errors
    assert f"{file}: missing chip 'back_to_menu'" in errors


def test_a_message_lacking_a_declared_param_is_refused_on_its_line(content_copy: Path) -> None:
    file = content_copy / "responses.yaml"
    lines = file.read_text("utf-8").splitlines(keepends=True)
    at = lines.index("  report_saved:\n") + 1
    assert lines[at].strip().startswith("params:"), lines[at]
    lines[at] = "    params: [reference, case]\n"
    file.write_text("".join(lines), "utf-8")
    _, errors = check_content(content_copy)
    line = _line_of(file, "params: [reference, case]")
    assert f"{file}:{line}: message 'report_saved' lacks the param 'office' the code gives; add it to its params" in (
        errors
    ), errors
    assert any(e.startswith(f"{file}:{line}: message 'report_saved' has the param 'case'") for e in errors), errors


def test_a_declared_phrase_may_use_only_what_the_code_gives(content_copy: Path) -> None:
    file = content_copy / "responses.yaml"
    text = file.read_text("utf-8")
    old = 'hearing_place: "สถานที่: {place}"'
    assert old in text
    file.write_text(text.replace(old, 'hearing_place: "สถานที่: {place} ({title})"'), "utf-8")
    _, errors = check_content(content_copy)
    line = _line_of(file, "hearing_place:")
    assert any(
        e.startswith(f"{file}:{line}: unknown placeholder {{title}}; phrase 'hearing_place' can use") for e in errors
    ), errors
