"""The models the ``autoencoders`` assignment trains: the conv autoencoder (Exercise 1), the
classifier on its trained encoder (4a) and the VAE (6a).

Runs in the trusted parent: metrics and retry rules are pure functions of the raw data the
worker's trainers return (``@trainer`` in ``grader/assignments/autoencoders/probes.py``) and the test
data only the parent holds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from grader.data import to_float_images
from grader.metrics import finite, finite_or_inf, loss_fell, mse, training_losses
from grader.report import plots
from grader.stages import Stage, StageFigure, Threshold

DEAD_STD = 1e-5  # a latent dimension whose std over the training set is below this is dead


# -- metrics ----------------------------------------------------------------------------------------


def autoencoder_metrics(
    data: Mapping[str, Any], arrays: Mapping[str, np.ndarray], expected: Mapping[str, Any]
) -> dict[str, Any]:
    x = to_float_images(expected["x_test"], int(data.get("image_size", 32)))[..., 0]
    stds = data.get("latent_std", [])
    return {
        "test_mse": mse(arrays["x_rec"], x),
        "loss_fell": loss_fell(training_losses(data)),
        "finite": finite(training_losses(data)),
        "dead_dims": [i + 1 for i, s in enumerate(stds) if s is None or s < DEAD_STD],
        # Every test image reconstructed as the same picture: the decoder ignores its input.
        "constant_output": bool(
            arrays["x_rec"].shape[0] > 1 and float(np.max(np.std(arrays["x_rec"], axis=0))) < 1e-4
        ),
    }


def classifier_metrics(
    data: Mapping[str, Any], arrays: Mapping[str, np.ndarray], expected: Mapping[str, Any]
) -> dict[str, Any]:
    y_test = expected["y_test"]
    scores = arrays["scores"]
    ok = scores.ndim == 2 and scores.shape == (len(y_test), 10) and np.all(np.isfinite(scores))
    accuracy = float(np.mean(scores.argmax(axis=1) == y_test)) if ok else 0.0
    losses = data.get("history", {}).get("loss", [])
    return {"accuracy": accuracy, "finite": finite(losses) and bool(ok)}


def looks_like_logits(outputs: np.ndarray) -> bool:
    """Finite decoder outputs far outside the pixel range [0, 1]."""
    if outputs.size == 0 or not np.all(np.isfinite(outputs)):
        return False
    return float(np.min(outputs)) < -0.5 or float(np.max(outputs)) > 1.5


def sigmoid(logits: np.ndarray) -> np.ndarray:
    """The images a logits decoder means (clipped: no overflow in exp)."""
    return 1.0 / (1.0 + np.exp(-np.clip(logits.astype(np.float64), -60, 60)))


def reconstruction_mse(x_rec: np.ndarray, x: np.ndarray) -> tuple[float, bool]:
    """The MSE of the decoder's images, and whether its outputs were read as logits.

    A decoder may end without a sigmoid and be trained with a cross-entropy on logits
    (TensorFlow's CVAE tutorial): its raw outputs are not pixels, its sigmoid is. Outputs far
    outside [0, 1] are read both ways and the better reading counts; a decoder that
    reconstructs nothing fails either way.
    """
    raw = mse(x_rec, x)
    if not looks_like_logits(x_rec):
        return raw, False
    squashed = mse(sigmoid(x_rec), x)
    return (squashed, True) if squashed < raw else (raw, False)


def vae_metrics(
    data: Mapping[str, Any], arrays: Mapping[str, np.ndarray], expected: Mapping[str, Any]
) -> dict[str, Any]:
    x = to_float_images(expected["x_test"], int(data.get("image_size", 32)))[..., 0]
    z_mean = arrays["z_mean"].astype(np.float64)
    finite_codes = bool(np.all(np.isfinite(z_mean)))
    recon_mse, logits = reconstruction_mse(arrays["x_rec"], x)
    return {
        "recon_mse": recon_mse,
        "recon_logits": logits,
        "loss_fell": loss_fell(training_losses(data)),
        "finite": finite(training_losses(data)) and finite_codes,
        "prior_mean": float(np.max(np.abs(z_mean.mean(axis=0)))) if finite_codes else math.inf,
        "prior_std": float(np.max(z_mean.std(axis=0))) if finite_codes else math.inf,
    }


# -- retry rules: why an attempt is degenerate (None: keep it) ----------------------------------------


def _autoencoder_reason(m: Mapping[str, Any], thresholds: Mapping[str, float]) -> str | None:
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


def _classifier_reason(m: Mapping[str, Any], thresholds: Mapping[str, float]) -> str | None:
    if not m["finite"]:
        return "the loss became NaN"
    limit = thresholds.get("accuracy_min")
    if limit is not None and m["accuracy"] < limit:
        accuracy = 100 * m["accuracy"]
        return f"the test accuracy was {accuracy:.1f}%, below the calibrated threshold {100 * limit:.1f}%"
    return None


def _vae_reason(m: Mapping[str, Any], thresholds: Mapping[str, float]) -> str | None:
    if not m["finite"]:
        return "the loss became NaN"
    limit = thresholds.get("recon_mse_max")
    if limit is not None and not m["recon_mse"] <= limit:
        return f"the reconstruction MSE was {m['recon_mse']:.4f}, above the calibrated threshold {limit:.4f}"
    return None


# -- figures --------------------------------------------------------------------------------------


def _reconstructions(
    data: Mapping[str, Any], arrays: Mapping[str, np.ndarray], expected: Mapping[str, Any]
) -> Any:
    x = to_float_images(expected["x_test"][:10], int(data.get("image_size", 32)))[..., 0]
    return plots.pairs(x, arrays["x_rec"][:10], "Test images (top) and your autoencoder's reconstructions")


def _latent_space(
    data: Mapping[str, Any], arrays: Mapping[str, np.ndarray], expected: Mapping[str, Any]
) -> Any:
    z = arrays["z_test"]
    if z.shape[1] != 2:
        return None
    return plots.scatter(z, expected["y_test"], "Your encoder's latent codes of the test images")


def _decoder_grid(
    data: Mapping[str, Any], arrays: Mapping[str, np.ndarray], expected: Mapping[str, Any]
) -> Any:
    if "mosaic_images" not in arrays:  # the latent is not 2-D
        return None

    images = arrays["mosaic_images"]
    n = int(round(np.sqrt(len(images))))
    return plots.image(plots.mosaic(images, n, n), "Your decoder over a 15 x 15 grid of its latent range")


def _vae_latent_space(
    data: Mapping[str, Any], arrays: Mapping[str, np.ndarray], expected: Mapping[str, Any]
) -> Any:
    if arrays["z_mean"].shape[1] != 2:
        return None
    return plots.scatter(arrays["z_mean"], expected["y_test"], "Your VAE's latent means of the test images")


def _vae_grid(data: Mapping[str, Any], arrays: Mapping[str, np.ndarray], expected: Mapping[str, Any]) -> Any:

    raw = arrays["raw"]
    n = int(round(np.sqrt(len(raw))))
    if looks_like_logits(raw):  # a decoder without a final sigmoid: show the images it means
        raw = sigmoid(raw)
    return plots.image(plots.mosaic(raw, n, n), "Your VAE decoder over [-3, 3]^2")


# -- the stages -------------------------------------------------------------------------------------

STAGES = (
    Stage(
        name="autoencoder",
        what="training your autoencoder",
        runs="the training of your autoencoder",
        builder_probe="ae_models",
        check="ae_training",
        metrics=autoencoder_metrics,
        degenerate=_autoencoder_reason,
        badness=lambda m: finite_or_inf(m["test_mse"]) + 10 * len(m["dead_dims"]),  # a dead latent is worse
        thresholds=(Threshold("test_mse_max", "test_mse", "upper", 0.3),),
        used_by=("reference_artifacts",),  # the no-cascade inputs come from the trained reference
        figures=(
            StageFigure("reconstructions", "train:autoencoder", "ae_training", _reconstructions),
            StageFigure("latent_space", "train:autoencoder", "ae_training", _latent_space),
            StageFigure("decoder_grid", "train:autoencoder", "ae_training", _decoder_grid),
        ),
    ),
    Stage(
        name="classifier",
        what="training your classifier",
        runs="build_classifier and train_classifier",
        builder_probe="classifier_structure",
        check="classifier_accuracy",
        metrics=classifier_metrics,
        degenerate=_classifier_reason,
        badness=lambda m: -m["accuracy"],
        # A lower bound never goes below chance (10 balanced digits): a tiny budget whose reference
        # reaches only 18% would otherwise calibrate a negative threshold that accepts a guessing model.
        thresholds=(Threshold("accuracy_min", "accuracy", "lower", 0.10, floor=0.10),),
        depends_on=("autoencoder",),  # Exercise 4 classifies with the trained encoder
    ),
    Stage(
        name="vae",
        what="training your VAE",
        runs="the training of your VAE",
        builder_probe="vae_models",
        check="vae_training",
        metrics=vae_metrics,
        degenerate=_vae_reason,
        badness=lambda m: finite_or_inf(m["recon_mse"]),
        thresholds=(Threshold("recon_mse_max", "recon_mse", "upper", 0.3),),
        used_by=("vae_grid",),  # 6c: the grid functions on the trained VAE decoder
        figures=(
            StageFigure("vae_latent_space", "train:vae", "vae_training", _vae_latent_space),
            StageFigure("vae_grid", "vae_grid", "vae_grid", _vae_grid),
        ),
    ),
)
