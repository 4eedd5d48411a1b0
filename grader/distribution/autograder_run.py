"""``python3 -m grader.distribution.autograder_run``: what ``run_autograder`` runs on Gradescope.

It grades the one ``.py``/``.ipynb`` in ``submission/`` (or, when there are several, the one that
defines the most contract functions: grader/batch/discovery.py) with ``python3 -m grader grade``
at the zip's budget, and writes ``results/results.json`` as Gradescope documents it. Whatever
happens (no file, a crash, a timeout, the grader dying) a valid ``results.json`` with a message
is written. ``AUTOGRADER_ROOT`` (default ``/autograder``) is Gradescope's folder.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CONFIG = "autograder.json"
SUFFIXES = (".py", ".ipynb")
MARGIN_S = 60.0  # left of Gradescope's timeout for writing the results


@dataclass(frozen=True)
class Config:
    rubric: str
    budget: str
    timeout_s: float

    @staticmethod
    def read(source: Path) -> Config:
        raw = json.loads((source / CONFIG).read_text())
        return Config(str(raw["rubric"]), str(raw["budget"]), float(raw["timeout_s"]))


def notes(config: Config) -> str:
    """What every results.json says besides the score."""
    return (
        f"Graded at the '{config.budget}' budget of {config.rubric}. "
        "Written answers are graded by hand: they are not part of this autograder's score."
    )


def fallback(message: str, config: Config, seconds: float) -> dict[str, Any]:
    """A results.json for a submission that could not be graded: every automatic item at 0."""
    tests = []
    try:
        from grader.report.render import GRADESCOPE_VISIBILITY
        from grader.rubric import load_rubric

        for item in load_rubric(config.rubric).items:
            if not item.is_manual:
                tests.append(
                    {
                        "name": f"{item.id}: {item.title}",
                        "score": 0.0,
                        "max_score": item.points,
                        "status": "failed",
                        "output": message,
                        "visibility": GRADESCOPE_VISIBILITY.get(item.visibility, "visible"),
                    }
                )
    except Exception:  # the grader itself is broken: the message alone
        tests = []
    return {
        "score": 0.0,
        "execution_time": round(seconds, 1),
        "output": f"{message} {notes(config)}",
        "tests": tests,
    }


def choose(submission: Path, rubric: str) -> tuple[Path | None, str]:
    """(the file to grade, a line saying why) or (None, the reason none can be graded)."""
    files = sorted(
        p
        for p in submission.rglob("*")
        if p.is_file() and p.suffix in SUFFIXES and not any(part.startswith(".") for part in p.parts)
    )
    if not files:
        return None, "Your submission holds no .py or .ipynb file."
    if len(files) == 1:
        return files[0], ""
    from grader.batch.discovery import pick_by_contract
    from grader.rubric import load_rubric

    path, why = pick_by_contract(files, load_rubric(rubric).contract.functions)
    if path is None:
        names = ", ".join(p.name for p in files[:5])
        return None, f"Your submission holds several files ({names}) and none defines more of the assignment."
    return path, why[0].upper() + why[1:] + "."


def grade(path: Path, config: Config, deadline_s: float) -> tuple[dict[str, Any] | None, str]:
    """(results.json of ``python3 -m grader grade``, "") or (None, why it gave none)."""
    with tempfile.TemporaryDirectory(prefix="autograder-") as out:
        command = [sys.executable, "-m", "grader", "grade", str(path), "--rubric", config.rubric]
        command += ["--budget", config.budget, "--format", "gradescope", "--out", out]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=deadline_s)
        except subprocess.TimeoutExpired:
            limit = f"{deadline_s / 60:.0f} minutes" if deadline_s >= 120 else f"{deadline_s:.0f} s"
            return None, f"Grading took longer than the autograder's {limit} and was stopped."
        results = Path(out) / "results.json"
        if results.is_file():
            return json.loads(results.read_text()), ""
        last = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
        return None, f"The grader could not grade your submission ({last[:300]})."


def run(root: Path, source: Path) -> dict[str, Any]:
    started = time.monotonic()
    config = Config.read(source)
    path, why = choose(root / "submission", config.rubric)
    if path is None:
        return fallback(why, config, time.monotonic() - started)
    # A short timeout (a test's) keeps half of itself for the results.
    deadline = config.timeout_s - MARGIN_S if config.timeout_s > 2 * MARGIN_S else config.timeout_s / 2
    results, problem = grade(path, config, deadline)
    if results is None:
        return fallback(problem, config, time.monotonic() - started)
    results["output"] = " ".join(part for part in (why, results.get("output", ""), notes(config)) if part)
    results["execution_time"] = round(time.monotonic() - started, 1)
    return results


def main() -> int:
    root = Path(os.environ.get("AUTOGRADER_ROOT", "/autograder"))
    source = Path(os.environ.get("AUTOGRADER_SOURCE", root / "source"))
    target = root / "results" / "results.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    try:
        results = run(root, source)
    except Exception as exc:  # never an empty results.json
        config = Config("?", "?", 0.0)
        try:
            config = Config.read(source)
        except Exception:
            pass
        results = fallback(
            f"The autograder failed ({type(exc).__name__}: {exc}).", config, time.monotonic() - started
        )
    target.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
