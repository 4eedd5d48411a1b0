"""reference/autoencoders.py (seed 003) against hand-computed and NumPy ground truth.

Training uses tiny budgets (a few hundred random images, 1-2 epochs): these tests check
the plumbing, not the calibrated quality.
"""

from __future__ import annotations

import keras
import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
import tensorflow as tf
from keras import layers
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure

from reference import autoencoders as ae

POOLING = (layers.MaxPooling2D, layers.AveragePooling2D)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def encoder() -> keras.Model:
    return ae.build_encoder()


@pytest.fixture(scope="module")
def decoder() -> keras.Model:
    return ae.build_decoder()


def _images(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((n, 32, 32, 1)).astype(np.float32)


def _spatial(shape) -> tuple[int, int]:
    return tuple(shape[1:3])


def _kl_numpy(mu, log_std) -> np.ndarray:
    """0.5 * sum(mu^2 + sigma^2 - 1 - log sigma^2) with sigma = exp(log_std)."""
    mu, sigma = np.asarray(mu, np.float64), np.exp(np.asarray(log_std, np.float64))
    return 0.5 * np.sum(mu**2 + sigma**2 - 1.0 - np.log(sigma**2), axis=-1)


# ---------------------------------------------------------------------------
# Exercise 1: the convolutional autoencoder
# ---------------------------------------------------------------------------


def test_encoder_maps_32x32_images_to_1x2x1_codes(encoder):
    assert encoder.output_shape == (None, 1, 2, 1)
    assert encoder.predict(_images(5), verbose=0).shape == (5, 1, 2, 1)


def test_decoder_maps_1x2x1_codes_to_32x32_images(decoder):
    assert decoder.input_shape == (None, 1, 2, 1)
    codes = np.random.default_rng(1).random((5, 1, 2, 1)).astype(np.float32)
    assert decoder.predict(codes, verbose=0).shape == (5, 32, 32, 1)


def test_encoder_has_only_conv2d_and_pooling_layers(encoder):
    kinds = [layer for layer in encoder.layers if not isinstance(layer, layers.InputLayer)]
    assert kinds
    assert all(type(layer) is layers.Conv2D or isinstance(layer, POOLING) for layer in kinds)


def test_decoder_has_only_conv2d_transpose_and_upsampling_layers(decoder):
    kinds = [layer for layer in decoder.layers if not isinstance(layer, layers.InputLayer)]
    assert kinds
    assert all(isinstance(layer, (layers.Conv2DTranspose, layers.UpSampling2D)) for layer in kinds)


@pytest.mark.parametrize(
    ("which", "conv_type"), [("encoder", layers.Conv2D), ("decoder", layers.Conv2DTranspose)]
)
def test_convs_have_relu_same_padding_3x3_and_16_filters_except_the_last(request, which, conv_type):
    model = request.getfixturevalue(which)
    convs = [layer for layer in model.layers if type(layer) is conv_type]
    assert len(convs) >= 4
    for conv in convs:
        assert conv.get_config()["activation"] == "relu", conv.name
        assert conv.padding == "same", conv.name
        assert tuple(conv.kernel_size) == (3, 3), conv.name
        assert _spatial(conv.output.shape) == _spatial(conv.input.shape), conv.name
    assert [conv.filters for conv in convs[:-1]] == [16] * (len(convs) - 1)
    assert convs[-1].filters == 1  # the last encoder conv yields the 1-channel code; the decoder's the image


@pytest.mark.parametrize("which", ["encoder", "decoder"])
def test_each_conv_is_followed_by_resampling_by_a_factor_of_2(request, which):
    model = request.getfixturevalue(which)
    body = [layer for layer in model.layers if not isinstance(layer, layers.InputLayer)]
    convs = [i for i, layer in enumerate(body) if isinstance(layer, (layers.Conv2D, layers.Conv2DTranspose))]
    for i in convs:
        assert i + 1 < len(body), f"{body[i].name} is not followed by resampling"
        resample = body[i + 1]
        before, after = _spatial(resample.input.shape), _spatial(resample.output.shape)
        if which == "encoder":
            assert isinstance(resample, POOLING)
            ratios = [b / a for b, a in zip(before, after, strict=True)]
        else:
            assert isinstance(resample, layers.UpSampling2D)
            ratios = [a / b for b, a in zip(before, after, strict=True)]
        assert set(ratios) <= {1.0, 2.0} and 2.0 in ratios, (resample.name, before, after)


def test_last_encoder_conv_has_1_filter_and_its_pooling_yields_the_1x2x1_code(encoder):
    body = [layer for layer in encoder.layers if not isinstance(layer, layers.InputLayer)]
    assert isinstance(body[-2], layers.Conv2D) and body[-2].filters == 1
    assert tuple(body[-1].output.shape[1:]) == (1, 2, 1)


def test_autoencoder_is_decoder_of_encoder_and_compiled_with_mse(encoder, decoder):
    autoencoder = ae.build_autoencoder(encoder, decoder)
    x = _images(8, seed=2)
    prediction = autoencoder.predict(x, verbose=0)
    composed = decoder.predict(encoder.predict(x, verbose=0), verbose=0)
    np.testing.assert_allclose(prediction, composed, atol=1e-5)
    loss = autoencoder.evaluate(x, x, batch_size=len(x), verbose=0)
    loss = loss[0] if isinstance(loss, list) else loss
    assert loss == pytest.approx(np.mean((prediction.astype(np.float64) - x) ** 2), rel=1e-4)


# ---------------------------------------------------------------------------
# Exercise 6: the VAE's losses and sampling
# ---------------------------------------------------------------------------


def test_kl_loss_is_zero_for_the_standard_normal():
    kl = np.asarray(ae.kl_loss(tf.zeros((3, 2)), tf.zeros((3, 2))))
    assert kl.shape == (3,)
    np.testing.assert_allclose(kl, 0.0, atol=1e-7)


def test_kl_loss_on_hand_computed_values():
    # sigma = exp(log_std): row 0 sigma = (1, 2); row 1 sigma = (e^-1, 1).
    mu = np.array([[1.0, 2.0], [0.0, -3.0]], np.float32)
    log_std = np.array([[0.0, np.log(2.0)], [-1.0, 0.0]], np.float32)
    by_hand = [
        0.5 * ((1 + 1 - 1 - 0) + (4 + 4 - 1 - np.log(4.0))),
        0.5 * ((0 + np.exp(-2.0) - 1 + 2.0) + (9 + 1 - 1 - 0)),
    ]
    kl = np.asarray(ae.kl_loss(tf.constant(mu), tf.constant(log_std)))
    assert kl.shape == (2,)
    np.testing.assert_allclose(kl, by_hand, rtol=1e-5)
    np.testing.assert_allclose(kl, _kl_numpy(mu, log_std), rtol=1e-5)


def test_kl_loss_matches_the_closed_form_on_random_values():
    rng = np.random.default_rng(3)
    mu = rng.normal(size=(50, 2)).astype(np.float32)
    log_std = rng.normal(scale=0.7, size=(50, 2)).astype(np.float32)
    kl = np.asarray(ae.kl_loss(tf.constant(mu), tf.constant(log_std)))
    assert kl.shape == (50,)
    np.testing.assert_allclose(kl, _kl_numpy(mu, log_std), rtol=1e-5, atol=1e-6)
    assert (kl > 0).all()


def _vae_loss(x, x_rec, mu, log_std) -> float:
    return float(np.mean(np.asarray(ae.vae_loss(x, x_rec, tf.constant(mu), tf.constant(log_std)))))


def test_vae_loss_increases_when_the_reconstruction_gets_worse():
    x = (np.random.default_rng(4).random((6, 32, 32, 1)) > 0.7).astype(np.float32)
    mu, log_std = np.zeros((6, 2), np.float32), np.zeros((6, 2), np.float32)
    good = np.clip(x, 0.05, 0.95)
    fair = np.full_like(x, 0.5)
    bad = 1.0 - good
    losses = [_vae_loss(x, rec, mu, log_std) for rec in (good, fair, bad)]
    assert losses[0] < losses[1] < losses[2]


def test_vae_loss_increases_by_the_kl_as_the_mean_moves_away_from_0():
    x = (np.random.default_rng(5).random((4, 32, 32, 1)) > 0.7).astype(np.float32)
    x_rec = np.clip(x, 0.1, 0.9)
    log_std = np.zeros((4, 2), np.float32)
    means = [np.full((4, 2), m, np.float32) for m in (0.0, 0.5, 2.0)]
    losses = [_vae_loss(x, x_rec, mu, log_std) for mu in means]
    assert losses[0] < losses[1] < losses[2]
    # Reconstruction plus KL: with the reconstruction fixed, the loss moves by the mean KL.
    for mu, loss in zip(means[1:], losses[1:], strict=True):
        assert loss - losses[0] == pytest.approx(np.mean(_kl_numpy(mu, log_std)), rel=1e-3)


def test_sampling_returns_the_shape_of_its_inputs():
    z = ae.sampling([tf.zeros((7, 2)), tf.zeros((7, 2))])
    assert tuple(z.shape) == (7, 2)


def test_sampling_statistics_match_mean_and_exp_log_std():
    tf.random.set_seed(0)
    n = 100_000
    mean = np.array([1.5, -2.0], np.float32)
    std = np.array([0.5, 2.0], np.float32)
    z = np.asarray(
        ae.sampling([tf.constant(np.tile(mean, (n, 1))), tf.constant(np.tile(np.log(std), (n, 1)))])
    )
    assert z.shape == (n, 2)
    assert (np.abs(z.mean(axis=0) - mean) < 4 * std / np.sqrt(n)).all()  # 4 standard errors
    np.testing.assert_allclose(z.std(axis=0), std, rtol=0.02)
    assert abs(np.corrcoef(z.T)[0, 1]) < 0.02


def test_sampling_is_elementwise_with_standard_normal_noise():
    tf.random.set_seed(1)
    rng = np.random.default_rng(6)
    mean = rng.normal(scale=3.0, size=(50_000, 2)).astype(np.float32)
    log_std = rng.normal(scale=0.5, size=(50_000, 2)).astype(np.float32)
    z = np.asarray(ae.sampling([tf.constant(mean), tf.constant(log_std)]))
    eps = (z - mean) / np.exp(log_std)
    assert abs(eps.mean()) < 0.02
    assert eps.std() == pytest.approx(1.0, abs=0.02)


def test_sampling_works_in_tf_function_with_unknown_batch_and_draws_fresh_noise():
    spec = tf.TensorSpec((None, 2), tf.float32)
    graph_sampling = tf.function(lambda m, s: ae.sampling([m, s]), input_signature=[spec, spec])
    mean, log_std = tf.fill((5, 2), 3.0), tf.zeros((5, 2))
    first, second = graph_sampling(mean, log_std).numpy(), graph_sampling(mean, log_std).numpy()
    assert first.shape == (5, 2)
    assert not np.allclose(first, second)  # noise is drawn per call, not frozen at tracing
    tiny = graph_sampling(mean, tf.fill((5, 2), -30.0)).numpy()
    np.testing.assert_allclose(tiny, 3.0, atol=1e-6)


def test_sampling_works_on_symbolic_keras_tensors_in_a_lambda_layer():
    mean_in, log_std_in = keras.Input((2,)), keras.Input((2,))
    z = layers.Lambda(ae.sampling, output_shape=(2,))([mean_in, log_std_in])
    model = keras.Model([mean_in, log_std_in], z)
    mean = np.arange(8, dtype=np.float32).reshape(4, 2)
    deterministic = model.predict([mean, np.full((4, 2), -30.0, np.float32)], verbose=0)
    np.testing.assert_allclose(deterministic, mean, atol=1e-5)
    noisy = model.predict([mean, np.zeros((4, 2), np.float32)], verbose=0)
    assert noisy.shape == (4, 2) and not np.allclose(noisy, mean, atol=1e-3)


# ---------------------------------------------------------------------------
# Exercise 6: the VAE's models
# ---------------------------------------------------------------------------


def test_vae_encoder_outputs_mean_log_std_and_a_sampled_z_each_n_by_2():
    vae_encoder = ae.build_vae_encoder()
    outputs = vae_encoder.predict(_images(4, seed=7), verbose=0)
    assert len(outputs) == 3
    assert [np.shape(o) for o in outputs] == [(4, 2)] * 3
    assert any(isinstance(layer, layers.Lambda) for layer in vae_encoder.layers)
    again = vae_encoder.predict(_images(4, seed=7), verbose=0)
    np.testing.assert_allclose(again[0], outputs[0], atol=1e-6)  # the mean is deterministic
    np.testing.assert_allclose(again[1], outputs[1], atol=1e-6)
    assert not np.allclose(again[2], outputs[2])  # z is sampled


def test_vae_encoder_is_convolutional_with_dense_layers_only_at_the_end():
    vae_encoder = ae.build_vae_encoder()
    kinds = [layer for layer in vae_encoder.layers if not isinstance(layer, layers.InputLayer)]
    conv_positions = [i for i, layer in enumerate(kinds) if isinstance(layer, layers.Conv2D)]
    dense_positions = [i for i, layer in enumerate(kinds) if isinstance(layer, layers.Dense)]
    assert conv_positions
    assert not dense_positions or min(dense_positions) > max(conv_positions)


def test_vae_decoder_maps_n_by_2_codes_to_32x32_images_with_dense_only_first():
    vae_decoder = ae.build_vae_decoder()
    assert vae_decoder.input_shape == (None, 2)
    codes = np.random.default_rng(8).normal(size=(3, 2)).astype(np.float32)
    assert vae_decoder.predict(codes, verbose=0).shape == (3, 32, 32, 1)
    kinds = [layer for layer in vae_decoder.layers if not isinstance(layer, layers.InputLayer)]
    assert any(isinstance(layer, layers.Conv2DTranspose) for layer in kinds)
    assert all(not isinstance(layer, layers.Dense) for layer in kinds[1:])


def test_build_vae_trains_one_epoch_with_a_finite_nonzero_loss():
    tf.random.set_seed(2)
    x = (np.random.default_rng(9).random((128, 32, 32, 1)) > 0.8).astype(np.float32)
    vae = ae.build_vae(ae.build_vae_encoder(), ae.build_vae_decoder())
    history = vae.fit(x, epochs=1, batch_size=64, verbose=0)
    losses = history.history["loss"]
    assert len(losses) == 1
    assert np.isfinite(losses[0]) and losses[0] > 0


def test_vae_constants():
    assert ae.VAE_EPOCHS >= 30
    assert 90 <= ae.EXPECTED_RANDOM_CORRECT <= 110
    assert "cross" in ae.CLASSIFICATION_LOSS.lower() and "entropy" in ae.CLASSIFICATION_LOSS.lower()


# ---------------------------------------------------------------------------
# Exercise 3: 1-NN per digit
# ---------------------------------------------------------------------------


def test_knn_per_digit_accuracy_on_a_hand_made_latent_set():
    # One training code per digit d at (10 d, 0). Each test code sits next to the training
    # code of the digit it should be classified as; (true digit, predicted digit) pairs:
    pairs = (
        [(0, 0), (0, 0)]  # digit 0: 2/2 -> 100 %
        + [(1, 1), (1, 7)]  # digit 1: 1/2 -> 50 %
        + [(2, 5), (2, 3), (2, 3)]  # digit 2: 0/3 -> 0 %
        + [(3, 3), (3, 8), (3, 8), (3, 8)]  # digit 3: 1/4 -> 25 %
        + [(4, 4)]  # digit 4: 1/1 -> 100 %
        + [(5, 5), (5, 5), (5, 6)]  # digit 5: 2/3 -> 66.67 %
        + [(6, 0)]  # digit 6: 0/1 -> 0 %
        + [(7, 7), (7, 7), (7, 7), (7, 1)]  # digit 7: 3/4 -> 75 %
        + [(8, 8)]  # digit 8: 1/1 -> 100 %
        + [(9, 9), (9, 4), (9, 4), (9, 4), (9, 4)]  # digit 9: 1/5 -> 20 %
    )
    z_train = np.array([[10.0 * d, 0.0] for d in range(10)], np.float32)
    y_train = np.arange(10, dtype=np.int64)
    z_test = np.array([[10.0 * p + 0.3 * (i % 3), 1.0] for i, (_, p) in enumerate(pairs)], np.float32)
    y_test = np.array([t for t, _ in pairs], np.int64)
    result = np.asarray(ae.knn_per_digit_accuracy(z_train, y_train, z_test, y_test))
    assert result.shape == (10,)
    np.testing.assert_allclose(result, [100, 50, 0, 25, 100, 200 / 3, 0, 75, 100, 20], atol=1e-9)


def test_knn_per_digit_accuracy_equals_brute_force_numpy_1nn():
    rng = np.random.default_rng(10)
    z_train, z_test = rng.normal(size=(400, 2)), rng.normal(size=(300, 2))
    y_train, y_test = rng.integers(0, 10, 400), rng.integers(0, 10, 300)
    y_train[:10], y_test[:10] = np.arange(10), np.arange(10)
    distances = np.linalg.norm(z_test[:, None, :] - z_train[None, :, :], axis=-1)
    correct = y_train[distances.argmin(axis=1)] == y_test
    expected = [100.0 * correct[y_test == d].sum() / (y_test == d).sum() for d in range(10)]
    result = np.asarray(
        ae.knn_per_digit_accuracy(
            z_train.astype(np.float32),
            y_train.astype(np.int64),
            z_test.astype(np.float32),
            y_test.astype(np.int64),
        )
    )
    assert result.shape == (10,)
    np.testing.assert_allclose(result, expected, atol=1e-9)
    assert (result >= 0).all() and (result <= 100).all() and result.max() > 1  # percent, not a fraction


# ---------------------------------------------------------------------------
# Exercise 5: the latent grid
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("n", [15, 4])
def test_latent_grid_is_n_by_n_equidistant_from_top_left_to_bottom_right(n):
    z_min, z_max = np.array([-3.0, -1.0], np.float32), np.array([5.0, 2.5], np.float32)
    grid = np.asarray(ae.latent_grid(z_min, z_max, n=n))
    assert grid.shape == (n, n, 2)
    np.testing.assert_array_equal(grid[0, 0], [z_min[0], z_max[1]])  # top left
    np.testing.assert_array_equal(grid[-1, -1], [z_max[0], z_min[1]])  # bottom right
    np.testing.assert_array_equal(grid[0, -1], [z_max[0], z_max[1]])
    np.testing.assert_array_equal(grid[-1, 0], [z_min[0], z_min[1]])
    # z[0] is constant down a column and rises by equal steps to the right;
    # z[1] is constant along a row and falls by equal steps downwards.
    np.testing.assert_allclose(grid[:, :, 0], np.broadcast_to(grid[0, :, 0], (n, n)), atol=0)
    np.testing.assert_allclose(grid[:, :, 1], np.broadcast_to(grid[:, :1, 1], (n, n)), atol=0)
    np.testing.assert_allclose(np.diff(grid[0, :, 0]), 8.0 / (n - 1), rtol=1e-5)
    np.testing.assert_allclose(np.diff(grid[:, 0, 1]), -3.5 / (n - 1), rtol=1e-5)


def test_latent_grid_default_n_is_15():
    assert np.shape(ae.latent_grid(np.array([-3.0, -3.0]), np.array([3.0, 3.0]))) == (15, 15, 2)


H, W = 3, 4  # non-square images catch a swapped height and width
PATTERN_A = np.arange(H * W, dtype=np.float32).reshape(H, W)
PATTERN_B = np.array([[1, 0, 0, 2], [0, 3, 0, 0], [0, 0, 0, 5]], np.float32)


def _linear_decoder(input_shape: tuple[int, ...]) -> keras.Model:
    """image(a, b) = a * PATTERN_A + b * PATTERN_B, built from a Dense layer with fixed weights."""
    code = keras.Input(shape=input_shape)
    flat = layers.Flatten()(code) if len(input_shape) > 1 else code
    dense = layers.Dense(H * W, use_bias=True)
    image = layers.Reshape((H, W, 1))(dense(flat))
    dense.set_weights([np.stack([PATTERN_A.ravel(), PATTERN_B.ravel()]), np.zeros(H * W, np.float32)])
    return keras.Model(code, image)


@pytest.mark.parametrize("input_shape", [(2,), (1, 2, 1)])
def test_decode_grid_tiles_the_decoded_images_row_major(input_shape):
    grid = np.array(
        [
            [[-1.0, 2.0], [0.0, 2.0], [1.0, 2.0]],
            [[-1.0, 0.5], [0.0, 0.5], [1.0, 0.5]],
            [[-1.0, -1.0], [0.0, -1.0], [1.0, -1.0]],
        ],
        np.float32,
    )
    n = 3
    expected = np.zeros((n * H, n * W))
    for i in range(n):
        for j in range(n):
            a, b = grid[i, j]
            expected[i * H : (i + 1) * H, j * W : (j + 1) * W] = a * PATTERN_A + b * PATTERN_B
    mosaic = np.asarray(ae.decode_grid(_linear_decoder(input_shape), grid))
    assert mosaic.shape == (n * H, n * W)
    np.testing.assert_allclose(mosaic, expected, atol=1e-5)


def test_decode_grid_of_latent_grid_with_the_reference_decoder(decoder):
    grid = ae.latent_grid(np.array([0.0, 0.0]), np.array([2.0, 3.0]), n=2)
    mosaic = np.asarray(ae.decode_grid(decoder, grid))
    assert mosaic.shape == (64, 64)
    bottom_left = decoder.predict(grid[1, 0].reshape(1, 1, 2, 1), verbose=0)[0, :, :, 0]
    np.testing.assert_allclose(mosaic[32:, :32], bottom_left, atol=1e-5)


# ---------------------------------------------------------------------------
# Plots
# ---------------------------------------------------------------------------


def _shown_images(fig: Figure) -> list[np.ndarray]:
    return [np.asarray(im.get_array()) for ax in fig.axes for im in ax.images]


def test_plots_use_the_agg_backend():
    assert matplotlib.get_backend().lower() == "agg"


@pytest.mark.parametrize("n", [10, 4])
def test_plot_reconstructions_shows_n_originals_and_n_reconstructions(n):
    x = _images(12, seed=11)
    x_rec = 1.0 - x
    fig = ae.plot_reconstructions(x, x_rec) if n == 10 else ae.plot_reconstructions(x, x_rec, n=n)
    assert isinstance(fig, Figure)
    shown = _shown_images(fig)
    assert len(shown) == 2 * n
    for i in range(n):
        assert any(np.allclose(np.squeeze(a), x[i, :, :, 0]) for a in shown), f"original {i} not shown"
        assert any(np.allclose(np.squeeze(a), x_rec[i, :, :, 0]) for a in shown), f"reconstruction {i}"


def test_plot_loss_draws_the_loss_and_val_loss_curves():
    history = keras.callbacks.History()
    history.history = {"loss": [0.9, 0.5, 0.3], "val_loss": [1.0, 0.7, 0.6]}
    fig = ae.plot_loss(history)
    assert isinstance(fig, Figure)
    curves = [list(line.get_ydata()) for ax in fig.axes for line in ax.get_lines()]
    assert [0.9, 0.5, 0.3] in curves and [1.0, 0.7, 0.6] in curves


def test_plot_latent_scatters_every_point_coloured_with_a_colorbar_or_legend():
    rng = np.random.default_rng(12)
    z, y = rng.normal(size=(50, 2)).astype(np.float32), np.arange(50) % 10
    fig = ae.plot_latent(z, y)
    assert isinstance(fig, Figure)
    offsets = np.concatenate(
        [c.get_offsets() for ax in fig.axes for c in ax.collections if isinstance(c, PathCollection)]
    )
    assert offsets.shape == (50, 2)
    np.testing.assert_allclose(np.sort(offsets, axis=0), np.sort(z, axis=0), atol=1e-6)
    has_legend = any(ax.get_legend() is not None for ax in fig.axes) or bool(fig.legends)
    assert has_legend or len(fig.axes) >= 2  # a colorbar has its own axes


def test_plot_grid_shows_the_mosaic():
    mosaic = np.random.default_rng(13).random((6, 6))
    fig = ae.plot_grid(mosaic, np.array([-3.0, -3.0]), np.array([3.0, 3.0]))
    assert isinstance(fig, Figure)
    assert any(a.shape == mosaic.shape and np.allclose(a, mosaic) for a in _shown_images(fig))


# ---------------------------------------------------------------------------
# Exercise 4: the classifier
# ---------------------------------------------------------------------------


def test_classifier_outputs_10_probabilities_and_is_compiled_with_cross_entropy():
    encoder = ae.build_encoder()
    classifier = ae.build_classifier(encoder)
    x, y = _images(16, seed=14), np.arange(16, dtype=np.int64) % 10
    p = classifier.predict(x, verbose=0)
    assert p.shape == (16, 10)
    assert (p >= 0).all()
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-5)
    loss = classifier.evaluate(x, y, batch_size=16, verbose=0)
    loss = loss[0] if isinstance(loss, list) else loss
    cross_entropy = -np.mean(np.log(np.clip(p[np.arange(16), y].astype(np.float64), 1e-7, 1.0)))
    assert loss == pytest.approx(cross_entropy, rel=1e-4)


def test_classifier_reuses_the_encoders_conv_layers():
    encoder = ae.build_encoder()
    classifier = ae.build_classifier(encoder)
    encoder_convs = [layer for layer in encoder.layers if isinstance(layer, layers.Conv2D)]
    shared = [layer for layer in classifier.layers if any(layer is e for e in encoder_convs)]
    assert len(shared) >= 4
    head = classifier.layers[-1]
    assert isinstance(head, layers.Dense) and head.units == 10


def test_train_classifier_returns_history_with_loss_and_val_loss_per_epoch():
    tf.random.set_seed(3)
    rng = np.random.default_rng(15)
    x_train, y_train = _images(200, seed=16), rng.integers(0, 10, 200).astype(np.int64)
    x_test, y_test = _images(50, seed=17), rng.integers(0, 10, 50).astype(np.int64)
    classifier = ae.build_classifier(ae.build_encoder())
    history = ae.train_classifier(classifier, x_train, y_train, x_test, y_test, epochs=2, batch_size=64)
    assert isinstance(history, keras.callbacks.History)
    assert len(history.history["loss"]) == 2
    assert len(history.history["val_loss"]) == 2
    assert np.isfinite(history.history["loss"]).all() and np.isfinite(history.history["val_loss"]).all()
