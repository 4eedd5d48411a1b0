"""Checks of the ``autoencoders`` plots: the loss curve, the latent scatter and the decoded grid.

The grader called each plotting function on inputs it made itself (``inputs.py`` beside this
package), so it knows what must be on the figure.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from grader.checks.base import CheckInputs, Verdict, check, sentences
from grader.checks.figures import not_a_figure, same_picture


@check("figure_loss", probes=("plot_loss",))
def figure_loss(inputs: CheckInputs) -> Verdict:
    failed = not_a_figure(inputs.part("plot_loss"), "plot_loss")
    if failed:
        return failed
    loss = inputs.expected["inputs"]["history_loss"]
    lines = inputs.part("plot_loss").get("lines", [])
    for index in range(len(lines)):
        ydata = inputs.array("plot_loss", f"line_y_{index}")
        if ydata.shape == loss.shape and np.allclose(ydata, loss, rtol=1e-6):
            return Verdict.passed("The figure plots history.history['loss'] per epoch.")
    return Verdict.failed(
        f"no line on the figure follows history.history['loss'] ({len(lines)} lines found); "
        "plot the loss per epoch with ax.plot(history.history['loss'])."
    )


def _point_order(points: np.ndarray) -> np.ndarray:
    return np.lexsort((points[:, 1], points[:, 0]))


@check("figure_latent_scatter", probes=("plot_latent",))
def figure_latent_scatter(inputs: CheckInputs) -> Verdict:
    """All N points at their latent coordinates, coloured by digit, with a legend or colorbar."""
    data = inputs.part("plot_latent")
    failed = not_a_figure(data, "plot_latent")
    if failed:
        return failed
    z = inputs.expected["inputs"]["latent_z"].astype(np.float64)
    y = inputs.expected["inputs"]["latent_y"]
    scatters = data.get("scatters", [])
    groups = [inputs.array("plot_latent", f"scatter_{i}") for i in range(len(scatters))]
    points = np.concatenate(groups) if groups else np.zeros((0, 2))
    problems = []
    score = 0.0
    positions_ok = points.shape == z.shape and np.allclose(
        points[_point_order(points)], z[_point_order(z)], atol=1e-5
    )
    if positions_ok:
        score += 0.5
    elif len(points) == len(z):  # the right number of points in the wrong places (e.g. axes swapped)
        problems.append(f"the {len(points)} scatter points are not at the latent codes (z[:, 0], z[:, 1])")
    else:
        problems.append(
            f"the scatter shows {len(points)} points, expected all {len(z)} latent codes at (z[:, 0], z[:, "
            f"1])"
        )
    if positions_ok and _coloured_by_digit(inputs, groups, z, y):
        score += 0.25
    elif positions_ok:
        problems.append("the points are not coloured by their digit (use c=y, or one scatter per digit)")
    if data.get("legend") or data.get("colorbar"):
        score += 0.25
    else:
        problems.append("there is no legend or colorbar telling which colour is which digit")
    if problems:
        return Verdict(score, sentences(problems))
    return Verdict.passed("All latent codes are plotted, coloured by digit, with a legend or colorbar.")


def _coloured_by_digit(inputs: CheckInputs, groups: list[np.ndarray], z: np.ndarray, y: np.ndarray) -> bool:
    """Every colour group holds one digit, and the ten digits have ten different colours."""
    keys: list[np.ndarray] = []
    for index, group in enumerate(groups):
        if inputs.has_array("plot_latent", f"scatter_values_{index}"):
            keys.append(inputs.array("plot_latent", f"scatter_values_{index}").reshape(-1, 1))
        elif inputs.has_array("plot_latent", f"scatter_colors_{index}"):
            colors = inputs.array("plot_latent", f"scatter_colors_{index}")
            keys.append(
                np.broadcast_to(colors, (len(group), colors.shape[1])) if len(colors) == 1 else colors
            )
        else:
            return False
    width = max(k.shape[1] for k in keys)
    keys = [np.pad(k, ((0, 0), (0, width - k.shape[1])), constant_values=-1) for k in keys]
    points, colors = np.concatenate(groups), np.concatenate(keys)
    if len(colors) != len(points):
        return False
    labels = y[_point_order(z)]
    colors = colors[_point_order(points)]
    by_color: dict[tuple, set] = {}
    for color, label in zip(map(tuple, np.round(colors, 6)), labels, strict=True):
        by_color.setdefault(color, set()).add(int(label))
    return len(by_color) >= 10 and all(len(digits) == 1 for digits in by_color.values())


@check("figure_grid", probes=("plot_grid",))
def figure_grid(inputs: CheckInputs) -> Verdict:
    """The mosaic is shown, placed on the latent axes so it lines up with the scatter plot."""
    data = inputs.part("plot_grid")
    failed = not_a_figure(data, "plot_grid")
    if failed:
        return failed
    given = inputs.expected["inputs"]
    mosaic = given["ref_mosaic"]
    z_min, z_max = given["ref_grid_z_min"].astype(float), given["ref_grid_z_max"].astype(float)
    n = int(inputs.params.get("n", 15))
    for index, info in enumerate(data.get("images", [])):
        shown = inputs.array("plot_grid", f"image_{index}")
        flipped = False
        if not same_picture(shown, mosaic):
            if not same_picture(shown, mosaic[::-1]):
                continue
            flipped = True
        if _aligned(info, z_min, z_max, n, flipped):
            return Verdict.passed("The mosaic is shown on the latent axes, lined up with the scatter plot.")
        return Verdict(0.5, _misplaced_grid(info, z_min, z_max, flipped))
    return Verdict.failed("the figure does not show the mosaic it was given (use imshow(mosaic, ...)).")


EXTENT = "extent=(z_min[0], z_max[0], z_min[1], z_max[1])"


def _misplaced_grid(info: Mapping[str, Any], z_min: np.ndarray, z_max: np.ndarray, flipped: bool) -> str:
    """Why a correct mosaic does not line up with the scatter plot, in the three ways it happens."""
    left, right, bottom, top = (float(v) for v in info["extent"])
    if _pixel_extent(info):
        width, height = max(left, right) + 0.5, max(bottom, top) + 0.5
        if not info.get("axis_on", True) or not (info.get("x_ticks") or info.get("y_ticks")):
            return (
                f"the mosaic is shown without axes (no ticks), in pixel coordinates: {EXTENT} is missing, so "
                "the grid has no latent axes that coincide with the scatter plot; pass it to imshow."
            )
        if _relabelled(info):
            return (
                "the mosaic is right and its tick labels show latent values, but it is drawn in pixel "
                f"coordinates (x from 0 to {width:.0f}, y from 0 to {height:.0f}): relabelled ticks change "
                "only the text, so the grid does not coincide with the scatter plot's axes (a point plotted "
                f"at its latent code would not land on its image). Pass {EXTENT} to imshow instead of "
                "relabelling the ticks."
            )
        return (
            f"the mosaic is drawn on pixel axes (x from 0 to {width:.0f}, y from 0 to {height:.0f}, one unit "
            f"per pixel), not on the latent axes: {EXTENT} is missing; pass it to imshow so the grid "
            "coincides with the scatter plot."
        )
    first_row_y = top if info.get("origin", "upper") == "upper" else bottom
    if flipped:
        first_row_y = bottom if first_row_y == top else top
    upside_down = abs(first_row_y - min(bottom, top)) < abs(first_row_y - max(bottom, top))
    where = (
        f"row 0 (the highest z[1] = {z_max[1]:.2f}) is drawn at the bottom"
        if upside_down
        else f"expected x from {z_min[0]:.2f} to {z_max[0]:.2f} and y from {z_min[1]:.2f} to {z_max[1]:.2f}"
    )
    return (
        f"the mosaic is shown on axes from x = {min(left, right):.2f} to {max(left, right):.2f} and y = "
        f"{min(bottom, top):.2f} to {max(bottom, top):.2f}, but {where}; pass {EXTENT} with "
        "origin='upper' to imshow so the grid coincides with the scatter plot."
    )


def _pixel_extent(info: Mapping[str, Any]) -> bool:
    """imshow's default extent: one unit per pixel, (-0.5, width - 0.5, height - 0.5, -0.5)."""
    height, width = (list(info.get("shape", [0, 0])) + [0, 0])[:2]
    left, right, bottom, top = (float(v) for v in info["extent"])
    return bool(
        np.allclose([left, right], [-0.5, width - 0.5])
        and np.allclose(sorted([bottom, top]), [-0.5, height - 0.5])
    )


