"""benchmarks/budget_search.py: candidates, the cut-down rubric, the entries it grades, the table.

The search's TensorFlow work is one grading path (``grader.grading.grade`` on a cut-down
rubric); these tests pin what it grades and how it judges, without training.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from benchmark_tools import load_benchmark

from grader.assignments.registry import declared_stages
from grader.rubric import load_rubric

ROOT = Path(__file__).resolve().parents[1]


search = load_benchmark("budget_search")
RUBRIC = load_rubric("autoencoders")
STAGES = declared_stages()


def test_candidate_parsing():
    assert search.parse_candidate("vae", "3:2000") == search.Candidate("vae", 3, 2000, None)
    assert search.parse_candidate("vae", "3:2000:128").batch_size == 128
    for bad in ("3", "3:x", "0:2000", "1:2:3:4"):
        with pytest.raises(search.CandidateError, match="EPOCHS:TRAIN_SAMPLES"):
            search.parse_candidate("vae", bad)


def test_candidate_budget_changes_only_its_stage():
    base = RUBRIC.budget_named("default")
    budget = search.candidate_budget(base, search.Candidate("vae", 3, 2000, 128))
    assert budget.epochs == dict(base.epochs) | {"vae": 3}
    assert budget.batch_size == dict(base.batch_size) | {"vae": 128}
    assert budget.train_samples == 2000 and budget.test_samples == base.test_samples
    assert budget.name == "search-vae-3e-2000nx128" and budget.seed == base.seed
    kept_batch = search.candidate_budget(base, search.Candidate("autoencoder", 4, 4000))
    assert kept_batch.batch_size == base.batch_size


@pytest.mark.parametrize(
    "stage, items",
    [("autoencoder", {"1-training"}), ("classifier", {"4a-accuracy"}), ("vae", {"6a-training", "6c"})],
)
def test_stage_items_are_those_the_stage_feeds(stage, items):
    chosen = search.stage_items(RUBRIC, STAGES.get(stage), search._probes_of)
    assert {item.id for item in chosen} == items


def test_relevant_entries_are_variants_and_the_stages_mutants():
    entries = search.fidelity.discover()
    chosen = search.relevant_entries(entries, "autoencoders", {"6a-training", "6c"})
    names = {entry.name for entry in chosen}
    assert "mutant_kl_missing" in names  # loses 6a-training
    assert "variant_sequential" in names
    assert "mutant_knn_k3" not in names  # its mistake is in Exercise 3
    assert "variant_tc_kron" not in names  # another rubric
    narrowed = next(entry for entry in chosen if entry.name == "mutant_kl_missing")
    assert set(narrowed.items) <= {"6a-training", "6c"} and narrowed.items
    assert set(narrowed.feedback) <= {"6a-training", "6c"}


def test_search_rubric_is_cut_down_and_calibrates_into_its_folder(tmp_path):
    budget = search.candidate_budget(RUBRIC.budget_named("default"), search.Candidate("vae", 3, 2000))
    items = search.stage_items(RUBRIC, STAGES.get("vae"), search._probes_of)
    cut = search.search_rubric(RUBRIC, items, budget, tmp_path)
    assert cut.calibration_write_path.parent == tmp_path  # the shipped calibration is never written
    assert cut.budget_named(budget.name) == budget and not cut.reference_artifacts
    assert [item.id for item in cut.items] == ["6a-training", "6c"]


def _outcome(name: str, kind: str, mismatches: list) -> object:
    entry = search.fidelity.Entry(name, Path(name), "autoencoders", kind, "", "passed", {}, {})
    return search.fidelity.Outcome(entry, mismatches)


def test_a_false_fail_at_any_seed_means_the_candidate_does_not_keep():
    row = search.Row(search.Candidate("vae", 2, 1000), train_seconds=3.0)
    fail = search.fidelity.Mismatch("6a-training", "status", "passed", "failed")
    search.judge(
        row,
        [
            [_outcome("variant_a", "variant", []), _outcome("mutant_b", "mutant", [])],
            [_outcome("variant_a", "variant", [fail]), _outcome("mutant_b", "mutant", [])],
        ],
    )
    assert row.variants == (0, 1) and row.mutants == (1, 1)
    assert row.false_fails == ["variant_a: 6a-training: status expected 'passed', got 'failed'"]
    assert not row.keeps
    good = search.Row(search.Candidate("vae", 3, 2000), train_seconds=5.0, variants=(1, 1), mutants=(1, 1))
    table = search.format_table([row, good])
    assert "DOES NOT KEEP" in table
    assert "variant_a: 6a-training" in table
    assert "cheapest candidate that keeps the verdicts for vae: 3 epochs, 2000 samples (5.0 s" in table


def test_no_candidate_keeps_is_said():
    row = search.Row(search.Candidate("autoencoder", 1, 500), variants=(2, 3), mutants=(1, 1))
    assert "for autoencoder: none of the candidates" in search.format_table([row])


def test_thorough_budget_keeps_the_first_release_budget_with_its_calibration():
    from dataclasses import replace

    from grader import calibration
    from grader.data import load_dataset

    default, thorough = RUBRIC.budget_named("default"), RUBRIC.budget_named("thorough")
    assert thorough.epochs == {"autoencoder": 5, "classifier": 5, "vae": 5}
    assert thorough.train_samples == 4000 and thorough.batch_size["vae"] == 64
    # The searched default (docs/performance.md) differs from the first release in epochs only.
    assert default.epochs == {"autoencoder": 3, "classifier": 5, "vae": 4}
    assert thorough == replace(default, name="thorough", epochs=thorough.epochs)
    dataset = load_dataset("default")
    for budget in (default, thorough):
        thresholds, warnings = calibration.thresholds_for(RUBRIC, budget, dataset)
        assert warnings == [], budget.name  # calibrated thresholds, not the fallbacks
        assert set(thresholds) == {"1-training", "4a-accuracy", "6a-training"}


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--stage", "nope", "--candidates", "3:4000"], "unknown stage 'nope'"),
        (
            ["--rubric", "sheet10", "--stage", "vae", "--candidates", "3:4000"],
            "no item that stage vae decides",
        ),
        (["--stage", "vae", "--candidates", "3:4000", "--base", "nope"], "no budget 'nope'"),
        (["--stage", "vae", "--candidates", "3"], "expected EPOCHS:TRAIN_SAMPLES"),
    ],
)
def test_bad_arguments_are_one_clear_error(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        search.main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
