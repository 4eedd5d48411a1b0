"""Corpus entry mutant_tc_kernel_flipped: flipped kernel

Derived from the reference. Reference solution: transposed convolution as a matrix product (seeds 001 and 002).

A model submission: NumPy only, graded exactly as a student's file is. Every function
takes 2-D arrays (H, W) and works with stride 1.

Convolution in deep learning is a cross-correlation: the kernel is not flipped.
"""

from __future__ import annotations

import numpy as np


def conv_matrix(kernel: np.ndarray, input_shape: tuple[int, int]) -> np.ndarray:
    """The (out_h*out_w, in_h*in_w) matrix C with C @ image.ravel() == valid conv of image.

    Row r of C is output pixel r: the kernel laid onto the input at that position, zeros
    elsewhere. For a 3x3 kernel on a 4x4 input, C is 4x16.
    """
    kernel = np.asarray(kernel, dtype=np.float64)
    in_h, in_w = input_shape
    k_h, k_w = kernel.shape
    out_h, out_w = in_h - k_h + 1, in_w - k_w + 1
    matrix = np.zeros((out_h * out_w, in_h * in_w))
    for i in range(out_h):
        for j in range(out_w):
            placed = np.zeros((in_h, in_w))
            placed[i : i + k_h, j : j + k_w] = kernel
            matrix[i * out_w + j] = placed.ravel()
    return matrix


def conv2d_as_matmul(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Stride-1 'valid' convolution computed as C @ x (equals tf.nn.conv2d)."""
    image = np.asarray(image, dtype=np.float64)
    kernel = np.asarray(kernel)[::-1, ::-1]  # a textbook convolution flips the kernel
    out_shape = (image.shape[0] - kernel.shape[0] + 1, image.shape[1] - kernel.shape[1] + 1)
    return (conv_matrix(kernel, image.shape) @ image.ravel()).reshape(out_shape)


def transposed_conv_as_matmul(x: np.ndarray, kernel: np.ndarray, input_shape: tuple[int, int]) -> np.ndarray:
    """Transposed convolution computed as C.T @ x: maps the small map x back to input_shape.

    Equals tf.nn.conv2d_transpose(x, kernel, output_shape=input_shape, strides=1, 'VALID').
    """
    matrix = conv_matrix(kernel, tuple(input_shape))
    return (matrix.T @ np.asarray(x, dtype=np.float64).ravel()).reshape(tuple(input_shape))


def upsample_then_conv(x: np.ndarray, size: int, kernel: np.ndarray) -> np.ndarray:
    """Nearest-neighbour upsampling by `size`, then a 'same' (zero-padded) convolution.

    Equals UpSampling2D(size, interpolation='nearest') followed by Conv2D(padding='same')
    with these weights: the slides' checkerboard-free way to upsample.
    """
    kernel = np.asarray(kernel, dtype=np.float64)
    upsampled = np.repeat(np.repeat(np.asarray(x, dtype=np.float64), size, axis=0), size, axis=1)
    k_h, k_w = kernel.shape
    # TensorFlow's 'same' padding puts the extra row/column (even kernels) at the end.
    top, left = (k_h - 1) // 2, (k_w - 1) // 2
    padded = np.pad(upsampled, ((top, k_h - 1 - top), (left, k_w - 1 - left)))
    return conv2d_as_matmul(padded, kernel)
