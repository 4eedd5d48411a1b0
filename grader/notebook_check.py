"""``from grader import check``: a student checks one exercise from inside their notebook.

``check("1")`` grades the code the kernel has run (its own input history, so it works in
Colab and in notebooks never saved) with the rubric, the public items and the sandbox of
``grader check`` (docs/architecture.md, "Who uses it"). This module runs in the student's
kernel, so it imports only the standard library: no TensorFlow, no NumPy, nothing that
touches the kernel's random or TensorFlow state. Grading happens in a separate process
(grader/selfcheck_service.py), started on the first check and kept warm for later ones;
the student's code runs in that process's sandboxed worker.
"""

from __future__ import annotations

import html
import json
import os
import select
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any

STATUS_MARKS = {"passed": "ok", "partial": "part", "skipped": "skip"}
STATUS_COLOURS = {"passed": "#1a7f37", "partial": "#9a6700", "skipped": "#6e7781"}
DEFAULT_TIMEOUT_S = 3600.0


class CheckError(RuntimeError):
    """check() could not run (outside a notebook, an unknown exercise, the service died)."""


@dataclass
class CheckItem:
    id: str
    exercise: str
    title: str
    score: float
    max_score: float
    status: str
    feedback: str
    output: str = ""
    figures: list[str] = field(default_factory=list, repr=False)  # PNGs, base64
    captions: list[str] = field(default_factory=list, repr=False)  # what each figure shows

    @property
    def passed(self) -> bool:
        return self.status == "passed"


@dataclass
class CheckResult:
    """What ``check()`` returns: the public items of the checked exercises and their points."""

    assignment: str
    exercises: tuple[str, ...]
    items: list[CheckItem]
    not_started: list[str] = field(default_factory=list)
    load_error: str = ""
    wrong_assignment: str = ""
    budget: str = ""
    seconds: float = 0.0

    @property
    def score(self) -> float:
        return round(sum(i.score for i in self.items), 4)

    @property
    def max_score(self) -> float:
        return round(sum(i.max_score for i in self.items), 4)

    @property
    def failed(self) -> list[CheckItem]:
        return [i for i in self.items if not i.passed and i.exercise not in self.not_started]

    @staticmethod
    def from_dict(raw: dict[str, Any], exercises: tuple[str, ...]) -> CheckResult:
        items = [CheckItem(**item) for item in raw["items"]]
        fields = ("not_started", "load_error", "wrong_assignment", "budget", "seconds")
        return CheckResult(raw["assignment"], exercises, items, **{k: raw[k] for k in fields if k in raw})

    def _title(self) -> str:
        which = f"exercise {', '.join(self.exercises)}" if self.exercises else "all exercises"
        return f"Self-check of {which} ({self.assignment}, public items, budget {self.budget})"

    def _notes(self) -> list[str]:
        notes = []
        if self.load_error:
            notes.append(f"Your code could not be graded: {self.load_error}")
        if self.wrong_assignment:
            notes.append(f"Wrong assignment? {self.wrong_assignment}")
        if self.not_started:
            notes.append(f"Not started yet: {', '.join(self.not_started)}")
        if self.items and not self.failed:
            notes.append("Every public item checked here passes. Well done!")
        notes.append("Hidden items and your written answers are graded when you hand in.")
        return notes

    def __str__(self) -> str:
        lines = [self._title(), f"{self.score:g} / {self.max_score:g} points in {self.seconds:g} s", ""]
        for item in self.items:
            mark = STATUS_MARKS.get(item.status, "FIX")
            feedback = item.feedback.splitlines()[0] if item.feedback else ""
            lines.append(f"  [{mark:<4}] {item.id:<24} {item.score:g}/{item.max_score:g}  {feedback}")
        return "\n".join([*lines, "", *self._notes()])

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        """A table in Jupyter: one row per item, the feedback as text, the figures inline."""
        rows = []
        for item in self.items:
            colour = STATUS_COLOURS.get(item.status, "#cf222e")
            captions = item.captions + [""] * (len(item.figures) - len(item.captions))
            figures = "".join(
                '<figure style="margin:4px 0">'
                f'<img src="data:image/png;base64,{png}" style="max-width:420px">'
                f'<figcaption style="color:#57606a;font-size:90%">{html.escape(text)}</figcaption></figure>'
                for png, text in zip(item.figures, captions, strict=True)
            )
            printed = _printed(item.output)
            output = (
                f"<details><summary>your output</summary><pre>{html.escape(printed)}</pre></details>"
                if printed
                else ""
            )
            rows.append(
                '<tr style="vertical-align:top">'
                f"<td><code>{html.escape(item.id)}</code></td><td>{html.escape(item.title)}</td>"
                f'<td style="text-align:right">{item.score:g}/{item.max_score:g}</td>'
                f'<td style="color:{colour};font-weight:bold">{html.escape(item.status)}</td>'
                f'<td style="text-align:left"><pre style="white-space:pre-wrap;margin:0">'
                f"{html.escape(item.feedback)}</pre>{output}{figures}</td></tr>"
            )
        notes = "".join(f"<p>{html.escape(note)}</p>" for note in self._notes())
        return (
            f"<div><h4>{html.escape(self._title())}: {self.score:g} / {self.max_score:g} points</h4>"
            "<table><thead><tr><th>item</th><th>what</th><th>points</th><th>status</th>"
            f"<th>feedback</th></tr></thead><tbody>{''.join(rows)}</tbody></table>{notes}</div>"
        )


