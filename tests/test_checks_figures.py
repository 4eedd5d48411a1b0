"""The plotting checks on synthetic figure data (grader/probes/figures.py ``describe_figure``)."""

from __future__ import annotations

import numpy as np
import pytest
from check_fixtures import expected_for, item_params, make_inputs, run

AE = expected_for("autoencoders")
SHEET10 = expected_for("sheet10")
N = 10


def figure(
    images: list[np.ndarray] = (),
    extents: list[list[float]] | None = None,
    origin: str = "upper",
    lines: list[np.ndarray] = (),
    scatters: list[tuple[np.ndarray, dict[str, np.ndarray]]] = (),
    legend: bool = False,
    colorbar: bool = False,
) -> tuple[dict, dict[str, np.ndarray]]:
    """(data, arrays) as describe_figure returns them."""
    data = {
        "is_figure": True,
        "images": [],
        "lines": [],
        "scatters": [],
        "legend": legend,
        "colorbar": colorbar,
    }
    arrays: dict[str, np.ndarray] = {"png": np.zeros(8, np.uint8)}
    for index, pixels in enumerate(images):
        pixels = np.asarray(pixels, np.float32)
        height, width = pixels.shape[:2]
        extent = extents[index] if extents else [-0.5, width - 0.5, height - 0.5, -0.5]
        arrays[f"image_{index}"] = pixels
        data["images"].append({"shape": list(pixels.shape), "extent": extent, "origin": origin})
    for index, ydata in enumerate(lines):
        arrays[f"line_y_{index}"] = np.asarray(ydata, np.float64)
        arrays[f"line_x_{index}"] = np.arange(1, len(ydata) + 1, dtype=np.float64)
        data["lines"].append({"points": len(ydata), "label": f"line{index}"})
    for index, (points, colours) in enumerate(scatters):
        arrays[f"scatter_{index}"] = np.asarray(points, np.float64)
        for key, value in colours.items():
            arrays[f"{key}_{index}"] = value
        data["scatters"].append({"points": len(points)})
    return data, arrays


def figure_inputs(probe: str, drawn: tuple[dict, dict], expected: dict, params: dict | None = None):
    data, arrays = drawn
    return make_inputs({probe: data}, {probe: arrays}, params=params, expected=expected)


# -- plot_reconstructions --------------------------------------------------------------------


def reconstructions_verdict(shown: list[np.ndarray]):
    params = item_params("autoencoders", "1-plot-reconstructions")
    return run("figure_reconstructions", figure_inputs("plot_reconstructions", figure(shown), AE, params))


def test_ten_originals_and_ten_reconstructions_pass():
    x, x_rec = AE["inputs"]["recon_x"], AE["inputs"]["recon_x_rec"]
    verdict = reconstructions_verdict([x[i] for i in range(N)] + [x_rec[i] for i in range(N)])
    assert verdict.fraction == 1.0, verdict.feedback


def test_images_rescaled_by_255_still_pass():
    x, x_rec = AE["inputs"]["recon_x"], AE["inputs"]["recon_x_rec"]
    verdict = reconstructions_verdict([255 * x[i] for i in range(N)] + [255 * x_rec[i] for i in range(N)])
    assert verdict.fraction == 1.0, verdict.feedback


def test_reconstructions_missing_earns_half():
    x = AE["inputs"]["recon_x"]
    verdict = reconstructions_verdict([x[i] for i in range(N)])
    assert verdict.fraction == 0.5
    assert verdict.feedback == (
        "the figure shows 10 images, of which 10 match originals x[:10] and 0 match their reconstructions "
        "x_rec[:10], the rest (0) neither; show each x[i] and x_rec[i] for i < 10 with its own imshow (20 "
        "images)."
    )


def test_wrong_images_earn_nothing():
    x, x_rec = AE["inputs"]["recon_x"], AE["inputs"]["recon_x_rec"]
    shown = [x[i] for i in range(6, 16)] + [x_rec[i] for i in range(6, 16)]  # images 6..15, not 0..9
    verdict = reconstructions_verdict(shown)
    assert verdict.fraction == pytest.approx(0.4)
    assert (
        "the figure shows 20 images, of which 4 match originals x[:10] and 4 match their reconstructions "
        "x_rec[:10], the rest (12) neither;" in verdict.feedback
    )


