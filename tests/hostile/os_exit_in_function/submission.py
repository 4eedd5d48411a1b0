"""Cheat: os._exit(0) (and posix._exit) inside graded functions."""

import os
import posix


def conv_matrix(kernel, input_shape):
    os._exit(0)


def conv2d_as_matmul(image, kernel):
    posix._exit(0)


def transposed_conv_as_matmul(x, kernel, input_shape):
    os._exit(0)


def upsample_then_conv(x, size, kernel):
    os._exit(0)
