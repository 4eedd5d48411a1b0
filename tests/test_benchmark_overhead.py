"""benchmarks/overhead.py (where a grading's seconds go) and benchmarks/batch.py's rate per core.

The profile wraps the pipeline's steps with timers in the benchmark's own process; these
tests pin that the timers sum what they wrap, sort requests into training and the rest, and
leave the grader exactly as they found it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from benchmark_tools import load_benchmark

ROOT = Path(__file__).resolve().parents[1]


overhead = load_benchmark("overhead")
batch = load_benchmark("batch")


def test_timers_sum_each_step_and_keep_results_and_errors():
    timers = overhead.Timers()
    double = timers.wrap("double", lambda x: 2 * x)
    assert double(2) == 4 and double(3) == 6

    def boom():
        raise ValueError("student")

    failing = timers.wrap("boom", boom)
    try:
        failing()
    except ValueError:
        pass
    assert set(timers.seconds) == {"double", "boom"}  # a step that raises is timed too
    assert all(seconds >= 0 for seconds in timers.seconds.values())


def test_requests_are_sorted_into_training_select_and_each_probe():
    label = overhead._request_label
    assert label(None, "probe", {"probe": "train:vae"}, "6a-training", 1.0) == f"{overhead.STAGE} vae"
    assert label(None, "select", {"stage": "vae"}, "6a-training", 1.0).startswith("select")
    assert label(None, "probe", {"probe": "ae_models"}, "1-relu", 1.0) == f"{overhead.PROBE} ae_models"


def test_instrumented_wraps_every_check_and_restores_the_grader():
    from grader import grading
    from grader.checks import base
    from grader.sandbox.supervisor import Sandbox

    before = (grading.load_submission, Sandbox.request, Sandbox.start)
    checks_before = dict(base.CHECKS)  # run alone, the assignments' checks are not registered yet
    with overhead.instrumented(overhead.Timers()):
        assert grading.load_submission is not before[0]
        wrapped = dict(base.CHECKS)
    after = dict(base.CHECKS)
    assert "ae_training" in wrapped  # an assignment's check is timed too
    assert all(wrapped[name].function is not after[name].function for name in after)
    assert (grading.load_submission, Sandbox.request, Sandbox.start) == before
    assert {name: after[name] for name in checks_before} == checks_before


def test_batch_rate_per_core():
    assert batch.per_core(200.0, cores=2) == 100.0
    assert batch.per_core(90.0, cores=1) == 90.0


def test_batches_of_several_budgets_take_turns_round_by_round():
    assert (
        batch.schedule(["thorough", "default"], [1, 2], 2)
        == [
            ("thorough", 1),
            ("thorough", 2),
            ("default", 1),
            ("default", 2),
        ]
        * 2
    )
    assert batch.schedule(["default"], [2], 1) == [("default", 2)]


def test_batch_summary_gives_medians_speed_ups_and_the_budgets_ratio(monkeypatch):
    monkeypatch.setattr(batch.os, "cpu_count", lambda: 2)
    rates = {
        ("thorough", 1): [100.0, 110.0, 90.0],
        ("thorough", 2): [200.0, 180.0, 190.0],
        ("default", 1): [120.0, 130.0, 125.0],
        ("default", 2): [190.0, 210.0, 230.0],
    }
    assert batch.summary(rates, ["thorough", "default"], [1, 2]) == [
        "budget thorough, --workers 1: median 100.0 submissions per hour, 50.0 per hour and core "
        "(each: 100.0, 110.0, 90.0)",
        "budget thorough, --workers 2: median 190.0 submissions per hour, 95.0 per hour and core "
        "(each: 200.0, 180.0, 190.0)",
        "budget thorough: --workers 2 over --workers 1: 1.90x faster",
        "budget default, --workers 1: median 125.0 submissions per hour, 62.5 per hour and core "
        "(each: 120.0, 130.0, 125.0)",
        "budget default, --workers 2: median 210.0 submissions per hour, 105.0 per hour and core "
        "(each: 190.0, 210.0, 230.0)",
        "budget default: --workers 2 over --workers 1: 1.68x faster",
        "--workers 1: rate of default / thorough: 1.25 (interleaved)",
        "--workers 2: rate of default / thorough: 1.11 (interleaved)",
    ]


def test_batch_benchmark_refuses_an_unknown_budget_before_grading(capsys):
    with pytest.raises(SystemExit) as stopped:
        batch.main(["--budget", "default", "fast"])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert "no budget named 'fast' (known: default, smoke, thorough)" in err


def test_batch_benchmark_refuses_zero_rounds(capsys):
    with pytest.raises(SystemExit) as stopped:
        batch.main(["--rounds", "0"])
    assert stopped.value.code == 2
    assert "--count, --rounds and --workers must be at least 1" in capsys.readouterr().err


def test_stages_and_probes_are_summed_into_their_totals():
    steps = {
        f"{overhead.STAGE} vae": 3.0,
        f"{overhead.STAGE} autoencoder": 2.0,
        f"{overhead.PROBE} knn": 0.5,
        "checks (parent)": 0.25,
    }
    totals, parts = overhead.grouped(steps)
    assert totals == {overhead.TRAINING: 5.0, overhead.OTHER: 0.5, "checks (parent)": 0.25}
    assert parts[overhead.TRAINING] == {f"{overhead.STAGE} vae": 3.0, f"{overhead.STAGE} autoencoder": 2.0}
