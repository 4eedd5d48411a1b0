"""Exercises 3 and 5 (and 6c): k-NN in the latent space and the mosaic of the latent grid (the grid
itself is a function exercise: ``matches_reference``).

Each function was called on inputs the grader made (no cascade), so the expected
result is computed here from the same inputs, with the grader's value on the left.
"""

from __future__ import annotations

import numpy as np

from grader.checks import ground_truth
from grader.checks.base import CheckInputs, Verdict, check


@check("knn_accuracy", probes=("knn",), required_params=("case",))
def knn_accuracy(inputs: CheckInputs) -> Verdict:
    """1-NN percentage correct per digit equals the grader's on the same latent codes."""
    case = inputs.params["case"]
    inputs.part("knn", case)
    given = inputs.expected["inputs"]
    z_train, y_train, z_test, y_test = (
        given[f"knn_{case}_{name}"] for name in ("z_train", "y_train", "z_test", "y_test")
    )
    expected = ground_truth.one_nn_per_digit(z_train, y_train, z_test, y_test)
    found = inputs.array("knn", case).astype(np.float64)
    where = "on the grader's hand-made latent codes" if case == "public" else "on the reference latent codes"
    if found.shape != (10,):
        return Verdict.failed(
            f"knn_per_digit_accuracy returned shape {found.shape}; expected (10,) — one value per digit."
        )
    if np.allclose(expected, found, atol=0.01):
        return Verdict.passed(f"The per-digit 1-NN percentages are right {where}.")
    return Verdict.failed(f"{_knn_diagnosis(expected, found, z_train, y_train, z_test, y_test)} ({where}).")


def _knn_diagnosis(expected, found, z_train, y_train, z_test, y_test) -> str:
    if np.allclose(expected, 100 * found, atol=0.01):
        return "the values are fractions (0..1); express each digit's accuracy as a percentage (0..100)"
    counts = np.bincount(np.asarray(y_test), minlength=10)
    overall = float((expected * counts).sum() / counts.sum())
    if np.isclose(found, found[0]).all() and not np.isclose(expected, expected[0]).all():
        return (
            f"every digit gets the same value ({found[0]:.1f}); compute the accuracy separately for the test "
            f"images of each digit (overall it is about {overall:.1f}%)"
        )
    for k in (3, 5):
        if np.allclose(
            ground_truth.one_nn_per_digit(z_train, y_train, z_test, y_test, k=k), found, atol=0.01
        ):
            return f"the values match a {k}-nearest-neighbour vote; the exercise asks for 1 nearest neighbour"
    worst = int(np.argmax(np.abs(expected - found)))
    return f"digit {worst}: expected {expected[worst]:.2f}%, got {found[worst]:.2f}%"


def _mosaic_verdict(expected: np.ndarray, found: np.ndarray, n: int, what: str) -> Verdict:
    if found.shape != expected.shape:
        return Verdict.failed(
            f"decode_grid returned shape {found.shape}; expected {expected.shape} (n*H, n*W) for {what}."
        )
    if np.allclose(expected, found, atol=1e-4):
        return Verdict.passed(f"decode_grid tiles the decoded images correctly for {what}.")
    height, width = expected.shape[0] // n, expected.shape[1] // n
    tiles = expected.reshape(n, height, n, width)
    if np.allclose(tiles.transpose(2, 1, 0, 3).reshape(expected.shape), found, atol=1e-4):
        return Verdict.failed(
            f"the images are tiled column by column: block (i, j) must show grid[i, j] ({what})."
        )
    if np.allclose(expected[::-1], found, atol=1e-4):
        return Verdict.failed(f"the mosaic is upside down ({what}).")
    return Verdict.failed(f"the mosaic differs from decoding each grid point with the decoder ({what}).")


@check("decode_grid_reference", probes=("decode_grid",))
def decode_grid_reference(inputs: CheckInputs) -> Verdict:
    """decode_grid(reference decoder, grader's grid) equals the reference decoder's own mosaic."""
    inputs.part("decode_grid")
    artifacts = inputs.expected["artifacts"]
    n = artifacts["grid"].shape[0]
    expected = ground_truth.mosaic(artifacts["grid_images"], n, n)
    return _mosaic_verdict(expected, inputs.array("decode_grid", "mosaic"), n, "the reference decoder")


# Only "vae_grid": it needs the trained VAE (the vae stage lists it in used_by), so when that
# training fails 6c is skipped with the reason instead of repeating 6a-training's error.
@check("vae_grid", probes=("vae_grid",))
def vae_grid(inputs: CheckInputs) -> Verdict:
    """6c: the mosaic of the student's VAE decoder over [-3, 3]^2 equals decoding each grid point."""
    inputs.part("vae_grid")
    raw = inputs.array("vae_grid", "raw")
    n = int(round(np.sqrt(len(raw))))
    expected = ground_truth.mosaic(raw, n, n)
    verdict = _mosaic_verdict(
        expected, inputs.array("vae_grid", "mosaic"), n, "your VAE decoder over [-3, 3]^2"
    )
    if verdict.fraction == 1.0:
        return Verdict.passed(f"The {n}x{n} mosaic of your VAE decoder over [-3, 3]^2 is right.")
    return verdict
