"""Which Keras a submission is written for (issue: real student code).

Seed 003 asks for "functions from the Keras backend" in the sampling Lambda; under
Keras 3 ``keras.backend.exp`` and friends no longer exist. An AST scan finds names
that exist only in Keras 2; such a submission is graded under Keras 2 (``tf_keras``).
"""

from __future__ import annotations

import ast
import re

from grader.submission import Submission
from grader.threadsafe import parse_source

# keras.backend functions that Keras 3 removed (Keras 3 keeps only a few, e.g. epsilon).
KERAS2_BACKEND = frozenset(
    {
        "exp",
        "random_normal",
        "square",
        "mean",
        "sum",
        "log",
        "sqrt",
        "int_shape",
        "shape",
        "abs",
        "binary_crossentropy",
        "categorical_crossentropy",
        "flatten",
        "batch_flatten",
        "reshape",
        "concatenate",
        "dot",
        "batch_dot",
        "maximum",
        "minimum",
        "clip",
        "pow",
        "random_uniform",
        "variable",
        "placeholder",
        "function",
        "gradients",
        "stop_gradient",
        "zeros_like",
        "ones_like",
        "cast",
        "expand_dims",
        "squeeze",
        "softmax",
        "relu",
        "sigmoid",
        "tanh",
        "l2_normalize",
        "std",
        "var",
        "max",
        "min",
        "argmax",
        "equal",
        "not_equal",
        "cumsum",
        "switch",
        "in_train_phase",
        "get_value",
        "set_value",
        "eval",
        "tile",
        "permute_dimensions",
        "transpose",
    }
)
OPTIMIZERS = frozenset({"Adam", "SGD", "RMSprop", "Adagrad", "Adadelta", "Adamax", "Nadam"})
LOAD_ERROR = re.compile(r"keras|tf_keras", re.IGNORECASE)


def keras2_reasons(submission: Submission) -> list[str]:
    """Why the submission looks like Keras 2 code ([] when it does not)."""
    reasons: list[str] = []
    for cell in submission.cells:
        try:
            tree = parse_source(cell.source)
        except SyntaxError:
            continue
        backend_aliases = _backend_aliases(tree)
        for node in ast.walk(tree):
            where = f"{cell.filename}, line {getattr(node, 'lineno', '?')}"
            if isinstance(node, ast.Attribute):
                base = node.value
                if isinstance(base, ast.Name) and base.id in backend_aliases and node.attr in KERAS2_BACKEND:
                    reasons.append(f"{base.id}.{node.attr} (Keras 2 backend function) at {where}")
                elif node.attr in ("fit_generator", "evaluate_generator", "predict_generator"):
                    reasons.append(f".{node.attr} (removed in Keras 3) at {where}")
                elif node.attr == "merge" and isinstance(base, ast.Attribute) and base.attr == "layers":
                    reasons.append(f"keras.layers.merge at {where}")
            elif isinstance(node, ast.ImportFrom) and node.module:
                if (
                    node.module.startswith("keras.layers.merge")
                    or node.module == "keras.backend"
                    and any(alias.name in KERAS2_BACKEND for alias in node.names)
                ):
                    reasons.append(f"from {node.module} import ... at {where}")
            elif isinstance(node, ast.Call):
                name = (
                    node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                )
                if name in OPTIMIZERS and any(keyword.arg == "lr" for keyword in node.keywords):
                    reasons.append(f"{name}(lr=...) at {where}")
    return list(dict.fromkeys(reasons))[:5]


def _backend_aliases(tree: ast.AST) -> set[str]:
    """Names bound to keras.backend: ``from keras import backend as K``, ``import keras.backend as K``."""
    aliases = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module in ("keras", "tensorflow.keras", "tf.keras"):
            for alias in node.names:
                if alias.name == "backend":
                    aliases.add(alias.asname or "backend")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in ("keras.backend", "tensorflow.keras.backend") and alias.asname:
                    aliases.add(alias.asname)
    return aliases


def load_error_suggests_keras2(errors: list[dict]) -> str | None:
    """The first AttributeError/ImportError about keras at load time, as a reason."""
    for error in errors:
        if error.get("type") in (
            "AttributeError",
            "ImportError",
            "ModuleNotFoundError",
        ) and LOAD_ERROR.search(error.get("message", "")):
            return f"{error['type']} at load time: {error['message'][:160]}"
    return None
