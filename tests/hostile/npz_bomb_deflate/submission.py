"""Cheat: make the worker's reply a zip bomb (600 MB of zeros, deflated to under 1 MB).

The graded function replaces numpy.savez, which the worker uses to send arrays to the
grader: the reply file is tiny on disk (under the file cap) and inflates in the trusted
parent. The parent must refuse it from its headers and a bounded read.
"""

import io
import zipfile

import numpy as np


def _bomb(file, **arrays):
    with zipfile.ZipFile(file, "w", zipfile.ZIP_DEFLATED) as archive:
        header = io.BytesIO()
        np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (600 * 2**17,)})
        with archive.open("result.npy", "w", force_zip64=True) as member:
            member.write(header.getvalue())
            zeros = bytes(2**20)
            for _ in range(600):  # 600 MB: bounded (this is a test)
                member.write(zeros)


def conv_matrix(kernel, input_shape):
    np.savez = _bomb
    return np.zeros((4, 16))


def conv2d_as_matmul(image, kernel):
    return np.zeros((2, 2))


def transposed_conv_as_matmul(x, kernel, input_shape):
    return np.zeros(tuple(input_shape))


def upsample_then_conv(x, size, kernel):
    return np.zeros((2, 2))
