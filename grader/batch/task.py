"""The per-submission pipeline: :func:`grade_one`, a plain picklable function that never raises.

It grades one submission (its bytes travel with the task, so a Dask worker on another
machine needs no shared folder), renders the report's files in memory and returns them;
the trusted parent writes them (:class:`grader.batch.output.OutputFolder`).
"""

from __future__ import annotations

import contextlib
import hashlib
import tempfile
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from grader import __version__, grading
from grader.batch.discovery import Entry
from grader.batch.output import OutputFolder
from grader.batch.resume import carry_scores, scores_to_carry
from grader.grading import GradeOptions, ungraded_item
from grader.report.model import Report
from grader.report.writer import write_report
from grader.rubric import Rubric
from grader.threadsafe import format_exception

FORMATS = ("md", "html", "gradescope", "json")  # JSON last: its presence means the others are complete
WATCHDOG_MARGIN_S = 300.0  # on top of the rubric's own limits: a backstop for grader bugs only
MAX_SUBMISSION_BYTES = 20 * 1024 * 1024  # grader.submission.MAX_BYTES: larger files are not shipped
# pyplot keeps global state: a Dask worker running several grade_one threads draws one report at a time.
_FIGURES_LOCK = threading.Lock()
# This process's grading plans: a worker process grades every row of a batch with one plan (the data,
# the thresholds, the reference's artifacts and results resolved once, not per row).
_PLANS = grading.PlanCache()
_PLANS_LOCK = threading.Lock()


@dataclass(frozen=True)
class BatchTask:
    """Everything :func:`grade_one` needs, picklable: it may run on another machine."""

    student: str
    rubric: Rubric
    options: GradeOptions
    source_path: str = ""  # where the submission was found (shown in the report)
    source: bytes = b""
    problem: str = ""  # set: no grading, an error row saying this
    carry: dict[str, dict[str, Any]] = field(default_factory=dict)  # manual scores kept from the last report
    watchdog_s: float = 0.0  # the local executor stops the grading after this long (0: never)
    data: dict[str, str] = field(default_factory=dict)  # the dataset's name and fingerprint, for error rows


@dataclass(frozen=True)
class BatchOutcome:
    """One finished row: its files (path relative to OUT -> bytes) and a summary for the progress line."""

    student: str
    status: str  # graded | error | timeout
    score: float
    max_score: float
    seconds: float
    message: str
    files: dict[str, bytes]
    internal: bool = False  # the grader failed, not the submission


def build_task(
    entry: Entry, rubric: Rubric, options: GradeOptions, previous: Report | None, data: dict[str, str]
) -> BatchTask:
    """Built lazily, when a worker is free: only the submissions in flight are held in memory."""
    problem, source = entry.problem, b""
    if entry.path is not None and not problem:
        try:
            if entry.path.stat().st_size > MAX_SUBMISSION_BYTES:
                problem = f"{entry.path.name} is larger than {MAX_SUBMISSION_BYTES // 2**20} MB"
            else:
                source = entry.path.read_bytes()
        except OSError as exc:
            problem = f"{entry.path.name} could not be read ({exc.strerror})"
    watchdog = rubric.load_timeout_s + sum(item.timeout_s + rubric.load_timeout_s for item in rubric.items)
    return BatchTask(
        student=entry.student,
        rubric=rubric,
        options=options,
        source_path=str(entry.path or ""),
        source=source,
        problem=problem,
        carry=scores_to_carry(previous, source),
        watchdog_s=watchdog + WATCHDOG_MARGIN_S,
        data=data,
    )


def grade_one(task: BatchTask) -> BatchOutcome:
    """Grade one submission and render its files. Never raises: any failure is an error row."""
    started = time.monotonic()
    report = _safe_grade(task)
    carry_scores(report, task.carry)
    files = render_safely(report, task)
    return BatchOutcome(
        student=task.student,
        status=report.status,
        score=report.score,
        max_score=report.max_score,
        seconds=round(time.monotonic() - started, 2),
        message=report.load_error or report.wrong_assignment,
        files=files,
        internal=bool(report.debug.get("internal_error")),
    )


