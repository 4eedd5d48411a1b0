"""Python syntax trees in the trusted process, one thread at a time.

CPython 3.11 before 3.11.8 keeps the AST constructor's recursion depth in state shared by
the whole interpreter (gh-106905). When two threads build a syntax tree at once, one of
them can fail with ``SystemError: AST constructor recursion depth mismatch``. The grader
is run in threads: by the fidelity and seed benchmarks, by tests, and by the review app.
Its trusted side builds trees in three ways, and each one takes :data:`AST_LOCK`:

* parsing a submission (:func:`parse_source`);
* reading an ``.npz`` file, because numpy reads each array's header with
  ``ast.literal_eval`` (:func:`load_npz`);
* formatting a traceback, because Python 3.11 parses the failing line to place its
  ``^^^`` marks (:func:`format_exception`).

``tests/test_threadsafe.py`` checks that the trusted side calls ``ast.parse``,
``np.load`` and ``traceback.format_exc`` only through this module. Code that runs in the
sandboxed worker does not need the lock: the worker is its own process, and there the
student's code runs alone.
"""

from __future__ import annotations

import ast
import threading
import traceback
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

# Reentrant: a finalizer run by the garbage collector while the lock is held may read a file too.
AST_LOCK = threading.RLock()


def parse_source(source: str, filename: str = "<unknown>") -> ast.Module:
    """``ast.parse`` under the lock. Raises ``SyntaxError`` as ``ast.parse`` does."""
    with AST_LOCK:
        return ast.parse(source, filename=filename)


def load_npz(path: Path, keys: tuple[str, ...] | None = None) -> dict[str, np.ndarray]:
    """Every array of an ``.npz`` file (or only ``keys``, those present), read under the lock.

    Pickled objects are refused. Raises what ``np.load`` raises for a missing, truncated or
    corrupt file (``OSError``, ``ValueError``, ``EOFError``, ``zipfile.BadZipFile``...).
    """
    import numpy as np  # the loader and the review app never read arrays: keep them light

    with AST_LOCK, np.load(path, allow_pickle=False) as npz:
        wanted = npz.files if keys is None else [key for key in keys if key in npz.files]
        return {key: npz[key] for key in wanted}


def format_exception() -> str:
    """``traceback.format_exc()`` under the lock."""
    with AST_LOCK:
        return traceback.format_exc()
