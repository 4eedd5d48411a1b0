"""Exercise 1's architecture checks on synthetic ``ae_models`` probe data.

The reference-correct records are built by hand (check_fixtures.reference_encoder /
reference_decoder); each failing test makes one realistic student mistake.
"""

from __future__ import annotations

import numpy as np
import pytest
from check_fixtures import (
    Layers,
    ae_inputs,
    item_params,
    make_inputs,
    reference_decoder,
    reference_encoder,
    run,
    student_error,
)

from grader.checks import StudentCallFailed, StudentError
from grader.checks.architecture import own_name
from grader.shared import LOSS_PROBE_PRED, LOSS_PROBE_TRUE

ARCHITECTURE_ITEMS = {
    "conv_layer_types": "1-layer-types",
    "conv_relu": "1-relu",
    "conv_padding": "1-padding",
    "conv_resampling": "1-resampling",
    "conv_filters": "1-filters",
    "latent_shape": "1-latent-shape",
    "compiled_loss": "1-loss",
}


def grade(check: str, **models) -> object:
    """Run an Exercise 1 check with the shipped rubric's params for its item."""
    return run(check, ae_inputs(params=item_params("autoencoders", ARCHITECTURE_ITEMS[check]), **models))


def encoder_with(change) -> Layers:
    """The reference encoder built block by block, with ``change(layers, block)`` deciding each block."""
    layers = Layers([32, 32, 1])
    for block in range(1, 5):
        change(layers, block)
    return layers.conv("conv_latent", 1).pool("pool_latent", (2, 1))


def standard_block(layers: Layers, block: int) -> None:
    layers.conv(f"conv{block}").pool(f"pool{block}")


def full_resolution_decoder(final_activation: str = "sigmoid") -> Layers:
    """Five Conv2DTranspose(16) + UpSampling2D blocks, then Conv2DTranspose(1) at 32x32, nothing after."""
    layers = Layers([1, 2, 1])
    for block, size in enumerate([(2, 1), (2, 2), (2, 2), (2, 2), (2, 2)], start=1):
        layers.deconv(f"deconv{block}").up(f"up{block}", size)
    return layers.deconv("deconv_out", 1, activation=final_activation)


# -- the reference passes everything ------------------------------------------------------


@pytest.mark.parametrize("check", sorted(ARCHITECTURE_ITEMS))
def test_reference_architecture_passes_every_exercise1_check(check):
    verdict = grade(check)
    assert verdict.fraction == 1.0, verdict.feedback


def test_reference_records_have_the_contract_latent_and_image_shapes():
    assert reference_encoder().shape == [1, 2, 1]
    assert reference_decoder().shape == [32, 32, 1]


# -- layer types ----------------------------------------------------------------------------


def test_dense_layer_in_the_conv_autoencoder_fails_layer_types():
    encoder = encoder_with(standard_block)
    encoder.records = encoder.records[:-2]  # a Dense bottleneck instead of the 1-filter conv block
    encoder.shape = [2, 2, 16]
    encoder.flatten().dense("bottleneck", 2, "relu").reshape("to_latent", [1, 2, 1])
    verdict = grade("conv_layer_types", encoder=encoder)
    assert verdict.fraction == 0.0
    assert (
        "3 layers are not allowed in the encoder: Flatten (layer 9), Dense (layer 10 'bottleneck') and "
        "Reshape (layer 11 'to_latent'); it may only contain Conv2D and pooling layers" in verdict.feedback
    )


def test_conv2d_in_the_decoder_instead_of_conv2dtranspose_fails_layer_types():
    decoder = reference_decoder()
    decoder.records[0]["type"] = "Conv2D"
    verdict = grade("conv_layer_types", decoder=decoder)
    assert verdict.fraction == 0.0
    assert "1 layer is not allowed in the decoder: Conv2D (layer 1 'deconv1')" in verdict.feedback


