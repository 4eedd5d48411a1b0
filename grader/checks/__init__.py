"""Checks: pure functions in the trusted parent that turn raw probe data into points.

This package is the engine's library of generic checks (Keras model structure, compiled
losses, figures, constants, training, ``matches_reference``); importing it registers them in
:data:`CHECKS` under their names. Each assignment's own checks live in
``grader/assignments/<name>/checks``; ``grader.assignments.registry.all_checks()`` imports them
too. The rubrics refer to checks by these names.
"""

from grader.checks import (  # noqa: F401  (each module registers its checks)
    compiled,
    constants,
    figures,
    model_structure,
    reference_match,
    training,
)
from grader.checks.base import CHECKS, CheckInputs, CheckSpec, StudentCallFailed, StudentError, Verdict

__all__ = ["CHECKS", "CheckInputs", "CheckSpec", "StudentCallFailed", "StudentError", "Verdict"]