def _printed(text: str) -> str:
    """The student's output without TensorFlow's log lines (grader/report/output.py: stdlib only)."""
    from grader.report.output import student_output

    return student_output(text).strip()


def check(
    *exercises: str,
    quick: bool = False,
    rubric: str | None = None,
    budget: str | None = None,
    all_cells: bool = False,
    timeout: float = DEFAULT_TIMEOUT_S,
) -> CheckResult:
    """Check ``exercises`` (e.g. ``check("1")``, ``check("3a", "3b")``; none: all) on the code this
    kernel has run, like ``grader check --exercise``. ``quick`` trains on the tiny 'smoke' budget."""
    cells = kernel_history()
    request = {
        "cells": cells,
        "exercises": [str(e) for e in exercises],
        "quick": quick,
        "rubric": rubric,
        "budget": budget,
        "all_cells": all_cells,
    }
    which = f"exercise {', '.join(map(str, exercises))}" if exercises else "every exercise"
    service = _service()
    first = "; the first check starts the grader" if service.process is None else ""
    print(f"Checking {which} (public items{first}) ...", flush=True)  # a check can take minutes
    reply = service.ask(request, timeout)
    if not reply.get("ok"):
        raise CheckError(reply.get("error", "the grader gave no answer"))
    return CheckResult.from_dict(reply["result"], tuple(str(e) for e in exercises))


def kernel_history() -> list[tuple[str, str]]:
    """(label, source) of every cell this IPython kernel ran, in order; a cell run again counts
    at its last run (so the definitions are the kernel's latest)."""
    shell = _shell()
    history = list(getattr(shell.history_manager, "input_hist_raw", []) or shell.user_ns.get("In", []))
    latest: dict[str, int] = {}
    for number, source in enumerate(history):
        if source.strip():
            latest[source] = number
    return [(f"In [{number}]", source) for source, number in sorted(latest.items(), key=lambda kv: kv[1])]


def _shell() -> Any:
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is None or not hasattr(shell, "history_manager"):
        raise CheckError(
            "check() works inside a Jupyter/Colab notebook; in a terminal run "
            "`grader check FILE --exercise 1`"
        )
    return shell


@dataclass
class Service:
    """The grading process of this kernel: started once, restarted when it died."""

    process: subprocess.Popen | None = None

    def ask(self, request: dict[str, Any], timeout: float) -> dict[str, Any]:
        process = self._running()
        assert process.stdin is not None and process.stdout is not None
        try:
            process.stdin.write(json.dumps(request) + "\n")
            process.stdin.flush()
        except OSError:
            pass  # it died: reading says so
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.close()
                raise CheckError(f"the check took longer than {timeout:g} s and was stopped")
            ready, _, _ = select.select([process.stdout], [], [], min(remaining, 1.0))
            if ready:
                line = process.stdout.readline()
                if not line:
                    self.close()
                    raise CheckError(
                        "the grading process ended unexpectedly; run check() again to restart it"
                    )
                return json.loads(line)

    def _running(self) -> subprocess.Popen:
        if self.process is None or self.process.poll() is not None:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "grader.selfcheck_service"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL if os.environ.get("GRADER_CHECK_QUIET") else None,
                text=True,
                env=_service_env(),
            )
        return self.process

    def close(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


def _service_env() -> dict[str, str]:
    """The kernel's environment without what would make the grader draw into the notebook."""
    env = dict(os.environ)
    env.pop("MPLBACKEND", None)
    env["MPLBACKEND"] = "Agg"
    return env


# One grading process per kernel, by design: later checks find it warm. Held here, not in the
# student's namespace, so the kernel's globals stay exactly as the student left them.
_SERVICES: dict[int, Service] = {}


def _service() -> Service:
    return _SERVICES.setdefault(os.getpid(), Service())
