"""Exercise 4a's classifier structure, and the checks on models the grader trained.

Training data is synthetic: losses per epoch, latent stds, reconstructions and scores
shaped as the ``train:<stage>`` probes return them; the parent keeps x_test / y_test.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from check_fixtures import (
    Layers,
    expected_for,
    item_params,
    make_inputs,
    reference_encoder,
    run,
    student_error,
)

from grader.assignments.registry import all_checks
from grader.checks.training import attempts_text
from grader.data import to_float_images
from grader.rubric import load_rubric

CHECKS = all_checks()

AE = expected_for("autoencoders")
SHEET10 = expected_for("sheet10")
RNG = np.random.default_rng(21)


# -- classifier structure ----------------------------------------------------------------------


def classifier(head_activation: str = "softmax", keep_latent: bool = False, loss: dict | None = None) -> dict:
    """build_classifier(encoder): the encoder's layers up to pool4 (or beyond), Flatten, Dense(10)."""
    layers = Layers([32, 32, 1])
    for block in range(1, 5):
        layers.conv(f"conv{block}").pool(f"pool{block}")
    if keep_latent:
        layers.conv("conv_latent", 1).pool("pool_latent", (2, 1))
    layers.flatten().dense("digits", 10, head_activation)
    loss = loss or {"kind": "string", "name": "sparse_categorical_crossentropy"}
    return layers.describe(loss=loss, optimizer="Adam")


def structure_verdict(model: dict):
    encoder = reference_encoder().records
    model_names = {record["name"] for record in model["layers"]}
    shared = [record["name"] for record in encoder if record["name"] in model_names]
    probe = {"classifier": model, "encoder": encoder, "shared": shared}
    return run("classifier_structure", make_inputs({"classifier_structure": probe}))


def test_encoder_up_to_last_block_with_softmax_head_passes():
    verdict = structure_verdict(classifier())
    assert verdict.fraction == 1.0, verdict.feedback


def test_logits_with_from_logits_true_passes():
    loss = {"kind": "object", "name": "SparseCategoricalCrossentropy", "from_logits": True}
    verdict = structure_verdict(classifier("linear", loss=loss))
    assert verdict.fraction == 1.0, verdict.feedback


def test_logits_without_from_logits_fails_the_loss_part():
    verdict = structure_verdict(classifier("linear"))
    assert verdict.fraction == pytest.approx(2 / 3)
    assert "the last layer outputs logits (no softmax) but the loss is not built with from_logits=True" in (
        verdict.feedback
    )


def test_softmax_with_from_logits_true_fails_the_loss_part():
    loss = {"kind": "object", "name": "SparseCategoricalCrossentropy", "from_logits": True}
    verdict = structure_verdict(classifier("softmax", loss=loss))
    assert verdict.fraction == pytest.approx(2 / 3)
    assert "softmax would be applied twice" in verdict.feedback


def test_classifier_still_containing_the_last_encoder_conv_fails_the_reuse_part():
    verdict = structure_verdict(classifier(keep_latent=True))
    assert verdict.fraction == pytest.approx(2 / 3)
    assert (
        "the classifier still contains the 9th layer of your encoder (Conv2D 'conv_latent'), its last conv "
        "layer; replace it (and its pooling) with Flatten + Dense" in verdict.feedback
    )


def test_classifier_compiled_with_mse_fails_the_loss_part():
    verdict = structure_verdict(classifier(loss={"kind": "string", "name": "mse"}))
    assert verdict.fraction == pytest.approx(2 / 3)
    assert (
        "compiled with the mean squared error; use a (sparse) categorical cross-entropy" in verdict.feedback
    )


def test_classifier_with_a_fresh_copy_of_the_encoder_loses_only_the_reuse_part():
    model = classifier()
    for number, record in enumerate(model["layers"]):  # a second build_encoder() call: Keras's auto names
        record["name"] = f"{record['type'].lower()}_{number + 20}"
    verdict = structure_verdict(model)
    assert verdict.fraction == pytest.approx(2 / 3)
    assert verdict.feedback == (
        "your classifier's first layers are new Conv2D layers, not the layers of the encoder you were given: "
        "build the classifier on `encoder`'s layers (e.g. `encoder.layers[...]` or `encoder(inputs)`), so it "
        "uses the trained encoder."
    )


