"""grader/rubric.py: the shipped rubrics load, and a bad rubric names the file, the item and the field."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from grader.assignments.registry import all_checks
from grader.rubric import RubricError, list_rubrics, load_rubric

CHECKS = all_checks()

TESTS = Path(__file__).resolve().parent

VALID = """
assignment = "mini"
title = "A small rubric"

[contract]
functions = ["conv_matrix"]
constants = []
answers = ["1"]

[budget]
seed = 0
retries = 1
train_samples = 100
test_samples = 50
epochs = { autoencoder = 2 }
batch_size = { autoencoder = 32 }

[budgets.smoke]
train_samples = 20

[functions.conv_matrix]
args = ["kernel", "input_shape"]

[functions.conv_matrix.cases.example]
kernel = { values = [[1, 2, 3], [4, 5, 6], [7, 8, 9]] }
input_shape = { values = [4, 4], type = "tuple" }

[[items]]
id = "tc1"
exercise = "tc1"
title = "conv_matrix on the slide's example"
points = 1.5
check = "matches_reference"
kind = "auto"
visibility = "public"
timeout_s = 60
params = { function = "conv_matrix", cases = ["example"] }

[[items]]
id = "q1"
exercise = "1"
title = "A written answer"
points = 1.0
check = "manual"
kind = "manual"
visibility = "hidden"
timeout_s = 1
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    return path


def rubric_error(tmp_path: Path, text: str) -> str:
    with pytest.raises(RubricError) as caught:
        load_rubric(write(tmp_path, text))
    return str(caught.value)


# -- the shipped rubrics ------------------------------------------------------------------------


def test_the_three_shipped_rubrics_are_listed():
    assert list_rubrics() == ["autoencoders", "sheet10", "transposed_conv"]


@pytest.mark.parametrize(
    ("name", "total"), [("autoencoders", 25.5), ("sheet10", 25.5), ("transposed_conv", 4.0)]
)
def test_shipped_rubric_loads_with_its_points_total(name, total):
    rubric = load_rubric(name)
    assert rubric.name == name
    assert rubric.max_score == pytest.approx(total)
    assert {"default", "smoke"} <= set(rubric.budgets)


@pytest.mark.parametrize("name", ["autoencoders", "sheet10", "transposed_conv"])
def test_every_automatic_item_uses_a_registered_check_with_its_params(name):
    rubric = load_rubric(name)
    for item in rubric.items:
        if item.is_manual:
            assert item.check == "manual"
            continue
        # The engine's and the assignments' checks, or the check of one of the rubric's data stages.
        assert item.check in CHECKS or item.check in {s.check for s in rubric.data_stages.values()}, item.id
        assert set(rubric.checks[item.check].required_params) <= set(item.params), item.id


@pytest.mark.parametrize("name", ["autoencoders", "sheet10"])
def test_shipped_smoke_budget_is_smaller_than_the_default(name):
    rubric = load_rubric(name)
    smoke, default = rubric.budget_named("smoke"), rubric.budget
    assert smoke.train_samples < default.train_samples
    assert set(smoke.epochs) == set(default.epochs)
    assert all(smoke.epochs[stage] <= default.epochs[stage] for stage in default.epochs)
    assert smoke.seed == default.seed


def test_smoke_budget_overrides_only_what_it_names(tmp_path):
    rubric = load_rubric(
        write(tmp_path, VALID.replace("train_samples = 20", "train_samples = 20\nepochs = { vae = 1 }"))
    )
    smoke, default = rubric.budget_named("smoke"), rubric.budget
    assert (smoke.train_samples, default.train_samples) == (20, 100)
    assert smoke.epochs == {"autoencoder": 2, "vae": 1}  # tables are merged key by key
    assert (smoke.test_samples, smoke.batch_size, smoke.seed) == (50, {"autoencoder": 32}, 0)


def test_every_registered_check_is_run_by_a_check_test_module():
    """Project rule: every check has a test that makes it fail; a new check without tests fails here."""
    sources = "\n".join(path.read_text() for path in TESTS.glob("test_checks_*.py"))
    run_calls = set(re.findall(r'(?:run|grade)\(\s*"(\w+)"', sources))
    named = {name for name in CHECKS if f'"{name}"' in sources}
    assert sorted(set(CHECKS) - (run_calls | named)) == []


# -- a valid file ------------------------------------------------------------------------------------


def test_valid_rubric_file_loads(tmp_path):
    rubric = load_rubric(write(tmp_path, VALID))
    assert [item.id for item in rubric.items] == ["tc1", "q1"]
    assert rubric.max_score == 2.5
    assert rubric.item("q1").is_manual
    assert rubric.budget_named("smoke").train_samples == 20
    assert len(rubric.sha256) == 64


# -- errors name the file, the item and the field --------------------------------------------------------


def test_unknown_check(tmp_path):
    message = rubric_error(
        tmp_path, VALID.replace('check = "matches_reference"', 'check = "matches_referenc"')
    )
    assert message == "bad.toml: item 'tc1': field 'check': unknown check 'matches_referenc'"


