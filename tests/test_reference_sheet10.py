"""reference/sheet10.py (seed 000, parts 1.4 and 3.4) against NumPy ground truth."""

from __future__ import annotations

import keras
import matplotlib
import numpy as np
import pytest
import tensorflow as tf
from matplotlib.figure import Figure

from reference import sheet10 as s10

QUERY = [0.8, 0.5, 0.21]
KEY = [0.1, 0.62, 0.73]
VALUE = [0.6, 0.2, 0.9]
ONE_TOKEN_OUTPUT = [0.6, 0.2, 0.9]
THREE_TOKENS_OUTPUT = [0.5737, 0.5706, 0.5682]


def np_attention(q, k, v, mask=None):
    """softmax(q k^T / sqrt(d_k) + mask * -1e9) v, softmax over the keys, in float64."""
    q, k, v = (np.asarray(t, dtype=np.float64) for t in (q, k, v))
    logits = q @ np.swapaxes(k, -1, -2) / np.sqrt(k.shape[-1])
    if mask is not None:
        logits = logits + np.asarray(mask, dtype=np.float64) * -1e9
    logits = logits - logits.max(axis=-1, keepdims=True)
    weights = np.exp(logits)
    weights /= weights.sum(axis=-1, keepdims=True)
    return weights @ v, weights


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    matplotlib.pyplot.close("all")


# ---------------------------------------------------------------------------
# 1.4: the dense autoencoder
# ---------------------------------------------------------------------------


def _digits(n: int = 6) -> np.ndarray:
    images = np.random.default_rng(0).integers(0, 256, (n, 28, 28), dtype=np.uint8)
    images[0, 0, 0], images[0, 0, 1] = 0, 255
    return images