def test_fresh_copy_with_the_encoders_own_names_is_still_not_reuse():
    probe = {"classifier": classifier(), "encoder": reference_encoder().records, "shared": []}
    verdict = run("classifier_structure", make_inputs({"classifier_structure": probe}))
    assert verdict.fraction == pytest.approx(2 / 3)
    assert "not the layers of the encoder you were given" in verdict.feedback
    assert "head" not in verdict.feedback


def test_fresh_copy_with_a_wrong_head_fails_reuse_and_head_separately():
    model = classifier("sigmoid")
    probe = {"classifier": model, "encoder": reference_encoder().records, "shared": []}
    verdict = run("classifier_structure", make_inputs({"classifier_structure": probe}))
    assert verdict.fraction == pytest.approx(1 / 3)
    assert "not the layers of the encoder you were given" in verdict.feedback
    assert "the last Dense layer uses 'sigmoid'" in verdict.feedback


def test_classifier_on_raw_images_without_convs_does_not_reuse_the_encoder():
    layers = Layers([32, 32, 1]).flatten().dense("digits", 10, "softmax")
    model = layers.describe(loss={"kind": "string", "name": "sparse_categorical_crossentropy"})
    verdict = structure_verdict(model)
    assert verdict.fraction == pytest.approx(2 / 3)
    assert "the classifier does not reuse layers 1, 3, 5 and 7 of your encoder (its Conv2D layers)" in (
        verdict.feedback
    )


def test_new_conv_layers_in_the_head_are_grouped_by_type():
    model = classifier()
    extra = [{"name": f"conv2d_{n}", "type": "Conv2D", "activation": "relu", "filters": 16} for n in (30, 31)]
    model["layers"] = model["layers"][:8] + extra + model["layers"][8:]
    verdict = structure_verdict(model)
    assert "the head after the encoder layers should be Flatten + Dense; found Conv2D (layers 9 and 10)" in (
        verdict.feedback
    )


def test_classifier_with_sigmoid_head_fails_the_head_part():
    verdict = structure_verdict(classifier("sigmoid"))
    assert verdict.fraction == pytest.approx(2 / 3)
    assert "the last Dense layer uses 'sigmoid'" in verdict.feedback


# -- autoencoder training ------------------------------------------------------------------------------


def ae_test_images() -> np.ndarray:
    return to_float_images(AE["x_test"], 32)[..., 0]


def ae_training_inputs(
    loss: list,
    error: float = 0.03,
    latent_std: list | None = None,
    thresholds: dict | None = None,
    attempts: list | None = None,
    batch_loss: list | None = None,
):
    x = ae_test_images()
    x_rec = (x + RNG.choice([-error, error], size=x.shape)).astype(np.float32)  # MSE exactly error**2
    data = {
        "loss": loss,
        "latent_std": latent_std or [1.3, 0.8],
        "compiled_by_grader": False,
        "image_size": 32,
    }
    if attempts:
        data |= {"attempts": attempts, "selected_seed": attempts[-1]["seed"]}
    if batch_loss is not None:
        data["batch_loss"] = batch_loss
    arrays = {
        "x_rec": x_rec,
        "z_train": np.zeros((10, 2), np.float32),
        "z_test": np.zeros((10, 2), np.float32),
    }
    params = item_params("autoencoders", "1-training")
    return make_inputs({"train:autoencoder": data}, {"train:autoencoder": arrays}, params, thresholds, AE)


def test_ae_training_below_threshold_passes_and_reports_the_budget():
    verdict = run("ae_training", ae_training_inputs([0.07, 0.05, 0.045]))
    assert verdict.fraction == 1.0, verdict.feedback
    assert "after 5 epochs on 200 images (batch 64)" in verdict.feedback
    assert verdict.metrics["test_mse"] == pytest.approx(0.0009, rel=1e-4)


def test_ae_training_above_threshold_fails():
    verdict = run("ae_training", ae_training_inputs([0.2, 0.15], error=0.3))
    assert verdict.fraction == 0.0
    assert (
        "the test MSE is 0.0900, above the threshold 0.0650 calibrated on the reference" in verdict.feedback
    )


