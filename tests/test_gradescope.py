"""``grader gradescope`` (issue 27): the autograder zip, run in a folder laid out as Gradescope lays
out ``/autograder`` (``source/``, ``submission/``, ``results/``, ``submission_metadata.json``).

The fast tests run the zip's ``run_autograder`` with this checkout's Python; the last one runs the
zip's ``setup.sh`` into a fresh venv (pip from the local mirror) and grades three submissions there.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import jsonschema
import pytest

from grader.distribution.gradescope import build_autograder, check_fits
from grader.distribution.wheel import DistributionError
from grader.rubric import load_rubric

ROOT = Path(__file__).resolve().parents[1]
RUBRIC = "transposed_conv"  # hidden items and the reference's precomputed results; grades in seconds

# Gradescope's documented results.json (https://gradescope-autograders.readthedocs.io, "Output format").
TEST = {
    "type": "object",
    "required": ["name", "score", "max_score", "status", "output", "visibility"],
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "score": {"type": "number"},
        "max_score": {"type": "number"},
        "status": {"enum": ["passed", "failed"]},
        "output": {"type": "string"},
        "visibility": {"enum": ["visible", "hidden", "after_due_date", "after_published"]},
    },
}
RESULTS = {
    "type": "object",
    "required": ["score", "execution_time", "output", "tests"],
    "properties": {
        "score": {"type": "number"},
        "execution_time": {"type": "number"},
        "output": {"type": "string", "minLength": 1},
        "tests": {"type": "array", "items": TEST},
    },
}


@pytest.fixture(scope="module")
def autograder(tmp_path_factory):
    return build_autograder(RUBRIC, tmp_path_factory.mktemp("zip") / "autograder.zip", "smoke")


def _layout(root: Path, zip_path: Path, *submission: Path) -> Path:
    """/autograder as Gradescope lays it out, the zip unpacked into source/."""
    for folder in ("source", "submission", "results"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(root / "source")
    for path in (root / "source").glob("*"):
        if path.name in ("setup.sh", "run_autograder"):
            path.chmod(0o755)
    for path in submission:
        shutil.copy(path, root / "submission" / path.name)
    (root / "submission_metadata.json").write_text(json.dumps({"id": 1, "users": [{"name": "A"}]}))
    return root


def _run(root: Path, python: str, timeout: float = 600) -> dict:
    env = dict(os.environ, AUTOGRADER_ROOT=str(root), GRADER_PYTHON=python)
    subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env, check=True, timeout=timeout)
    results = json.loads((root / "results" / "results.json").read_text())
    jsonschema.validate(results, RESULTS)
    return results


def test_the_zip_holds_what_gradescope_runs_and_the_rubric_with_its_hidden_items(autograder):
    with zipfile.ZipFile(autograder.zip) as archive:
        names = set(archive.namelist())
        config = json.loads(archive.read("autograder.json"))
        pins = archive.read("requirements.txt").decode().split()
    assert {
        "setup.sh",
        "run_autograder",
        "Containerfile",
        "requirements.txt",
        f"rubric/{RUBRIC}.toml",
    } <= names
    assert [n for n in names if n.endswith(".whl")] and not [n for n in names if n.startswith("reference")]
    assert config == {"rubric": RUBRIC, "budget": "smoke", "timeout_s": 2400.0}
    assert any(pin.startswith("tensorflow==") for pin in pins) and all("==" in pin for pin in pins)


def test_each_item_is_a_test_whose_visibility_follows_the_rubric(autograder, tmp_path):
    root = _layout(tmp_path, autograder.zip, ROOT / "reference" / f"{RUBRIC}.py")
    results = _run(root, sys.executable)
    rubric = load_rubric(RUBRIC)
    assert results["score"] == sum(i.points for i in rubric.items if not i.is_manual)
    visibility = {t["name"].split(":")[0]: t["visibility"] for t in results["tests"]}
    assert visibility == {
        i.id: "visible" if i.visibility == "public" else "after_published" for i in rubric.items
    }
    assert "Graded at the 'smoke' budget of transposed_conv." in results["output"]
    assert (
        "Written answers are graded by hand: they are not part of this autograder's score."
        in results["output"]
    )


def test_of_several_files_the_one_defining_the_most_contract_functions_is_graded(autograder, tmp_path):
    notes = tmp_path / "notes.py"
    notes.write_text("def helper():\n    return 1\n")
    root = _layout(tmp_path / "root", autograder.zip, ROOT / "reference" / f"{RUBRIC}.py", notes)
    results = _run(root, sys.executable)
    assert results["score"] == 4.0
    assert results["output"].startswith("Graded transposed_conv.py: it defines 4 of the 4 contract functions")


def test_an_empty_submission_gets_every_item_at_zero_with_a_message(autograder, tmp_path):
    results = _run(_layout(tmp_path, autograder.zip), sys.executable)
    assert results["score"] == 0 and len(results["tests"]) == 8
    assert results["output"].startswith("Your submission holds no .py or .ipynb file.")
    assert {t["output"] for t in results["tests"]} == {"Your submission holds no .py or .ipynb file."}


def test_a_grading_past_the_timeout_still_writes_results(autograder, tmp_path):
    root = _layout(tmp_path, autograder.zip, ROOT / "reference" / f"{RUBRIC}.py")
    config = root / "source" / "autograder.json"
    config.write_text(json.dumps(json.loads(config.read_text()) | {"timeout_s": 2.0}))
    results = _run(root, sys.executable)
    assert results["score"] == 0
    assert results["output"].startswith("Grading took longer than the autograder's 1 s and was stopped.")


def test_when_the_grader_cannot_even_start_run_autograder_writes_a_fallback(autograder, tmp_path):
    root = _layout(tmp_path, autograder.zip, ROOT / "reference" / f"{RUBRIC}.py")
    results = _run(root, "/bin/false")
    assert results["score"] == 0 and results["tests"] == []
    assert results["output"].startswith("The autograder could not grade this submission (its process ended")


def test_a_budget_slower_than_the_timeout_is_refused():
    rubric = load_rubric("autoencoders")
    with pytest.raises(DistributionError, match="exceeds the 1-minute timeout: choose a smaller budget"):
        check_fits(rubric, "default", 60)
    check_fits(rubric, "default", 40 * 60)


def test_setup_sh_installs_into_a_fresh_venv_and_grades_there(autograder, tmp_path):
    """One venv for the three runs; the measured times go to the test's output (pytest -s)."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    root = _layout(tmp_path / "autograder", autograder.zip)
    python = str(venv / "bin" / "python3")
    started = time.monotonic()
    subprocess.run(
        ["bash", str(root / "source" / "setup.sh")],
        env=dict(os.environ, GRADER_PYTHON=python),
        check=True,
        timeout=1800,
        capture_output=True,
    )
    print(f"zip {autograder.size_bytes / 1e6:.2f} MB, setup.sh {time.monotonic() - started:.0f} s")
    submissions = {
        "reference": (ROOT / "reference" / f"{RUBRIC}.py", 4.0),
        "template": (ROOT / "student_template" / f"{RUBRIC}.py", 0.0),
        "hostile": (ROOT / "tests" / "hostile" / "sys_exit_at_import" / "submission.py", 0.0),
    }
    for label, (path, expected) in submissions.items():
        for old in (root / "submission").iterdir():
            old.unlink()
        shutil.copy(path, root / "submission" / path.name)
        started = time.monotonic()
        results = _run(root, python)
        print(f"{label}: {results['score']} in {time.monotonic() - started:.1f} s")
        assert results["score"] == expected, results["output"]
        assert len(results["tests"]) == 8
