"""Checks of module-level answers: numbers and words the exercises ask for."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

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
