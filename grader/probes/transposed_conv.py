"""Probes of the ``transposed_conv`` assignment: each function on the slide example and on random cases."""

from __future__ import annotations

from typing import Any

import numpy as np

from grader.probes.base import ProbeOutput, StudentCallError, WorkerContext, probe, student_array

# function -> its arguments, in order, as they are named in inputs.npz ("tc_<function>_<case>_<arg>")
SIGNATURES = {
    "conv_matrix": ("kernel", "input_shape"),
    "conv2d_as_matmul": ("image", "kernel"),
    "transposed_conv_as_matmul": ("x", "kernel", "input_shape"),
    "upsample_then_conv": ("x", "size", "kernel"),
}
CASES = ("example", "random")


def _argument(ctx: WorkerContext, key: str, name: str) -> Any:
    value = ctx.inputs[key]
    if name == "input_shape":
        return tuple(int(v) for v in value)
    if name == "size":
        return int(value)
    return value.copy()


def _run_function(ctx: WorkerContext, function: str) -> ProbeOutput:
    """One function on both cases; each function is its own probe, so a crash costs only its items."""
    data: dict[str, Any] = {}
    arrays: dict[str, np.ndarray] = {}
    for case in CASES:
        call_args = [_argument(ctx, f"tc_{function}_{case}_{name}", name) for name in SIGNATURES[function]]
        key = f"{function}_{case}"
        try:
            arrays[key] = student_array(function, ctx.call(function, *call_args), np.float64)
            data[key] = {"shape": list(arrays[key].shape)}
        except StudentCallError as exc:
            data[key] = {"error": exc.info}
    return ProbeOutput(data, arrays)


for _function in SIGNATURES:
    probe(f"tc:{_function}")(lambda ctx, args, function=_function: _run_function(ctx, function))