def test_separate_relu_layers_and_cropping_are_allowed_layer_types():
    def block(layers, index):
        layers.conv(f"conv{index}", activation="linear").relu_layer(f"relu{index}").pool(f"pool{index}")

    verdict = grade("conv_layer_types", encoder=encoder_with(block))
    assert verdict.fraction == 1.0, verdict.feedback


# -- activations -----------------------------------------------------------------------------


def test_sigmoid_in_the_encoder_fails_relu_check():
    def block(layers, index):
        layers.conv(f"conv{index}", activation="sigmoid" if index == 3 else "relu").pool(f"pool{index}")

    verdict = grade("conv_relu", encoder=encoder_with(block))
    assert verdict.fraction == 0.0
    assert (
        "the 5th layer of your encoder (Conv2D 'conv3') is followed by 'sigmoid', expected relu"
        in verdict.feedback
    )


@pytest.mark.parametrize("style", ["Activation('relu')", "ReLU()"])
def test_separate_relu_layer_after_a_linear_conv_passes_relu_and_resampling(style):
    def block(layers, index):
        layers.conv(f"conv{index}", activation="linear")
        if style == "ReLU()":
            layers.relu_layer(f"relu{index}")
        else:
            layers.activation(f"act{index}", "relu")
        layers.pool(f"pool{index}")

    encoder = encoder_with(block)
    for check in ("conv_relu", "conv_resampling", "conv_filters"):
        verdict = grade(check, encoder=encoder)
        assert verdict.fraction == 1.0, (check, verdict.feedback)


def test_linear_conv_without_activation_layer_fails_relu_check():
    def block(layers, index):
        layers.conv(f"conv{index}", activation="linear" if index == 1 else "relu").pool(f"pool{index}")

    verdict = grade("conv_relu", encoder=encoder_with(block))
    assert verdict.fraction == 0.0
    assert "the 1st layer of your encoder (Conv2D 'conv1') is followed by 'linear'" in verdict.feedback


def test_capped_relu6_layer_is_not_a_relu():
    def block(layers, index):
        layers.conv(f"conv{index}", activation="linear")
        layers.relu_layer(f"relu{index}")
        layers.records[-1]["max_value"] = 6.0
        layers.pool(f"pool{index}")

    verdict = grade("conv_relu", encoder=encoder_with(block))
    assert verdict.fraction == 0.0
    assert "'relu_capped'" in verdict.feedback


def test_final_decoder_activation_must_be_one_the_rubric_accepts():
    decoder = reference_decoder()
    decoder.records[-2]["activation"] = "sigmoid"
    assert grade("conv_relu", decoder=decoder).fraction == 1.0
    decoder.records[-2]["activation"] = "tanh"
    verdict = grade("conv_relu", decoder=decoder)
    assert verdict.fraction == 0.0
    assert (
        "the 9th layer of your decoder (Conv2DTranspose 'deconv_out'), its last convolution, is followed "
        "by 'tanh', expected relu or sigmoid or linear" in verdict.feedback
    )


def test_without_rubric_params_only_relu_is_accepted_at_the_decoder_end():
    decoder = reference_decoder()
    decoder.records[-2]["activation"] = "sigmoid"
    verdict = run("conv_relu", ae_inputs(decoder=decoder))
    assert verdict.fraction == 0.0
    assert "expected relu" in verdict.feedback


def batch_norm_block(layers: Layers, index: int, names: bool = False) -> None:
    """Conv2D (linear) -> BatchNormalization -> ReLU -> MaxPooling2D, Keras's auto names unless ``names``."""
    layers.conv(f"conv{index}" if names else f"conv2d_{index}", activation="linear")
    layers.batch_norm(f"bn{index}" if names else f"batch_normalization_{index}")
    layers.activation(f"relu{index}" if names else f"activation_{index}", "relu")
    layers.pool(f"pool{index}" if names else f"max_pooling2d_{index}")