def _relabelled(info: Mapping[str, Any]) -> bool:
    """Some tick label is a number other than its tick's position (``set_xticklabels`` and the like)."""
    for axis in ("x", "y"):
        for position, label in zip(
            info.get(f"{axis}_ticks", []), info.get(f"{axis}_labels", []), strict=False
        ):
            try:  # the worker's data: a label that is not a number is no latent value
                value, where = float(str(label).replace("\u2212", "-")), float(position)
            except (TypeError, ValueError):
                continue
            if not np.isclose(value, where, atol=0.5):
                return True
    return False


def _aligned(info: Mapping[str, Any], z_min: np.ndarray, z_max: np.ndarray, n: int, flipped: bool) -> bool:
    left, right, bottom, top = info["extent"]
    cell = (z_max - z_min) / max(n - 1, 1)
    # The array's first row is drawn at `top` with origin 'upper' and at `bottom` with 'lower'.
    first_row_y = top if info.get("origin", "upper") == "upper" else bottom
    last_row_y = bottom if info.get("origin", "upper") == "upper" else top
    if flipped:
        first_row_y, last_row_y = last_row_y, first_row_y
    return bool(
        abs(left - z_min[0]) <= cell[0]
        and abs(right - z_max[0]) <= cell[0]
        and abs(first_row_y - z_max[1]) <= cell[1]
        and abs(last_row_y - z_min[1]) <= cell[1]
    )
