"""Every probe gives the same answer in the first worker and in a worker started after a restart.

A worker is replaced when an item times out or crashes; the items after it must keep the
verdicts they would have had (issue: a correct ``sampling`` failed after an earlier item hung,
because the fresh worker had not been seeded). This is a property of the design, tested for
every probe of the three shipped rubrics: each reference is graded twice at the smoke budget,
once normally (all probes in one worker) and once with the worker killed before every request,
and each probe's data and arrays must be identical.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from grader.artifacts import reference_path
from grader.grading import grade
from grader.sandbox.supervisor import SandboxLimits
from grader.session import ProbeSession

TIMING_KEYS = {"seconds"}
ONE_THREAD = SandboxLimits(threads=1)  # the same TF threads in both runs


def _without_timings(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _without_timings(item) for key, item in value.items() if key not in TIMING_KEYS}
    if isinstance(value, list):
        return [_without_timings(item) for item in value]
    return value


def _grade_with_restarts(monkeypatch: pytest.MonkeyPatch, rubric: str):
    """Grade the reference with the worker killed before each of its requests."""
    original = ProbeSession._request
    restarts = []

    def request_in_a_fresh_worker(self, probe, args, item, deadline):
        if self.sandbox.process is not None and self.sandbox.process.poll() is None:
            self.sandbox._shutdown()
            restarts.append(probe)
        return original(self, probe, args, item, deadline)

    with monkeypatch.context() as patch:
        patch.setattr(ProbeSession, "_request", request_in_a_fresh_worker)
        report = grade(reference_path(rubric), rubric, budget="smoke", limits=ONE_THREAD)
    return report, restarts


@pytest.mark.parametrize("rubric", ["transposed_conv", "sheet10", "autoencoders"])
def test_each_probe_answers_the_same_after_a_forced_restart(monkeypatch, rubric):
    first = grade(reference_path(rubric), rubric, budget="smoke", limits=ONE_THREAD)
    restarted, restarts = _grade_with_restarts(monkeypatch, rubric)

    assert first.debug["worker_restarts"] == 0
    assert restarted.debug["worker_restarts"] == len(restarts) > 0
    probes = first.raw["probes"]
    assert set(restarted.raw["probes"]) == set(probes)
    for name, result in probes.items():
        again = restarted.raw["probes"][name]
        assert again.error == result.error, name
        assert again.failure == result.failure, name
        assert _without_timings(again.data) == _without_timings(result.data), name
        assert set(again.arrays) == set(result.arrays), name
        for key, array in result.arrays.items():
            np.testing.assert_array_equal(again.arrays[key], array, err_msg=f"{name}: {key}")
    verdicts = [(item.id, item.status, item.score) for item in first.items]
    assert [(item.id, item.status, item.score) for item in restarted.items] == verdicts
