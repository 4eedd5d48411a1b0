"""Calibrated thresholds: trained-model items are judged against the reference, not guesses.

``grader calibrate --rubric NAME --seeds K`` grades the reference K times under the
rubric's budget (grading seeds seed..seed+K-1, with the same retry rule as grading)
and writes ``NAME.calibration.json`` beside the rubric (for a rubric installed in
site-packages, or in a folder the user cannot write, into the user cache instead). The
items it calibrates are those of the checks that grade a training stage; the stage declares
each threshold (``Threshold`` in ``grader/stages.py``: the metric, its direction, a default
margin and a floor). For every such item it records the reference's values (min, median,
max) and a threshold the margin beyond the worst one:

* lower-is-better metrics (MSE, BCE): ``threshold = worst * (1 + margin)``;
* higher-is-better metrics (accuracy): ``threshold = max(worst - margin, floor)`` (the floor
  is chance, for instance).

An item may set ``margin`` in its params. Grading reads an item's threshold from the file
when the item's key (a sha of its check and params, the budget, the data and the
reference source) matches; otherwise it warns and uses the rubric's fallback value.

While calibrating there are no thresholds yet, so the retry rule retrains only what is
degenerate without them (a dead latent dimension, a NaN loss); the file records how
often the reference's first attempt was degenerate.
"""

from __future__ import annotations

import hashlib
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

from grader import __version__
from grader.data import Dataset
from grader.fileio import write_atomic
from grader.rubric import Budget, Item, Rubric
from grader.stages import Stage


def threshold_rule(
    values: list[float], direction: str, margin: float, floor: float | None = None
) -> tuple[float, str]:
    """The threshold beyond the worst reference value, and the rule in words."""
    if direction == "upper":
        return max(values) * (1 + margin), f"worst * (1 + {margin:g})"
    threshold = min(values) - margin
    if floor is None:
        return threshold, f"worst - {margin:g}"
    return max(threshold, floor), f"max(worst - {margin:g}, {floor:g})"


def _entry_name(budget: Budget, dataset: Dataset) -> str:
    return f"{budget.name}@{dataset.name}"


