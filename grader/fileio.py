"""Atomic file writes, the one implementation every writer of the grader uses.

The data goes to a temporary file beside the target (``.<start of name>.<random>.tmp``, short
enough for any legal name: a file system allows 255 bytes per name) and is then
renamed over it, so a reader never sees half a file, even after ``kill -9``: a report on
disk is a finished report. Standard library only: the sandbox's worker uses it too.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

TEMP_GLOB = ".*.tmp"  # what a write killed half-way leaves behind (see stale_temp_files)
TEMP_PREFIX_BYTES = 32  # of the target's name, for a reader of the folder: the random part is unique


def _temp_prefix(name: str) -> str:
    """``.<the name's first 32 bytes>.``, cut on a character boundary."""
    start = name.encode("utf-8")[:TEMP_PREFIX_BYTES].decode("utf-8", errors="ignore")
    return f".{start}."


@contextlib.contextmanager
def atomic_file(path: Path) -> Iterator[BinaryIO]:
    """A binary handle on a temporary file that replaces ``path`` when the block ends without error.

    On any error (or an interrupt) the temporary file is removed and ``path`` is left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=_temp_prefix(path.name), suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_atomic(path: Path, data: bytes | str) -> None:
    """Write ``data`` (text is UTF-8) to ``path`` atomically."""
    with atomic_file(path) as handle:
        handle.write(data.encode("utf-8") if isinstance(data, str) else data)


def stale_temp_files(folder: Path) -> list[Path]:
    """Temporary files of writes that were killed before their rename, anywhere under ``folder``."""
    return sorted(Path(folder).rglob(TEMP_GLOB)) if Path(folder).is_dir() else []
