"""Benchmark: where the seconds of one grading go, training against everything else.

Grades the reference submission (artifacts cached, as in a batch) with timers around the
pipeline's steps (docs/architecture.md, "The pipeline of one submission") and prints each
step's seconds and share of the wall time, then the overhead: every second that is not a
training stage's request. The timers wrap functions in this process only; the grader is
not changed. A bare ``import tensorflow`` in a fresh ``python -I`` is timed separately, to
split the worker's start into the TensorFlow import and the rest.

    python benchmarks/overhead.py [--rubric autoencoders] [--budget default] [--runs 1]
"""

from __future__ import annotations

import argparse
import functools
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

TRAINING = "training stages (worker: build + fit + predict, with retries)"
OTHER = "other probes (worker: builders, student functions, figures described)"
PROBE = "  probe"  # one line per other probe, under their total
STAGE = "  stage"  # one line per training stage, under their total


@dataclass
class Timers:
    """Seconds per step, summed over one grading."""

    seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))

    def wrap(self, label: str | Callable[..., str], function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.monotonic()
            try:
                return function(*args, **kwargs)
            finally:
                name = label(*args, **kwargs) if callable(label) else label
                self.seconds[name] += time.monotonic() - started

        return timed


def _request_label(sandbox: Any, op: str, payload: dict[str, Any], *rest: Any, **kw: Any) -> str:
    probe = str(payload.get("probe", ""))
    if op == "probe" and probe.startswith("train:"):
        return f"{STAGE} {probe.partition(':')[2]}"
    if op == "select":
        return "select requests (worker: keep the chosen attempt)"
    return f"{PROBE} {probe}"


@contextmanager
def instrumented(timers: Timers) -> Iterator[None]:
    """Wrap the pipeline's steps with timers; restore them afterwards."""
    from grader import grading
    from grader.assignments import registry
    from grader.checks import base as checks_base
    from grader.sandbox.supervisor import Sandbox

    patches: list[tuple[Any, str, Any]] = []

    def patch(owner: Any, name: str, label: str | Callable[..., str]) -> None:
        original = getattr(owner, name)
        patches.append((owner, name, original))
        setattr(owner, name, timers.wrap(label, original))

    patch(grading, "load_submission", "load and parse the submission")
    patch(grading, "load_dataset", "data: load the cached split")
    patch(grading.calibration, "thresholds_for", "calibration: read thresholds")
    patch(grading.artifacts, "load_or_build", "reference artifacts: load from cache")
    patch(grading.reference_calls, "load_or_compute", "reference calls: load from cache")
    patch(grading.inputs, "for_assignment", "worker inputs: build")
    patch(grading.integrity, "scan", "integrity scan (AST)")
    patch(grading, "wrong_assignment_message", "assignment match")
    patch(Sandbox, "__post_init__", "sandbox folder: write inputs.npz + submission.json")
    patch(Sandbox, "start", "worker start: Python + TensorFlow import + submission load")
    patch(Sandbox, "request", _request_label)
    patch(Sandbox, "close", "worker stop + folder removal")
    registry.all_checks()  # each assignment's checks register on import: wrap them too
    originals = dict(checks_base.CHECKS)
    for name, spec in originals.items():
        checks_base.CHECKS[name] = replace(spec, function=timers.wrap("checks (parent)", spec.function))
    try:
        yield
    finally:
        for owner, name, original in reversed(patches):
            setattr(owner, name, original)
        checks_base.CHECKS.update(originals)


def tensorflow_import_seconds() -> float:
    """``import tensorflow`` alone in a fresh isolated interpreter, as the worker does it."""
    code = "import time; t = time.monotonic(); import tensorflow; print(time.monotonic() - t)"
    out = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def profile_once(rubric: str, budget: str) -> tuple[float, dict[str, float]]:
    from grader.artifacts import reference_path
    from grader.grading import grade
    from grader.report.writer import Layout, write_report

    timers = Timers()
    with instrumented(timers):
        started = time.monotonic()
        report = grade(reference_path(rubric), rubric, budget=budget)
        graded = time.monotonic()
    with tempfile.TemporaryDirectory() as folder:
        write_report(report, Layout(Path(folder)), "report", ("json", "md", "html"))
    timers.seconds["report files + figures (parent, after grading)"] += time.monotonic() - graded
    wall = time.monotonic() - started
    accounted = sum(timers.seconds.values())
    timers.seconds["rest (items' bookkeeping, not timed above)"] = max(0.0, wall - accounted)
    return wall, dict(timers.seconds)


def grouped(steps: dict[str, float]) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """Per-stage and per-probe seconds summed into their totals: (steps with totals, total -> parts)."""
    prefixes = {TRAINING: STAGE, OTHER: PROBE}
    parts = {total: {k: v for k, v in steps.items() if k.startswith(p)} for total, p in prefixes.items()}
    kept = {k: v for k, v in steps.items() if not k.startswith((STAGE, PROBE))}
    return kept | {total: sum(members.values()) for total, members in parts.items()}, parts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rubric", default="autoencoders")
    parser.add_argument("--budget", default="default", help="rubric budget (default: the real one)")
    parser.add_argument("--runs", type=int, default=1, help="gradings to profile (medians are printed)")
    args = parser.parse_args(argv)
    from grader import artifacts
    from grader.data import load_dataset
    from grader.rubric import load_rubric

    rubric = load_rubric(args.rubric)
    artifacts.load_or_build(rubric, rubric.budget_named(args.budget), load_dataset("default"))
    runs = [profile_once(args.rubric, args.budget) for _ in range(args.runs)]
    wall = statistics.median(w for w, _ in runs)
    labels = list(dict.fromkeys(label for _, steps in runs for label in steps))
    steps = {label: statistics.median(s.get(label, 0.0) for _, s in runs) for label in labels}
    tf_import = tensorflow_import_seconds()
    print(
        f"one grading of reference/{args.rubric}.py, budget {args.budget}: {wall:.1f} s wall "
        f"(median of {args.runs})"
    )
    steps, parts = grouped(steps)
    for label, seconds in sorted(steps.items(), key=lambda kv: -kv[1]):
        print(f"  {seconds:6.2f} s  {100 * seconds / wall:5.1f} %  {label}")
        for part, part_seconds in sorted(parts.get(label, {}).items(), key=lambda kv: -kv[1]):
            if part_seconds >= 0.05:
                print(f"  {part_seconds:6.2f} s  {100 * part_seconds / wall:5.1f} %  {part}")
    print(f"  (of the worker start: a bare `import tensorflow` in python -I takes {tf_import:.1f} s)")
    overhead = wall - steps.get(TRAINING, 0.0)
    print(
        f"overhead (everything but the training requests): {overhead:.1f} s = "
        f"{100 * overhead / wall:.1f} % of wall"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
