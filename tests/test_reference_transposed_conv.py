"""reference/transposed_conv.py against TensorFlow and Keras (the ground truth) and the slides."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from reference import transposed_conv as tc

SLIDE_KERNEL = np.arange(1, 10, dtype=np.float64).reshape(3, 3)
SLIDE_IMAGE = np.array([[2, 1, 0, 3], [0, 0, 1, 2], [3, 1, 2, 0], [0, 2, 2, 1]], dtype=np.float64)

# (image shape, kernel shape): square, non-square, 1x1, kernel as large as the image.
SHAPES = [
    ((4, 4), (3, 3)),
    ((6, 5), (3, 2)),
    ((7, 9), (2, 4)),
    ((5, 5), (1, 1)),
    ((8, 3), (3, 3)),
    ((5, 6), (5, 6)),
]


def tf_conv2d(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    out = tf.nn.conv2d(
        tf.constant(image[None, :, :, None], tf.float64),
        tf.constant(kernel[:, :, None, None], tf.float64),
        strides=1,
        padding="VALID",
    )
    return out.numpy()[0, :, :, 0]


def tf_conv2d_transpose(x: np.ndarray, kernel: np.ndarray, output_shape: tuple[int, int]) -> np.ndarray:
    out = tf.nn.conv2d_transpose(
        tf.constant(x[None, :, :, None], tf.float64),
        tf.constant(kernel[:, :, None, None], tf.float64),
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


def test_conv_matrix_of_slide_kernel_on_4x4_input_is_the_4x16_placed_kernel():
    expected = np.array(
        [
            [1, 2, 3, 0, 4, 5, 6, 0, 7, 8, 9, 0, 0, 0, 0, 0],
            [0, 1, 2, 3, 0, 4, 5, 6, 0, 7, 8, 9, 0, 0, 0, 0],
            [0, 0, 0, 0, 1, 2, 3, 0, 4, 5, 6, 0, 7, 8, 9, 0],
            [0, 0, 0, 0, 0, 1, 2, 3, 0, 4, 5, 6, 0, 7, 8, 9],
        ],
        dtype=np.float64,
    )
    matrix = tc.conv_matrix(SLIDE_KERNEL, (4, 4))
    assert matrix.shape == (4, 16)
    np.testing.assert_array_equal(matrix, expected)


@pytest.mark.parametrize(("image_shape", "kernel_shape"), SHAPES)
def test_conv_matrix_columns_are_tf_convolutions_of_one_hot_images(image_shape, kernel_shape):
    kernel = np.random.default_rng(0).normal(size=kernel_shape)
    matrix = tc.conv_matrix(kernel, image_shape)
    n_pixels = image_shape[0] * image_shape[1]
    assert matrix.shape == (tf_conv2d(np.zeros(image_shape), kernel).size, n_pixels)
    for p in range(n_pixels):
        one_hot = np.zeros(n_pixels)
        one_hot[p] = 1.0
        np.testing.assert_allclose(
            matrix[:, p], tf_conv2d(one_hot.reshape(image_shape), kernel).ravel(), atol=1e-12
        )


def test_conv2d_as_matmul_on_the_slide_image_gives_57_50_66_61():
    # The slide prints 60 at the top right; TensorFlow (the ground truth) gives 50.
    expected = np.array([[57.0, 50.0], [66.0, 61.0]])
    np.testing.assert_array_equal(tf_conv2d(SLIDE_IMAGE, SLIDE_KERNEL), expected)
    np.testing.assert_allclose(tc.conv2d_as_matmul(SLIDE_IMAGE, SLIDE_KERNEL), expected, atol=1e-12)


@pytest.mark.parametrize(("image_shape", "kernel_shape"), SHAPES)
def test_conv2d_as_matmul_equals_tf_conv2d(image_shape, kernel_shape):
    rng = np.random.default_rng(sum(image_shape) * 10 + sum(kernel_shape))
    image, kernel = rng.normal(size=image_shape), rng.normal(size=kernel_shape)
    result = tc.conv2d_as_matmul(image, kernel)
    expected = tf_conv2d(image, kernel)
    assert result.shape == expected.shape
    np.testing.assert_allclose(result, expected, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize(("image_shape", "kernel_shape"), SHAPES)
def test_transposed_conv_as_matmul_equals_tf_conv2d_transpose(image_shape, kernel_shape):
    rng = np.random.default_rng(sum(image_shape) * 7 + sum(kernel_shape))
    kernel = rng.normal(size=kernel_shape)
    small = (image_shape[0] - kernel_shape[0] + 1, image_shape[1] - kernel_shape[1] + 1)
    x = rng.normal(size=small)
    result = tc.transposed_conv_as_matmul(x, kernel, image_shape)
    assert result.shape == image_shape
    np.testing.assert_allclose(result, tf_conv2d_transpose(x, kernel, image_shape), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(
        result.ravel(), tc.conv_matrix(kernel, image_shape).T @ x.ravel(), rtol=1e-12, atol=1e-12
    )


def test_transposed_conv_is_the_adjoint_of_conv():
    rng = np.random.default_rng(3)
    kernel, a, b = rng.normal(size=(3, 2)), rng.normal(size=(6, 5)), rng.normal(size=(4, 4))
    lhs = np.sum(tc.conv2d_as_matmul(a, kernel) * b)
    rhs = np.sum(a * tc.transposed_conv_as_matmul(b, kernel, (6, 5)))
    assert lhs == pytest.approx(rhs, rel=1e-10)


@pytest.mark.parametrize("size", [2, 3])
@pytest.mark.parametrize("x_shape", [(3, 3), (2, 4)])
@pytest.mark.parametrize("kernel_shape", [(3, 3), (2, 2), (4, 3)])
def test_upsample_then_conv_equals_keras_upsampling2d_plus_same_conv2d(size, x_shape, kernel_shape):
    rng = np.random.default_rng(size * 100 + x_shape[1] * 10 + kernel_shape[0])
    x, kernel = rng.normal(size=x_shape), rng.normal(size=kernel_shape)
    result = tc.upsample_then_conv(x, size, kernel)
    assert result.shape == (x_shape[0] * size, x_shape[1] * size)
    np.testing.assert_allclose(result, keras_upsample_then_conv(x, size, kernel), rtol=1e-5, atol=1e-5)
