"""Diagnoses of the transposed-convolution functions: what a wrong result most likely means."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from grader.checks import ground_truth
from grader.checks.reference_match import CaseOutcome, diagnosis

SLIDE_PRINTED = np.array([[57.0, 60.0], [66.0, 61.0]])  # the slide's typo: the top-right is 50

# The grader's own NumPy answers, to recompute a case with the kernel rotated by 180 degrees.
KERNEL_FUNCTIONS: dict[str, Callable[[dict[str, np.ndarray]], np.ndarray]] = {
    "conv2d_as_matmul": lambda a: ground_truth.cross_correlate_valid(a["image"], a["kernel"]),
    "transposed_conv_as_matmul": lambda a: ground_truth.transposed_convolution(
        a["x"], a["kernel"], tuple(int(v) for v in a["input_shape"])
    ),
    "upsample_then_conv": lambda a: ground_truth.upsample_and_convolve(a["x"], int(a["size"]), a["kernel"]),
}


@diagnosis("tc_flipped_kernel")
def flipped_kernel(outcome: CaseOutcome) -> str | None:
    compute = KERNEL_FUNCTIONS.get(outcome.function)
    if outcome.error is not None or compute is None:
        return None
    flipped = compute(outcome.args | {"kernel": outcome.args["kernel"][::-1, ::-1]})
    found = outcome.found["result"]
    if found.shape == flipped.shape and np.allclose(flipped, found, atol=1e-6):
        return (
            f"{outcome.function} flips the kernel (a true convolution); deep-learning convolution is a "
            "cross-correlation: the kernel is not flipped."
        )
    return None


@diagnosis("tc_slide_typo")
def slide_typo(outcome: CaseOutcome) -> str | None:
    found = outcome.found.get("result")
    if found is not None and found.shape == SLIDE_PRINTED.shape and np.allclose(SLIDE_PRINTED, found):
        return (
            f"{outcome.function} returns the slide's printed [[57, 60], [66, 61]]; the slide has a typo, "
            "the top-right entry is 50 (tf.nn.conv2d agrees)."
        )
    return None


@diagnosis("tc_needs_transpose")
def needs_transpose(outcome: CaseOutcome) -> str | None:
    """C @ x instead of C.T @ x: NumPy's matmul fails on the shapes, or the map stays small."""
    if outcome.error is not None:
        if outcome.error.kind == "exception" and "matmul" in outcome.error.message:
            return (
                "the transposed convolution multiplies by the TRANSPOSE of the convolution matrix: C.T @ x."
            )
        return None
    if outcome.found["result"].size != outcome.expected["result"].size:
        return "Multiply by the transpose C.T of the convolution matrix, which maps the small map back up."
    return None