def test_missing_field(tmp_path):
    message = rubric_error(tmp_path, VALID.replace('title = "A written answer"\n', ""))
    assert message == "bad.toml: item 'q1': field 'title': missing"


def test_negative_points(tmp_path):
    message = rubric_error(tmp_path, VALID.replace("points = 1.5", "points = -1"))
    assert message == "bad.toml: item 'tc1': field 'points': must not be negative"


def test_points_as_text(tmp_path):
    message = rubric_error(tmp_path, VALID.replace("points = 1.5", 'points = "1.5"'))
    assert message == "bad.toml: item 'tc1': field 'points': must be a number"


def test_duplicate_id(tmp_path):
    message = rubric_error(tmp_path, VALID.replace('id = "q1"', 'id = "tc1"'))
    assert message == "bad.toml: item 'tc1': field 'id': duplicate id"


def test_bad_kind(tmp_path):
    message = rubric_error(tmp_path, VALID.replace('kind = "manual"', 'kind = "written"'))
    assert message == "bad.toml: item 'q1': field 'kind': must be one of auto, manual"


def test_bad_visibility(tmp_path):
    message = rubric_error(tmp_path, VALID.replace('visibility = "hidden"', 'visibility = "secret"'))
    assert message == "bad.toml: item 'q1': field 'visibility': must be one of public, hidden"


@pytest.mark.parametrize("timeout", ["0", "-5", "true"])
def test_non_positive_timeout(tmp_path, timeout):
    message = rubric_error(tmp_path, VALID.replace("timeout_s = 60", f"timeout_s = {timeout}"))
    assert message == "bad.toml: item 'tc1': field 'timeout_s': must be a positive number"


def test_missing_required_param(tmp_path):
    message = rubric_error(
        tmp_path,
        VALID.replace(
            'params = { function = "conv_matrix", cases = ["example"] }', "params = { cases = [] }"
        ),
    )
    assert message == (
        "bad.toml: item 'tc1': field 'params.function': missing (check 'matches_reference' needs it)"
    )


def test_unknown_item_field(tmp_path):
    message = rubric_error(tmp_path, VALID.replace("timeout_s = 60", "timeout_s = 60\nweight = 2"))
    assert message == "bad.toml: item 'tc1': field 'weight': unknown field"


def test_manual_item_with_a_check(tmp_path):
    message = rubric_error(tmp_path, VALID.replace('check = "manual"', 'check = "constant_array"'))
    assert "bad.toml: item 'q1': field 'check': a manual item uses check = \"manual\"" == message


def test_unknown_stage_in_budget(tmp_path):
    message = rubric_error(tmp_path, VALID.replace("epochs = { autoencoder = 2 }", "epochs = { gan = 2 }"))
    assert message.startswith("bad.toml [budget]: field 'epochs.gan': unknown stage")


def test_missing_budget_field(tmp_path):
    message = rubric_error(tmp_path, VALID.replace("seed = 0\n", ""))
    assert message == "bad.toml [budget]: field 'seed': missing"


def test_unknown_budget_name(tmp_path):
    rubric = load_rubric(write(tmp_path, VALID))
    with pytest.raises(RubricError) as caught:
        rubric.budget_named("fast")
    assert str(caught.value) == "bad.toml: no budget named 'fast' (known: default, smoke)"


def test_invalid_toml(tmp_path):
    message = rubric_error(tmp_path, VALID.replace('title = "A small rubric"', 'title = "A small rubric'))
    assert message.startswith("bad.toml: not valid TOML (")


def test_unknown_rubric_name():
    with pytest.raises(
        RubricError, match="unknown rubric 'autoencoder' \\(known: autoencoders, sheet10, transposed_conv\\)"
    ):
        load_rubric("autoencoder")


# -- function exercises: cases are typed once, and checked when the rubric loads -----------------------


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            'cases = ["example"]',
            'cases = ["exmaple"]',
            "bad.toml: item 'tc1': field 'params.cases': unknown 'exmaple' (known: example)",
        ),
        (
            'function = "conv_matrix", cases',
            'function = "conv_matirx", cases',
            "bad.toml: item 'tc1': field 'params.function': no [functions.conv_matirx] table (declared: "
            "conv_matrix)",
        ),
        (
            'cases = ["example"]',
            'cases = ["example"], diagnose = ["no_such_hook"]',
            "bad.toml: item 'tc1': field 'params.diagnose': unknown 'no_such_hook'",
        ),
        (
            'cases = ["example"]',
            'cases = ["example"], atol = -1',
            "bad.toml: item 'tc1': field 'params.atol': must be a non-negative number",
        ),
        (
            'cases = ["example"]',
            'cases = ["example"], tolerance = 1',
            "bad.toml: item 'tc1': field 'params.tolerance': unknown parameter",
        ),
        (
            "kernel = { values",
            "kernal = { values",
            "bad.toml: [functions.conv_matrix] case 'example': field 'kernal': not an argument "
            "(args: kernel, input_shape)",
        ),
        (
            'input_shape = { values = [4, 4], type = "tuple" }',
            'input_shape = { values = [4, 4], type = "tupel" }',
            "bad.toml: [functions.conv_matrix] case 'example': field 'input_shape.type': must be one of",
        ),
        (
            "kernel = { values = [[1, 2, 3], [4, 5, 6], [7, 8, 9]] }",
            'kernel = { random = "normal", shape = [3, 3] }',
            "bad.toml: [functions.conv_matrix] case 'example': field 'kernel.seed': missing",
        ),
        (
            "kernel = { values = [[1, 2, 3], [4, 5, 6], [7, 8, 9]] }",
            'kernel = { random = "normal", shape = [3, 3], seed = 1, values = 2 }',
            "bad.toml: [functions.conv_matrix] case 'example': field 'kernel': give exactly one of",
        ),
        (
            "kernel = { values = [[1, 2, 3], [4, 5, 6], [7, 8, 9]] }\n",
            "",
            "bad.toml: [functions.conv_matrix] case 'example': field 'kernel': missing (only trailing "
            "arguments may be left out)",
        ),
    ],
)
def test_function_cases_and_matches_reference_params_are_checked_at_load(tmp_path, old, new, expected):
    assert old in VALID
    assert rubric_error(tmp_path, VALID.replace(old, new)).startswith(expected)


