"""Checks of module-level answers: numbers and words the exercises ask for."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from grader.checks import ground_truth
from grader.checks.base import CheckInputs, StudentCallFailed, StudentError, Verdict, check

PROBE = ("constants",)


def _constant(inputs: CheckInputs, name: str) -> Mapping[str, Any]:
    value = inputs.part("constants", name)
    if value.get("kind") == "none":
        raise StudentCallFailed(StudentError("invalid", name, "is still None: fill in your answer"))
    return value


def _number(inputs: CheckInputs, name: str) -> float | None:
    value = _constant(inputs, name)
    return value.get("value") if value.get("kind") == "number" else None


@check("constant_number", probes=PROBE, required_params=("name",))
def constant_number(inputs: CheckInputs) -> Verdict:
    """A constant equals ``expected`` (or is at least ``minimum``)."""
    name = inputs.params["name"]
    what = inputs.params.get("what", name)
    found = _number(inputs, name)
    if found is None:
        return Verdict.failed(f"{name} should be a number; it is {_constant(inputs, name).get('kind')}.")
    if "expected" in inputs.params:
        expected = float(inputs.params["expected"])
        if found == expected:
            return Verdict.passed(f"{name} = {found:g}: {what} is right.")
        return Verdict.failed(f"{name} is {found:g}; the exercise asks for {expected:g} ({what}).")
    minimum = float(inputs.params["minimum"])
    if found >= minimum:
        return Verdict.passed(f"{name} = {found:g} (at least {minimum:g}).")
    return Verdict.failed(f"{name} is {found:g}; the exercise asks for at least {minimum:g} ({what}).")


@check("expected_random_correct", probes=PROBE)
def expected_random_correct(inputs: CheckInputs) -> Verdict:
    """About 100 of the 1,000 test images are right by chance (1 in 10 classes)."""
    low, high = inputs.params.get("range", [90, 110])
    found = _number(inputs, "EXPECTED_RANDOM_CORRECT")
    if found is None:
        return Verdict.failed(
            "EXPECTED_RANDOM_CORRECT should be a number (how many of the 1000 test images)."
        )
    if low <= found <= high:
        return Verdict.passed(f"EXPECTED_RANDOM_CORRECT = {found:g}: about 1 in 10 of the 1000 test images.")
    if 0 < found <= 1 or 5 <= found <= 15:
        return Verdict.failed(
            f"EXPECTED_RANDOM_CORRECT is {found:g}: that looks like a fraction or a percentage; the question "
            "asks how many of the 1000 test images would be right."
        )
    return Verdict.failed(
        f"EXPECTED_RANDOM_CORRECT is {found:g}; with 10 equally likely digits, how many of 1000?"
    )


CROSS_ENTROPY_WORDS = re.compile(
    r"cross[\s_-]*entropy|crossentropy|\bcce\b|log[\s_-]*loss|negative\s+log[\s-]*likelihood|\bnll\b",
    re.IGNORECASE,
)


@check("classification_loss_text", probes=PROBE)
def classification_loss_text(inputs: CheckInputs) -> Verdict:
    value = _constant(inputs, "CLASSIFICATION_LOSS")
    text = str(value.get("value", "")) if value.get("kind") == "str" else ""
    if not text.strip():
        return Verdict.failed("CLASSIFICATION_LOSS is empty: name the loss you would use for classification.")
    if CROSS_ENTROPY_WORDS.search(text):
        return Verdict.passed(f"'{text[:80]}' is a cross-entropy loss: right for classification.")
    return Verdict.failed(
        f"'{text[:80]}' is not a cross-entropy loss; for 10 classes use (sparse) categorical cross-entropy."
    )


ATTENTION_READINGS = {
    "one token of depth 3": np.array([0.6, 0.2, 0.9]),
    "three tokens of depth 1": ground_truth.attention(
        np.array([[0.8], [0.5], [0.21]]), np.array([[0.1], [0.62], [0.73]]), np.array([[0.6], [0.2], [0.9]])
    )[0].ravel(),
}


@check("attention_value", probes=PROBE)
def attention_value(inputs: CheckInputs) -> Verdict:
    """ATTENTION_OUTPUT matches either valid reading of the seed's three vectors."""
    value = _constant(inputs, "ATTENTION_OUTPUT")
    if value.get("kind") == "number":
        found = np.array([value["value"]])
    elif value.get("kind") == "array":
        found = inputs.array("constants", "ATTENTION_OUTPUT").ravel()
    else:
        return Verdict.failed(
            f"ATTENTION_OUTPUT should be a list of numbers; it is a {value.get('type', value.get('kind'))}."
        )
    for reading, expected in ATTENTION_READINGS.items():
        if found.shape == expected.shape and np.allclose(expected, found, atol=2e-3):
            return Verdict.passed(
                f"ATTENTION_OUTPUT = {np.round(found, 4).tolist()}: right, reading the vectors as {reading}."
            )
    readings = "; ".join(f"as {name}: {np.round(v, 4).tolist()}" for name, v in ATTENTION_READINGS.items())
    return Verdict.failed(f"ATTENTION_OUTPUT is {np.round(found, 4).tolist()}; expected ({readings}).")
