"""Cheat: a reply of 50,000 tiny arrays (numpy.savez replaced), each cheap, together a flood.

The parent must refuse the reply from its directory (a cap on the number of arrays) before it
reads them, and blame the submission, never the grader.
"""

import zipfile

import numpy as np


def _many(file, **arrays):
    with zipfile.ZipFile(file, "w", zipfile.ZIP_STORED) as archive:
        for index in range(50_000):  # bounded (this is a test)
            archive.writestr(f"a{index}.npy", b"")


def conv_matrix(kernel, input_shape):
    np.savez = _many
    return np.zeros((4, 16))


def conv2d_as_matmul(image, kernel):
    return np.zeros((2, 2))


def transposed_conv_as_matmul(x, kernel, input_shape):
    return np.zeros(tuple(input_shape))


def upsample_then_conv(x, size, kernel):
    return np.zeros((2, 2))
