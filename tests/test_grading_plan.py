"""One prepared plan (grader/grading.py: GradingPlan, prepare, PlanCache): what grading needs besides
the submission is resolved once, a batch worker reuses it for every row, and a plan made for other
settings is never used."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from test_adding_an_assignment import softmax_sheet

from grader import grading
from grader.batch.discovery import Entry
from grader.batch.task import build_task, grade_one
from grader.grading import GradeOptions, PlanCache, grade, plan_key, prepare
from grader.rubric import load_rubric

MUTANT = "import numpy as np\n\n\ndef softmax(x):\n    return x\n\n\ndef standardize(x):\n    return x\n"


@pytest.fixture(scope="module")
def sheet(tmp_path_factory) -> Path:
    return softmax_sheet(tmp_path_factory.mktemp("course"), MUTANT)


def test_a_plan_grades_as_grading_without_one(sheet):
    rubric = load_rubric(sheet / "rubric.toml")
    plan = prepare(rubric, GradeOptions())
    for name in ("reference.py", "mutant.py", "template.py"):
        alone = grade(sheet / name, rubric)
        planned = grade(sheet / name, rubric, GradeOptions(plan=plan))
        assert [(i.id, i.score, i.status, i.feedback) for i in planned.items] == [
            (i.id, i.score, i.status, i.feedback) for i in alone.items
        ]


def test_a_plan_for_other_settings_is_not_used(sheet, monkeypatch):
    rubric = load_rubric(sheet / "rubric.toml")
    plan = prepare(rubric, GradeOptions())
    other = GradeOptions(seed=7, plan=plan)
    assert plan.key != plan_key(rubric, other)
    prepared = []
    monkeypatch.setattr(grading, "prepare", lambda *args, **kw: prepared.append(args) or plan)
    grade(sheet / "reference.py", rubric, other)
    assert len(prepared) == 1  # prepared afresh for seed 7
    grade(sheet / "reference.py", rubric, GradeOptions(plan=plan))
    assert len(prepared) == 1  # the matching plan was used


def test_a_batch_worker_prepares_one_plan_for_every_row(sheet, monkeypatch):
    rubric = load_rubric(sheet / "rubric.toml")
    calls = []
    real = grading.prepare
    monkeypatch.setattr(grading, "prepare", lambda *args, **kw: calls.append(1) or real(*args, **kw))
    monkeypatch.setattr("grader.batch.task._PLANS", PlanCache())
    options = GradeOptions()
    rows = []
    for student, name in (("ann", "reference.py"), ("bob", "mutant.py"), ("cy", "template.py")):
        task = build_task(Entry(student, sheet / name), rubric, options, None, {})
        rows.append(grade_one(task))
    assert [row.score for row in rows] == [2.0, 0.0, 0.0]
    assert len(calls) == 1
    assert grade_one(replace(task, options=replace(options, seed=3))).score == 0.0
    assert len(calls) == 2  # another seed: another plan


def test_the_cache_keeps_its_last_plans_only(sheet):
    rubric = load_rubric(sheet / "rubric.toml")
    cache = PlanCache(size=2)
    first = cache.get(rubric, GradeOptions(seed=1))
    cache.get(rubric, GradeOptions(seed=2))
    assert cache.get(rubric, GradeOptions(seed=1)) is first
    cache.get(rubric, GradeOptions(seed=3))  # evicts the oldest (seed 1)
    assert cache.get(rubric, GradeOptions(seed=1)) is not first


def test_a_rubric_travels_to_a_worker_process_with_its_stages_and_checks():
    """A batch task pickles its rubric; the Python stages hold lambdas, so they are rebuilt on arrival."""
    import pickle

    rubric = load_rubric("sheet10")
    arrived = pickle.loads(pickle.dumps(rubric))
    assert arrived == rubric
    assert arrived.stages.names == rubric.stages.names and "dense" in arrived.stages.names
    assert set(arrived.checks) == set(rubric.checks) and "dense_training" in arrived.checks