def test_preprocess_is_pixels_over_255_flattened_to_float32():
    images = _digits()
    result = s10.preprocess(images)
    assert result.dtype == np.float32
    assert result.shape == (6, 784)
    assert result.min() == 0.0 and result.max() == 1.0
    expected = np.array([[images[n, i // 28, i % 28] / 255.0 for i in range(784)] for n in range(6)])
    np.testing.assert_allclose(result, expected, atol=1e-7)


def test_preprocess_differs_from_keras_utils_normalize():
    images = _digits()
    normalized = tf.keras.utils.normalize(images.reshape(6, 784).astype(np.float32))
    assert not np.allclose(s10.preprocess(images), normalized, atol=1e-3)


def test_dense_autoencoder_maps_784_to_32_to_784():
    autoencoder, encoder, decoder = s10.build_dense_autoencoder(32)
    assert autoencoder.input_shape == (None, 784) and autoencoder.output_shape == (None, 784)
    assert encoder.input_shape == (None, 784) and encoder.output_shape == (None, 32)
    assert decoder.input_shape == (None, 32) and decoder.output_shape == (None, 784)
    x = s10.preprocess(_digits())
    code = encoder.predict(x, verbose=0)
    assert code.shape == (6, 32)
    assert decoder.predict(code, verbose=0).shape == (6, 784)


def test_dense_autoencoder_encoding_dim_sets_the_code_size():
    _, encoder, decoder = s10.build_dense_autoencoder(8)
    assert encoder.output_shape == (None, 8)
    assert decoder.input_shape == (None, 8)


def test_dense_autoencoder_layers_are_dense_relu_then_dense_sigmoid():
    autoencoder, encoder, decoder = s10.build_dense_autoencoder(32)
    dense = [layer for layer in autoencoder.layers if isinstance(layer, keras.layers.Dense)]
    assert [(d.units, d.get_config()["activation"]) for d in dense] == [(32, "relu"), (784, "sigmoid")]
    x = s10.preprocess(_digits())
    assert (encoder.predict(x, verbose=0) >= 0).all()
    out = autoencoder.predict(x, verbose=0)
    assert ((out > 0) & (out < 1)).all()


def test_dense_decoder_and_encoder_share_the_autoencoders_weights():
    autoencoder, encoder, decoder = s10.build_dense_autoencoder(32)
    x = s10.preprocess(_digits())
    np.testing.assert_allclose(
        autoencoder.predict(x, verbose=0),
        decoder.predict(encoder.predict(x, verbose=0), verbose=0),
        atol=1e-6,
    )


def test_dense_autoencoder_is_compiled_with_adam_and_binary_crossentropy():
    autoencoder, _, _ = s10.build_dense_autoencoder(32)
    assert isinstance(autoencoder.optimizer, keras.optimizers.Adam)
    x = s10.preprocess(_digits())
    p = np.clip(autoencoder.predict(x, verbose=0).astype(np.float64), 1e-7, 1 - 1e-7)
    bce = -np.mean(x * np.log(p) + (1 - x) * np.log(1 - p))
    loss = autoencoder.evaluate(x, x, batch_size=len(x), verbose=0)
    loss = loss[0] if isinstance(loss, list) else loss
    assert loss == pytest.approx(bce, rel=1e-4)
    assert loss != pytest.approx(np.mean((x - p) ** 2), rel=1e-2)


def test_batch_size_is_256_and_epochs_is_50():
    assert s10.BATCH_SIZE == 256
    assert s10.EPOCHS == 50


def test_plot_reconstructions_shows_n_originals_and_n_reconstructions():
    x = s10.preprocess(_digits())
    x_rec = 1.0 - x
    fig = s10.plot_reconstructions(x, x_rec, n=4)
    assert isinstance(fig, Figure)
    shown = [np.asarray(im.get_array()) for ax in fig.axes for im in ax.images]
    assert len(shown) == 8
    for i in range(4):
        assert any(a.shape == (28, 28) and np.allclose(a, x[i].reshape(28, 28)) for a in shown)
        assert any(a.shape == (28, 28) and np.allclose(a, x_rec[i].reshape(28, 28)) for a in shown)


# ---------------------------------------------------------------------------
# 3.4: scaled dot-product attention
# ---------------------------------------------------------------------------


def _random_qkv(seed: int = 0, batch: int = 3, seq_q: int = 4, seq_k: int = 5, d_k: int = 8, d_v: int = 6):
    rng = np.random.default_rng(seed)
    return (
        rng.normal(size=(batch, seq_q, d_k)).astype(np.float32),
        rng.normal(size=(batch, seq_k, d_k)).astype(np.float32),
        rng.normal(size=(batch, seq_k, d_v)).astype(np.float32),
    )


def test_attention_matches_numpy_on_random_batched_inputs():
    q, k, v = _random_qkv()
    output, weights = s10.scaled_dot_product_attention(q, k, v)
    expected_output, expected_weights = np_attention(q, k, v)
    assert np.shape(output) == (3, 4, 6) and np.shape(weights) == (3, 4, 5)
    np.testing.assert_allclose(np.asarray(weights), expected_weights, atol=1e-5)
    np.testing.assert_allclose(np.asarray(output), expected_output, atol=1e-5)


def test_attention_weights_sum_to_one_over_the_keys():
    q, k, v = _random_qkv(seed=1, seq_q=7, seq_k=3)
    _, weights = s10.scaled_dot_product_attention(q, k, v)
    weights = np.asarray(weights)
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, atol=1e-5)
    assert not np.allclose(weights.sum(axis=-2), 1.0, atol=1e-3)  # not over the queries


def test_attention_with_mask_matches_numpy_and_ignores_masked_keys():
    q, k, v = _random_qkv(seed=2)
    mask = (np.random.default_rng(5).random((3, 4, 5)) < 0.4).astype(np.float32)
    mask[..., 0] = 0.0  # every query keeps at least one key
    output, weights = s10.scaled_dot_product_attention(q, k, v, mask)
    expected_output, expected_weights = np_attention(q, k, v, mask)
    weights = np.asarray(weights)
    np.testing.assert_allclose(weights, expected_weights, atol=1e-5)
    np.testing.assert_allclose(np.asarray(output), expected_output, atol=1e-5)
    assert (weights[mask == 1] < 1e-6).all()
    assert not np.allclose(expected_output, np_attention(q, k, v)[0], atol=1e-3)


def test_attention_with_broadcast_padding_mask_matches_numpy():
    q, k, v = _random_qkv(seed=3)
    padding = np.zeros((3, 1, 5), dtype=np.float32)
    padding[0, 0, 3:] = 1.0
    padding[2, 0, 1] = 1.0
    output, weights = s10.scaled_dot_product_attention(q, k, v, padding)
    expected_output, expected_weights = np_attention(q, k, v, padding)
    np.testing.assert_allclose(np.asarray(weights), expected_weights, atol=1e-5)
    np.testing.assert_allclose(np.asarray(output), expected_output, atol=1e-5)


def test_attention_on_the_seeds_rank1_vectors_is_one_token_returning_the_value():
    output, weights = s10.scaled_dot_product_attention(QUERY, KEY, VALUE, None)
    np.testing.assert_allclose(np.ravel(output), ONE_TOKEN_OUTPUT, atol=1e-6)
    np.testing.assert_allclose(np.ravel(weights), [1.0], atol=1e-6)
    np.testing.assert_allclose(np.ravel(output), np_attention([QUERY], [KEY], [VALUE])[0].ravel(), atol=1e-6)


def test_attention_on_three_tokens_of_depth_1_gives_the_second_reading():
    q, k, v = (np.reshape(t, (3, 1)) for t in (QUERY, KEY, VALUE))
    output, weights = s10.scaled_dot_product_attention(q, k, v)
    expected = np_attention(q, k, v)[0].ravel()
    np.testing.assert_allclose(expected, THREE_TOKENS_OUTPUT, atol=1e-4)
    assert np.shape(output) == (3, 1) and np.shape(weights) == (3, 3)
    np.testing.assert_allclose(np.ravel(output), expected, atol=1e-6)


def test_attention_output_constant_matches_one_of_the_two_readings():
    value = np.asarray(s10.ATTENTION_OUTPUT, dtype=np.float64).ravel()
    assert value.shape == (3,)
    assert np.allclose(value, ONE_TOKEN_OUTPUT, atol=1e-3) or np.allclose(
        value, THREE_TOKENS_OUTPUT, atol=1e-3
    )


def test_plain_tf_matmul_on_the_seeds_rank1_lists_crashes_like_the_seed_student():
    # Why the reference reshapes rank-1 inputs: this is the seed's InvalidArgumentError.
    with pytest.raises(tf.errors.InvalidArgumentError, match="ndims must be"):
        tf.matmul(QUERY, KEY, transpose_b=True)
