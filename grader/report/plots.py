"""Drawing helpers for the report's figures (matplotlib, imported only when a figure is drawn)."""

from __future__ import annotations

from typing import Any

import numpy as np


def pairs(x: np.ndarray, x_rec: np.ndarray, title: str) -> Any:
    """Images (top row) above their reconstructions (bottom row)."""
    import matplotlib.pyplot as plt

    n = len(x)
    figure, axes = plt.subplots(2, n, figsize=(1.1 * n, 2.6), squeeze=False)
    for i in range(n):
        for row, images in enumerate((x, x_rec)):
            axes[row, i].imshow(np.squeeze(images[i]), cmap="gray", vmin=0, vmax=1)
            axes[row, i].axis("off")
    figure.suptitle(title, fontsize=9)
    return figure


def scatter(z: np.ndarray, y: np.ndarray, title: str) -> Any:
    """2-D codes coloured by digit."""
    import matplotlib.pyplot as plt

    figure, ax = plt.subplots(figsize=(5, 4))
    points = ax.scatter(z[:, 0], z[:, 1], c=y[: len(z)], cmap="tab10", vmin=-0.5, vmax=9.5, s=5)
    figure.colorbar(points, ax=ax, ticks=range(10), label="digit")
    ax.set_title(title, fontsize=9)
    return figure


def image(picture: np.ndarray, title: str) -> Any:
    import matplotlib.pyplot as plt

    figure, ax = plt.subplots(figsize=(5, 5))
    ax.imshow(picture, cmap="gray")
    ax.axis("off")
    ax.set_title(title, fontsize=9)
    return figure


def mosaic(images: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Tile (rows*cols, H, W) images row-major into one (rows*H, cols*W) picture."""
    images = np.asarray(images)
    height, width = images.shape[1:3]
    return (
        images.reshape(rows, cols, height, width).transpose(0, 2, 1, 3).reshape(rows * height, cols * width)
    )
