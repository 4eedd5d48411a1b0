"""Reading layer records (from ``grader/probes/models.py``) and compiled losses.

Shared vocabulary of the architecture checks: what kind of layer a record is, which
activation follows a convolution, and which loss a model was compiled with.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from grader.shared import LOSS_PROBE_PRED, LOSS_PROBE_TRUE

CONV = frozenset({"Conv2D", "Convolution2D"})
DECONV = frozenset({"Conv2DTranspose", "Convolution2DTranspose", "Deconvolution2D", "Deconv2D"})
POOL = frozenset({"MaxPooling2D", "AveragePooling2D", "MaxPool2D", "AvgPool2D", "AveragePool2D"})
UP = frozenset({"UpSampling2D"})
ACTIVATION = frozenset({"Activation", "ReLU", "LeakyReLU", "ELU", "PReLU", "Softmax", "ThresholdedReLU"})
SHAPE_ONLY = frozenset({"InputLayer", "Cropping2D", "ZeroPadding2D"})

Record = Mapping[str, Any]


def kind(record: Record, shape_only: Sequence[str] = ()) -> str:
    """conv | deconv | pool | up | act | shape | other."""
    name = record.get("type", "")
    for label, names in (("conv", CONV), ("deconv", DECONV), ("pool", POOL), ("up", UP), ("act", ACTIVATION)):
        if name in names:
            return label
    if name in SHAPE_ONLY or name in shape_only:
        return "shape"
    return "other"


def activation_of_layer(record: Record) -> str:
    """The activation an activation layer applies ('relu', 'sigmoid', 'leaky_relu' ...)."""
    name = record.get("type")
    if name == "ReLU":
        if record.get("negative_slope") not in (None, 0, 0.0):
            return "leaky_relu"
        max_value = record.get("max_value")
        if max_value is not None and not (isinstance(max_value, float) and math.isinf(max_value)):
            return "relu_capped"
        return "relu"
    if name == "LeakyReLU":
        return "leaky_relu"
    if name == "Softmax":
        return "softmax"
    return normalise_activation(record.get("activation"))


def normalise_activation(name: Any) -> str:
    if name in (None, "", "none"):
        return "linear"
    text = str(name).lower()
    return {"relu6": "relu_capped", "swish": "silu"}.get(text, text)


TRANSPARENT = frozenset({"BatchNormalization", "Dropout", "SpatialDropout2D"})
"""Layers that a conv block may hold between its conv and its resampling without changing which
activation follows the conv (docs/assignments.md, "One deviation, one penalty")."""


def transparent(record: Record) -> bool:
    return kind(record) == "act" or record.get("type") in TRANSPARENT


def effective_activation(records: Sequence[Record], index: int) -> tuple[str, int]:
    """The activation that follows records[index] and the index of the last layer of its block.

    A conv's own ``activation=`` counts when it is not linear. Otherwise the first activation
    layer (``Activation('relu')``, ``ReLU()``) seen through BatchNormalization, Dropout and other
    activation layers before the next weight layer or resampling counts. The block covers all
    of those layers, so the resampling check looks through them too.
    """
    activation = normalise_activation(records[index].get("activation"))
    last = index
    while last + 1 < len(records) and transparent(records[last + 1]):
        last += 1
        if activation == "linear" and kind(records[last]) == "act":
            activation = activation_of_layer(records[last])
    return activation, last


def numbered(records: Sequence[Record]) -> list[dict[str, Any]]:
    """The records with their 1-based position in the model, which ``layer_phrase`` names."""
    return [
        dict(record) | {"position": record.get("position", number)}
        for number, record in enumerate(records, start=1)
    ]


def snake_case(type_name: str) -> set[str]:
    """Keras's automatic layer name for a class (Keras 3 and Keras 2 spellings)."""
    keras3 = re.sub("([a-z])([A-Z])", r"\1_\2", re.sub("(.)([A-Z][a-z]+)", r"\1_\2", type_name)).lower()
    keras2 = re.sub("([a-z])([A-Z])", r"\1_\2", re.sub("(.)([A-Z][a-z0-9]+)", r"\1_\2", type_name)).lower()
    return {keras3, keras2}


def own_name(record: Record) -> str | None:
    """The name the student gave the layer; None for Keras's automatic ``conv2d`` / ``conv2d_15``.

    An automatic name comes from the grader process's name counters, not from the student's
    code, so feedback never quotes it.
    """
    name = str(record.get("name") or "")
    base = re.sub(r"_\d+$", "", name)
    if not name or base in snake_case(str(record.get("type", ""))):
        return None
    return name[:40]


def layer_label(record: Record) -> str:
    """``Conv2D 'conv3'`` when the student named the layer, else just ``Conv2D``."""
    name = own_name(record)
    layer_type = record.get("type", "?")
    return f"{layer_type} '{name}'" if name else str(layer_type)


def ordinal(number: int) -> str:
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def _a_type(record: Record) -> str:
    """'a Conv2D', 'an UpSampling2D': the type with its article, for an unnamed layer."""
    layer_type = str(record.get("type", "?"))
    return f"{'an' if layer_type[:1] in 'AEIOU' else 'a'} {layer_type}"


