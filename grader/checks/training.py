"""What every check of a model the grader trained says: the budget and the attempts.

The checks themselves belong to their assignment (``grader/assignments/<name>/checks``); their
metrics come from the stages' declarations (``grader/assignments/<name>/stages.py``), pure
functions of the raw training data shared by the checks, the retry rule and ``grader calibrate``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from grader.checks.base import CheckInputs


def attempts_text(data: Mapping[str, Any]) -> str:
    """'Trained 2 times: with seed 0 ...; retried with seed 1.' ('' for one attempt)."""
    attempts = data.get("attempts", [])
    if len(attempts) <= 1:
        return ""
    parts = []
    for attempt in attempts:
        if attempt.get("reason"):
            parts.append(f"with seed {attempt['seed']} {attempt['reason']}")
    chosen = data.get("selected_seed")
    text = f" The grader trained your model {len(attempts)} times: " + "; ".join(parts)
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
