"""``matches_reference``: a function exercise graded against the reference, case by case.

The rubric declares the function's cases (``grader.functions``); the worker's ``calls``
probe returns the student's results; the reference's results on the same cases come from a
trusted process (``grader.reference_calls``). This check compares them with the item's
tolerances and says, for each failing case, what the call was and what was expected and came
back: a shape, or the entry that differs most. The item earns the fraction of its cases that match.

Params: ``function``; ``cases`` (default: all of the function's cases); ``atol`` (1e-6) and
``rtol`` (0); ``compare``, the outputs compared (default: all); ``squeeze`` (false): size-1
axes do not count when shapes are compared; ``diagnose``: names of diagnosis hooks, asked in
order for a sentence about a failing case ("the kernel is flipped"); ``passed``: the feedback
when every case matches (default: the function is right on its cases); ``partial`` (true):
false gives no points unless every case matches.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from grader.checks.base import CheckInputs, StudentCallFailed, StudentError, Verdict, check
from grader.functions import CaseSpec, FunctionSpec, output_key, probe_name

PARAMS = ("function", "cases", "atol", "rtol", "compare", "squeeze", "diagnose", "passed", "partial")


@dataclass(frozen=True)
class CaseOutcome:
    """One case of one call, as a diagnosis hook sees it (plain data only)."""

    function: str
    case: CaseSpec
    args: dict[str, np.ndarray]  # the arguments as the rubric declares them
    expected: dict[str, np.ndarray]  # output name -> the reference's result
    found: dict[str, np.ndarray]  # output name -> the student's result; empty after an error
    error: StudentError | None = None


Diagnosis = Callable[[CaseOutcome], "str | None"]
DIAGNOSES: dict[str, Diagnosis] = {}


def diagnosis(name: str) -> Callable[[Diagnosis], Diagnosis]:
    """Register a diagnosis hook under ``name``; rubric items list hooks in ``params.diagnose``."""

    def register(function: Diagnosis) -> Diagnosis:
        if name in DIAGNOSES:
            raise ValueError(f"diagnosis '{name}' registered twice")
        DIAGNOSES[name] = function
        return function

    return register


def validate(params: Mapping[str, Any], functions: Mapping[str, FunctionSpec]) -> str | None:
    """What is wrong with an item's params (naming the field), checked when the rubric loads."""
    unknown = set(params) - set(PARAMS)
    if unknown:
        return f"field 'params.{sorted(unknown)[0]}': unknown parameter ({', '.join(PARAMS)})"
    spec = functions.get(params["function"])
    if spec is None:
        known = ", ".join(functions) or "none: add a [functions.NAME] table"
        return f"field 'params.function': no [functions.{params['function']}] table (declared: {known})"
    for field, allowed in (("cases", spec.cases), ("compare", spec.outputs), ("diagnose", DIAGNOSES)):
        names = params.get(field, [])
        if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
            return f"field 'params.{field}': must be a list of names"
        for name in names:
            if name not in allowed:
                return f"field 'params.{field}': unknown '{name}' (known: {', '.join(allowed)})"
    for field in ("atol", "rtol"):
        value = params.get(field, 0.0)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            return f"field 'params.{field}': must be a non-negative number"
    for field in ("squeeze", "partial"):
        if not isinstance(params.get(field, False), bool):
            return f"field 'params.{field}': must be true or false"
    if not isinstance(params.get("passed", ""), str):
        return "field 'params.passed': must be a sentence"
    return None


@check(
    "matches_reference",
    probes=lambda params: (probe_name(params["function"]),),
    required_params=("function",),
    validate=validate,
)
def matches_reference(inputs: CheckInputs) -> Verdict:
    params = inputs.params
    spec: FunctionSpec = inputs.expected["functions"][params["function"]]
    hooks = [DIAGNOSES[name] for name in params.get("diagnose", [])]
    names = list(params.get("cases") or spec.cases)
    outcomes = [_outcome(inputs, spec, name) for name in names]
    for outcome in outcomes:  # a missing or unwritten function: one message for the item, not per case
        if outcome.error is not None and outcome.error.kind in ("missing", "not_implemented"):
            raise StudentCallFailed(outcome.error)
    errors = [outcome for outcome in outcomes if outcome.error is not None]
    if len(errors) == len(outcomes):  # it fails on every case: the first error, as an error
        raise StudentCallFailed(_with_advice(errors[0], hooks))
    problems: list[str] = []
    seen: set[str] = set()  # a diagnosis said once: later cases with the same mistake only say so
    for outcome in outcomes:
        problem = _problem(outcome, params, hooks, seen)
        if problem:
            problems.append(problem)
    passed = len(outcomes) - len(problems)
    if not problems:
        return Verdict.passed(params.get("passed") or f"{spec.name} is right on {_cases_text(outcomes)}.")
    fraction = passed / len(outcomes) if params.get("partial", True) else 0.0
    return Verdict(fraction, " ".join(problems))