def test_reconstruction_counts_add_up_when_an_image_matches_both_an_original_and_a_reconstruction():
    x, x_rec = AE["inputs"]["recon_x"], AE["inputs"]["recon_x_rec"]
    doubles = {"recon_x_rec": np.concatenate([x[:1], x_rec[1:]])}  # reconstruction 0 equals original 0
    params = item_params("autoencoders", "1-plot-reconstructions")
    expected = AE | {"inputs": AE["inputs"] | doubles}
    drawn = figure([x[0], x_rec[1]])
    verdict = run("figure_reconstructions", figure_inputs("plot_reconstructions", drawn, expected, params))
    assert verdict.fraction == pytest.approx(3 / 20)
    assert (
        "the figure shows 2 images, of which 1 match originals x[:10] and 1 match their" in verdict.feedback
    )


def test_a_strip_of_digits_in_one_imshow_is_named():
    x, x_rec = AE["inputs"]["recon_x"], AE["inputs"]["recon_x_rec"]
    verdict = reconstructions_verdict([np.hstack(x[:N]), np.hstack(x_rec[:N])])
    assert verdict.fraction == 0.0
    assert (
        "the figure shows 2 images, of which 0 match originals x[:10] and 0 match their reconstructions "
        "x_rec[:10], the rest (2) neither (2 of them not one 32x32 picture: several digits in one imshow?)"
        in verdict.feedback
    )


def test_inverted_images_are_not_the_same_picture():
    x, x_rec = AE["inputs"]["recon_x"], AE["inputs"]["recon_x_rec"]
    verdict = reconstructions_verdict([1 - x[i] for i in range(N)] + [1 - x_rec[i] for i in range(N)])
    assert verdict.fraction == 0.0


def test_plot_returning_none_is_not_a_figure():
    params = item_params("autoencoders", "1-plot-reconstructions")
    inputs = figure_inputs("plot_reconstructions", ({"is_figure": False, "type": "NoneType"}, {}), AE, params)
    verdict = run("figure_reconstructions", inputs)
    assert verdict.fraction == 0.0
    assert "plot_reconstructions returned NoneType, not a matplotlib Figure" in verdict.feedback


def test_sheet10_reconstructions_as_28x28_images_pass():
    params = item_params("sheet10", "1.4-plot")
    x, x_rec = SHEET10["inputs"]["recon_x"], SHEET10["inputs"]["recon_x_rec"]
    shown = [x[i].reshape(28, 28) for i in range(N)] + [x_rec[i].reshape(28, 28) for i in range(N)]
    verdict = run(
        "figure_reconstructions", figure_inputs("plot:plot_reconstructions", figure(shown), SHEET10, params)
    )
    assert verdict.fraction == 1.0, verdict.feedback


# -- plot_loss ---------------------------------------------------------------------------------


def test_loss_curve_passes():
    drawn = figure(lines=[AE["inputs"]["history_loss"], AE["inputs"]["history_val_loss"]])
    verdict = run("figure_loss", figure_inputs("plot_loss", drawn, AE))
    assert verdict.fraction == 1.0, verdict.feedback


def test_only_validation_loss_plotted_fails():
    drawn = figure(lines=[AE["inputs"]["history_val_loss"]])
    verdict = run("figure_loss", figure_inputs("plot_loss", drawn, AE))
    assert verdict.fraction == 0.0
    assert "no line on the figure follows history.history['loss'] (1 lines found)" in verdict.feedback


# -- plot_latent -------------------------------------------------------------------------------


def latent_verdict(scatters, legend=False, colorbar=False):
    drawn = figure(scatters=scatters, legend=legend, colorbar=colorbar)
    return run("figure_latent_scatter", figure_inputs("plot_latent", drawn, AE))


def tab10(labels: np.ndarray) -> np.ndarray:
    palette = np.array([[i / 10, 1 - i / 10, (i * 3 % 10) / 10, 1.0] for i in range(10)])
    return palette[labels]


def test_scatter_with_c_equal_y_and_colorbar_passes():
    z, y = AE["inputs"]["latent_z"], AE["inputs"]["latent_y"]
    colours = {"scatter_values": y.astype(np.float64), "scatter_colors": tab10(y)}
    verdict = latent_verdict([(z, colours)], colorbar=True)
    assert verdict.fraction == 1.0, verdict.feedback


def test_one_scatter_per_digit_with_legend_passes():
    z, y = AE["inputs"]["latent_z"], AE["inputs"]["latent_y"]
    scatters = [(z[y == d], {"scatter_colors": tab10(np.array([d]))}) for d in range(10)]
    verdict = latent_verdict(scatters, legend=True)
    assert verdict.fraction == 1.0, verdict.feedback


