"""Exercise 6a: sampling, kl_loss, vae_loss and the VAE's architecture, on synthetic probe data.

The ``sampling`` probe calls sampling([z_mean, z_log]) on 20,000 rows of the same mean and
log (grader/assignments/autoencoders/probes.py); the samples here are drawn the way student code does.
"""

from __future__ import annotations

import numpy as np
import pytest
from check_fixtures import Layers, expected_for, make_inputs, run, student_error

from grader.assignments.autoencoders.checks.vae import SAMPLING_LOG, SAMPLING_MEAN
from grader.checks import StudentCallFailed, ground_truth

AE = expected_for("autoencoders")
ROWS = 20000


def draw(seed: int, convention: str = "log_std", std: np.ndarray | None = None) -> np.ndarray:
    """z = mean + eps * std for the probe's inputs, with a fresh eps per call."""
    eps = np.random.default_rng(seed).normal(size=(ROWS, 2))
    if std is None:
        std = np.exp(SAMPLING_LOG) if convention == "log_std" else np.exp(SAMPLING_LOG / 2)
    return (SAMPLING_MEAN + eps * std).astype(np.float32)


def sampling_probe(
    eager=None, graph=None, graph_second=None, symbolic=None, errors=None
) -> tuple[dict, dict]:
    data, arrays = {}, {}
    for case, value in (("eager", eager), ("graph", graph), ("symbolic", symbolic)):
        if value is None:
            data[case] = {"error": (errors or {}).get(case, student_error("exception", "sampling", "failed"))}
        else:
            data[case] = {"shape": list(value.shape)}
            arrays[case] = value
    if graph_second is not None:
        arrays["graph_second"] = graph_second
    return data, arrays


def correct_sampling(convention: str = "log_std") -> tuple[dict, dict]:
    return sampling_probe(draw(1, convention), draw(2, convention), draw(3, convention), draw(4, convention))


def sampling_verdict(probe: tuple[dict, dict]):
    data, arrays = probe
    return run("sampling", make_inputs({"sampling": data}, {"sampling": arrays}))


# -- sampling ---------------------------------------------------------------------------------


def test_sampling_with_log_std_passes_and_names_the_convention():
    verdict = sampling_verdict(correct_sampling("log_std"))
    assert verdict.fraction == 1.0, verdict.feedback
    assert "the log standard deviation convention" in verdict.feedback


def test_sampling_with_log_variance_convention_passes_and_names_it():
    verdict = sampling_verdict(correct_sampling("log_var"))
    assert verdict.fraction == 1.0, verdict.feedback
    assert "the log variance convention" in verdict.feedback


def test_numpy_noise_frozen_in_tf_function_fails_graph_and_lambda_parts():
    frozen = draw(2)  # np.random.normal ran once while tracing: both graph calls return it
    symbolic_error = student_error(
        "exception",
        "sampling",
        "A KerasTensor is symbolic: ... You cannot convert it to a NumPy array.",
        type="ValueError",
    )
    probe = sampling_probe(draw(1), frozen, frozen.copy(), None, {"symbolic": symbolic_error})
    verdict = sampling_verdict(probe)
    assert verdict.fraction == 0.5
    assert "inside tf.function, every call returns the same 'random' numbers" in verdict.feedback
    assert "draw it with tf.random.normal or keras.random.normal" in verdict.feedback
    assert "sampling does not work in a Lambda layer on symbolic Keras tensors" in verdict.feedback


def test_sampling_with_wrong_std_fails_the_statistics_part():
    std = np.abs(SAMPLING_LOG)  # z_mean + eps * z_log_std: the exp is missing
    eager = draw(1, std=std)
    verdict = sampling_verdict(sampling_probe(eager, draw(2, std=std), draw(3, std=std), draw(4)))
    assert verdict.fraction == 0.5
    shown = np.round(eager.astype(np.float64).std(axis=0), 2).tolist()
    assert f"samples have mean [0.5, -1.0] and std {shown}" in verdict.feedback
    assert "0000000" not in verdict.feedback  # float32 statistics are rounded for people
    assert "expected mean [0.5, -1.0] and std exp(z_log_std) = [0.61, 1.35]" in verdict.feedback


