"""The class page, ``OUT/index.html``: a batch at a glance, rendered from the reports (the source of truth).

Per-item pass rates, the histogram of totals (``summary.png``), and every student linked to their own
HTML report (``reports/<id>.html``). Rebuilt with the gradebook (grader/batch/gradebook.py ``rebuild``),
so merged and reviewed scores show up here too.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from grader.report.model import ItemResult, Report

INDEX_HTML = "index.html"
TEMPLATES = Path(__file__).resolve().parent / "templates"


@dataclass(frozen=True)
class ItemRow:
    id: str
    title: str
    kind: str
    max_score: float
    passed: int
    graded: int  # the results with a score: pending written answers are not counted
    counts: dict[str, int]

    @property
    def rate(self) -> float:
        return 100.0 * self.passed / self.graded if self.graded else 0.0


@dataclass(frozen=True)
class StudentRow:
    id: str
    href: str  # relative to OUT
    status: str
    score: float
    max_score: float
    manual_pending: float
    lost: list[str]  # the automatic items that lost points
    flagged: bool


def item_rows(reports: dict[str, Report], columns: list[ItemResult]) -> list[ItemRow]:
    rows = []
    for column in columns:
        results = [r for report in reports.values() for r in report.items if r.id == column.id]
        counts = Counter(r.status for r in results)
        graded = sum(n for status, n in counts.items() if status != "manual")
        rows.append(
            ItemRow(
                column.id, column.title, column.kind, column.max_score, counts["passed"], graded, dict(counts)
            )
        )
    return rows


def student_rows(reports: dict[str, Report]) -> list[StudentRow]:
    return [
        StudentRow(
            id=student,
            href=f"reports/{quote(student, safe='')}.html",
            status=report.status,
            score=report.score,
            max_score=report.max_score,
            manual_pending=report.manual_pending,
            lost=[i.id for i in report.items if i.kind == "auto" and i.score < i.max_score],
            flagged=bool(report.integrity),
        )
        for student, report in sorted(reports.items())
    ]


def class_page(reports: dict[str, Report], columns: list[ItemResult], assignment: str) -> str:
    """The HTML of ``index.html`` (autoescaped: student ids and titles are text)."""
    from jinja2 import Environment, FileSystemLoader

    environment = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True)
    environment.filters["points"] = lambda value: f"{round(value, 4):g}"
    statuses = Counter(report.status for report in reports.values())
    return environment.get_template("class.html.j2").render(
        assignment=assignment or "batch",
        statuses=sorted(statuses.items()),
        total=len(reports),
        items=item_rows(reports, columns),
        students=student_rows(reports),
    )
