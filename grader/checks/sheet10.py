"""``sheet10`` (seed 000): preprocessing, the dense autoencoder, and attention (3.4)."""

from __future__ import annotations

import numpy as np

from grader.checks import ground_truth
from grader.checks.architecture import effective_activation, layer_label
from grader.checks.base import CheckInputs, StudentCallFailed, StudentError, Verdict, check


def keras_l2_normalize(images: np.ndarray, axis: int) -> np.ndarray:
    """What tf.keras.utils.normalize(x, axis) computes: x divided by its L2 norm along axis."""
    norm = np.atleast_1d(np.linalg.norm(images, 2, axis))
    norm[norm == 0] = 1
    return images / np.expand_dims(norm, axis)


@check("preprocess_scaling", probes=("preprocess",))
def preprocess_scaling(inputs: CheckInputs) -> Verdict:
    """pixel / 255, flattened to (N, 784), values in [0, 1]."""
    inputs.part("preprocess")
    raw = inputs.expected["inputs"]["preprocess_case"].astype(np.float64)
    found = inputs.array("preprocess", "out")
    expected = raw.reshape(len(raw), -1) / 255.0
    if found.shape != expected.shape:
        return Verdict.failed(
            f"preprocess returned shape {found.shape}; expected {expected.shape} (flattened to 784)."
        )
    if np.allclose(expected, found, atol=1e-6):
        return Verdict.passed("preprocess scales pixels to [0, 1] (divided by 255) and flattens them to 784.")
    for axis in (1, 2, -1):
        if np.allclose(keras_l2_normalize(raw, axis).reshape(len(raw), -1), found, atol=1e-6):
            return Verdict.failed(
                "preprocess uses tf.keras.utils.normalize, which divides by the L2 norm of each row of "
                "pixels; "
                "the values are no longer pixel intensities in [0, 1]. Divide by 255 instead."
            )
    if np.allclose(expected * 255, found, atol=1e-4):
        return Verdict.failed(
            "preprocess does not scale the pixels: divide by 255 so the values lie in [0, 1]."
        )
    return Verdict.failed(
        f"preprocess gives values in [{found.min():.3g}, {found.max():.3g}] that are not pixel / 255 "
        "(expected [0, 1], the pixel value divided by 255)."
    )


def _dense_layers(records: list, units: int) -> list:
    return [r for r in records if r["type"] == "Dense" and r.get("units") == units]


@check("dense_encoder", probes=("dense_models",))
def dense_encoder(inputs: CheckInputs) -> Verdict:
    """The encoder maps 784 to 32 with one Dense(32, relu) layer."""
    encoder = inputs.part("dense_models", "encoder")
    records = encoder["layers"]
    hidden = _dense_layers(records, 32)
    if list(encoder["input_shape"] or []) != [784] or list(encoder["output_shapes"][0]) != [32]:
        return Verdict.failed(
            f"the encoder maps {encoder['input_shape']} to {encoder['output_shapes'][0]}; expected [784] to "
            f"[32]."
        )
    if not hidden:
        return Verdict.failed("the encoder has no Dense(32) layer.")
    activation = effective_activation(records, records.index(hidden[0]))[0]
    if activation != "relu":
        return Verdict.failed(
            f"the encoder's {layer_label(hidden[0])} uses '{activation}'; the exercise asks for ReLU."
        )
    return Verdict.passed("The encoder is Dense(32, relu): 784 floats to 32.")


@check("dense_decoder", probes=("dense_models",))
def dense_decoder(inputs: CheckInputs) -> Verdict:
    """The decoder maps 32 to 784 with Dense(784, sigmoid)."""
    decoder = inputs.part("dense_models", "decoder")
    records = decoder["layers"]
    output = _dense_layers(records, 784)
    if list(decoder["input_shape"] or []) != [32] or list(decoder["output_shapes"][0]) != [784]:
        return Verdict.failed(
            f"the decoder maps {decoder['input_shape']} to {decoder['output_shapes'][0]}; expected [32] to "
            f"[784]."
        )
    if not output:
        return Verdict.failed("the decoder has no Dense(784) layer.")
    activation = effective_activation(records, records.index(output[-1]))[0]
    if activation != "sigmoid":
        return Verdict.failed(
            f"the decoder's {layer_label(output[-1])} uses '{activation}'; the exercise asks for a sigmoid, "
            "so the outputs are pixel values in [0, 1]."
        )
    return Verdict.passed("The decoder is Dense(784, sigmoid): 32 floats back to 784.")


