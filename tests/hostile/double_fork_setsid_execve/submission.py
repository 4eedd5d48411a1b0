"""Cheat: a process that outlives the grading: C fork, setsid, fork, then execve with an empty
environment (no sandbox token, not in the worker's session, reparented away from the worker).

The grandchild writes its pid and PID namespace into the item's output; the test checks that
it is gone afterwards (and, in a namespace of its own, that nothing is left in it).
"""

import ctypes
import os
import time

import numpy as np


def _escape():
    libc = ctypes.CDLL(None)
    child = libc.fork()
    if child == 0:
        libc.setsid()
        if libc.fork() == 0:
            os.write(1, f"background pid {os.getpid()} in {os.readlink('/proc/self/ns/pid')}\n".encode())
            argv = (ctypes.c_char_p * 3)(b"/bin/sleep", b"600", None)
            envp = (ctypes.c_char_p * 1)(None)
            libc.execve(b"/bin/sleep", argv, envp)
            libc._exit(1)
        libc._exit(0)
    os.waitpid(child, 0)
    time.sleep(0.5)


def conv_matrix(kernel, input_shape):
    _escape()
    return np.zeros((4, 16))


def conv2d_as_matmul(image, kernel):
    return np.zeros((2, 2))


def transposed_conv_as_matmul(x, kernel, input_shape):
    return np.zeros(tuple(input_shape))


def upsample_then_conv(x, size, kernel):
    return np.zeros((2, 2))
