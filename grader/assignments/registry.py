"""The engine's one door to the assignments: what each ``grader/assignments/<name>/`` declares.

The packages are discovered (:func:`grader.assignments.packages`), never listed: adding
``grader/assignments/<name>/`` with any of its optional modules is all it takes. The engine
(loading, session, retry rule, calibration, grading, reports) asks these functions and names no
assignment, contract function or stage itself (``tests/test_engine_names_no_assignment.py``).

It sits apart from the engine modules it feeds (``grader/stages.py``, ``grader/checks/``) so
that the declarations can import the engine's dataclasses without an import circle; the modules
are imported by name on first use. The worker side (``probes.py``) is imported only by
``grader/probes/all.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import import_module
from types import ModuleType
from typing import TYPE_CHECKING, Any

from grader.assignments import has_module, packages
from grader.stages import Stage, Stages, build_stages

if TYPE_CHECKING:
    from grader.checks.base import CheckSpec


def _modules(module: str) -> dict[str, ModuleType]:
    """``grader.assignments.<name>.<module>`` of every assignment that has one, by name."""
    return {
        name: import_module(f"grader.assignments.{name}.{module}")
        for name in packages()
        if has_module(name, module)
    }


def _declaration(name: str) -> ModuleType | None:
    return import_module(f"grader.assignments.{name}") if name in packages() else None


def all_checks() -> Mapping[str, CheckSpec]:
    """Every check by name: the engine's generic ones and each assignment's (``<name>/checks``)."""
    from grader.checks import CHECKS

    _modules("checks")
    return CHECKS


def stage_declarations() -> dict[str, tuple[Stage, ...]]:
    """Assignment -> the stages its ``<name>/stages.py`` declares (a rubric adds its data stages)."""
    return {name: tuple(module.STAGES) for name, module in _modules("stages").items()}


def declared_stages() -> Stages:
    """The stages of every assignment (``<name>/stages.py``), validated against the checks that read them."""
    return build_stages(stage_declarations(), all_checks())


def register_diagnoses() -> None:
    """Import the assignments' diagnosis hooks (``@diagnosis``), which rubrics name in ``diagnose``."""
    _modules("diagnoses")


def probe_functions() -> dict[str, str]:
    """Probe -> what of the student's code it runs, in words (each assignment's ``PROBE_FUNCTIONS``)."""
    runs: dict[str, str] = {}
    for name in packages():
        runs.update(getattr(_declaration(name), "PROBE_FUNCTIONS", {}))
    return runs


def probe_args(assignment: str, artifacts_meta: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Arguments of the assignment's own probes, from what its reference artifacts recorded."""
    make = getattr(_declaration(assignment), "probe_args", None)
    return dict(make(artifacts_meta)) if make is not None else {}


def input_builder(assignment: str) -> Callable[[Any, dict[str, Any]], None] | None:
    """The assignment's ``inputs.build(data, artifacts)``, which adds its grader-made inputs, or None."""
    if assignment not in packages() or not has_module(assignment, "inputs"):
        return None
    return import_module(f"grader.assignments.{assignment}.inputs").build
