"""``grader merge-manual OUT scores.csv``: merge the instructor's scores of written answers into the reports.

Every row is validated before anything is written (unknown student or item, an automatic
item, points outside the item's range, duplicates: each reported with its line), and one bad
row means nothing is merged. The reports (JSON, Markdown, Gradescope) are re-rendered and the
gradebook rebuilt (:mod:`grader.batch.gradebook`).
"""

from __future__ import annotations

import csv
import difflib
import io
import math
from dataclasses import dataclass
from pathlib import Path

from grader.batch.gradebook import MANUAL_COLUMNS, NOT_AN_ITEM, format_points, load_reports, rebuild
from grader.batch.output import OutputFolder
from grader.report.model import Report
from grader.report.writer import write_report


class MergeError(Exception):
    """The manual scores cannot be merged; the message lists every problem. Nothing was written."""


@dataclass(frozen=True)
class ManualScore:
    line: int
    student: str
    item: str
    points: float
    comment: str


@dataclass(frozen=True)
class MergeResult:
    merged: int
    students: int
    left_empty: int  # template rows without points: still pending
    files: dict[str, Path]


def merge_manual(out: Path, csv_path: Path) -> MergeResult:
    """Merge instructor scores into the reports (JSON, Markdown, Gradescope) and rebuild the gradebook.

    Every row is validated before anything is written; one bad row means nothing is merged.
    """
    out, csv_path = Path(out), Path(csv_path)
    folder = OutputFolder(out)
    if not folder.has_reports_folder():
        raise MergeError(f"no reports in {out}: run grader batch with --out {out} first")
    with folder.lock():
        classes = load_reports(out)
        if not classes.reports:
            raise MergeError(f"no reports in {out / 'reports'}: run grader batch with --out {out} first")
        scores, left_empty = read_manual_scores(csv_path, classes.reports)
        changed = apply_manual_scores(classes.reports, scores)
        for student in changed:
            rewrite_report(folder, student, classes.reports[student])
        files = rebuild(out)
    return MergeResult(len(scores), len(changed), left_empty, files)


def read_manual_scores(csv_path: Path, reports: dict[str, Report]) -> tuple[list[ManualScore], int]:
    """(valid rows, rows left empty) of ``csv_path``; a MergeError lists every problem."""
    return validate_manual_rows(_read_rows(csv_path), reports, csv_path.name)


def validate_manual_rows(
    rows: list[tuple[int, dict[str, str]]], reports: dict[str, Report], source: str
) -> tuple[list[ManualScore], int]:
    """(valid rows, rows left empty) of ``(line, {student, item, points, comment})`` rows from ``source``.

    The one validation of instructor scores: merge-manual's CSV and grader review's database both use it.
    """
    problems = []
    scores, seen, left_empty = [], {}, 0
    for line, row in rows:
        student, item_id = row.get("student", "").strip(), row.get("item", "").strip()
        points_text, comment = row.get("points", "").strip(), (row.get("comment") or "").strip()
        where = f"line {line}: student '{student}', item '{item_id}'"
        if not points_text and not comment and student and item_id:
            left_empty += 1  # a template row not graded yet
            continue
        problem = _row_problem(line, student, item_id, reports)
        if problem:
            problems.append(problem)
            continue
        item = reports[student].item(item_id)
        allowed = f"allowed: 0 to {format_points(item.max_score)}"
        points = _parse_points(points_text)
        if not points_text:
            problems.append(f"{where}: points missing ({allowed})")
        elif points is None:
            problems.append(f"{where}: points '{points_text}' is not a number ({allowed})")
        elif not 0 <= points <= item.max_score:
            problems.append(f"{where}: {points_text} points is outside the allowed range ({allowed})")
        elif (student, item_id) in seen:
            problems.append(f"{where}: a second score (the first is on line {seen[student, item_id]})")
        else:
            seen[student, item_id] = line
            scores.append(ManualScore(line, student, item_id, points, comment))
    if problems:
        count = f"{len(problems)} problem{'s' if len(problems) > 1 else ''}"
        raise MergeError(f"{source}: {count}, nothing was merged:\n  " + "\n  ".join(problems))
    return scores, left_empty


def _read_rows(csv_path: Path) -> list[tuple[int, dict[str, str]]]:
    try:
        text = csv_path.read_text(encoding="utf-8-sig")  # Excel writes a byte-order mark
    except FileNotFoundError:
        raise MergeError(f"manual scores file not found: {csv_path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise MergeError(f"{csv_path.name} cannot be read as UTF-8 text ({exc})") from None
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip().lower() for name in reader.fieldnames or []]
    missing = [name for name in MANUAL_COLUMNS[:3] if name not in header]
    if missing:
        semicolons = " (it seems to use ';': save it with commas)" if header and ";" in header[0] else ""
        raise MergeError(
            f"{csv_path.name}, line 1: missing column '{missing[0]}'{semicolons}; "
            f"the header must be: {','.join(MANUAL_COLUMNS)}"
        )
    reader.fieldnames = header
    rows = []
    for row in reader:
        if any((value or "").strip() for key, value in row.items() if key is not None):
            rows.append((reader.line_num, {k: v or "" for k, v in row.items() if k is not None}))
    if not rows:
        raise MergeError(f"{csv_path.name} has no scores (only a header)")
    return rows


def _row_problem(line: int, student: str, item_id: str, reports: dict[str, Report]) -> str:
    if not student or not item_id:
        return f"line {line}: the student and item columns must not be empty"
    if student not in reports:
        close = difflib.get_close_matches(student, list(reports), n=1)
        hint = f"; did you mean '{close[0]}'?" if close else f" ({len(reports)} students have reports)"
        return f"line {line}: unknown student '{student}': no report reports/{student}.json{hint}"
    manual = [i.id for i in reports[student].items if i.kind == "manual" and i.id != NOT_AN_ITEM]
    ids = {i.id: i for i in reports[student].items}
    listing = ", ".join(manual) if manual else "none"
    if item_id not in ids:
        return f"line {line}: student '{student}': unknown item '{item_id}' (manual items: {listing})"
    if item_id not in manual:
        return (
            f"line {line}: student '{student}': item '{item_id}' is graded automatically; "
            f"only manual items take instructor scores ({listing})"
        )
    return ""


def _parse_points(text: str) -> float | None:
    try:
        value = float(text.replace(",", "."))  # a decimal comma from a spreadsheet
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def apply_manual_scores(reports: dict[str, Report], scores: list[ManualScore]) -> list[str]:
    """Set each score on its item and recompute the totals; returns the students changed."""
    changed: dict[str, None] = {}
    for score in scores:
        report = reports[score.student]
        item = report.item(score.item)
        item.score = round(score.points, 4)
        full, some = score.points >= item.max_score, score.points > 0
        item.status = "passed" if full else "partial" if some else "failed"
        item.comment = score.comment
        item.feedback = (
            f"graded by your instructor: {format_points(score.points)} / {format_points(item.max_score)}."
        )
        report.recompute_totals()
        changed[score.student] = None
    return list(changed)


def rewrite_report(folder: OutputFolder, student: str, report: Report) -> None:
    """Re-render the formats this student already has (JSON last, each file atomic)."""
    layout = folder.layout
    formats = [fmt for fmt in ("md", "html", "gradescope") if layout.path(student, fmt).exists()] + ["json"]
    write_report(report, layout, student, formats)
