"""grader/advice.py: one sentence of advice for the errors students actually hit."""

from __future__ import annotations

import pytest

from grader.advice import RULES, advice_for, advice_for_text


@pytest.mark.parametrize(
    ("exc_type", "message", "phrase"),
    [
        # the seed student's attention call on rank-1 lists (seed 000), and oneDNN's wording
        (
            "InvalidArgumentError",
            "{{function_node __wrapped__MatMul}} In[0] and In[1] ndims must be == 2: 1 [Op:MatMul]",
            "tf.matmul needs matrices (rank >= 2)",
        ),
        (
            "InvalidArgumentError",
            "In[0] ndims must be >= 2: 1 [Op:BatchMatMulV2]",
            "tf.matmul needs matrices",
        ),
        (
            "AttributeError",
            "module 'keras.backend' has no attribute 'exp'",
            "keras.backend.exp does not exist in Keras 3; use keras.ops.exp or tf.exp",
        ),
        (
            "AttributeError",
            "module 'keras.src.backend' has no attribute 'random_normal'",
            "keras.backend.random_normal does not exist in Keras 3",
        ),
        (
            "ValueError",
            "A KerasTensor is symbolic: it's a placeholder for a shape an a dtype. It doesn't have any "
            "actual numerical value. You cannot convert it to a NumPy array.",
            "use keras.ops or tf functions only",
        ),
        (
            "ValueError",
            "A KerasTensor cannot be used as input to a TensorFlow function. A KerasTensor is a symbolic",
            "keras.random.normal and keras.ops.exp",
        ),
        (
            "InvalidArgumentError",
            "Incompatible shapes: [64,32,32,1] vs. [64,28,28,1] [Op:SquaredDifference]",
            "two tensors' shapes do not match",
        ),
        (
            "AttributeError",
            "'SymbolicTensor' object has no attribute 'numpy'",
            ".numpy() only works on eager tensors",
        ),
        ("ValueError", "Argument(s) not recognized: {'lr': 0.001}", "`lr` was renamed `learning_rate`"),
        (
            "TypeError",
            "Adam.__init__() got an unexpected keyword argument 'lr'",
            "`lr` was renamed `learning_rate`",
        ),
        (
            "ModuleNotFoundError",
            "No module named 'torch'",
            "the module 'torch' is not available to the grader",
        ),
        ("AttributeError", "module 'keras.layers' has no attribute 'merge'", "use keras.layers.concatenate"),
        (
            "AttributeError",
            "'Functional' object has no attribute 'fit_generator'",
            "model.fit accepts generators",
        ),
        ("RecursionError", "maximum recursion depth exceeded", "infinite recursion"),
    ],
)
def test_rule_gives_advice_for_a_realistic_message(exc_type, message, phrase):
    assert phrase in advice_for_text(exc_type, message)


def test_name_error_for_a_name_set_by_a_dropped_notebook_statement():
    dropped = {"x_train": "sub.ipynb, cell 3, line 1"}
    advice = advice_for_text("NameError", "name 'x_train' is not defined", dropped)
    assert (
        "`x_train` is set by a top-level statement the grader does not run (sub.ipynb, cell 3, line 1)"
        in advice
    )
    assert "create it inside your function instead" in advice


def test_name_error_for_another_name_gets_no_notebook_advice():
    dropped = {"x_train": "sub.ipynb, cell 3, line 1"}
    assert advice_for_text("NameError", "name 'np' is not defined", dropped) == ""


@pytest.mark.parametrize(
    ("exc_type", "message"),
    [
        ("ZeroDivisionError", "division by zero"),
        ("KeyError", "'loss'"),
        ("AttributeError", "'NoneType' object has no attribute 'shape'"),
        ("TypeError", "unsupported operand type(s) for +: 'int' and 'str'"),
    ],
)
def test_unrelated_errors_get_no_advice(exc_type, message):
    assert advice_for_text(exc_type, message) == ""


def test_rules_are_restricted_to_their_exception_types():
    # the Keras 3 backend message only means that when it is an AttributeError
    assert advice_for_text("KeyError", "module 'keras.backend' has no attribute 'exp'") == ""


def test_advice_for_an_exception_object_uses_its_class_name():
    class InvalidArgumentError(Exception):
        pass

    advice = advice_for(InvalidArgumentError("In[0] and In[1] ndims must be == 2: 1"))
    assert advice.startswith("tf.matmul needs matrices")
    assert advice_for(ModuleNotFoundError("No module named 'cv2'")).startswith(
        "the module 'cv2' is not available"
    )


def test_every_rule_ends_as_a_sentence():
    for rule in RULES:
        assert rule.advice.rstrip().endswith("."), rule.pattern
