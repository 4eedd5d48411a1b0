"""``transposed_conv``: convolution and transposed convolution as matrix products."""

from __future__ import annotations

import numpy as np

from grader.checks import ground_truth
from grader.checks.base import CheckInputs, StudentCallFailed, StudentError, Verdict, check

SLIDE_PRINTED = np.array([[57.0, 60.0], [66.0, 61.0]])  # the slide's typo: the top-right is 50


def _expected(function: str, args: dict[str, np.ndarray]) -> np.ndarray:
    if function == "conv_matrix":
        return ground_truth.conv_matrix(args["kernel"], tuple(int(v) for v in args["input_shape"]))
    if function == "conv2d_as_matmul":
        return ground_truth.cross_correlate_valid(args["image"], args["kernel"])
    if function == "transposed_conv_as_matmul":
        return ground_truth.transposed_conv(
            args["x"], args["kernel"], tuple(int(v) for v in args["input_shape"])
        )
    return ground_truth.upsample_then_conv(args["x"], int(args["size"]), args["kernel"])


def _flipped(function: str, args: dict[str, np.ndarray]) -> np.ndarray:
    """The same computation with the kernel rotated by 180 degrees (a true convolution)."""
    return _expected(function, args | {"kernel": np.asarray(args["kernel"])[::-1, ::-1]})


@check(
    "tc_function", probes=lambda params: (f"tc:{params['function']}",), required_params=("function", "case")
)
def tc_function(inputs: CheckInputs) -> Verdict:
    function, case = inputs.params["function"], inputs.params["case"]
    probe = f"tc:{function}"
    part = inputs.probes[probe].get(f"{function}_{case}", {})
    if "error" in part:
        error = StudentError.from_dict(part["error"])
        if (
            function == "transposed_conv_as_matmul"
            and "matmul" in error.message
            and error.kind == "exception"
        ):
            error = StudentError(
                error.kind,
                error.name,
                error.message,
                error.exc_type,
                error.traceback,
                "the transposed convolution multiplies by the TRANSPOSE of the convolution matrix: C.T @ x.",
            )
        raise StudentCallFailed(error)
    prefix = f"tc_{function}_{case}_"
    args = {
        key[len(prefix) :]: value
        for key, value in inputs.expected["inputs"].items()
        if key.startswith(prefix)
    }
    expected = _expected(function, args)
    found = inputs.array(probe, f"{function}_{case}")
    where = "on the slide's example" if case == "example" else "on random inputs"
    if found.shape != expected.shape:
        hint = ""
        if function == "transposed_conv_as_matmul" and found.size != expected.size:
            hint = (
                " Multiply by the transpose C.T of the convolution matrix, which maps the small map back up."
            )
        return Verdict.failed(
            f"{function} returned shape {found.shape}; expected {expected.shape} {where}.{hint}"
        )
    if np.allclose(expected, found, atol=1e-6):
        return Verdict.passed(f"{function} is right {where}.")
    if function != "conv_matrix" and np.allclose(_flipped(function, args), found, atol=1e-6):
        return Verdict.failed(
            f"{function} flips the kernel (a true convolution); deep-learning convolution is a "
            f"cross-correlation: the kernel is not flipped ({where})."
        )
    if function == "conv2d_as_matmul" and case == "example" and np.allclose(SLIDE_PRINTED, found):
        return Verdict.failed(
            "conv2d_as_matmul returns the slide's printed [[57, 60], [66, 61]]; the slide has a typo, "
            "the top-right entry is 50 (tf.nn.conv2d agrees)."
        )
    worst = np.unravel_index(np.argmax(np.abs(expected - found)), expected.shape)
    return Verdict.failed(
        f"{function} differs {where}: at index {tuple(int(i) for i in worst)} expected "
        f"{expected[worst]:.4g}, got {found[worst]:.4g}."
    )