def test_a_function_exercise_outside_the_contract_is_an_error(tmp_path):
    text = VALID.replace("[functions.conv_matrix]", "[functions.conv_matirx]").replace(
        "[functions.conv_matrix.cases.example]", "[functions.conv_matirx.cases.example]"
    )
    assert rubric_error(tmp_path, text) == (
        "bad.toml: [functions.conv_matirx]: not a function of the contract (conv_matrix)"
    )


def test_a_case_may_leave_out_trailing_arguments(tmp_path):
    rubric = load_rubric(
        write(tmp_path, VALID.replace('input_shape = { values = [4, 4], type = "tuple" }\n', ""))
    )
    assert [arg.name for arg in rubric.functions["conv_matrix"].cases["example"].args] == ["kernel"]


def test_reference_and_template_are_relative_to_the_rubric(tmp_path):
    text = 'reference = "solution.py"\ntemplate = "hand_out/template.py"\n' + VALID
    rubric = load_rubric(write(tmp_path, text))
    assert rubric.reference == (tmp_path / "solution.py").resolve()
    assert rubric.template == (tmp_path / "hand_out" / "template.py").resolve()


def test_shipped_rubrics_name_their_reference_and_template():
    for name in list_rubrics():
        rubric = load_rubric(name)
        assert rubric.reference.is_file() and rubric.reference.name == f"{name}.py"
        assert rubric.template is not None and rubric.template.is_file()


# -- criteria of written answers (grader review) ----------------------------------------------------

CRITERIA = (
    'timeout_s = 1\ncriteria = [{ points = 0.75, text = "names it" }, { points = 0.25, text = "says why" }]'
)


def with_criteria(text: str) -> str:
    return VALID.replace("timeout_s = 1", text)


def test_a_manual_item_lists_criteria_that_add_up_to_its_points(tmp_path):
    rubric = load_rubric(write(tmp_path, with_criteria(CRITERIA)))
    assert [(c.points, c.text) for c in rubric.item("q1").criteria] == [
        (0.75, "names it"),
        (0.25, "says why"),
    ]
    assert rubric.item("tc1").criteria == ()


@pytest.mark.parametrize(
    "criteria, expected",
    [
        (
            '[{ points = 0.5, text = "names it" }]',
            "field 'criteria': the criteria's points add up to 0.5, the item is worth 1",
        ),
        ("[]", "field 'criteria': must be a non-empty list of { points, text } tables"),
        ('["names it"]', "field 'criteria', criterion 1: must be a table { points = ..., text = \"...\" }"),
        (
            '[{ points = 0, text = "x" }, { points = 1, text = "y" }]',
            "criterion 1: field 'points': must be a positive number",
        ),
        ('[{ points = 1, text = " " }]', "criterion 1: field 'text': must be a non-empty string"),
        (
            '[{ points = 1, text = "x", weight = 2 }]',
            "criterion 1: field 'weight': unknown field (use points and text)",
        ),
    ],
)
def test_bad_criteria_name_the_item_and_the_criterion(tmp_path, criteria, expected):
    message = rubric_error(tmp_path, with_criteria(f"timeout_s = 1\ncriteria = {criteria}"))
    assert message.startswith("bad.toml: item 'q1': ") and message.endswith(expected)


def test_an_automatic_item_lists_no_criteria(tmp_path):
    text = VALID.replace("timeout_s = 60", 'timeout_s = 60\ncriteria = [{ points = 1.5, text = "x" }]')
    assert (
        rubric_error(tmp_path, text)
        == "bad.toml: item 'tc1': field 'criteria': only a manual item lists criteria"
    )


@pytest.mark.parametrize("name", ["autoencoders", "sheet10"])
def test_every_shipped_written_answer_has_criteria(name):
    manual = [item for item in load_rubric(name).items if item.is_manual]
    assert manual and all(item.criteria for item in manual)
    assert len({c.text for item in manual for c in item.criteria}) == sum(
        len(item.criteria) for item in manual
    )
