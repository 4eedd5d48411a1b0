"""Module-level answers (constants) and the sheet10 items: preprocessing, the dense AE, attention.

The dense autoencoder's items are the generic model checks (grader/checks/model_structure.py) with
the params rubrics/sheet10.toml gives them; ATTENTION_OUTPUT is the generic ``constant_array``.

Constant values go through the worker's own ``plain_value`` conversion, so the checks see
exactly what the ``constants`` probe would send.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from check_fixtures import Layers, case_args, function_inputs, item_params, make_inputs, run, student_error

from grader.assignments.sheet10.diagnoses import keras_l2_normalize
from grader.checks import StudentCallFailed
from grader.probes.common import plain_value
from grader.rubric import load_rubric


def constants(**values: Any) -> tuple[dict, dict]:
    """The ``constants`` probe's (data, arrays) for these student values."""
    data, arrays = {}, {}
    for name, value in values.items():
        data[name] = plain_value(value)
        if data[name].get("kind") == "array":
            arrays[name] = data[name].pop("array")
    return data, arrays


def constant_verdict(check: str, params: dict | None = None, **values: Any):
    data, arrays = constants(**values)
    return run(check, make_inputs({"constants": data}, {"constants": arrays}, params))


# -- numbers --------------------------------------------------------------------------------


def test_batch_size_256_passes_and_128_fails():
    params = item_params("sheet10", "1.4-batch")
    assert constant_verdict("constant_number", params, BATCH_SIZE=256).fraction == 1.0
    verdict = constant_verdict("constant_number", params, BATCH_SIZE=128)
    assert verdict.fraction == 0.0
    assert "BATCH_SIZE is 128; the exercise asks for 256 (a batch size of 256)." == verdict.feedback


def test_epochs_10_fails_where_50_are_asked():
    params = item_params("sheet10", "1.4-epochs")
    assert constant_verdict("constant_number", params, EPOCHS=50).fraction == 1.0
    verdict = constant_verdict("constant_number", params, EPOCHS=10)
    assert verdict.fraction == 0.0
    assert "EPOCHS is 10; the exercise asks for 50" in verdict.feedback


def test_vae_epochs_minimum_30():
    params = item_params("autoencoders", "6a-epochs")
    assert constant_verdict("constant_number", params, VAE_EPOCHS=30).fraction == 1.0
    assert constant_verdict("constant_number", params, VAE_EPOCHS=np.int64(50)).fraction == 1.0
    verdict = constant_verdict("constant_number", params, VAE_EPOCHS=10)
    assert verdict.fraction == 0.0
    assert "VAE_EPOCHS is 10; the exercise asks for at least 30" in verdict.feedback


def test_number_given_as_text_fails():
    verdict = constant_verdict("constant_number", item_params("sheet10", "1.4-batch"), BATCH_SIZE="256")
    assert verdict.fraction == 0.0
    assert "BATCH_SIZE should be a number; it is str." == verdict.feedback


def test_constant_left_at_none_raises_student_call_failed():
    with pytest.raises(StudentCallFailed) as caught:
        constant_verdict("constant_number", item_params("sheet10", "1.4-batch"), BATCH_SIZE=None)
    assert caught.value.error.feedback() == "BATCH_SIZE: is still None: fill in your answer"


def test_missing_constant_raises_student_call_failed():
    data = {"EPOCHS": {"error": student_error("missing", "EPOCHS", "EPOCHS is not defined")}}
    with pytest.raises(StudentCallFailed) as caught:
        run("constant_number", make_inputs({"constants": data}, params=item_params("sheet10", "1.4-epochs")))
    assert "the grader looked for `EPOCHS`" in caught.value.error.feedback()


@pytest.mark.parametrize("value", [100, 100.0, 98])
def test_expected_random_correct_about_100_passes(value):
    verdict = constant_verdict(
        "expected_random_correct", item_params("autoencoders", "3b-value"), EXPECTED_RANDOM_CORRECT=value
    )
    assert verdict.fraction == 1.0, verdict.feedback


@pytest.mark.parametrize("value", [0.1, 10])
def test_expected_random_correct_as_fraction_or_percentage_fails_and_is_named(value):
    verdict = constant_verdict(
        "expected_random_correct", item_params("autoencoders", "3b-value"), EXPECTED_RANDOM_CORRECT=value
    )
    assert verdict.fraction == 0.0
    assert "looks like a fraction or a percentage" in verdict.feedback
    assert "how many of the 1000 test images" in verdict.feedback


