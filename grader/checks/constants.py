"""Checks of module-level answers: numbers and words the exercises ask for."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from grader.checks.base import CheckInputs, StudentCallFailed, StudentError, Verdict, check

PROBE = ("constants",)


def constant_value(inputs: CheckInputs, name: str) -> Mapping[str, Any]:
    value = inputs.part("constants", name)
    if value.get("kind") == "none":
        raise StudentCallFailed(StudentError("invalid", name, "is still None: fill in your answer"))
    return value


def number_value(inputs: CheckInputs, name: str) -> float | None:
    value = constant_value(inputs, name)
    return value.get("value") if value.get("kind") == "number" else None


@check("constant_number", probes=PROBE, required_params=("name",))
def constantnumber_value(inputs: CheckInputs) -> Verdict:
    """A constant equals ``expected`` (or is at least ``minimum``)."""
    name = inputs.params["name"]
    what = inputs.params.get("what", name)
    found = number_value(inputs, name)
    if found is None:
        return Verdict.failed(f"{name} should be a number; it is {constant_value(inputs, name).get('kind')}.")
    if "expected" in inputs.params:
        expected = float(inputs.params["expected"])
        if found == expected:
            return Verdict.passed(f"{name} = {found:g}: {what} is right.")
        return Verdict.failed(f"{name} is {found:g}; the exercise asks for {expected:g} ({what}).")
    minimum = float(inputs.params["minimum"])
    if found >= minimum:
        return Verdict.passed(f"{name} = {found:g} (at least {minimum:g}).")
    return Verdict.failed(f"{name} is {found:g}; the exercise asks for at least {minimum:g} ({what}).")


def _readings(params: Mapping[str, Any], functions: Mapping[str, Any]) -> str | None:
    expected = params.get("expected")
    if not isinstance(expected, dict) or not expected:
        return "field 'params.expected': must be a table { \"what the reading is\" = [numbers], ... }"
    for reading, values in expected.items():
        if not isinstance(values, list) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in values
        ):
            return f"field 'params.expected.{reading}': must be a list of numbers"
    return None


@check("constant_array", probes=PROBE, required_params=("name", "expected"), validate=_readings)
def constant_array(inputs: CheckInputs) -> Verdict:
    """A constant is a list of numbers that matches one of the valid readings of the exercise
    (``expected``: reading -> values; ``atol``, default 1e-3; ``what``, what is read that way)."""
    name = inputs.params["name"]
    atol = float(inputs.params.get("atol", 1e-3))
    what = inputs.params.get("what", "the exercise")
    value = constant_value(inputs, name)
    if value.get("kind") == "number":
        found = np.array([value["value"]])
    elif value.get("kind") == "array":
        found = inputs.array("constants", name).ravel()
    else:
        return Verdict.failed(
            f"{name} should be a list of numbers; it is a {value.get('type', value.get('kind'))}."
        )
    readings = {
        reading: np.asarray(values, dtype=np.float64) for reading, values in inputs.params["expected"].items()
    }
    for reading, expected in readings.items():
        if found.shape == expected.shape and np.allclose(expected, found, atol=atol):
            return Verdict.passed(
                f"{name} = {np.round(found, 4).tolist()}: right, reading {what} as {reading}."
            )
    listed = "; ".join(f"as {reading}: {np.round(v, 4).tolist()}" for reading, v in readings.items())
    return Verdict.failed(f"{name} is {np.round(found, 4).tolist()}; expected ({listed}).")