def test_scatter_with_fewer_points_loses_the_position_points():
    z, y = AE["inputs"]["latent_z"], AE["inputs"]["latent_y"]
    colours = {"scatter_values": y[:100].astype(np.float64)}
    verdict = latent_verdict([(z[:100], colours)], colorbar=True)
    assert verdict.fraction == 0.25
    assert f"the scatter shows 100 points, expected all {len(z)} latent codes" in verdict.feedback


def test_scatter_with_swapped_axes_is_not_at_the_latent_coordinates():
    z, y = AE["inputs"]["latent_z"], AE["inputs"]["latent_y"]
    verdict = latent_verdict([(z[:, ::-1], {"scatter_values": y.astype(np.float64)})], colorbar=True)
    assert verdict.fraction == 0.25
    assert f"the {len(z)} scatter points are not at the latent codes (z[:, 0], z[:, 1])" in verdict.feedback


def test_scatter_without_colour_loses_the_colour_and_legend_points():
    z = AE["inputs"]["latent_z"]
    verdict = latent_verdict([(z, {"scatter_colors": np.array([[0.12, 0.47, 0.71, 1.0]])})])
    assert verdict.fraction == 0.5
    assert "the points are not coloured by their digit" in verdict.feedback
    assert "there is no legend or colorbar" in verdict.feedback


def test_scatter_coloured_by_digit_without_legend_or_colorbar_earns_three_quarters():
    z, y = AE["inputs"]["latent_z"], AE["inputs"]["latent_y"]
    verdict = latent_verdict([(z, {"scatter_values": y.astype(np.float64)})])
    assert verdict.fraction == 0.75
    assert verdict.feedback == "there is no legend or colorbar telling which colour is which digit."


def test_scatter_coloured_by_a_shuffled_label_is_not_coloured_by_digit():
    z, y = AE["inputs"]["latent_z"], AE["inputs"]["latent_y"]
    wrong = np.random.default_rng(0).permutation(y)
    verdict = latent_verdict([(z, {"scatter_values": wrong.astype(np.float64)})], colorbar=True)
    assert verdict.fraction == 0.75
    assert "not coloured by their digit" in verdict.feedback


# -- plot_grid -----------------------------------------------------------------------------------


PIXEL_TICKS = {
    "axis_on": True,
    "x_ticks": [0.0, 100.0, 200.0, 300.0, 400.0],
    "x_labels": ["0", "100", "200", "300", "400"],
    "y_ticks": [0.0, 100.0, 200.0, 300.0, 400.0],
    "y_labels": ["0", "100", "200", "300", "400"],
}


def relabelled_ticks() -> dict:
    """set_xticks(pixels) + set_xticklabels(latent values), as describe_figure records them."""
    z_min, z_max = AE["inputs"]["ref_grid_z_min"], AE["inputs"]["ref_grid_z_max"]
    side = AE["inputs"]["ref_mosaic"].shape[0] - 1
    pixels = list(np.linspace(0, side, 5))
    return {
        "axis_on": True,
        "x_ticks": pixels,
        "x_labels": [f"{v:.1f}".replace("-", "\u2212") for v in np.linspace(z_min[0], z_max[0], 5)],
        "y_ticks": pixels,
        "y_labels": [f"{v:.1f}" for v in np.linspace(z_max[1], z_min[1], 5)],
    }


def grid_verdict(
    image: np.ndarray, extent: list[float] | None, origin: str = "upper", ticks: dict | None = None
):
    drawn = figure([image], [extent] if extent else None, origin=origin)
    drawn[0]["images"][0].update(PIXEL_TICKS if ticks is None else ticks)
    params = item_params("autoencoders", "5a-plot-grid")
    return run("figure_grid", figure_inputs("plot_grid", drawn, AE, params))


def latent_extent() -> list[float]:
    z_min, z_max = AE["inputs"]["ref_grid_z_min"], AE["inputs"]["ref_grid_z_max"]
    return [float(z_min[0]), float(z_max[0]), float(z_min[1]), float(z_max[1])]


def test_mosaic_on_the_latent_axes_passes():
    verdict = grid_verdict(AE["inputs"]["ref_mosaic"], latent_extent())
    assert verdict.fraction == 1.0, verdict.feedback


def test_flipped_mosaic_with_origin_lower_is_the_same_picture_and_passes():
    verdict = grid_verdict(AE["inputs"]["ref_mosaic"][::-1], latent_extent(), origin="lower")
    assert verdict.fraction == 1.0, verdict.feedback