def test_batch_norm_between_conv_and_relu_costs_only_the_layer_types_item():
    encoder = encoder_with(batch_norm_block)
    for check in ("conv_relu", "conv_resampling", "conv_filters", "conv_padding"):
        verdict = grade(check, encoder=encoder)
        assert verdict.fraction == 1.0, (check, verdict.feedback)
    verdict = grade("conv_layer_types", encoder=encoder)
    assert verdict.fraction == 0.0
    assert verdict.feedback == (
        "4 layers are not allowed in the encoder: BatchNormalization (layers 2, 6, 10 and 14); it may only "
        "contain Conv2D and pooling layers (Exercise 1)."
    )


def test_dropout_and_activation_layers_are_transparent_to_relu_and_resampling():
    def block(layers, index):
        layers.conv(f"conv{index}", activation="linear")
        layers.dropout(f"drop{index}").activation(f"act{index}", "relu").batch_norm(f"bn{index}")
        layers.pool(f"pool{index}")

    encoder = encoder_with(block)
    for check in ("conv_relu", "conv_resampling"):
        verdict = grade(check, encoder=encoder)
        assert verdict.fraction == 1.0, (check, verdict.feedback)


def test_batch_norm_without_relu_still_fails_relu_and_names_the_conv_once():
    def block(layers, index):
        layers.conv(f"conv{index}", activation="linear").batch_norm(f"bn{index}").pool(f"pool{index}")

    verdict = grade("conv_relu", encoder=encoder_with(block))
    assert verdict.fraction == 0.0
    assert verdict.feedback == (
        "4 layers of your encoder, Conv2D (layers 1 'conv1', 4 'conv2', 7 'conv3' and 10 'conv4'), are "
        "followed by 'linear', expected relu. Every (transposed) convolution must be followed by a ReLU."
    )


def test_the_same_padding_mistake_in_every_layer_is_one_sentence():
    def block(layers, index):
        layers.conv(f"conv2d_{index}", padding="valid").pool(f"max_pooling2d_{index}")

    verdict = grade("conv_padding", encoder=encoder_with(block))
    assert verdict.fraction == 0.0
    assert verdict.feedback == (
        "4 layers of your encoder, Conv2D (layers 1, 3, 5 and 7), use padding='valid'; use padding='same' "
        "for every (transposed) convolution."
    )


def test_the_same_filter_mistake_in_several_layers_is_one_sentence():
    def block(layers, index):
        layers.conv(f"conv{index}", filters=32).pool(f"pool{index}")

    verdict = grade("conv_filters", encoder=encoder_with(block))
    assert verdict.feedback == (
        "4 layers of your encoder, Conv2D (layers 1 'conv1', 3 'conv2', 5 'conv3' and 7 'conv4'), have 32 "
        "filters of 3x3, expected 16 of 3x3."
    )


def test_batch_norm_does_not_hide_a_missing_pooling():
    def block(layers, index):
        layers.conv(f"conv{index}").batch_norm(f"bn{index}")
        if index != 2:
            layers.pool(f"pool{index}")

    verdict = grade("conv_resampling", encoder=encoder_with(block))
    assert verdict.fraction == 0.0
    assert (
        "the 4th layer of your encoder (Conv2D 'conv2') is followed by Conv2D 'conv3' (its 6th layer), "
        "not by pooling" in verdict.feedback
    )


def test_keras_auto_names_are_not_quoted_the_position_and_type_are():
    def block(layers, index):
        name = "conv2d" if index == 1 else f"conv2d_{index + 14}"
        layers.conv(name, activation="sigmoid" if index == 3 else "relu").pool(f"max_pooling2d_{index}")

    verdict = grade("conv_relu", encoder=encoder_with(block))
    assert verdict.fraction == 0.0
    assert verdict.feedback.startswith(
        "the 5th layer of your encoder (a Conv2D) is followed by 'sigmoid', expected relu."
    )
    assert "conv2d_17" not in verdict.feedback


def test_batch_norm_layers_the_student_named_are_grouped_with_their_names():
    verdict = grade(
        "conv_layer_types", encoder=encoder_with(lambda layers, i: batch_norm_block(layers, i, True))
    )
    assert verdict.fraction == 0.0
    assert "BatchNormalization (layers 2 'bn1', 6 'bn2', 10 'bn3' and 14 'bn4')" in verdict.feedback
    assert verdict.feedback.count("BatchNormalization") == 1


