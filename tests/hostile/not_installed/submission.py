"""Accident: the file imports a package that is not installed on the grading machine."""

import numpy as np
import fancy_conv_toolkit  # installed on the student's laptop only


def conv_matrix(kernel, input_shape):
    return fancy_conv_toolkit.conv_matrix(kernel, input_shape)


def conv2d_as_matmul(image, kernel):
    return np.zeros((2, 2))


def transposed_conv_as_matmul(x, kernel, input_shape):
    return np.zeros(tuple(input_shape))


def upsample_then_conv(x, size, kernel):
    return np.zeros((2, 2))
