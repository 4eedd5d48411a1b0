"""Workers forked from a zygote (grader/sandbox/zygote.py): the same results as a fresh worker, no
op in the zygote before a fork, no hang or leak over many forks, and a fresh worker as fallback."""

from __future__ import annotations

import os
import signal
import socket
import time
from pathlib import Path

import numpy as np
import pytest

from grader.artifacts import reference_path
from grader.grading import GradeOptions, grade
from grader.report.render import setup_line
from grader.sandbox import zygote
from grader.sandbox.supervisor import Sandbox, SandboxLimits, _zygote_env

ONE_THREAD = SandboxLimits(threads=1)  # the same TF threads in both runs
TINY_TRAINING = """
import numpy as np
import keras
keras.utils.set_random_seed(0)
model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3), keras.layers.Dense(1)])
model.compile("adam", "mse")
history = model.fit(np.ones((32, 4)), np.zeros((32, 1)), epochs=1, verbose=0)
LOSS = float(history.history["loss"][-1])
"""


def _without_timings(value):
    if isinstance(value, dict):
        return {key: _without_timings(item) for key, item in value.items() if key != "seconds"}
    if isinstance(value, list):
        return [_without_timings(item) for item in value]
    return value


def _zygote(limits: SandboxLimits = ONE_THREAD) -> zygote.Zygote:
    running = zygote.pool().get("3", _zygote_env("3", limits))
    assert running is not None, "the zygote did not start"
    return running


def test_fork_refusal_names_the_threads_that_grew():
    assert zygote.fork_refusal(3, 3) is None
    assert zygote.fork_refusal(3, 2) is None
    assert zygote.fork_refusal(3, 7) == (
        "the zygote has 7 OS threads, 3 after its imports: something ran in it"
    )


@pytest.mark.parametrize("rubric", ["transposed_conv", "sheet10", "autoencoders"])
def test_a_forked_worker_gives_every_probe_the_same_result_as_a_fresh_one(monkeypatch, rubric):
    forked = grade(reference_path(rubric), rubric, budget="smoke", limits=ONE_THREAD)
    monkeypatch.setenv("GRADER_ZYGOTE", "0")
    fresh = grade(reference_path(rubric), rubric, budget="smoke", limits=ONE_THREAD)

    expected_kind = "fresh" if rubric == "transposed_conv" else "forked"  # its rubric needs no TensorFlow
    assert (forked.worker, fresh.worker) == (expected_kind, "fresh")
    assert forked.isolation == fresh.isolation
    assert set(forked.raw["probes"]) == set(fresh.raw["probes"])
    for name, result in fresh.raw["probes"].items():
        again = forked.raw["probes"][name]
        assert (again.error, again.failure) == (result.error, result.failure), name
        assert _without_timings(again.data) == _without_timings(result.data), name
        assert set(again.arrays) == set(result.arrays), name
        for key, array in result.arrays.items():
            np.testing.assert_array_equal(again.arrays[key], array, err_msg=f"{name}: {key}")
    assert [(i.id, i.status, i.score, i.feedback) for i in forked.items] == [
        (i.id, i.status, i.score, i.feedback) for i in fresh.items
    ]


def test_the_report_names_the_kind_of_worker():
    public = GradeOptions(public_only=True)
    report = grade(reference_path("autoencoders"), "autoencoders", public, budget="smoke")
    assert report.worker == "forked"
    assert "(forked worker)" in setup_line(report)


def _load(cells_source: str, limits: SandboxLimits = ONE_THREAD) -> tuple[dict, str]:
    with Sandbox([{"source": cells_source, "filename": "tiny.py"}], {}, limits=limits) as sandbox:
        load = sandbox.start()
        return load, sandbox.worker_kind