# -- padding -------------------------------------------------------------------------------


def test_valid_padding_fails_padding_check():
    def block(layers, index):
        layers.conv(f"conv{index}", padding="valid" if index == 2 else "same").pool(f"pool{index}")

    verdict = grade("conv_padding", encoder=encoder_with(block))
    assert verdict.fraction == 0.0
    assert "the 3rd layer of your encoder (Conv2D 'conv2') uses padding='valid'" in verdict.feedback
    assert "use padding='same'" in verdict.feedback


def test_valid_padding_in_the_decoder_is_named():
    decoder = reference_decoder()
    decoder.records[2]["padding"] = "valid"
    verdict = grade("conv_padding", decoder=decoder)
    assert verdict.fraction == 0.0
    assert (
        "the 3rd layer of your decoder (Conv2DTranspose 'deconv2') uses padding='valid'" in verdict.feedback
    )


# -- resampling -----------------------------------------------------------------------------


def test_missing_pooling_after_a_conv_fails_resampling():
    def block(layers, index):
        layers.conv(f"conv{index}")
        if index != 2:
            layers.pool(f"pool{index}")

    verdict = grade("conv_resampling", encoder=encoder_with(block))
    assert verdict.fraction == 0.0
    assert (
        "the 3rd layer of your encoder (Conv2D 'conv2') is followed by Conv2D 'conv3' (its 4th layer), "
        "not by pooling"
    ) in verdict.feedback


def test_pooling_by_four_fails_resampling_with_the_shapes():
    def block(layers, index):
        layers.conv(f"conv{index}").pool(f"pool{index}", (4, 4) if index == 1 else (2, 2))

    verdict = grade("conv_resampling", encoder=encoder_with(block))
    assert verdict.fraction == 0.0
    assert "changes (N, 32, 32, 16) to (N, 8, 8, 16), not by a factor of 2" in verdict.feedback


def test_upsampling_by_three_in_the_decoder_fails_resampling():
    decoder = reference_decoder()
    up = decoder.records[3]
    up["size"], up["output_shape"] = [3, 3], [6, 6, 16]
    verdict = grade("conv_resampling", decoder=decoder)
    assert verdict.fraction == 0.0
    assert (
        "the 4th layer of your decoder (UpSampling2D 'up2') changes (N, 2, 2, 16) to (N, 6, 6, 16)"
        in verdict.feedback
    )


def test_final_full_resolution_conv2dtranspose_after_last_upsampling_passes():
    decoder = full_resolution_decoder("sigmoid")
    assert decoder.shape == [32, 32, 1]
    for check in (
        "conv_resampling",
        "conv_relu",
        "conv_filters",
        "conv_layer_types",
        "latent_shape",
        "conv_padding",
    ):
        verdict = grade(check, decoder=decoder)
        assert verdict.fraction == 1.0, (check, verdict.feedback)


def test_full_resolution_final_conv_is_refused_when_the_rubric_disallows_it():
    params = item_params("autoencoders", "1-resampling") | {"allow_final_full_resolution_conv": False}
    verdict = run("conv_resampling", ae_inputs(decoder=full_resolution_decoder(), params=params))
    assert verdict.fraction == 0.0
    assert (
        "the 11th layer of your decoder (Conv2DTranspose 'deconv_out') is not followed by upsampling."
        in verdict.feedback
    )


def test_missing_final_encoder_pooling_is_found_by_resampling_and_latent_shape():
    encoder = reference_encoder()
    encoder.records.pop()  # no MaxPooling2D((2, 1)): a shorter record list, nothing to zip against
    encoder.shape = encoder.records[-1]["output_shape"]
    verdict = grade("conv_resampling", encoder=encoder)
    assert verdict.fraction == 0.0
    assert (
        "the 9th layer of your encoder (Conv2D 'conv_latent') is not followed by pooling." in verdict.feedback
    )
    verdict = grade("latent_shape", encoder=encoder)
    assert verdict.fraction == 0.5
    assert "encoder output is (N, 2, 2, 1); expected (N, 1, 2, 1)" in verdict.feedback


