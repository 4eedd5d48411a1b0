"""The private channel between the trusted parent and the sandboxed worker.

Messages are single JSON lines on a pipe that is not stdout. Arrays travel as ``.npz``
files in the sandbox folder and are loaded with ``allow_pickle=False``. The parent
validates every message against a JSON schema and caps its size, so nothing the
worker sends can change another item's score or the report's structure.
"""

from __future__ import annotations

import json
import math
import os
import select
import time
import zipfile
from pathlib import Path
from typing import IO, Any

import numpy as np

from grader.fileio import atomic_file
from grader.threadsafe import AST_LOCK, load_npz

# Bound at import, before any student code runs: a submission that patches json.dumps
# in the worker cannot rewrite the worker's replies.
_dumps = json.dumps

MAX_MESSAGE_BYTES = 4 * 1024 * 1024
MAX_ARRAY_FILE_BYTES = 256 * 1024 * 1024
ALLOWED_DTYPE_KINDS = "biuf"  # bool, int, uint, float: never object arrays
# What one reply's arrays may take once loaded (a compressed file can inflate a thousandfold).
MAX_ARRAY_BYTES = 256 * 1024 * 1024
MAX_REPLY_ARRAYS_BYTES = 512 * 1024 * 1024
MAX_ARRAYS = 1000

ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "kind": {"enum": ["missing", "not_implemented", "exception", "exit", "invalid"]},
        "name": {"type": "string", "maxLength": 200},
        "type": {"type": "string", "maxLength": 200},
        "message": {"type": "string", "maxLength": 4000},
        "traceback": {"type": "array", "items": {"type": "string", "maxLength": 1000}, "maxItems": 20},
        "advice": {"type": "string", "maxLength": 2000},
    },
    "required": ["kind", "name", "message"],
}

REPLY_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "ok": {"type": "boolean"},
        "data": {"type": "object"},
        "arrays": {"type": ["string", "null"], "pattern": r"^[A-Za-z0-9_.-]+\.npz$"},
        "error": {"anyOf": [ERROR_SCHEMA, {"type": "null"}]},
        "internal": {"type": ["string", "null"], "maxLength": 20000},
    },
    "required": ["id", "ok"],
    "additionalProperties": False,
}

# The data of the load reply (id 0): the grader copies its errors into the report.
LOAD_DATA_SCHEMA = {
    "type": "object",
    "properties": {
        "errors": {"type": "array", "items": ERROR_SCHEMA, "maxItems": 200},
        "defined": {"type": "array", "items": {"type": "string", "maxLength": 200}, "maxItems": 2000},
        "keras": {"type": "string", "maxLength": 100},
    },
    "required": ["errors"],
}


class ProtocolError(Exception):
    """The worker sent something that is not a valid message."""


class ArrayBudgetError(ProtocolError):
    """The worker's arrays would take more memory than a reply may (a student's doing: e.g. a zip bomb)."""


class ChannelClosed(Exception):
    """The worker's end of the channel closed (it exited or was killed)."""


def send(fd: int, message: dict[str, Any]) -> None:
    data = (_dumps(message, allow_nan=False) + "\n").encode("utf-8")
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


class LineReader:
    """Reads newline-terminated messages from a pipe, with a deadline and a size cap."""

    def __init__(self, fd: int, limit: int = MAX_MESSAGE_BYTES):
        self.fd = fd
        self.limit = limit
        self.buffer = bytearray()

    def read(self, deadline: float | None) -> bytes:
        """The next line; TimeoutError at the deadline, ChannelClosed on EOF."""
        while True:
            newline = self.buffer.find(b"\n")
            if newline >= 0:
                line = bytes(self.buffer[:newline])
                del self.buffer[: newline + 1]
                return line
            if len(self.buffer) > self.limit:
                raise ProtocolError(f"message larger than {self.limit} bytes")
            timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
            ready, _, _ = select.select([self.fd], [], [], timeout if timeout is None else min(timeout, 0.5))
            if not ready:
                if deadline is not None and time.monotonic() >= deadline:
                    raise TimeoutError
                continue
            chunk = os.read(self.fd, 65536)
            if not chunk:
                raise ChannelClosed
            self.buffer.extend(chunk)


def decode_reply(line: bytes, expected_id: int, data_schema: dict[str, Any] | None = None) -> dict[str, Any]:
    """Parse and validate one reply from the worker (and its ``data`` against ``data_schema``)."""
    try:
        message = json.loads(line.decode("utf-8"), parse_constant=_refuse_constant)
    except ValueError as exc:  # not UTF-8, not JSON, NaN/Infinity, an int of 5,000 digits
        raise ProtocolError(f"not JSON: {str(exc)[:200]}") from None
    except RecursionError:  # deeply nested brackets: refused, never a crash of the parent
        raise ProtocolError("not JSON: nested too deeply") from None
    validate(message, REPLY_SCHEMA)
    if data_schema is not None and message.get("data") is not None:
        validate(message["data"], data_schema)
    if message["id"] != expected_id:
        raise ProtocolError(f"reply to request {message['id']}, expected {expected_id}")
    return message


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed (the worker never sends it)")


