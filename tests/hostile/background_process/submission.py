"""Cheat: start a background process that outlives the worker.

os.fork and subprocess are refused by the sandbox, so the process is made with the C
library's fork through ctypes, double-forked, in a new session (setsid): it leaves the
worker's process group. It prints its pid (into the item's output) and would overwrite
reports later; the test checks that it is gone once grading is over.
"""

import ctypes
import os
import time

import numpy as np


def _escape():
    libc = ctypes.CDLL(None)
    for blocked in (os.fork, lambda: os.system("sleep 600 &")):
        try:
            blocked()
        except PermissionError as exc:
            print("refused:", exc)
    child = libc.fork()
    if child == 0:
        libc.setsid()
        if libc.fork() == 0:  # the grandchild: reparented to init, in its own session
            # Its pid goes to the item's output (the sandbox lets it write nowhere else).
            # With its PID namespace: in one of its own, the pid is the namespace's.
            os.write(1, f"background pid {os.getpid()} in {os.readlink('/proc/self/ns/pid')}\n".encode())
            libc.sleep(600)
        libc._exit(0)
    os.waitpid(child, 0)
    time.sleep(0.5)  # the grandchild has written its pid


def conv_matrix(kernel, input_shape):
    _escape()
    return np.zeros((4, 16))


def conv2d_as_matmul(image, kernel):
    return np.zeros((2, 2))


def transposed_conv_as_matmul(x, kernel, input_shape):
    return np.zeros(tuple(input_shape))


def upsample_then_conv(x, size, kernel):
    return np.zeros((2, 2))
