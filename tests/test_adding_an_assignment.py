"""README "Adding an assignment": a function-only assignment made of data, in any folder; a Keras
model exercise made of data (its architecture, loss and a training stage: no grader Python); and
docs/authoring.md's training stage written in Python.

The rubric, reference and template are taken from the README's own code blocks, written to a
temporary folder and graded through the CLI with ``--rubric path/to/rubric.toml``: the
reference earns full marks, the template zero, and a mutant loses exactly its item, with the
feedback the README quotes. Calibration of a rubric installed in site-packages goes to the
user cache, never beside the rubric. The model exercise's reference earns full marks, its
template zero, and two mutants lose exactly their item. The Python stage's package (probes,
stage, check) is found through ``GRADER_ASSIGNMENTS_PATH``, with no edit to the grader. Both train
at a tiny budget.
"""

from __future__ import annotations

import json
import re
import sysconfig
from pathlib import Path

import pytest

from grader import calibration
from grader.cli import main
from grader.data import load_dataset
from grader.rubric import load_rubric

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
AUTHORING = (ROOT / "docs" / "authoring.md").read_text()

MUTANT = '''import numpy as np


def softmax(x):
    """Sums over the wrong axis (the batch), not over the logits of each row."""
    shifted = np.exp(x - np.max(x, axis=-1, keepdims=True))
    return shifted / np.sum(shifted, axis=0, keepdims=True)


def standardize(x):
    return (x - x.mean(axis=0)) / x.std(axis=0)
'''


def readme_example(name: str, sheet: str = "softmax_sheet", text: str = README) -> str:
    match = re.search(rf"<!-- example: {sheet}/{re.escape(name)} -->\n```\w+\n(.*?)```", text, re.S)
    assert match, f"no example block for {sheet}/{name}"
    return match.group(1)


def softmax_sheet(course: Path, mutant: str = MUTANT) -> Path:
    """softmax_sheet/ from the README in ``course``, with ``mutant.py`` beside its reference."""
    folder = course / "softmax_sheet"
    folder.mkdir()
    for name in ("rubric.toml", "reference.py", "template.py"):
        (folder / name).write_text(readme_example(name))
    (folder / "mutant.py").write_text(mutant)
    return folder


@pytest.fixture(scope="module")
def assignment(tmp_path_factory) -> Path:
    return softmax_sheet(tmp_path_factory.mktemp("course"))


def grade_cli(assignment: Path, submission: str, out: Path) -> dict:
    code = main(
        [
            "grade",
            str(assignment / submission),
            "--rubric",
            str(assignment / "rubric.toml"),
            "--out",
            str(out),
        ]
    )
    assert code == 0
    return json.loads((out / f"{Path(submission).stem}.json").read_text())


def scores(report: dict) -> dict[str, float]:
    return {item["id"]: item["score"] for item in report["items"]}


def test_the_readme_rubric_loads_with_its_files_beside_it(assignment):
    rubric = load_rubric(assignment / "rubric.toml")
    assert rubric.reference == (assignment / "reference.py").resolve()
    assert rubric.template == (assignment / "template.py").resolve()
    assert list(rubric.functions) == ["softmax", "standardize"]


def test_the_reference_earns_full_marks(assignment, tmp_path):
    report = grade_cli(assignment, "reference.py", tmp_path)
    assert scores(report) == {"1-softmax": 1.0, "2-standardize": 1.0}


def test_the_template_earns_zero(assignment, tmp_path):
    report = grade_cli(assignment, "template.py", tmp_path)
    assert scores(report) == {"1-softmax": 0.0, "2-standardize": 0.0}
    assert all("not implemented yet" in item["feedback"] for item in report["items"])


def test_a_mutant_loses_exactly_its_item_with_the_feedback_the_readme_quotes(assignment, tmp_path):
    report = grade_cli(assignment, "mutant.py", tmp_path)
    assert scores(report) == {"1-softmax": 0.0, "2-standardize": 1.0}
    feedback = report["items"][0]["feedback"]
    quoted = re.search(r"gets 0 for `1-softmax`, with the entry that\ndiffers most: `(.*?)`", README, re.S)
    assert quoted and quoted.group(1).replace("\n", " ") in feedback
    assert "(large logits)" in feedback


