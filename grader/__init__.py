"""Autograder for deep-learning (autoencoder / VAE) assignments.

``from grader import check`` is the notebook self-check (grader/notebook_check.py); it is
imported on first use so that ``import grader`` stays light (no TensorFlow, no NumPy).
"""

from typing import Any

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name == "check":
        from grader.notebook_check import check

        return check
    raise AttributeError(f"module 'grader' has no attribute {name!r}")