def test_missing_last_upsampling_of_the_decoder_is_found_by_latent_shape():
    decoder = reference_decoder()
    decoder.records.pop()
    decoder.shape = decoder.records[-1]["output_shape"]
    verdict = grade("latent_shape", decoder=decoder)
    assert verdict.fraction == 0.5
    assert (
        "decoder maps (N, 1, 2, 1) to (N, 16, 16, 1); expected (N, 1, 2, 1) to (N, 32, 32, 1)"
        in verdict.feedback
    )


def test_missing_conv_block_changes_the_latent_shape():
    def block(layers, index):
        if index != 4:
            standard_block(layers, index)

    verdict = grade("latent_shape", encoder=encoder_with(block))
    assert verdict.fraction == 0.5
    assert "encoder output is (N, 2, 4, 1)" in verdict.feedback


# -- filters ------------------------------------------------------------------------------------


def test_32_filters_fail_filters_check():
    def block(layers, index):
        layers.conv(f"conv{index}", filters=32 if index == 2 else 16).pool(f"pool{index}")

    verdict = grade("conv_filters", encoder=encoder_with(block))
    assert verdict.fraction == 0.0
    assert (
        "the 3rd layer of your encoder (Conv2D 'conv2') has 32 filters of 3x3, expected 16 of 3x3"
        in verdict.feedback
    )


def test_5x5_kernel_fails_filters_check():
    decoder = reference_decoder()
    decoder.records[0]["kernel_size"] = [5, 5]
    verdict = grade("conv_filters", decoder=decoder)
    assert verdict.fraction == 0.0
    assert "has 16 filters of 5x5, expected 16 of 3x3" in verdict.feedback


def test_last_encoder_conv_with_16_filters_fails_filters_check():
    encoder = reference_encoder()
    encoder.records[-2]["filters"] = 16
    verdict = grade("conv_filters", encoder=encoder)
    assert verdict.fraction == 0.0
    assert (
        "the 9th layer of your encoder (Conv2D 'conv_latent'), its last convolution, has 16 filters, "
        "expected 1"
    ) in verdict.feedback


# -- loss ------------------------------------------------------------------------------------------


def test_bce_loss_where_mse_is_asked_fails():
    verdict = grade("compiled_loss", loss={"kind": "string", "name": "binary_crossentropy"})
    assert verdict.fraction == 0.0
    assert (
        "build_autoencoder compiles with binary cross-entropy; the exercise asks for the mean squared error"
        in verdict.feedback
    )


def test_mse_loss_object_passes():
    verdict = grade(
        "compiled_loss", loss={"kind": "object", "name": "MeanSquaredError", "from_logits": False}
    )
    assert verdict.fraction == 1.0, verdict.feedback


def _probe_value(function) -> float:
    true, pred = np.array(LOSS_PROBE_TRUE), np.array(LOSS_PROBE_PRED)
    return float(np.mean(function(true, pred)))


def test_custom_loss_function_equal_to_mse_on_probe_arrays_passes():
    value = _probe_value(lambda t, p: np.mean((t - p) ** 2, axis=-1))
    loss = {"kind": "function", "name": "my_reconstruction_loss", "module": "__main__", "value": value}
    verdict = grade("compiled_loss", loss=loss)
    assert verdict.fraction == 1.0, verdict.feedback
    assert "the mean squared error" in verdict.feedback


def test_custom_loss_function_with_another_value_fails_and_is_named():
    value = _probe_value(lambda t, p: np.sum((t - p) ** 2, axis=-1))
    loss = {"kind": "function", "name": "my_reconstruction_loss", "module": "__main__", "value": value}
    verdict = grade("compiled_loss", loss=loss)
    assert verdict.fraction == 0.0
    assert "a custom loss (my_reconstruction_loss)" in verdict.feedback


