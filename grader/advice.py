"""One sentence of advice for the errors students actually hit (issue: real student code).

Each rule matches an exception by type name and message and gives advice in the
student's terms; it is shown next to the student's own traceback lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    types: tuple[str, ...]  # exception class names; empty = any
    pattern: str  # regex searched in the message
    advice: str  # may use {0}, {1} ... for the pattern's groups


RULES: tuple[Rule, ...] = (
    Rule(
        ("AttributeError",),
        r"module '(?:keras|keras\.src)\.backend' has no attribute '(\w+)'",
        "keras.backend.{0} does not exist in Keras 3; use {1} instead.",
    ),
    Rule(
        ("AttributeError",),
        r"module 'keras\.layers' has no attribute 'merge'",
        "keras.layers.merge was removed in Keras 2.x/3; use keras.layers.concatenate (or Add, Multiply ...).",
    ),
    Rule(
        ("AttributeError",),
        r"object has no attribute 'fit_generator'",
        "model.fit_generator was removed; model.fit accepts generators and datasets with the same arguments.",
    ),
    Rule(
        ("AttributeError",),
        r"'(?:\w*Tensor\w*)' object has no attribute 'numpy'",
        ".numpy() only works on eager tensors; inside a model, a Lambda layer or tf.function, keep using TF "
        "ops on the tensor instead of converting it to NumPy.",
    ),
    Rule(
        ("InvalidArgumentError",),
        r"ndims must be >= 2|ndims must be == 2|must be at least rank 2|In\[0\] and In\[1\]",
        "tf.matmul needs matrices (rank >= 2): turn rank-1 vectors into (1, d) matrices first, e.g. "
        "q = tf.reshape(q, (1, -1)), or treat each vector as one token.",
    ),
    Rule(
        (),
        r"(?i)cannot convert a symbolic|symbolic tf\.Tensor to a numpy|KerasTensor.*(?:numpy|__array__)|"
        r"(?:numpy|__array__).*KerasTensor|A KerasTensor cannot be used as input to a TensorFlow function",
        "NumPy (or a raw TF call) cannot work on the symbolic tensors a Keras model is built from: inside "
        "a Lambda layer (a VAE's reparameterisation, say) use keras.ops or tf functions only, e.g. "
        "keras.random.normal and keras.ops.exp.",
    ),
    Rule(
        ("TypeError",),
        r"'NoneType' object cannot be interpreted as an integer",
        "a size is None: inside a model the batch size is unknown until it runs, so NumPy cannot use it; "
        "use TF / keras ops with the dynamic shape, e.g. keras.random.normal(keras.ops.shape(z_mean)).",
    ),
    Rule(
        (),
        r"(?i)incompatible shapes|shapes .* are incompatible|dimensions must be equal",
        "two tensors' shapes do not match; check that the decoder's output has exactly the input image "
        "shape (e.g. (32, 32, 1)) and that the loss compares tensors of the same shape.",
    ),
    Rule(
        ("TypeError", "ValueError"),
        r"(?:Argument\(s\) not recognized|unexpected keyword argument).*\blr\b",
        "the optimizer argument `lr` was renamed `learning_rate` (e.g. Adam(learning_rate=1e-3)).",
    ),
    Rule(
        ("ModuleNotFoundError",),
        r"No module named '([\w.]+)'",
        "the module '{0}' is not available to the grader: use only tensorflow/keras, numpy, scikit-learn "
        "and matplotlib (and the standard library).",
    ),
    Rule(
        ("RecursionError",),
        r"",
        "a function calls itself without end (infinite recursion); check for a function that calls itself.",
    ),
)


def advice_for(exc: BaseException, dropped: dict[str, str] | None = None) -> str:
    """The advice sentence for ``exc`` ('' when no rule matches)."""
    return advice_for_text(type(exc).__name__, str(exc), dropped)


def advice_for_text(type_name: str, message: str, dropped: dict[str, str] | None = None) -> str:
    if type_name == "NameError" and dropped:
        match = re.search(r"name '(\w+)' is not defined", message)
        if match and match.group(1) in dropped:
            name = match.group(1)
            return (
                f"`{name}` is set by a top-level statement the grader does not run ({dropped[name]}); "
                "the grader runs your definitions and the top-level code they use, but not training, "
                "data loading, plots, prints or file writes, so create it inside your function instead."
            )
    for rule in RULES:
        if rule.types and type_name not in rule.types:
            continue
        match = re.search(rule.pattern, message, flags=re.DOTALL)
        if match:
            groups = match.groups()
            if "{1}" in rule.advice:  # the Keras 3 / TF replacement of a Keras 2 backend function
                groups = (*groups, keras3_replacement(groups[0]))
            return rule.advice.format(*groups)
    return ""


# Keras 2 backend functions whose Keras 3 / TensorFlow names differ from keras.ops.<name>.
REPLACEMENTS = {
    "random_normal": "keras.random.normal or tf.random.normal",
    "random_uniform": "keras.random.uniform or tf.random.uniform",
    "sum": "keras.ops.sum or tf.reduce_sum",
    "mean": "keras.ops.mean or tf.reduce_mean",
    "max": "keras.ops.max or tf.reduce_max",
    "min": "keras.ops.min or tf.reduce_min",
    "std": "keras.ops.std or tf.math.reduce_std",
    "var": "keras.ops.var or tf.math.reduce_variance",
    "int_shape": "x.shape",
    "shape": "keras.ops.shape or tf.shape",
    "batch_flatten": "keras.ops.reshape(x, (keras.ops.shape(x)[0], -1))",
    "binary_crossentropy": "keras.losses.binary_crossentropy or keras.ops.binary_crossentropy",
    "categorical_crossentropy": "keras.losses.categorical_crossentropy",
    "cast": "keras.ops.cast or tf.cast",
    "variable": "keras.Variable or tf.Variable",
}


def keras3_replacement(name: str) -> str:
    return REPLACEMENTS.get(name, f"keras.ops.{name} or tf.{name}")
