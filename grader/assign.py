"""``grader assign MASTER.ipynb OUT/``: one master notebook -> the reference, the hand-out, the template.

The master notebook holds the solutions between ``# BEGIN SOLUTION`` and ``# END SOLUTION``
lines in code cells, and the written answers between ``<!-- BEGIN ANSWER -->`` and
``<!-- END ANSWER -->`` in markdown cells. Its rubric is a TOML string in the notebook's
metadata (``metadata.grader.rubric``) or a file beside it (``MASTER.toml``, else
``rubric.toml``). From them :func:`assign` writes, into a new folder:

- ``reference.py``: the code cells with the solutions;
- ``template.py``: the same with every solution replaced by a stub: ``raise
  NotImplementedError("name")`` inside a function, ``NAME = None`` for a constant;
- ``handout.ipynb``: the notebook with those stubs, answers replaced by the placeholder the
  grader reads as unanswered, and a try-it cell and a ``check("…")`` cell after each exercise;
- ``rubric.toml``: the rubric, naming ``reference.py`` and ``template.py``.

The reference is graded first, in a temporary folder; when it does not earn every automatic
point nothing is written (README, "Writing an assignment as one notebook").
"""

from __future__ import annotations

import ast
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.threadsafe import parse_source

BEGIN_SOLUTION = re.compile(r"^(\s*)#\s*BEGIN SOLUTION\s*$")
END_SOLUTION = re.compile(r"^\s*#\s*END SOLUTION\s*$")
ANSWER = re.compile(r"<!--\s*BEGIN ANSWER\s*-->.*?<!--\s*END ANSWER\s*-->", re.S)
DEF = re.compile(r"^(\s*)(?:async\s+)?def\s+(\w+)\s*\(")
CONSTANT = re.compile(r"^(\s*)([A-Za-z_]\w*)\s*(?::[^=]+)?=(?!=)")
PLACEHOLDER = "*Write your answer here.*"
SKIPPED_TAGS = frozenset({"check", "try-it"})  # the master's own check and try-it cells stay out of modules


class AssignError(Exception):
    """The master notebook or its rubric cannot make an assignment; the message says where."""


@dataclass(frozen=True)
class Assigned:
    folder: Path
    files: tuple[str, ...]
    score: float
    max_score: float


def stub_solutions(source: str, where: str) -> tuple[str, str, list[str]]:
    """(the solution code, the stubbed code, the names stubbed) of one code cell's source."""
    lines = source.splitlines()
    solution, stubbed, names = [], [], []
    index = 0
    while index < len(lines):
        begin = BEGIN_SOLUTION.match(lines[index])
        if END_SOLUTION.match(lines[index]):
            raise AssignError(f"{where}, line {index + 1}: '# END SOLUTION' without a '# BEGIN SOLUTION'")
        if not begin:
            solution.append(lines[index])
            stubbed.append(lines[index])
            index += 1
            continue
        end = next((j for j in range(index + 1, len(lines)) if END_SOLUTION.match(lines[j])), None)
        if end is None:
            raise AssignError(f"{where}, line {index + 1}: '# BEGIN SOLUTION' without its '# END SOLUTION'")
        region = lines[index + 1 : end]
        if any(BEGIN_SOLUTION.match(line) for line in region):
            raise AssignError(f"{where}, line {index + 1}: solutions do not nest")
        solution.extend(region)
        stub, stub_names = _stub(lines[:index], region, begin.group(1))
        stubbed.extend(stub)
        names.extend(stub_names)
        index = end + 1
    return "\n".join(solution), "\n".join(stubbed), names


def _stub(before: list[str], region: list[str], indent: str) -> tuple[list[str], list[str]]:
    """A solution's replacement: the enclosing function raises, a constant becomes None."""
    function = next(
        (m.group(2) for line in reversed(before) if (m := DEF.match(line)) and len(m.group(1)) < len(indent)),
        None,
    )
    if function is not None and indent:
        return [f'{indent}raise NotImplementedError("{function}")'], [function]
    constants = [m.group(2) for line in region if (m := CONSTANT.match(line)) and m.group(1) == indent]
    if constants:
        return [f"{indent}{name} = None  # your answer" for name in dict.fromkeys(constants)], constants
    return [f"{indent}..."], []


def read_master(path: Path) -> tuple[Any, str]:
    """(the notebook, its rubric's TOML text)."""
    import nbformat

    if path.suffix != ".ipynb":
        raise AssignError(f"{path.name}: a master notebook is an .ipynb file")
    try:
        notebook = nbformat.read(str(path), as_version=4)
    except (OSError, ValueError) as exc:
        raise AssignError(f"{path.name}: not a readable notebook ({exc})") from None
    embedded = notebook.metadata.get("grader", {}).get("rubric")
    if isinstance(embedded, str) and embedded.strip():
        return notebook, embedded
    for beside in (path.with_suffix(".toml"), path.parent / "rubric.toml"):
        if beside.exists():
            return notebook, beside.read_text(encoding="utf-8")
    raise AssignError(
        f"{path.name}: no rubric: put its TOML in the notebook's metadata (grader.rubric) or in "
        f"{path.with_suffix('.toml').name} or rubric.toml beside it"
    )


def _with_files(rubric_text: str) -> str:
    """The rubric naming reference.py and template.py (top-level keys go before any table)."""
    import tomllib

    try:
        raw = tomllib.loads(rubric_text)
    except tomllib.TOMLDecodeError as exc:
        raise AssignError(f"the master's rubric is not valid TOML ({exc})") from None
    for key, expected in (("reference", "reference.py"), ("template", "template.py")):
        if key in raw and raw[key] != expected:
            raise AssignError(
                f"the master's rubric: field '{key}': grader assign writes {expected}; remove it"
            )
    missing = [
        f'{key} = "{value}"' for key, value in (("reference", "reference.py"), ("template", "template.py"))
    ]
    missing = [line for line in missing if line.split(" = ")[0] not in raw]
    return "\n".join(missing) + ("\n" if missing else "") + rubric_text


