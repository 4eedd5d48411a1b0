"""Cheat/accident: 1 GB of System V shared memory, written and detached: in no process's RSS,
and (without an IPC namespace) it outlives the worker."""

import ctypes

import numpy as np

IPC_PRIVATE, IPC_CREAT = 0, 0o1000


def conv_matrix(kernel, input_shape):
    libc = ctypes.CDLL(None, use_errno=True)
    libc.shmat.restype = ctypes.c_void_p
    for _ in range(4):  # 4 x 256 MB: bounded (this is a test)
        size = 2**28
        segment = libc.shmget(IPC_PRIVATE, ctypes.c_size_t(size), IPC_CREAT | 0o600)
        if segment < 0:
            raise OSError(ctypes.get_errno(), "shmget failed")
        address = libc.shmat(segment, None, 0)
        ctypes.memset(address, 1, size)
        libc.shmdt(ctypes.c_void_p(address))
    return np.zeros((4, 16))


def conv2d_as_matmul(image, kernel):
    return np.zeros((2, 2))


def transposed_conv_as_matmul(x, kernel, input_shape):
    return np.zeros(tuple(input_shape))


def upsample_then_conv(x, size, kernel):
    return np.zeros((2, 2))
