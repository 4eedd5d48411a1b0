"""The transposed-convolution items: ``matches_reference`` with the ``tc_*`` diagnosis hooks.

Student results come from a small NumPy implementation written here the way the slides
explain it (unrolled matrix, C @ x, C.T @ x), with switches for the usual mistakes. The
expected values are the reference's results on the rubric's cases.
"""

from __future__ import annotations

import numpy as np
import pytest
from check_fixtures import case_args, function_inputs, run, student_error

from grader.checks import StudentCallFailed

FUNCTIONS = ("conv_matrix", "conv2d_as_matmul", "transposed_conv_as_matmul", "upsample_then_conv")
ITEM = {
    "conv_matrix": "tc1",
    "conv2d_as_matmul": "tc2",
    "transposed_conv_as_matmul": "tc3",
    "upsample_then_conv": "tc4",
}


def args_of(function: str, case: str) -> dict[str, np.ndarray]:
    return case_args("transposed_conv", function, case)


def student_conv_matrix(kernel, input_shape, flip=False) -> np.ndarray:
    kernel = np.asarray(kernel, float)[::-1, ::-1] if flip else np.asarray(kernel, float)
    (in_h, in_w), (k_h, k_w) = input_shape, kernel.shape
    out_h, out_w = in_h - k_h + 1, in_w - k_w + 1
    matrix = np.zeros((out_h * out_w, in_h * in_w))
    for i in range(out_h):
        for j in range(out_w):
            placed = np.zeros((in_h, in_w))
            placed[i : i + k_h, j : j + k_w] = kernel
            matrix[i * out_w + j] = placed.ravel()
    return matrix


