"""Diagnoses of sheet 10's function exercises: preprocessing (1.4) and attention (3.4)."""

from __future__ import annotations

import numpy as np

from grader.checks import ground_truth
from grader.checks.reference_match import CaseOutcome, diagnosis

TOLERANCE = 1e-4


def keras_l2_normalize(images: np.ndarray, axis: int) -> np.ndarray:
    """What tf.keras.utils.normalize(x, axis) computes: x divided by its L2 norm along axis."""
    norm = np.atleast_1d(np.linalg.norm(images, 2, axis))
    norm[norm == 0] = 1
    return images / np.expand_dims(norm, axis)


def _matches(found: np.ndarray, candidate: np.ndarray, atol: float = TOLERANCE) -> bool:
    return found.shape == candidate.shape and np.allclose(candidate, found, atol=atol)


@diagnosis("preprocess_l2_normalize")
def preprocess_l2_normalize(outcome: CaseOutcome) -> str | None:
    if outcome.error is not None:
        return None
    raw, found = outcome.args["images_uint8"].astype(np.float64), outcome.found["result"]
    flat = raw.reshape(len(raw), -1)
    candidates = [keras_l2_normalize(raw, axis).reshape(len(raw), -1) for axis in (1, 2)]
    for candidate in (*candidates, keras_l2_normalize(flat, -1)):  # per image row or column, or per image
        if _matches(found, candidate, 1e-6):
            return (
                "preprocess uses tf.keras.utils.normalize, which divides by the L2 norm of each row of "
                "pixels (or of each image); the values are no longer pixel intensities in [0, 1]. "
                "Divide by 255 instead."
            )
    return None


@diagnosis("preprocess_unscaled")
def preprocess_unscaled(outcome: CaseOutcome) -> str | None:
    if outcome.error is None and _matches(outcome.found["result"], outcome.expected["result"] * 255, 1e-4):
        return "preprocess does not scale the pixels: divide by 255 so the values lie in [0, 1]."
    return None


def _attention_inputs(outcome: CaseOutcome) -> tuple[np.ndarray, ...]:
    args = outcome.args
    return args["q"], args["k"], args["v"], args.get("mask")


def _output(outcome: CaseOutcome) -> np.ndarray | None:
    if outcome.error is not None:
        return None
    found = outcome.found["output"]
    return found[0] if found.shape[:1] == (1,) and found.ndim > np.ndim(outcome.expected["output"]) else found


@diagnosis("attention_unscaled")
def attention_unscaled(outcome: CaseOutcome) -> str | None:
    found = _output(outcome)
    q, k, v, mask = _attention_inputs(outcome)
    d_k = np.shape(k)[-1]
    if found is not None and _matches(
        found, ground_truth.attention(np.asarray(q) * np.sqrt(d_k), k, v, mask)[0]
    ):
        return f"The logits are not divided by sqrt(d_k) = sqrt({d_k})."
    return None


@diagnosis("attention_mask_ignored")
def attention_mask_ignored(outcome: CaseOutcome) -> str | None:
    found = _output(outcome)
    q, k, v, mask = _attention_inputs(outcome)
    if found is not None and mask is not None and _matches(found, ground_truth.attention(q, k, v, None)[0]):
        return "The mask is ignored: add mask * -1e9 to the scaled logits before the softmax."
    return None


@diagnosis("attention_softmax_axis")
def attention_softmax_axis(outcome: CaseOutcome) -> str | None:
    found = _output(outcome)
    q, k, v, mask = (None if t is None else np.asarray(t, float) for t in _attention_inputs(outcome))
    if found is None or q is None or q.ndim < 2:
        return None
    logits = q @ np.swapaxes(k, -1, -2) / np.sqrt(k.shape[-1])
    if mask is not None:
        logits = logits + mask * -1e9
    if _matches(found, ground_truth.softmax(logits, axis=-2) @ v):
        return "The softmax runs over the queries (axis -2); it must run over the keys (the last axis)."
    return None
