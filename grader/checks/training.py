"""Checks on models the grader trained under the rubric's budget, and their metrics.

The metrics are pure functions of the raw training data (losses, predictions on the
test images) and the test data the parent keeps. They serve three users: these
checks, the retry rule (``grader/training.py``) and ``grader calibrate``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from grader.checks.base import CheckInputs, Verdict, check, sentences
from grader.data import to_float_images

DEAD_STD = 1e-5  # a latent dimension whose std over the training set is below this is dead


def _finite(values: list[Any]) -> bool:
    return bool(values) and all(v is not None and math.isfinite(v) for v in values)


def _loss_fell(losses: list[Any]) -> bool:
    return _finite(losses) and len(losses) >= 2 and losses[-1] < losses[0]


def _mse(x_rec: np.ndarray, x: np.ndarray) -> float:
    if x_rec.shape != x.shape:
        return math.inf
    value = float(np.mean((x_rec.astype(np.float64) - x) ** 2))
    return value if math.isfinite(value) else math.inf


def autoencoder_metrics(
    data: Mapping[str, Any], arrays: Mapping[str, np.ndarray], x_test: np.ndarray
) -> dict[str, Any]:
    x = to_float_images(x_test, int(data.get("image_size", 32)))[..., 0]
    stds = data.get("latent_std", [])
    return {
        "test_mse": _mse(arrays["x_rec"], x),
        "loss_fell": _loss_fell(data.get("loss", [])),
        "finite": _finite(data.get("loss", [])),
        "dead_dims": [i + 1 for i, s in enumerate(stds) if s is None or s < DEAD_STD],
        # Every test image reconstructed as the same picture: the decoder ignores its input.
        "constant_output": bool(
            arrays["x_rec"].shape[0] > 1 and float(np.max(np.std(arrays["x_rec"], axis=0))) < 1e-4
        ),
    }


def classifier_metrics(
    data: Mapping[str, Any], arrays: Mapping[str, np.ndarray], y_test: np.ndarray
) -> dict[str, Any]:
    scores = arrays["scores"]
    ok = scores.ndim == 2 and scores.shape == (len(y_test), 10) and np.all(np.isfinite(scores))
    accuracy = float(np.mean(scores.argmax(axis=1) == y_test)) if ok else 0.0
    losses = data.get("history", {}).get("loss", [])
    return {"accuracy": accuracy, "finite": _finite(losses) and bool(ok)}


def vae_metrics(
    data: Mapping[str, Any], arrays: Mapping[str, np.ndarray], x_test: np.ndarray
) -> dict[str, Any]:
    x = to_float_images(x_test, int(data.get("image_size", 32)))[..., 0]
    z_mean = arrays["z_mean"].astype(np.float64)
    finite_codes = bool(np.all(np.isfinite(z_mean)))
    return {
        "recon_mse": _mse(arrays["x_rec"], x),
        "loss_fell": _loss_fell(data.get("loss", [])),
        "finite": _finite(data.get("loss", [])) and finite_codes,
        "prior_mean": float(np.max(np.abs(z_mean.mean(axis=0)))) if finite_codes else math.inf,
        "prior_std": float(np.max(z_mean.std(axis=0))) if finite_codes else math.inf,
    }


def dense_metrics(
    data: Mapping[str, Any], arrays: Mapping[str, np.ndarray], x_test: np.ndarray
) -> dict[str, Any]:
    x = (x_test.reshape(len(x_test), -1) / 255.0).astype(np.float64)
    x_rec = arrays["x_rec"].astype(np.float64)
    bce = math.inf
    if x_rec.shape == x.shape and np.all(np.isfinite(x_rec)):
        p = np.clip(x_rec, 1e-7, 1 - 1e-7)
        bce = float(-np.mean(x * np.log(p) + (1 - x) * np.log(1 - p)))
    return {
        "test_bce": bce,
        "loss_fell": _loss_fell(data.get("loss", [])),
        "finite": _finite(data.get("loss", [])),
    }


def attempts_text(data: Mapping[str, Any]) -> str:
    """'Trained 2 times: with seed 0 ...; retried with seed 1.' ('' for one attempt)."""
    attempts = data.get("attempts", [])
    if len(attempts) <= 1:
        return ""
    parts = []
    for attempt in attempts:
        if attempt.get("reason"):
            parts.append(f"with seed {attempt['seed']} {attempt['reason']}")
    chosen = data.get("selected_seed")
    text = f" The grader trained your model {len(attempts)} times: " + "; ".join(parts)
    return text + (f"; it kept the attempt with seed {chosen}." if chosen is not None else ".")


def _constant_note(metrics: dict[str, Any]) -> str:
    if not metrics.get("constant_output"):
        return ""
    return (
        " Your decoder outputs the same image for every input: its last activation may be stuck "
        "(e.g. a ReLU that is 0 everywhere, or a saturated sigmoid)."
    )


def _budget_text(inputs: CheckInputs, stage: str) -> str:
    budget = inputs.expected.get("budget", {})
    try:
        return (
            f"after {budget['epochs'][stage]} epochs on {budget['train_samples']:,} images "
            f"(batch {budget['batch_size'][stage]})"
        )
    except (KeyError, TypeError):
        return "after the grader's training budget"


@check(
    "ae_training",
    probes=("train:autoencoder",),
    required_params=("test_mse_max",),
    calibrated=("test_mse_max",),
)
def ae_training(inputs: CheckInputs) -> Verdict:
    data = inputs.probes["train:autoencoder"]
    metrics = autoencoder_metrics(data, inputs.arrays["train:autoencoder"], inputs.expected["x_test"])
    limit = inputs.threshold("test_mse_max")
    retries = attempts_text(data)
    measured = {"test_mse": metrics["test_mse"]}
    dead = ""
    if metrics["dead_dims"]:
        dims = " and ".join(str(d) for d in metrics["dead_dims"])
        dead = (
            f" Your latent dimension {dims} was always 0 after training: the ReLU after the last encoder "
            "conv clips it (see Exercise 2c)."
        )
    if not metrics["finite"]:
        return Verdict.failed("the training loss became NaN or infinite." + dead + retries, **measured)
    if not metrics["loss_fell"]:
        return Verdict.failed(
            f"the training loss did not fall {_budget_text(inputs, 'autoencoder')}." + dead + retries,
            **measured,
        )
    if not metrics["test_mse"] <= limit:
        return Verdict.failed(
            f"{_budget_text(inputs, 'autoencoder')} the test MSE is {metrics['test_mse']:.4f}, above the "
            f"threshold {limit:.4f} calibrated on the reference." + dead + _constant_note(metrics) + retries,
            **measured,
        )
    return Verdict.passed(
        f"{_budget_text(inputs, 'autoencoder')} the loss fell and the test MSE is {metrics['test_mse']:.4f} "
        f"(threshold {limit:.4f})." + dead + retries,
        **measured,
    )


@check(
    "classifier_accuracy",
    probes=("train:classifier",),
    required_params=("accuracy_min",),
    calibrated=("accuracy_min",),
)
def classifier_accuracy(inputs: CheckInputs) -> Verdict:
    data = inputs.probes["train:classifier"]
    metrics = classifier_metrics(data, inputs.arrays["train:classifier"], inputs.expected["y_test"])
    limit = inputs.threshold("accuracy_min")
    note = attempts_text(data)
    if data.get("train_classifier_error"):
        note += (
            " (train_classifier failed, so the grader trained the classifier with model.fit; see item 4b.)"
        )
    measured = {"accuracy": metrics["accuracy"]}
    text = f"{_budget_text(inputs, 'classifier')} the test accuracy is {100 * metrics['accuracy']:.1f}%"
    if metrics["accuracy"] >= limit:
        return Verdict.passed(f"{text} (threshold {100 * limit:.1f}%).{note}", **measured)
    return Verdict.failed(
        f"{text}, below the threshold {100 * limit:.1f}% calibrated on the reference.{note}", **measured
    )


@check(
    "vae_training",
    probes=("train:vae",),
    required_params=("recon_mse_max", "prior_mean_max", "prior_std_max"),
    calibrated=("recon_mse_max",),
)
def vae_training(inputs: CheckInputs) -> Verdict:
    """The loss falls, the reconstructions are good, and the latent means lie near the prior."""
    data = inputs.probes["train:vae"]
    metrics = vae_metrics(data, inputs.arrays["train:vae"], inputs.expected["x_test"])
    measured = {key: metrics[key] for key in ("recon_mse", "prior_mean", "prior_std")}
    note = attempts_text(data)
    if not metrics["finite"]:
        return Verdict.failed("the VAE's loss or latent means became NaN or infinite." + note, **measured)
    problems, passed = [], 0
    if metrics["loss_fell"]:
        passed += 1
    else:
        problems.append("the loss did not fall")
    limit = inputs.threshold("recon_mse_max")
    if metrics["recon_mse"] <= limit:
        passed += 1
    else:
        problems.append(
            f"decoding the latent means gives a test MSE of {metrics['recon_mse']:.4f}, above {limit:.4f}"
        )
    mean_max, std_max = inputs.threshold("prior_mean_max"), inputs.threshold("prior_std_max")
    if metrics["prior_mean"] <= mean_max and metrics["prior_std"] <= std_max:
        passed += 1
    else:
        problems.append(
            f"the latent means are not near the N(0, 1) prior (largest |mean| {metrics['prior_mean']:.2f}, "
            f"largest std {metrics['prior_std']:.2f}; expected at most {mean_max:g} and {std_max:g}); the "
            f"KL term "
            "of the loss is what pulls them towards the prior"
        )
    if problems:
        return Verdict(passed / 3, f"{_budget_text(inputs, 'vae')}: " + sentences(problems) + note, measured)
    return Verdict.passed(
        f"{_budget_text(inputs, 'vae')} the loss fell, the reconstruction MSE is {metrics['recon_mse']:.4f} "
        f"and the latent means lie near the prior." + note,
        **measured,
    )


@check(
    "dense_training", probes=("train:dense",), required_params=("test_bce_max",), calibrated=("test_bce_max",)
)
def dense_training(inputs: CheckInputs) -> Verdict:
    data = inputs.probes["train:dense"]
    metrics = dense_metrics(data, inputs.arrays["train:dense"], inputs.expected["x_test"])
    limit = inputs.threshold("test_bce_max")
    note = attempts_text(data)
    measured = {"test_bce": metrics["test_bce"]}
    if not metrics["finite"] or not metrics["loss_fell"]:
        return Verdict.failed(
            f"the training loss did not fall {_budget_text(inputs, 'dense')}.{note}", **measured
        )
    if metrics["test_bce"] <= limit:
        return Verdict.passed(
            f"{_budget_text(inputs, 'dense')} the test binary cross-entropy is {metrics['test_bce']:.4f} "
            f"(threshold {limit:.4f}).{note}",
            **measured,
        )
    return Verdict.failed(
        f"{_budget_text(inputs, 'dense')} the test binary cross-entropy is {metrics['test_bce']:.4f}, above "
        f"the threshold {limit:.4f}.{note}",
        **measured,
    )


@check("classifier_history", probes=("train_classifier_call",))
def classifier_history(inputs: CheckInputs) -> Verdict:
    """train_classifier returns a History with a train and a test loss per epoch.

    It is called on a classifier the grader builds (see docs/architecture.md, "no cascades"),
    so this item does not depend on build_classifier.
    """
    data = inputs.probes["train_classifier_call"]
    history = data.get("history", {})
    epochs = int(data.get("epochs", 0))
    missing = [key for key in ("loss", "val_loss") if len(history.get(key, [])) != epochs]
    if missing:
        found = ", ".join(f"{k} ({len(v)} values)" for k, v in history.items()) or "nothing"
        return Verdict.failed(
            f"the History returned by train_classifier should hold 'loss' and 'val_loss' for each of the "
            f"{epochs} epochs (evaluate on the test data with validation_data=...); it holds {found}."
        )
    return Verdict.passed(
        f"train_classifier returns the train and test loss for each of the {epochs} epochs."
    )
