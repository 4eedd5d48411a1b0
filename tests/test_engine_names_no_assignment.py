"""The engine names no assignment (issue 13, docs/architecture.md "Engine and assignments").

Every module under grader/ except grader/assignments/ (and the report's templates) is the
engine. Its code (identifiers and string literals; comments and docstrings may give examples)
must not name an assignment, a contract function or constant of a shipped rubric, or a
training stage: those live in ``grader/assignments/<name>/`` and reach the engine through
``grader/assignments/registry.py``.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[1]
ENGINE = ROOT / "grader"
NOT_ENGINE = (ENGINE / "assignments", ENGINE / "report" / "templates", ENGINE / "tests")
# Names the engine itself defines, which a rubric's contract lists too: the written answers' dict
# (docs/assignments.md, "Conventions") is read by the submission loader for every assignment.
ENGINE_CONVENTIONS = frozenset({"ANSWERS"})


def engine_files() -> list[Path]:
    return [
        path
        for path in sorted(ENGINE.rglob("*.py"))
        if not any(path.is_relative_to(folder) for folder in NOT_ENGINE)
    ]


def assignment_names() -> set[str]:
    """Assignment packages, the contract names of every shipped rubric, and the declared stages."""
    from grader.assignments.registry import declared_stages

    names = {path.name for path in (ENGINE / "assignments").iterdir() if (path / "__init__.py").exists()}
    for rubric in sorted((ROOT / "rubrics").glob("*.toml")):
        data = tomllib.loads(rubric.read_text(encoding="utf-8"))
        names.add(data["assignment"])
        contract = data.get("contract", {})
        names.update(contract.get("functions", []))
        names.update(contract.get("constants", []))
        names.update(data.get("stages", {}))  # the stages a rubric declares as data
    names.update(stage.name for stage in declared_stages())
    return names - ENGINE_CONVENTIONS


def _docstring_lines(source: str) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                if isinstance(body[0].value.value, str):
                    lines.update(range(body[0].lineno, (body[0].end_lineno or body[0].lineno) + 1))
    return lines


def named(source: str, names: set[str]) -> list[tuple[int, str]]:
    """(line, name) for every name of ``names`` in the code's identifiers and string literals."""
    words = "|".join(map(re.escape, sorted(names)))
    pattern = re.compile(r"(?<![A-Za-z0-9_])(" + words + r")(?![A-Za-z0-9_])")
    docstrings = _docstring_lines(source)
    found = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type not in (tokenize.NAME, tokenize.STRING) or token.start[0] in docstrings:
            continue
        found.extend((token.start[0], match.group(1)) for match in pattern.finditer(token.string))
    return found


def test_the_engine_names_no_assignment_contract_name_or_stage():
    names = assignment_names()
    hits = {
        str(path.relative_to(ROOT)): named(path.read_text(encoding="utf-8"), names) for path in engine_files()
    }
    assert {path: found for path, found in hits.items() if found} == {}


def test_the_names_come_from_the_rubrics_and_the_stages():
    names = assignment_names()
    assert {"autoencoders", "transposed_conv", "kl_loss", "EPOCHS", "vae", "dense"} <= names
    assert "ANSWERS" not in names


def test_a_name_in_code_is_found_and_one_in_a_docstring_or_comment_is_not():
    source = '"""Grades kl_loss."""\n# kl_loss too\nPROBE = "kl_loss"\nkl_loss_cases = 1\nfoo = "vae:x"\n'
    assert named(source, {"kl_loss", "vae"}) == [(3, "kl_loss"), (5, "vae")]