def test_calibrated_threshold_overrides_the_rubric_fallback():
    inputs = ae_training_inputs([0.07, 0.05], error=0.1, thresholds={"test_mse_max": 0.005})
    verdict = run("ae_training", inputs)
    assert verdict.fraction == 0.0
    assert "above the threshold 0.0050" in verdict.feedback
    assert inputs.threshold("test_mse_max") == 0.005
    assert (
        ae_training_inputs([0.07, 0.05]).threshold("test_mse_max")
        == item_params("autoencoders", "1-training")["test_mse_max"]
    )


def test_nan_training_loss_fails():
    verdict = run("ae_training", ae_training_inputs([0.07, None, None]))
    assert verdict.fraction == 0.0
    assert "the training loss became NaN or infinite" in verdict.feedback


def test_training_loss_that_does_not_fall_fails():
    verdict = run("ae_training", ae_training_inputs([0.05, 0.06, 0.07]))
    assert verdict.fraction == 0.0
    assert "the training loss did not fall after 5 epochs" in verdict.feedback


def test_dead_latent_dimension_is_mentioned():
    verdict = run("ae_training", ae_training_inputs([0.09, 0.088], error=0.3, latent_std=[0.9, 0.0]))
    assert verdict.fraction == 0.0
    assert "Your latent dimension 2 was always 0 after training" in verdict.feedback
    assert "(see Exercise 2c)" in verdict.feedback


def test_retries_are_reported_with_their_seeds():
    attempts = [{"seed": 0, "reason": "a latent dimension died"}, {"seed": 1, "reason": ""}]
    verdict = run("ae_training", ae_training_inputs([0.07, 0.05], attempts=attempts))
    assert verdict.fraction == 1.0
    assert "The grader trained your model 2 times: with seed 0 a latent dimension died" in verdict.feedback
    assert "it kept the attempt with seed 1." in verdict.feedback


def test_a_threshold_every_attempt_missed_is_said_once():
    attempts = [
        {"seed": 0, "reason": "the test accuracy was 52.0%, below the calibrated threshold 65.0%"},
        {"seed": 1, "reason": "the test accuracy was 58.5%, below the calibrated threshold 65.0%"},
        {"seed": 2, "reason": "the test accuracy was 55.0%, below the calibrated threshold 65.0%"},
    ]
    data = {"attempts": attempts, "selected_seed": 1}
    assert attempts_text(data) == (
        " The grader trained your model 3 times: with seed 0 the test accuracy was 52.0%; with seed 1 the "
        "test accuracy was 58.5%; with seed 2 the test accuracy was 55.0% (each below the calibrated "
        "threshold 65.0%); it kept the attempt with seed 1."
    )


def test_attempts_with_different_reasons_keep_their_own_words():
    attempts = [
        {"seed": 0, "reason": "the loss became NaN"},
        {"seed": 1, "reason": "the test MSE was 0.0900, above the calibrated threshold 0.0620"},
        {"seed": 2, "reason": None},
    ]
    text = attempts_text({"attempts": attempts, "selected_seed": 2})
    assert (
        "with seed 0 the loss became NaN; with seed 1 the test MSE was 0.0900, above the calibrated "
        "threshold 0.0620; it kept the attempt with seed 2." in text
    )


# -- classifier accuracy and history -------------------------------------------------------------------


def scores_with_accuracy(accuracy: float) -> np.ndarray:
    y_test = AE["y_test"]
    predicted = y_test.copy()
    wrong = np.arange(len(y_test)) >= round(accuracy * len(y_test))
    predicted[wrong] = (y_test[wrong] + 1) % 10
    return np.eye(10, dtype=np.float32)[predicted] * 0.9 + 0.01


def classifier_inputs(
    scores: np.ndarray, history: dict | None = None, error: dict | None = None, thresholds=None
):
    data = {
        "history": history or {"loss": [1.5, 0.9, 0.7], "val_loss": [1.2, 0.9, 0.8]},
        "epochs": 3,
        "train_classifier_error": error,
    }
    params = item_params("autoencoders", "4a-accuracy")
    return make_inputs(
        {"train:classifier": data}, {"train:classifier": {"scores": scores}}, params, thresholds, AE
    )


