"""The pictures a student was looking at when writing an answer: PNG outputs stored in their notebook.

Only ``image/png`` outputs are taken (never HTML, SVG or JavaScript outputs, which could run in
the reviewer's browser), decoded from base64 and checked for the PNG signature. "Near" the
answer is: the outputs of the code cells between the previous answer cell and this one, last
first (the plot the question is about comes right before its answer), capped at ``MAX_IMAGES``.
The answer cells are found as the loader finds them (docs/assignments.md, "answer cells").
"""

from __future__ import annotations

import base64
import binascii
import json
from pathlib import Path
from typing import Any

from grader.submission import ANSWER_HEADING

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_IMAGES = 4
MAX_NOTEBOOK_BYTES = 50 * 1024 * 1024


def notebook_images(path: Path) -> dict[str, list[bytes]]:
    """Answer key (e.g. ``2b``) -> the PNGs near its answer cell; {} for a .py or an unreadable file."""
    path = Path(path)
    if path.suffix != ".ipynb":
        return {}
    try:
        if path.stat().st_size > MAX_NOTEBOOK_BYTES:
            return {}
        cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
    except (OSError, ValueError, UnicodeDecodeError, AttributeError, RecursionError):  # nesting too deep
        return {}
    if not isinstance(cells, list):
        return {}
    found: dict[str, list[bytes]] = {}
    pending: list[bytes] = []  # images since the previous answer cell
    for cell in cells:
        if not isinstance(cell, dict):
            continue
        key = _answer_key(cell)
        if key is not None:
            found.setdefault(key, list(reversed(pending))[:MAX_IMAGES])
            pending = []
        elif cell.get("cell_type") == "code":
            pending += _pngs(cell)
    return found


def _answer_key(cell: dict[str, Any]) -> str | None:
    if cell.get("cell_type") != "markdown":
        return None
    for tag in (cell.get("metadata") or {}).get("tags", []) or []:
        if str(tag).startswith("answer:"):
            return str(tag)[7:]
    source = cell.get("source", "")
    source = "".join(source) if isinstance(source, list) else str(source)
    lines = source.splitlines()
    match = ANSWER_HEADING.match(lines[0]) if lines else None
    return match.group(1) if match else None


def _pngs(cell: dict[str, Any]) -> list[bytes]:
    images = []
    for output in cell.get("outputs", []) or []:
        data = output.get("data", {}) if isinstance(output, dict) else {}
        encoded = data.get("image/png") if isinstance(data, dict) else None
        if isinstance(encoded, list):
            encoded = "".join(encoded)
        if not isinstance(encoded, str):
            continue
        try:
            png = base64.b64decode(encoded)
        except (binascii.Error, ValueError):
            continue
        if png.startswith(PNG_SIGNATURE):
            images.append(png)
    return images
