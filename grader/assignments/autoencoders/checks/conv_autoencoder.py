"""Exercise 1 of ``autoencoders``: the convolutional autoencoder's architecture and loss.

Each check reads the layer records of the student's encoder and decoder (execution
order, real shapes) from the ``ae_models`` probe and compares WHOLE sequences: a
missing or extra layer is found, never hidden by a ``zip``.
"""

from __future__ import annotations

from collections.abc import Sequence

from grader.checks.architecture import (
    LayerProblems,
    Record,
    effective_activation,
    grouped_layers,
    kind,
    layer_phrase,
    next_layer_phrase,
    numbered,
    spatial,
)
from grader.checks.base import CheckInputs, Verdict, check, fraction_of, sentences, shape_text

PROBE = ("ae_models",)
LATENT = [1, 2, 1]


def _records(inputs: CheckInputs, model: str) -> list[Record]:
    """The model's layer records, numbered by their position in the model."""
    return numbered(inputs.part("ae_models", model)["layers"])


def _convs(records: Sequence[Record], conv_kind: str) -> list[int]:
    return [index for index, record in enumerate(records) if kind(record) == conv_kind]


def _shape_only(inputs: CheckInputs) -> tuple[str, ...]:
    return tuple(inputs.params.get("shape_only_layers", ()))


@check("conv_layer_types", probes=PROBE)
def conv_layer_types(inputs: CheckInputs) -> Verdict:
    """Encoder: Conv2D + pooling only. Decoder: Conv2DTranspose + upsampling only."""
    problems = []
    allowed = {"encoder": ("conv", "pool"), "decoder": ("deconv", "up")}
    words = {"encoder": "Conv2D and pooling", "decoder": "Conv2DTranspose and UpSampling2D"}
    for model, kinds in allowed.items():
        records = _records(inputs, model)
        if not any(kind(record) == kinds[0] for record in records):
            problems.append(f"the {model} has no {words[model].split(' and ')[0]} layer")
        foreign = [r for r in records if kind(r, _shape_only(inputs)) not in kinds + ("act", "shape")]
        if foreign:
            count = "1 layer is" if len(foreign) == 1 else f"{len(foreign)} layers are"
            problems.append(
                f"{count} not allowed in the {model}: {grouped_layers(foreign)}; it may only contain "
                f"{words[model]} layers"
            )
    if problems:
        return Verdict.failed("; ".join(problems) + " (Exercise 1).")
    return Verdict.passed(
        "The encoder uses only Conv2D and pooling, the decoder only Conv2DTranspose and upsampling."
    )


@check("conv_relu", probes=PROBE)
def conv_relu(inputs: CheckInputs) -> Verdict:
    """A ReLU after every (transposed) convolution; the decoder's last may use an accepted activation."""
    final_allowed = tuple(inputs.params.get("final_decoder_activations", ("relu",)))
    problems = LayerProblems()
    total = 0
    for model in ("encoder", "decoder"):
        records = _records(inputs, model)
        convs = [i for i in range(len(records)) if kind(records[i]) in ("conv", "deconv")]
        for position, index in enumerate(convs):
            total += 1
            activation, _ = effective_activation(records, index)
            is_final = model == "decoder" and position == len(convs) - 1
            allowed = final_allowed if is_final else ("relu",)
            if activation not in allowed:
                found = f"followed by '{activation}', expected {' or '.join(allowed)}"
                last = ", its last convolution," if is_final else ""
                problems.add(records[index], model, f"{last} is {found}", f" are {found}")
    if total == 0:
        return Verdict.failed("no (transposed) convolution layers were found.")
    if problems.groups:
        return Verdict.failed(
            "; ".join(problems.sentences()) + ". Every (transposed) convolution must be followed by a ReLU."
        )
    return Verdict.passed("Every (transposed) convolution is followed by a ReLU.")


@check("conv_padding", probes=PROBE)
def conv_padding(inputs: CheckInputs) -> Verdict:
    problems = LayerProblems()
    for model in ("encoder", "decoder"):
        for record in _records(inputs, model):
            if kind(record) in ("conv", "deconv") and record.get("padding") != "same":
                found = f"padding='{record.get('padding')}'"
                problems.add(record, model, f" uses {found}", f" use {found}")
    if problems.groups:
        return Verdict.failed(
            "; ".join(problems.sentences()) + "; use padding='same' for every (transposed) convolution."
        )
    return Verdict.passed("Every (transposed) convolution uses padding='same'.")