def validate(value: Any, schema: dict[str, Any]) -> None:
    import jsonschema

    try:
        jsonschema.validate(value, schema)
    except jsonschema.ValidationError as exc:
        raise ProtocolError(f"invalid message: {exc.message[:300]}") from None
    except RecursionError:
        raise ProtocolError("invalid message: nested too deeply") from None


def save_arrays(directory: Path, name: str, arrays: dict[str, np.ndarray]) -> str:
    """Worker side: write arrays to ``directory/name`` atomically; returns the file name."""
    with atomic_file(directory / name) as handle:
        np.savez(handle, **{key: np.ascontiguousarray(value) for key, value in arrays.items()})
    return name


def load_arrays(directory: Path, name: str) -> dict[str, np.ndarray]:
    """Parent side: load a worker's arrays safely (no pickle, numeric only, capped size)."""
    path = directory / name
    if path.parent != directory or path.is_symlink() or not path.is_file():  # a link could point anywhere
        raise ProtocolError(f"array file {name} missing")
    if path.stat().st_size > MAX_ARRAY_FILE_BYTES:
        raise ProtocolError(f"array file {name} is larger than {MAX_ARRAY_FILE_BYTES} bytes")
    try:
        check_npz(path)  # before numpy allocates or inflates anything
        arrays = load_npz(path)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, NotImplementedError) as exc:
        raise ProtocolError(f"array file {name} unreadable: {exc}") from None
    finally:
        path.unlink(missing_ok=True)
    for key, value in arrays.items():
        if value.dtype.kind not in ALLOWED_DTYPE_KINDS:
            raise ProtocolError(f"array {key} has dtype {value.dtype}")
    return arrays


def check_npz(path: Path, per_array: int | None = None, total: int | None = None) -> None:
    """Refuse an ``.npz`` whose arrays would not fit the budget, reading at most the budget.

    Each member's ``.npy`` header is parsed here (its declared shape and dtype), then its data
    is inflated in a bounded stream and counted: neither a header that declares 16 TiB nor a
    deflate bomb (3 GB of zeros in 3 MB) makes the parent allocate more than ``total``.
    Raises :class:`ArrayBudgetError` (too big) or :class:`ProtocolError` (malformed).
    """
    per_array = MAX_ARRAY_BYTES if per_array is None else per_array
    total = MAX_REPLY_ARRAYS_BYTES if total is None else total
    used = 0
    with zipfile.ZipFile(path) as archive:
        members = archive.infolist()
        if len(members) > MAX_ARRAYS:
            raise ProtocolError(f"{len(members)} arrays in one reply (at most {MAX_ARRAYS})")
        for member in members:
            key = member.filename.removesuffix(".npy")[:100]
            with archive.open(member) as stream:
                nbytes = _declared_bytes(stream, key)
                if nbytes > per_array or used + nbytes > total:
                    raise ArrayBudgetError(
                        f"array '{key}' would take {_human(nbytes)} once loaded "
                        f"(a reply may hold {_human(per_array)} per array, {_human(total)} in all)"
                    )
                used += nbytes
                if _stream_length(stream, nbytes + 1) != nbytes:
                    raise ProtocolError(f"array '{key}' holds more or less data than its header declares")


def _declared_bytes(stream: IO[bytes], key: str) -> int:
    """The bytes an array's ``.npy`` header declares (shape times item size); its dtype checked."""
    try:
        version = np.lib.format.read_magic(stream)
        with AST_LOCK:  # numpy parses the header with ast.literal_eval (grader/threadsafe.py)
            if version == (1, 0):
                shape, _, dtype = np.lib.format.read_array_header_1_0(stream)
            else:
                shape, _, dtype = np.lib.format.read_array_header_2_0(stream)
    except (ValueError, OSError, EOFError, SyntaxError) as exc:
        raise ProtocolError(f"array '{key}' has no valid .npy header ({str(exc)[:200]})") from None
    if dtype.kind not in ALLOWED_DTYPE_KINDS or dtype.hasobject:
        raise ProtocolError(f"array {key} has dtype {dtype}")
    return math.prod(int(n) for n in shape) * dtype.itemsize


def _stream_length(stream: IO[bytes], limit: int) -> int:
    """Bytes left in ``stream``, counted up to ``limit`` (never more is read or inflated)."""
    count = 0
    while count < limit:
        chunk = stream.read(min(1 << 20, limit - count))
        if not chunk:
            break
        count += len(chunk)
    return count


def _human(nbytes: int) -> str:
    for unit, size in (("TB", 2**40), ("GB", 2**30), ("MB", 2**20), ("KB", 2**10)):
        if nbytes >= size:
            return f"{nbytes / size:.1f} {unit}"
    return f"{nbytes} bytes"
