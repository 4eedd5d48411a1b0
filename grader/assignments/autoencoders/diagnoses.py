"""Diagnoses of the autoencoders assignment's function exercises: the latent grid (5a)."""

from __future__ import annotations

import numpy as np

from grader.checks.reference_match import CaseOutcome, diagnosis

TOLERANCE = 1e-5


def _grids(outcome: CaseOutcome) -> tuple[np.ndarray, np.ndarray] | None:
    if outcome.error is not None:
        return None
    expected, found = outcome.expected["result"], outcome.found["result"]
    return (expected, found) if expected.shape == found.shape and expected.ndim == 3 else None


@diagnosis("grid_orientation")
def grid_orientation(outcome: CaseOutcome) -> str | None:
    """Upside down, mirrored, rows and columns swapped, or the two coordinates swapped."""
    grids = _grids(outcome)
    if grids is None:
        return None
    expected, found = grids
    readings = (
        (
            expected[::-1],
            "The grid is upside down: row 0 must be the top of the picture, at the highest z[1].",
        ),
        (expected[:, ::-1], "The grid is mirrored: column 0 must be the left, at the lowest z[0]."),
        (
            expected.transpose(1, 0, 2),
            "Rows and columns are swapped: grid[i, j] must be (z[0] of column j, z[1] of row i).",
        ),
        (
            expected[..., ::-1],
            "The two coordinates are swapped: grid[..., 0] is z[0] (horizontal), grid[..., 1] is z[1].",
        ),
    )
    for candidate, words in readings:
        if np.allclose(candidate, found, atol=TOLERANCE):
            return words
    return None


@diagnosis("grid_corners")
def grid_corners(outcome: CaseOutcome) -> str | None:
    """A grid that does not reach the corners (cell centres, or linspace without its end point)."""
    grids = _grids(outcome)
    if grids is None or outcome.found["result"].shape[-1] != 2:
        return None
    found = outcome.found["result"].reshape(-1, 2)
    z_min, z_max = (np.asarray(outcome.args[name], float) for name in ("z_min", "z_max"))
    low, high = found.min(axis=0), found.max(axis=0)
    if np.allclose(low, z_min, atol=TOLERANCE) and np.allclose(high, z_max, atol=TOLERANCE):
        return None
    return (
        f"The grid spans {np.round(low, 3).tolist()} to {np.round(high, 3).tolist()}; it must reach the "
        f"corners {np.round(z_min, 3).tolist()} and {np.round(z_max, 3).tolist()} (np.linspace includes "
        "both ends)."
    )
