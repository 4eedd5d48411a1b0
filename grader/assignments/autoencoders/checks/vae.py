"""Exercise 6a: sampling, the VAE's encoder and decoder, the KL term and the VAE loss."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from grader.checks import ground_truth
from grader.checks.architecture import kind, layer_label
from grader.checks.base import CheckInputs, StudentCallFailed, StudentError, Verdict, check, sentences

# The sampling probe's inputs (grader/assignments/autoencoders/probes.py): every row has this mean and log.
SAMPLING_MEAN = np.array([0.5, -1.0])
SAMPLING_LOG = np.array([-0.5, 0.3])
CONVENTIONS = {"log_std": np.exp(SAMPLING_LOG), "log_var": np.exp(SAMPLING_LOG / 2)}
CONVENTION_WORDS = {"log_std": "the log standard deviation", "log_var": "the log variance"}


def sampling_convention(samples: np.ndarray) -> str | None:
    """'log_std' or 'log_var' when the samples have the right mean and one convention's std."""
    if samples.ndim != 2 or samples.shape[1] != 2 or len(samples) < 1000 or not np.all(np.isfinite(samples)):
        return None
    if not np.allclose(samples.mean(axis=0), SAMPLING_MEAN, atol=0.05):
        return None
    std = samples.std(axis=0)
    for name, expected in CONVENTIONS.items():
        if np.allclose(std, expected, rtol=0.05):
            return name
    return None


def _sampling_result(inputs: CheckInputs, case: str) -> tuple[np.ndarray | None, Mapping[str, Any]]:
    part = inputs.probes["sampling"].get(case, {})
    if "error" in part or not inputs.has_array("sampling", case):
        return None, part.get("error", {})
    # float64: the feedback rounds these statistics, and float32 values print as 0.49000000953674316
    return inputs.array("sampling", case).astype(np.float64), {}


# What TF and Keras say when code needs a static shape that a symbolic tensor of unknown batch lacks.
UNKNOWN_BATCH_SIGNS = ("partially known tensorshape", "infer the shape of the lambda", "unknown dimension")
UNKNOWN_BATCH_ADVICE = (
    "In a model the batch size is unknown (None) until it runs, so z_mean.shape is not known there: "
    "draw the noise with shape tf.shape(z_mean) or keras.ops.shape(z_mean), not z_mean.shape (an "
    "output_shape on the Lambda does not help: training runs the same graph)."
)
FROZEN_NOISE = (
    "inside tf.function, every call returns the same 'random' numbers: the noise was made once with "
    "NumPy while tracing; draw it with tf.random.normal or keras.random.normal"
)


def _unknown_batch(error: Mapping[str, Any]) -> bool:
    message = str(error.get("message", "")).lower()
    return any(sign in message for sign in UNKNOWN_BATCH_SIGNS)


def _error_summary(error: Mapping[str, Any]) -> str:
    """'ValueError: Cannot convert ...': the exception's first informative line, without Keras's wrapper."""
    lines = [
        re.sub(r"\x1b\[[0-9;]*m", "", line).strip() for line in str(error.get("message", "")).splitlines()
    ]
    useful = [line for line in lines if line and not line.startswith("Exception encountered when calling")]
    text = (useful or [""])[0][:200].rstrip(".")
    return f"{error.get('type', '')}: {text}"


@check("sampling", probes=("sampling",))
def sampling(inputs: CheckInputs) -> Verdict:
    """Right statistics eagerly; works inside tf.function (fresh noise per call) and in a Lambda layer."""
    score, problems = 0.0, []
    eager, error = _sampling_result(inputs, "eager")
    if error.get("kind") in ("missing", "not_implemented", "invalid"):
        raise StudentCallFailed(StudentError.from_dict(error))
    convention = sampling_convention(eager) if eager is not None else None
    if convention:
        score += 0.5
    elif eager is None:
        problems.append(
            f"sampling([z_mean, z_log_std]) raised {error.get('type', '')}: {error.get('message', '')}"
        )
    else:
        std = eager.std(axis=0) if eager.ndim == 2 else np.array([np.nan])
        problems.append(
            f"samples have mean {np.round(eager.mean(axis=0), 2).tolist()} and std "
            f"{np.round(std, 2).tolist()}; "
            f"expected mean {SAMPLING_MEAN.tolist()} and std exp(z_log_std) = "
            f"{np.round(CONVENTIONS['log_std'], 2).tolist()}"
        )
    graph, error = _sampling_result(inputs, "graph")
    fixed, _ = _sampling_result(inputs, "graph_fixed")
    if (
        graph is None
        and fixed is not None
        and np.allclose(fixed, inputs.array("sampling", "graph_fixed_second"))
    ):
        problems.append(FROZEN_NOISE)
    elif graph is None:
        problems.append(
            "inside tf.function with an unknown batch size (input_signature (None, 2)), sampling raised "
            + _error_summary(error)
            + ("" if _unknown_batch(error) else " (use TF / keras ops only, no NumPy)")
        )
    elif np.allclose(graph, inputs.array("sampling", "graph_second")):
        problems.append(FROZEN_NOISE)
    elif sampling_convention(graph) is not None or convention is None:
        score += 0.25
    symbolic, error = _sampling_result(inputs, "symbolic")
    if symbolic is None:
        problems.append(
            "sampling does not work in a Lambda layer on symbolic Keras tensors of shape (None, 2) "
            f"({_error_summary(error)})"
            + ("" if _unknown_batch(error) else "; use TF / keras ops only, no NumPy")
        )
    else:
        score += 0.25
    if problems:
        errors = (inputs.probes["sampling"].get(case, {}).get("error", {}) for case in ("graph", "symbolic"))
        advice = " " + UNKNOWN_BATCH_ADVICE if any(_unknown_batch(error) for error in errors) else ""
        return Verdict(score, sentences(problems) + advice)
    return Verdict.passed(
        f"sampling draws z = mean + eps * std with the right statistics ({CONVENTION_WORDS[convention]} "
        "convention) and works eagerly, in tf.function and in a Lambda layer, whatever the batch size."
    )


