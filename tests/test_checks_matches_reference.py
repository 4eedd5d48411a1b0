"""``matches_reference``: the generic check of function exercises, on a small rubric made here.

The rubric declares a function with two outputs and three cases; the reference's results are
given directly, as grading gets them from grader/reference_calls.py.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from check_fixtures import make_inputs, run, student_error

from grader.checks import StudentCallFailed
from grader.checks.reference_match import DIAGNOSES, CaseOutcome, validate
from grader.functions import parse_functions
from grader.rubric import RubricError, load_rubric

FUNCTIONS = parse_functions(
    {
        "scale": {
            "args": ["x", "factor"],
            "outputs": ["scaled", "total"],
            "cases": {
                "small": {
                    "label": "a small vector",
                    "x": {"values": [1, 2, 3]},
                    "factor": {"values": 2, "type": "int"},
                },
                "random": {
                    "x": {"random": "normal", "shape": [2, 3], "seed": 5},
                    "factor": {"values": 3, "type": "int"},
                },
                "default": {"x": {"values": [[4.0]]}},
            },
        }
    }
)
SPEC = FUNCTIONS["scale"]


def reference(case: str) -> tuple[np.ndarray, np.ndarray]:
    args = SPEC.case_args(case)
    factor = float(args.get("factor", 1))
    return args["x"] * factor, np.asarray(np.sum(args["x"]) * factor)


def verdict(results: dict, **params):
    expected_arrays = {}
    for case in SPEC.cases:
        scaled, total = reference(case)
        expected_arrays |= {f"{case}.scaled": scaled, f"{case}.total": total}
    data, arrays = {}, {}
    for case, value in results.items():
        if isinstance(value, dict):
            data[case] = {"error": value}
        else:
            data[case] = {"shapes": {}}
            arrays |= {
                f"{case}.scaled": np.asarray(value[0], float),
                f"{case}.total": np.asarray(value[1], float),
            }
    inputs = make_inputs(
        {SPEC.probe: data},
        {SPEC.probe: arrays},
        {"function": "scale"} | params,
        expected={"functions": FUNCTIONS, "reference_calls": {"scale": expected_arrays}},
    )
    return run("matches_reference", inputs)


def right(case: str):
    return reference(case)


def test_every_case_right_passes_and_names_the_cases():
    result = verdict({case: right(case) for case in SPEC.cases})
    assert result.fraction == 1.0
    assert result.feedback == ("scale is right on a small vector, x=random 2x3, factor=3 and x=[[4]].")


def test_one_wrong_case_of_three_earns_two_thirds_and_says_which_entry_differs():
    scaled, total = right("random")
    scaled = scaled.copy()
    scaled[1, 2] += 0.5
    result = verdict({"small": right("small"), "random": (scaled, total), "default": right("default")})
    assert result.fraction == pytest.approx(2 / 3)
    assert result.feedback.startswith("scale(x=random 2x3, factor=3): scaled at index (1, 2) expected ")


def test_a_wrong_shape_is_named_with_the_call_and_the_label():
    scaled, total = right("small")
    result = verdict({"small": (scaled[None], total)}, cases=["small"])
    assert result.fraction == 0.0
    assert (
        result.feedback
        == "scale(x=[1, 2, 3], factor=2) (a small vector): expected scaled shape (3,), got (1, 3)."
    )


def test_squeeze_accepts_extra_size_one_axes():
    scaled, total = right("small")
    assert verdict({"small": (scaled[None], total)}, cases=["small"], squeeze=True).fraction == 1.0


def test_compare_limits_the_outputs_compared():
    scaled, _ = right("small")
    assert verdict({"small": (scaled, np.asarray(-1.0))}, cases=["small"], compare=["scaled"]).fraction == 1.0
    failed = verdict({"small": (scaled, np.asarray(-1.0))}, cases=["small"])
    assert "expected total 12, got -1" in failed.feedback


def test_tolerances_come_from_the_item():
    scaled, total = right("small")
    near = (scaled + 1e-3, total)
    assert verdict({"small": near}, cases=["small"]).fraction == 0.0
    assert verdict({"small": near}, cases=["small"], atol=1e-2).fraction == 1.0
    assert verdict({"small": near}, cases=["small"], rtol=1e-2).fraction == 1.0


def test_nan_never_matches_and_is_reported():
    scaled, total = right("small")
    result = verdict({"small": (scaled * np.nan, total)}, cases=["small"])
    assert result.fraction == 0.0
    assert "got nan" in result.feedback


def test_an_error_in_one_case_costs_that_case_and_shows_the_error():
    error = student_error("exception", "scale", "shapes do not align", type="ValueError", advice="reshape x")
    result = verdict({"small": right("small"), "random": error, "default": right("default")})
    assert result.fraction == pytest.approx(2 / 3)
    assert result.feedback == (
        "scale(x=random 2x3, factor=3) raised ValueError: shapes do not align. Advice: reshape x"
    )


def test_an_error_in_every_case_is_the_student_error():
    error = student_error("exception", "scale", "boom", type="RuntimeError")
    with pytest.raises(StudentCallFailed) as caught:
        verdict({case: error for case in SPEC.cases})
    assert caught.value.error.feedback() == "scale raised RuntimeError: boom"


def test_a_missing_function_is_one_message_for_the_item():
    error = student_error("missing", "scale", "scale is not defined")
    with pytest.raises(StudentCallFailed) as caught:
        verdict({"small": right("small"), "random": error, "default": right("default")})
    assert "the grader looked for `scale`" in caught.value.error.feedback()


def test_a_reply_without_the_result_fails_the_case_without_an_internal_error():
    result = verdict({"small": right("small")}, cases=["small", "default"])
    assert result.fraction == 0.5
    assert "scale(x=[[4]]): returned nothing the grader could read." in result.feedback


def test_a_case_that_returns_no_array_or_exits_says_so():
    invalid = student_error("invalid", "scale", "returned str, not an array of numbers")
    exited = student_error("exit", "scale", "sys.exit(3)")
    result = verdict({"small": right("small"), "random": invalid, "default": exited})
    assert result.fraction == pytest.approx(1 / 3)
    assert "scale(x=random 2x3, factor=3): returned str, not an array of numbers." in result.feedback
    assert "scale(x=[[4]]) called sys.exit(3); the grader cannot give points for it." in result.feedback


def test_a_diagnosis_hook_adds_its_sentence(monkeypatch):
    def doubled(outcome: CaseOutcome) -> str | None:
        found, expected = outcome.found["scaled"], outcome.expected["scaled"]
        return "It scales twice." if np.allclose(found, expected * 2) else None

    monkeypatch.setitem(DIAGNOSES, "test_doubled", doubled)
    scaled, total = right("small")
    result = verdict({"small": (scaled * 2, total)}, cases=["small"], diagnose=["test_doubled"])
    assert result.feedback.endswith("at index (2,) expected 6, got 12. It scales twice.")
    assert verdict(
        {"small": (scaled + 1, total)}, cases=["small"], diagnose=["test_doubled"]
    ).feedback.endswith("expected 2, got 3.")


def test_cases_without_a_diagnosis_are_not_called_the_same_mistake():
    results = {case: (right(case)[0] + 1, right(case)[1]) for case in SPEC.cases}
    feedback = verdict(results, compare=["scaled"]).feedback
    assert "same mistake" not in feedback
    assert feedback.count("expected") == 3


def test_validate_names_the_field():
    assert validate({"function": "scale", "cases": ["big"]}, FUNCTIONS) == (
        "field 'params.cases': unknown 'big' (known: small, random, default)"
    )
    assert validate({"function": "scale", "compare": ["mean"]}, FUNCTIONS).startswith(
        "field 'params.compare'"
    )
    assert (
        validate({"function": "scale", "squeeze": "yes"}, FUNCTIONS)
        == "field 'params.squeeze': must be true or false"
    )
    assert validate({"function": "scale"}, FUNCTIONS) is None


def test_random_cases_are_the_same_every_time():
    first, second = (
        SPEC.inputs(),
        parse_functions(
            {
                "scale": {
                    "args": ["x"],
                    "cases": {"r": {"x": {"random": "normal", "shape": [2, 3], "seed": 5}}},
                }
            }
        )["scale"].inputs(),
    )
    np.testing.assert_array_equal(first["case:scale:random:x"], second["case:scale:r:x"])


def test_random_integers_respect_their_range_and_dtype():
    spec = parse_functions(
        {
            "f": {
                "args": ["x"],
                "cases": {
                    "c": {
                        "x": {
                            "random": "integers",
                            "shape": [50],
                            "seed": 1,
                            "low": 3,
                            "high": 5,
                            "dtype": "uint8",
                        }
                    }
                },
            }
        }
    )["f"]
    values = spec.case_args("c")["x"]
    assert values.dtype == np.uint8 and set(values.tolist()) == {3, 4, 5}
    assert spec.cases["c"].call_text("f") == "f(x=random uint8 50)"


def test_a_rubric_with_a_bad_case_fails_to_load_naming_file_function_case_and_field(tmp_path: Path):
    text = """
assignment = "mini"
[contract]
functions = ["f"]
constants = []
answers = []
[budget]
seed = 0
retries = 0
train_samples = 10
test_samples = 10
epochs = {}
batch_size = {}
[functions.f]
args = ["x"]
[functions.f.cases.one]
x = { random = "normal", shape = [2, -1], seed = 1 }
[[items]]
id = "f"
exercise = "1"
title = "f"
points = 1
check = "matches_reference"
kind = "auto"
visibility = "public"
timeout_s = 10
params = { function = "f" }
"""
    (tmp_path / "mini.toml").write_text(text)
    with pytest.raises(RubricError) as caught:
        load_rubric(tmp_path / "mini.toml")
    assert str(caught.value) == (
        "mini.toml: [functions.f] case 'one': field 'x.shape': must be a list of non-negative integers"
    )
