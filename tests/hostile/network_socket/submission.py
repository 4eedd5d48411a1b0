"""Cheat: open network sockets (send the inputs out, fetch answers from a server)."""

import socket

import numpy as np


def conv_matrix(kernel, input_shape):
    connection = socket.create_connection(("127.0.0.1", 8000), timeout=1)  # raises
    connection.sendall(np.asarray(kernel).tobytes())
    return np.frombuffer(connection.recv(1 << 16)).reshape(4, 16)


def conv2d_as_matmul(image, kernel):
    server = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    server.bind(("::", 0))
    return np.zeros((2, 2))


def transposed_conv_as_matmul(x, kernel, input_shape):
    unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    unix.connect("/var/run/docker.sock")
    return np.zeros(tuple(input_shape))


def upsample_then_conv(x, size, kernel):
    return np.zeros((2, 2))
