"""``OUT/roster.csv``: what discovery learnt about each student beyond the file (LMS name, lateness,
the file chosen among several, the id as found when it had to be made safe), and every other file
of the folder with why it was not graded. Written by the batch, read back when the gradebook is
rebuilt: so every file handed in is in ``gradebook.csv`` or ``roster.csv``.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from grader.batch.discovery import Discovery
from grader.text_safety import csv_text

ROSTER = "roster.csv"
COLUMNS = ("full_name", "late", "file", "original_id")  # gradebook columns, shown when some student has one
NOT_A_SUBMISSION = "not graded: not a .py or .ipynb file"
NOT_A_FILE = "not graded: not a regular file (a named pipe, socket or device)"


def roster_csv(found: Discovery, directory: Path) -> str:
    """One row per student, then one per file that is no submission (no student, its ``note``)."""
    rows: list[tuple[str, ...]] = [("student", *COLUMNS, "note")]
    for entry in found.entries:
        chosen = str(entry.path.relative_to(directory)) if entry.chosen and entry.path else ""
        rows.append((entry.student, entry.full_name, entry.late, chosen, entry.original, ""))
    rows += [("", "", "", name, "", NOT_A_SUBMISSION) for name in found.ignored]
    rows += [("", "", "", name, "", NOT_A_FILE) for name in found.special]
    return csv_text(rows)


def read_roster(out: Path) -> dict[str, dict[str, str]]:
    """student -> {column: value}; empty when the batch wrote no roster (an older output folder)."""
    path = Path(out) / ROSTER
    if not path.is_file():
        return {}
    # Bytes decoded, not read_text: its newline translation would turn a "\r" inside a cell into "\n".
    rows = csv.DictReader(io.StringIO(path.read_bytes().decode("utf-8", errors="replace"), newline=""))
    return {row["student"]: {c: row.get(c) or "" for c in COLUMNS} for row in rows if row.get("student")}
