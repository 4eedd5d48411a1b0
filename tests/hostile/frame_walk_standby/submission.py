"""Cheat: tell a self-check from a grading by walking the frames up to the worker's init message
(its "standby" key) or other grader state, then behave differently."""

import sys

import numpy as np


def _grader_state():
    found = []
    frame = sys._getframe()
    while frame is not None:
        for name, value in list(frame.f_locals.items()):
            if name == "init" or (isinstance(value, dict) and "standby" in value):
                found.append(f"{frame.f_code.co_name}:{name}")
        frame = frame.f_back
    return found


def conv_matrix(kernel, input_shape):
    found = _grader_state()
    raise RuntimeError(f"found the grader's state: {found}" if found else "no grader state in reach")


def conv2d_as_matmul(image, kernel):
    return np.zeros((2, 2))


def transposed_conv_as_matmul(x, kernel, input_shape):
    return np.zeros(tuple(input_shape))


def upsample_then_conv(x, size, kernel):
    return np.zeros((2, 2))
