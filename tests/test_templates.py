"""The student templates match the contract: same names and signatures as the reference, only stubs.

The templates are parsed with ``ast`` and never executed, except for the one import test
per ``.py`` template (safe: its functions only raise ``NotImplementedError``).
"""

from __future__ import annotations

import ast
import importlib.util
import inspect
import re
import sys
from pathlib import Path

import nbformat
import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 (pyproject installs tomli there)
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENTS = ["autoencoders", "sheet10", "transposed_conv"]
FORMATS = ["py", "ipynb"]
PLACEHOLDER = "*Write your answer here.*"
ANSWER_HEADING = re.compile(r"^### Answer (\S+)\s*$")


def contract(assignment: str) -> dict:
    with open(ROOT / "rubrics" / f"{assignment}.toml", "rb") as fh:
        return tomllib.load(fh)["contract"]


def template_path(assignment: str, fmt: str) -> Path:
    return ROOT / "student_template" / f"{assignment}.{fmt}"


def read_notebook(assignment: str) -> nbformat.NotebookNode:
    return nbformat.read(template_path(assignment, "ipynb"), as_version=nbformat.NO_CONVERT)


def template_tree(assignment: str, fmt: str) -> ast.Module:
    """The template's code as one module: the .py file, or the notebook's code cells joined."""
    if fmt == "py":
        source = template_path(assignment, "py").read_text()
    else:
        cells = read_notebook(assignment).cells
        source = "\n\n".join(
            cell.source for cell in cells if cell.cell_type == "code" and not helper_cell(cell)
        )
    return ast.parse(source)


def helper_cell(cell: nbformat.NotebookNode) -> bool:
    """A hand-out cell that serves the student's kernel (data, "try it", ``check``), not the contract."""
    return bool(set(cell.get("metadata", {}).get("tags", [])) & {"try-it", "check"})


def top_level_functions(tree: ast.Module) -> dict[str, ast.FunctionDef]:
    return {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)}


