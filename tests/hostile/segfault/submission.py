"""Accident: ctypes reads address 0 inside conv2d_as_matmul: the interpreter segfaults."""

import ctypes

import numpy as np


def conv_matrix(kernel, input_shape):
    return np.zeros((4, 16))


def conv2d_as_matmul(image, kernel):
    ctypes.string_at(0)  # dereferences a null pointer: SIGSEGV
    return np.zeros((2, 2))


def transposed_conv_as_matmul(x, kernel, input_shape):
    return np.zeros(tuple(input_shape))


def upsample_then_conv(x, size, kernel):
    return np.zeros((2, 2))
