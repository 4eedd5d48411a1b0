"""grader/reference_calls.py: the reference's results on a rubric's function cases, computed in a
trusted sandbox once and then read from the cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from grader import reference_calls
from grader.artifacts import ArtifactError
from grader.rubric import load_rubric

RUBRIC = """
assignment = "twice"
reference = "solution.py"
tensorflow = false
[contract]
functions = ["twice"]
constants = []
answers = []
[budget]
seed = 0
retries = 0
train_samples = 10
test_samples = 10
epochs = {}
batch_size = {}
[functions.twice]
args = ["x", "shape"]
[functions.twice.cases.literal]
x = { values = [1, 2, 3] }
[functions.twice.cases.random]
x = { random = "uniform", shape = [2, 2], low = -1, high = 1, seed = 3 }
shape = { values = [4], type = "tuple" }
[[items]]
id = "twice"
exercise = "1"
title = "twice"
points = 1
check = "matches_reference"
kind = "auto"
visibility = "public"
timeout_s = 30
params = { function = "twice" }
"""

SOLUTION = """
import numpy as np

def twice(x, shape=None):
    result = 2 * np.asarray(x)
    return result if shape is None else result.reshape(shape)
"""


def rubric_in(folder: Path, solution: str = SOLUTION):
    (folder / "rubric.toml").write_text(RUBRIC)
    (folder / "solution.py").write_text(solution)
    return load_rubric(folder / "rubric.toml")


def test_the_reference_results_are_computed_in_a_sandbox_and_cached(tmp_path, monkeypatch):
    rubric = rubric_in(tmp_path)
    results = reference_calls.load_or_compute(rubric, cache_dir=tmp_path / "cache")
    random_x = rubric.functions["twice"].case_args("random")["x"]
    np.testing.assert_array_equal(results["twice"]["literal.result"], [2.0, 4.0, 6.0])
    np.testing.assert_allclose(results["twice"]["random.result"], 2 * random_x.reshape(4))
    assert len(list((tmp_path / "cache" / "reference-calls").glob("twice-*.npz"))) == 1

    def no_sandbox(*args, **kwargs):
        raise AssertionError("the cached results must be used")

    monkeypatch.setattr(reference_calls, "Sandbox", no_sandbox)
    again = reference_calls.load_or_compute(rubric, cache_dir=tmp_path / "cache")
    assert again["twice"].keys() == results["twice"].keys()


def test_a_changed_reference_is_computed_again(tmp_path):
    rubric = rubric_in(tmp_path)
    first = reference_calls.cache_key(rubric)
    changed = rubric_in(tmp_path, SOLUTION.replace("2 * np", "3 * np"))
    assert reference_calls.cache_key(changed) != first
    results = reference_calls.load_or_compute(changed, cache_dir=tmp_path / "cache")
    np.testing.assert_array_equal(results["twice"]["literal.result"], [3.0, 6.0, 9.0])


def test_a_reference_that_fails_a_case_is_a_rubric_error_naming_the_case(tmp_path):
    rubric = rubric_in(tmp_path, SOLUTION.replace("result.reshape(shape)", "result.reshape((5,))"))
    with pytest.raises(ArtifactError) as caught:
        reference_calls.load_or_compute(rubric, cache_dir=tmp_path / "cache")
    assert "rubric.toml: the reference solution.py fails case 'random' of twice: " in str(caught.value)


def test_the_student_worker_gets_the_cases_only():
    """What goes to the student's sandbox: the case arguments, never a reference result."""
    rubric = load_rubric("transposed_conv")
    from grader.functions import all_inputs

    keys = set(all_inputs(rubric.functions))
    assert keys and all(key.startswith("case:") for key in keys)
    assert "case:conv_matrix:example:kernel" in keys