def _outcome(inputs: CheckInputs, spec: FunctionSpec, name: str) -> CaseOutcome:
    probe = spec.probe
    record = inputs.probes[probe].get(name, {})
    reference = inputs.expected["reference_calls"][spec.name]
    expected = {output: reference[output_key(name, output)] for output in spec.outputs}
    error = StudentError.from_dict(record["error"]) if "error" in record else None
    keys = {output: output_key(name, output) for output in spec.outputs}
    if error is None and not all(inputs.has_array(probe, key) for key in keys.values()):
        error = StudentError("invalid", spec.name, "returned nothing the grader could read")  # a forged reply
    found = {} if error else {output: inputs.array(probe, key) for output, key in keys.items()}
    return CaseOutcome(spec.name, spec.cases[name], spec.case_args(name), expected, found, error)


def _call(outcome: CaseOutcome) -> str:
    text = outcome.case.call_text(outcome.function)
    return f"{text} ({outcome.case.label})" if outcome.case.label else text


def _cases_text(outcomes: list[CaseOutcome]) -> str:
    labels = [outcome.case.label or outcome.case.args_text() for outcome in outcomes]
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]


def _diagnose(outcome: CaseOutcome, hooks: list[Diagnosis]) -> str:
    for hook in hooks:
        text = hook(outcome)
        if text:
            return text
    return ""


def _with_advice(outcome: CaseOutcome, hooks: list[Diagnosis]) -> StudentError:
    assert outcome.error is not None
    advice = _diagnose(outcome, hooks)
    return replace(outcome.error, advice=advice) if advice else outcome.error


def _problem(
    outcome: CaseOutcome, params: Mapping[str, Any], hooks: list[Diagnosis], seen: set[str]
) -> str | None:
    """One sentence about a failing case (plus a diagnosis), or None when it matches."""
    if outcome.error is not None:
        error = _with_advice(outcome, hooks)
        message = error.message[:200].rstrip(". ")
        advice = f" Advice: {error.advice}" if error.advice else ""
        if error.kind == "invalid":  # it returned something that is not an array of numbers
            return f"{_call(outcome)}: {message}.{advice}"
        if error.kind == "exit":
            return f"{_call(outcome)} called {message}; the grader cannot give points for it."
        return f"{_call(outcome)} raised {error.exc_type}: {message}.{advice}"
    difference = _difference(outcome, params)
    if difference is None:
        return None
    diagnosis_text = _diagnose(outcome, hooks)
    if diagnosis_text and diagnosis_text in seen:
        return f"{_call(outcome)}: {difference} (the same mistake)."
    if diagnosis_text:
        seen.add(diagnosis_text)
    return f"{_call(outcome)}: {difference}." + (f" {diagnosis_text}" if diagnosis_text else "")


def _difference(outcome: CaseOutcome, params: Mapping[str, Any]) -> str | None:
    """The first difference, in words: a shape, or the entry that differs most. None: it matches."""
    atol, rtol = float(params.get("atol", 1e-6)), float(params.get("rtol", 0.0))
    outputs = params.get("compare") or list(outcome.expected)
    several = len(outcome.expected) > 1
    for output in outputs:
        expected, found = outcome.expected[output], outcome.found[output]
        what = f"{output} " if several else ""
        if params.get("squeeze") and expected.shape != found.shape and expected.size == found.size:
            if np.squeeze(expected).shape == np.squeeze(found).shape:
                expected, found = np.squeeze(expected), np.squeeze(found)
        if expected.shape != found.shape:
            return f"expected {what}shape {tuple(expected.shape)}, got {tuple(found.shape)}"
        if np.allclose(found, expected, atol=atol, rtol=rtol):  # the grader's arrays only, never an object
            continue
        if expected.ndim == 0:
            return f"expected {what}{float(expected):.4g}, got {float(found):.4g}"
        gap = np.where(np.isnan(found), np.inf, np.abs(expected - found))
        worst = np.unravel_index(np.argmax(gap), expected.shape)
        index = tuple(int(i) for i in worst)
        return f"{what}at index {index} expected {expected[worst]:.4g}, got {found[worst]:.4g}"
    return None