def item_key(item: Item, budget: Budget, dataset: Dataset, reference_sha: str) -> str:
    """What a threshold depends on: the item's check and params, the budget, the data, the reference."""
    material = {
        "check": item.check,
        "params": item.params,
        "budget": {k: v for k, v in budget.as_dict().items() if k not in ("name", "seed")},
        "data": dataset.fingerprint,
        "reference": reference_sha,
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()[:24]


def _reference_sha(rubric: Rubric) -> str:
    from grader.artifacts import reference_path

    if rubric.precomputed is not None:  # a kit: no reference, its sha comes with the rubric
        return rubric.reference_digest
    return hashlib.sha256(reference_path(rubric).read_bytes()).hexdigest()


def _threshold_items(rubric: Rubric) -> list[tuple[Item, Stage]]:
    """The rubric's items that grade a stage with calibrated thresholds, with the stage."""
    stages = rubric.stages
    graded = [(item, stages.graded_by(item.check)) for item in rubric.items if not item.is_manual]
    return [(item, stage) for item, stage in graded if stage is not None and stage.thresholds]


def thresholds_for(
    rubric: Rubric, budget: Budget, dataset: Dataset, use_file: bool = True
) -> tuple[dict[str, dict[str, float]], list[str]]:
    """(item id -> {threshold name: value}, warnings). Items without a current calibration use
    the rubric's fallback values from their params, with a warning."""
    needs = _threshold_items(rubric)
    if not needs or not use_file:
        return {}, []
    path = rubric.calibration_path
    command = f"grader calibrate --rubric {rubric.name} --budget {budget.name}"
    try:
        entry = json.loads(path.read_text())["budgets"][_entry_name(budget, dataset)]
        calibrated = entry["items"]
    except FileNotFoundError:
        return {}, [
            f"{rubric.name}: no calibration file ({path.name}); using the rubric's fallback thresholds. "
            f"Run: {command}"
        ]
    except (OSError, ValueError, KeyError, TypeError):
        return {}, [
            f"{rubric.name}: {path.name} has no calibration for budget '{budget.name}' on data "
            f"'{dataset.name}'; "
            f"using the rubric's fallback thresholds. Run: {command}"
        ]
    reference_sha = _reference_sha(rubric)
    thresholds, stale = {}, []
    for item, _ in needs:
        record = calibrated.get(item.id, {})
        if record.get("key") == item_key(item, budget, dataset, reference_sha):
            thresholds[item.id] = dict(record["thresholds"])
        else:
            stale.append(item.id)
    warnings = []
    if stale:
        warnings.append(
            f"{rubric.name}: the calibration of {', '.join(stale)} in {path.name} is missing or stale (the "
            f"item, "
            f"budget, data or reference changed since it was made); using the rubric's fallback thresholds "
            f"for "
            f"them. Run: {command}"
        )
    return thresholds, warnings


def calibrate(
    rubric: Rubric,
    budget: Budget,
    dataset: Dataset,
    seeds: int,
    grade_reference: Callable[[Budget], Any],
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Grade the reference under ``seeds`` grading seeds and write the calibration entry."""
    started = time.monotonic()
    per_item: dict[str, dict[str, list[float]]] = {}
    attempts: dict[str, list[dict[str, Any]]] = {}
    seconds = []
    for index in range(seeds):
        report = grade_reference(budget.with_seed(budget.seed + index))
        seconds.append(report.seconds)
        for item in report.items:
            for metric, value in item.metrics.items():
                if value is not None:
                    per_item.setdefault(item.id, {}).setdefault(metric, []).append(float(value))
        for stage, record in report.stages.items():
            attempts.setdefault(stage, []).append(record)
        if progress:
            progress(index + 1, seeds)
    items: dict[str, Any] = {}
    reference_sha = _reference_sha(rubric)
    for item, stage in _threshold_items(rubric):
        key = item_key(item, budget, dataset, reference_sha)
        items[item.id] = {"check": item.check, "key": key, "thresholds": {}, "reference": {}}
        for declared in stage.thresholds:
            metric = declared.metric
            values = per_item.get(item.id, {}).get(metric, [])
            if not values:
                raise RuntimeError(f"calibrating {item.id}: the reference produced no '{metric}' values")
            margin = float(item.params.get("margin", declared.margin))
            threshold, rule = threshold_rule(values, declared.direction, margin, declared.floor)
            items[item.id]["thresholds"][declared.name] = round(threshold, 6)
            items[item.id]["reference"][metric] = {
                "min": min(values),
                "median": statistics.median(values),
                "max": max(values),
                "values": values,
                "rule": rule,
            }
    entry = {
        "grader_version": __version__,
        "data": {"name": dataset.name, "fingerprint": dataset.fingerprint},
        "budget": budget.as_dict(),
        "seeds": [budget.seed + index for index in range(seeds)],
        "items": items,
        "retries": _retry_summary(attempts),
        "grading_seconds": {"median": statistics.median(seconds), "max": max(seconds)},
        "calibration_seconds": round(time.monotonic() - started, 1),
    }
    _write_entry(rubric, _entry_name(budget, dataset), entry)
    return entry


def _retry_summary(attempts: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Per stage: how often the reference's first attempt was degenerate (e.g. collapsed)."""
    summary = {}
    for stage, records in attempts.items():
        first_bad = [
            r["attempts"][0]["reason"] for r in records if r["attempts"] and r["attempts"][0]["reason"]
        ]
        summary[stage] = {
            "runs": len(records),
            "first_attempt_degenerate": len(first_bad),
            "rate": round(len(first_bad) / max(len(records), 1), 4),
            "reasons": first_bad,
            "attempts_per_run": [len(r["attempts"]) for r in records],
        }
    return summary


def _write_entry(rubric: Rubric, name: str, entry: dict[str, Any]) -> None:
    """Add the entry to the rubric's calibration (the other budgets' entries are kept) and write it where
    the rubric's calibration may be written: beside it, or the user cache for an installed rubric."""
    try:
        document = json.loads(rubric.calibration_path.read_text())
    except (OSError, ValueError):
        document = {}
    path = rubric.calibration_write_path
    path.parent.mkdir(parents=True, exist_ok=True)
    document.setdefault("rubric", rubric.name)
    document.setdefault("budgets", {})[name] = entry
    document["about"] = (
        "Written by `grader calibrate`; thresholds = worst reference value * (1 + margin) for "
        "lower-is-better metrics, max(worst - margin, chance 0.1) for accuracy. Do not edit by hand."
    )
    write_atomic(path, json.dumps(document, indent=2, sort_keys=True) + "\n")