def test_classifier_accuracy_above_threshold_passes():
    verdict = run("classifier_accuracy", classifier_inputs(scores_with_accuracy(0.8)))
    assert verdict.fraction == 1.0, verdict.feedback
    assert "the test accuracy is 80.0% (threshold 50.0%)" in verdict.feedback


def test_classifier_accuracy_below_threshold_fails():
    verdict = run("classifier_accuracy", classifier_inputs(scores_with_accuracy(0.3)))
    assert verdict.fraction == 0.0
    assert (
        "the test accuracy is 30.0%, below the threshold 50.0% calibrated on the reference"
        in verdict.feedback
    )


def test_classifier_accuracy_uses_the_calibrated_threshold():
    verdict = run(
        "classifier_accuracy", classifier_inputs(scores_with_accuracy(0.8), thresholds={"accuracy_min": 0.9})
    )
    assert verdict.fraction == 0.0
    assert "below the threshold 90.0%" in verdict.feedback


def test_classifier_accuracy_notes_that_the_grader_trained_it_itself():
    error = student_error("exception", "train_classifier", "boom", type="ValueError")
    verdict = run("classifier_accuracy", classifier_inputs(scores_with_accuracy(0.8), error=error))
    assert verdict.fraction == 1.0
    assert "train_classifier failed, so the grader trained the classifier with model.fit" in verdict.feedback


def test_classifier_scores_of_the_wrong_shape_count_as_zero_accuracy():
    verdict = run("classifier_accuracy", classifier_inputs(scores_with_accuracy(0.8)[:, :2]))
    assert verdict.fraction == 0.0
    assert verdict.metrics["accuracy"] == 0.0


def history_inputs(history: dict | None = None, epochs: int = 2):
    data = {"history": history or {"loss": [1.5, 0.9], "val_loss": [1.2, 0.9]}, "epochs": epochs}
    params = item_params("autoencoders", "4b-history")
    return make_inputs({"train_classifier_call": data}, {"train_classifier_call": {}}, params, None, AE)


def test_history_with_loss_and_val_loss_per_epoch_passes():
    verdict = run("classifier_history", history_inputs())
    assert verdict.fraction == 1.0, verdict.feedback
    assert "train and test loss for each of the 2 epochs" in verdict.feedback
    assert verdict.feedback.startswith("called by the grader with epochs=2 on a small classifier of its own")


def test_history_without_val_loss_fails():
    inputs = history_inputs({"loss": [1.5, 0.9, 0.7], "accuracy": [0.5, 0.7, 0.8]}, epochs=3)
    verdict = run("classifier_history", inputs)
    assert verdict.fraction == 0.0
    assert "should hold 'loss' and 'val_loss' for each of the 3 epochs" in verdict.feedback
    assert "it holds loss (3 values), accuracy (3 values)" in verdict.feedback


def test_history_with_too_few_epochs_fails():
    verdict = run("classifier_history", history_inputs({"loss": [1.5], "val_loss": [1.2]}))
    assert verdict.fraction == 0.0
    assert "loss (1 values), val_loss (1 values)" in verdict.feedback


def test_history_is_graded_on_the_graders_classifier_not_the_students():
    assert CHECKS["classifier_history"].probes_for({}) == ("train_classifier_call",)


# -- VAE training ---------------------------------------------------------------------------------------


def vae_inputs(
    loss: list,
    mean_offset: float = 0.0,
    error: float = 0.03,
    nan_codes: bool = False,
    batch_loss: list | None = None,
    x_rec: np.ndarray | None = None,
):
    x = ae_test_images()
    z_mean = RNG.normal(mean_offset, 1.0, size=(len(x), 2)).astype(np.float32)
    if nan_codes:
        z_mean[0, 0] = np.nan
    x_rec = (x + error).astype(np.float32) if x_rec is None else x_rec
    arrays = {"z_mean": z_mean, "z_log": np.zeros_like(z_mean), "x_rec": x_rec}
    data = {"loss": loss, "fit": "vae.fit(x)", "image_size": 32}
    if batch_loss is not None:  # each epoch's mean batch loss, as the trainer's callback records it
        data["batch_loss"] = batch_loss
    params = item_params("autoencoders", "6a-training")
    return make_inputs({"train:vae": data}, {"train:vae": arrays}, params, expected=AE)


