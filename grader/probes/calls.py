"""The one probe of every function exercise: call a function on the rubric's cases.

``calls:<function>`` is requested with the arguments that ``grader.functions`` declares:
per case, which worker input holds each argument and how to hand it over. It returns each
output as an array and never compares anything: the reference's results stay in the
trusted parent. Each function is its own probe, so a crash or a hang costs only its items.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from grader.probes.base import ProbeOutput, StudentCallError, WorkerContext, probe, student_array


def as_argument(value: np.ndarray | None, kind: str) -> Any:
    if value is None or kind == "none":
        return None
    if kind == "list":
        return value.tolist()
    if kind == "tuple":
        return tuple(value.tolist())
    if kind == "int":
        return int(value)
    if kind == "float":
        return float(value)
    return value.copy()  # a fresh array per call: a function that writes into it changes no other case


def _outputs(function: str, result: Any, names: list[str]) -> dict[str, np.ndarray]:
    if len(names) == 1:
        return {names[0]: student_array(function, result, np.float64)}
    if not isinstance(result, (tuple, list)) or len(result) != len(names):
        raise StudentCallError(
            {
                "kind": "invalid",
                "name": function,
                "message": f"returned {type(result).__name__}; expected a tuple ({', '.join(names)})",
            }
        )
    return {
        name: student_array(function, value, np.float64) for name, value in zip(names, result, strict=True)
    }


@probe("calls")
def calls(ctx: WorkerContext, args: dict[str, Any]) -> ProbeOutput:
    """``args``: {"function", "outputs", "cases": {case: [{"key", "type"}, ...]}} (grader.functions)."""
    function, names = args["function"], list(args["outputs"])
    data: dict[str, Any] = {}
    arrays: dict[str, np.ndarray] = {}
    for case, arguments in args["cases"].items():
        values = [as_argument(ctx.inputs.get(a["key"]), a["type"]) for a in arguments]
        try:
            outputs = _outputs(function, ctx.call(function, *values), names)
        except StudentCallError as exc:
            data[case] = {"error": exc.info}
            continue
        data[case] = {"shapes": {name: list(array.shape) for name, array in outputs.items()}}
        arrays.update({f"{case}.{name}": array for name, array in outputs.items()})
    return ProbeOutput(data, arrays)
