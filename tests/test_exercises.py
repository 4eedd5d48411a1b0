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


def test_every_untouched_exercise_of_the_hand_out_is_not_started():
    """The hand-out's Exercise 1 has an item that waits on the encoder stub, 6a a constant the template
    sets to 0 and 6c an item skipped because the VAE stub could not train: all three are not started."""
    epochs = item("6a-epochs", "6a", "failed", "VAE_EPOCHS is 0; the exercise asks for at least 30 (...).")
    epochs.check = "constant_number"
    results = [
        item("1-relu", "1", "failed", "not implemented yet: build_encoder"),
        item("1-loss", "1", "error", "build_autoencoder: not tried: build_encoder failed"),
        item("2a", "2a", "failed", "not implemented yet: plot_latent"),
        item("6a-sampling", "6a", "failed", "not implemented yet: sampling"),
        item("6a-architecture", "6a", "failed", "not implemented yet: build_vae_encoder"),
        epochs,
        item(
            "6c", "6c", "skipped", "skipped: training your VAE failed (build_vae_encoder: build_vae_encoder)."
        ),
    ]
    assert not_started(results) == ["1", "2a", "6a", "6c"]
    summary = check_summary(report_of(results))
    assert "Not started yet: 1, 2a, 6a, 6c" in summary and "Fix these first" not in summary


def test_a_constant_alone_or_a_wait_on_a_real_failure_still_counts_as_started():
    wrong = item("3c", "3c", "failed", "the loss 'mse' is not a cross-entropy")
    wrong.check = "constant_text"
    waits = item("1-loss", "1", "error", "build_autoencoder: not tried: build_encoder failed")
    crash = item("1-relu", "1", "error", "ValueError in build_encoder: bad shape")
    assert not_started([wrong, waits, crash]) == []


def test_fix_these_first_puts_the_cause_before_its_consequences():
    """The encoder's shape makes build_autoencoder raise: the shape comes first, then loss and training."""
    summary = check_summary(
        report_of(
            [
                item(
                    "1-latent-shape", "1", "failed", "encoder output is (N, 1, 1, 1); expected (N, 1, 2, 1)"
                ),
                item("1-loss", "1", "error", "ValueError in build_autoencoder: Input 0 is incompatible"),
                item("1-training", "1", "error", "ValueError in build_autoencoder: Input 0 is incompatible"),
                item("4a-accuracy", "4a", "skipped", "skipped: not tried: training your autoencoder failed"),
            ]
        )
    )
    fixes = summary.split("Fix these first:\n")[1].split("\n\n")[0].splitlines()
    assert [line.split()[1] for line in fixes] == ["1-latent-shape", "1-loss", "1-training"]


def test_a_file_that_cannot_be_loaded_says_what_to_do_and_nothing_else():
    report = report_of([])
    report.load_error = "syntax error in mine.ipynb, cell 7, line 5: invalid syntax"
    summary = check_summary(report)
    assert "Your file could not be graded: syntax error in mine.ipynb, cell 7, line 5" in summary
    assert "Fix the error above, save, and run the check again." in summary
    assert "Nothing to check yet" not in summary and "All public items:" not in summary
