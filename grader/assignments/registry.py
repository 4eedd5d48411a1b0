"""The one list of the shipped assignments' declarations: training stages and diagnosis hooks.

It sits apart from the engine modules it feeds (``grader/stages.py``, ``grader/checks/``) so
that the declarations can import the engine's dataclasses without an import circle. A new
assignment that trains models adds its ``stages`` module to :func:`declared_stages`; one with
diagnosis hooks adds its ``diagnoses`` module to :func:`register_diagnoses`.
"""

from __future__ import annotations

from grader.stages import Stages, build_stages


def declared_stages() -> Stages:
    """The stages of every assignment, validated against the checks that read them."""
    from grader.assignments.autoencoders import stages as autoencoders
    from grader.assignments.sheet10 import stages as sheet10
    from grader.checks import CHECKS

    return build_stages({"autoencoders": autoencoders.STAGES, "sheet10": sheet10.STAGES}, CHECKS)


def register_diagnoses() -> None:
    """Import the assignments' diagnosis hooks (``@diagnosis``), which rubrics name in ``diagnose``."""
    from grader.assignments.autoencoders import diagnoses as _autoencoders  # noqa: F401
    from grader.assignments.sheet10 import diagnoses as _sheet10  # noqa: F401
    from grader.assignments.transposed_conv import diagnoses as _transposed_conv  # noqa: F401
