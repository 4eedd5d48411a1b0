"""Accident: conv_matrix prints 100 MB of debugging output."""

import numpy as np


def conv_matrix(kernel, input_shape):
    line = "debug " * 170_000  # about 1 MB
    for _ in range(100):
        print(line)
    return np.zeros((4, 16))


def conv2d_as_matmul(image, kernel):
    return np.zeros((2, 2))


def transposed_conv_as_matmul(x, kernel, input_shape):
    return np.zeros(tuple(input_shape))


def upsample_then_conv(x, size, kernel):
    return np.zeros((2, 2))
