"""Cheat: read the rubric and the calibration files, looking for thresholds and expected values."""

import os

import numpy as np

RUBRIC = "__RUBRIC__"
SHIPPED = "__REPO__/rubrics/transposed_conv.toml"
CALIBRATION = "__REPO__/rubrics/autoencoders.calibration.json"


def _steal(path):
    with open(path) as handle:
        return handle.read()


def conv_matrix(kernel, input_shape):
    text = _steal(RUBRIC)  # raises: the rubric the grader uses
    return np.zeros((4, 16)) + len(text)


def conv2d_as_matmul(image, kernel):
    return np.zeros((2, 2)) + len(os.listdir(os.path.dirname(SHIPPED)))


def transposed_conv_as_matmul(x, kernel, input_shape):
    return np.zeros(tuple(input_shape)) + len(_steal(SHIPPED))


def upsample_then_conv(x, size, kernel):
    return np.zeros((2, 2)) + len(_steal(CALIBRATION))
