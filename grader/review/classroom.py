"""The class as the review sees it: each manual item's answers, criteria and figures, from OUT's reports.

Read-only: the reports are written by :mod:`grader.review.sync` only.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from grader.batch.gradebook import NOT_AN_ITEM, load_reports
from grader.report.model import ItemResult, Report
from grader.review.images import notebook_images
from grader.rubric import Criterion, RubricError, load_rubric
from grader.submission import PLACEHOLDER


@dataclass(frozen=True)
class Question:
    """A manual item of the rubric."""

    id: str
    exercise: str
    title: str
    max_score: float
    criteria: tuple[Criterion, ...] = ()
    figures: tuple[str, ...] = ()  # the names of the report's figures the question is about (rubric)


@dataclass(frozen=True)
class Figure:
    """One of the grader's figures of a student, shown beside their answer."""

    name: str
    path: str  # relative to OUT/reports
    caption: str


@dataclass
class Classroom:
    """The reports of ``out`` (by student), the manual questions and the images in the notebooks."""

    out: Path
    reports: dict[str, Report]
    questions: dict[str, Question]
    template_answers: dict[str, str] = field(default_factory=dict)
    _images: dict[str, dict[str, list[bytes]]] = field(default_factory=dict, repr=False)

    @staticmethod
    def load(out: Path, rubric: str | Path | None = None) -> Classroom:
        """Read OUT's reports; the criteria come from ``rubric`` (default: the reports' assignment)."""
        out = Path(out)
        reports = load_reports(out).reports
        if not reports:
            raise RubricError(f"no reports in {out / 'reports'}: run grader batch with --out {out} first")
        first = next(iter(reports.values()))
        criteria, figures, template = {}, {}, {}
        try:
            loaded = load_rubric(rubric or first.assignment)
            criteria = {item.id: item.criteria for item in loaded.items}
            figures = {item.id: item.figures for item in loaded.items}
            template = _template_answers(loaded.template)
        except RubricError:
            if rubric:  # an explicit --rubric must load; the reports' own name may be a custom rubric
                raise
        questions = {
            item.id: Question(
                item.id,
                item.exercise,
                item.title,
                item.max_score,
                criteria.get(item.id, ()),
                figures.get(item.id, ()),
            )
            for item in first.items
            if item.kind == "manual" and item.id != NOT_AN_ITEM
        }
        return Classroom(out, reports, questions, template)

    def answer(self, student: str, item_id: str) -> ItemResult:
        return self.reports[student].item(item_id)

    def is_blank(self, text: str | None, item_id: str) -> bool:
        """Empty, the template's placeholder, or the template's own text for this item."""
        text = (text or "").strip()
        return (
            not text
            or bool(PLACEHOLDER.match(text))
            or text == self.template_answers.get(item_id, "").strip()
        )

    def figures(self, student: str, item_id: str) -> list[Figure]:
        """The figures of the student's report that the rubric lists for this question (its ``figures``),
        in the rubric's order; a figure the report lacks is left out."""
        report, question = self.reports[student], self.questions[item_id]
        return [
            Figure(name, report.figures[name], figure_caption(name, report))
            for name in question.figures
            if name in report.figures
        ]

    def warm(self) -> None:
        """Read every notebook and import the clustering now (at start-up), not on the first page load."""
        import sklearn.cluster  # noqa: F401 - the import is the slow part of the first grouping

        for student in list(self.reports):
            self.notebook_images(student, "")

    def notebook_images(self, student: str, item_id: str) -> list[bytes]:
        """The PNGs stored in the student's notebook near their answer to ``item_id`` (cached per student)."""
        if student not in self._images:
            self._images[student] = _images_of(self.reports[student], self.out)
        return self._images[student].get(item_id, self._images[student].get(item_id.split("-")[0], []))


def figure_caption(name: str, report: Report) -> str:
    """What a figure shows, in a reviewer's words (grader.report.figures.caption)."""
    from grader.report.figures import caption

    return caption(name, report, whose="their")


def _images_of(report: Report, out: Path) -> dict[str, list[bytes]]:
    """Only from the very file that was graded (same SHA-256), wherever the batch found it."""
    candidates = [Path(report.submission), out / report.submission, out / "submissions" / report.submission]
    for path in candidates:
        try:
            if path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() == report.submission_sha256:
                return notebook_images(path)
        except OSError:
            continue
    return {}


def _template_answers(template: Path | None) -> dict[str, str]:
    if template is None or not Path(template).is_file():
        return {}
    from grader.submission import load_submission  # parses the template; never runs it

    try:
        return dict(load_submission(template).answers)
    except Exception:  # noqa: BLE001 - a broken template only loses the placeholder detection
        return {}
