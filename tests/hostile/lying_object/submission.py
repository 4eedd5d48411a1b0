"""Cheat: results that claim to equal anything (__eq__) and lie when converted (__array__, __float__)."""

import numpy as np


class Anything(np.ndarray):
    """An array subclass that compares equal to everything."""

    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False


class Liar:
    """Not an array at all: equal to everything, and converts to whatever looks plausible."""

    def __init__(self, shape):
        self.shape = shape

    def __eq__(self, other):
        return True

    def __bool__(self):
        return True

    def __float__(self):
        return 57.0

    def __array__(self, dtype=None, copy=None):
        return np.full(self.shape, 57.0)

    def __len__(self):
        return self.shape[0]


def conv_matrix(kernel, input_shape):
    return Liar((4, 16))


def conv2d_as_matmul(image, kernel):
    return np.zeros((2, 2)).view(Anything)


def transposed_conv_as_matmul(x, kernel, input_shape):
    return Liar(tuple(input_shape))


def upsample_then_conv(x, size, kernel):
    return np.ones((3, 3)).view(Anything)