def _safe_grade(task: BatchTask) -> Report:
    if task.problem:
        return error_report(task, task.problem)
    try:
        return _grade(task)
    except Exception as exc:  # a grader bug: this row only, and --resume tries again
        return error_report(
            task,
            f"internal error of the grader ({type(exc).__name__}: {exc})",
            internal=format_exception(),
        )


def _grade(task: BatchTask) -> Report:
    name = Path(task.source_path).name or f"{task.student}.py"
    with tempfile.TemporaryDirectory(prefix="grader-batch-") as folder:
        path = Path(folder) / name
        path.write_bytes(task.source)
        # grading.grade looked up at call time: tests replace it to simulate a grader bug
        with _PLANS_LOCK:
            plan = _PLANS.get(task.rubric, task.options)
        report = grading.grade(path, task.rubric, replace(task.options, student=task.student, plan=plan))
    report.submission = task.source_path
    # An unreadable file still has bytes: record them so --resume knows it was graded.
    report.submission_sha256 = report.submission_sha256 or hashlib.sha256(task.source).hexdigest()
    return report


def error_report(task: BatchTask, message: str, internal: str = "", status: str = "error") -> Report:
    """A report for a submission the grader could not grade: every automatic item gets ``message``."""
    rubric = task.rubric
    budget = rubric.budget_named(task.options.budget)
    if task.options.seed is not None:
        budget = budget.with_seed(task.options.seed)
    items = [
        ungraded_item(item, status, f"your submission could not be graded: {message}.")
        for item in rubric.items
    ]
    report = Report(
        assignment=rubric.name,
        submission=task.source_path,
        submission_sha256=hashlib.sha256(task.source).hexdigest() if task.source else "",
        score=0.0,
        max_score=0.0,
        auto_score=0.0,
        auto_max=0.0,
        manual_pending=0.0,
        grader_version=__version__,
        rubric_sha256=rubric.sha256,
        budget=budget.as_dict(),
        data={"name": task.options.data, "fingerprint": ""} | task.data,
        seed=budget.seed,
        seconds=0.0,
        items=items,
        status=status,
        load_error=message,
        student=task.student,
    )
    report.debug["all_cells"] = task.options.all_cells
    if internal:
        report.debug["internal_error"] = True
        report.warnings.append(f"internal error while grading {task.student}:\n{internal}")
    report.recompute_totals()
    return report


def failed_outcome(
    task: BatchTask, message: str, status: str = "error", seconds: float = 0.0
) -> BatchOutcome:
    """The row of a task whose grading process died, overran or could not run: an error report."""
    report = error_report(task, message, internal=message, status=status)
    files = {OutputFolder.report_key(task.student): (report.to_json() + "\n").encode()}
    with contextlib.suppress(Exception):
        files = render_files(report, task.student)
    return BatchOutcome(task.student, status, report.score, report.max_score, seconds, message, files, True)


def render_safely(report: Report, task: BatchTask) -> dict[str, bytes]:
    try:
        return render_files(report, task.student)
    except Exception:  # a figure that cannot be drawn must not cost the row
        report.warnings.append(f"the report's figures could not be drawn:\n{format_exception()}")
        try:
            return render_files(report, task.student, draw_figures=False)
        except Exception as exc:
            fallback = error_report(
                task,
                f"internal error of the grader while writing the report ({exc})",
                internal=format_exception(),
            )
            return {OutputFolder.report_key(task.student): (fallback.to_json() + "\n").encode()}


def render_files(report: Report, student: str, draw_figures: bool = True) -> dict[str, bytes]:
    """The batch layout's files of one report, in memory: relative path -> bytes."""
    with tempfile.TemporaryDirectory(prefix="grader-render-") as folder, _FIGURES_LOCK:
        root = Path(folder)
        write_report(report, OutputFolder(root).layout, student, FORMATS, draw_figures)
        files = sorted(path for path in root.rglob("*") if path.is_file())
        return {path.relative_to(root).as_posix(): path.read_bytes() for path in files}
