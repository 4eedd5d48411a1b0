"""benchmarks/grade_reference.py: budgets graded in turns, and what it prints for each."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from benchmark_tools import load_benchmark

ROOT = Path(__file__).resolve().parents[1]
grade_reference = load_benchmark("grade_reference")


def fake_run(wall: float, rss: float = 900.0) -> dict:
    return {
        "wall": wall,
        "rss": rss,
        "items": [("1-shapes", 0.01, "passed"), ("1-training", wall - 1, "passed")],
        "score": (18.5, 18.5),
        "stages": {},
    }


def test_budgets_are_graded_in_turns_one_of_each_per_round():
    assert grade_reference.interleaved(["thorough", "default"], 3) == [
        "thorough",
        "default",
        "thorough",
        "default",
        "thorough",
        "default",
    ]
    assert grade_reference.interleaved(["default"], 2) == ["default", "default"]


def test_a_budgets_summary_gives_the_median_each_run_and_the_slow_items():
    lines = grade_reference.summary("default", [fake_run(30.0), fake_run(26.0, 950.0), fake_run(40.0)])
    assert lines[0] == "budget default, 3 runs (artifacts cached)"
    assert lines[1] == "  wall time: median 30.0 s (min 26.0, max 40.0); each: 30.0, 26.0, 40.0"
    assert lines[2] == "  peak worker RSS: 950 MB"
    assert lines[3] == "  score: 18.5 / 18.5 automatic points"
    assert lines[5:] == ["    1-training                 29.0 s  passed"]  # 1-shapes' 0.01 s is left out


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "grade_reference.py"), *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )


def test_an_unknown_budget_is_a_usage_error_before_any_grading():
    result = run("--budget", "default", "fast")
    assert result.returncode == 2
    assert "no budget named 'fast' (known: default, smoke, thorough)" in result.stderr
    assert "warming" not in result.stderr


def test_runs_below_one_are_a_usage_error():
    result = run("--runs", "0")
    assert result.returncode == 2
    assert "--runs must be at least 1" in result.stderr


def test_the_summary_names_the_kinds_of_worker_the_reports_recorded():
    run = {"wall": 20.0, "rss": 680.0, "items": [], "score": (18.5, 18.5), "worker": "forked"}
    assert "  peak worker RSS: 680 MB; workers: forked" in grade_reference.summary("default/forked", [run])
    assert grade_reference.turns(["default"], ["fresh", "forked"]) == ["default/fresh", "default/forked"]
