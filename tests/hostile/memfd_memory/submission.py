"""Cheat/accident: 1.5 GB written into memfd_create files and never mapped: in no process's RSS.

Each file stays under the per-file cap (RLIMIT_FSIZE, 16 MB here): 100 files of 15 MB.
"""

import os

import numpy as np


def conv_matrix(kernel, input_shape):
    chunk, files = b"x" * 15 * 2**20, []
    for index in range(100):  # 1.5 GB: bounded (this is a test), three times the 512 MB cap
        fd = os.memfd_create(f"hidden{index}")
        os.write(fd, chunk)
        files.append(fd)
    return np.zeros((4, 16))


def conv2d_as_matmul(image, kernel):
    return np.zeros((2, 2))


def transposed_conv_as_matmul(x, kernel, input_shape):
    return np.zeros(tuple(input_shape))


def upsample_then_conv(x, size, kernel):
    return np.zeros((2, 2))
