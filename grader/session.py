"""A probe session: fetch raw probe data for one submission from its sandbox, once each.

It caches each probe's reply, trains the stages the assignments declare under the retry
rule (``grader/stages.py``), remembers which probe failed in which item (so later items
that need it are marked as depending on it, not re-run into the same hang), and
re-selects the chosen training attempts when a fresh worker replaces a dead one.
"""

from __future__ import annotations

import textwrap
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from grader.assignments.registry import all_checks, declared_stages
from grader.checks.base import CheckSpec, StudentError
from grader.rubric import Budget
from grader.sandbox.supervisor import Sandbox, WorkerFailure
from grader.stages import Stage, Stages, attempt_seeds


@dataclass
class ProbeResult:
    """One probe's reply: data and arrays, or a student error, or a worker failure."""

    data: dict[str, Any] = field(default_factory=dict)
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    error: dict[str, Any] | None = None  # a student error (exception, missing name ...)
    failure: WorkerFailure | None = None  # the worker died or timed out
    origin: str = ""  # the item that first asked for this probe (where a failure happened)
    output: str = ""
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None and self.failure is None


@dataclass
class ProbeSession:
    sandbox: Sandbox
    budget: Budget
    expected: Mapping[str, Any]  # parent-only data the retry rule judges with
    thresholds: Mapping[str, Mapping[str, float]] = field(default_factory=dict)  # per check name
    probe_args: Mapping[str, dict[str, Any]] = field(default_factory=dict)
    declared: Stages = field(default_factory=declared_stages)
    checks: Mapping[str, CheckSpec] = field(default_factory=all_checks)  # by name, as the items say
    results: dict[str, ProbeResult] = field(default_factory=dict)
    trained: dict[str, dict[str, Any]] = field(default_factory=dict)  # stage -> attempts and selection
    _synced_restarts: int = 0

    def fetch(self, probe: str, item: str, deadline: float) -> ProbeResult:
        if probe in self.results:
            return self.results[probe]
        stage = self.declared.trained_by(probe)
        if stage is not None:
            result = self._train(stage, item, deadline)
        else:
            blocked = self._stages_ready(self.declared.used_by(probe), item, deadline)
            result = blocked or self._request(probe, self.probe_args.get(probe, {}), item, deadline)
        self.results[probe] = result
        return result

    # -- requests -------------------------------------------------------------

    def _request(self, probe: str, args: dict[str, Any], item: str, deadline: float) -> ProbeResult:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return ProbeResult(
                failure=WorkerFailure("timeout", "timed out before it could start"), origin=item
            )
        try:
            self._resync(item, deadline)
            reply = self.sandbox.request(
                "probe", {"probe": probe, "args": args, "budget": self._budget_payload()}, item, remaining
            )
        except WorkerFailure as failure:
            return ProbeResult(failure=failure, origin=item, output=failure.output)
        return ProbeResult(
            reply.data, reply.arrays, reply.error, origin=item, output=reply.output, seconds=reply.seconds
        )

    def _budget_payload(self) -> dict[str, Any]:
        return self.budget.as_dict()

    def _resync(self, item: str, deadline: float) -> None:
        """After a restart, tell the fresh worker which training attempts were chosen."""
        self.sandbox.ensure_started()  # a dead worker is replaced here, which counts a restart
        if self.sandbox.restarts == self._synced_restarts:
            return
        for stage, record in self.trained.items():
            if record.get("selected") is not None:
                self.sandbox.request(
                    "select", self._selection(stage), item, max(1.0, deadline - time.monotonic())
                )
        self._synced_restarts = self.sandbox.restarts

    def _selection(self, stage: str) -> dict[str, Any]:
        record = self.trained[stage]
        return {
            "stage": stage,
            "attempt": record["selected"],
            "seed": record["attempts"][record["selected"]]["seed"],
        }

    # -- training stages --------------------------------------------------------

    def _stages_ready(self, stages: tuple[Stage, ...], item: str, deadline: float) -> ProbeResult | None:
        """None when every stage is trained and selected, else the failure to report."""
        for stage in stages:
            result = self.fetch(stage.probe, item, deadline)
            if not result.ok:
                return _dependency_failure(stage, result)
        return None

    def _train(self, stage: Stage, item: str, deadline: float) -> ProbeResult:
        dependencies = tuple(self.declared.get(name) for name in stage.depends_on)
        blocked = self._stages_ready(dependencies, item, deadline)
        if blocked:
            return blocked
        builder = self.results.get(stage.builder_probe)
        if builder is not None and builder.failure is not None:
            return builder  # the builders already hung or crashed: training would only repeat it
        thresholds = self.thresholds.get(stage.check, {})
        attempts: list[dict[str, Any]] = []
        results: list[ProbeResult] = []
        for attempt, seed in enumerate(attempt_seeds(self.budget.seed, self.budget.retries)):
            request = dict(stage.args) | {"attempt": attempt, "seed": seed}
            result = self._request(stage.probe, request, item, deadline)
            if not result.ok:
                if not results:  # the student's code fails: retrying with a seed will not help
                    return result
                break
            metrics = stage.metrics(result.data, result.arrays, self.expected)
            reason = stage.degenerate(metrics, thresholds)
            attempts.append(
                {"seed": seed, "reason": reason, "badness": stage.badness(metrics), "seconds": result.seconds}
            )
            results.append(result)
            if reason is None:
                break
        best = min(range(len(attempts)), key=lambda index: attempts[index]["badness"])
        self.trained[stage.name] = {"attempts": attempts, "selected": best}
        try:
            self.sandbox.request(
                "select", self._selection(stage.name), item, max(1.0, deadline - time.monotonic())
            )
        except WorkerFailure as failure:
            return ProbeResult(failure=failure, origin=item, output=failure.output)
        chosen = results[best]
        chosen.data = dict(chosen.data) | {
            "attempts": [{"seed": a["seed"], "reason": a["reason"]} for a in attempts],
            "selected_seed": attempts[best]["seed"],
        }
        return chosen

    def stage_summary(self) -> dict[str, Any]:
        return {
            stage: {
                "attempts": [
                    {"seed": a["seed"], "reason": a["reason"], "seconds": round(a["seconds"], 2)}
                    for a in record["attempts"]
                ],
                "selected_seed": record["attempts"][record["selected"]]["seed"],
            }
            for stage, record in self.trained.items()
        }


def _dependency_failure(stage: Stage, result: ProbeResult) -> ProbeResult:
    what = stage.what  # in the student's words: "training your autoencoder failed ..."
    if result.failure is not None:
        reason = f"{what} failed: {result.failure.message}"
    else:  # the student's error in words: "not implemented yet: build_vae_encoder"
        words = StudentError.from_dict(result.error or {}).feedback().split("\nAdvice:")[0]
        reason = f"{what} failed: " + textwrap.shorten(words, 240, placeholder=" ...").rstrip(".")
    failure = WorkerFailure("dependency", reason)
    return ProbeResult(failure=failure, origin=result.origin, error=None)
