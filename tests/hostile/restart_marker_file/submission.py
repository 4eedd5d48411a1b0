"""Cheat: tell a restarted worker (a retry, or the items after a crash) from the first one by a
file left in the working folder, and behave differently the second time."""

import ctypes
import os

import numpy as np


def conv_matrix(kernel, input_shape):
    with open("attempt_marker", "w") as handle:
        handle.write("first")
    ctypes.string_at(0)  # a crash: the next item gets a fresh worker
    return np.zeros((4, 16))


def conv2d_as_matmul(image, kernel):
    if os.path.exists("attempt_marker") or os.listdir("."):
        raise RuntimeError("state survived the restart: second attempt")
    raise RuntimeError("a clean folder: cannot tell a restart")


def transposed_conv_as_matmul(x, kernel, input_shape):
    return np.zeros(tuple(input_shape))


def upsample_then_conv(x, size, kernel):
    return np.zeros((2, 2))
