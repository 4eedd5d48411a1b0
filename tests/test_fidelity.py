"""Verdict fidelity: the corpus in tests/submissions/ gets exactly its expected verdicts.

Every entry is a complete submission: a correct variant of a reference (which must earn
full automatic marks) or a mutant with one realistic mistake (which must lose exactly
the items its expected.toml lists, with feedback that names the mistake). All entries
are graded once, at the smoke budget, two at a time (each grade runs its own sandboxed
worker with one TF thread, so two share the two cores); benchmarks/fidelity.py grades
the same corpus at the real budget.

Training items (test MSE, accuracy, VAE prior) are judged against the reference's own
result at the same budget: where the reference itself misses one (an uncalibrated
budget), no entry is blamed for missing it too.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from benchmark_tools import load_benchmark

from grader.artifacts import reference_path
from grader.rubric import load_rubric

ROOT = Path(__file__).resolve().parents[1]
BUDGET = "smoke"
WORKERS = 2
# Graded twice for the determinism test: at the smoke budget this classifier (Dense on the
# 2-number latent) reaches about 11% test accuracy against a calibrated threshold of about 8%,
# so a little nondeterminism in training (seeds, threads, retries) would flip its verdict.
NEAR_THRESHOLD = "mutant_classifier_keeps_last_conv"


fidelity = load_benchmark("fidelity")
ENTRIES = fidelity.discover()
BY_NAME = {entry.name: entry for entry in ENTRIES}


class Graded(dict):
    """key -> Report; a short repr keeps a failing test's output readable."""

    def __repr__(self) -> str:
        return f"<{len(self)} graded submissions>"


@pytest.fixture(scope="module")
def graded(request):
    """The selected entries (all by default; ``-k NAME`` picks some), the references (the baselines)
    and, when the determinism tests run, their re-runs, graded concurrently."""
    tests = [item for item in request.session.items if item.module is request.module]
    chosen = {item.callspec.params["entry"].name for item in tests if hasattr(item, "callspec")}
    entries = [entry for entry in ENTRIES if entry.name in chosen]
    again = {}
    if any(item.name.startswith("test_grading_") for item in tests):
        again = {
            "again:reference": (reference_path("autoencoders"), "autoencoders"),
            NEAR_THRESHOLD: (BY_NAME[NEAR_THRESHOLD].path, BY_NAME[NEAR_THRESHOLD].rubric),
            f"again:{NEAR_THRESHOLD}": (BY_NAME[NEAR_THRESHOLD].path, BY_NAME[NEAR_THRESHOLD].rubric),
        }
    extra = fidelity.baselines_for([*entries, BY_NAME[NEAR_THRESHOLD]] if again else entries) | again
    return Graded(fidelity.grade_all(entries, BUDGET, WORKERS, extra, threads=1))


def _verdicts(report) -> list[tuple[str, str, float, str]]:
    return [(item.id, item.status, item.score, item.feedback) for item in report.items]


def _attempts(report) -> dict[str, tuple]:
    """Each stage's attempts (seed, why retried) and the kept seed; timings left out."""
    return {
        stage: (tuple((a["seed"], a["reason"]) for a in record["attempts"]), record["selected_seed"])
        for stage, record in report.stages.items()
    }


# -- the corpus itself (no grading) -----------------------------------------------------------------


def test_corpus_holds_the_required_variants_and_mutants():
    kinds = [entry.kind for entry in ENTRIES]
    assert kinds.count("variant") >= 14
    assert kinds.count("mutant") >= 25
    assert {entry.rubric for entry in ENTRIES} == {"autoencoders", "sheet10", "transposed_conv"}
    assert any(entry.path.suffix == ".ipynb" for entry in ENTRIES)
    assert {entry.keras for entry in ENTRIES if entry.keras} == {"2"}


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda entry: entry.name)
def test_corpus_entry_names_only_automatic_items_of_its_rubric(entry):
    automatic = {item.id for item in load_rubric(entry.rubric).items if not item.is_manual}
    assert set(entry.items) <= automatic
    assert set(entry.feedback) <= automatic
    assert all(phrase.strip() for phrases in entry.feedback.values() for phrase in phrases)


def test_a_report_status_other_than_the_expected_one_is_a_mismatch():
    from dataclasses import replace

    from grader.report.model import Report

    entry = replace(BY_NAME["wrong_assignment_sheet10"], items={}, default="passed", feedback={})
    report = Report.from_dict(
        {"assignment": "autoencoders", "status": "graded", "items": [], "budget": {"name": "smoke"}}
        | {key: "" for key in ("submission", "submission_sha256", "grader_version", "rubric_sha256")}
        | {key: 0.0 for key in ("score", "max_score", "auto_score", "auto_max", "manual_pending", "seconds")}
        | {"data": {}, "seed": 0}
    )
    outcome = fidelity.compare(entry, report)
    assert [str(m) for m in outcome.mismatches] == [
        "(report): report status expected 'wrong-assignment', got 'graded'"
    ]


# -- the verdicts ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda entry: entry.name)
def test_corpus_entry_gets_its_expected_verdicts(entry, graded):
    report = graded[entry.name]
    if isinstance(report, fidelity.GraderCrash):
        pytest.fail(f"grading {entry.name} crashed the grader:\n{report.error}")
    outcome = fidelity.compare(entry, report, graded.get(f"reference:{entry.rubric}"))
    problems = "\n".join(f"  {mismatch}" for mismatch in outcome.mismatches)
    assert outcome.ok, f"{entry.name}: {entry.description}\n{problems}"
    if entry.kind == "variant" and not outcome.unjudged and BUDGET not in entry.budgets:
        assert report.auto_score == pytest.approx(report.auto_max)
    if entry.keras:
        assert report.keras.startswith(entry.keras)


# -- determinism ------------------------------------------------------------------------------------------


def test_grading_the_reference_twice_gives_identical_verdicts(graded):
    assert _verdicts(graded["reference:autoencoders"]) == _verdicts(graded["again:reference"])


def test_grading_a_mutant_near_its_threshold_twice_gives_identical_verdicts(graded):
    first, second = graded[NEAR_THRESHOLD], graded[f"again:{NEAR_THRESHOLD}"]
    assert _verdicts(first) == _verdicts(second)
    assert _attempts(first) == _attempts(second)  # the same training attempts, the same one kept
