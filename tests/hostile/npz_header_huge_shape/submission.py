"""Cheat: a reply whose array header declares 16 TiB (numpy.savez replaced): numpy would try
to allocate it in the trusted parent (MemoryError: the grader exited with an internal error)."""

import io
import zipfile

import numpy as np


def _huge(file, **arrays):
    with zipfile.ZipFile(file, "w") as archive:
        header = io.BytesIO()
        np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (2**41,)})
        archive.writestr("result.npy", header.getvalue() + bytes(64))


def conv_matrix(kernel, input_shape):
    np.savez = _huge
    return np.zeros((4, 16))


def conv2d_as_matmul(image, kernel):
    return np.zeros((2, 2))


def transposed_conv_as_matmul(x, kernel, input_shape):
    return np.zeros(tuple(input_shape))


def upsample_then_conv(x, size, kernel):
    return np.zeros((2, 2))
