"""A worker started ahead of the next check (issue 15: later notebook checks are served warm):
it grades exactly like a fresh one, stays isolated, and one that died is replaced."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from grader.grading import GradeOptions, grade, sandbox_protected
from grader.rubric import load_rubric
from grader.sandbox.supervisor import SandboxLimits, Standby

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "reference" / "transposed_conv.py"
OPTIONS = GradeOptions(public_only=True)


def scores(report) -> list[tuple[str, float, str]]:
    return [(item.id, item.score, item.feedback) for item in report.items]


def test_a_waiting_worker_grades_like_a_fresh_one_and_is_used_once():
    standby = Standby()
    standby.prepare("none", SandboxLimits(), sandbox_protected(load_rubric("transposed_conv"), OPTIONS))
    waiting = standby.sandbox
    assert waiting is not None and waiting.alive()
    try:
        warm = grade(REFERENCE, "transposed_conv", OPTIONS, standby=standby)
        assert standby.sandbox is None and not waiting.alive()  # taken, used, closed with the grading
        assert warm.isolation == grade(REFERENCE, "transposed_conv", OPTIONS).isolation
        cold = grade(REFERENCE, "transposed_conv", OPTIONS)
        assert scores(warm) == scores(cold) and warm.auto_score == warm.auto_max > 0
    finally:
        standby.close()


def test_a_waiting_worker_that_died_is_replaced_by_a_fresh_start():
    standby = Standby()
    standby.prepare("none", SandboxLimits(), sandbox_protected(load_rubric("transposed_conv"), OPTIONS))
    assert standby.sandbox is not None and standby.sandbox.process is not None
    os.kill(standby.sandbox.process.pid, signal.SIGKILL)
    standby.sandbox.process.wait()
    report = grade(REFERENCE, "transposed_conv", OPTIONS, standby=standby)
    assert report.auto_score == report.auto_max > 0 and report.load_error == ""


def test_a_waiting_worker_for_other_settings_is_not_used():
    standby = Standby()
    standby.prepare("none", SandboxLimits(threads=1), ())  # other limits, nothing protected
    waiting = standby.sandbox
    report = grade(REFERENCE, "transposed_conv", OPTIONS, standby=standby)
    assert report.auto_score == report.auto_max > 0
    assert waiting is not None and not waiting.alive() and standby.sandbox is None


def test_where_workers_are_forked_the_zygote_is_kept_ready_instead_of_a_worker():
    """A waiting worker would be older than a grading's when student code runs (/proc/self/stat):
    with a zygote, each check forks its worker when it starts, as a grading does."""
    from grader.sandbox import zygote
    from grader.sandbox.supervisor import _zygote_env

    standby = Standby()
    standby.prepare("3", SandboxLimits(), ())
    assert standby.sandbox is None and standby.take("3", SandboxLimits(), ()) is None
    ready = zygote.pool().get("3", _zygote_env("3", SandboxLimits()))
    assert ready is not None and ready.alive()
