"""Accident: an exception whose message is 50 MB (a whole array printed into it).

The feedback keeps a readable start of it, the report stays small, and the grader is not slowed.
"""

import numpy as np


def conv_matrix(kernel, input_shape):
    raise ValueError("shapes do not match: " + "0123456789" * 5_000_000)


def conv2d_as_matmul(image, kernel):
    raise ValueError("bad kernel " + repr(np.zeros(10)) * 500_000)


def transposed_conv_as_matmul(x, kernel, input_shape):
    return np.zeros(tuple(input_shape))


def upsample_then_conv(x, size, kernel):
    return np.zeros((2, 2))