def test_sampling_that_ignores_the_mean_fails_the_statistics_part():
    eps = np.random.default_rng(5).normal(size=(ROWS, 2)).astype(np.float32)
    probe = sampling_probe(eps * np.exp(SAMPLING_LOG), draw(2), draw(3), draw(4))
    verdict = sampling_verdict(probe)
    assert verdict.fraction < 1.0
    assert "expected mean [0.5, -1.0]" in verdict.feedback


def test_sampling_not_implemented_raises_student_call_failed():
    errors = {
        case: student_error("not_implemented", "sampling", "") for case in ("eager", "graph", "symbolic")
    }
    with pytest.raises(StudentCallFailed) as caught:
        sampling_verdict(sampling_probe(errors=errors))
    assert caught.value.error.feedback() == "not implemented yet: sampling"


# -- kl_loss -------------------------------------------------------------------------------------


def kl_verdict(kl: np.ndarray, sampling_convention: str | None = "log_std", again: np.ndarray | None = None):
    arrays = {"kl_loss": {"kl": np.asarray(kl, np.float64)}}
    if again is not None:
        arrays["kl_loss"]["kl_again"] = np.asarray(again, np.float64)
    probes = {"kl_loss": {}, "sampling": {}}
    if sampling_convention is not None:
        arrays["sampling"] = {"eager": draw(1, sampling_convention)}
    return run("kl_divergence", make_inputs(probes, arrays, expected=AE))


def student_kl(convention: str = "log_std") -> np.ndarray:
    mean, log = AE["inputs"]["kl_mean"].astype(float), AE["inputs"]["kl_log"].astype(float)
    if convention == "log_std":
        return 0.5 * np.sum(mean**2 + np.exp(2 * log) - 1 - 2 * log, axis=-1)
    return -0.5 * np.sum(1 + log - mean**2 - np.exp(log), axis=-1)


@pytest.mark.parametrize("convention", ["log_std", "log_var"])
def test_kl_in_the_same_convention_as_sampling_passes(convention):
    verdict = kl_verdict(student_kl(convention), convention)
    assert verdict.fraction == 1.0, verdict.feedback


def test_kl_passes_when_sampling_failed_and_names_the_recognised_convention():
    verdict = kl_verdict(student_kl("log_var"), sampling_convention=None)
    assert verdict.fraction == 1.0
    assert "the log variance convention" in verdict.feedback


def test_kl_that_is_the_same_on_a_second_call_passes():
    verdict = kl_verdict(student_kl(), again=student_kl())
    assert verdict.fraction == 1.0, verdict.feedback


def test_a_monte_carlo_kl_is_named_as_such_not_as_a_wrong_formula():
    # TensorFlow's CVAE tutorial: log q(z|x) - log p(z) at one sampled z, a new value per call.
    mean, log = AE["inputs"]["kl_mean"].astype(float), AE["inputs"]["kl_log"].astype(float)
    rng = np.random.default_rng(0)

    def estimate() -> np.ndarray:
        z = mean + np.exp(log) * rng.standard_normal(mean.shape)
        log_q = -0.5 * (((z - mean) / np.exp(log)) ** 2 + 2 * log + np.log(2 * np.pi))
        log_p = -0.5 * (z**2 + np.log(2 * np.pi))
        return np.sum(log_q - log_p, axis=-1)

    verdict = kl_verdict(estimate(), again=estimate())
    assert verdict.fraction == 0.0
    assert "kl_loss returns different values when called twice" in verdict.feedback
    assert "a Monte Carlo estimate" in verdict.feedback
    assert "The exercise asks for the closed form" in verdict.feedback
    assert "expected" not in verdict.feedback  # not the wrong-formula message


