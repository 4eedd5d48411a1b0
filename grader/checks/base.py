"""The check registry and the plain data a check works on.

A check is a pure function that runs in the trusted parent process. It receives the
raw data that the sandboxed worker's probes returned (JSON and NumPy arrays), the
item's parameters and the calibrated thresholds, and returns a :class:`Verdict`: the
fraction of the item's points earned and one feedback sentence for the student.

Checks never see student objects, only data, so a custom ``__eq__`` or a lying
``__array__`` cannot reach them; comparisons put the grader's value on the left.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Verdict:
    """What a check decided: ``fraction`` of the points (0..1) and why."""

    fraction: float
    feedback: str
    metrics: dict[str, float] = field(default_factory=dict)
    status: str | None = None  # None: derived from fraction; or "skipped" / "error"

    @staticmethod
    def passed(feedback: str, **metrics: float) -> Verdict:
        return Verdict(1.0, feedback, dict(metrics))

    @staticmethod
    def failed(feedback: str, **metrics: float) -> Verdict:
        return Verdict(0.0, feedback, dict(metrics))

    @staticmethod
    def skipped(feedback: str) -> Verdict:
        return Verdict(0.0, feedback, {}, status="skipped")


@dataclass(frozen=True)
class StudentError:
    """A call into student code that raised, was missing, or was not implemented."""

    kind: str  # "missing" | "not_implemented" | "exception" | "exit" | "invalid"
    name: str  # the student function or constant involved
    message: str
    exc_type: str = ""
    traceback: tuple[str, ...] = ()
    advice: str = ""

    @staticmethod
    def from_dict(raw: Mapping[str, Any]) -> StudentError:
        return StudentError(
            kind=str(raw.get("kind", "exception")),
            name=str(raw.get("name", "")),
            message=str(raw.get("message", "")),
            exc_type=str(raw.get("type", "")),
            traceback=tuple(str(line) for line in raw.get("traceback", ())),
            advice=str(raw.get("advice", "")),
        )

    def feedback(self) -> str:
        if self.kind == "missing" and self.message.endswith(")") and " is not defined (" in self.message:
            where = self.message.partition(" is not defined (")[2][:-1]  # set by a dropped statement
            return (
                f"the grader looked for `{self.name}` but your submission sets it only in code the "
                f"grader does not run ({where})."
            )
        if self.kind == "missing":
            return (
                f"the grader looked for `{self.name}` but your submission does not define it "
                "(check the spelling; names are in the template)."
            )
        if self.kind == "not_implemented":
            stub = self.message.strip()  # the template's stubs raise NotImplementedError("their name")
            if stub.isidentifier() and stub != self.name:  # a finished function that calls a stub
                return f"not implemented yet: {stub} (which {self.name} calls)"
            return f"not implemented yet: {self.name}"
        if self.kind == "exit":
            return (
                f"your code called {self.message} during {self.name}; the grader cannot give points for it."
            )
        if self.kind == "invalid":
            return f"{self.name}: {self.message}"
        text = f"{self.name} raised {self.exc_type}: {self.message}"
        if self.advice:
            text += f"\nAdvice: {self.advice}"
        return text

    @property
    def status(self) -> str:
        return "failed" if self.kind in ("missing", "not_implemented", "invalid") else "error"


class StudentCallFailed(Exception):
    """Raised inside a check when the data it needs is a student error."""

    def __init__(self, error: StudentError):
        super().__init__(error.message)
        self.error = error


@dataclass
class CheckInputs:
    """Everything a check may look at. Built by the grading engine."""

    params: Mapping[str, Any]
    probes: Mapping[str, Mapping[str, Any]]
    arrays: Mapping[str, Mapping[str, np.ndarray]]
    thresholds: Mapping[str, float] = field(default_factory=dict)
    expected: Mapping[str, Any] = field(default_factory=dict)  # parent-only reference data

    def part(self, probe: str, key: str | None = None) -> Any:
        """The probe's data (or one key of it); a student error there raises StudentCallFailed."""
        data: Any = self.probes[probe]
        if key is not None:
            data = data.get(key) if isinstance(data, Mapping) else None
            if data is None:
                raise KeyError(f"probe {probe} returned no '{key}'")
        if isinstance(data, Mapping) and "error" in data and isinstance(data["error"], Mapping):
            raise StudentCallFailed(StudentError.from_dict(data["error"]))
        return data

    def array(self, probe: str, name: str) -> np.ndarray:
        return self.arrays[probe][name]

    def has_array(self, probe: str, name: str) -> bool:
        return name in self.arrays.get(probe, {})

    def threshold(self, name: str) -> float:
        """A calibrated threshold, else the rubric's fallback in params."""
        if name in self.thresholds:
            return float(self.thresholds[name])
        return float(self.params[name])


CheckFunction = Callable[[CheckInputs], Verdict]


ProbeList = tuple[str, ...] | Callable[[Mapping[str, Any]], tuple[str, ...]]
# (item params, the rubric's function exercises) -> what is wrong, naming the field; None when valid
ParamsValidator = Callable[[Mapping[str, Any], Mapping[str, Any]], "str | None"]


@dataclass(frozen=True)
class CheckSpec:
    name: str
    function: CheckFunction
    probes: ProbeList  # the probes whose data the check reads (may depend on the item's params)
    required_params: tuple[str, ...] = ()
    validate: ParamsValidator | None = None  # checked when the rubric loads

    def probes_for(self, params: Mapping[str, Any]) -> tuple[str, ...]:
        return tuple(self.probes(params)) if callable(self.probes) else self.probes


CHECKS: dict[str, CheckSpec] = {}


def check(
    name: str,
    probes: ProbeList,
    required_params: tuple[str, ...] = (),
    validate: ParamsValidator | None = None,
) -> Callable[[CheckFunction], CheckFunction]:
    """Register a check under ``name``; the rubric refers to it by that name."""

    def register(function: CheckFunction) -> CheckFunction:
        if name in CHECKS:
            raise ValueError(f"check '{name}' registered twice")
        CHECKS[name] = CheckSpec(name, function, probes, tuple(required_params), validate)
        return function

    return register


def shape_text(shape: Any) -> str:
    """(None, 1, 2, 1) -> "(N, 1, 2, 1)": shapes in the student's terms."""
    if shape is None:
        return "unknown"
    dims = ["N"] + ["?" if dim is None else str(dim) for dim in shape]
    return "(" + ", ".join(dims) + ")"


def sentences(problems: list[str]) -> str:
    """Problems joined with '; ' and ended with one full stop (none after a '?' or '.')."""
    text = "; ".join(problems)
    return text if text.endswith((".", "?", "!")) else text + "."


def fraction_of(passed: int, total: int) -> float:
    return 0.0 if total == 0 else passed / total