def _names_defined(source: str) -> set[str]:
    try:
        tree = parse_source(source)  # under the trusted side's AST lock (grader/threadsafe.py)
    except SyntaxError:
        return set()
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
    return names


def exercises_by_name(rubric: Any) -> dict[str, list[str]]:
    """Contract name -> the exercises whose automatic items read it (in rubric order)."""
    stage_models = {spec.check: spec.model.function for spec in rubric.data_stages.values()}
    found: dict[str, list[str]] = {}
    for item in rubric.items:
        if item.is_manual:
            continue
        params = item.params
        names = {params.get(key) for key in ("function", "model", "name")} | {stage_models.get(item.check)}
        probe = str(params.get("probe", ""))
        names.add(probe.partition(":")[2] or None)
        for name in names - {None}:
            exercises = found.setdefault(str(name), [])
            if item.exercise not in exercises:
                exercises.append(item.exercise)
    return found


def build(notebook: Any, rubric: Any, rubric_file: str) -> tuple[str, str, Any]:
    """(reference.py, template.py, the hand-out notebook) from the master notebook."""
    import nbformat

    handout = nbformat.v4.new_notebook(metadata={k: v for k, v in notebook.metadata.items() if k != "grader"})
    reference_cells, template_cells = [], []
    by_name = exercises_by_name(rubric)
    last_cell: dict[str, int] = {}  # exercise -> the index in the hand-out of its last code cell
    stubbed_any = False
    for number, cell in enumerate(notebook.cells, start=1):
        tags = set(cell.get("metadata", {}).get("tags", []))
        if cell.cell_type == "markdown":
            handout.cells.append(nbformat.v4.new_markdown_cell(ANSWER.sub(PLACEHOLDER, cell.source)))
            continue
        if cell.cell_type != "code":
            continue
        solution, stubbed, names = stub_solutions(cell.source, f"cell {number}")
        stubbed_any = stubbed_any or bool(names) or solution != stubbed
        handout.cells.append(
            nbformat.v4.new_code_cell(stubbed, metadata={"tags": sorted(tags)} if tags else {})
        )
        if tags & SKIPPED_TAGS:
            continue
        reference_cells.append(solution)
        template_cells.append(stubbed)
        for name in _names_defined(solution):
            for exercise in by_name.get(name, []):
                last_cell[exercise] = len(handout.cells) - 1
    if not stubbed_any:
        raise AssignError("the master notebook has no '# BEGIN SOLUTION' region: nothing to hand out")
    for exercise, index in sorted(last_cell.items(), key=lambda pair: -pair[1]):
        names = [name for name, exercises in by_name.items() if exercise in exercises]
        try_it = (
            f"# Try it ({exercise}): call {', '.join(sorted(names))} on a small input of your own "
            "and look at the result."
        )
        check = f'check("{exercise}", rubric="{rubric_file}")  # the code this notebook ran, graded'
        handout.cells[index + 1 : index + 1] = [
            nbformat.v4.new_code_cell(try_it, metadata={"tags": ["try-it"]}),
            nbformat.v4.new_code_cell(check, metadata={"tags": ["check"]}),
        ]
    if last_cell:
        handout.cells.insert(0, nbformat.v4.new_code_cell("from grader import check  # the self-check"))
    return "\n\n\n".join(reference_cells) + "\n", "\n\n\n".join(template_cells) + "\n", handout


GradeReference = Callable[[Path, Path], Any]


def _grade(reference: Path, rubric: Path, budget: str) -> Any:
    from grader.grading import grade

    return grade(reference, rubric, budget=budget)


def assign(
    master: Path, out: Path, budget: str = "default", grade_reference: Callable[..., Any] | None = None
) -> Assigned:
    """Write the assignment into ``out`` (a new or empty folder) once its reference earns full marks."""
    import nbformat

    from grader.rubric import RubricError, load_rubric

    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise AssignError(f"{out}: exists and is not an empty folder; choose a new one")
    notebook, rubric_text = read_master(master)
    rubric_text = _with_files(rubric_text)
    grade_reference = grade_reference or _grade
    with tempfile.TemporaryDirectory(prefix="grader-assign-") as scratch:
        folder = Path(scratch)
        (folder / "rubric.toml").write_text(rubric_text, encoding="utf-8")
        try:
            rubric = load_rubric(folder / "rubric.toml")
        except RubricError as exc:
            raise AssignError(f"the master's rubric: {exc}") from None
        reference, template, handout = build(notebook, rubric, "rubric.toml")
        (folder / "reference.py").write_text(reference, encoding="utf-8")
        (folder / "template.py").write_text(template, encoding="utf-8")
        nbformat.write(handout, str(folder / "handout.ipynb"))
        report = grade_reference(folder / "reference.py", folder / "rubric.toml", budget)
        if report.auto_score < report.auto_max - 1e-9:
            lost = [
                f"{i.id} ({i.score:g}/{i.max_score:g}: {i.feedback})"
                for i in report.items
                if i.kind == "auto" and i.score < i.max_score
            ]
            raise AssignError(
                f"the reference earns {report.auto_score:g} of {report.auto_max:g} automatic points, so "
                "nothing was written. Items it loses: " + "; ".join(lost)
            )
        out.mkdir(parents=True, exist_ok=True)
        files = ("reference.py", "template.py", "handout.ipynb", "rubric.toml")
        for name in files:
            shutil.copy2(folder / name, out / name)
    return Assigned(out, files, report.auto_score, report.auto_max)
