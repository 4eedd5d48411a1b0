"""Model checks as data: the rubric parametrises them, no assignment Python (docs/authoring.md).

They read the probe ``model:<function>`` (``grader/probes/declared.py``), which describes every
model the function returns by the names ``[models.<function>].returns`` gives them. ``part``
picks one of them (default: the first)::

    params = { model = "build_dense_autoencoder", part = "encoder", input_shape = [784],
               output_shape = [32], layer = { type = "Dense", units = 32, activation = "relu" } }

- ``model_architecture``: any of ``input_shape`` / ``output_shape``; ``layer``, one layer by type
  and attributes (``units``, ``filters``, ``kernel_size``, ``strides``, ``padding``, ``pool_size``,
  ``which = "first" | "last"``) with its effective ``activation`` (seen through Activation, ReLU,
  BatchNormalization and Dropout layers); ``layers``, the weight and resampling layers in order, an
  entry being a type or a list of allowed types; ``parameters = [min, max]``; ``why``, said after a
  wrong activation; ``passed``, the feedback of a pass.
- ``model_optimizer``: ``expected`` (the optimizer's class, e.g. "Adam").
- ``model_loss``: ``expected`` (a canonical loss, e.g. "binary_crossentropy").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from grader.checks.architecture import (
    canonical_loss,
    effective_activation,
    layer_label,
    loss_words,
    transparent,
)
from grader.checks.base import CheckInputs, Verdict, check, sentences

LAYER_KEYS = (
    "type",
    "units",
    "filters",
    "kernel_size",
    "strides",
    "padding",
    "pool_size",
    "activation",
    "which",
)
ARCHITECTURE_KEYS = ("input_shape", "output_shape", "layer", "layers", "parameters")
IGNORED_IN_SEQUENCE = frozenset({"InputLayer"})
ACTIVATION_WORDS = {
    "relu": "ReLU",
    "sigmoid": "a sigmoid",
    "softmax": "a softmax",
    "tanh": "tanh",
    "linear": "no activation (linear)",
}


def _probe(params: Mapping[str, Any]) -> tuple[str, ...]:
    return (f"model:{params['model']}",)


def described(inputs: CheckInputs) -> tuple[str, Mapping[str, Any]]:
    """(the part's name, its description) from the model probe."""
    data = inputs.part(_probe(inputs.params)[0])
    part = inputs.params.get("part") or next(iter(data))
    return part, inputs.part(_probe(inputs.params)[0], part)


def _shape(value: Any) -> str:
    return str(list(value)) if value is not None else "an unknown shape"


def pattern_text(layer: Mapping[str, Any]) -> str:
    """'Dense(32)', 'Conv2D(16, kernel 3x3, strides 2x2, padding same)'."""
    parts = [str(layer[key]) for key in ("units", "filters") if key in layer]
    for key, label in (("kernel_size", "kernel"), ("strides", "strides"), ("pool_size", "pool")):
        if key in layer:
            parts.append(f"{label} {'x'.join(str(v) for v in _pair(layer[key]))}")
    if "padding" in layer:
        parts.append(f"padding {layer['padding']}")
    return f"{layer['type']}({', '.join(parts)})" if parts else str(layer["type"])


def _pair(value: Any) -> list[int]:
    return [int(value), int(value)] if isinstance(value, int) else [int(v) for v in value]


def _matches(record: Mapping[str, Any], layer: Mapping[str, Any]) -> bool:
    if record.get("type") != layer["type"]:
        return False
    for key in ("units", "filters", "padding"):
        if key in layer and record.get(key) != layer[key]:
            return False
    for key in ("kernel_size", "strides", "pool_size"):
        if key in layer and record.get(key) != _pair(layer[key]):
            return False
    return True


def _record_text(record: Mapping[str, Any]) -> str:
    wanted = {
        key: record[key] for key in ("units", "filters", "kernel_size", "strides", "padding") if key in record
    }
    return pattern_text({"type": record.get("type", "?")} | wanted)


def layer_problem(
    part: str, records: Sequence[Mapping[str, Any]], layer: Mapping[str, Any], why: str
) -> str | None:
    found = [index for index, record in enumerate(records) if _matches(record, layer)]
    if not found:
        same_type = [record for record in records if record.get("type") == layer["type"]]
        text = f"the {part} has no {pattern_text(layer)} layer"
        if same_type:
            text += f" (its {layer['type']} layers: {', '.join(_record_text(r) for r in same_type[:4])})"
        return text
    if "activation" not in layer:
        return None
    index = found[-1] if layer.get("which") == "last" else found[0]
    activation = effective_activation(records, index)[0]
    if activation == layer["activation"]:
        return None
    words = ACTIVATION_WORDS.get(layer["activation"], f"'{layer['activation']}'")
    return (
        f"the {part}'s {layer_label(records[index])} uses '{activation}'; the exercise asks for {words}"
        + (f", {why}" if why else "")
    )


def sequence_of(records: Sequence[Mapping[str, Any]]) -> list[str]:
    """The layer types that make the architecture: no activation, normalisation or dropout layers."""
    return [
        str(r.get("type")) for r in records if not transparent(r) and r.get("type") not in IGNORED_IN_SEQUENCE
    ]


def _allowed(entry: Any) -> list[str]:
    return [entry] if isinstance(entry, str) else list(entry)


def sequence_problem(part: str, records: Sequence[Mapping[str, Any]], expected: Sequence[Any]) -> str | None:
    found = sequence_of(records)
    if len(found) == len(expected) and all(t in _allowed(e) for t, e in zip(found, expected, strict=True)):
        return None
    wanted = ", ".join(" or ".join(_allowed(entry)) for entry in expected)
    return f"the {part}'s layers are {', '.join(found) or 'none'}; the exercise asks for {wanted}"


def _validate_architecture(params: Mapping[str, Any], functions: Mapping[str, Any]) -> str | None:
    if not any(key in params for key in ARCHITECTURE_KEYS):
        return f"field 'params': give at least one of {', '.join(ARCHITECTURE_KEYS)}"
    for key in ("input_shape", "output_shape"):
        if key in params and not (
            isinstance(params[key], list) and all(isinstance(d, int) for d in params[key])
        ):
            return f"field 'params.{key}': must be a list of integers (without the batch axis)"
    layer = params.get("layer")
    if layer is not None:
        if not isinstance(layer, dict) or "type" not in layer:
            return "field 'params.layer': must be a table with a type: { type = 'Dense', units = 32 }"
        unknown = sorted(set(layer) - set(LAYER_KEYS))
        if unknown:
            return f"field 'params.layer.{unknown[0]}': unknown (use {', '.join(LAYER_KEYS)})"
        if layer.get("which", "first") not in ("first", "last"):
            return "field 'params.layer.which': must be 'first' or 'last'"
    layers = params.get("layers")
    if layers is not None and not (
        isinstance(layers, list) and layers and all(isinstance(e, str) or isinstance(e, list) for e in layers)
    ):
        return (
            "field 'params.layers': must be a list of layer types (a list of types where several are allowed)"
        )
    bounds = params.get("parameters")
    if bounds is not None and not (
        isinstance(bounds, list)
        and len(bounds) == 2
        and all(isinstance(b, int) for b in bounds)
        and bounds[0] <= bounds[1]
    ):
        return "field 'params.parameters': must be [min, max], two integers"
    return None


@check("model_architecture", probes=_probe, required_params=("model",), validate=_validate_architecture)
def model_architecture(inputs: CheckInputs) -> Verdict:
    """The part's shapes, one layer and its activation, the layer sequence, the parameter count."""
    params = inputs.params
    part, model = described(inputs)
    records = model.get("layers", [])
    found_in, found_out = model.get("input_shape"), (model.get("output_shapes") or [None])[0]
    problems = []
    if ("input_shape" in params and list(found_in or []) != params["input_shape"]) or (
        "output_shape" in params and list(found_out or []) != params["output_shape"]
    ):
        if "input_shape" in params:
            problems.append(
                f"the {part} maps {_shape(found_in)} to {_shape(found_out)}; expected "
                f"{params['input_shape']} to {params.get('output_shape', 'any shape')}"
            )
        else:
            problems.append(f"the {part} outputs {_shape(found_out)}; expected {params['output_shape']}")
    if "layer" in params and not problems:
        problem = layer_problem(part, records, params["layer"], str(params.get("why", "")))
        if problem:
            problems.append(problem)
    if "layers" in params:
        problem = sequence_problem(part, records, params["layers"])
        if problem:
            problems.append(problem)
    if "parameters" in params:
        low, high = params["parameters"]
        count = int(model.get("params", 0))
        if not low <= count <= high:
            problems.append(f"the {part} has {count:,} parameters; the exercise asks for {low:,} to {high:,}")
    if problems:
        return Verdict.failed(sentences(problems))
    if "passed" in params:
        return Verdict.passed(str(params["passed"]))
    summary = []
    if "layer" in params:
        layer = params["layer"]
        activation = f", {layer['activation']}" if "activation" in layer else ""
        summary.append(
            f"{pattern_text(layer)[:-1]}{activation})" if "(" in pattern_text(layer) else pattern_text(layer)
        )
    if "input_shape" in params or "output_shape" in params:
        summary.append(f"{_shape(found_in)} to {_shape(found_out)}")
    if "layers" in params:
        summary.append(", ".join(sequence_of(records)))
    return Verdict.passed(f"The {part} is right: {'; '.join(summary) or 'as the exercise asks'}.")


@check("model_optimizer", probes=_probe, required_params=("model", "expected"))
def model_optimizer(inputs: CheckInputs) -> Verdict:
    """The part is compiled with the optimizer the exercise asks for."""
    expected = str(inputs.params["expected"])
    part, model = described(inputs)
    found = model.get("optimizer")
    if found is None:
        return Verdict.failed(f"the {part} is not compiled with an optimizer.")
    if str(found).lower() == expected.lower():
        return Verdict.passed(f"The {part} is compiled with {found}.")
    return Verdict.failed(f"the {part} is compiled with {found}; the exercise asks for {expected}.")


@check("model_loss", probes=_probe, required_params=("model", "expected"))
def model_loss(inputs: CheckInputs) -> Verdict:
    """The part is compiled with the loss the exercise asks for."""
    expected = str(inputs.params["expected"])
    function = inputs.params["model"]
    _, model = described(inputs)
    found = canonical_loss(model.get("loss"))
    if found == expected:
        return Verdict.passed(f"{function} compiles with {loss_words(expected)}.")
    return Verdict.failed(
        f"{function} compiles with {loss_words(found)}; the exercise asks for {loss_words(expected)}."
    )
