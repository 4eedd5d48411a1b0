"""A class's outputs, rebuilt from the JSON reports on disk (the source of truth).

* ``gradebook.csv``: one row per student; status, total, auto, manual_pending, integrity (the
  integrity scan's findings, short), the roster's columns
  (LMS name, lateness, chosen file: :mod:`grader.batch.roster`) when known, one column per item.
* ``summary.md``: totals and per-item statistics, the most common failure messages, the errors,
  the students the integrity scan flagged.
* ``summary.png``: a histogram of totals and the pass rate of each automatic item.
* ``manual_scores_template.csv``: the rows ``grader merge-manual`` expects, points left empty.

Because everything here is read back from ``OUT/reports/*.json``, an interrupted and
resumed batch gives the same gradebook as an uninterrupted one.
"""

from __future__ import annotations

import io
import json
import re
import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from grader.batch.output import OutputFolder
from grader.batch.roster import COLUMNS as ROSTER_COLUMNS
from grader.batch.roster import read_roster
from grader.batch.similarity import THRESHOLD as SIMILAR
from grader.batch.similarity import read_similar_pairs
from grader.report.class_page import INDEX_HTML, class_page
from grader.report.model import ItemResult, Report
from grader.text_safety import csv_text, markdown_text, one_line

GRADEBOOK = "gradebook.csv"
SUMMARY_MD = "summary.md"
SUMMARY_PNG = "summary.png"
TEMPLATE = "manual_scores_template.csv"
FIXED_COLUMNS = ("student", "status", "total", "auto", "manual_pending", "integrity")
MANUAL_COLUMNS = ("student", "item", "points", "comment")
NOT_AN_ITEM = "integrity"  # the integrity scan: a note for the instructor, worth no points
TOP_MESSAGES = 3
ITEM_STATUSES = ("passed", "partial", "failed", "error", "timeout", "skipped", "manual")  # manual = pending


class GradebookError(Exception):
    """The reports in an output folder cannot make one gradebook."""


# -- reading the reports ---------------------------------------------------------------


@dataclass
class ClassReports:
    """The reports of one output folder, by student (the report's file name)."""

    reports: dict[str, Report]
    unreadable: list[str] = field(default_factory=list)

    @property
    def assignment(self) -> str:
        return next(iter(self.reports.values())).assignment if self.reports else ""


def load_reports(out: Path) -> ClassReports:
    reports, unreadable = {}, []
    for path in OutputFolder(Path(out)).report_paths():
        try:
            reports[path.stem] = Report.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError):
            unreadable.append(path.name)
    assignments = sorted({report.assignment for report in reports.values()})
    if len(assignments) > 1:
        raise GradebookError(
            f"{out}/reports holds reports of several assignments ({', '.join(assignments)}); "
            "use one output folder per assignment"
        )
    return ClassReports(reports, unreadable)


def item_columns(reports: Iterable[Report]) -> list[ItemResult]:
    """The graded items in rubric order (the union over reports, first seen first)."""
    columns: dict[str, ItemResult] = {}
    for report in reports:
        for item in report.items:
            if item.id != NOT_AN_ITEM:
                columns.setdefault(item.id, item)
    return list(columns.values())


def format_points(value: float) -> str:
    """Points as a report shows them: rounded to 4 places, no trailing zeros."""
    return f"{round(value, 4):g}"


# -- gradebook.csv --------------------------------------------------------------------


def gradebook_csv(reports: dict[str, Report], students: dict[str, dict[str, str]] | None = None) -> str:
    """One row per student. A manual item not graded yet is an empty cell, not a zero.

    ``students``: the roster (LMS name, lateness, chosen file); its columns that hold a value
    for some student follow the fixed ones.
    """
    students = students or {}
    columns = [item.id for item in item_columns(reports.values())]
    extra = [c for c in ROSTER_COLUMNS if any(students.get(s, {}).get(c) for s in reports)]
    rows = [[*FIXED_COLUMNS, *extra, *columns]]
    for student, report in reports.items():
        scores = {item.id: item for item in report.items if item.status != "manual"}
        cells = [format_points(scores[item_id].score) if item_id in scores else "" for item_id in columns]
        fixed = [
            student,
            report.status,
            format_points(report.score),
            format_points(report.auto_score),
            format_points(report.manual_pending),
            integrity_findings(report),
        ]
        known = [students.get(student, {}).get(column, "") for column in extra]
        rows.append(fixed + known + cells)
    return csv_text(rows)


