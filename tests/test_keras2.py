"""Issue 8: Keras 2 code is graded as written, and under Keras 3 it gets advice, not a bare traceback.

The corpus entry tests/submissions/keras2_correct (K.exp / K.random_normal in sampling, K.* in
the KL, Adam(lr=...)) gets full automatic marks under `--keras auto` in tests/test_fidelity.py;
here: why auto picks Keras 2, and what a student sees when the same file runs under Keras 3.
"""

from __future__ import annotations

from pathlib import Path

from rubric_tools import reduced_rubric

from grader.grading import grade
from grader.keras_version import keras2_reasons
from grader.submission import load_submission

ROOT = Path(__file__).resolve().parents[1]
KERAS2 = ROOT / "tests" / "submissions" / "keras2_correct" / "submission.py"
ITEMS = ("6a-sampling", "6a-kl", "6a-loss")


def test_auto_detects_keras2_idioms_from_the_source():
    reasons = keras2_reasons(load_submission(KERAS2))
    assert any(
        "K.random_normal (Keras 2 backend function)" in r or "K.exp (Keras 2 backend function)" in r
        for r in reasons
    )


def test_keras2_code_is_graded_under_keras2_with_full_marks_on_its_keras2_items(tmp_path):
    report = grade(KERAS2, reduced_rubric(tmp_path, "autoencoders", ITEMS), budget="smoke")
    assert report.keras.startswith("2 (Keras 2 code:")
    assert {item.id: item.status for item in report.items} == dict.fromkeys(ITEMS, "passed")


def test_under_keras3_the_same_code_gets_one_sentence_of_advice(tmp_path):
    report = grade(KERAS2, reduced_rubric(tmp_path, "autoencoders", ITEMS), budget="smoke", keras="3")
    assert report.keras == "3 (--keras 3)"
    kl = report.item("6a-kl")
    assert kl.status == "error"
    assert "kl_loss raised AttributeError" in kl.feedback
    assert (
        "Advice: keras.backend.sum does not exist in Keras 3; use keras.ops.sum or tf.reduce_sum instead."
        in kl.feedback
    )
    assert "Your code:" in kl.feedback and "in kl_loss" in kl.feedback, "the student's own traceback line"
    assert "site-packages" not in kl.feedback, "no grader or library frames"
    sampling = report.item("6a-sampling")
    assert sampling.status != "passed" and "keras.backend" in sampling.feedback
