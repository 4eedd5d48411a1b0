"""What every check of a model the grader trained says: the budget and the attempts.

The checks themselves belong to their assignment (``grader/assignments/<name>/checks``); their
metrics come from the stages' declarations (``grader/assignments/<name>/stages.py``), pure
functions of the raw training data shared by the checks, the retry rule and ``grader calibrate``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from grader.checks.base import CheckInputs

# The retry rules' reasons end with the threshold they missed: "..., below the calibrated threshold 65.0%".
THRESHOLD_CLAUSE = re.compile(r",? ((?:above|below) the calibrated threshold \S+?)\.?$")


def attempts_text(data: Mapping[str, Any]) -> str:
    """'Trained 2 times: with seed 0 ...; retried with seed 1.' ('' for one attempt).

    A threshold that every listed attempt missed is said once, not once per seed.
    """
    attempts = data.get("attempts", [])
    if len(attempts) <= 1:
        return ""
    reasons = [(attempt["seed"], str(attempt["reason"])) for attempt in attempts if attempt.get("reason")]
    missed = [THRESHOLD_CLAUSE.search(reason) for _, reason in reasons]
    clauses = {match.group(1) if match else None for match in missed}
    shared = clauses.pop() if len(clauses) == 1 and len(reasons) > 1 else None
    if shared is not None:
        reasons = [(seed, THRESHOLD_CLAUSE.sub("", reason)) for seed, reason in reasons]
    parts = [f"with seed {seed} {reason}" for seed, reason in reasons]
    text = f" The grader trained your model {len(attempts)} times: " + "; ".join(parts)
    if shared is not None:
        text += f" ({'both' if len(reasons) == 2 else 'each'} {shared})"
    chosen = data.get("selected_seed")
    return text + (f"; it kept the attempt with seed {chosen}." if chosen is not None else ".")


def constant_note(metrics: dict[str, Any]) -> str:
    if not metrics.get("constant_output"):
        return ""
    return (
        " Your decoder outputs the same image for every input: its last activation may be stuck "
        "(e.g. a ReLU that is 0 everywhere, or a saturated sigmoid)."
    )


def budget_text(inputs: CheckInputs, stage: str) -> str:
    budget = inputs.expected.get("budget", {})
    try:
        return (
            f"after {budget['epochs'][stage]} epochs on {budget['train_samples']:,} images "
            f"(batch {budget['batch_size'][stage]})"
        )
    except (KeyError, TypeError):
        return "after the grader's training budget"


SLOW_FALL = 0.05  # a loss that fell by less than this fraction over the budget barely trained


def slow_learning_note(data: Mapping[str, Any]) -> str:
    """Why a model that missed its threshold may have barely trained: its loss hardly fell.

    Said only with a missed threshold, so it never blames a passing model. The learning rate
    comes from the optimizer the student compiled with (the trainers record it).
    """
    losses = [float(value) for value in data.get("batch_loss") or data.get("loss", []) if value is not None]
    if len(losses) < 2 or not all(abs(value) < float("inf") for value in losses) or losses[0] <= 0:
        return ""
    fall = (losses[0] - losses[-1]) / losses[0]
    if fall >= SLOW_FALL:
        return ""
    text = (
        f" Your loss fell only from {losses[0]:.4g} to {losses[-1]:.4g} ({100 * fall:.1f}%) in the "
        "budget: the model barely trained."
    )
    return text + learning_rate_note(data)


def learning_rate_note(data: Mapping[str, Any]) -> str:
    """' Its learning rate is 1e-05 (Adam); ...' for a rate below Adam's default, else ''."""
    optimizer = data.get("optimizer") or {}
    rate = optimizer.get("learning_rate")
    if not isinstance(rate, (int, float)) or rate >= 1e-3:
        return ""
    return (
        f" Its learning rate is {rate:g} ({optimizer.get('optimizer', 'optimizer')}); Keras's default "
        "for Adam is 0.001, and every submission trains for the same fixed budget."
    )
