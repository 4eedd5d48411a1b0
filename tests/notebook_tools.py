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
        elif isinstance(node, ast.ClassDef):
            helpers.append(text)
        elif isinstance(node, ast.FunctionDef):
            if node.name.startswith("_"):
                helpers.append(text)
            named[node.name] = text
        elif isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            named[node.targets[0].id] = text
    return "\n".join(imports), named, "\n\n".join(helpers)


def tags(cell: nbformat.NotebookNode) -> set[str]:
    return set(cell.get("metadata", {}).get("tags", []))


def lay_reference_into_template(assignment: str, try_settings: dict[str, str]) -> nbformat.NotebookNode:
    """The hand-out notebook with every stub cell replaced by the reference's code for the same names.

    The reference's own helpers and module constants go after the imports; ``try_settings`` replaces
    the right-hand side of the "try it" settings (e.g. ``{"TRY_EPOCHS": "1"}``); the check cells
    are left for the caller to adapt.
    """
    notebook = nbformat.read(ROOT / "student_template" / f"{assignment}.ipynb", as_version=4)
    imports, named, helpers = reference_segments(assignment)
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    in_template: set[str] = set()
    for cell in code_cells[1:]:
        if not tags(cell):
            in_template |= _defined(cell.source)
    extra = [text for name, text in named.items() if name not in in_template and not name.startswith("_")]
    extra = [text for text in extra if not text.startswith("def ") and not text.startswith("ANSWERS")]
    code_cells[0].source += "\n\n" + "\n\n".join([imports, *extra, helpers])
    for cell in code_cells[1:]:
        if "try-it" in tags(cell):
            for name, value in try_settings.items():
                lines = cell.source.split("\n")
                cell.source = "\n".join(
                    f"{name} = {value}" if line.startswith(f"{name} = ") else line for line in lines
                )
        elif not tags(cell):
            cell.source = "\n\n".join(named[name] for name in _defined(cell.source) if name in named)
    return notebook


def _defined(source: str) -> set[str]:
    names = set()
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names |= {target.id for target in node.targets if isinstance(target, ast.Name)}
    return names
