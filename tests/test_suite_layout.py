"""The suite's own layout on pytest-xdist workers (`conftest.py` at the repository's root)."""

from __future__ import annotations

from pathlib import Path

import tomllib

from conftest import unit_of_work

ROOT = Path(__file__).resolve().parents[1]


def test_the_two_corpus_modules_are_one_unit_of_work():
    fidelity = unit_of_work("tests/test_fidelity.py::test_corpus_entry_gets_its_expected_verdicts[a::b]")
    hostile = unit_of_work("tests/test_hostile.py::test_corpus_entry_gets_its_expected_outcome[segfault]")
    assert fidelity == hostile


def test_every_other_module_is_its_own_unit_of_work():
    assert unit_of_work("tests/test_batch.py::test_x") == "tests/test_batch.py"
    assert unit_of_work("tests/test_batch.py::TestClass::test_y[p]") == "tests/test_batch.py"
    reference = "grader/tests/test_reference_earns_full_marks.py"
    assert unit_of_work(f"{reference}::test_reference_item_earns_full_marks[sheet10:1a]") == reference
    assert unit_of_work("tests/test_batch.py::t") != unit_of_work("tests/test_cli.py::t")


def test_the_readme_test_command_uses_the_xdist_workers_the_test_extra_installs():
    readme = (ROOT / "README.md").read_text()
    assert "\n.venv/bin/python -m pytest -n 2\n" in readme
    extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["test"]
    assert any(requirement.startswith("pytest-xdist") for requirement in extra)
