"""Accident: conv_matrix recurses forever (a forgotten base case). The other three are right."""

import numpy as np


def conv_matrix(kernel, input_shape):
    return conv_matrix(kernel, input_shape)  # no base case: RecursionError


def conv2d_as_matmul(image, kernel):
    image, kernel = np.asarray(image, float), np.asarray(kernel, float)
    kh, kw = kernel.shape
    oh, ow = image.shape[0] - kh + 1, image.shape[1] - kw + 1
    return np.array([[np.sum(image[i:i + kh, j:j + kw] * kernel) for j in range(ow)] for i in range(oh)])


def transposed_conv_as_matmul(x, kernel, input_shape):
    x, kernel = np.asarray(x, float), np.asarray(kernel, float)
    kh, kw = kernel.shape
    out = np.zeros(tuple(input_shape))
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            out[i:i + kh, j:j + kw] += x[i, j] * kernel
    return out


def upsample_then_conv(x, size, kernel):
    kernel = np.asarray(kernel, float)
    up = np.repeat(np.repeat(np.asarray(x, float), size, axis=0), size, axis=1)
    kh, kw = kernel.shape
    top, left = (kh - 1) // 2, (kw - 1) // 2
    return conv2d_as_matmul(np.pad(up, ((top, kh - 1 - top), (left, kw - 1 - left))), kernel)
