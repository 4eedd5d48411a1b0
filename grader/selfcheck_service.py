"""The grading side of the notebook's ``check()``: ``python -m grader.selfcheck_service``.

One process per notebook kernel, started by grader/notebook_check.py on the first ``check()``
and kept for later ones (so the grader's imports, data and reference artifacts load once). It
reads one JSON request per line on stdin (the kernel's code cells and what to check) and writes
one JSON reply per line on stdout. Grading is ``grader.grading.grade`` as for ``grader check``:
the student's code runs in its own sandboxed worker, never here and never in the kernel.

The reply holds only what the self-check shows: public automatic items (id, title, points,
status, feedback, the student's own output) and the figures of the student's models, never
metrics, thresholds or hidden items (docs/architecture.md, "Who uses it").
"""

from __future__ import annotations

import base64
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.exercises import UnknownExercise, not_started
from grader.report.model import Report
from grader.sandbox.supervisor import Standby
from grader.threadsafe import format_exception

# The reply's own channel: student and grader prints go to stderr, never into the replies.
MAX_OUTPUT_CHARS = 2000


@dataclass
class Request:
    cells: list[tuple[str, str]]
    exercises: tuple[str, ...] = ()
    quick: bool = False
    rubric: str | None = None
    budget: str | None = None
    all_cells: bool = False

    @staticmethod
    def from_dict(raw: dict[str, Any]) -> Request:
        return Request(
            cells=[(str(label), str(source)) for label, source in raw.get("cells", [])],
            exercises=tuple(str(e) for e in raw.get("exercises", [])),
            quick=bool(raw.get("quick", False)),
            rubric=raw.get("rubric") or None,
            budget=raw.get("budget") or None,
            all_cells=bool(raw.get("all_cells", False)),
        )

    @property
    def budget_name(self) -> str:
        return self.budget or ("smoke" if self.quick else "default")


@dataclass
class Service:
    """Answers requests; the same code checked the same way again is answered from memory.

    After each check a worker is started ahead for the next one (``Standby``): it imports
    TensorFlow while the student reads the result, so the next check skips that wait. Each check
    still gets its own fresh, isolated worker; one that died while waiting is replaced.
    """

    answered: dict[str, dict[str, Any]] = field(default_factory=dict)
    standby: Standby = field(default_factory=Standby)
    plans: Any = None  # grader.grading.PlanCache: each rubric and budget prepared once per service

    def answer(self, request: Request) -> dict[str, Any]:
        key = json.dumps(
            [request.cells, request.exercises, request.rubric, request.budget_name, request.all_cells]
        )
        if key not in self.answered:
            self.answered = {key: self._grade(request)}  # keep only the last: the student moves on
        return self.answered[key]

    def _grade(self, request: Request) -> dict[str, Any]:
        from grader.grading import GradeOptions, PlanCache, grade, resolve_rubric
        from grader.submission import load_cells

        started = time.monotonic()
        submission = load_cells("notebook", request.cells, request.all_cells)
        options = GradeOptions(
            public_only=True,
            budget=request.budget_name,
            exercises=request.exercises,
            all_cells=request.all_cells,
            student="notebook",
        )
        rubric = resolve_rubric(request.rubric, submission)
        self.plans = self.plans or PlanCache()
        plan = self.plans.get(rubric, options)
        report = grade(submission, rubric, options, standby=self.standby, plan=plan)
        figures = _figures(report)
        result = public_result(report, figures, time.monotonic() - started)
        self._prepare_next(report, request.rubric or report.assignment, options)
        return result

    def _prepare_next(self, report: Report, rubric: str, options: Any) -> None:
        """Start the next check's worker now, like this one's (same Keras, rubric and limits)."""
        from grader.grading import sandbox_protected
        from grader.rubric import RubricError, load_rubric

        keras = report.keras.split(" ")[0] if report.keras else ""
        if report.assignment == "unknown" or keras not in ("2", "3", "none"):
            return
        try:
            protected = sandbox_protected(load_rubric(rubric), options)
        except RubricError:
            return
        self.standby.prepare(keras, options.limits, protected)

    def close(self) -> None:
        self.standby.close()


def public_result(report: Report, figures: dict[str, list[str]], seconds: float) -> dict[str, Any]:
    """What the kernel may see of ``report``: public automatic items, without metrics; each figure
    with what it shows (the grader's short training of the student's model, or their own plot)."""
    from grader.report.figures import caption, name_of

    auto = [i for i in report.items if i.kind == "auto" and i.visibility == "public"]
    items = [
        {
            "id": i.id,
            "exercise": i.exercise,
            "title": i.title,
            "score": i.score,
            "max_score": i.max_score,
            "status": i.status,
            "feedback": i.feedback,
            "output": i.output[-MAX_OUTPUT_CHARS:],
            "figures": figures.get(i.id, []),
            "captions": [caption(name_of(path), report) for path in i.figures][: len(figures.get(i.id, []))],
        }
        for i in auto
    ]
    return {
        "assignment": report.assignment,
        "budget": report.budget.get("name", ""),
        "items": items,
        "not_started": not_started(auto) if not report.load_error else [],
        "load_error": report.load_error,
        "wrong_assignment": report.wrong_assignment,
        "seconds": round(seconds, 1),
    }


def _figures(report: Report) -> dict[str, list[str]]:
    """item id -> PNGs (base64) of the student's models as the grader trained them, and their plots."""
    if not report.raw:
        return {}
    from grader.report import figures

    with tempfile.TemporaryDirectory(prefix="grader-check-") as folder:
        written = figures.render(report.raw, Path(folder), "fig")
        figures.attach(report, written)
        return {
            item.id: [
                base64.b64encode((Path(folder) / Path(path).name).read_bytes()).decode("ascii")
                for path in item.figures
            ]
            for item in report.items
            if item.figures
        }


def serve(requests: Any, replies: Any) -> None:
    """Answer JSON lines from ``requests`` on ``replies`` until the kernel closes the pipe."""
    service = Service()
    try:
        _answer_all(service, requests, replies)
    finally:
        service.close()


def _answer_all(service: Service, requests: Any, replies: Any) -> None:
    for line in requests:
        if not line.strip():
            continue
        try:
            reply = {"ok": True, "result": service.answer(Request.from_dict(json.loads(line)))}
        except UnknownExercise as exc:
            reply = {"ok": False, "error": str(exc)}
        except Exception as exc:  # noqa: BLE001 - one bad request must not end the service
            from grader.grading import UnknownAssignment
            from grader.rubric import RubricError

            if isinstance(exc, (UnknownAssignment, RubricError)):
                # The notebook's words for the command line's option.
                reply = {
                    "ok": False,
                    "error": str(exc).replace("pass --rubric", 'pass rubric="NAME" to check()'),
                }
            else:
                sys.stderr.write(format_exception())
                reply = {"ok": False, "error": f"internal error of the grader ({type(exc).__name__}: {exc})"}
        replies.write(json.dumps(reply) + "\n")
        replies.flush()


def main() -> int:
    replies = os.fdopen(os.dup(1), "w")  # the reply channel; prints of anything else go to stderr
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    serve(sys.stdin, replies)
    return 0


if __name__ == "__main__":
    sys.exit(main())
