"""The retry rule: no correct submission fails because of an unlucky seed (docs/architecture.md, principle 5).

Every student model the grader trains (conv AE, classifier, VAE, dense AE) is judged
after training from its raw data. A degenerate result (a dead latent dimension, a NaN
loss, or a metric beyond the calibrated threshold) is retrained with the next seed,
up to ``retries`` times; the best attempt is kept. Seeds derive from the rubric seed,
so a re-run makes the same attempts and keeps the same one.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from grader.checks import training as metrics_of


@dataclass(frozen=True)
class StageRule:
    """How to judge one trained stage: its metrics, when to retry, which attempt is best."""

    metrics: Callable[[Mapping[str, Any], Mapping[str, np.ndarray], Mapping[str, Any]], dict[str, Any]]
    degenerate: Callable[[dict[str, Any], Mapping[str, float]], str | None]
    badness: Callable[[dict[str, Any]], float]  # lower is better
    threshold_item_check: str  # the check whose calibrated thresholds the rule reuses


def _autoencoder_reason(m: dict[str, Any], thresholds: Mapping[str, float]) -> str | None:
    if not m["finite"]:
        return "the loss became NaN"
    if m["dead_dims"]:
        dims = " and ".join(str(d) for d in m["dead_dims"])
        return f"your latent dimension {dims} was always 0 after training (ReLU clipping, see Exercise 2c)"
    if m.get("constant_output"):
        return "your decoder output the same image for every input"
    limit = thresholds.get("test_mse_max")
    if limit is not None and not m["test_mse"] <= limit:
        return f"the test MSE was {m['test_mse']:.4f}, above the calibrated threshold {limit:.4f}"
    return None


def _classifier_reason(m: dict[str, Any], thresholds: Mapping[str, float]) -> str | None:
    if not m["finite"]:
        return "the loss became NaN"
    limit = thresholds.get("accuracy_min")
    if limit is not None and m["accuracy"] < limit:
        accuracy = 100 * m["accuracy"]
        return f"the test accuracy was {accuracy:.1f}%, below the calibrated threshold {100 * limit:.1f}%"
    return None


def _vae_reason(m: dict[str, Any], thresholds: Mapping[str, float]) -> str | None:
    if not m["finite"]:
        return "the loss became NaN"
    limit = thresholds.get("recon_mse_max")
    if limit is not None and not m["recon_mse"] <= limit:
        return f"the reconstruction MSE was {m['recon_mse']:.4f}, above the calibrated threshold {limit:.4f}"
    return None


def _dense_reason(m: dict[str, Any], thresholds: Mapping[str, float]) -> str | None:
    if not m["finite"]:
        return "the loss became NaN"
    limit = thresholds.get("test_bce_max")
    if limit is not None and not m["test_bce"] <= limit:
        bce = m["test_bce"]
        return f"the test binary cross-entropy was {bce:.4f}, above the calibrated threshold {limit:.4f}"
    return None


def _finite_or_inf(value: float) -> float:
    return value if math.isfinite(value) else math.inf


RULES: dict[str, StageRule] = {
    "autoencoder": StageRule(
        lambda d, a, e: metrics_of.autoencoder_metrics(d, a, e["x_test"]),
        _autoencoder_reason,
        lambda m: _finite_or_inf(m["test_mse"]) + 10 * len(m["dead_dims"]),  # a dead latent is worse
        "ae_training",
    ),
    "classifier": StageRule(
        lambda d, a, e: metrics_of.classifier_metrics(d, a, e["y_test"]),
        _classifier_reason,
        lambda m: -m["accuracy"],
        "classifier_accuracy",
    ),
    "vae": StageRule(
        lambda d, a, e: metrics_of.vae_metrics(d, a, e["x_test"]),
        _vae_reason,
        lambda m: _finite_or_inf(m["recon_mse"]),
        "vae_training",
    ),
    "dense": StageRule(
        lambda d, a, e: metrics_of.dense_metrics(d, a, e["x_test"]),
        _dense_reason,
        lambda m: _finite_or_inf(m["test_bce"]),
        "dense_training",
    ),
}

# Stages whose training starts from another stage's trained models.
DEPENDS_ON = {"classifier": ("autoencoder",)}
# The probe that calls a stage's builder functions without training (run by earlier items).
BUILDER_PROBES = {
    "autoencoder": "ae_models",
    "classifier": "classifier_structure",
    "vae": "vae_models",
    "dense": "dense_models",
}
# Probes that use a stage's selected models inside the worker.
PROBE_STAGES = {"vae_grid": ("vae",), "reference_artifacts": ("autoencoder",)}


def attempt_seeds(seed: int, retries: int) -> list[int]:
    """The seeds of successive attempts: the rubric seed, then the next ones."""
    return [seed + attempt for attempt in range(retries + 1)]
