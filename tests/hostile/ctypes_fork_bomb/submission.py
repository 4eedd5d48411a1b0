"""Cheat/accident: a C fork bomb whose processes leave the worker (bounded: 2**7 processes).

Every process forks seven times, its children too; each child writes its pid and PID
namespace into the item's output, leaves the worker's session (setsid) and ends as
``sleep 30`` with an empty environment (no sandbox token). The test checks that they are gone
once grading is over; a pids cgroup, where there is one, refuses forks beyond its limit.
"""

import ctypes
import os

import numpy as np


def conv_matrix(kernel, input_shape):
    libc = ctypes.CDLL(None, use_errno=True)
    original = os.getpid()
    for _ in range(7):
        pid = libc.fork()
        if pid == 0:
            os.write(1, f"background pid {os.getpid()} in {os.readlink('/proc/self/ns/pid')}\n".encode())
        elif pid < 0:
            os.write(1, f"fork refused: {os.strerror(ctypes.get_errno())}\n".encode())
            break
    if os.getpid() != original:
        libc.setsid()
        argv = (ctypes.c_char_p * 3)(b"/bin/sleep", b"30", None)
        libc.execve(b"/bin/sleep", argv, (ctypes.c_char_p * 1)(None))
        libc._exit(1)
    libc.sleep(30)
    return np.zeros((4, 16))


def conv2d_as_matmul(image, kernel):
    return np.zeros((2, 2))


def transposed_conv_as_matmul(x, kernel, input_shape):
    return np.zeros(tuple(input_shape))


def upsample_then_conv(x, size, kernel):
    return np.zeros((2, 2))
