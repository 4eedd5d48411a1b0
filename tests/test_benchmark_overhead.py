"""benchmarks/overhead.py (where a grading's seconds go) and benchmarks/batch.py's rate per core.

The profile wraps the pipeline's steps with timers in the benchmark's own process; these
tests pin that the timers sum what they wrap, sort requests into training and the rest, and
leave the grader exactly as they found it.
"""

from __future__ import annotations

from pathlib import Path

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


def test_instrumented_restores_the_grader():
    from grader import grading
    from grader.checks import base
    from grader.sandbox.supervisor import Sandbox

    before = (grading.load_submission, Sandbox.request, Sandbox.start, dict(base.CHECKS))
    with overhead.instrumented(overhead.Timers()):
        assert grading.load_submission is not before[0]
        assert base.CHECKS["ae_training"].function is not before[3]["ae_training"].function
    assert (grading.load_submission, Sandbox.request, Sandbox.start, dict(base.CHECKS)) == before


def test_batch_rate_per_core():
    assert batch.per_core(200.0, cores=2) == 100.0
    assert batch.per_core(90.0, cores=1) == 90.0


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
