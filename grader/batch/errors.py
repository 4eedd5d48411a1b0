"""The one error of the batch package."""

from __future__ import annotations


class BatchError(Exception):
    """A problem with the batch's inputs (folder, output, scheduler), told in one line."""
