"""`pytest grader`: the reference solution earns full marks on every rubric item.

Each rubric's reference is graded once, at the rubric's REAL budget, exactly as a
student's file is graded; there is one test per rubric item.
"""

from __future__ import annotations

import functools

import pytest

from grader.artifacts import reference_path
from grader.grading import grade
from grader.report.model import Report
from grader.rubric import list_rubrics, load_rubric

CASES = [(name, item.id) for name in list_rubrics() for item in load_rubric(name).items]


@functools.cache
def reference_report(rubric: str) -> Report:
    return grade(reference_path(rubric), rubric)


@pytest.mark.parametrize(("rubric", "item_id"), CASES, ids=[f"{r}:{i}" for r, i in CASES])
def test_reference_item_earns_full_marks(rubric: str, item_id: str) -> None:
    item = reference_report(rubric).item(item_id)
    if item.kind == "manual":
        assert item.status == "manual"
        assert item.answer, f"the reference has no written answer for {item.exercise}"
        return
    assert (item.status, item.score) == ("passed", item.max_score), item.feedback


@pytest.mark.parametrize("rubric", list_rubrics())
def test_reference_report_is_complete_and_clean(rubric: str) -> None:
    report = reference_report(rubric)
    assert report.status == "graded"
    assert report.auto_score == report.auto_max
    assert report.integrity == [], "the integrity scan flags nothing in the reference"
    assert not [w for w in report.warnings if "internal error" in w]
    assert report.load_errors == []
