"""Corpus entry variant_tc_kron: np.kron construction

Derived from the reference. Reference solution: transposed convolution as a matrix product (seeds 001 and 002).

A model submission: NumPy only, graded exactly as a student's file is. Every function
takes 2-D arrays (H, W) and works with stride 1.

Convolution in deep learning is a cross-correlation: the kernel is not flipped.
"""

from __future__ import annotations

import numpy as np


def conv_matrix(kernel: np.ndarray, input_shape: tuple[int, int]) -> np.ndarray:
    """C = sum over kernel entries (a, b) of kernel[a, b] * kron(S_a, T_b), with shift matrices S_a, T_b."""
    kernel = np.asarray(kernel, dtype=np.float64)
    in_h, in_w = input_shape
    k_h, k_w = kernel.shape
    out_h, out_w = in_h - k_h + 1, in_w - k_w + 1
    matrix = np.zeros((out_h * out_w, in_h * in_w))
    for a in range(k_h):
        for b in range(k_w):
            matrix += kernel[a, b] * np.kron(np.eye(out_h, in_h, k=a), np.eye(out_w, in_w, k=b))
    return matrix


def conv2d_as_matmul(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Stride-1 'valid' convolution computed as C @ x (equals tf.nn.conv2d)."""
    image = np.asarray(image, dtype=np.float64)
    kernel = np.asarray(kernel)
    out_shape = (image.shape[0] - kernel.shape[0] + 1, image.shape[1] - kernel.shape[1] + 1)
    return (conv_matrix(kernel, image.shape) @ image.ravel()).reshape(out_shape)


def transposed_conv_as_matmul(x: np.ndarray, kernel: np.ndarray, input_shape: tuple[int, int]) -> np.ndarray:
    """Transposed convolution computed as C.T @ x: maps the small map x back to input_shape.

    Equals tf.nn.conv2d_transpose(x, kernel, output_shape=input_shape, strides=1, 'VALID').
    """
    matrix = conv_matrix(kernel, tuple(input_shape))
    return (matrix.T @ np.asarray(x, dtype=np.float64).ravel()).reshape(tuple(input_shape))


def upsample_then_conv(x: np.ndarray, size: int, kernel: np.ndarray) -> np.ndarray:
    """np.kron nearest-neighbour upsampling, TF-style 'same' padding, then the matrix convolution."""
    kernel = np.asarray(kernel, dtype=np.float64)
    upsampled = np.kron(np.asarray(x, dtype=np.float64), np.ones((size, size)))
    pad_h, pad_w = kernel.shape[0] - 1, kernel.shape[1] - 1
    padded = np.pad(upsampled, ((pad_h // 2, pad_h - pad_h // 2), (pad_w // 2, pad_w - pad_w // 2)))
    return conv2d_as_matmul(padded, kernel)
