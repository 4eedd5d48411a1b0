"""What the grader knows about each assignment, one package per assignment (``<name>/``).

A package may hold: ``__init__.py`` (``PROBE_FUNCTIONS``: what each of its probes runs, in words;
``probe_args(artifacts_meta)``: arguments of its probes), ``stages.py`` (``STAGES``), ``probes.py``
(worker side), ``checks`` (trusted side), ``inputs.py`` (``build(data, artifacts)``) and
``diagnoses.py``. Every piece is optional: a function-only assignment needs none of them.
``registry.py`` finds them; the engine asks it and names no assignment itself.

Assignment packages may also live outside the grader: the folders listed in the environment
variable ``GRADER_ASSIGNMENTS_PATH`` (separated like ``PATH``) are searched too, by the parent
and by the sandboxed worker, which imports them before any student code runs (README, "Adding
an assignment").

Nothing from the grader is imported here, so the worker can list the packages too.
"""

from __future__ import annotations

import os
import pkgutil
from importlib.util import find_spec

PATH_VARIABLE = "GRADER_ASSIGNMENTS_PATH"
_SHIPPED = tuple(__path__)


def search_path() -> list[str]:
    """The shipped folder, then the folders of ``GRADER_ASSIGNMENTS_PATH`` (read at each call)."""
    extra = [folder for folder in os.environ.get(PATH_VARIABLE, "").split(os.pathsep) if folder]
    folders = list(_SHIPPED) + [os.path.abspath(folder) for folder in extra]
    for folder in folders:  # the import system finds subpackages through the package's __path__
        if folder not in __path__:
            __path__.append(folder)
    return folders


def outside_folders() -> list[str]:
    """The folders of ``GRADER_ASSIGNMENTS_PATH`` (the worker may read them while it imports)."""
    return [folder for folder in search_path() if folder not in _SHIPPED]


def packages() -> tuple[str, ...]:
    """The assignment packages, in name order (which fixes the stages' order)."""
    return tuple(sorted({info.name for info in pkgutil.iter_modules(search_path()) if info.ispkg}))


def has_module(assignment: str, module: str) -> bool:
    """``<assignment>/<module>`` exists in a listed package (without importing it)."""
    return assignment in packages() and find_spec(f"{__name__}.{assignment}.{module}") is not None
