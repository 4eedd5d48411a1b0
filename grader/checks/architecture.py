"""Reading layer records (from ``grader/probes/models.py``) and compiled losses.

Shared vocabulary of the architecture checks: what kind of layer a record is, which
activation follows a convolution, and which loss a model was compiled with.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
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


def effective_activation(records: Sequence[Record], index: int) -> tuple[str, int]:
    """The activation that follows records[index] and the index of the last layer it covers.

    A conv's own ``activation=`` counts; a linear conv followed by an activation layer
    (``Activation('relu')``, ``ReLU()``) counts that layer's activation instead.
    """
    own = normalise_activation(records[index].get("activation"))
    if own != "linear":
        return own, index
    following = index + 1
    if following < len(records) and kind(records[following]) == "act":
        return activation_of_layer(records[following]), following
    return "linear", index


def layer_label(record: Record) -> str:
    return f"{record.get('type', '?')} '{record.get('name', '?')}'"


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
