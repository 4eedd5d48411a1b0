"""The import graph of grader/: no circles, and the trusted side imports nothing from the worker side.

Read from the source with ``ast`` (nothing is imported), counting every import, also those
inside functions: a lazy import still ties two modules together. Importing ``a.b.c`` runs
the ``__init__`` of ``a`` and ``a.b`` too, so those count as well. Imports under ``if
TYPE_CHECKING:`` do not run and are left out.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "grader"
# Code that runs in the sandboxed worker, next to student code (docs/architecture.md, "The sandbox").
WORKER_SIDE = (
    "grader.probes",
    "grader.sandbox.worker",
    "grader.sandbox.guards",
    "grader.sandbox.keras_compat",
    "grader.sandbox.zygote_process",  # it runs no student code, but forks the workers that do
)
# Each assignment's probes (grader/assignments/<name>/probes.py) run in the worker too; its checks,
# stages, inputs and diagnoses are trusted (docs/architecture.md, "Engine and assignments").
ASSIGNMENT_WORKER_SIDE = re.compile(r"^grader\.assignments\.\w+\.probes(\..*)?$")


def module_files(root: Path = ROOT, package: str = PACKAGE) -> dict[str, Path]:
    """Dotted module name -> file, for every module of ``package`` (a package is its __init__.py)."""
    modules = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _imported_names(tree: ast.Module, module: str, is_package: bool) -> set[str]:
    """Every dotted name imported anywhere in ``tree`` (relative imports resolved), minus TYPE_CHECKING."""
    skipped = {
        id(child)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for stmt in node.body
        for child in ast.walk(stmt)
    }
    names = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")[: len(module.split(".")) - node.level + is_package]
                base = ".".join(anchor + ([base] if base else []))
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)  # `from pkg import module`
    return names


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    """Module -> the modules of the package it imports (with the packages whose __init__ that runs)."""
    graph = {}
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        targets = set()
        for name in _imported_names(tree, module, path.name == "__init__.py"):
            parts = name.split(".")
            for end in range(1, len(parts) + 1):
                prefix = ".".join(parts[:end])
                # a module's own packages are already initialising: not an edge
                if prefix in modules and not (module == prefix or module.startswith(prefix + ".")):
                    targets.add(prefix)
        graph[module] = targets
    return graph


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


def _worker_side(module: str) -> bool:
    return bool(ASSIGNMENT_WORKER_SIDE.match(module)) or any(
        module == side or module.startswith(side + ".") for side in WORKER_SIDE
    )


GRAPH = import_graph(module_files())


def test_the_grader_has_no_import_circles():
    assert find_cycles(GRAPH) == []


def test_the_trusted_side_imports_nothing_from_the_worker_side():
    crossings = {
        module: sorted(target for target in targets if _worker_side(target))
        for module, targets in GRAPH.items()
        if not _worker_side(module)
    }
    assert {module: targets for module, targets in crossings.items() if targets} == {}


def test_the_checks_are_among_the_trusted_modules_that_were_read():
    assert "grader.checks.architecture" in GRAPH and "grader.probes.models" in GRAPH


def test_an_assignment_s_probes_are_worker_side_and_its_checks_trusted():
    assert "grader.assignments.autoencoders.probes" in GRAPH
    assert _worker_side("grader.assignments.autoencoders.probes")
    assert not _worker_side("grader.assignments.autoencoders.checks.vae")
    assert not _worker_side("grader.assignments.autoencoders.checks")
    assert _worker_side("grader.probes.declared") and not _worker_side("grader.data_stages")


# -- the graph reader itself -------------------------------------------------------------------


def write_package(tmp_path: Path, files: dict[str, str]) -> dict[str, set[str]]:
    for name, source in files.items():
        path = tmp_path / "pkg" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
    return import_graph(module_files(tmp_path, "pkg"))


def test_a_circle_through_a_lazy_import_is_found(tmp_path):
    graph = write_package(
        tmp_path,
        {
            "__init__.py": "",
            "a.py": "from pkg import b\n",
            "b.py": "def f():\n    from pkg.a import thing\n",
            "c.py": "import pkg.a\n",
        },
    )
    assert graph["pkg.c"] == {"pkg.a"}
    assert find_cycles(graph) == [["pkg.a", "pkg.b"]]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from . import b\n", {"pkg.sub.b"}),
        ("from .b import x\n", {"pkg.sub.b"}),
        ("from .. import c\n", {"pkg.c"}),
        ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg import c\n", set()),
    ],
)
def test_relative_and_type_checking_imports(tmp_path, source, expected):
    graph = write_package(
        tmp_path,
        {"__init__.py": "", "c.py": "", "sub/__init__.py": "", "sub/b.py": "", "sub/a.py": source},
    )
    assert graph["pkg.sub.a"] == expected


def test_importing_a_submodule_runs_its_packages_init(tmp_path):
    graph = write_package(
        tmp_path,
        {"__init__.py": "", "c.py": "from pkg.sub.b import x\n", "sub/__init__.py": "", "sub/b.py": ""},
    )
    assert graph["pkg.c"] == {"pkg.sub", "pkg.sub.b"}