def student_result(function: str, case: str, flip: bool = False) -> np.ndarray:
    args = args_of(function, case)
    if function == "conv_matrix":
        return student_conv_matrix(args["kernel"], tuple(args["input_shape"]), flip)
    if function == "conv2d_as_matmul":
        image, kernel = args["image"], args["kernel"]
        out_shape = (image.shape[0] - kernel.shape[0] + 1, image.shape[1] - kernel.shape[1] + 1)
        return (student_conv_matrix(kernel, image.shape, flip) @ image.ravel()).reshape(out_shape)
    if function == "transposed_conv_as_matmul":
        shape = tuple(int(v) for v in args["input_shape"])
        return (student_conv_matrix(args["kernel"], shape, flip).T @ args["x"].ravel()).reshape(shape)
    x, size, kernel = args["x"], int(args["size"]), args["kernel"]
    up = np.repeat(np.repeat(x, size, axis=0), size, axis=1)
    k_h, k_w = kernel.shape
    padded = np.pad(up, (((k_h - 1) // 2, k_h // 2), ((k_w - 1) // 2, k_w // 2)))
    return (student_conv_matrix(kernel, padded.shape, flip) @ padded.ravel()).reshape(up.shape)


def tc_verdict(function: str, case: str, result: np.ndarray | None = None, error: dict | None = None):
    found = error if error is not None else result
    return run(
        "matches_reference", function_inputs("transposed_conv", f"{ITEM[function]}-{case}", {case: found})
    )


@pytest.mark.parametrize("case", ["example", "random"])
@pytest.mark.parametrize("function", FUNCTIONS)
def test_correct_function_passes(function, case):
    verdict = tc_verdict(function, case, student_result(function, case))
    assert verdict.fraction == 1.0, verdict.feedback
    where = "the slide's example" if case == "example" else "random inputs"
    assert verdict.feedback == f"{function} is right on {where}."


def test_slide_example_gives_57_50_66_61():
    assert student_result("conv2d_as_matmul", "example").tolist() == [[57.0, 50.0], [66.0, 61.0]]


@pytest.mark.parametrize("function", ["conv2d_as_matmul", "transposed_conv_as_matmul", "upsample_then_conv"])
def test_flipped_kernel_fails_and_is_named(function):
    verdict = tc_verdict(function, "random", student_result(function, "random", flip=True))
    assert verdict.fraction == 0.0
    assert f"{function} flips the kernel (a true convolution)" in verdict.feedback
    assert "(random inputs): at index" in verdict.feedback


def test_slides_printed_result_fails_and_explains_the_typo():
    verdict = tc_verdict("conv2d_as_matmul", "example", np.array([[57.0, 60.0], [66.0, 61.0]]))
    assert verdict.fraction == 0.0
    assert verdict.feedback.startswith(
        "conv2d_as_matmul(image=4x4 array, kernel=3x3 1..9) (the slide's example): at index (0, 1) "
        "expected 50, got 60."
    )
    assert "returns the slide's printed [[57, 60], [66, 61]]; the slide has a typo" in verdict.feedback
    assert "the top-right entry is 50" in verdict.feedback


def test_conv_matrix_transposed_fails_on_shape_and_names_the_call():
    verdict = tc_verdict("conv_matrix", "example", student_result("conv_matrix", "example").T)
    assert verdict.fraction == 0.0
    assert verdict.feedback == (
        "conv_matrix(kernel=3x3 1..9, input_shape=(4, 4)) (the slide's example): "
        "expected shape (4, 16), got (16, 4)."
    )


def test_conv_matrix_with_a_wrong_entry_names_the_index():
    matrix = student_result("conv_matrix", "random")
    matrix[1, 2] += 1.0
    verdict = tc_verdict("conv_matrix", "random", matrix)
    assert verdict.fraction == 0.0
    assert "conv_matrix(kernel=random 2x3, input_shape=(5, 4)) (random inputs): at index (1, 2)" in (
        verdict.feedback
    )


def test_transposed_conv_with_c_instead_of_c_transpose_crashes_and_mentions_the_transpose():
    numpy_message = (
        "matmul: Input operand 1 has a mismatch in its core dimension 0, with gufunc signature "
        "(n?,k),(k,m?)->(n?,m?) (size 4 is different from 16)"
    )
    error = student_error("exception", "transposed_conv_as_matmul", numpy_message, type="ValueError")
    with pytest.raises(StudentCallFailed) as caught:
        tc_verdict("transposed_conv_as_matmul", "example", error=error)
    feedback = caught.value.error.feedback()
    assert feedback.startswith("transposed_conv_as_matmul raised ValueError: matmul: Input operand 1")
    assert "multiplies by the TRANSPOSE of the convolution matrix: C.T @ x" in feedback


def test_transposed_conv_of_the_wrong_size_mentions_the_transpose():
    x = args_of("transposed_conv_as_matmul", "example")["x"]
    verdict = tc_verdict("transposed_conv_as_matmul", "example", x * 2)  # stayed at the small map's size
    assert verdict.fraction == 0.0
    assert "expected shape (4, 4), got (2, 2)" in verdict.feedback
    assert "Multiply by the transpose C.T of the convolution matrix" in verdict.feedback


def test_upsample_without_padding_fails_on_shape():
    args = args_of("upsample_then_conv", "example")
    up = np.repeat(np.repeat(args["x"], 2, axis=0), 2, axis=1)
    valid = (student_conv_matrix(args["kernel"], up.shape) @ up.ravel()).reshape(2, 2)
    verdict = tc_verdict("upsample_then_conv", "example", valid)
    assert verdict.fraction == 0.0
    assert (
        "upsample_then_conv(x=[[1, 2], [3, 4]], size=2, kernel=3x3 array) (the slide's example): "
        in verdict.feedback
    )
    assert "expected shape (4, 4), got (2, 2)" in verdict.feedback


def test_missing_function_raises_student_call_failed():
    with pytest.raises(StudentCallFailed) as caught:
        tc_verdict(
            "conv_matrix",
            "example",
            error=student_error("missing", "conv_matrix", "conv_matrix is not defined"),
        )
    assert "the grader looked for `conv_matrix`" in caught.value.error.feedback()