def top_level_assigned(tree: ast.Module) -> list[str]:
    names = []
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign | ast.AugAssign):
            targets = [node.target]
        else:
            continue
        for target in targets:
            names.extend(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
    return names


def expected_constants(assignment: str, fmt: str) -> set[str]:
    # In a notebook the written answers live in "### Answer <id>" markdown cells, not in an
    # ANSWERS dict, so that a student has one place to write each answer.
    constants = set(contract(assignment)["constants"])
    return constants - {"ANSWERS"} if fmt == "ipynb" else constants


def signature(func: ast.FunctionDef) -> dict:
    """Parameter names and defaults (as source text); annotations are free to differ."""
    args = func.args

    def names(params: list[ast.arg]) -> list[str]:
        return [p.arg for p in params]

    return {
        "posonly": names(args.posonlyargs),
        "args": names(args.args),
        "vararg": args.vararg and args.vararg.arg,
        "kwonly": names(args.kwonlyargs),
        "kwarg": args.kwarg and args.kwarg.arg,
        "defaults": [ast.unparse(d) for d in args.defaults],
        "kw_defaults": [d and ast.unparse(d) for d in args.kw_defaults],
    }


def cases(*, formats=FORMATS):
    return [pytest.param(a, f, id=f"{a}.{f}") for a in ASSIGNMENTS for f in formats]


@pytest.mark.parametrize(("assignment", "fmt"), cases())
def test_template_defines_exactly_the_contract_functions(assignment, fmt):
    functions = top_level_functions(template_tree(assignment, fmt))
    assert sorted(functions) == sorted(contract(assignment)["functions"])


@pytest.mark.parametrize(("assignment", "fmt"), cases())
def test_template_defines_exactly_the_contract_constants(assignment, fmt):
    assigned = top_level_assigned(template_tree(assignment, fmt))
    # Sorted lists, not sets: a name assigned twice would hide which value is graded.
    assert sorted(assigned) == sorted(expected_constants(assignment, fmt))


@pytest.mark.parametrize(("assignment", "fmt"), cases())
def test_every_stub_only_raises_not_implemented_naming_itself(assignment, fmt):
    for name, func in top_level_functions(template_tree(assignment, fmt)).items():
        assert ast.get_docstring(func), f"{name} has no docstring"
        body = func.body[1:]  # after the docstring
        assert len(body) == 1 and isinstance(body[0], ast.Raise), f"{name} does more than raise"
        raised = body[0].exc
        assert ast.unparse(raised) == f"NotImplementedError({name!r})", f"{name} raises {ast.unparse(raised)}"


@pytest.mark.parametrize(("assignment", "fmt"), cases())
def test_stub_signatures_equal_the_reference(assignment, fmt):
    reference = top_level_functions(ast.parse((ROOT / "reference" / f"{assignment}.py").read_text()))
    template = top_level_functions(template_tree(assignment, fmt))
    for name in contract(assignment)["functions"]:
        assert name in reference, f"the reference lacks the contract function {name}"
        assert name in template, f"the template lacks the contract function {name}"
        assert signature(template[name]) == signature(reference[name]), name


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_py_answers_dict_has_exactly_the_contract_keys(assignment):
    answers = contract(assignment)["answers"]
    tree = template_tree(assignment, "py")
    dicts = [
        node.value
        for node in tree.body
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "ANSWERS" for t in node.targets)
    ]
    if not answers:
        assert not dicts
        return
    assert len(dicts) == 1 and isinstance(dicts[0], ast.Dict)
    keys = [ast.literal_eval(key) for key in dicts[0].keys]
    assert sorted(keys) == sorted(answers)
    # Unanswered on purpose: every value is the empty string.
    assert all(ast.literal_eval(value) == "" for value in dicts[0].values)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_notebook_has_one_answer_cell_per_answer_id(assignment):
    headings = []
    for cell in read_notebook(assignment).cells:
        lines = cell.source.splitlines()
        matches = [m for m in map(ANSWER_HEADING.match, lines) if m]
        if not matches:
            continue
        assert cell.cell_type == "markdown"
        # The heading opens the cell, and the placeholder (which the grader reads as empty)
        # is the cell's only other line.
        assert len(matches) == 1 and ANSWER_HEADING.match(lines[0]), cell.source
        assert lines[1:] == [PLACEHOLDER], cell.source
        headings.append(matches[0].group(1))
    assert sorted(headings) == sorted(contract(assignment)["answers"])


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_notebook_is_valid_nbformat4_without_outputs(assignment):
    notebook = read_notebook(assignment)
    nbformat.validate(notebook)
    assert notebook.nbformat == 4
    cells = notebook.cells
    assert cells[0].cell_type == "markdown" and cells[0].source.startswith("# ")
    code_cells = [cell for cell in cells if cell.cell_type == "code"]
    for cell in code_cells:
        assert cell.outputs == [] and cell.execution_count is None
    # The first code cell holds the imports, and only it does.
    has_import = [
        any(isinstance(node, ast.Import | ast.ImportFrom) for node in ast.parse(cell.source).body)
        for cell in code_cells
    ]
    assert has_import[0] and not any(has_import[1:])


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_py_template_imports_and_every_stub_raises(assignment):
    spec = importlib.util.spec_from_file_location(
        f"student_template_{assignment}", template_path(assignment, "py")
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for name in contract(assignment)["functions"]:
        func = getattr(module, name)
        required = [
            p
            for p in inspect.signature(func).parameters.values()
            if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
        with pytest.raises(NotImplementedError, match=f"^{name}$"):
            func(*[None] * len(required))


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_notebook_has_a_check_cell_for_every_automatic_exercise_and_one_for_all(assignment):
    """Issue 15: after each exercise a ``check("...")`` cell; at the end ``check()``."""
    with open(ROOT / "rubrics" / f"{assignment}.toml", "rb") as fh:
        items = tomllib.load(fh)["items"]
    automatic = {
        item["exercise"] for item in items if item["kind"] == "auto" and item["visibility"] == "public"
    }
    checked: list[str] = []
    calls = []
    for cell in read_notebook(assignment).cells:
        if "check" in cell.get("metadata", {}).get("tags", []):
            call = ast.parse(cell.source).body[0].value
            assert isinstance(call, ast.Call) and call.func.id == "check", cell.source
            calls.append(call)
            checked.extend(ast.literal_eval(arg) for arg in call.args)
    assert set(checked) == automatic
    assert calls[-1].args == []  # the last one checks every exercise


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_notebooks_helper_cells_are_ignored_by_definitions_only_grading(assignment):
    from grader.submission import load_submission

    helpers = {n for n, cell in enumerate(read_notebook(assignment).cells, start=1) if helper_cell(cell)}
    assert helpers
    submission = load_submission(template_path(assignment, "ipynb"))
    kept = "\n".join(cell.source for cell in submission.cells if cell.number in helpers)
    for call in ("check(", "load_dataset", ".fit(", "print(", "plot_"):
        assert call not in kept, call
    assert "from grader" not in "\n".join(cell.source for cell in submission.cells)
