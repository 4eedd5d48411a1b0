"""Accident/cheat: fill the disk with many files, each under the per-file cap (16 MB here):
80 x 15 MB = 1.2 GB into the worker's folder (bounded: this is a test)."""

import os

import numpy as np


def conv_matrix(kernel, input_shape):
    chunk = os.urandom(2**20) * 15
    for index in range(80):
        with open(f"fill_{index}.bin", "wb") as handle:
            handle.write(chunk)
    return np.zeros((4, 16))


def conv2d_as_matmul(image, kernel):
    return np.zeros((2, 2))


def transposed_conv_as_matmul(x, kernel, input_shape):
    return np.zeros(tuple(input_shape))


def upsample_then_conv(x, size, kernel):
    return np.zeros((2, 2))