def layer_phrase(record: Record, model: str) -> str:
    """'the 3rd layer of your encoder (a Conv2D)' or '... (Conv2D 'conv3')' when the student named it."""
    name = own_name(record)
    what = layer_label(record) if name else _a_type(record)
    position = record.get("position")
    if position is None:
        return f"a layer of your {model} ({what})"
    return f"the {ordinal(int(position))} layer of your {model} ({what})"


def next_layer_phrase(record: Record) -> str:
    """'a Conv2D (its 4th layer)' or 'Conv2D 'conv3' (its 4th layer)', after a ``layer_phrase``."""
    what = layer_label(record) if own_name(record) else _a_type(record)
    position = record.get("position")
    return what if position is None else f"{what} (its {ordinal(int(position))} layer)"


def join_words(words: Sequence[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    words = list(words)
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def grouped_layers(records: Sequence[Record]) -> str:
    """'BatchNormalization (layers 2, 5 and 8) and Dense (layer 11 'bottleneck')', by type.

    One phrase for many offending layers instead of one sentence per layer.
    """
    by_type: dict[str, list[Record]] = {}
    for record in records:
        by_type.setdefault(str(record.get("type", "?")), []).append(record)
    parts = []
    for layer_type, group in by_type.items():
        places = [str(r.get("position", "?")) + (f" '{own_name(r)}'" if own_name(r) else "") for r in group]
        noun = "layer" if len(group) == 1 else "layers"
        parts.append(f"{layer_type} ({noun} {join_words(places)})")
    return join_words(parts)


@dataclass
class LayerProblems:
    """Problems of single layers, one sentence for all the layers of a model with the same problem.

    ``add(record, "encoder", " uses padding='valid'", " use padding='valid'")`` for each layer gives
    "the 1st layer of your encoder (a Conv2D) uses ..." for one layer and "3 layers of your
    encoder, Conv2D (layers 1, 3 and 5), use ..." for several.
    """

    groups: dict[tuple[str, str, str], list[Record]] = field(default_factory=dict)

    def add(self, record: Record, model: str, singular: str, plural: str) -> None:
        self.groups.setdefault((model, singular, plural), []).append(record)

    def sentences(self) -> list[str]:
        found = []
        for (model, singular, plural), records in self.groups.items():
            if len(records) == 1:
                found.append(f"{layer_phrase(records[0], model)}{singular}")
            else:
                found.append(f"{len(records)} layers of your {model}, {grouped_layers(records)},{plural}")
        return found


def spatial(shape: Any) -> tuple[int, int] | None:
    if not isinstance(shape, (list, tuple)) or len(shape) < 3:
        return None
    height, width = shape[0], shape[1]
    if height is None or width is None:
        return None
    return int(height), int(width)


LOSS_NAMES = {
    "mse": "mse",
    "meansquarederror": "mse",
    "mae": "mae",
    "meanabsoluteerror": "mae",
    "binarycrossentropy": "binary_crossentropy",
    "bce": "binary_crossentropy",
    "categoricalcrossentropy": "categorical_crossentropy",
    "sparsecategoricalcrossentropy": "sparse_categorical_crossentropy",
    "kld": "kl_divergence",
    "kldivergence": "kl_divergence",
}
LOSS_WORDS = {
    "mse": "the mean squared error",
    "mae": "the mean absolute error",
    "binary_crossentropy": "binary cross-entropy",
    "categorical_crossentropy": "categorical cross-entropy",
    "sparse_categorical_crossentropy": "sparse categorical cross-entropy",
    "none": "no loss (the model is not compiled with one)",
}
CROSS_ENTROPIES = frozenset(
    {"binary_crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy"}
)


def canonical_loss(descriptor: Mapping[str, Any] | None) -> str:
    """'mse', 'binary_crossentropy', ... from a compiled-loss descriptor; 'other:<name>' else."""
    if not descriptor or descriptor.get("kind") == "none":
        return "none"
    raw = str(descriptor.get("name", ""))
    key = re.sub(r"[^a-z]", "", raw.lower())
    if key in LOSS_NAMES:
        return LOSS_NAMES[key]
    fn = re.sub(r"[^a-z]", "", str(descriptor.get("fn", "")).lower())
    if fn in LOSS_NAMES:
        return LOSS_NAMES[fn]
    value = descriptor.get("value")
    if isinstance(value, (int, float)):
        for name, expected in REGRESSION_PROBE_VALUES.items():
            if math.isclose(value, expected, rel_tol=1e-3, abs_tol=1e-5):
                return name
    return f"other:{raw}"


def loss_words(canonical: str) -> str:
    if canonical.startswith("other:"):
        return f"a custom loss ({canonical[6:] or 'unnamed'})"
    return LOSS_WORDS.get(canonical, canonical)


def _regression_values() -> dict[str, float]:
    """What the standard losses give on the worker's fixed loss-probe arrays."""
    pairs = [
        (t, p)
        for rt, rp in zip(LOSS_PROBE_TRUE, LOSS_PROBE_PRED, strict=True)
        for t, p in zip(rt, rp, strict=True)
    ]
    mse = sum((t - p) ** 2 for t, p in pairs) / len(pairs)
    mae = sum(abs(t - p) for t, p in pairs) / len(pairs)
    bce = -sum(t * math.log(p) + (1 - t) * math.log(1 - p) for t, p in pairs) / len(pairs)
    return {"mse": mse, "mae": mae, "binary_crossentropy": bce}


REGRESSION_PROBE_VALUES = _regression_values()
