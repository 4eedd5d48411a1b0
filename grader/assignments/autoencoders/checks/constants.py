"""Checks of the ``autoencoders`` module-level answers: 3b's expected count and 3c's loss."""

from __future__ import annotations

import re

from grader.checks.base import CheckInputs, Verdict, check
from grader.checks.constants import PROBE, constant_value, number_value


@check("expected_random_correct", probes=PROBE)
def expected_random_correct(inputs: CheckInputs) -> Verdict:
    """About 100 of the 1,000 test images are right by chance (1 in 10 classes)."""
    low, high = inputs.params.get("range", [90, 110])
    found = number_value(inputs, "EXPECTED_RANDOM_CORRECT")
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
    value = constant_value(inputs, "CLASSIFICATION_LOSS")
    text = str(value.get("value", "")) if value.get("kind") == "str" else ""
    if not text.strip():
        return Verdict.failed("CLASSIFICATION_LOSS is empty: name the loss you would use for classification.")
    if CROSS_ENTROPY_WORDS.search(text):
        return Verdict.passed(f"'{text[:80]}' is a cross-entropy loss: right for classification.")
    return Verdict.failed(
        f"'{text[:80]}' is not a cross-entropy loss; for 10 classes use (sparse) categorical cross-entropy."
    )