def test_vae_training_near_the_prior_passes():
    verdict = run("vae_training", vae_inputs([250.0, 180.0, 170.0]))
    assert verdict.fraction == 1.0, verdict.feedback


def test_vae_latent_means_far_from_the_prior_fail_one_third():
    verdict = run("vae_training", vae_inputs([250.0, 180.0], mean_offset=5.0))
    assert verdict.fraction == pytest.approx(2 / 3)
    assert "the latent means are not near the N(0, 1) prior" in verdict.feedback
    assert "the KL term of the loss is what pulls them towards the prior" in verdict.feedback


def test_vae_training_with_poor_reconstructions_and_rising_loss():
    verdict = run("vae_training", vae_inputs([180.0, 250.0], error=0.4))
    assert verdict.fraction == pytest.approx(1 / 3)
    assert "the loss did not fall" in verdict.feedback
    assert "decoding the latent means gives a test MSE of 0.1600, above 0.0700" in verdict.feedback


def test_vae_whose_history_logs_zeros_is_judged_by_the_loss_its_batches_measured():
    # Keras 3, a train_step returning {"loss": loss} without a tracker: History [0.0, 0.0, 0.0].
    verdict = run("vae_training", vae_inputs([0.0, 0.0, 0.0], batch_loss=[0.0726, 0.0640, 0.0588]))
    assert verdict.fraction == 1.0, verdict.feedback
    assert "the loss fell" in verdict.feedback


def test_vae_whose_batch_losses_rise_did_not_learn_whatever_its_history_says():
    verdict = run("vae_training", vae_inputs([250.0, 180.0], batch_loss=[180.0, 250.0]))
    assert verdict.fraction == pytest.approx(2 / 3)
    assert "the loss did not fall" in verdict.feedback


def test_ae_whose_history_logs_zeros_is_judged_by_its_batch_losses():
    verdict = run("ae_training", ae_training_inputs([0.0, 0.0], batch_loss=[0.07, 0.05]))
    assert verdict.fraction == 1.0, verdict.feedback


def test_a_logits_decoder_is_judged_by_the_sigmoid_of_its_outputs():
    # TensorFlow's CVAE tutorial: no sigmoid at the end, a cross-entropy on logits in the loss.
    x = ae_test_images().astype(np.float64)
    logits = np.log(np.clip(x, 0.02, 0.98) / (1 - np.clip(x, 0.02, 0.98))).astype(np.float32)
    verdict = run("vae_training", vae_inputs([250.0, 180.0], x_rec=logits))
    assert verdict.fraction == 1.0, verdict.feedback
    assert "lie far outside [0, 1], so they were read as logits" in verdict.feedback


def test_logits_that_reconstruct_nothing_still_fail():
    x = ae_test_images()
    noise = RNG.normal(0.0, 4.0, size=x.shape).astype(np.float32)
    verdict = run("vae_training", vae_inputs([250.0, 180.0], x_rec=noise))
    assert verdict.fraction == pytest.approx(2 / 3)
    assert "decoding the latent means gives a test MSE of" in verdict.feedback


def test_pixel_outputs_are_not_read_as_logits():
    verdict = run("vae_training", vae_inputs([250.0, 180.0], error=0.4))
    assert "read as logits" not in verdict.feedback


def test_a_loss_that_barely_fell_with_a_small_learning_rate_is_named_when_the_threshold_is_missed():
    # TensorFlow's CVAE tutorial: Adam(1e-4), the loss falls from 542.6 to 539.4 in the budget.
    inputs = vae_inputs([542.6, 541.0, 539.4], error=0.4)
    inputs.probes["train:vae"]["optimizer"] = {"optimizer": "Adam", "learning_rate": 1e-4}
    verdict = run("vae_training", inputs)
    assert verdict.fraction == pytest.approx(2 / 3)
    assert "Your loss fell only from 542.6 to 539.4 (0.6%) in the budget: the model barely trained." in (
        verdict.feedback
    )
    assert "Its learning rate is 0.0001 (Adam); Keras's default for Adam is 0.001" in verdict.feedback


