"""How to run a command of this program, as the person reading a hint can type it.

`python -m bot ...` is wrong in the shell most people open next: a fresh Debian or Ubuntu has no `python`,
and the project usually lives in ./.venv (scripts/serve puts it there), which a new shell has not activated.
So hints name the interpreter actually running: `.venv/bin/python` when that environment is under the
current directory, `python3` when that is what PATH finds anyway, else the interpreter's full path.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from pathlib import Path


def interpreter(cwd: Path | None = None) -> str:
    """The interpreter to name in a hint, quoted for a POSIX shell."""
    executable = Path(sys.executable) if sys.executable else None
    if executable is None:
        return "python3"
    here = (cwd or Path.cwd()).absolute()
    if sys.prefix != sys.base_prefix:  # a virtual environment: a new shell has not activated it
        if Path(sys.prefix).absolute().is_relative_to(here):
            relative = os.path.relpath(executable.absolute(), here)
            return shlex.quote(relative if os.sep in relative else os.path.join(".", relative))
        return shlex.quote(str(executable.absolute()))
    found = shutil.which("python3")
    if found and _same_file(Path(found), executable):
        return "python3"
    return shlex.quote(str(executable.absolute()))


def bot_command(arguments: str, cwd: Path | None = None) -> str:
    """'.venv/bin/python -m bot staff add NAME --role admin' for arguments 'staff add NAME --role admin'."""
    return f"{interpreter(cwd)} -m bot {arguments}".rstrip()


def _same_file(one: Path, other: Path) -> bool:
    try:
        return one.resolve() == other.resolve() or os.path.samefile(one, other)
    except OSError:
        return False
