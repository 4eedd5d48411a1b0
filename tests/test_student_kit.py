"""``grader student-kit`` (issue 23): what students get holds no solution, and checks like the grader.

The kit is built at the smoke budget; its wheel is installed into a fresh venv without this
checkout (tests/kit_tools.py), where ``grader check`` and ``check()`` must give the public
scores the full grader gives, on the reference and on the template.
"""

from __future__ import annotations

import ast
import json
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pytest
from kit_tools import kit_python

from grader.distribution.kit import build_kit, shipped_calibration
from grader.grading import GradeOptions, grade
from grader.rubric import load_rubric

ROOT = Path(__file__).resolve().parents[1]
# transposed_conv: hidden items and function cases; autoencoders: artifacts of the trained reference.
# Exercises 2, 3 and 5 of autoencoders are graded on those artifacts alone (nothing trains).
CASES = {"transposed_conv": (), "autoencoders": ("2", "3", "5")}


@pytest.fixture(scope="module")
def kits(tmp_path_factory):
    root = tmp_path_factory.mktemp("kits")
    return {name: build_kit(name, root / name, ["smoke"]) for name in CASES}


@pytest.fixture(scope="module")
def unpacked(kits, tmp_path_factory):
    """rubric -> every file of its kit, the wheel unpacked."""
    files = {}
    for name, kit in kits.items():
        where = tmp_path_factory.mktemp(f"unpacked-{name}")
        with zipfile.ZipFile(kit.wheel) as wheel:
            wheel.extractall(where)
        files[name] = [p for p in [*kit.folder.rglob("*"), *where.rglob("*")] if p.is_file()]
    return files


def _functions(source: str) -> dict[str, ast.FunctionDef]:
    return {node.name: node for node in ast.walk(ast.parse(source)) if isinstance(node, ast.FunctionDef)}


@pytest.mark.parametrize("name", list(CASES))
def test_no_file_of_the_kit_holds_the_reference_or_a_hidden_item(name, kits, unpacked):
    files = unpacked[name]
    assert not [p for p in files if "reference" in p.parts], "a reference folder in the kit"
    reference_source = (ROOT / "reference" / f"{name}.py").read_text()
    reference = {fn: ast.dump(node) for fn, node in _functions(reference_source).items()}
    lines = reference_source.splitlines()
    # The text of each function's body (after its docstring), as the reference writes it.
    bodies = {
        fn: "\n".join(lines[node.body[-1 if len(node.body) == 1 else 1].lineno - 1 : node.end_lineno]).strip()
        for fn, node in _functions(reference_source).items()
    }
    hidden = [item.id for item in load_rubric(name).items if item.visibility == "hidden"]
    for path in files:
        content = path.read_bytes()
        for item_id in hidden:
            assert item_id.encode() not in content, f"hidden item {item_id} in {path.name}"
        for fn, body in bodies.items():
            assert body.encode() not in content, f"the reference's {fn} in {path.name}"
        if path.suffix == ".py":
            dumps = {ast.dump(node) for node in _functions(path.read_text()).values()}
            assert not [fn for fn, dump in reference.items() if dump in dumps], path
    assert len(kits[name].items) == sum(1 for i in load_rubric(name).items if i.visibility == "public")
    assert (kits[name].folder / "student_template" / f"{name}.py").is_file()


def test_the_kit_ships_no_reference_decoder_weights_only_its_outputs(unpacked):
    from grader import artifacts
    from grader.data import load_dataset

    rubric = load_rubric("autoencoders")
    reference, meta = artifacts.load_or_build(rubric, rubric.budget_named("smoke"), load_dataset("default"))
    npz = next(p for p in unpacked["autoencoders"] if p.name == "artifacts-smoke.npz")
    shipped = dict(np.load(npz))
    weights = [v for k, v in reference.items() if k.startswith("decoder_w")]
    for value in shipped.values():
        assert not any(w.shape == value.shape and np.array_equal(w, value) for w in weights)
    layers = json.loads(npz.with_suffix(".json").read_text())["decoder_layers"]
    assert [layer["type"] for layer in layers] == ["Flatten", "Dense", "Reshape"]
    assert "Conv2DTranspose" not in npz.with_suffix(".json").read_text()
    np.testing.assert_array_equal(shipped["z_train"], reference["z_train"])  # no cascades: real codes
    np.testing.assert_array_equal(shipped["plot_grid_images"], reference["grid_images"])