def test_a_loss_that_barely_fell_is_not_blamed_on_the_rate_when_the_rate_is_the_default():
    inputs = ae_training_inputs([0.2, 0.198], error=0.3)
    inputs.probes["train:autoencoder"]["optimizer"] = {"optimizer": "Adam", "learning_rate": 1e-3}
    verdict = run("ae_training", inputs)
    assert verdict.fraction == 0.0
    assert "Your loss fell only from 0.2 to 0.198 (1.0%)" in verdict.feedback
    assert "learning rate" not in verdict.feedback


def test_a_slow_fall_is_not_mentioned_when_the_model_passes_or_the_loss_fell_well():
    passing = ae_training_inputs([0.0460, 0.0455])  # passes its threshold: no blame
    passing.probes["train:autoencoder"]["optimizer"] = {"optimizer": "Adam", "learning_rate": 1e-4}
    assert "barely trained" not in run("ae_training", passing).feedback
    fell = ae_training_inputs([0.2, 0.15], error=0.3)  # missed, but the loss fell by 25%
    fell.probes["train:autoencoder"]["optimizer"] = {"optimizer": "Adam", "learning_rate": 1e-4}
    assert "barely trained" not in run("ae_training", fell).feedback


def test_vae_nan_latent_means_fail():
    verdict = run("vae_training", vae_inputs([250.0, 180.0], nan_codes=True))
    assert verdict.fraction == 0.0
    assert "NaN or infinite" in verdict.feedback
    assert math.isinf(verdict.metrics["prior_mean"])


# -- dense autoencoder training (sheet10) -------------------------------------------------------------------


def dense_inputs(loss: list, blur: float, thresholds=None):
    """The training probe of sheet10's data stage "dense" (rubrics/sheet10.toml: [stages.dense])."""
    x = SHEET10["x_test"].reshape(len(SHEET10["x_test"]), -1) / 255.0
    x_rec = (1 - blur) * x + blur * 0.5
    params = item_params("sheet10", "1.4-training")
    return make_inputs(
        {"train:dense": {"loss": loss}, "model:build_dense_autoencoder": {}},
        {"train:dense": {"predictions": x_rec.astype(np.float32)}},
        params,
        thresholds,
        SHEET10,
    )


def dense_training(inputs):
    """The check the [stages.dense] table derives (grader/data_stages.py), as the rubric's items use it."""
    return load_rubric("sheet10").checks["dense_training"].function(inputs)


def test_dense_training_with_good_reconstructions_passes():
    # random uint8 'images' are not binary: a perfect reconstruction's BCE is their mean entropy
    x = np.clip(SHEET10["x_test"].reshape(len(SHEET10["x_test"]), -1) / 255.0, 1e-7, 1 - 1e-7)
    entropy = float(-np.mean(x * np.log(x) + (1 - x) * np.log(1 - x)))
    verdict = dense_training(
        dense_inputs([0.3, 0.2, 0.1], blur=0.0, thresholds={"test_bce_max": entropy + 0.01})
    )
    assert verdict.fraction == 1.0, verdict.feedback
    assert verdict.metrics["test_bce"] == pytest.approx(entropy, abs=1e-4)
    assert f"the test binary cross-entropy is {entropy:.4f}" in verdict.feedback


def test_dense_training_above_threshold_fails():
    verdict = dense_training(dense_inputs([0.3, 0.2, 0.1], blur=0.9))
    assert verdict.fraction == 0.0
    assert "above the threshold 0.2000" in verdict.feedback


def test_dense_training_loss_not_falling_fails():
    verdict = dense_training(dense_inputs([0.3, 0.3], blur=0.0))
    assert verdict.fraction == 0.0
    assert "the training loss did not fall after 20 epochs on 200 images (batch 256)" in verdict.feedback


def test_calibration_threshold_rule_keeps_a_margin_and_never_goes_below_chance():
    from grader.calibration import threshold_rule

    threshold, rule = threshold_rule([0.05, 0.04], "upper", 0.3)
    assert threshold == pytest.approx(0.065) and rule == "worst * (1 + 0.3)"
    threshold, rule = threshold_rule([0.86, 0.90], "lower", 0.2, 0.1)
    assert threshold == pytest.approx(0.66) and rule == "max(worst - 0.2, 0.1)"
    # The smoke budget's reference reaches only 18%: the threshold stops at chance, not at -2%.
    threshold, _ = threshold_rule([0.1833, 0.58], "lower", 0.2, 0.1)
    assert threshold == pytest.approx(0.1)
