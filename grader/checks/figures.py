"""Checks of the plotting functions, from the figure data the worker extracted.

The grader called each plotting function on inputs it made itself, so it knows what
must be on the figure: it looks for those very pixels, values and points.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from grader.checks.base import CheckInputs, Verdict, check


def same_picture(shown: np.ndarray, expected: np.ndarray) -> bool:
    """The displayed array is the expected image, up to a rescaling (e.g. x 255)."""
    shown = np.squeeze(shown).astype(np.float64)
    expected = np.squeeze(expected).astype(np.float64)
    if shown.shape != expected.shape:
        return False
    if np.allclose(shown, expected, atol=1e-3):
        return True
    if shown.std() < 1e-9 or expected.std() < 1e-9:
        return False
    return float(np.corrcoef(shown.ravel(), expected.ravel())[0, 1]) > 0.999


def figure_images(inputs: CheckInputs, probe: str) -> list[np.ndarray]:
    data = inputs.part(probe)
    return [inputs.array(probe, f"image_{i}") for i in range(len(data.get("images", [])))]


def not_a_figure(data: Mapping[str, Any], function: str) -> Verdict | None:
    if not data.get("is_figure"):
        return Verdict.failed(f"{function} returned {data.get('type', 'nothing')}, not a matplotlib Figure.")
    return None


@check(
    "figure_reconstructions", probes=lambda params: (params["probe"],), required_params=("probe", "function")
)
def figure_reconstructions(inputs: CheckInputs) -> Verdict:
    """n originals and their n reconstructions, each shown as an image."""
    probe = inputs.params["probe"]
    n = int(inputs.params.get("n", 10))
    shape = tuple(inputs.params.get("image_shape", (32, 32)))
    failed = not_a_figure(inputs.part(probe), inputs.params["function"])
    if failed:
        return failed
    given = inputs.expected["inputs"]
    originals = given[inputs.params.get("x_key", "recon_x")][:n].reshape((n,) + shape)
    reconstructions = given[inputs.params.get("x_rec_key", "recon_x_rec")][:n].reshape((n,) + shape)
    shown = figure_images(inputs, probe)
    found_x = sum(any(same_picture(image, x) for image in shown) for x in originals)
    found_rec = sum(any(same_picture(image, x) for image in shown) for x in reconstructions)
    if found_x == n and found_rec == n:
        return Verdict.passed(f"The figure shows the {n} originals and their {n} reconstructions.")
    return Verdict(
        (found_x + found_rec) / (2 * n), _reconstructions_found(shown, originals, reconstructions, shape)
    )


def _reconstructions_found(
    shown: list[np.ndarray], originals: np.ndarray, reconstructions: np.ndarray, shape: tuple[int, ...]
) -> str:
    """What the figure's images are, in counts that add up: originals, reconstructions, neither."""
    n = len(originals)
    as_original = [any(same_picture(image, x) for x in originals) for image in shown]
    as_reconstruction = [
        not is_original and any(same_picture(image, x) for x in reconstructions)
        for image, is_original in zip(shown, as_original, strict=True)
    ]
    neither = len(shown) - sum(as_original) - sum(as_reconstruction)
    images = "1 image" if len(shown) == 1 else f"{len(shown)} images"
    text = (
        f"the figure shows {images}, of which {sum(as_original)} match originals x[:{n}] and "
        f"{sum(as_reconstruction)} match their reconstructions x_rec[:{n}], the rest ({neither}) neither"
    )
    other_shape = sum(
        1
        for image, a, b in zip(shown, as_original, as_reconstruction, strict=True)
        if not (a or b) and np.squeeze(image).shape != shape
    )
    if other_shape:
        size = "x".join(map(str, shape))
        text += f" ({other_shape} of them not one {size} picture: several digits in one imshow?)"
    return f"{text}; show each x[i] and x_rec[i] for i < {n} with its own imshow ({2 * n} images)."
