"""What the grader knows about each assignment, one package per assignment (``<name>/``).

A package may hold: ``__init__.py`` (``PROBE_FUNCTIONS``: what each of its probes runs, in words;
``probe_args(artifacts_meta)``: arguments of its probes), ``stages.py`` (``STAGES``), ``probes.py``
(worker side), ``checks`` (trusted side), ``inputs.py`` (``build(data, artifacts)``) and
``diagnoses.py``. Every piece is optional: a function-only assignment needs none of them.
``registry.py`` finds them; the engine asks it and names no assignment itself.

Nothing from the grader is imported here, so the worker can list the packages too.
"""

from __future__ import annotations

import pkgutil
from importlib.util import find_spec


def packages() -> tuple[str, ...]:
    """The assignment packages beside this file, in name order (which fixes the stages' order)."""
    return tuple(sorted(info.name for info in pkgutil.iter_modules(__path__) if info.ispkg))


def has_module(assignment: str, module: str) -> bool:
    """``grader/assignments/<assignment>/<module>`` exists (without importing it)."""
    return find_spec(f"{__name__}.{assignment}") is not None and find_spec(
        f"{__name__}.{assignment}.{module}"
    ) is not None
