"""Helpers for tests that run real notebooks through nbclient (tests/test_notebook_check.py)."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]


def run_notebook(cells: list[str], timeout: int = 900) -> nbformat.NotebookNode:
    """Run code cells top to bottom in a fresh python3 kernel (this interpreter's ipykernel)."""
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in cells])
    return execute(notebook, timeout)


def execute(notebook: nbformat.NotebookNode, timeout: int = 900) -> nbformat.NotebookNode:
    resources = {"metadata": {"path": str(ROOT)}}
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3", resources=resources)
    client.execute()
    return notebook


def stdout_of(cell: nbformat.NotebookNode) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream")


def json_printed(cell: nbformat.NotebookNode) -> dict:
    """The last line a cell printed, as JSON."""
    return json.loads(stdout_of(cell).strip().splitlines()[-1])


def reference_segments(assignment: str) -> tuple[str, dict[str, str], str]:
    """The reference's imports (without matplotlib.use), each top-level def/constant by name, and the
    helpers (private functions and module constants not in the contract) as one block."""
    source = (ROOT / "reference" / f"{assignment}.py").read_text()
    tree = ast.parse(source)
    imports, named, helpers = [], {}, []
    for node in tree.body:
        text = ast.get_source_segment(source, node) or ""
        if isinstance(node, ast.Import | ast.ImportFrom):
            if not (isinstance(node, ast.ImportFrom) and node.module == "__future__"):
                imports.append(text)
        elif isinstance(node, ast.FunctionDef):
            (helpers.append(text) if node.name.startswith("_") else None)
            named[node.name] = text
        elif isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            named[node.targets[0].id] = text
    return "\n".join(imports), named, "\n\n".join(helpers)