def test_expected_random_correct_far_off_fails():
    verdict = constant_verdict(
        "expected_random_correct", item_params("autoencoders", "3b-value"), EXPECTED_RANDOM_CORRECT=500
    )
    assert verdict.fraction == 0.0
    assert "with 10 equally likely digits, how many of 1000?" in verdict.feedback


# -- words ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "categorical cross-entropy",
        "sparse_categorical_crossentropy",
        "Cross Entropy",
        "negative log-likelihood",
    ],
)
def test_classification_loss_cross_entropy_synonyms_pass(text):
    verdict = constant_verdict("classification_loss_text", CLASSIFICATION_LOSS=text)
    assert verdict.fraction == 1.0, verdict.feedback


def test_classification_loss_mse_fails():
    verdict = constant_verdict("classification_loss_text", CLASSIFICATION_LOSS="mse")
    assert verdict.fraction == 0.0
    assert "'mse' is not a cross-entropy loss" in verdict.feedback


def test_classification_loss_empty_fails():
    verdict = constant_verdict("classification_loss_text", CLASSIFICATION_LOSS="   ")
    assert verdict.fraction == 0.0
    assert "CLASSIFICATION_LOSS is empty" in verdict.feedback


# -- ATTENTION_OUTPUT -------------------------------------------------------------------------------


def attention_output_verdict(**values: Any):
    return constant_verdict("constant_array", item_params("sheet10", "3.4-value"), **values)


def test_attention_output_as_one_token_of_depth_3_passes_and_names_the_reading():
    verdict = attention_output_verdict(ATTENTION_OUTPUT=[0.6, 0.2, 0.9])
    assert verdict.fraction == 1.0, verdict.feedback
    assert "reading the vectors as one token of depth 3" in verdict.feedback


def test_attention_output_as_three_tokens_of_depth_1_passes_and_names_the_reading():
    verdict = attention_output_verdict(ATTENTION_OUTPUT=np.array([[0.5737], [0.5706], [0.5682]]))
    assert verdict.fraction == 1.0, verdict.feedback
    assert "reading the vectors as three tokens of depth 1" in verdict.feedback


def test_attention_output_wrong_value_fails_and_lists_both_readings():
    verdict = attention_output_verdict(ATTENTION_OUTPUT=[0.5, 0.5, 0.5])
    assert verdict.fraction == 0.0
    assert "ATTENTION_OUTPUT is [0.5, 0.5, 0.5]" in verdict.feedback
    assert "as one token of depth 3: [0.6, 0.2, 0.9]" in verdict.feedback
    assert "as three tokens of depth 1: [0.5737, 0.5706, 0.5682]" in verdict.feedback


def test_attention_output_as_text_fails():
    verdict = attention_output_verdict(ATTENTION_OUTPUT="[0.6, 0.2, 0.9]")
    assert verdict.fraction == 0.0
    assert "ATTENTION_OUTPUT should be a list of numbers; it is a str." == verdict.feedback


# -- preprocess ---------------------------------------------------------------------------------------


def preprocess_verdict(out: np.ndarray):
    return run("matches_reference", function_inputs("sheet10", "1.4-preprocess", {"images": out}))


def raw_case() -> np.ndarray:
    return case_args("sheet10", "preprocess", "images")["images_uint8"]


def test_preprocess_case_is_uint8_images_of_the_full_range():
    raw = raw_case()
    assert raw.dtype == np.uint8 and raw.shape == (20, 28, 28)
    assert raw.min() == 0 and raw.max() == 255


def test_preprocess_divided_by_255_and_flattened_passes():
    raw = raw_case()
    verdict = preprocess_verdict((raw.astype("float32") / 255).reshape(len(raw), 784))
    assert verdict.fraction == 1.0, verdict.feedback
    assert verdict.feedback == "preprocess scales pixels to [0, 1] (divided by 255) and flattens them to 784."


def test_preprocess_with_keras_normalize_axis_1_fails_and_mentions_normalize():
    raw = raw_case()
    verdict = preprocess_verdict(keras_l2_normalize(raw.astype(np.float64), axis=1).reshape(len(raw), 784))
    assert verdict.fraction == 0.0
    assert verdict.feedback.startswith(
        "preprocess(images_uint8=random uint8 20x28x28) (20 images of 28x28 uint8 pixels): at index"
    )
    assert "preprocess uses tf.keras.utils.normalize" in verdict.feedback
    assert "Divide by 255 instead" in verdict.feedback


