"""One exercise at a time (issue 15): which items ``--exercise`` selects, which exercises are not
started, and the self-check's summary that lists those once instead of under "fix these first"."""

from __future__ import annotations

import pytest

from grader.cli import check_summary
from grader.exercises import UnknownExercise, matches, not_started, select_exercises
from grader.report.model import ItemResult, Report
from grader.rubric import load_rubric


def test_a_label_selects_itself_and_its_lettered_or_dotted_parts_only():
    assert matches("3a", "3a") and matches("3a", "3") and matches("3c", "3")
    assert matches("1.3b", "1") and matches("1.3b", "1.3")
    assert not matches("1", "3") and not matches("10", "1") and not matches("3a", "3b")


def test_exercise_1_selects_only_the_items_of_exercise_1():
    items = select_exercises(load_rubric("autoencoders").items, ["1"], "autoencoders")
    assert items and {item.exercise for item in items} == {"1"}
    assert [i.id for i in select_exercises(load_rubric("autoencoders").items, ["3a"])] == [
        "3a-knn-public",
        "3a-knn-hidden",
    ]


def test_no_exercise_selects_every_item():
    rubric = load_rubric("sheet10")
    assert select_exercises(rubric.items, []) == list(rubric.items)


def test_an_unknown_exercise_is_an_error_that_lists_the_real_ones():
    message = r"there is no exercise '7' in autoencoders; the exercises are: 1, 2a, 2b"
    with pytest.raises(UnknownExercise, match=message):
        select_exercises(load_rubric("autoencoders").items, ["7"], "autoencoders")


def item(id_: str, exercise: str, status: str, feedback: str, score: float = 0.0) -> ItemResult:
    return ItemResult(id_, exercise, id_, score, 1.0, status, feedback, "public")


def test_an_exercise_is_not_started_when_all_its_items_still_see_the_template():
    results = [
        item("1-a", "1", "failed", "not implemented yet: build_encoder"),
        item("1-b", "1", "skipped", "skipped: training your autoencoder failed"),
        item("2a", "2a", "failed", "not implemented yet: plot_latent"),
        item("3b", "3b", "failed", "EXPECTED_RANDOM_CORRECT: is still None: fill in your answer"),
        item("3c", "3c", "failed", "the loss 'mse' is not a cross-entropy"),
        item("3d", "3d", "failed", "CLASSIFICATION_LOSS is empty: name the loss you would use."),
        item("4a-x", "4a", "passed", "fine", 1.0),
        item("4a-y", "4a", "failed", "not implemented yet: train_classifier"),
    ]
    assert not_started(results) == ["1", "2a", "3b", "3d"]


def test_an_exercise_whose_function_calls_another_exercises_stub_is_started():
    own = item(
        "tc4-example",
        "tc4",
        "failed",
        "not implemented yet: conv2d_as_matmul (which upsample_then_conv calls)",
    )
    own.probes = ["calls:upsample_then_conv"]
    stub = item("tc2-example", "tc2", "failed", "not implemented yet: conv2d_as_matmul")
    stub.probes = ["calls:conv2d_as_matmul"]
    assert not_started([own, stub]) == ["tc2"]


def report_of(items: list[ItemResult]) -> Report:
    report = Report("autoencoders", "sub.py", "x", 0, 0, 0, 0, 0, "0", "", {}, {}, 0, 0.0, items)
    report.recompute_totals()
    return report


def test_the_summary_lists_unstarted_exercises_once_and_does_not_ask_to_fix_them():
    summary = check_summary(
        report_of(
            [
                item("1-relu", "1", "failed", "a conv without ReLU"),
                item("2a-scatter", "2a", "failed", "not implemented yet: plot_latent"),
                item("3a-knn-public", "3a", "failed", "not implemented yet: knn_per_digit_accuracy"),
            ]
        )
    )
    assert "Not started yet: 2a, 3a" in summary
    fixes = summary.split("Fix these first:")[1].split("All public items:")[0]
    assert "1-relu" in fixes and "plot_latent" not in fixes and "knn" not in fixes
    assert "0 of 1 public automatic items pass." in summary
    assert "2a-scatter" not in summary.split("All public items:")[1]


def test_the_summary_of_an_untouched_template_says_to_start():
    summary = check_summary(report_of([item("1-relu", "1", "failed", "not implemented yet: build_encoder")]))
    assert "Not started yet: 1" in summary and "Fix these first" not in summary
    assert "Nothing to check yet: start with the first exercise." in summary


def test_the_feedback_names_the_stub_a_finished_function_calls():
    from grader.checks.base import StudentError

    calls_stub = StudentError("not_implemented", "upsample_then_conv", "conv2d_as_matmul")
    assert calls_stub.feedback() == "not implemented yet: conv2d_as_matmul (which upsample_then_conv calls)"
    assert StudentError("not_implemented", "build_encoder", "build_encoder").feedback() == (
        "not implemented yet: build_encoder"
    )
    assert StudentError("not_implemented", "f", "").feedback() == "not implemented yet: f"
