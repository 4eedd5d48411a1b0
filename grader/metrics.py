"""Metrics of trained models that the assignments' stages share (pure functions of raw data)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np


def finite(values: list[Any]) -> bool:
    """A non-empty series with no NaN, infinity or missing value."""
    return bool(values) and all(v is not None and math.isfinite(v) for v in values)


def loss_fell(losses: list[Any]) -> bool:
    return finite(losses) and len(losses) >= 2 and losses[-1] < losses[0]


def training_losses(data: Mapping[str, Any]) -> list[Any]:
    """The per-epoch training loss a trainer measured: each epoch's mean batch loss, or the History's.

    The batch losses come first: a History can hold zeros for a loss that fell (a custom
    ``train_step`` without metric trackers under Keras 3; ``grader/probes/common.py::loss_recorder``).
    """
    return list(data.get("batch_loss") or data.get("loss", []))


def mse(x_rec: np.ndarray, x: np.ndarray) -> float:
    """Mean squared error; infinity for a shape mismatch or a non-finite result."""
    if x_rec.shape != x.shape:
        return math.inf
    value = float(np.mean((x_rec.astype(np.float64) - x) ** 2))
    return value if math.isfinite(value) else math.inf


def finite_or_inf(value: float) -> float:
    """A value to rank attempts by: NaN ranks last."""
    return value if math.isfinite(value) else math.inf