def test_grader_calibrate_never_writes_into_an_installed_package(assignment, tmp_path, monkeypatch):
    """A rubric in site-packages: the calibration goes to the user cache, and is read back from there."""
    monkeypatch.setenv("GRADER_CACHE_DIR", str(tmp_path / "cache"))
    paths = dict(sysconfig.get_paths())
    paths["purelib"] = paths["platlib"] = str(assignment.parent)  # the course folder plays site-packages
    monkeypatch.setattr(sysconfig, "get_paths", lambda *args, **kwargs: paths)
    rubric = load_rubric(assignment / "rubric.toml")
    assert rubric.calibration_write_path.is_relative_to(tmp_path / "cache" / "calibration")
    assert main(["calibrate", "--rubric", str(assignment / "rubric.toml"), "--seeds", "1"]) == 0
    assert not (assignment / "softmax_sheet.calibration.json").exists()
    written = json.loads(rubric.calibration_write_path.read_text())
    assert written["rubric"] == "softmax_sheet" and "default@default" in written["budgets"]
    assert rubric.calibration_path == rubric.calibration_write_path  # read back from the cache


def test_a_rubric_in_a_writable_folder_keeps_its_calibration_beside_it(assignment):
    rubric = load_rubric(assignment / "rubric.toml")
    assert rubric.calibration_write_path == assignment / "softmax_sheet.calibration.json"
    assert rubric.calibration_path == rubric.calibration_write_path


def test_calibration_entries_of_other_budgets_are_kept_when_the_cache_copy_is_made(tmp_path, monkeypatch):
    """The first calibration into the user cache starts from the shipped file's entries."""
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "rubric.toml").write_text(readme_example("rubric.toml"))
    (folder / "softmax_sheet.calibration.json").write_text(
        json.dumps({"budgets": {"smoke@x": {"items": {}}}})
    )
    monkeypatch.setenv("GRADER_CACHE_DIR", str(tmp_path / "cache"))
    paths = dict(sysconfig.get_paths()) | {"purelib": str(folder), "platlib": str(folder)}
    monkeypatch.setattr(sysconfig, "get_paths", lambda *args, **kwargs: paths)
    rubric = load_rubric(folder / "rubric.toml")
    calibration._write_entry(rubric, "default@default", {"items": {}})
    written = json.loads(rubric.calibration_write_path.read_text())
    assert set(written["budgets"]) == {"smoke@x", "default@default"}
    assert json.loads((folder / "softmax_sheet.calibration.json").read_text()) == {
        "budgets": {"smoke@x": {"items": {}}}
    }
    assert load_dataset  # the data module is importable without a cache folder (no side effects)


# -- a Keras model exercise as data ------------------------------------------------------------

MODEL_FILES = ("rubric.toml", "reference.py", "template.py")
HIDDEN_LAYER = """import keras


def build_classifier():
    \"\"\"A hidden layer the exercise does not ask for: the architecture item only.\"\"\"
    model = keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            keras.layers.Flatten(),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model
"""
FROZEN = """import keras


def build_classifier():
    \"\"\"The right model and loss, but an optimizer that never moves the weights.\"\"\"
    model = keras.Sequential(
        [keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")]
    )
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.0), loss="sparse_categorical_crossentropy")
    return model
"""


@pytest.fixture(scope="module")
def model_sheet(tmp_path_factory) -> Path:
    """digits_sheet/ from the README: a rubric, a reference and a template, nothing else."""
    folder = tmp_path_factory.mktemp("course") / "digits_sheet"
    folder.mkdir()
    for name in MODEL_FILES:
        (folder / name).write_text(readme_example(name, "digits_sheet"))
    (folder / "hidden_layer.py").write_text(HIDDEN_LAYER)
    (folder / "frozen.py").write_text(FROZEN)
    return folder


def grade_budget(folder: Path, submission: str, out: Path) -> dict:
    code = main(
        ["grade", str(folder / submission), "--rubric", str(folder / "rubric.toml"), "--budget", "default"]
        + ["--out", str(out)]
    )
    assert code == 0
    return json.loads((out / f"{Path(submission).stem}.json").read_text())


def feedback_of(report: dict, item: str) -> str:
    return next(entry["feedback"] for entry in report["items"] if entry["id"] == item)


def test_the_model_exercise_is_data_only(model_sheet):
    rubric = load_rubric(model_sheet / "rubric.toml")
    assert sorted(path.name for path in model_sheet.iterdir() if path.suffix != ".py") == ["rubric.toml"]
    assert rubric.stages.get("digits").check == "digits_accuracy"
    assert rubric.stages.get("digits").thresholds[0].name == "test_accuracy_min"
    assert set(rubric.probe_args()) == {"model:build_classifier"}


def test_the_model_exercise_s_reference_earns_full_marks(model_sheet, tmp_path):
    report = grade_budget(model_sheet, "reference.py", tmp_path)
    assert scores(report) == {"1-architecture": 1.0, "1-loss": 1.0, "1-accuracy": 1.0}, report["items"]
    assert feedback_of(report, "1-accuracy").startswith(
        "after 2 epochs on 1,000 images (batch 64) the test accuracy is"
    )


