"""The model the ``sheet10`` assignment trains: the dense autoencoder of exercise 1.4.

Runs in the trusted parent: metrics and the retry rule are pure functions of the raw data
the worker's trainer returns (``@trainer`` in ``grader/assignments/sheet10/probes.py``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from grader.metrics import finite, finite_or_inf, loss_fell
from grader.report import plots
from grader.stages import Stage, StageFigure, Threshold


def dense_metrics(
    data: Mapping[str, Any], arrays: Mapping[str, np.ndarray], expected: Mapping[str, Any]
) -> dict[str, Any]:
    x_test = expected["x_test"]
    x = (x_test.reshape(len(x_test), -1) / 255.0).astype(np.float64)
    x_rec = arrays["x_rec"].astype(np.float64)
    bce = math.inf
    if x_rec.shape == x.shape and np.all(np.isfinite(x_rec)):
        p = np.clip(x_rec, 1e-7, 1 - 1e-7)
        bce = float(-np.mean(x * np.log(p) + (1 - x) * np.log(1 - p)))
    return {
        "test_bce": bce,
        "loss_fell": loss_fell(data.get("loss", [])),
        "finite": finite(data.get("loss", [])),
    }


def _dense_reason(m: Mapping[str, Any], thresholds: Mapping[str, float]) -> str | None:
    if not m["finite"]:
        return "the loss became NaN"
    limit = thresholds.get("test_bce_max")
    if limit is not None and not m["test_bce"] <= limit:
        bce = m["test_bce"]
        return f"the test binary cross-entropy was {bce:.4f}, above the calibrated threshold {limit:.4f}"
    return None


def _reconstructions(
    data: Mapping[str, Any], arrays: Mapping[str, np.ndarray], expected: Mapping[str, Any]
) -> Any:
    x = expected["x_test"][:10].astype(np.float32) / 255.0
    x_rec = arrays["x_rec"][:10].reshape(-1, 28, 28)
    return plots.pairs(x, x_rec, "Test images and your dense autoencoder's reconstructions")


STAGES = (
    Stage(
        name="dense",
        what="training your dense autoencoder",
        runs="the training of your dense autoencoder",
        builder_probe="dense_models",
        check="dense_training",
        metrics=dense_metrics,
        degenerate=_dense_reason,
        badness=lambda m: finite_or_inf(m["test_bce"]),
        thresholds=(Threshold("test_bce_max", "test_bce", "upper", 0.3),),
        figures=(StageFigure("dense_reconstructions", "train:dense", "dense_training", _reconstructions),),
    ),
)
