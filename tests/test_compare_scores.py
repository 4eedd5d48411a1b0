"""benchmarks/compare_scores.py: a recording round-trips, and every moved score or status is printed."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from benchmark_tools import load_benchmark

ROOT = Path(__file__).resolve().parents[1]


scores = load_benchmark("compare_scores")


def _recording() -> dict:
    items = [
        {"id": "1-relu", "score": 0.5, "max": 0.5, "status": "passed"},
        {"id": "1-loss", "score": 0.0, "max": 0.5, "status": "failed"},
    ]
    return {
        "format": scores.FORMAT,
        "recorded": "2026-12-01T17:00:00+00:00",
        "grader_version": "0.1.0",
        "reports": {
            "mutant_x": {"rubric": "autoencoders", "budget": "smoke", "status": "graded", "items": items},
            "reference:sheet10": {"rubric": "sheet10", "budget": "default", "status": "crash", "items": []},
        },
    }


def test_a_recording_is_json_with_one_line_per_item():
    data = _recording()
    text = scores.dumps(data)
    assert json.loads(text) == data
    assert '   {"id": "1-relu", "score": 0.5, "max": 0.5, "status": "passed"},' in text.splitlines()


def test_summarise_report_keeps_id_score_max_status_and_marks_a_crash():
    item = SimpleNamespace(id="3a", score=1.0, max_score=2.0, status="partial", feedback="ignored")
    report = SimpleNamespace(items=[item], status="graded")
    assert scores.summarise_report(report, "autoencoders", "smoke") == {
        "rubric": "autoencoders",
        "budget": "smoke",
        "status": "graded",
        "items": [{"id": "3a", "score": 1.0, "max": 2.0, "status": "partial"}],
    }
    assert scores.summarise_report(SimpleNamespace(error="boom"), "sheet10", "smoke")["status"] == "crash"


def test_identical_runs_have_no_moves():
    assert scores.moves(_recording(), _recording()) == []


def test_every_moved_score_status_item_and_report_is_listed():
    before, after = _recording(), _recording()
    moved = after["reports"]["mutant_x"]["items"]
    moved[0].update(score=0.0, status="failed")
    moved[1]["max"] = 1.0
    moved.append({"id": "1-new", "score": 0.0, "max": 0.5, "status": "failed"})
    after["reports"]["reference:sheet10"]["status"] = "graded"
    after["reports"]["variant_y"] = copy.deepcopy(after["reports"]["mutant_x"])
    assert scores.moves(before, after) == [
        "mutant_x 1-relu: score 0.5 -> 0, status passed -> failed",
        "mutant_x 1-loss: max 0.5 -> 1",
        "mutant_x 1-new: new item",
        "reference:sheet10: report status crash -> graded",
        "variant_y: graded now, not in the baseline",
    ]
    assert scores.moves(after, before, only=["mutant_x"])[-1] == "mutant_x 1-new: item gone"
    assert scores.moves(after, before)[-1] == "variant_y: in the baseline, not graded now"


def test_compare_against_a_recording_prints_the_moves_and_a_summary(tmp_path, capsys):
    baseline, current = tmp_path / "base.json", tmp_path / "new.json"
    baseline.write_text(scores.dumps(_recording()))
    current.write_text(scores.dumps(_recording()))
    assert scores.main(["compare", str(baseline), "--against", str(current)]) == 0
    assert capsys.readouterr().out == (
        "no moves: 2 reports, 2 items compared with the baseline of 2026-12-01T17:00:00+00:00\n"
    )
    changed = _recording()
    changed["reports"]["mutant_x"]["items"][1].update(score=0.5, status="passed")
    current.write_text(scores.dumps(changed))
    assert scores.main(["compare", str(baseline), "--against", str(current)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "mutant_x 1-loss: score 0 -> 0.5, status failed -> passed",
        "1 move(s): 2 reports, 2 items compared with the baseline of 2026-12-01T17:00:00+00:00",
    ]


def test_a_file_that_is_not_a_recording_is_a_one_line_usage_error(tmp_path, capsys):
    bad = tmp_path / "scores.json"
    bad.write_text('{"reports": []}')
    with pytest.raises(SystemExit) as stopped:
        scores.main(["compare", str(bad), "--against", str(bad)])
    assert stopped.value.code == 2
    assert capsys.readouterr().err == f"compare_scores: {bad} is not a score recording (format 1)\n"