# kl_loss formulas that read z_log_std in one convention in one term and in the other in the other:
# (the variance std^2, the log-variance term log std^2) as functions of the second input.
MIXED_KL = (
    (lambda log: np.exp(2 * log), lambda log: log),  # variance from a log std, log term from a log variance
    (lambda log: np.exp(log), lambda log: 2 * log),  # variance from a log variance, log term from a log std
)


def _mixed_kl_text(variance_from_log_std: bool, sampling: str | None) -> str:
    first, second = ("log_std", "log_var") if variance_from_log_std else ("log_var", "log_std")
    variance = "exp(2 * z_log_std)" if variance_from_log_std else "exp(z_log_std)"
    log_term = "z_log_std" if variance_from_log_std else "2 * z_log_std"
    text = (
        f"kl_loss mixes the two conventions: its variance term {variance} treats the second input as "
        f"{CONVENTION_WORDS[first]}, but its log term {log_term} treats it as {CONVENTION_WORDS[second]}"
    )
    if sampling is not None:
        text += f" (sampling treats it as {CONVENTION_WORDS[sampling]})"
    return (
        text + "; use one convention throughout: 0.5 * sum(mean^2 + exp(2 * z_log_std) - 1 - 2 * z_log_std) "
        "for the log standard deviation, or 0.5 * sum(mean^2 + exp(z_log_var) - 1 - z_log_var) for the log "
        "variance."
    )


@check("kl_divergence", probes=("kl_loss", "sampling"))
def kl_divergence(inputs: CheckInputs) -> Verdict:
    """The closed-form KL per sample, in the same log convention that sampling uses."""
    inputs.part("kl_loss")
    given = inputs.expected["inputs"]
    z_mean, z_log = given["kl_mean"].astype(float), given["kl_log"].astype(float)
    found = np.asarray(inputs.array("kl_loss", "kl"), dtype=float)
    eager = inputs.array("sampling", "eager") if inputs.has_array("sampling", "eager") else None
    convention = sampling_convention(eager) if eager is not None else None
    expected = {name: ground_truth.kl_divergence(z_mean, z_log, name) for name in CONVENTIONS}
    if found.shape not in ((len(z_mean),), (len(z_mean), 1)):
        if found.size == 1 and any(
            np.isclose(found.item(), value.mean(), rtol=1e-4) for value in expected.values()
        ):
            return Verdict.failed(
                "kl_loss returns the batch mean; it should return one KL value per sample, shape (N,)."
            )
        return Verdict.failed(
            f"kl_loss returned shape {found.shape}; expected one value per sample, ({len(z_mean)},)."
        )
    found = found.reshape(-1)
    if inputs.has_array("kl_loss", "kl_again"):
        again = np.asarray(inputs.array("kl_loss", "kl_again"), dtype=float).reshape(-1)
        if again.shape == found.shape and not np.allclose(again, found, rtol=1e-6, atol=1e-8):
            return Verdict.failed(
                "kl_loss returns different values when called twice on the same means and log standard "
                "deviations: it looks like a Monte Carlo estimate (log q(z|x) - log p(z) at a sampled z, "
                "as TensorFlow's CVAE tutorial computes it). The exercise asks for the closed form, exact "
                "and without sampling noise: 0.5 * sum(mean^2 + exp(2 * z_log_std) - 1 - 2 * z_log_std) "
                "per sample."
            )
    matches = [name for name, value in expected.items() if np.allclose(value, found, rtol=1e-4, atol=1e-5)]
    if convention in matches or (convention is None and matches):
        used = convention or matches[0]
        return Verdict.passed(
            f"kl_loss is the closed-form KL per sample ({CONVENTION_WORDS[used]} convention)."
        )
    if matches:
        return Verdict.failed(
            f"kl_loss treats the second input as {CONVENTION_WORDS[matches[0]]}, but sampling treats it as "
            f"{CONVENTION_WORDS[convention]}; use one convention in both."
        )
    if any(np.allclose(-value, found, rtol=1e-4, atol=1e-5) for value in expected.values()):
        return Verdict.failed("kl_loss has the wrong sign: the KL divergence is never negative.")
    for variance, log_term in MIXED_KL:
        mixed = 0.5 * np.sum(z_mean**2 + variance(z_log) - 1 - log_term(z_log), axis=-1)
        if np.allclose(mixed, found, rtol=1e-4, atol=1e-5):
            return Verdict.failed(_mixed_kl_text(variance is MIXED_KL[0][0], convention))
    target = expected[convention or "log_std"]
    return Verdict.failed(
        f"kl_loss differs from 0.5 * sum(mean^2 + std^2 - 1 - log std^2) per sample: for mean "
        f"{np.round(z_mean[1], 2).tolist()} expected {target[1]:.4f}, got {found[1]:.4f}."
    )


