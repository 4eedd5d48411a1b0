"""``grader export OUT``: a batch's grades into the LMS's own upload files.

* ``--moodle WORKSHEET.csv``: the assignment's offline grading worksheet (``Identifier`` such as
  "Participant 1001", ``Grade``, ``Maximum Grade``, ``Feedback comments``), filled by participant
  id into ``OUT/exports/moodle_grading_worksheet.csv``.
* ``--canvas GRADEBOOK.csv``: the assignment's column of a Canvas gradebook export, filled by user
  id (column ``ID``) into ``OUT/exports/canvas_gradebook.csv``.

The output keeps the input's columns, order, encoding (a BOM stays), delimiter, quoting and line
ends; rows of students without a report are kept unchanged. Grades are scaled to the LMS's
maximum. Every student not matched either way is listed in :class:`Export`.
"""

from __future__ import annotations

import csv
import html
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from grader.batch.gradebook import NOT_AN_ITEM, format_points, load_reports
from grader.batch.output import OutputFolder
from grader.report.model import Report
from grader.text_safety import Verbatim, csv_text, one_line

EXPORTS = "exports"
MOODLE_OUT = "moodle_grading_worksheet.csv"
CANVAS_OUT = "canvas_gradebook.csv"
BOM = b"\xef\xbb\xbf"
MOODLE_COLUMNS = ("Identifier", "Grade", "Maximum Grade", "Feedback comments")
CANVAS_FIXED = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
# Canvas columns that are totals, not assignments: never a target.
CANVAS_TOTALS = re.compile(r".*\b(Current|Final) (Score|Points|Grade)|Override (Score|Grade)")
FAILED_ITEMS_SHOWN = 3


class ExportError(Exception):
    """The LMS file cannot be filled; nothing was written."""


@dataclass
class Export:
    """What one export wrote, and every student it could not match."""

    path: Path  # the LMS file read; once written, the file written
    filled: int = 0
    not_in_lms: list[str] = field(default_factory=list)  # graded, but no row in the LMS file
    no_report: list[str] = field(default_factory=list)  # a row in the LMS file, nothing graded
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CsvFormat:
    """How the LMS wrote its file, to write ours the same way."""

    bom: bool
    delimiter: str
    quoting: int
    newline: str


# -- reading and writing the LMS's CSV -----------------------------------------------------------


def read_lms_csv(path: Path, what: str) -> tuple[list[list[str]], CsvFormat]:
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise ExportError(f"cannot read the {what} {path}: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ExportError(f"the {what} {path} is not UTF-8: download it again from the LMS") from None
    first = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count)
    quoting = csv.QUOTE_ALL if first.startswith('"') else csv.QUOTE_MINIMAL
    newline = "\r\n" if "\r\n" in text else "\n"
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows = [[Verbatim(cell) for cell in row] for row in reader if row]
    if not rows:
        raise ExportError(f"the {what} {path} is empty")
    return rows, CsvFormat(raw.startswith(BOM), delimiter, quoting, newline)


def write_lms_csv(rows: list[list[str]], form: CsvFormat) -> bytes:
    """The cells read from the LMS file (:class:`Verbatim`) as they were; the grader's own made safe."""
    text = csv_text(rows, delimiter=form.delimiter, quoting=form.quoting, newline=form.newline)
    return (BOM if form.bom else b"") + text.encode("utf-8")


def _columns(header: list[str], wanted: tuple[str, ...], what: str, path: Path) -> dict[str, int]:
    missing = [name for name in wanted if name not in header]
    if missing:
        raise ExportError(
            f"{path} is not a {what}: no column {', '.join(repr(m) for m in missing)} "
            f"(its columns: {', '.join(header[:8])})"
        )
    return {name: header.index(name) for name in wanted}


# -- the grade and the comment -------------------------------------------------------------------


def scaled_grade(report: Report, maximum: str) -> str:
    """The report's total on the LMS's scale (``maximum``: its maximum grade; empty: points as graded)."""
    try:
        lms_max = float(maximum)
    except ValueError:
        return format_points(report.score)
    return f"{report.score / report.max_score * lms_max:.2f}" if report.max_score > 0 else "0.00"


def feedback_comment(student: str, report: Report) -> str:
    """A short summary for the student, and where the full report is: plain text, HTML escaped.

    Moodle shows feedback comments as HTML: a tag in an error message must stay text.
    """
    return html.escape(one_line(_comment(student, report)), quote=False)


def _comment(student: str, report: Report) -> str:
    where = f"Full report: reports/{student}.md"
    if report.status != "graded":
        reason = one_line(report.load_error or report.wrong_assignment or report.status, 200)
        return f"Your submission could not be graded: {reason} {where}"
    autos = [item for item in report.items if item.kind == "auto" and item.id != NOT_AN_ITEM]
    missed = [item.id for item in autos if item.status != "passed"]
    text = (
        f"Autograder: {format_points(report.score)} of {format_points(report.max_score)} points; "
        f"{len(autos) - len(missed)} of {len(autos)} automatic checks passed."
    )
    if missed:
        more = ", ..." if len(missed) > FAILED_ITEMS_SHOWN else ""
        text += f" To revisit: {', '.join(missed[:FAILED_ITEMS_SHOWN])}{more}."
    if report.manual_pending > 0:
        text += f" {format_points(report.manual_pending)} points of written answers are still to be graded."
    return f"{text} {where}"


