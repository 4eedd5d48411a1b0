"""Accident: conv_matrix allocates 30 GB, 256 MB at a time (every page is touched)."""

import numpy as np

HOARD = []


def conv_matrix(kernel, input_shape):
    for _ in range(120):  # 120 x 256 MB = 30 GB
        HOARD.append(np.ones(32 * 2**20))  # 32 Mi float64 = 256 MB, written, so resident
    return np.zeros((4, 16))


def conv2d_as_matmul(image, kernel):
    return np.zeros((2, 2))


def transposed_conv_as_matmul(x, kernel, input_shape):
    return np.zeros(tuple(input_shape))


def upsample_then_conv(x, size, kernel):
    return np.zeros((2, 2))