@check("vae_loss_terms", probes=("vae_loss",))
def vae_loss_terms(inputs: CheckInputs) -> Verdict:
    """vae_loss grows as the reconstruction gets worse and as the means leave the prior."""
    data = inputs.part("vae_loss")
    problems, score = [], 0.0
    for key, words in (
        ("reconstruction", "the reconstruction gets worse"),
        ("divergence", "the latent means move away from 0 (the KL term)"),
    ):
        values = data.get(key, [])
        if None in values or len(values) < 2:
            problems.append(f"vae_loss is NaN or infinite when {words}")
        elif all(b > a for a, b in zip(values, values[1:], strict=False)):
            score += 0.5
        elif all(b < a for a, b in zip(values, values[1:], strict=False)):
            problems.append(f"vae_loss falls when {words}: check the sign of that term")
        else:
            problems.append(f"vae_loss does not grow when {words}: is that term in the loss?")
    if problems:
        return Verdict(score, sentences(problems))
    return Verdict.passed("vae_loss grows with the reconstruction error and with the KL term.")


KERAS_PACKAGES = ("keras", "tf_keras", "tensorflow")


def _samples(record: Mapping[str, Any]) -> bool:
    """A layer that can draw z: a Lambda, or a Layer class of the student's own (keras.io's ``Sampling``)."""
    return record["type"] == "Lambda" or record.get("module", "keras") not in KERAS_PACKAGES


@check("vae_architecture", probes=("vae_models",))
def vae_architecture(inputs: CheckInputs) -> Verdict:
    """Convolutional encoder with [z_mean, z_log_std, z] (a sampling Lambda); conv decoder; compiled VAE."""
    encoder = inputs.part("vae_models", "encoder")
    decoder = inputs.part("vae_models", "decoder")
    problems, passed = [], 0

    outputs = encoder["output_shapes"]
    records = encoder["layers"]
    convs = [i for i, r in enumerate(records) if kind(r) in ("conv", "deconv")]
    dense_before_conv = [
        records[i] for i in range(len(records)) if records[i]["type"] == "Dense" and convs and i < convs[-1]
    ]
    if len(outputs) != 3 or any(list(shape) != [2] for shape in outputs):
        problems.append(
            f"the encoder should output [z_mean, z_log_std, z], each (N, 2); it outputs {outputs}"
        )
    elif not any(_samples(r) for r in records):
        problems.append(
            "the encoder has no sampling layer: wrap sampling in keras.layers.Lambda "
            "(or in a Layer of your own)"
        )
    elif not convs:
        problems.append("the encoder has no convolution layer; it must be convolutional")
    elif dense_before_conv:
        problems.append(
            f"only the encoder's last layers may be Dense; {layer_label(dense_before_conv[0])} comes before "
            f"a conv"
        )
    else:
        passed += 1

    records = decoder["layers"]
    convs = [i for i, r in enumerate(records) if kind(r) in ("conv", "deconv")]
    dense = [i for i, r in enumerate(records) if r["type"] == "Dense"]
    if list(decoder["input_shape"] or []) != [2]:
        problems.append(f"the decoder should take a (N, 2) latent code; it takes {decoder['input_shape']}")
    elif not convs:
        problems.append("the decoder has no (transposed) convolution layer; it must be convolutional")
    elif any(i != 0 for i in dense):
        problems.append(
            f"only the decoder's first layer may be Dense; found {layer_label(records[dense[-1]])}"
        )
    elif len(decoder["output_shapes"][0]) != 3 or decoder["output_shapes"][0][2] != 1:
        problems.append(
            f"the decoder should output images (N, H, W, 1); it outputs {decoder['output_shapes'][0]}"
        )
    else:
        passed += 1

    vae = inputs.part("vae_models", "vae")
    if vae.get("compiled"):
        passed += 1
    else:
        problems.append("build_vae should return a compiled model")
    if problems:
        return Verdict(passed / 3, sentences(problems))
    return Verdict.passed(
        "The VAE encoder and decoder are convolutional, sampling is a layer of the encoder, "
        "the VAE is compiled."
    )
