"""The grader's own NumPy answers, written independently of ``reference/``.

The checks compare student results with these. Tests compare these with TensorFlow
(``tf.nn.conv2d``, ``tf.nn.conv2d_transpose``, ``UpSampling2D`` + ``Conv2D``) and with
the closed forms, so the ground truth is itself checked.
"""

from __future__ import annotations

import numpy as np

from grader.report.plots import mosaic  # noqa: F401  (the picture the grid checks compare)


def cross_correlate_valid(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Stride-1 'valid' cross-correlation by sliding the kernel (what tf.nn.conv2d computes)."""
    image, kernel = np.asarray(image, float), np.asarray(kernel, float)
    out_h, out_w = image.shape[0] - kernel.shape[0] + 1, image.shape[1] - kernel.shape[1] + 1
    out = np.zeros((out_h, out_w))
    for i in range(out_h):
        for j in range(out_w):
            out[i, j] = np.sum(image[i : i + kernel.shape[0], j : j + kernel.shape[1]] * kernel)
    return out


def unrolled_conv_matrix(kernel: np.ndarray, input_shape: tuple[int, int]) -> np.ndarray:
    """Column c of the matrix is the valid conv of the c-th unit image (so C @ x == conv(x))."""
    in_h, in_w = input_shape
    columns = []
    for index in range(in_h * in_w):
        unit = np.zeros(in_h * in_w)
        unit[index] = 1.0
        columns.append(cross_correlate_valid(unit.reshape(in_h, in_w), kernel).ravel())
    return np.stack(columns, axis=1)


def transposed_convolution(x: np.ndarray, kernel: np.ndarray, output_shape: tuple[int, int]) -> np.ndarray:
    """Stride-1 'VALID' transposed convolution by scattering each input times the kernel."""
    x, kernel = np.asarray(x, float), np.asarray(kernel, float)
    out = np.zeros(output_shape)
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            out[i : i + kernel.shape[0], j : j + kernel.shape[1]] += x[i, j] * kernel
    return out


def upsample_and_convolve(x: np.ndarray, size: int, kernel: np.ndarray) -> np.ndarray:
    """Nearest-neighbour upsampling, then a 'same' cross-correlation with TF's padding rule."""
    up = np.kron(np.asarray(x, float), np.ones((size, size)))
    k_h, k_w = np.asarray(kernel).shape
    top, left = (k_h - 1) // 2, (k_w - 1) // 2
    padded = np.pad(up, ((top, k_h - 1 - top), (left, k_w - 1 - left)))
    return cross_correlate_valid(padded, kernel)


def softmax(logits: np.ndarray, axis: int = -1) -> np.ndarray:
    shifted = logits - logits.max(axis=axis, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=axis, keepdims=True)


def attention(q, k, v, mask=None) -> tuple[np.ndarray, np.ndarray]:
    """softmax(q k^T / sqrt(d_k) + mask * -1e9) v over the last axis; rank-1 = one token."""
    q, k, v = (np.asarray(t, float) for t in (q, k, v))
    single = q.ndim == 1
    q, k, v = (t[np.newaxis, :] if t.ndim == 1 else t for t in (q, k, v))
    logits = q @ np.swapaxes(k, -1, -2) / np.sqrt(k.shape[-1])
    if mask is not None:
        logits = logits + np.asarray(mask, float) * -1e9
    weights = softmax(logits, axis=-1)
    output = weights @ v
    return (output[0], weights[0]) if single else (output, weights)


def kl_divergence(z_mean: np.ndarray, z_log: np.ndarray, convention: str = "log_std") -> np.ndarray:
    """KL(N(mu, sigma^2) || N(0, 1)) per sample; ``z_log`` is log sigma or log sigma^2."""
    log_var = 2.0 * z_log if convention == "log_std" else z_log
    return 0.5 * np.sum(z_mean**2 + np.exp(log_var) - 1.0 - log_var, axis=-1)


def one_nn_per_digit(z_train, y_train, z_test, y_test, k: int = 1) -> np.ndarray:
    """Percent correct per digit of a k-NN vote (Euclidean), by brute force."""
    z_train = np.asarray(z_train, float).reshape(len(z_train), -1)
    z_test = np.asarray(z_test, float).reshape(len(z_test), -1)
    distances = ((z_test[:, None, :] - z_train[None, :, :]) ** 2).sum(axis=-1)
    nearest = np.argsort(distances, axis=1, kind="stable")[:, :k]
    votes = np.asarray(y_train)[nearest]
    predicted = np.array([np.bincount(row, minlength=10).argmax() for row in votes])
    correct = predicted == np.asarray(y_test)
    return np.array([100.0 * correct[np.asarray(y_test) == digit].mean() for digit in range(10)])


def corner_grid(z_min, z_max, n: int) -> np.ndarray:
    """(n, n, 2): row 0 is the top (highest z[1]), column 0 the left (lowest z[0])."""
    xs = np.linspace(float(z_min[0]), float(z_max[0]), n)
    ys = np.linspace(float(z_max[1]), float(z_min[1]), n)
    return np.stack(np.meshgrid(xs, ys), axis=-1)
