"""grader/checks/ground_truth.py (the grader's own NumPy answers) against TensorFlow and closed forms.

TensorFlow is imported once for the module (about 5 s); every comparison is tiny.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
from sklearn.neighbors import KNeighborsClassifier, NearestNeighbors

from grader.assignments.sheet10.diagnoses import keras_l2_normalize
from grader.checks import ground_truth as gt
from grader.probes.common import grader_grid

RNG = np.random.default_rng(31)
SHAPES = [((4, 4), (3, 3)), ((6, 5), (3, 2)), ((7, 9), (2, 4)), ((5, 5), (1, 1)), ((5, 6), (5, 6))]
SLIDE_IMAGE = np.array([[2, 1, 0, 3], [0, 0, 1, 2], [3, 1, 2, 0], [0, 2, 2, 1]], dtype=np.float64)
SLIDE_KERNEL = np.arange(1, 10, dtype=np.float64).reshape(3, 3)


def tf_conv2d(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    out = tf.nn.conv2d(image[None, :, :, None], kernel[:, :, None, None], strides=1, padding="VALID")
    return out.numpy()[0, :, :, 0]


def tf_conv2d_transpose(x: np.ndarray, kernel: np.ndarray, output_shape: tuple[int, int]) -> np.ndarray:
    out = tf.nn.conv2d_transpose(
        x[None, :, :, None],
        kernel[:, :, None, None],
        output_shape=[1, *output_shape, 1],
        strides=1,
        padding="VALID",
    )
    return out.numpy()[0, :, :, 0]


def keras_upsample_then_conv(x: np.ndarray, size: int, kernel: np.ndarray) -> np.ndarray:
    conv = keras.layers.Conv2D(1, kernel.shape, padding="same", use_bias=False)
    model = keras.Sequential([keras.Input(shape=(*x.shape, 1)), keras.layers.UpSampling2D(size), conv])
    conv.set_weights([kernel[:, :, None, None].astype(np.float32)])
    return np.asarray(model(x[None, :, :, None].astype(np.float32)))[0, :, :, 0]


# -- convolutions -----------------------------------------------------------------------------


@pytest.mark.parametrize(("image_shape", "kernel_shape"), SHAPES)
def test_cross_correlation_and_conv_matrix_equal_tf_conv2d(image_shape, kernel_shape):
    image, kernel = RNG.normal(size=image_shape), RNG.normal(size=kernel_shape)
    expected = tf_conv2d(image, kernel)
    np.testing.assert_allclose(gt.cross_correlate_valid(image, kernel), expected, atol=1e-10)
    matrix = gt.unrolled_conv_matrix(kernel, image_shape)
    assert matrix.shape == (expected.size, image.size)
    np.testing.assert_allclose(matrix @ image.ravel(), expected.ravel(), atol=1e-10)


def test_slide_example_is_57_50_66_61_like_tf():
    expected = np.array([[57.0, 50.0], [66.0, 61.0]])
    np.testing.assert_array_equal(tf_conv2d(SLIDE_IMAGE, SLIDE_KERNEL), expected)
    np.testing.assert_array_equal(gt.cross_correlate_valid(SLIDE_IMAGE, SLIDE_KERNEL), expected)
    assert gt.unrolled_conv_matrix(SLIDE_KERNEL, (4, 4)).shape == (4, 16)


@pytest.mark.parametrize(("output_shape", "kernel_shape"), SHAPES)
def test_transposed_conv_equals_tf_conv2d_transpose_and_c_transpose(output_shape, kernel_shape):
    kernel = RNG.normal(size=kernel_shape)
    small = (output_shape[0] - kernel_shape[0] + 1, output_shape[1] - kernel_shape[1] + 1)
    x = RNG.normal(size=small)
    expected = tf_conv2d_transpose(x, kernel, output_shape)
    np.testing.assert_allclose(gt.transposed_convolution(x, kernel, output_shape), expected, atol=1e-10)
    via_matrix = gt.unrolled_conv_matrix(kernel, output_shape).T @ x.ravel()
    np.testing.assert_allclose(via_matrix.reshape(output_shape), expected, atol=1e-10)


@pytest.mark.parametrize(
    ("x_shape", "size", "kernel_shape"),
    [((2, 2), 2, (3, 3)), ((3, 4), 3, (3, 3)), ((2, 3), 2, (2, 2)), ((3, 2), 2, (4, 3))],
)
def test_upsample_then_conv_equals_keras_upsampling_plus_same_conv(x_shape, size, kernel_shape):
    x, kernel = RNG.normal(size=x_shape), RNG.normal(size=kernel_shape)
    expected = keras_upsample_then_conv(x, size, kernel)
    np.testing.assert_allclose(gt.upsample_and_convolve(x, size, kernel), expected, atol=1e-5)


# -- attention ----------------------------------------------------------------------------------


def tf_attention(q, k, v, mask=None):
    logits = tf.matmul(q, k, transpose_b=True) / tf.math.sqrt(tf.cast(tf.shape(k)[-1], tf.float64))
    if mask is not None:
        logits += mask * -1e9
    weights = tf.nn.softmax(logits, axis=-1)
    return tf.matmul(weights, v).numpy(), weights.numpy()


def test_attention_equals_tf_ops_on_batched_inputs():
    q, k, v = RNG.normal(size=(2, 4, 8)), RNG.normal(size=(2, 5, 8)), RNG.normal(size=(2, 5, 6))
    output, weights = gt.attention(q, k, v)
    expected_output, expected_weights = tf_attention(q, k, v)
    np.testing.assert_allclose(output, expected_output, atol=1e-10)
    np.testing.assert_allclose(weights, expected_weights, atol=1e-10)
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0)


def test_attention_with_mask_equals_tf_ops_and_masks_the_keys():
    q, k, v = RNG.normal(size=(2, 4, 8)), RNG.normal(size=(2, 5, 8)), RNG.normal(size=(2, 5, 6))
    mask = np.array([[[0, 0, 1, 0, 1]], [[0, 1, 1, 1, 0]]], dtype=np.float64)
    output, weights = gt.attention(q, k, v, mask)
    expected_output, _ = tf_attention(q, k, v, mask)
    np.testing.assert_allclose(output, expected_output, atol=1e-10)
    assert np.all(weights[0, :, [2, 4]] < 1e-12)


def test_attention_on_rank1_vectors_is_one_token():
    output, weights = gt.attention([0.8, 0.5, 0.21], [0.1, 0.62, 0.73], [0.6, 0.2, 0.9])
    np.testing.assert_allclose(output, [0.6, 0.2, 0.9])
    np.testing.assert_allclose(weights, [1.0])


def test_attention_on_three_tokens_of_depth_one_matches_the_contract_value():
    q, k, v = (np.array(t).reshape(3, 1) for t in ([0.8, 0.5, 0.21], [0.1, 0.62, 0.73], [0.6, 0.2, 0.9]))
    output, _ = gt.attention(q, k, v)
    expected, _ = tf_attention(q, k, v)
    np.testing.assert_allclose(output, expected, atol=1e-12)
    np.testing.assert_allclose(output.ravel(), [0.5737, 0.5706, 0.5682], atol=1e-4)


# -- KL divergence ------------------------------------------------------------------------------


def test_kl_of_the_prior_itself_is_zero():
    assert gt.kl_divergence(np.zeros((3, 2)), np.zeros((3, 2))).tolist() == [0.0, 0.0, 0.0]


def test_kl_known_values_in_both_conventions():
    mean = np.array([[1.0, 0.0], [0.0, 0.0]])
    log_std = np.array([[0.0, 0.0], [np.log(2.0), 0.0]])
    expected = [0.5, 0.5 * (4.0 - 1.0 - 2.0 * np.log(2.0))]  # 0.5 mu^2; 0.5 (sigma^2 - 1 - log sigma^2)
    np.testing.assert_allclose(gt.kl_divergence(mean, log_std, "log_std"), expected)
    np.testing.assert_allclose(gt.kl_divergence(mean, 2 * log_std, "log_var"), expected)


def test_kl_equals_the_per_dimension_textbook_formula():
    mean, log_std = RNG.normal(size=(6, 2)), RNG.normal(0, 0.5, size=(6, 2))
    sigma = np.exp(log_std)
    textbook = np.sum(np.log(1 / sigma) + (sigma**2 + mean**2) / 2 - 0.5, axis=-1)
    np.testing.assert_allclose(gt.kl_divergence(mean, log_std), textbook)
    assert np.all(gt.kl_divergence(mean, log_std) >= 0)


# -- k-NN, grid and mosaic ---------------------------------------------------------------------------


def test_one_nn_per_digit_equals_sklearn():
    centres = RNG.normal(0, 2, size=(10, 2))
    y_train, y_test = np.repeat(np.arange(10), 12), np.repeat(np.arange(10), 5)
    z_train = centres[y_train] + RNG.normal(size=(len(y_train), 2))
    z_test = centres[y_test] + RNG.normal(size=(len(y_test), 2))
    nearest = NearestNeighbors(n_neighbors=1).fit(z_train).kneighbors(z_test, return_distance=False)[:, 0]
    correct = y_train[nearest] == y_test
    expected = [100 * correct[y_test == d].mean() for d in range(10)]
    np.testing.assert_allclose(gt.one_nn_per_digit(z_train, y_train, z_test, y_test), expected)
    predicted = KNeighborsClassifier(n_neighbors=3).fit(z_train, y_train).predict(z_test)
    expected_3 = [100 * (predicted[y_test == d] == d).mean() for d in range(10)]
    np.testing.assert_allclose(gt.one_nn_per_digit(z_train, y_train, z_test, y_test, k=3), expected_3)


def test_latent_grid_corners_and_spacing():
    z_min, z_max = np.array([-1.5, 0.5]), np.array([3.0, 4.5])
    grid = gt.corner_grid(z_min, z_max, 4)
    assert grid.shape == (4, 4, 2)
    assert grid[0, 0].tolist() == [-1.5, 4.5]  # top left: lowest z[0], highest z[1]
    assert grid[0, -1].tolist() == [3.0, 4.5]
    assert grid[-1, 0].tolist() == [-1.5, 0.5]
    assert grid[-1, -1].tolist() == [3.0, 0.5]
    np.testing.assert_allclose(np.diff(grid[..., 0], axis=1), 1.5)
    np.testing.assert_allclose(np.diff(grid[..., 1], axis=0), -4 / 3)


def test_latent_grid_equals_the_grid_the_worker_builds():
    z_min, z_max = np.array([-2.0, -1.0]), np.array([1.0, 3.0])
    np.testing.assert_allclose(gt.corner_grid(z_min, z_max, 15), grader_grid(z_min, z_max, 15), atol=1e-6)


def test_mosaic_tiles_row_major_for_non_square_grids():
    images = np.arange(6 * 2 * 3).reshape(6, 2, 3)  # rows=2, cols=3 grid of 2x3 images
    mosaic = gt.mosaic(images, 2, 3)
    assert mosaic.shape == (4, 9)
    for index in range(6):
        row, col = divmod(index, 3)
        np.testing.assert_array_equal(mosaic[2 * row : 2 * row + 2, 3 * col : 3 * col + 3], images[index])


def test_softmax_is_stable_for_large_logits():
    weights = gt.softmax(np.array([[1000.0, 1000.0, -1000.0]]))
    np.testing.assert_allclose(weights, [[0.5, 0.5, 0.0]])


def test_keras_l2_normalize_equals_tf_keras_utils_normalize():
    images = RNG.integers(0, 256, size=(3, 28, 28)).astype(np.float64)
    images[0, 5] = 0  # an all-zero row: keras leaves it at 0
    for axis in (1, 2, -1):
        expected = np.asarray(keras.utils.normalize(images, axis=axis))
        np.testing.assert_allclose(keras_l2_normalize(images, axis), expected, atol=1e-6)
