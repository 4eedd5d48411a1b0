"""Corpus entry ported_toeplitz_blocks: conv_matrix in the idiom of the most copied 'convolution as a matrix product' answer: one scipy.linalg.toeplitz matrix per kernel row, placed as blocks of a 4-D array that is reshaped in place

Reference solution: transposed convolution as a matrix product (seeds 001 and 002). conv_matrix is written
in the idiom of the widely copied toeplitz_1_ch helper (scipy.linalg.toeplitz per kernel row, blocks in a
(o_h, o_w, i_h, i_w) array, W_conv.shape = ... to flatten), the other three functions use it as the
reference does.

A model submission, graded exactly as a student's file is. Every function takes 2-D arrays (H, W) and
works with stride 1.
"""

from __future__ import annotations

import numpy as np
from scipy import linalg


def toeplitz_1_ch(kernel, input_size):
    # shapes
    k_h, k_w = kernel.shape
    i_h, i_w = input_size
    o_h, o_w = i_h - k_h + 1, i_w - k_w + 1

    # one 1-D 'valid' correlation matrix (o_w x i_w) per kernel row
    rows = []
    for r in range(k_h):
        rows.append(linalg.toeplitz(c=(kernel[r, 0], *np.zeros(i_w - k_w)), r=(*kernel[r], *np.zeros(i_w - k_w))))

    # output row j sees input rows j .. j + k_h - 1 (padding = 0)
    W_conv = np.zeros((o_h, o_w, i_h, i_w))
    for i, B in enumerate(rows):
        for j in range(o_h):
            W_conv[j, :, i + j, :] = B

    W_conv.shape = (o_h * o_w, i_h * i_w)
    return W_conv


def conv_matrix(kernel, input_shape):
    return toeplitz_1_ch(np.asarray(kernel, dtype=float), input_shape)


def conv2d_as_matmul(image, kernel):
    image, kernel = np.asarray(image, dtype=float), np.asarray(kernel, dtype=float)
    out = conv_matrix(kernel, image.shape) @ image.reshape(-1)
    return out.reshape(image.shape[0] - kernel.shape[0] + 1, image.shape[1] - kernel.shape[1] + 1)


def transposed_conv_as_matmul(x, kernel, input_shape):
    x = np.asarray(x, dtype=float)
    return (conv_matrix(np.asarray(kernel, dtype=float), tuple(input_shape)).T @ x.reshape(-1)).reshape(input_shape)


def upsample_then_conv(x, size, kernel):
    kernel = np.asarray(kernel, dtype=float)
    up = np.repeat(np.repeat(np.asarray(x, dtype=float), size, axis=0), size, axis=1)
    k_h, k_w = kernel.shape
    top, left = (k_h - 1) // 2, (k_w - 1) // 2
    return conv2d_as_matmul(np.pad(up, ((top, k_h - 1 - top), (left, k_w - 1 - left))), kernel)
