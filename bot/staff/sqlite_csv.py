"""CSV exports on SQLite, written by the standard sqlite3 module in child processes.

Why not the async driver: every row crossing aiosqlite's thread and SQLAlchemy's async layer cost about as
much as SQLite rendering it. Why processes and not threads: the sqlite3 module lets go of the GIL for every
row it steps, so a reading and a writing thread hand it back and forth and run slower than one (figures:
docs/decisions/sqlite-csv.md). So the ids are cut into contiguous ranges, one child process writes each
range's rows (read-only connection, the same rendered query), and the parts are joined in order.

`python -m bot.staff.sqlite_csv` is the child: a JSON job on stdin, the number of rows written on stdout.
"""

from __future__ import annotations

import csv
import json
import sqlite3
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

BATCH = 2000


def write_part(database: str, sql: str, params: list[Any], out: str) -> int:
    """Rows of sql (already rendered as text, neutralised) appended to out as quoted CSV; how many."""
    connection = sqlite3.connect(f"file:{quote(database)}?mode=ro", uri=True)
    count = 0
    try:
        with Path(out).open("a", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, quoting=csv.QUOTE_ALL)
            cursor = connection.execute(sql, params)
            while rows := cursor.fetchmany(BATCH):
                writer.writerows(rows)
                count += len(rows)
    finally:
        connection.close()
    return count


def main() -> None:
    job = json.load(sys.stdin)
    print(write_part(job["database"], job["sql"], job["params"], job["out"]))


if __name__ == "__main__":
    main()
