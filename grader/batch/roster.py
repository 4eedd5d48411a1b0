"""``OUT/roster.csv``: what discovery learnt about each student beyond the file (LMS name, lateness,
the file chosen among several). Written by the batch, read back when the gradebook is rebuilt.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from pathlib import Path

from grader.batch.discovery import Entry

ROSTER = "roster.csv"
COLUMNS = ("full_name", "late", "file")  # gradebook columns, shown when some student has a value


def roster_csv(entries: Iterable[Entry], directory: Path) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(("student", *COLUMNS))
    for entry in entries:
        chosen = str(entry.path.relative_to(directory)) if entry.chosen and entry.path else ""
        writer.writerow((entry.student, entry.full_name, entry.late, chosen))
    return buffer.getvalue()


def read_roster(out: Path) -> dict[str, dict[str, str]]:
    """student -> {column: value}; empty when the batch wrote no roster (an older output folder)."""
    path = Path(out) / ROSTER
    if not path.is_file():
        return {}
    rows = csv.DictReader(io.StringIO(path.read_text(encoding="utf-8")))
    return {row["student"]: {column: row.get(column) or "" for column in COLUMNS} for row in rows}
