"""Issue 16 item 15, the rest: hints that name a command (the server's start-up banner, the missing-database
help, `--help`, the staff page on content check) name the interpreter actually running, as a fresh shell can
type it: `.venv/bin/python -m bot ...` when the project's environment is under the current directory, `python3`
when that is the one running, else the interpreter's full path. A fresh Debian has no `python`."""

from __future__ import annotations

import argparse
import ast
import re
import shutil
import sys
from pathlib import Path

import pytest

from bot.ops import invocation
from tests.conftest import ROOT


# -- 8. hints name the interpreter that runs --------------------------------------------------------------------
def test_a_project_venv_under_the_directory_is_named_by_its_path(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    venv = tmp_path / ".venv"
    monkeypatch.setattr(sys, "prefix", str(venv))
    monkeypatch.setattr(sys, "executable", str(venv / "bin" / "python"))
    command = invocation.bot_command("staff add NAME --role admin", cwd=tmp_path)
    assert command == ".venv/bin/python -m bot staff add NAME --role admin"
    # From elsewhere the environment is named by its full path.
    elsewhere = tmp_path / "other"
    elsewhere.mkdir()
    assert invocation.bot_command("serve", cwd=elsewhere) == f"{venv}/bin/python -m bot serve"


def test_outside_a_venv_python3_is_named_when_it_is_the_one_running(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(sys, "prefix", sys.base_prefix)
    python3 = tmp_path / "bin" / "python3"
    python3.parent.mkdir()
    python3.write_text("")
    monkeypatch.setattr(sys, "executable", str(python3))
    monkeypatch.setattr(shutil, "which", lambda name: str(python3) if name == "python3" else None)
    assert invocation.bot_command("serve", cwd=tmp_path) == "python3 -m bot serve"
    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert invocation.bot_command("serve", cwd=tmp_path) == f"{python3} -m bot serve"


def _string_parts(tree: ast.AST) -> list[tuple[int, str]]:
    """Every string the code uses (not docstrings), with its line."""
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    ]


def test_no_hint_names_a_bare_python_command() -> None:
    problems = []
    for file in (ROOT / "bot").rglob("*.py"):
        for line, text in _string_parts(ast.parse(file.read_text(encoding="utf-8"))):
            if re.search(r"(?<![\w/.])python3? -m bot\b", text):
                problems.append(f"{file.relative_to(ROOT)}:{line}: {text!r}")
    for template in (ROOT / "bot" / "staff" / "templates").glob("*.html"):
        if "python -m bot" in template.read_text(encoding="utf-8"):
            problems.append(str(template.relative_to(ROOT)))
    assert not problems, problems


def test_the_missing_database_hint_names_the_running_interpreter(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.__main__ import _missing_database_help

    monkeypatch.setattr(invocation, "interpreter", lambda cwd=None: ".venv/bin/python")
    text = _missing_database_help(Path("/nowhere/bot.sqlite3"), argparse.Namespace(command="export"))
    assert "first starts: .venv/bin/python -m bot serve" in text
