"""The review's database into the reports, the Gradescope files and gradebook.csv.

Written answers go through merge-manual's own validation and application
(:func:`grader.batch.manual.validate_manual_rows`, ``apply_manual_scores``); the review adds
the ticked criteria and the overrides of automatic items. Applying is idempotent (always from
the database, overrides from the original score), so a sync after a crash, or at start-up,
simply writes the same reports again. A grade is only applied to the submission it was given
for: a resubmitted file that ``grader batch --resume`` graded again is left pending.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from grader.batch.gradebook import format_points, rebuild
from grader.batch.manual import apply_manual_scores, rewrite_report, validate_manual_rows
from grader.batch.output import OutputFolder
from grader.report.model import Report
from grader.review.store import Grade, Override, Store
from grader.rubric import Criterion


def apply_review(
    report: Report,
    grades: Iterable[Grade],
    overrides: Iterable[Override],
    criteria: dict[str, tuple[Criterion, ...]],
) -> None:
    """Put the stored grades and overrides of one student on their report (in memory)."""
    student = report.student or "student"
    current = [g for g in grades if g.submission_sha256 in ("", report.submission_sha256)]
    rows = [
        (number, {"student": student, "item": g.item, "points": repr(g.points), "comment": g.comment})
        for number, g in enumerate(current, start=1)
    ]
    if rows:
        scores, _ = validate_manual_rows(rows, {student: report}, "review.sqlite")
        apply_manual_scores({student: report}, scores)
    for grade in current:
        item, listed = report.item(grade.item), criteria.get(grade.item, ())
        item.criteria = [criterion_label(listed[i]) for i in grade.criteria if 0 <= i < len(listed)]
    for override in overrides:
        if override.submission_sha256 in ("", report.submission_sha256):
            apply_override(report, override)
    report.recompute_totals()


def apply_override(report: Report, override: Override) -> None:
    item = report.item(override.item)
    item.score = round(override.points, 4)
    item.status = "passed" if item.score >= item.max_score else "partial" if item.score > 0 else "failed"
    item.feedback = (
        f"{override.original_feedback}\n\nScore changed by your instructor from "
        f"{format_points(override.original_score)} to {format_points(override.points)} / "
        f"{format_points(item.max_score)}: {override.reason}"
    )


def criterion_label(criterion: Criterion) -> str:
    return f"{criterion.text} (+{format_points(criterion.points)})"


def sync(
    out: Path, store: Store, criteria: dict[str, tuple[Criterion, ...]], students: Iterable[str]
) -> list[str]:
    """Rewrite the reports of ``students`` from the database and rebuild the gradebook; returns those written.

    Holds OUT's lock while writing (a running ``grader batch`` or merge-manual makes this raise
    BatchError: the database keeps everything, and the next sync writes it).
    """
    folder = OutputFolder(Path(out))
    grades, overrides = store.grades(), store.overrides()
    written = []
    with folder.lock():
        for student in sorted(set(students)):
            report = folder.read_report(student)
            if report is None:
                continue
            report.student = report.student or student
            mine = [g for (s, _), g in grades.items() if s == student]
            theirs = [o for (s, _), o in overrides.items() if s == student]
            apply_review(report, mine, theirs, criteria)
            rewrite_report(folder, student, report)
            written.append(student)
        rebuild(Path(out))
    return written