def test_kl_with_flipped_sign_fails():
    verdict = kl_verdict(-student_kl())
    assert verdict.fraction == 0.0
    assert "kl_loss has the wrong sign: the KL divergence is never negative" in verdict.feedback


def test_kl_convention_inconsistent_with_sampling_fails():
    verdict = kl_verdict(student_kl("log_std"), sampling_convention="log_var")
    assert verdict.fraction == 0.0
    assert "kl_loss treats the second input as the log standard deviation" in verdict.feedback
    assert "but sampling treats it as the log variance; use one convention in both" in verdict.feedback


def test_kl_that_mixes_the_conventions_within_its_formula_says_so():
    # exp(2 * log) is the variance of a log std, but "- log" is the log term of a log variance.
    mean, log = AE["inputs"]["kl_mean"].astype(float), AE["inputs"]["kl_log"].astype(float)
    verdict = kl_verdict(0.5 * np.sum(mean**2 + np.exp(2 * log) - 1 - log, axis=-1))
    assert verdict.fraction == 0.0
    assert (
        "kl_loss mixes the two conventions: its variance term exp(2 * z_log_std) treats the second input as "
        "the log standard deviation, but its log term z_log_std treats it as the log variance (sampling "
        "treats it as the log standard deviation); use one convention throughout" in verdict.feedback
    )


def test_kl_that_mixes_the_conventions_the_other_way_says_so_without_sampling():
    mean, log = AE["inputs"]["kl_mean"].astype(float), AE["inputs"]["kl_log"].astype(float)
    verdict = kl_verdict(0.5 * np.sum(mean**2 + np.exp(log) - 1 - 2 * log, axis=-1), sampling_convention=None)
    assert verdict.fraction == 0.0
    assert (
        "its variance term exp(z_log_std) treats the second input as the log variance, but its log term "
        "2 * z_log_std treats it as the log standard deviation; use one convention" in verdict.feedback
    )


def test_kl_batch_mean_instead_of_per_sample_fails():
    verdict = kl_verdict(np.array(student_kl().mean()))
    assert verdict.fraction == 0.0
    assert "kl_loss returns the batch mean; it should return one KL value per sample" in verdict.feedback


def test_kl_not_summed_over_latent_dimensions_fails_on_shape():
    mean, log = AE["inputs"]["kl_mean"].astype(float), AE["inputs"]["kl_log"].astype(float)
    verdict = kl_verdict(0.5 * (mean**2 + np.exp(2 * log) - 1 - 2 * log))
    assert verdict.fraction == 0.0
    assert "kl_loss returned shape (8, 2); expected one value per sample, (8,)" in verdict.feedback


def test_kl_with_a_wrong_formula_shows_an_expected_value():
    verdict = kl_verdict(student_kl() + 1.0)
    assert verdict.fraction == 0.0
    expected = ground_truth.kl_divergence(
        AE["inputs"]["kl_mean"].astype(float), AE["inputs"]["kl_log"].astype(float)
    )
    assert f"expected {expected[1]:.4f}, got {expected[1] + 1:.4f}" in verdict.feedback


# -- vae_loss ------------------------------------------------------------------------------------


def vae_loss_verdict(reconstruction: list, divergence: list):
    return run(
        "vae_loss_terms",
        make_inputs({"vae_loss": {"reconstruction": reconstruction, "divergence": divergence}}),
    )


def test_vae_loss_growing_in_both_terms_passes():
    verdict = vae_loss_verdict([50.0, 80.0, 160.0, 300.0], [50.0, 50.25, 52.25, 59.0])
    assert verdict.fraction == 1.0, verdict.feedback


def test_vae_loss_without_kl_fails_half():
    verdict = vae_loss_verdict([50.0, 80.0, 160.0, 300.0], [50.0, 50.0, 50.0, 50.0])
    assert verdict.fraction == 0.5
    assert "vae_loss does not grow when the latent means move away from 0 (the KL term)" in verdict.feedback
    assert "is that term in the loss?" in verdict.feedback


