"""Accident: the file uses `np` but never imports NumPy."""


def conv_matrix(kernel, input_shape):
    return np.zeros((4, 16))  # noqa: F821


def conv2d_as_matmul(image, kernel):
    return np.zeros((2, 2))  # noqa: F821


def transposed_conv_as_matmul(x, kernel, input_shape):
    return np.zeros(tuple(input_shape))  # noqa: F821


def upsample_then_conv(x, size, kernel):
    return np.zeros((2, 2))  # noqa: F821