def test_mosaic_on_pixel_axes_is_told_that_extent_is_missing():
    verdict = grid_verdict(AE["inputs"]["ref_mosaic"], None)
    assert verdict.fraction == 0.5
    side = AE["inputs"]["ref_mosaic"].shape[0]
    assert verdict.feedback == (
        f"the mosaic is drawn on pixel axes (x from 0 to {side}, y from 0 to {side}, one unit per pixel), "
        "not on the latent axes: extent=(z_min[0], z_max[0], z_min[1], z_max[1]) is missing; pass it to "
        "imshow so the grid coincides with the scatter plot."
    )
    assert "row 0" not in verdict.feedback


def test_pixel_axes_with_ticks_relabelled_by_latent_values_earn_half_and_say_why():
    verdict = grid_verdict(AE["inputs"]["ref_mosaic"], None, ticks=relabelled_ticks())
    assert verdict.fraction == 0.5
    assert "the mosaic is right and its tick labels show latent values, but it is drawn in pixel" in (
        verdict.feedback
    )
    assert "relabelled ticks change only the text" in verdict.feedback
    assert "instead of relabelling the ticks" in verdict.feedback


@pytest.mark.parametrize("ticks", [{"axis_on": False}, {"axis_on": True, "x_ticks": [], "y_ticks": []}])
def test_pixel_axes_without_ticks_say_the_extent_is_missing(ticks):
    verdict = grid_verdict(AE["inputs"]["ref_mosaic"], None, ticks=ticks)
    assert verdict.fraction == 0.5
    assert verdict.feedback.startswith(
        "the mosaic is shown without axes (no ticks), in pixel coordinates: "
        "extent=(z_min[0], z_max[0], z_min[1], z_max[1]) is missing"
    )


def test_mosaic_with_origin_lower_shows_row_zero_at_the_bottom_and_earns_half():
    verdict = grid_verdict(AE["inputs"]["ref_mosaic"], latent_extent(), origin="lower")
    assert verdict.fraction == 0.5
    z_max = AE["inputs"]["ref_grid_z_max"]
    assert f"row 0 (the highest z[1] = {z_max[1]:.2f}) is drawn at the bottom" in verdict.feedback
    assert "origin='upper'" in verdict.feedback


def test_mosaic_on_a_wrong_latent_range_names_the_expected_range():
    extent = [value * 2 for value in latent_extent()]
    verdict = grid_verdict(AE["inputs"]["ref_mosaic"], extent)
    assert verdict.fraction == 0.5
    z_min, z_max = AE["inputs"]["ref_grid_z_min"], AE["inputs"]["ref_grid_z_max"]
    assert f"expected x from {z_min[0]:.2f} to {z_max[0]:.2f}" in verdict.feedback
    assert "pixel" not in verdict.feedback


def test_figure_without_the_mosaic_fails():
    other = np.random.default_rng(1).uniform(size=AE["inputs"]["ref_mosaic"].shape)
    verdict = grid_verdict(other, latent_extent())
    assert verdict.fraction == 0.0
    assert "the figure does not show the mosaic it was given" in verdict.feedback


def drawn_grid(style: str) -> tuple[dict, dict]:
    """A real matplotlib plot_grid figure, described by the worker's describe_figure."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from grader.probes.figures import describe_figure

    mosaic = AE["inputs"]["ref_mosaic"]
    z_min, z_max = AE["inputs"]["ref_grid_z_min"], AE["inputs"]["ref_grid_z_max"]
    fig, ax = plt.subplots()
    ax.imshow(mosaic, cmap="gray")
    if style == "relabelled":
        ticks = np.linspace(0, mosaic.shape[0] - 1, 5)
        ax.set_xticks(ticks)
        ax.set_xticklabels([f"{v:.1f}" for v in np.linspace(z_min[0], z_max[0], 5)])
        ax.set_yticks(ticks)
        ax.set_yticklabels([f"{v:.1f}" for v in np.linspace(z_max[1], z_min[1], 5)])
    elif style == "off":
        ax.axis("off")
    try:
        return describe_figure(fig)
    finally:
        plt.close(fig)


@pytest.mark.parametrize(
    ("style", "phrase"),
    [
        ("pixels", "the mosaic is drawn on pixel axes"),
        ("relabelled", "its tick labels show latent values, but it is drawn in pixel coordinates"),
        ("off", "the mosaic is shown without axes (no ticks)"),
    ],
)
def test_describe_figure_records_the_ticks_that_tell_pixel_axes_apart(style, phrase):
    params = item_params("autoencoders", "5a-plot-grid")
    verdict = run("figure_grid", figure_inputs("plot_grid", drawn_grid(style), AE, params))
    assert verdict.fraction == 0.5
    assert phrase in verdict.feedback
