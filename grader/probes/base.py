"""What a probe is, and how it calls student code. Runs inside the sandboxed worker.

A probe calls student functions on inputs the grader made and returns RAW data only:
a JSON-able dict and named NumPy arrays. It never sees labels of the scored test
images, thresholds or reference outputs; the trusted parent turns the raw data into
points (``grader/checks``).
"""

from __future__ import annotations

import re
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from grader.advice import advice_for_text
from grader.text_safety import plain_message


class StudentCallError(Exception):
    """A student function raised, is missing, or is a stub; ``info`` is the JSON error."""

    def __init__(self, info: dict[str, Any]):
        super().__init__(info.get("message", ""))
        self.info = info


class ExitCalled(BaseException):
    """Raised instead of ending the worker when student code calls ``os._exit``."""

    def __init__(self, code: Any):
        super().__init__(code)
        self.code = code


@dataclass
class ProbeOutput:
    data: dict[str, Any] = field(default_factory=dict)
    arrays: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass
class StageState:
    """Models a stage trained in this worker: every attempt, and the one the parent chose."""

    attempts: dict[int, dict[str, Any]] = field(default_factory=dict)
    selected: int | None = None
    seeds: dict[int, int] = field(default_factory=dict)

    def chosen(self) -> dict[str, Any] | None:
        if self.selected is None:
            return None
        return self.attempts.get(self.selected)


@dataclass
class WorkerContext:
    """The worker's view of one submission."""

    namespace: dict[str, Any]
    inputs: dict[str, np.ndarray]
    budget: dict[str, Any]
    work_dir: Path
    filenames: frozenset[str]
    dropped: dict[str, str] = field(default_factory=dict)  # name -> where it was dropped (notebook)
    stages: dict[str, StageState] = field(default_factory=dict)
    cache: dict[str, Any] = field(default_factory=dict)

    def stage(self, name: str) -> StageState:
        return self.stages.setdefault(name, StageState())

    def lookup(self, name: str) -> Any:
        if name not in self.namespace:
            message = f"{name} is not defined"
            if name in self.dropped:
                message += f" ({self.dropped[name]})"
            raise StudentCallError({"kind": "missing", "name": name, "message": message})
        return self.namespace[name]

    def call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """Call the student's function ``name``; any failure becomes a StudentCallError."""
        function = self.lookup(name)
        if not callable(function):
            raise StudentCallError(
                {
                    "kind": "invalid",
                    "name": name,
                    "message": f"{name} is a {type(function).__name__}, not a function",
                }
            )
        return self.guarded(name, function, *args, **kwargs)

    def guarded(self, name: str, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run student code (a function, or a method of a student object) and translate failures."""
        try:
            return function(*args, **kwargs)
        except StudentCallError:
            raise
        except NotImplementedError as exc:
            if not traceback_in_student_code(exc.__traceback__, self.filenames):
                raise StudentCallError(self.error_info(name, exc)) from None
            raise StudentCallError({"kind": "not_implemented", "name": name, "message": str(exc)}) from None
        except SystemExit as exc:
            raise StudentCallError(
                {"kind": "exit", "name": name, "message": f"sys.exit({exc.code!r})"}
            ) from None
        except ExitCalled as exc:
            raise StudentCallError(
                {"kind": "exit", "name": name, "message": f"os._exit({exc.code!r})"}
            ) from None
        except RecursionError as exc:
            raise StudentCallError(self.error_info(name, exc)) from None
        except Exception as exc:  # student code may raise anything
            raise StudentCallError(self.error_info(name, exc)) from None

    def error_info(self, name: str, exc: BaseException) -> dict[str, Any]:
        # Only the start of a message is shown: cut it before the regular expressions read it (a
        # student's exception may carry a whole array, tens of MB; tests/hostile/exception_huge_message).
        message = str(exc)[:MESSAGE_READ]
        return {
            "kind": "exception",
            "name": name,
            "type": type(exc).__name__,
            "message": _short(message),
            "traceback": student_traceback(exc, self.filenames),
            "advice": advice_for_text(type(exc).__name__, message, self.dropped),
        }

    def attempt(
        self, name: str, function: Callable[..., Any], *args: Any, **kwargs: Any
    ) -> tuple[Any, dict | None]:
        """Like :meth:`guarded` but returns ``(value, error_info)`` instead of raising."""
        try:
            return self.guarded(name, function, *args, **kwargs), None
        except StudentCallError as exc:
            return None, exc.info

    def try_call(self, name: str, *args: Any, **kwargs: Any) -> tuple[Any, dict | None]:
        """:meth:`call` that returns ``(value, error_info)`` instead of raising."""
        try:
            return self.call(name, *args, **kwargs), None
        except StudentCallError as exc:
            return None, exc.info

    def constant(self, name: str) -> Any:
        return self.lookup(name)


def traceback_in_student_code(tb: Any, filenames: frozenset[str]) -> bool:
    """True when the innermost frame is the student's (a stub raising NotImplementedError)."""
    last = None
    while tb is not None:
        last = tb
        tb = tb.tb_next
    return last is not None and last.tb_frame.f_code.co_filename in filenames


def student_traceback(exc: BaseException, filenames: frozenset[str], limit: int = 8) -> list[str]:
    """The traceback lines that point into the student's own code, innermost last."""
    lines = []
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename in filenames:
            code = (frame.line or "").strip()
            lines.append(f'File "{frame.filename}", line {frame.lineno}, in {frame.name}: {code}')
    return lines[-limit:]


FUNCTION_NODE = re.compile(r"\{\{function_node [^}]*\}\}")
MESSAGE_READ = 20_000  # characters of an exception message read for the feedback and its advice


def _short(text: str, limit: int = 600) -> str:
    text = plain_message(text).strip()  # Keras 3 bolds parts of its messages; a student's text escapes
    text = FUNCTION_NODE.sub("", text).strip()  # TF's internal kernel names mean nothing to a student
    return text if len(text) <= limit else text[: limit - 3] + "..."


Probe = Callable[[WorkerContext, dict[str, Any]], ProbeOutput]
PROBES: dict[str, Probe] = {}


def probe(name: str) -> Callable[[Probe], Probe]:
    def register(function: Probe) -> Probe:
        if name in PROBES:
            raise ValueError(f"probe '{name}' registered twice")
        PROBES[name] = function
        return function

    return register


def to_json_number(value: Any) -> float | None:
    """A student's number as a plain float (never the student's object), or None."""
    try:
        number = float(np.asarray(value, dtype=np.float64).reshape(()))
    except Exception:  # any object: the parent only sees what converts honestly
        return None
    return number if np.isfinite(number) else None


def student_array(name: str, value: Any, dtype: Any = np.float32) -> np.ndarray:
    """What a student function returned, as an array, or an 'invalid' StudentCallError."""
    try:
        return to_array(value, dtype)
    except Exception:  # any object
        raise StudentCallError(
            {
                "kind": "invalid",
                "name": name,
                "message": f"returned {type(value).__name__}, not an array of numbers",
            }
        ) from None


def to_array(value: Any, dtype: Any = np.float32) -> np.ndarray:
    """A student's array-like as a plain NumPy array (tensors included)."""
    if hasattr(value, "numpy") and callable(value.numpy):
        value = value.numpy()
    array = np.array(value, dtype=dtype, copy=True)
    if array.dtype == object:
        raise TypeError("not a numeric array")
    return array