# -- Moodle --------------------------------------------------------------------------------------


def fill_moodle(
    rows: list[list[str]], reports: dict[str, Report], path: Path
) -> tuple[list[list[str]], Export]:
    """The worksheet's rows with Grade and Feedback comments filled for every graded participant."""
    header, body = rows[0], [list(row) for row in rows[1:]]
    at = _columns(header, MOODLE_COLUMNS, "Moodle grading worksheet", path)
    export, seen = Export(path), set()
    for row in body:
        row += [""] * (len(header) - len(row))
        match = re.fullmatch(r"\s*Participant\s+(\d+)\s*", row[at["Identifier"]])
        student = match[1] if match else ""
        if student not in reports:
            export.no_report.append(row[at["Identifier"]])
            continue
        seen.add(student)
        report = reports[student]
        row[at["Grade"]] = scaled_grade(report, row[at["Maximum Grade"]])
        row[at["Feedback comments"]] = feedback_comment(student, report)
        export.filled += 1
    export.not_in_lms = sorted(set(reports) - seen)
    return [header, *body], export


# -- Canvas --------------------------------------------------------------------------------------


def canvas_column(header: list[str], wanted: str, rubric: str) -> int:
    """The assignment's column: ``wanted`` (with or without its "(id)"), or the one named like the rubric."""
    candidates = [
        i for i, name in enumerate(header) if name not in CANVAS_FIXED and not CANVAS_TOTALS.fullmatch(name)
    ]
    if wanted:
        found = [i for i in candidates if wanted in (header[i], _without_id(header[i]))]
    else:
        found = [i for i in candidates if _key(_without_id(header[i])) == _key(rubric)]
    if len(found) == 1:
        return found[0]
    names = ", ".join(repr(header[i]) for i in candidates) or "none"
    if wanted:
        raise ExportError(
            f"no assignment column {wanted!r} in the Canvas gradebook (its assignments: {names})"
        )
    raise ExportError(
        f"no assignment column named like the rubric {rubric!r} in the Canvas gradebook: "
        f"choose one with --canvas-column (its assignments: {names})"
    )


def _without_id(name: str) -> str:
    return re.sub(r"\s*\(\d+\)\s*$", "", name)


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def fill_canvas(
    rows: list[list[str]], reports: dict[str, Report], path: Path, column: str, rubric: str
) -> tuple[list[list[str]], Export]:
    """The gradebook's rows with the assignment's column filled for every graded user id."""
    header, body = rows[0], [list(row) for row in rows[1:]]
    at = _columns(header, ("Student", "ID"), "Canvas gradebook export", path)
    target = canvas_column(header, column, rubric)
    export, seen = Export(path), set()
    # Canvas's second row holds the points possible: grades are scaled to them.
    possible = next((row[target] for row in body if row[at["Student"]].strip() == "Points Possible"), "")
    export.notes.append(
        f"filled the column {header[target]!r}" + (f" (out of {possible})" if possible else "")
    )
    for row in body:
        row += [""] * (len(header) - len(row))
        student = row[at["ID"]].strip()
        if not student.isdigit():  # Points Possible, muted-assignment and other non-student rows
            continue
        if student not in reports:
            export.no_report.append(f"{row[at['Student']]} ({student})")
            continue
        seen.add(student)
        row[target] = scaled_grade(reports[student], possible)
        export.filled += 1
    export.not_in_lms = sorted(set(reports) - seen)
    export.notes.append("Canvas imports no comments from a gradebook CSV: the reports are in OUT/reports/")
    return [header, *body], export


# -- the command ---------------------------------------------------------------------------------


def export_grades(
    out: Path, moodle: Path | None = None, canvas: Path | None = None, canvas_col: str = ""
) -> list[Export]:
    """Fill each LMS file given and write it to OUT/exports/; nothing is written if one cannot be filled."""
    out = Path(out)
    folder = OutputFolder(out)
    if not folder.report_paths():
        raise ExportError(f"no reports in {out / 'reports'}: run grader batch with --out {out} first")
    if moodle is None and canvas is None:
        raise ExportError("nothing to export: pass --moodle WORKSHEET.csv and/or --canvas GRADEBOOK.csv")
    classes = load_reports(out)
    results: list[tuple[str, list[list[str]], CsvFormat, Export]] = []
    if moodle is not None:
        rows, form = read_lms_csv(moodle, "Moodle grading worksheet")
        filled, export = fill_moodle(rows, classes.reports, moodle)
        results.append((MOODLE_OUT, filled, form, export))
    if canvas is not None:
        rows, form = read_lms_csv(canvas, "Canvas gradebook export")
        filled, export = fill_canvas(rows, classes.reports, canvas, canvas_col, classes.assignment)
        results.append((CANVAS_OUT, filled, form, export))
    for name, _rows, _form, export in results:
        if export.filled == 0:
            raise ExportError(
                f"no student of {out} is in the LMS file for {name}: were they graded from this "
                f"LMS's download (ids such as {', '.join(sorted(classes.reports)[:3])})?"
            )
    for name, filled, form, export in results:
        export.path = folder.write(f"{EXPORTS}/{name}", write_lms_csv(filled, form))
    return [export for *_, export in results]
