"""``sheet10`` (seed 000): the dense autoencoder of 1.4 (preprocessing and attention are function
exercises: ``matches_reference``)."""

from __future__ import annotations

from grader.checks.architecture import effective_activation, layer_label
from grader.checks.base import CheckInputs, Verdict, check


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
