"""The Report dataclass: only declared fields, and the in-memory figure data never reaches the JSON."""

from __future__ import annotations

import json
from dataclasses import fields

import numpy as np

from grader.report.model import ItemResult, Report


def make_report(**overrides) -> Report:
    item = ItemResult("1-relu", "1", "ReLU", 0.5, 0.5, "passed", "fine", "public")
    values = dict(
        assignment="toy",
        submission="alice.py",
        submission_sha256="a" * 64,
        score=0.5,
        max_score=0.5,
        auto_score=0.5,
        auto_max=0.5,
        manual_pending=0.0,
        grader_version="0.1.0",
        rubric_sha256="b" * 64,
        budget={"name": "default"},
        data={"name": "default"},
        seed=0,
        seconds=1.0,
        items=[item],
    )
    return Report(**(values | overrides))


def test_raw_is_a_declared_field_that_stays_out_of_the_json() -> None:
    assert "raw" in {f.name for f in fields(Report)}
    raw = {"probes": {"train:autoencoder": object()}, "expected": {"x_test": np.zeros((2, 2))}}
    report = make_report(raw=raw)
    assert "raw" not in report.to_dict() and "raw" not in json.loads(report.to_json())
    assert report.raw is raw  # serialising neither copies nor clears it


def test_a_report_read_back_from_json_has_no_raw_data_and_equals_the_original() -> None:
    report = make_report(raw={"probes": {}, "expected": {}})
    again = Report.from_dict(json.loads(report.to_json()))
    assert again.raw is None
    assert again == report  # raw takes no part in equality


def test_from_dict_ignores_a_raw_key_in_the_json() -> None:
    data = make_report().to_dict() | {"raw": {"probes": "forged"}}
    assert Report.from_dict(data).raw is None
