"""Checks of ``sheet10`` (seed 000): the dense autoencoder of 1.4, its training, and 3.4's
``ATTENTION_OUTPUT`` (preprocessing and attention are function exercises: ``matches_reference``)."""

from __future__ import annotations

import numpy as np

from grader.assignments.sheet10.stages import dense_metrics
from grader.checks import ground_truth
from grader.checks.architecture import effective_activation, layer_label
from grader.checks.base import CheckInputs, Verdict, check
from grader.checks.constants import PROBE, constant_value
from grader.checks.training import attempts_text, budget_text


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


@check("dense_training", probes=("train:dense",), required_params=("test_bce_max",))
def dense_training(inputs: CheckInputs) -> Verdict:
    data = inputs.probes["train:dense"]
    metrics = dense_metrics(data, inputs.arrays["train:dense"], inputs.expected)
    limit = inputs.threshold("test_bce_max")
    note = attempts_text(data)
    measured = {"test_bce": metrics["test_bce"]}
    if not metrics["finite"] or not metrics["loss_fell"]:
        return Verdict.failed(
            f"the training loss did not fall {budget_text(inputs, 'dense')}.{note}", **measured
        )
    if metrics["test_bce"] <= limit:
        return Verdict.passed(
            f"{budget_text(inputs, 'dense')} the test binary cross-entropy is {metrics['test_bce']:.4f} "
            f"(threshold {limit:.4f}).{note}",
            **measured,
        )
    return Verdict.failed(
        f"{budget_text(inputs, 'dense')} the test binary cross-entropy is {metrics['test_bce']:.4f}, above "
        f"the threshold {limit:.4f}.{note}",
        **measured,
    )


ATTENTION_READINGS = {
    "one token of depth 3": np.array([0.6, 0.2, 0.9]),
    "three tokens of depth 1": ground_truth.attention(
        np.array([[0.8], [0.5], [0.21]]), np.array([[0.1], [0.62], [0.73]]), np.array([[0.6], [0.2], [0.9]])
    )[0].ravel(),
}


@check("attention_value", probes=PROBE)
def attention_value(inputs: CheckInputs) -> Verdict:
    """ATTENTION_OUTPUT matches either valid reading of the seed's three vectors."""
    value = constant_value(inputs, "ATTENTION_OUTPUT")
    if value.get("kind") == "number":
        found = np.array([value["value"]])
    elif value.get("kind") == "array":
        found = inputs.array("constants", "ATTENTION_OUTPUT").ravel()
    else:
        return Verdict.failed(
            f"ATTENTION_OUTPUT should be a list of numbers; it is a {value.get('type', value.get('kind'))}."
        )
    for reading, expected in ATTENTION_READINGS.items():
        if found.shape == expected.shape and np.allclose(expected, found, atol=2e-3):
            return Verdict.passed(
                f"ATTENTION_OUTPUT = {np.round(found, 4).tolist()}: right, reading the vectors as {reading}."
            )
    readings = "; ".join(f"as {name}: {np.round(v, 4).tolist()}" for name, v in ATTENTION_READINGS.items())
    return Verdict.failed(f"ATTENTION_OUTPUT is {np.round(found, 4).tolist()}; expected ({readings}).")