def _factor_two(record: Record, shrink: bool) -> bool:
    """Pooling halves (or upsampling doubles) at least one spatial axis and leaves the others."""
    before, after = spatial(record.get("input_shape")), spatial(record.get("output_shape"))
    if before is None or after is None:
        return False
    changed = False
    for old, new in zip(before, after, strict=True):
        if new == old:
            continue
        ok = new in ((old + 1) // 2, old // 2) if shrink else new == 2 * old
        if not ok:
            return False
        changed = True
    return changed


@check("conv_resampling", probes=PROBE)
def conv_resampling(inputs: CheckInputs) -> Verdict:
    """Each conv (+ activation) is followed by a pooling / upsampling by a factor of 2.

    The decoder may end with one full-resolution Conv2DTranspose after the last
    upsampling, with nothing after it (docs/assignments.md, ``autoencoders``).
    """
    allow_final = bool(inputs.params.get("allow_final_full_resolution_conv", True))
    problems = []
    for model, resample, verb in (("encoder", "pool", "pooling"), ("decoder", "up", "upsampling")):
        records = [r for r in _records(inputs, model) if kind(r, _shape_only(inputs)) != "shape"]
        convs = [i for i in range(len(records)) if kind(records[i]) in ("conv", "deconv")]
        for position, index in enumerate(convs):
            _, last = effective_activation(records, index)
            following = last + 1
            if following >= len(records):
                is_final_conv = model == "decoder" and position == len(convs) - 1 and position > 0
                preceded_by_up = is_final_conv and any(kind(r) == "up" for r in records[:index])
                if allow_final and preceded_by_up:
                    continue
                problems.append(f"{layer_phrase(records[index], model)} is not followed by {verb}")
                continue
            nxt = records[following]
            if kind(nxt) != resample:
                problems.append(
                    f"{layer_phrase(records[index], model)} is followed by {next_layer_phrase(nxt)}, not "
                    f"by {verb}"
                )
            elif not _factor_two(nxt, shrink=resample == "pool"):
                problems.append(
                    f"{layer_phrase(nxt, model)} changes {shape_text(nxt.get('input_shape'))} to "
                    f"{shape_text(nxt.get('output_shape'))}, not by a factor of 2"
                )
    if problems:
        return Verdict.failed(sentences(problems))
    return Verdict.passed(
        "Every (transposed) convolution is followed by pooling / upsampling by a factor of 2."
    )


@check("conv_filters", probes=PROBE)
def conv_filters(inputs: CheckInputs) -> Verdict:
    """16 filters of 3x3 everywhere except the last layers; the last encoder conv has 1 filter."""
    filters = int(inputs.params.get("filters", 16))
    kernel = list(inputs.params.get("kernel_size", [3, 3]))
    problems = LayerProblems()
    for model in ("encoder", "decoder"):
        records = _records(inputs, model)
        convs = [r for r in records if kind(r) in ("conv", "deconv")]
        for position, record in enumerate(convs):
            if position == len(convs) - 1:
                if record.get("filters") != 1:
                    found = f"{record.get('filters')} filters, expected 1"
                    problems.add(record, model, f", its last convolution, has {found}", f" have {found}")
                continue
            if record.get("filters") != filters or list(record.get("kernel_size", [])) != kernel:
                size, wanted = "x".join(map(str, record.get("kernel_size", []))), "x".join(map(str, kernel))
                found = f"{record.get('filters')} filters of {size}, expected {filters} of {wanted}"
                problems.add(record, model, f" has {found}", f" have {found}")
    if problems.groups:
        return Verdict.failed(sentences(problems.sentences()))
    return Verdict.passed(f"{filters} filters of 3x3 throughout, 1 filter in the last layers.")


@check("latent_shape", probes=PROBE)
def latent_shape(inputs: CheckInputs) -> Verdict:
    """The encoder outputs (N, 1, 2, 1); the decoder maps it back to the image shape."""
    expected = list(inputs.params.get("latent", LATENT))
    encoder = inputs.part("ae_models", "encoder")
    decoder = inputs.part("ae_models", "decoder")
    size = int(inputs.probes["ae_models"].get("image_size", 32))
    messages, passed = [], 0
    found = encoder["output_shapes"][0]
    if list(found) == expected:
        passed += 1
    else:
        messages.append(f"encoder output is {shape_text(found)}; expected {shape_text(expected)}")
    image = [size, size, 1]
    if list(decoder["input_shape"] or []) == expected and list(decoder["output_shapes"][0]) == image:
        passed += 1
    else:
        messages.append(
            f"decoder maps {shape_text(decoder['input_shape'])} to "
            f"{shape_text(decoder['output_shapes'][0])}; "
            f"expected {shape_text(expected)} to {shape_text(image)}"
        )
    if messages:
        return Verdict(fraction_of(passed, 2), "; ".join(messages) + ".")
    return Verdict.passed(
        f"The encoder outputs {shape_text(expected)} and the decoder gives back {shape_text(image)}."
    )