def test_uncompiled_autoencoder_fails_loss_check():
    verdict = grade("compiled_loss", loss={"kind": "none"})
    assert verdict.fraction == 0.0
    assert "no loss (the model is not compiled with one)" in verdict.feedback


# -- student errors ----------------------------------------------------------------------------------


def test_student_error_in_probe_part_raises_student_call_failed():
    error = student_error("not_implemented", "build_encoder", "")
    inputs = ae_inputs(encoder={"error": error})
    with pytest.raises(StudentCallFailed) as caught:
        run("conv_relu", inputs)
    assert caught.value.error.feedback() == "not implemented yet: build_encoder"
    assert caught.value.error.status == "failed"


def test_part_without_the_key_is_a_key_error_not_a_student_error():
    inputs = make_inputs({"ae_models": {"encoder": {"layers": []}}})
    with pytest.raises(KeyError, match="probe ae_models returned no 'decoder'"):
        inputs.part("ae_models", "decoder")


def test_missing_name_feedback_says_which_name_was_looked_for():
    error = StudentError.from_dict(student_error("missing", "build_decoder", "build_decoder is not defined"))
    assert "the grader looked for `build_decoder`" in error.feedback()
    assert error.status == "failed"


def test_exit_feedback_names_sys_exit_and_gives_no_points():
    error = StudentError.from_dict(student_error("exit", "build_encoder", "sys.exit(1)"))
    assert (
        error.feedback()
        == "your code called sys.exit(1) during build_encoder; the grader cannot give points for it."
    )
    assert error.status == "error"


def test_exception_feedback_includes_type_message_and_advice():
    raw = student_error(
        "exception",
        "sampling",
        "module 'keras.backend' has no attribute 'exp'",
        type="AttributeError",
        traceback=['File "sub.py", line 3, in sampling: return K.exp(x)'],
        advice="keras.backend.exp does not exist in Keras 3; use keras.ops.exp or tf.exp instead.",
    )
    error = StudentError.from_dict(raw)
    feedback = error.feedback()
    assert feedback.startswith(
        "sampling raised AttributeError: module 'keras.backend' has no attribute 'exp'"
    )
    assert "\nAdvice: keras.backend.exp does not exist in Keras 3" in feedback
    assert error.traceback == ('File "sub.py", line 3, in sampling: return K.exp(x)',)


def test_exception_without_advice_has_no_advice_line():
    error = StudentError.from_dict(
        student_error("exception", "knn", "division by zero", type="ZeroDivisionError")
    )
    assert error.feedback() == "knn raised ZeroDivisionError: division by zero"


def test_an_unnamed_upsampling_layer_gets_its_article():
    decoder = reference_decoder()
    up = decoder.records[3]
    up["name"], up["size"], up["output_shape"] = "up_sampling2d_7", [3, 3], [6, 6, 16]
    verdict = grade("conv_resampling", decoder=decoder)
    assert "the 4th layer of your decoder (an UpSampling2D) changes (N, 2, 2, 16) to (N, 6, 6, 16)" in (
        verdict.feedback
    )


@pytest.mark.parametrize(
    ("layer_type", "name", "own"),
    [
        ("Conv2D", "conv2d", None),
        ("Conv2D", "conv2d_15", None),
        ("Conv2DTranspose", "conv2d_transpose_3", None),
        ("BatchNormalization", "batch_normalization_2", None),
        ("MaxPooling2D", "max_pooling2d_1", None),
        ("UpSampling2D", "up_sampling2d", None),
        ("ReLU", "re_lu_4", None),
        ("LeakyReLU", "leaky_re_lu", None),
        ("Conv2D", "conv3", "conv3"),
        ("Conv2D", "enc_conv_1", "enc_conv_1"),
        ("Dense", "conv2d_2", "conv2d_2"),  # another type's auto name is the student's choice
    ],
)
def test_keras_auto_names_are_told_from_names_the_student_gave(layer_type, name, own):
    assert own_name({"type": layer_type, "name": name}) == own