def test_preprocess_normalizing_the_flattened_rows_fails_and_mentions_normalize():
    raw = raw_case()
    flat = raw.reshape(len(raw), 784).astype(np.float64)
    verdict = preprocess_verdict(keras_l2_normalize(flat, axis=1))
    assert verdict.fraction == 0.0
    assert "preprocess uses tf.keras.utils.normalize" in verdict.feedback


def test_preprocess_with_another_scale_fails_with_the_differing_entry():
    raw = raw_case()
    verdict = preprocess_verdict(raw.reshape(len(raw), 784) / 256.0)
    assert verdict.fraction == 0.0
    assert "expected 1, got 0.9961" in verdict.feedback
    assert "normalize" not in verdict.feedback


def test_preprocess_without_scaling_fails():
    raw = raw_case()
    verdict = preprocess_verdict(raw.reshape(len(raw), 784).astype(np.float64))
    assert verdict.fraction == 0.0
    assert "preprocess does not scale the pixels: divide by 255" in verdict.feedback


def test_preprocess_without_flattening_fails_on_shape():
    raw = raw_case()
    verdict = preprocess_verdict(raw / 255.0)
    assert verdict.fraction == 0.0
    assert "expected shape (20, 784), got (20, 28, 28)" in verdict.feedback


# -- the dense autoencoder ------------------------------------------------------------------------------


PROBE = "model:build_dense_autoencoder"


def dense_models(
    encoder_activation="relu", decoder_activation="sigmoid", optimizer="Adam", loss=None
) -> dict:
    """The ``model:build_dense_autoencoder`` probe's data: each returned model by its rubric name."""
    loss = loss or {"kind": "string", "name": "binary_crossentropy"}
    encoder = Layers([784]).dense("encoded", 32, encoder_activation)
    decoder = Layers([32]).dense("decoded", 784, decoder_activation)
    autoencoder = (
        Layers([784]).dense("encoded", 32, encoder_activation).dense("decoded", 784, decoder_activation)
    )
    return {
        PROBE: {
            "autoencoder": autoencoder.describe(loss=loss, optimizer=optimizer),
            "encoder": encoder.describe(),
            "decoder": decoder.describe(),
        }
    }


def dense_verdict(item: str, models: dict | None = None):
    check = _rubric_item(item).check
    return run(check, make_inputs(models or dense_models(), params=item_params("sheet10", item)))


def _rubric_item(item: str):
    return load_rubric("sheet10").item(item)


def test_dense_784_32_784_autoencoder_passes_every_model_check():
    for item in ("1.4-encoder", "1.4-decoder", "1.4-optimizer", "1.4-loss"):
        verdict = dense_verdict(item)
        assert verdict.fraction == 1.0, (item, verdict.feedback)
    assert dense_verdict("1.4-encoder").feedback == "The encoder is Dense(32, relu): 784 floats to 32."


def test_dense_encoder_with_sigmoid_fails():
    verdict = dense_verdict("1.4-encoder", dense_models(encoder_activation="sigmoid"))
    assert verdict.fraction == 0.0
    assert verdict.feedback == "the encoder's Dense 'encoded' uses 'sigmoid'; the exercise asks for ReLU."


def test_dense_decoder_with_relu_fails():
    verdict = dense_verdict("1.4-decoder", dense_models(decoder_activation="relu"))
    assert verdict.fraction == 0.0
    assert verdict.feedback == (
        "the decoder's Dense 'decoded' uses 'relu'; the exercise asks for a sigmoid, so the outputs are "
        "pixel values in [0, 1]."
    )


def test_dense_encoder_of_the_wrong_width_fails():
    models = dense_models()
    models[PROBE]["encoder"] = Layers([784]).dense("encoded", 64, "relu").describe()
    verdict = dense_verdict("1.4-encoder", models)
    assert verdict.fraction == 0.0
    assert verdict.feedback == "the encoder maps [784] to [64]; expected [784] to [32]."


def test_dense_optimizer_sgd_fails():
    verdict = dense_verdict("1.4-optimizer", dense_models(optimizer="SGD"))
    assert verdict.fraction == 0.0
    assert verdict.feedback == "the autoencoder is compiled with SGD; the exercise asks for Adam."