def integrity_findings(report: Report) -> str:
    """The integrity scan's findings, short: "defines __eq__ x2; network access (socket)"."""
    heads = Counter(flag.get("message", "").split(":")[0].strip() for flag in report.integrity)
    return "; ".join(head + (f" x{count}" if count > 1 else "") for head, count in heads.items())


def flagged(reports: dict[str, Report]) -> list[str]:
    """The students whose submission the integrity scan flagged."""
    return [student for student, report in reports.items() if report.integrity]


def manual_template_csv(reports: dict[str, Report]) -> str:
    """Every manual item still pending, per student: fill in points (and a comment), then merge-manual."""
    rows: list[list[str]] = [list(MANUAL_COLUMNS)]
    for student, report in reports.items():
        for item in report.items:
            if item.kind == "manual" and item.id != NOT_AN_ITEM and item.status == "manual":
                rows.append([student, item.id, "", ""])
    return csv_text(rows)


# -- summary.md -----------------------------------------------------------------------


def summary_markdown(classes: ClassReports, similar: list[tuple[str, str, float]] | None = None) -> str:
    """``similar``: the pairs of similarity.csv above the threshold (student, student, similarity)."""
    reports = classes.reports
    statuses = Counter(report.status for report in reports.values())
    totals = [report.score for report in reports.values()]
    maximum = max((report.max_score for report in reports.values()), default=0.0)
    lines = [
        f"# {classes.assignment or 'Batch'}: class summary",
        "",
        f"{len(reports)} submissions: " + ", ".join(f"{n} {s}" for s, n in sorted(statuses.items())) + ".",
    ]
    if classes.unreadable:
        lines += ["", f"Unreadable reports (left out): {markdown_text(', '.join(classes.unreadable))}."]
    lines += _isolation_line(reports)
    if not reports:
        return "\n".join(lines) + "\n"
    lines += ["", "## Totals", "", *_stats_table("total", totals, maximum), ""]
    lines += ["Distribution of totals:", "", *_histogram_table(totals, maximum)]
    lines += ["", *_items_section(reports), *_messages_section(reports), *_errors_section(reports)]
    lines += _integrity_section(reports, similar or [])
    return "\n".join(lines).rstrip() + "\n"


def _isolation_line(reports: dict[str, Report]) -> list[str]:
    """How the submissions were isolated (the README's threat model): one level, or each with its count."""
    levels = Counter(report.isolation for report in reports.values() if report.isolation)
    if not levels:
        return []
    text = ", ".join(f"{level} ({n})" for level, n in sorted(levels.items()))
    if len(levels) == 1:
        text = f"{next(iter(levels))} (every graded submission)"
    weak = [level for level in levels if level.startswith("python-guards")]
    warn = (
        " Without kernel isolation a determined student can read other files: see the threat model."
        if weak
        else ""
    )
    return ["", f"Isolation of the student code: {text}.{warn}"]


def _stats_table(label: str, values: list[float], maximum: float) -> list[str]:
    median = format_points(statistics.median(values))
    return [
        "| | max | mean | median | lowest | highest |",
        "|---|---|---|---|---|---|",
        f"| {label} | {format_points(maximum)} | {statistics.fmean(values):.2f} | {median} "
        f"| {format_points(min(values))} | {format_points(max(values))} |",
    ]