@check("dense_optimizer", probes=("dense_models",), required_params=("expected",))
def dense_optimizer(inputs: CheckInputs) -> Verdict:
    expected = inputs.params["expected"]
    found = inputs.part("dense_models", "autoencoder").get("optimizer")
    if found is None:
        return Verdict.failed("the autoencoder is not compiled with an optimizer.")
    if str(found).lower() == expected.lower():
        return Verdict.passed(f"The autoencoder is compiled with {found}.")
    return Verdict.failed(f"the autoencoder is compiled with {found}; the exercise asks for {expected}.")


ATTENTION_CASES = ("batched", "masked", "rank1")


@check("attention_function", probes=("attention",))
def attention_function(inputs: CheckInputs) -> Verdict:
    """Matches NumPy on batched inputs, with a mask, and on rank-1 vectors (one token)."""
    data = inputs.part("attention")
    given = inputs.expected["inputs"]
    passed, problems = 0, []
    for case in ATTENTION_CASES:
        q, k, v = (given[f"att_{case}_{name}"] for name in "qkv")
        mask = given.get(f"att_{case}_mask")
        if "error" in data.get(case, {}):
            error = data[case]["error"]
            if error.get("kind") in ("missing", "not_implemented"):
                raise StudentCallFailed(StudentError.from_dict(error))
            advice = f" {error['advice']}" if error.get("advice") else ""
            message = error.get("message", "")[:200].rstrip(". ")
            problems.append(f"on {case} inputs it raised {error.get('type', '')}: {message}.{advice}")
            continue
        output, weights = (
            inputs.array("attention", f"{case}_output"),
            inputs.array("attention", f"{case}_weights"),
        )
        expected_output, expected_weights = ground_truth.attention(q, k, v, mask)
        if case == "rank1" and output.shape == (1,) + expected_output.shape:
            output, weights = output[0], weights[0]  # (1, d_v) is accepted for a rank-1 query
        if output.shape == expected_output.shape and np.allclose(expected_output, output, atol=1e-4):
            passed += 1
            continue
        problems.append(_attention_diagnosis(case, q, k, v, mask, output, expected_output))
    if problems:
        return Verdict(passed / len(ATTENTION_CASES), " ".join(problems))
    return Verdict.passed("scaled_dot_product_attention matches on batched, masked and rank-1 inputs.")


def _attention_diagnosis(case, q, k, v, mask, output, expected) -> str:
    if output.shape != expected.shape:
        return f"On {case} inputs the output has shape {output.shape}; expected {expected.shape}."
    d_k = np.asarray(k).shape[-1]
    unscaled = ground_truth.attention(np.asarray(q) * np.sqrt(d_k), k, v, mask)[0]
    if np.allclose(unscaled, output, atol=1e-4):
        return f"On {case} inputs the logits are not divided by sqrt(d_k) = sqrt({d_k})."
    if mask is not None and np.allclose(ground_truth.attention(q, k, v, None)[0], output, atol=1e-4):
        return "The mask is ignored: add mask * -1e9 to the scaled logits before the softmax."
    logits = np.asarray(q, float) @ np.swapaxes(np.asarray(k, float), -1, -2) / np.sqrt(d_k)
    if mask is not None:
        logits = logits + np.asarray(mask, float) * -1e9
    if np.allclose(ground_truth.softmax(logits, axis=-2) @ np.asarray(v, float), output, atol=1e-4):
        return (
            f"On {case} inputs the softmax runs over the queries (axis -2); "
            "it must run over the keys (the last axis)."
        )
    return f"On {case} inputs the output differs from softmax(q k^T / sqrt(d_k)) v."