def test_the_model_exercise_s_template_earns_zero(model_sheet, tmp_path):
    report = grade_budget(model_sheet, "template.py", tmp_path)
    assert scores(report) == {"1-architecture": 0.0, "1-loss": 0.0, "1-accuracy": 0.0}
    assert "not implemented yet: build_classifier" in feedback_of(report, "1-architecture")


def test_a_hidden_layer_loses_exactly_the_architecture_item(model_sheet, tmp_path):
    report = grade_budget(model_sheet, "hidden_layer.py", tmp_path)
    assert scores(report) == {"1-architecture": 0.0, "1-loss": 1.0, "1-accuracy": 1.0}
    assert feedback_of(report, "1-architecture") == (
        "the model's layers are Flatten, Dense, Dense; the exercise asks for Flatten, Dense."
    )


def test_a_frozen_optimizer_loses_exactly_the_trained_item_with_the_readme_s_feedback(model_sheet, tmp_path):
    report = grade_budget(model_sheet, "frozen.py", tmp_path)
    assert scores(report) == {"1-architecture": 1.0, "1-loss": 1.0, "1-accuracy": 0.0}
    feedback = feedback_of(report, "1-accuracy")
    assert feedback.startswith(
        "the training loss did not fall after 2 epochs on 1,000 images (batch 64). Its learning rate is 0 "
        "(SGD); Keras's default for Adam is 0.001"
    )
    assert "The grader trained your model 2 times" in feedback  # retried: the rule derived from the table
    quoted = feedback.partition("; Keras's default")[0]
    assert quoted in " ".join(README.split()).replace("`", "")  # the README quotes it, wrapped


# -- a training stage in Python (docs/authoring.md) ----------------------------------------------

STAGE_FILES = ("rubric.toml", "reference.py", "template.py") + tuple(
    f"assignments/digits_python/{name}.py" for name in ("probes", "stages", "checks")
)
STAGE_MUTANT = FROZEN


@pytest.fixture(scope="module")
def staged(tmp_path_factory):
    """digits_python/ from docs/authoring.md, its package on GRADER_ASSIGNMENTS_PATH; registries restored."""
    import sys

    from grader.assignments.registry import all_checks

    folder = tmp_path_factory.mktemp("course") / "digits_python"
    for name in STAGE_FILES:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(readme_example(name, "digits_python", AUTHORING))
    (folder / "assignments" / "digits_python" / "__init__.py").write_text("")
    (folder / "mutant.py").write_text(STAGE_MUTANT)
    checks = all_checks()
    before = dict(checks)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GRADER_ASSIGNMENTS_PATH", str(folder / "assignments"))
        patch.setenv("GRADER_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        yield folder
    checks.clear()
    checks.update(before)  # the rest of the suite sees the shipped checks only
    for module in [name for name in sys.modules if name.startswith("grader.assignments.digits_python")]:
        del sys.modules[module]


def grade_staged(folder: Path, submission: str, out: Path) -> dict:
    return grade_budget(folder, submission, out)


def test_the_stage_is_declared_without_touching_the_grader(staged):
    from grader.assignments.registry import declared_stages

    stages = declared_stages()
    assert "digit_net" in stages.names and stages.get("digit_net").check == "digit_net_accuracy"
    assert load_rubric(staged / "rubric.toml").budget.epochs == {"digit_net": 2}


def test_the_staged_reference_earns_full_marks(staged, tmp_path):
    report = grade_staged(staged, "reference.py", tmp_path)
    assert scores(report) == {"1-loss": 1.0, "1-accuracy": 1.0}, report["items"]
    assert "your classifier is right on" in report["items"][1]["feedback"]


def test_the_staged_template_earns_zero(staged, tmp_path):
    report = grade_staged(staged, "template.py", tmp_path)
    assert scores(report) == {"1-loss": 0.0, "1-accuracy": 0.0}


def test_a_staged_mutant_loses_exactly_the_trained_item(staged, tmp_path):
    report = grade_staged(staged, "mutant.py", tmp_path)
    assert scores(report) == {"1-loss": 1.0, "1-accuracy": 0.0}
    feedback = report["items"][1]["feedback"]
    assert "after 2 epochs on 1,000 images (batch 64) your classifier is right on" in feedback
    assert "below 60.0% (optimizer SGD, learning rate 0)" in feedback


def test_the_outside_assignment_packages_are_protected_from_the_submission(staged):
    """Without Landlock the guards are the only wall: they must list the folder of the stage's code."""
    from grader.grading import GradeOptions, sandbox_protected

    protected = sandbox_protected(load_rubric(staged / "rubric.toml"), GradeOptions())
    assert str(staged / "assignments") in protected
