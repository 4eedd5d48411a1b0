"""Import every probe module so that each registers its probes (the worker imports this once):
the engine's generic probes and each assignment's ``grader/assignments/<name>/probes.py``."""

from importlib import import_module

from grader.assignments import has_module, packages
from grader.probes import calls, common, declared  # noqa: F401  (each module registers its probes)
from grader.probes.base import PROBES


def _import_assignment_probes() -> None:
    for name in packages():
        if has_module(name, "probes"):
            import_module(f"grader.assignments.{name}.probes")


_import_assignment_probes()

__all__ = ["PROBES"]
