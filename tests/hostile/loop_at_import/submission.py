"""Accident: an endless loop at module level (a training loop left in the file)."""

import numpy as np

step = 0
while True:  # "train until converged"
    step += 1


def conv_matrix(kernel, input_shape):
    return np.zeros((4, 16))
