"""Odd notebooks from other Jupyter projects' test folders: a report or a one-line error, never a crash.

tests/odd_notebooks/ holds notebooks that jupyter/nbformat, jupyter/nbconvert and
mwouts/jupytext keep to test their own edge cases (origins in ORIGINS.toml): cells without
a source key, nbformat v3, metadata only, Julia / R / bash kernels, attachments, widgets,
raw cells, 125 kB of outputs, non-ASCII and spaced file names. Grading each (with the fast
transposed_conv rubric: the loader and the sandbox are what is tested) must give a report
or a one-line SubmissionError within a timeout: never a traceback, never a hang.
"""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from grader.grading import grade
from grader.report.model import Report
from grader.sandbox.supervisor import SandboxLimits
from grader.submission import SubmissionError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

FOLDER = Path(__file__).parent / "odd_notebooks"
ORIGINS = tomllib.loads((FOLDER / "ORIGINS.toml").read_text(encoding="utf-8"))["notebooks"]
NOTEBOOKS = sorted(ORIGINS)
TIMEOUT = 180  # seconds for one grade; a hang fails the test instead of the suite


# notebook -> what today's grader does wrong with it. Strict: a fix turns these into failures.
def _outcome(path: Path) -> Report | SubmissionError:
    try:
        return grade(path, "transposed_conv", budget="smoke", limits=SandboxLimits(threads=1))
    except SubmissionError as error:
        return error


@pytest.fixture(scope="module")
def outcomes():
    """name -> the future of its grade, two at a time."""
    pool = ThreadPoolExecutor(max_workers=2)
    futures = {name: pool.submit(_outcome, FOLDER / name) for name in NOTEBOOKS}
    yield futures
    pool.shutdown(wait=False, cancel_futures=True)


def test_every_odd_notebook_is_listed_with_its_origin():
    on_disk = {path.name for path in FOLDER.glob("*.ipynb")}
    assert on_disk == set(NOTEBOOKS)
    assert len(NOTEBOOKS) >= 15
    for name, origin in ORIGINS.items():
        assert {"repo", "commit", "path", "why"} <= set(origin), name


@pytest.mark.parametrize(
    "name",
    NOTEBOOKS,
)
def test_an_odd_notebook_gets_a_report_or_a_one_line_error(name, outcomes):
    outcome = outcomes[name].result(timeout=TIMEOUT)
    if isinstance(outcome, SubmissionError):
        message = str(outcome)
        assert message.strip() and "\n" not in message.strip(), message
        assert "Traceback" not in message
    else:
        assert isinstance(outcome, Report)
        assert outcome.status in ("graded", "error", "wrong-assignment", "timeout"), outcome.status
