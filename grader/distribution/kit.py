"""``grader student-kit --rubric NAME -o DIR``: what a course hands to its students.

The kit holds the hand-out (``student_template/``) and a wheel of the grader whose only rubric is
the assignment's public items, with their calibrated thresholds and the reference's results on
their inputs computed ahead (grader/distribution/precompute.py). It holds no reference source, no
reference weights and no hidden item, so a student who installs it (``pip install DIR/*.whl``)
can check offline with ``from grader import check`` or ``grader check`` and read nothing they
could not see in their own report (README "For students").
"""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w

from grader.data import load_dataset
from grader.distribution.precompute import kept_cases, precompute
from grader.distribution.wheel import DistributionError, build_wheel
from grader.rubric import Rubric, load_rubric

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

DEFAULT_BUDGETS = ("default", "smoke")


@dataclass(frozen=True)
class Kit:
    folder: Path
    wheel: Path
    budgets: tuple[str, ...]
    items: tuple[str, ...]  # the public items' ids


def shipped_rubric(
    raw: dict[str, Any], rubric: Rubric, item_ids: set[str], precomputed: str
) -> dict[str, Any]:
    """The rubric table a distribution ships: only ``item_ids``, only their function cases, no
    reference or template path, and where the reference's results are (``precomputed``)."""
    shipped = {k: v for k, v in raw.items() if k not in ("reference", "template", "items", "functions")}
    shipped["precomputed"] = precomputed
    shipped["reference_sha256"] = rubric.reference_digest
    cases = kept_cases(rubric, item_ids)
    functions = {
        name: table | {"cases": {c: v for c, v in table["cases"].items() if c in cases[name]}}
        for name, table in raw.get("functions", {}).items()
        if name in cases
    }
    if functions:
        shipped["functions"] = functions
    shipped["items"] = [item for item in raw["items"] if item["id"] in item_ids]
    return shipped


def shipped_calibration(raw: dict[str, Any], item_ids: set[str]) -> dict[str, Any]:
    """The calibration of ``item_ids`` only: each item's key and thresholds, per budget."""
    budgets = {
        name: {
            "budget": entry.get("budget", {}),
            "data": entry.get("data", {}),
            "grader_version": entry.get("grader_version", ""),
            "items": {
                item: {k: record[k] for k in ("check", "key", "thresholds") if k in record}
                for item, record in entry.get("items", {}).items()
                if item in item_ids
            },
        }
        for name, entry in raw.get("budgets", {}).items()
    }
    return {
        "about": "The public items' thresholds, from the instructor's `grader calibrate`.",
        "budgets": budgets,
    }


def rubric_files(rubric: Rubric, item_ids: set[str], budgets: list[str], stand_in: bool) -> dict[str, bytes]:
    """Path under ``rubrics/`` -> bytes: the shipped rubric, its calibration and its precomputed results."""
    raw = tomllib.loads(rubric.path.read_text(encoding="utf-8"))
    folder = f"{rubric.name}.precomputed"
    files = {f"{rubric.name}.toml": tomli_w.dumps(shipped_rubric(raw, rubric, item_ids, folder)).encode()}
    if rubric.calibration_path.is_file():
        calibration = shipped_calibration(json.loads(rubric.calibration_path.read_text()), item_ids)
        files[f"{rubric.name}.calibration.json"] = json.dumps(calibration, indent=2).encode()
    results = precompute(rubric, budgets, load_dataset("default"), item_ids, stand_in=stand_in)
    files |= {f"{folder}/{name}": content for name, content in results.items()}
    return files


def build_kit(rubric_name: str, out: Path, budgets: list[str] | None = None) -> Kit:
    """Write the student kit of ``rubric_name`` into ``out`` (trains the reference once if not cached)."""
    rubric = load_rubric(rubric_name)
    budgets = list(budgets or DEFAULT_BUDGETS)
    for name in budgets:
        rubric.budget_named(name)  # an unknown budget is a clear RubricError
    public = {item.id for item in rubric.items if item.visibility == "public"}
    if out.exists() and any(out.iterdir()):
        raise DistributionError(f"{out} is not empty: choose a new folder for the kit")
    files = rubric_files(rubric, public, budgets, stand_in=True)
    wheel = build_wheel(files, f"kit.{rubric.name.replace('_', '.')}", student_readme(rubric, budgets), out)
    _copy_template(rubric, out / "student_template")
    (out / "README.md").write_text(student_readme(rubric, budgets, wheel.name), encoding="utf-8")
    return Kit(out, wheel, tuple(budgets), tuple(sorted(public)))


def _copy_template(rubric: Rubric, folder: Path) -> None:
    """The hand-out: the rubric's template and its notebook twin (same stem)."""
    if rubric.template is None or not rubric.template.is_file():
        raise DistributionError(f"{rubric.path.name}: names no student template (the `template` key)")
    folder.mkdir(parents=True, exist_ok=True)
    for path in sorted(rubric.template.parent.glob(f"{rubric.template.stem}.*")):
        if path.suffix in (".py", ".ipynb"):
            shutil.copy2(path, folder / path.name)


def student_readme(rubric: Rubric, budgets: list[str], wheel: str = "dl_autograder-*.whl") -> str:
    quick = " (`check(quick=True)`, `--budget smoke`)" if "smoke" in budgets else ""
    return f"""# {rubric.title}: your hand-out and self-check

- `student_template/`: the assignment to fill in.
- `{wheel}`: the grader's self-check for this assignment: its public items only.

Install it into the Python you work in (once; it needs no internet afterwards):

    pip install {wheel}

Then check an exercise from your notebook:

    from grader import check
    check("1")                 # the exercise's public items, with what to fix first

or from a terminal: `grader check my_solution.ipynb --exercise 1`.

It trains your models exactly as the final grading does, on the budget(s) {", ".join(budgets)}{quick}.
Hidden items and your written answers are graded only when you hand in.
"""