def test_the_shipped_calibration_keeps_only_the_public_items_thresholds():
    public = {"key": "k", "thresholds": {"x": 1}, "reference": {}}
    hidden = {"key": "h", "thresholds": {"x": 2}}
    raw = {"budgets": {"smoke@default": {"items": {"a": public, "hidden": hidden}}}}
    items = shipped_calibration(raw, {"a"})["budgets"]["smoke@default"]["items"]
    assert items == {"a": {"key": "k", "thresholds": {"x": 1}}}


@pytest.fixture(scope="module")
def pythons(kits, tmp_path_factory):
    return {name: kit_python(tmp_path_factory.mktemp(f"v-{name}"), kit.wheel) for name, kit in kits.items()}


SCORES = """
import json, sys
from grader.grading import GradeOptions, grade
options = GradeOptions(public_only=True, budget="smoke", exercises=tuple(sys.argv[3:]))
report = grade(sys.argv[1], sys.argv[2], options)
print(json.dumps({i.id: i.score for i in report.items if i.kind == "auto"}))
"""


def _scores_here(path: Path, name: str) -> dict[str, float]:
    options = GradeOptions(public_only=True, budget="smoke", exercises=CASES[name])
    return {i.id: i.score for i in grade(path, name, options).items if i.kind == "auto"}


def _in_kit(python: Path, code: str, *args: str) -> str:
    done = subprocess.run(
        [str(python), "-c", code, *args], capture_output=True, text=True, timeout=600, cwd="/"
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip().splitlines()[-1]


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("who", ["reference", "student_template"])
def test_the_kit_grades_public_items_like_the_grader(name, who, pythons):
    path = ROOT / who / f"{name}.py"
    expected = _scores_here(path, name)
    found = json.loads(_in_kit(pythons[name], SCORES, str(path), name, *CASES[name]))
    assert found == expected
    full = sum(i.points for i in load_rubric(name).items if i.id in expected)
    assert sum(found.values()) == (full if who == "reference" else 0)


def test_the_kit_has_no_reference_to_import(pythons):
    python = str(pythons["transposed_conv"])
    done = subprocess.run([python, "-c", "import reference"], capture_output=True, cwd="/")
    assert b"No module named 'reference'" in done.stderr


CHECK_IN_A_KERNEL = """
import json, sys
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
shell.run_cell(open(sys.argv[1]).read(), store_history=True)
shell.run_cell("from grader import check", store_history=True)
shell.run_cell("result = check('5', quick=True)", store_history=True)
result = shell.user_ns["result"]
print(json.dumps({i.id: i.score for i in result.items}))
"""


def test_check_in_a_notebook_of_the_kit_gives_the_graders_public_scores(pythons):
    path = ROOT / "reference" / "autoencoders.py"
    found = json.loads(_in_kit(pythons["autoencoders"], CHECK_IN_A_KERNEL, str(path)))
    options = GradeOptions(public_only=True, budget="smoke", exercises=("5",))
    expected = {i.id: i.score for i in grade(path, "autoencoders", options).items if i.kind == "auto"}
    assert found == expected and sum(found.values()) == 2.0


def test_a_budget_the_kit_was_not_built_for_is_a_one_line_error(pythons, kits):
    template = kits["autoencoders"].folder / "student_template" / "autoencoders.py"
    done = subprocess.run(
        [str(pythons["autoencoders"].parent / "grader"), "check", str(template), "-e", "5"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert (
        "this copy of the grader has the reference's results for budget(s) smoke of autoencoders, "
        "not for budget 'default'" in done.stderr
    )


@pytest.mark.parametrize("name", ["autoencoders", "sheet10", "transposed_conv"])
def test_a_shipped_rubric_written_as_toml_reads_back_the_same(name):
    import tomli_w
    import tomllib

    raw = tomllib.loads((ROOT / "rubrics" / f"{name}.toml").read_text())
    assert tomllib.loads(tomli_w.dumps(raw)) == raw
