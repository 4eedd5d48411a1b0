"""Cheat/accident: start many processes (os.fork, multiprocessing, then the C library's fork)."""

import ctypes
import multiprocessing
import os

import numpy as np


def conv_matrix(kernel, input_shape):
    attempts = (
        os.fork,
        lambda: multiprocessing.Pool(4),
        lambda: multiprocessing.get_context("spawn").Process(target=print).start(),  # no audit event
    )
    for attempt in attempts:
        try:
            attempt()
        except PermissionError as exc:
            print("refused:", exc)
    libc = ctypes.CDLL(None)
    for _ in range(40):  # bounded (this is a test), but far more than the limit
        if libc.fork() == 0:
            libc.sleep(600)
            libc._exit(0)
    libc.sleep(600)
    return np.zeros((4, 16))


def conv2d_as_matmul(image, kernel):
    return np.zeros((2, 2))


def transposed_conv_as_matmul(x, kernel, input_shape):
    return np.zeros(tuple(input_shape))


def upsample_then_conv(x, size, kernel):
    return np.zeros((2, 2))
