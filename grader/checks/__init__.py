"""Checks: pure functions in the trusted parent that turn raw probe data into points.

Importing this package registers every check in :data:`CHECKS` under its name; the
rubrics refer to checks by these names.
"""

from grader.checks import (  # noqa: F401  (each module registers its checks)
    classifier,
    constants,
    conv_autoencoder,
    figures,
    latent,
    reference_match,
    sheet10,
    training,
    vae,
)
from grader.checks.base import CHECKS, CheckInputs, CheckSpec, StudentCallFailed, StudentError, Verdict

__all__ = ["CHECKS", "CheckInputs", "CheckSpec", "StudentCallFailed", "StudentError", "Verdict"]