def _histogram_table(values: list[float], maximum: float, bins: int = 10) -> list[str]:
    width = maximum / bins if maximum > 0 else 1.0
    counts = [0] * bins
    for value in values:
        counts[min(bins - 1, max(0, int(value / width)))] += 1
    lines = ["| points | students | |", "|---|---|---|"]
    for index, count in enumerate(counts):
        low, high = index * width, (index + 1) * width
        closing = "]" if index == bins - 1 else ")"
        lines.append(f"| [{format_points(low)}, {format_points(high)}{closing} | {count} | {'#' * count} |")
    return lines


def _items_section(reports: dict[str, Report]) -> list[str]:
    lines = [
        "## Items",
        "",
        "Means and medians over every submission (an error counts 0); manual items over those graded so far.",
        "",
        "| item | kind | max | mean | median | " + " | ".join(ITEM_STATUSES[:-1]) + " | pending |",
        "|---" * (len(ITEM_STATUSES) + 5) + "|",
    ]
    for column in item_columns(reports.values()):
        results = _results(reports, column.id)
        counts = Counter(result.status for result in results)
        scores = [result.score for result in results if result.status != "manual"]
        mean = f"{statistics.fmean(scores):.2f}" if scores else "-"
        median = format_points(statistics.median(scores)) if scores else "-"
        tallies = " | ".join(str(counts[status]) for status in ITEM_STATUSES)
        maximum = format_points(column.max_score)
        lines.append(f"| {column.id} | {column.kind} | {maximum} | {mean} | {median} | {tallies} |")
    return lines + [""]


def _results(reports: dict[str, Report], item_id: str) -> list[ItemResult]:
    return [item for report in reports.values() for item in report.items if item.id == item_id]


def _messages_section(reports: dict[str, Report]) -> list[str]:
    """Per automatic item, the commonest reasons it was lost; an item still at the template's stub
    ("not implemented yet") is counted, not listed: it says nothing about what went wrong."""
    from grader.exercises import untouched

    lines = ["## Most common failure messages", ""]
    stubbed: set[str] = set()
    for column in item_columns(reports.values()):
        if column.kind != "auto":
            continue
        results = [(s, r) for s, report in reports.items() for r in report.items if r.id == column.id]
        missed = [(s, r) for s, r in results if r.status != "passed"]
        stub = [(s, r) for s, r in missed if untouched(r.feedback, r.status, r.probes)]
        real = [r for s, r in missed if (s, r) not in stub]
        stubbed.update(s for s, _ in stub)
        if not real:
            continue
        lines += [f"### {column.id}: {len(missed)} of {len(results)} did not pass", ""]
        for count, example in common_messages([r.feedback for r in real])[:TOP_MESSAGES]:
            lines.append(f"- {count} x: {markdown_text(example)}")
        if stub:
            lines.append(f"- {len(stub)} x: not started (still the template)")
        lines.append("")
    if len(lines) == 2:
        lines += ["Every automatic item passed in every submission.", ""] if not stubbed else []
    if stubbed:
        lines += [
            f"Items still at the template's stubs are left out above: {len(stubbed)} submission(s) "
            f"({', '.join(sorted(stubbed))}).",
            "",
        ]
    return lines


def common_messages(feedback: list[str]) -> list[tuple[int, str]]:
    """First lines grouped with numbers masked: (count, most frequent wording), most common first."""
    groups: dict[str, Counter[str]] = {}
    for text in feedback:
        first = (text.splitlines() or [""])[0].strip()[:200]
        groups.setdefault(re.sub(r"\d+(\.\d+)?(e[-+]?\d+)?", "#", first), Counter())[first] += 1
    ranked = sorted(groups.values(), key=lambda group: -sum(group.values()))
    return [(sum(group.values()), group.most_common(1)[0][0]) for group in ranked]


def _errors_section(reports: dict[str, Report]) -> list[str]:
    failed = [(student, report) for student, report in reports.items() if report.status != "graded"]
    lines = ["## Submissions that errored (or look like another assignment)", ""]
    if not failed:
        return lines + ["None: every submission was graded.", ""]
    lines += ["| student | status | message |", "|---|---|---|"]
    for student, report in failed:
        message = markdown_text(one_line(report.load_error or report.wrong_assignment, 200))
        lines.append(f"| {markdown_text(student)} | {report.status} | {message} |")
    return lines + [""]


