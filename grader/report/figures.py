"""Pictures for the report: the student's models as the grader trained them, and their plots.

Drawn in the trusted parent from raw arrays (reconstructions, latent codes, decoded
grids), so a student sees their own model even when their plotting functions fail.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from grader.checks.ground_truth import mosaic
from grader.data import to_float_images

# The figure each plotting probe returns is shown with the items that check it.
PLOT_PROBES = ("plot_reconstructions", "plot_loss", "plot_latent", "plot_grid", "dense_plot")
ITEM_FIGURES = {
    "ae_training": ("reconstructions", "latent_space", "decoder_grid"),
    "vae_training": ("vae_latent_space",),
    "vae_grid": ("vae_grid",),
    "dense_training": ("dense_reconstructions",),
}


def render(raw: Mapping[str, Any], directory: Path, prefix: str) -> dict[str, str]:
    """Write PNGs into ``directory``; returns name -> path relative to the report."""
    import matplotlib

    matplotlib.use("Agg")
    directory.mkdir(parents=True, exist_ok=True)
    probes, expected = raw["probes"], raw["expected"]
    written: dict[str, str] = {}

    def save(name: str, figure: Any) -> None:
        import matplotlib.pyplot as plt

        figure.savefig(directory / f"{name}.png", dpi=80, bbox_inches="tight")
        plt.close(figure)
        written[name] = f"{prefix}/{name}.png"

    for probe in PLOT_PROBES:
        result = probes.get(probe)
        if (
            result is not None
            and result.ok
            and result.arrays.get("png") is not None
            and result.arrays["png"].size
        ):
            (directory / f"{probe}.png").write_bytes(result.arrays["png"].tobytes())
            written[probe] = f"{prefix}/{probe}.png"
    autoencoder = probes.get("train:autoencoder")
    if autoencoder is not None and autoencoder.ok:
        size = int(autoencoder.data.get("image_size", 32))
        x = to_float_images(expected["x_test"][:10], size)[..., 0]
        save(
            "reconstructions",
            _pairs(
                x,
                autoencoder.arrays["x_rec"][:10],
                "Test images (top) and your autoencoder's reconstructions",
            ),
        )
        z = autoencoder.arrays["z_test"]
        if z.shape[1] == 2:
            save(
                "latent_space",
                _scatter(z, expected["y_test"], "Your encoder's latent codes of the test images"),
            )
        if "mosaic_images" in autoencoder.arrays:
            images = autoencoder.arrays["mosaic_images"]
            n = int(round(np.sqrt(len(images))))
            save(
                "decoder_grid",
                _image(mosaic(images, n, n), "Your decoder over a 15 x 15 grid of its latent range"),
            )
    vae = probes.get("train:vae")
    if vae is not None and vae.ok and vae.arrays["z_mean"].shape[1] == 2:
        save(
            "vae_latent_space",
            _scatter(vae.arrays["z_mean"], expected["y_test"], "Your VAE's latent means of the test images"),
        )
    grid = probes.get("vae_grid")
    if grid is not None and grid.ok:
        raw_images = grid.arrays["raw"]
        n = int(round(np.sqrt(len(raw_images))))
        save("vae_grid", _image(mosaic(raw_images, n, n), "Your VAE decoder over [-3, 3]^2"))
    dense = probes.get("train:dense")
    if dense is not None and dense.ok:
        x = expected["x_test"][:10].astype(np.float32) / 255.0
        save(
            "dense_reconstructions",
            _pairs(
                x,
                dense.arrays["x_rec"][:10].reshape(-1, 28, 28),
                "Test images and your dense autoencoder's reconstructions",
            ),
        )
    return written


def _pairs(x: np.ndarray, x_rec: np.ndarray, title: str) -> Any:
    import matplotlib.pyplot as plt

    n = len(x)
    figure, axes = plt.subplots(2, n, figsize=(1.1 * n, 2.6), squeeze=False)
    for i in range(n):
        for row, images in enumerate((x, x_rec)):
            axes[row, i].imshow(np.squeeze(images[i]), cmap="gray", vmin=0, vmax=1)
            axes[row, i].axis("off")
    figure.suptitle(title, fontsize=9)
    return figure


def _scatter(z: np.ndarray, y: np.ndarray, title: str) -> Any:
    import matplotlib.pyplot as plt

    figure, ax = plt.subplots(figsize=(5, 4))
    points = ax.scatter(z[:, 0], z[:, 1], c=y[: len(z)], cmap="tab10", vmin=-0.5, vmax=9.5, s=5)
    figure.colorbar(points, ax=ax, ticks=range(10), label="digit")
    ax.set_title(title, fontsize=9)
    return figure


def _image(picture: np.ndarray, title: str) -> Any:
    import matplotlib.pyplot as plt

    figure, ax = plt.subplots(figsize=(5, 5))
    ax.imshow(picture, cmap="gray")
    ax.axis("off")
    ax.set_title(title, fontsize=9)
    return figure


def attach(report: Any, written: Mapping[str, str]) -> None:
    """Record figures on the report and on the items they illustrate."""
    report.figures = dict(written)
    for item in report.items:
        names = ITEM_FIGURES.get(item.check, ()) + tuple(p for p in item.probes if p in PLOT_PROBES)
        item.figures = [written[name] for name in names if name in written]
