"""A submission for another assignment is named as such (issue 11, part 3).

The rule (grader/assignment_match.py): it defines at most a fifth of the graded rubric's
contract functions and at least half of another shipped rubric's. The report, the
``grader grade`` table, Gradescope's output and the self-check say so, and the status is
``wrong-assignment``; the batch progress line and summary.md are in tests/test_batch.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rubric_tools import reduced_rubric

from grader.assignment_match import coverage, defined_functions, shipped_contracts, wrong_assignment
from grader.cli import check_summary
from grader.grading import grade
from grader.report import render

ROOT = Path(__file__).resolve().parents[1]
SHEET10_MESSAGE = (
    "this looks like a `sheet10` submission (defines preprocess, build_dense_autoencoder, "
    "...), not `autoencoders`: wrong file or wrong --rubric?"
)


def verdict(defined: set[str], graded: str = "autoencoders") -> str:
    contracts = shipped_contracts()
    others = [coverage(defined, name, functions) for name, functions in contracts.items() if name != graded]
    return wrong_assignment(coverage(defined, graded, contracts[graded]), others)


def functions_of(path: Path) -> set[str]:
    return defined_functions([path.read_text()])


# -- the rule ------------------------------------------------------------------------------------------


def test_a_sheet10_file_graded_as_autoencoders_is_named():
    assert verdict(functions_of(ROOT / "reference" / "sheet10.py")) == SHEET10_MESSAGE


def test_the_right_files_are_not_called_wrong():
    for name in ("autoencoders", "sheet10", "transposed_conv"):
        assert verdict(functions_of(ROOT / "reference" / f"{name}.py"), name) == ""
        assert verdict(functions_of(ROOT / "student_template" / f"{name}.py"), name) == ""


def test_a_weak_but_genuine_attempt_is_not_wrong_assignment():
    """Two functions of the right assignment, the stubs deleted: nothing else matches."""
    assert verdict({"build_encoder", "build_decoder", "my_helper"}) == ""


def test_a_name_shared_with_another_assignment_is_not_enough():
    """plot_reconstructions is in both contracts: a quarter of sheet10's, below the clear match."""
    assert verdict({"plot_reconstructions", "build_encoder"}) == ""


def test_a_fair_share_of_ours_is_never_wrong_even_beside_another_assignment():
    ours = {"build_encoder", "build_decoder", "build_autoencoder", "plot_loss"}  # 4 of 18: above a fifth
    assert verdict(ours | functions_of(ROOT / "reference" / "sheet10.py")) == ""


def test_half_of_another_assignment_and_none_of_ours_is_named_without_ellipsis():
    assert verdict({"conv_matrix", "conv2d_as_matmul"}) == (
        "this looks like a `transposed_conv` submission (defines conv_matrix, conv2d_as_matmul), not "
        "`autoencoders`: wrong file or wrong --rubric?"
    )


def test_an_empty_file_or_a_tie_names_no_assignment():
    assert verdict(set()) == ""
    assert verdict({"preprocess", "build_dense_autoencoder", "conv_matrix", "conv2d_as_matmul"}) == ""


# -- the report ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sheet10_as_autoencoders(tmp_path_factory):
    """The sheet10 reference graded with (a few items of) the autoencoders rubric."""
    folder = tmp_path_factory.mktemp("rubric")
    rubric = reduced_rubric(folder, "autoencoders", ("1-layer-types", "3b-value", "3c"))
    return grade(ROOT / "reference" / "sheet10.py", rubric, budget="smoke")


def test_the_report_says_wrong_assignment(sheet10_as_autoencoders):
    report = sheet10_as_autoencoders
    assert report.status == "wrong-assignment"
    assert report.wrong_assignment == SHEET10_MESSAGE
    assert report.auto_score == 0 and not report.load_error
    assert "does not define" in report.item("1-layer-types").feedback  # items still say what is missing


def test_every_output_carries_the_message(sheet10_as_autoencoders):
    report = sheet10_as_autoencoders
    assert render.table(report).splitlines()[-1] == f"wrong assignment? {SHEET10_MESSAGE}"
    shown = SHEET10_MESSAGE.replace("`", "\\`")  # student text is never Markdown (the names in it)
    assert f"> **Wrong assignment?** {shown}" in render.markdown(report)
    assert f"Wrong assignment? {SHEET10_MESSAGE}" in render.gradescope(report)["output"]
    assert "<strong>Wrong assignment?</strong>" in render.html_page(report)
    assert f"Wrong assignment? {SHEET10_MESSAGE}" in check_summary(report)


def test_the_inferred_rubric_is_never_a_wrong_assignment():
    report = grade(ROOT / "reference" / "transposed_conv.py")
    assert (report.assignment, report.status, report.wrong_assignment) == ("transposed_conv", "graded", "")