def _integrity_section(reports: dict[str, Report], similar: list[tuple[str, str, float]]) -> list[str]:
    students = flagged(reports)
    lines = ["## Integrity findings", "", *_similar_pairs(similar)]
    if not students:
        said = "The integrity scan (imports, exits, ctypes...)" if similar else "None: the integrity scan"
        return lines + [f"{said} flagged no submission.", ""]
    lines += [
        f"{len(students)} of {len(reports)} submissions flagged. A flag is where to look, not a verdict: "
        "each report lists the lines.",
        "",
        "| student | findings |",
        "|---|---|",
    ]
    lines += [
        f"| {markdown_text(s)} | {markdown_text(one_line(integrity_findings(reports[s])))} |"
        for s in students
    ]
    return lines + [""]


def _similar_pairs(similar: list[tuple[str, str, float]]) -> list[str]:
    if not similar:
        return []
    lines = [
        f"Similar pairs (at least {SIMILAR:.0%} of one's code found in the other; side by side in "
        "similarity.html):",
        "",
        "| student | student | similarity |",
        "|---|---|---|",
    ]
    lines += [f"| {markdown_text(a)} | {markdown_text(b)} | {value:.0%} |" for a, b, value in similar]
    return lines + [""]


# -- summary.png ----------------------------------------------------------------------


def summary_png(reports: dict[str, Report]) -> bytes:
    """A histogram of totals and the pass rate of each automatic item (Agg, no pyplot state)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    autos = [column for column in item_columns(reports.values()) if column.kind == "auto"]
    figure = Figure(figsize=(11, max(4.0, 0.28 * len(autos) + 1.5)))
    FigureCanvasAgg(figure)
    totals, histogram_axes = [r.score for r in reports.values()], figure.add_subplot(1, 2, 1)
    maximum = max((r.max_score for r in reports.values()), default=1.0) or 1.0
    histogram_axes.hist(totals, bins=min(20, max(5, len(totals))), range=(0, maximum), color="#4c72b0")
    histogram_axes.set(title=f"Totals ({len(totals)} submissions)", xlabel="points", ylabel="students")
    histogram_axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    rates_axes = figure.add_subplot(1, 2, 2)
    rates = [_pass_rate(_results(reports, column.id)) for column in autos]
    rates_axes.barh(range(len(autos)), rates, color="#55a868")
    rates_axes.set_yticks(range(len(autos)), [c.id for c in autos], fontsize=7)
    rates_axes.invert_yaxis()
    rates_axes.set(title="Pass rate per automatic item", xlabel="% of submissions passed", xlim=(0, 100))
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90)
    return buffer.getvalue()


def _pass_rate(results: list[ItemResult]) -> float:
    return 100.0 * sum(result.status == "passed" for result in results) / max(1, len(results))


# -- rebuilding -----------------------------------------------------------------------


def rebuild(out: Path) -> dict[str, Path]:
    """Rewrite gradebook.csv, summary.md, summary.png, the manual-scores template and the class page
    (index.html) from the reports."""
    out = Path(out)
    classes = load_reports(out)
    contents = {
        GRADEBOOK: gradebook_csv(classes.reports, read_roster(out)).encode(),
        SUMMARY_MD: summary_markdown(classes, read_similar_pairs(out)).encode(),
        SUMMARY_PNG: summary_png(classes.reports),
        TEMPLATE: manual_template_csv(classes.reports).encode(),
        INDEX_HTML: class_page(
            classes.reports, item_columns(classes.reports.values()), classes.assignment
        ).encode(),
    }
    folder = OutputFolder(out)
    for name, data in contents.items():
        folder.write(name, data)
    return {name: out / name for name in contents}