def test_vae_loss_with_flipped_kl_sign_fails_half():
    verdict = vae_loss_verdict([50.0, 80.0, 160.0, 300.0], [50.0, 49.75, 47.75, 41.0])
    assert verdict.fraction == 0.5
    assert (
        "vae_loss falls when the latent means move away from 0 (the KL term): check the sign of that term"
        in verdict.feedback
    )


def test_vae_loss_nan_fails_that_part():
    verdict = vae_loss_verdict([None, None, None, None], [50.0, 50.25, 52.25, 59.0])
    assert verdict.fraction == 0.5
    assert "vae_loss is NaN or infinite when the reconstruction gets worse" in verdict.feedback


# -- architecture ----------------------------------------------------------------------------------


def vae_encoder(lambda_layer: bool = True, dense_first: bool = False) -> dict:
    layers = Layers([32, 32, 1])
    if dense_first:
        layers.flatten("flat_in").dense("hidden_in", 64, "relu").dense("to_map", 1024, "relu").reshape(
            "map", [32, 32, 1]
        )
    layers.conv("conv1", 32).pool("pool1").conv("conv2", 64).pool("pool2").flatten().dense(
        "hidden", 64, "relu"
    )
    layers.dense("z_mean", 2).dense("z_log_std", 2)
    if lambda_layer:
        layers.lambda_layer("z", "sampling", [2])
    else:
        layers._add({"name": "sampling_layer", "type": "Sampling"}, [2])
    return layers.describe(outputs=[[2], [2], [2]])


def vae_decoder(dense_after_conv: bool = False) -> dict:
    layers = Layers([2]).dense("hidden", 2048, "relu").reshape("reshape", [8, 8, 32])
    layers.deconv("deconv1", 32).up("up1").deconv("deconv2", 16).up("up2")
    if dense_after_conv:
        layers.flatten().dense("pixels", 1024, "sigmoid").reshape("image", [32, 32, 1])
    else:
        layers.deconv("image", 1, activation="sigmoid")
    return layers.describe()


def architecture_verdict(encoder=None, decoder=None, vae=None):
    probe = {
        "encoder": encoder or vae_encoder(),
        "decoder": decoder or vae_decoder(),
        "vae": vae or {"compiled": True, "loss": {"kind": "none"}, "optimizer": "Adam"},
    }
    return run("vae_architecture", make_inputs({"vae_models": probe}))


def test_reference_like_vae_architecture_passes():
    verdict = architecture_verdict()
    assert verdict.fraction == 1.0, verdict.feedback


def test_vae_encoder_without_a_sampling_layer_fails_the_encoder_part():
    verdict = architecture_verdict(encoder=vae_encoder(lambda_layer=False))  # only Keras's own layers
    assert verdict.fraction == pytest.approx(2 / 3)
    assert (
        "the encoder has no sampling layer: wrap sampling in keras.layers.Lambda (or in a Layer of your own)"
        in verdict.feedback
    )


def test_vae_encoder_with_a_sampling_layer_of_the_student_s_own_passes():
    # keras.io's VAE example: class Sampling(layers.Layer) in the student's module.
    encoder = vae_encoder(lambda_layer=False)
    encoder["layers"][-1]["module"] = "submission"
    verdict = architecture_verdict(encoder=encoder)
    assert verdict.fraction == 1.0, verdict.feedback
    assert "sampling is a layer of the encoder" in verdict.feedback


def test_vae_encoder_with_dense_before_a_conv_fails_the_encoder_part():
    verdict = architecture_verdict(encoder=vae_encoder(dense_first=True))
    assert verdict.fraction == pytest.approx(2 / 3)
    assert (
        "only the encoder's last layers may be Dense; Dense 'hidden_in' comes before a conv"
        in verdict.feedback
    )


