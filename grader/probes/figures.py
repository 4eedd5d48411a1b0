"""Describe a student's matplotlib figure as plain data (runs in the worker).

The parent checks figures from this data: which images are shown (their pixels), the
lines' values, the scatter points and colours, legends and colorbars. A PNG of the
figure travels along for the report.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np

MAX_IMAGES = 60
MAX_POINTS = 20000
MAX_TICKS = 30
MAX_LABEL = 20


def describe_figure(figure: Any) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """(data, arrays) for the parent; ``data['is_figure']`` is False for anything else."""
    from matplotlib.figure import Figure

    if not isinstance(figure, Figure):
        return {"is_figure": False, "type": type(figure).__name__}, {}
    data: dict[str, Any] = {"is_figure": True, "images": [], "lines": [], "scatters": [], "legend": False}
    arrays: dict[str, np.ndarray] = {"png": _png(figure)}  # drawing first fills in the tick labels
    colorbar = False
    for ax in figure.axes:
        if getattr(ax, "_colorbar", None) is not None or ax.get_label() == "<colorbar>":
            colorbar = True
            continue
        if ax.get_legend() is not None:
            data["legend"] = True
        for image in ax.get_images():
            index = len(data["images"])
            if index >= MAX_IMAGES:
                break
            pixels = np.asarray(image.get_array(), dtype=np.float32)
            arrays[f"image_{index}"] = pixels[:600, :600]
            data["images"].append(
                {
                    "shape": list(pixels.shape),
                    "extent": [float(v) for v in image.get_extent()],
                    "origin": str(image.origin),
                    "ylim": [float(v) for v in ax.get_ylim()],
                    "xlim": [float(v) for v in ax.get_xlim()],
                }
                | _ticks(ax)
            )
        for line in ax.get_lines():
            index = len(data["lines"])
            ydata = np.asarray(line.get_ydata(), dtype=np.float64)[:MAX_POINTS]
            arrays[f"line_y_{index}"] = ydata
            arrays[f"line_x_{index}"] = np.asarray(line.get_xdata(), dtype=np.float64)[:MAX_POINTS]
            data["lines"].append({"points": int(ydata.size), "label": str(line.get_label())})
        for collection in ax.collections:
            offsets = np.asarray(collection.get_offsets(), dtype=np.float64)
            if offsets.ndim != 2 or offsets.shape[0] == 0:
                continue
            index = len(data["scatters"])
            arrays[f"scatter_{index}"] = offsets[:MAX_POINTS]
            values = collection.get_array()
            if values is not None and np.size(values) == len(offsets):
                arrays[f"scatter_values_{index}"] = np.asarray(values, dtype=np.float64)[:MAX_POINTS]
            colors = np.asarray(collection.get_facecolors(), dtype=np.float64)
            if colors.ndim == 2 and len(colors):
                arrays[f"scatter_colors_{index}"] = colors[:MAX_POINTS]
            data["scatters"].append({"points": int(len(offsets))})
    data["legend"] = data["legend"] or bool(figure.legends)
    data["colorbar"] = colorbar
    return data, arrays


def _ticks(ax: Any) -> dict[str, Any]:
    """Whether the axes are drawn, and each axis's tick positions and label texts."""
    found: dict[str, Any] = {"axis_on": bool(ax.axison)}
    for name, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
        low, high = sorted(ax.get_xlim() if name == "x" else ax.get_ylim())
        ticks = [(float(t.get_loc()), str(t.label1.get_text())[:MAX_LABEL]) for t in axis.get_major_ticks()]
        visible = [(loc, text) for loc, text in ticks if low <= loc <= high][:MAX_TICKS]
        found[f"{name}_ticks"] = [loc for loc, _ in visible]
        found[f"{name}_labels"] = [text for _, text in visible]
    return found


def _png(figure: Any) -> np.ndarray:
    buffer = io.BytesIO()
    try:
        figure.savefig(buffer, format="png", dpi=72)
    except Exception:
        return np.zeros(0, dtype=np.uint8)
    return np.frombuffer(buffer.getvalue(), dtype=np.uint8)


def close(figure: Any) -> None:
    try:
        import matplotlib.pyplot as plt

        plt.close(figure)
    except Exception:
        pass