def test_many_forks_in_a_row_neither_hang_nor_leak_and_the_zygote_runs_no_op():
    """200 workers, each training a small model at load: every one answers, and the zygote's
    threads and memory stay as they were (it never runs an op itself)."""
    running = _zygote()
    before = running.status()
    assert before["threads"] == before["baseline"]
    rss = []
    started = time.monotonic()
    for index in range(200):
        load, kind = _load(TINY_TRAINING)
        assert kind == "forked", index
        assert load["errors"] == [] and "LOSS" in load["defined"], (index, load)
        if index in (19, 199):
            rss.append(running.status()["rss"])
    after = running.status()
    assert after["threads"] == after["baseline"] == before["baseline"]
    assert rss[1] - rss[0] < 8 * 2**20, f"the zygote grew by {(rss[1] - rss[0]) / 2**20:.1f} MB"
    assert time.monotonic() - started < 600


def test_a_forked_worker_is_isolated_like_a_fresh_one():
    probe = "import os\nNET = sorted(os.listdir('/sys/class/net'))\nPID = os.getpid()\n"
    with Sandbox([{"source": probe, "filename": "probe.py"}], {}, limits=ONE_THREAD) as forked:
        forked.start()
    os.environ["GRADER_ZYGOTE"] = "0"
    try:
        with Sandbox([{"source": probe, "filename": "probe.py"}], {}, limits=ONE_THREAD) as fresh:
            fresh.start()
    finally:
        del os.environ["GRADER_ZYGOTE"]
    assert (forked.worker_kind, fresh.worker_kind) == ("forked", "fresh")
    assert forked.isolation == fresh.isolation and "pidns" in forked.isolation


def test_a_refused_fork_falls_back_to_a_fresh_worker_and_the_zygote_is_not_used_again():
    running = _zygote()
    ours, theirs = socket.socketpair()
    try:
        with pytest.raises(zygote.ZygoteUnavailable, match="expected 3 file descriptors"):
            running.spawn([], {}, Path("/"), (ours.fileno(), theirs.fileno()))  # type: ignore[arg-type]
    finally:
        ours.close()
        theirs.close()
    assert not running.alive()
    load, kind = _load(TINY_TRAINING)  # a new zygote is started for the next worker
    assert kind == "forked" and "LOSS" in load["defined"]


def test_a_dead_zygote_means_a_fresh_worker(monkeypatch):
    def dead(*args, **kwargs):
        raise zygote.ZygoteUnavailable("the zygote is not running")

    monkeypatch.setattr(zygote.Zygote, "spawn", dead)
    load, kind = _load(TINY_TRAINING)
    assert kind == "fresh" and "LOSS" in load["defined"]


def test_a_killed_zygote_takes_its_workers_with_it_and_the_next_one_starts():
    running = _zygote()
    with Sandbox([{"source": "X = 1", "filename": "x.py"}], {}, limits=ONE_THREAD) as sandbox:
        sandbox.start()
        assert sandbox.worker_kind == "forked"
        os.kill(running.process.pid, signal.SIGKILL)
        assert sandbox.process.wait(timeout=30) == -signal.SIGKILL
    load, kind = _load(TINY_TRAINING)
    assert kind == "forked" and "LOSS" in load["defined"]


def test_a_reused_pid_does_not_make_a_new_worker_read_as_dead():
    """The kernel reuses pids (a long batch, a fork bomb in between): the status of an earlier child
    with the new worker's pid is dropped when the fork's reply arrives (it comes before any exit of
    that child). Without this, a live worker polled as exited and was restarted (CI: 21 restarts for
    19 kills in tests/test_restart_equivalence.py)."""
    import threading

    channel = object.__new__(zygote.Zygote)  # the message book-keeping only: no process
    channel._changed, channel._statuses, channel._replies, channel._dead = (
        threading.Condition(),
        {},
        [],
        False,
    )
    channel._record({"exit": 4242, "status": 9})  # an earlier worker with pid 4242, killed
    assert channel.returncode(4242) == -9
    channel._record({"forked": 4242})  # a new worker got the same pid
    assert channel.returncode(4242) is None
    assert channel._replies == [{"forked": 4242}]
    channel._record({"exit": 4242, "status": 0})
    assert channel.returncode(4242) == 0