def test_vae_encoder_with_two_outputs_fails():
    encoder = vae_encoder()
    encoder["output_shapes"] = [[2], [2]]
    verdict = architecture_verdict(encoder=encoder)
    assert verdict.fraction == pytest.approx(2 / 3)
    assert "the encoder should output [z_mean, z_log_std, z], each (N, 2)" in verdict.feedback


def test_vae_decoder_with_dense_after_the_convs_fails_the_decoder_part():
    verdict = architecture_verdict(decoder=vae_decoder(dense_after_conv=True))
    assert verdict.fraction == pytest.approx(2 / 3)
    assert "only the decoder's first layer may be Dense; found Dense 'pixels'" in verdict.feedback


def test_uncompiled_vae_fails_the_compile_part():
    verdict = architecture_verdict(vae={"compiled": False, "loss": {"kind": "none"}})
    assert verdict.fraction == pytest.approx(2 / 3)
    assert "build_vae should return a compiled model" in verdict.feedback


def test_vae_decoder_error_raises_student_call_failed():
    probe = {
        "encoder": vae_encoder(),
        "decoder": {"error": student_error("missing", "build_vae_decoder", "")},
    }
    with pytest.raises(StudentCallFailed) as caught:
        run("vae_architecture", make_inputs({"vae_models": probe}))
    assert "the grader looked for `build_vae_decoder`" in caught.value.error.feedback()


def test_sampling_that_reads_a_static_shape_fails_on_an_unknown_batch_size_and_says_why():
    # TF's CVAE tutorial: eps = tf.random.normal(shape=mean.shape), right eagerly, broken in any model.
    graph_error = student_error(
        "exception",
        "sampling",
        "Cannot convert a partially known TensorShape (None, 2) to a Tensor.",
        type="ValueError",
    )
    lambda_error = student_error(
        "exception",
        "sampling",
        "Exception encountered when calling Lambda.call().\n\n\x1b[1mWe could not automatically infer "
        "the shape "
        "of the Lambda's output. Please specify the `output_shape` argument for this Lambda layer.\x1b[0m",
        type="NotImplementedError",
    )
    probe = sampling_probe(draw(1), None, None, None, {"graph": graph_error, "symbolic": lambda_error})
    verdict = sampling_verdict(probe)
    assert verdict.fraction == 0.5
    assert (
        "inside tf.function with an unknown batch size (input_signature (None, 2)), sampling raised "
        "ValueError: Cannot convert a partially known TensorShape (None, 2) to a Tensor;" in verdict.feedback
    )
    assert (
        "(NotImplementedError: We could not automatically infer the shape of the Lambda's output"
        in verdict.feedback
    )
    assert verdict.feedback.count("z_mean.shape is not known") == 1
    assert "use tf.shape(z_mean) or keras.ops.shape(z_mean)" not in verdict.feedback  # said as below
    assert (
        "draw the noise with shape tf.shape(z_mean) or keras.ops.shape(z_mean), not z_mean.shape"
        in verdict.feedback
    )
    assert "no NumPy" not in verdict.feedback and "Exception encountered" not in verdict.feedback


def test_numpy_noise_that_fails_on_an_unknown_batch_is_still_told_it_repeats():
    # np.random.normal(size=z_mean.shape) raises on (None, 2); traced at a fixed batch it repeats.
    frozen = draw(2)
    graph_error = student_error(
        "exception", "sampling", "'NoneType' object cannot be interpreted as an integer", type="TypeError"
    )
    data, arrays = sampling_probe(draw(1), None, None, None, {"graph": graph_error})
    data["graph_fixed"] = {"shape": list(frozen.shape)}
    arrays |= {"graph_fixed": frozen, "graph_fixed_second": frozen.copy()}
    verdict = sampling_verdict((data, arrays))
    assert verdict.fraction == 0.5
    assert "inside tf.function, every call returns the same 'random' numbers" in verdict.feedback
    assert "z_mean.shape is not known" not in verdict.feedback
