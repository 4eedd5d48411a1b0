"""Student template: transposed convolution as a matrix product (lecture slides).

Replace every ``raise NotImplementedError(...)`` with your own NumPy code. Keep every
name and signature as it is: the grader looks them up by name.

Conventions for all four functions:

- images, kernels and feature maps are 2-D arrays (H, W), one channel, no batch axis;
- stride 1;
- "convolution" means what deep-learning libraries compute, a cross-correlation: the
  kernel is NOT flipped;
- the grader compares your results with TensorFlow's ``tf.nn.conv2d`` and
  ``tf.nn.conv2d_transpose``; you may use TensorFlow to check your own work, but the
  functions themselves should compute with NumPy.

Check your file before handing it in:

    grader check transposed_conv.py --exercise tc1   # one exercise
    grader check transposed_conv.py                  # all of them
"""

from __future__ import annotations

import numpy as np


def conv_matrix(kernel: np.ndarray, input_shape: tuple[int, int]) -> np.ndarray:
    """The convolution of an (in_h, in_w) input with ``kernel``, written as a matrix C.

    Use a 'valid' convolution (no padding): the output is (out_h, out_w) with
    out_h = in_h - k_h + 1 and out_w = in_w - k_w + 1. Return C with the shape
    (out_h*out_w, in_h*in_w), such that ``C @ image.ravel()`` is the flattened output
    (row-major order, as ``ravel`` gives). Each row of C belongs to one output pixel.

    Example from the slides: a 3x3 kernel on a 4x4 input gives a 4x16 matrix.
    """
    raise NotImplementedError("conv_matrix")


def conv2d_as_matmul(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """The 'valid' convolution of ``image`` with ``kernel``, computed as ``C @ x``.

    Build C with ``conv_matrix``, multiply it with the flattened image and reshape the
    result to (out_h, out_w). It must equal ``tf.nn.conv2d`` with stride 1 and 'VALID'.

    Slide example: the image [[2, 1, 0, 3], [0, 0, 1, 2], [3, 1, 2, 0], [0, 2, 2, 1]] with
    the kernel [[1, 2, 3], [4, 5, 6], [7, 8, 9]] gives [[57, 50], [66, 61]]. (The slide
    prints 60 at the top right; the computation, and TensorFlow, give 50.)
    """
    raise NotImplementedError("conv2d_as_matmul")


def transposed_conv_as_matmul(x: np.ndarray, kernel: np.ndarray, input_shape: tuple[int, int]) -> np.ndarray:
    """The transposed convolution of the small map ``x``, computed as ``C.T @ x``.

    C is ``conv_matrix(kernel, input_shape)``: the transpose maps a flattened
    (out_h, out_w) map back to a flattened map of ``input_shape``. Return it reshaped to
    ``input_shape``. It must equal ``tf.nn.conv2d_transpose`` with stride 1, 'VALID' and
    ``output_shape`` = ``input_shape``.
    """
    raise NotImplementedError("transposed_conv_as_matmul")


def upsample_then_conv(x: np.ndarray, size: int, kernel: np.ndarray) -> np.ndarray:
    """Upsample ``x`` by the integer ``size`` with nearest neighbours, then convolve.

    Upsampling repeats every pixel into a ``size`` x ``size`` block, so (H, W) becomes
    (H*size, W*size). Then apply a stride-1 'same' convolution with ``kernel``: zero-pad
    so the output keeps the upsampled shape; like TensorFlow, an even kernel gets its
    extra padding row and column at the bottom and right.

    The result must equal ``UpSampling2D(size)`` followed by a ``Conv2D(padding="same")``
    that has ``kernel`` as weights and no bias: the upsampling the slides recommend
    instead of transposed convolutions, because it avoids checkerboard artefacts.
    """
    raise NotImplementedError("upsample_then_conv")
