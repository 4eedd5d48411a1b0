"""Cheat: sys.exit(0) inside a graded function, before it returns anything."""

import sys


def conv_matrix(kernel, input_shape):
    sys.exit(0)


def conv2d_as_matmul(image, kernel):
    sys.exit(0)


def transposed_conv_as_matmul(x, kernel, input_shape):
    raise SystemExit(0)


def upsample_then_conv(x, size, kernel):
    exit(0)