def test_dense_autoencoder_compiled_with_mse_fails_the_bce_loss_item():
    verdict = dense_verdict("1.4-loss", dense_models(loss={"kind": "string", "name": "mean_squared_error"}))
    assert verdict.fraction == 0.0
    assert "build_dense_autoencoder compiles with the mean squared error" in verdict.feedback
    assert "the exercise asks for binary cross-entropy" in verdict.feedback


# -- scaled_dot_product_attention ------------------------------------------------------------------------


def student_attention(q, k, v, mask=None, scale=True, axis=-1, use_mask=True):
    """A student's NumPy attention, with switches for the usual mistakes."""
    q, k, v = (np.atleast_2d(np.asarray(t, float)) for t in (q, k, v))
    logits = q @ np.swapaxes(k, -1, -2)
    if scale:
        logits = logits / np.sqrt(k.shape[-1])
    if mask is not None and use_mask:
        logits = logits + mask * -1e9
    weights = np.exp(logits - logits.max(axis=axis, keepdims=True))
    weights = weights / weights.sum(axis=axis, keepdims=True)
    return weights @ v, weights


def attention_verdict(rank1_error: dict | None = None, **mistake):
    results = {}
    for case in ("batched", "masked", "rank1"):
        if case == "rank1" and rank1_error:
            results[case] = rank1_error
            continue
        args = case_args("sheet10", "scaled_dot_product_attention", case)
        output, weights = student_attention(args["q"], args["k"], args["v"], args["mask"], **mistake)
        results[case] = (output[0] if case == "rank1" else output, weights)
    return run("matches_reference", function_inputs("sheet10", "3.4-function", results))


def test_attention_with_scaling_mask_and_last_axis_softmax_passes():
    verdict = attention_verdict()
    assert verdict.fraction == 1.0, verdict.feedback


def test_attention_rank1_output_may_keep_its_token_axis():
    args = case_args("sheet10", "scaled_dot_product_attention", "rank1")
    output, weights = student_attention(args["q"], args["k"], args["v"])  # (1, 3): accepted
    results = {"rank1": (output, weights)}
    item = function_inputs("sheet10", "3.4-function", results)
    item.params["cases"] = ["rank1"]
    assert run("matches_reference", item).fraction == 1.0


def test_attention_without_sqrt_dk_scaling_fails_and_is_named():
    verdict = attention_verdict(scale=False)
    assert verdict.fraction == pytest.approx(1 / 3)  # one token: nothing to scale
    assert "(batched inputs): output at index" in verdict.feedback
    assert "The logits are not divided by sqrt(d_k) = sqrt(8)." in verdict.feedback


def test_attention_softmax_over_the_queries_fails_and_is_named():
    verdict = attention_verdict(axis=-2)
    assert verdict.fraction == pytest.approx(1 / 3)
    assert "The softmax runs over the queries (axis -2); it must run over the keys" in verdict.feedback


def test_attention_ignoring_the_mask_fails_and_is_named():
    verdict = attention_verdict(use_mask=False)
    assert verdict.fraction == pytest.approx(2 / 3)
    assert "(batched inputs with a mask): output at index" in verdict.feedback
    assert "The mask is ignored: add mask * -1e9 to the scaled logits before the softmax." in verdict.feedback


def test_attention_crash_on_rank1_inputs_shows_the_error_and_advice():
    error = student_error(
        "exception",
        "scaled_dot_product_attention",
        "In[0] and In[1] ndims must be == 2: 1 [Op:MatMul]",
        type="InvalidArgumentError",
        advice="tf.matmul needs matrices (rank >= 2): turn rank-1 vectors into (1, d) matrices first.",
    )
    verdict = attention_verdict(rank1_error=error)
    assert verdict.fraction == pytest.approx(2 / 3)
    assert (
        "scaled_dot_product_attention(q=[0.8, 0.5, 0.21], k=[0.1, 0.62, 0.73], v=[0.6, 0.2, 0.9], mask=None) "
        "(the sheet's rank1 vectors as lists) raised InvalidArgumentError: " in verdict.feedback
    )
    assert "ndims must be == 2" in verdict.feedback
    assert "tf.matmul needs matrices" in verdict.feedback


def test_attention_not_implemented_raises_student_call_failed():
    error = student_error("not_implemented", "scaled_dot_product_attention", "")
    with pytest.raises(StudentCallFailed):
        attention_verdict_all_errors(error)


def attention_verdict_all_errors(error: dict):
    results = {case: error for case in ("batched", "masked", "rank1")}
    return run("matches_reference", function_inputs("sheet10", "3.4-function", results))
