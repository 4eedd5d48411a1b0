"""The generic model checks a rubric parametrises (grader/checks/model_structure.py), ``constant_array``,
and the metric, retry rule and check that a ``[stages.NAME]`` table derives (grader/data_stages.py).

Each check is shown failing for every reason it has, with the sentence the student reads.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from check_fixtures import Layers, make_inputs, run
from test_checks_sheet10_and_constants import constants

from grader.checks.base import CheckInputs
from grader.data_stages import METRICS, badness, check_of, degenerate, parse_stage, stage_metrics, stage_of
from grader.model_specs import ModelSpec, ModelSpecError, parse_models

PROBE = "model:build_net"


def conv_net(middle: str = "relu") -> dict:
    """Conv2D(16, 3x3, linear), BatchNormalization, <middle>, MaxPooling2D, Flatten, Dense(10)."""
    layers = Layers([28, 28, 1]).conv("c1", 16, activation="linear").batch_norm("bn")
    layers = layers.relu_layer("act") if middle == "relu" else layers.activation("act", middle)
    layers = layers.pool("p1").flatten().dense("out", 10, "softmax")
    return {PROBE: {"net": layers.describe(optimizer="Adam", loss={"kind": "string", "name": "mse"})}}


def architecture(models: dict | None = None, **params) -> object:
    return run(
        "model_architecture", make_inputs(models or conv_net(), params={"model": "build_net"} | params)
    )


# -- model_architecture ------------------------------------------------------------------------------


def test_shapes_pass_and_fail_with_both_shapes_named():
    assert architecture(input_shape=[28, 28, 1], output_shape=[10]).fraction == 1.0
    verdict = architecture(input_shape=[28, 28, 1], output_shape=[32])
    assert verdict.fraction == 0.0
    assert verdict.feedback == "the net maps [28, 28, 1] to [10]; expected [28, 28, 1] to [32]."
    only_output = architecture(output_shape=[784])
    assert only_output.feedback == "the net outputs [10]; expected [784]."


def test_the_activation_is_seen_through_batch_norm_and_a_relu_layer():
    layer = {"type": "Conv2D", "filters": 16, "kernel_size": 3, "activation": "relu"}
    verdict = architecture(layer=layer)
    assert verdict.fraction == 1.0, verdict.feedback
    assert verdict.feedback == "The net is right: Conv2D(16, kernel 3x3, relu)."
    wrong = architecture(conv_net(middle="tanh"), layer=layer, why="as the exercise's blocks do")
    assert wrong.fraction == 0.0
    assert wrong.feedback == (
        "the net's Conv2D 'c1' uses 'tanh'; the exercise asks for ReLU, as the exercise's blocks do."
    )


def test_a_missing_layer_lists_the_layers_of_that_type():
    verdict = architecture(layer={"type": "Conv2D", "filters": 32})
    assert verdict.fraction == 0.0
    assert verdict.feedback == (
        "the net has no Conv2D(32) layer (its Conv2D layers: "
        "Conv2D(16, kernel 3x3, strides 1x1, padding same))."
    )
    assert (
        architecture(layer={"type": "Dense", "units": 64}).feedback
        == "the net has no Dense(64) layer (its Dense layers: Dense(10))."
    )


def test_which_last_picks_the_last_matching_layer():
    layers = Layers([784]).dense("hidden", 64, "relu").dense("out", 64, "sigmoid")
    models = {PROBE: {"net": layers.describe()}}
    assert (
        architecture(
            models, layer={"type": "Dense", "units": 64, "activation": "sigmoid", "which": "last"}
        ).fraction
        == 1.0
    )
    first = architecture(models, layer={"type": "Dense", "units": 64, "activation": "sigmoid"})
    assert first.feedback == "the net's Dense 'hidden' uses 'relu'; the exercise asks for a sigmoid."


def test_the_layer_sequence_allows_alternatives_and_ignores_activation_layers():
    sequence = ["Conv2D", ["MaxPooling2D", "AveragePooling2D"], "Flatten", "Dense"]
    assert architecture(layers=sequence).fraction == 1.0
    verdict = architecture(layers=["Conv2D", "Conv2D", "Flatten", "Dense"])
    assert verdict.fraction == 0.0
    assert verdict.feedback == (
        "the net's layers are Conv2D, MaxPooling2D, Flatten, Dense; the exercise asks for Conv2D, Conv2D, "
        "Flatten, Dense."
    )


def test_the_parameter_count_range():
    assert architecture(parameters=[500, 2000]).fraction == 1.0
    verdict = architecture(parameters=[10_000, 20_000])
    assert verdict.feedback == "the net has 1,000 parameters; the exercise asks for 10,000 to 20,000."


def test_a_part_names_one_of_several_models_and_passed_is_the_rubric_s():
    models = {PROBE: {"encoder": Layers([784]).dense("e", 32, "relu").describe(), "decoder": {}}}
    verdict = architecture(models, part="encoder", output_shape=[32], passed="Encoder right.")
    assert (verdict.fraction, verdict.feedback) == (1.0, "Encoder right.")


def test_the_architecture_params_are_validated_when_the_rubric_loads():
    from grader.checks.base import CHECKS

    validate = CHECKS["model_architecture"].validate
    assert validate({"model": "f"}, {}).startswith("field 'params': give at least one of")
    assert validate({"model": "f", "layer": {"units": 3}}, {}).startswith(
        "field 'params.layer': must be a table"
    )
    assert validate({"model": "f", "layer": {"type": "Dense", "size": 3}}, {}).startswith(
        "field 'params.layer.size': unknown"
    )
    assert (
        validate({"model": "f", "parameters": [5, 1]}, {})
        == "field 'params.parameters': must be [min, max], two integers"
    )
    assert validate({"model": "f", "input_shape": "784"}, {}).startswith("field 'params.input_shape'")
    assert validate({"model": "f", "layers": ["Dense"]}, {}) is None


# -- model_optimizer and model_loss ---------------------------------------------------------------------


def test_the_optimizer_right_wrong_and_missing():
    params = {"model": "build_net", "expected": "Adam"}
    assert (
        run("model_optimizer", make_inputs(conv_net(), params=params)).feedback
        == "The net is compiled with Adam."
    )
    models = conv_net()
    models[PROBE]["net"]["optimizer"] = "SGD"
    wrong = run("model_optimizer", make_inputs(models, params=params))
    assert (wrong.fraction, wrong.feedback) == (
        0.0,
        "the net is compiled with SGD; the exercise asks for Adam.",
    )
    del models[PROBE]["net"]["optimizer"]
    assert run("model_optimizer", make_inputs(models, params=params)).feedback == (
        "the net is not compiled with an optimizer."
    )


def test_the_loss_right_and_wrong():
    params = {"model": "build_net", "expected": "mse"}
    assert run("model_loss", make_inputs(conv_net(), params=params)).fraction == 1.0
    wrong = run("model_loss", make_inputs(conv_net(), params=params | {"expected": "binary_crossentropy"}))
    assert wrong.fraction == 0.0
    assert wrong.feedback == (
        "build_net compiles with the mean squared error; the exercise asks for binary cross-entropy."
    )


# -- constant_array -------------------------------------------------------------------------------------


def constant_array(value, **params):
    data, arrays = constants(ANSWER=value)
    params = {"name": "ANSWER", "expected": {"a row": [1.0, 2.0], "one number": [3.0]}} | params
    return run("constant_array", make_inputs({"constants": data}, {"constants": arrays}, params))


def test_constant_array_matches_any_reading_and_names_it():
    assert (
        constant_array([1.0, 2.0004]).feedback
        == "ANSWER = [1.0, 2.0004]: right, reading the exercise as a row."
    )
    assert (
        constant_array(3.0, what="the sheet").feedback
        == "ANSWER = [3.0]: right, reading the sheet as one number."
    )
    wrong = constant_array([1.0, 2.5])
    assert wrong.fraction == 0.0
    assert wrong.feedback == "ANSWER is [1.0, 2.5]; expected (as a row: [1.0, 2.0]; as one number: [3.0])."
    assert constant_array("1, 2").feedback == "ANSWER should be a list of numbers; it is a str."


# -- [models] tables --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"returns": []}, "[models.build_net]: field 'returns': must be a list of distinct names"),
        ({"returns": ["a", "a"]}, "[models.build_net]: field 'returns': must be a list of distinct names"),
        ({"images": {"size": 30}}, "[models.build_net]: field 'images'.size: must be 28 or 32 (zero-padded)"),
        ({"inputs": {"decoder": [32]}}, "[models.build_net]: field 'inputs.decoder': not one of returns"),
        (
            {"argz": [1]},
            "[models.build_net]: field 'argz': unknown field (use args, returns, images, inputs)",
        ),
    ],
)
def test_a_bad_models_table_names_its_field(table, message):
    with pytest.raises(ModelSpecError) as caught:
        parse_models({"build_net": table}, ("build_net",))
    assert str(caught.value) == message


def test_a_models_table_must_name_a_contract_function():
    with pytest.raises(ModelSpecError, match=r"\[models.build_nett\]: not a function of the contract"):
        parse_models({"build_nett": {}}, ("build_net",))


# -- [stages] tables: the derived metric, threshold, retry rule and check -----------------------------------


def stage(**table):
    table = {"model": "build_net", "target": "labels", "metric": "accuracy"} | table
    return parse_stage("digits", table, {"build_net": ModelSpec("build_net")}, ("build_net",))


def test_the_threshold_its_direction_and_floor_come_from_the_metric():
    accuracy = stage_of(stage(margin=0.05))
    (threshold,) = accuracy.thresholds
    assert (threshold.name, threshold.metric, threshold.direction, threshold.margin) == (
        "test_accuracy_min",
        "test_accuracy",
        "lower",
        0.05,
    )
    assert threshold.floor == pytest.approx(0.1)  # chance for 10 classes
    (bce,) = stage_of(stage(target="input", metric="bce")).thresholds
    assert (bce.name, bce.direction, bce.floor) == ("test_bce_max", "upper", None)
    assert check_of(stage()).required_params == ("test_accuracy_min",)
    assert check_of(stage()).probes == ("model:build_net", "train:digits")


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"metric": "f1"}, "field 'metric': must be one of accuracy, mse, bce, loss"),
        ({"target": "images"}, "field 'target': must be one of labels, one_hot, input"),
        ({"target": "input"}, "field 'metric': an accuracy needs labels (target 'labels' or 'one_hot')"),
        ({"train": "encoder"}, "field 'train': 'encoder' is not one of the models build_net returns (model;"),
        ({"figure": True}, "field 'figure': true draws reconstructions, for target 'input' only"),
        ({"epochs": 3}, "field 'epochs': unknown field"),
        ({"model": "build_other"}, "field 'model': 'build_other' is not a function of the contract"),
    ],
)
def test_a_bad_stage_table_names_its_field(table, message):
    with pytest.raises(ModelSpecError) as caught:
        stage(**table)
    assert str(caught.value).startswith(f"[stages.digits]: {message}")


def test_accuracy_is_measured_against_the_parent_s_labels():
    spec = stage()
    y = np.array([0, 1, 2, 3])
    probabilities = np.eye(10, dtype=np.float32)[[0, 1, 2, 9]]
    metrics = stage_metrics(spec, {"loss": [2.0, 1.0]}, {"predictions": probabilities}, {"y_test": y})
    assert metrics == {"test_accuracy": 0.75, "loss_fell": True, "finite": True}
    nan = stage_metrics(spec, {"loss": [2.0, 1.0]}, {"predictions": probabilities * np.nan}, {"y_test": y})
    assert nan["test_accuracy"] == 0.0


def test_bce_and_mse_against_the_input_and_a_shape_mismatch_is_infinite():
    x_test = np.full((2, 28, 28), 255, np.uint8)
    bce = stage(target="input", metric="bce", images={"size": 28, "flatten": True})
    perfect = stage_metrics(bce, {"loss": [1, 0.5]}, {"predictions": np.ones((2, 784))}, {"x_test": x_test})
    assert perfect["test_bce"] == pytest.approx(-math.log(1 - 1e-7), abs=1e-6)
    mse = stage(target="input", metric="mse")
    half = stage_metrics(
        mse, {"loss": [1, 0.5]}, {"predictions": np.full((2, 28, 28), 0.5)}, {"x_test": x_test}
    )
    assert half["test_mse"] == pytest.approx(0.25)
    wrong = stage_metrics(mse, {"loss": [1, 0.5]}, {"predictions": np.ones((2, 10))}, {"x_test": x_test})
    assert wrong["test_mse"] == math.inf


def test_the_retry_rule_and_the_attempt_ranking():
    spec = stage()
    assert degenerate(spec, {"finite": False, "test_accuracy": 0.9}, {}) == "the loss became NaN"
    reason = degenerate(spec, {"finite": True, "test_accuracy": 0.5}, {"test_accuracy_min": 0.65})
    assert reason == "the test accuracy was 50.0%, below the calibrated threshold 65.0%"
    assert degenerate(spec, {"finite": True, "test_accuracy": 0.7}, {"test_accuracy_min": 0.65}) is None
    assert badness(spec, {"test_accuracy": 0.7}) < badness(spec, {"test_accuracy": 0.5})
    loss = stage(target="input", metric="loss")
    assert badness(loss, {"final_loss": math.nan}) == math.inf


def stage_verdict(spec, losses, probabilities, y, threshold=0.6):
    probe = "train:digits"
    inputs = CheckInputs(
        params={"test_accuracy_min": threshold},
        probes={probe: {"loss": losses}, "model:build_net": {}},
        arrays={probe: {"predictions": probabilities}},
        expected={
            "y_test": y,
            "budget": {"epochs": {"digits": 2}, "batch_size": {"digits": 64}, "train_samples": 1000},
        },
    )
    return check_of(spec).function(inputs)


def test_the_stage_check_says_the_budget_the_metric_and_the_threshold():
    spec, y = stage(), np.array([0, 1, 2, 3])
    right = np.eye(10, dtype=np.float32)[[0, 1, 2, 3]]
    passed = stage_verdict(spec, [2.0, 1.0], right, y)
    assert passed.fraction == 1.0
    assert (
        passed.feedback
        == "after 2 epochs on 1,000 images (batch 64) the test accuracy is 100.0% (threshold 60.0%)."
    )
    assert passed.metrics == {"test_accuracy": 1.0}
    half = np.eye(10, dtype=np.float32)[[0, 1, 9, 9]]
    failed = stage_verdict(spec, [2.0, 1.98], half, y)
    assert failed.fraction == 0.0
    assert failed.feedback.startswith(
        "after 2 epochs on 1,000 images (batch 64) the test accuracy is 50.0%, below the threshold 60.0%. "
        "Your loss fell only from 2 to 1.98"
    )
    flat = stage_verdict(spec, [2.0, 2.5], right, y)
    assert flat.feedback == "the training loss did not fall after 2 epochs on 1,000 images (batch 64)."


def test_every_metric_has_words():
    assert {name: metric.words for name, metric in METRICS.items()} == {
        "accuracy": "test accuracy",
        "mse": "test mean squared error",
        "bce": "test binary cross-entropy",
        "loss": "final training loss",
    }
