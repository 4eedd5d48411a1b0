"""Checks on models the grader trained under the rubric's budget.

The metrics come from the stages' declarations (``grader/assignments/<name>/stages.py``):
pure functions of the raw training data and the test data the parent keeps, shared by
these checks, the retry rule and ``grader calibrate``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from grader.assignments.autoencoders.stages import autoencoder_metrics, classifier_metrics, vae_metrics
from grader.assignments.sheet10.stages import dense_metrics
from grader.checks.base import CheckInputs, Verdict, check, sentences


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
)
def ae_training(inputs: CheckInputs) -> Verdict:
    data = inputs.probes["train:autoencoder"]
    metrics = autoencoder_metrics(data, inputs.arrays["train:autoencoder"], inputs.expected)
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
)
def classifier_accuracy(inputs: CheckInputs) -> Verdict:
    data = inputs.probes["train:classifier"]
    metrics = classifier_metrics(data, inputs.arrays["train:classifier"], inputs.expected)
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
)
def vae_training(inputs: CheckInputs) -> Verdict:
    """The loss falls, the reconstructions are good, and the latent means lie near the prior."""
    data = inputs.probes["train:vae"]
    metrics = vae_metrics(data, inputs.arrays["train:vae"], inputs.expected)
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


@check("dense_training", probes=("train:dense",), required_params=("test_bce_max",))
def dense_training(inputs: CheckInputs) -> Verdict:
    data = inputs.probes["train:dense"]
    metrics = dense_metrics(data, inputs.arrays["train:dense"], inputs.expected)
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
