"""Checks of the models the grader trained for ``autoencoders``: the autoencoder, the classifier
and the VAE, measured by the stages' metrics (``grader/assignments/autoencoders/stages.py``)."""

from __future__ import annotations

from grader.assignments.autoencoders.stages import autoencoder_metrics, classifier_metrics, vae_metrics
from grader.checks.base import CheckInputs, Verdict, check, sentences
from grader.checks.training import attempts_text, budget_text, constant_note, slow_learning_note


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
            f"the training loss did not fall {budget_text(inputs, 'autoencoder')}." + dead + retries,
            **measured,
        )
    if not metrics["test_mse"] <= limit:
        return Verdict.failed(
            f"{budget_text(inputs, 'autoencoder')} the test MSE is {metrics['test_mse']:.4f}, above the "
            f"threshold {limit:.4f} calibrated on the reference."
            + dead
            + constant_note(metrics)
            + slow_learning_note(data)
            + retries,
            **measured,
        )
    return Verdict.passed(
        f"{budget_text(inputs, 'autoencoder')} the loss fell and the test MSE is {metrics['test_mse']:.4f} "
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
    text = f"{budget_text(inputs, 'classifier')} the test accuracy is {100 * metrics['accuracy']:.1f}%"
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
        note = slow_learning_note(data) + note
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
    if metrics.get("recon_logits"):
        note = (
            " The decoder's outputs lie far outside [0, 1], so they were read as logits: the MSE is "
            "that of their sigmoid." + note
        )
    if problems:
        return Verdict(passed / 3, f"{budget_text(inputs, 'vae')}: " + sentences(problems) + note, measured)
    return Verdict.passed(
        f"{budget_text(inputs, 'vae')} the loss fell, the reconstruction MSE is {metrics['recon_mse']:.4f} "
        f"and the latent means lie near the prior." + note,
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
    return Verdict.passed(  # not the 4a training (its own budget): say which call this was
        f"called by the grader with epochs={epochs} on a small classifier of its own, train_classifier "
        f"returns the train and test loss for each of the {epochs} epochs."
    )
