"""``from grader import check`` in a notebook (issue 15): the kernel's own history is graded in a
separate sandboxed process, one exercise at a time, and the kernel is left as it was."""

from __future__ import annotations

import subprocess
import sys

import pytest
from notebook_tools import (
    execute,
    json_printed,
    lay_reference_into_template,
    reference_segments,
    run_notebook,
    stdout_of,
    tags,
)

from grader.notebook_check import CheckItem, CheckResult
from grader.report.model import ItemResult, Report
from grader.selfcheck_service import public_result
from grader.submission import load_cells

EXERCISE_1 = ("build_encoder", "build_decoder", "build_autoencoder", "plot_reconstructions", "plot_loss")


def test_importing_check_loads_neither_tensorflow_nor_numpy():
    code = (
        "from grader import check; import sys; "
        "assert 'tensorflow' not in sys.modules and 'numpy' not in sys.modules, 'heavy import'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_the_kernel_history_is_loaded_by_the_loading_rule_without_the_handout_imports():
    submission = load_cells(
        "notebook",
        [
            ("In [1]", "from grader import check\nfrom grader.data import load_dataset\nimport numpy as np"),
            ("In [2]", "def f():\n    return 1\nx = np.zeros(3)\nN = 4"),
            ("In [3]", "def broken(:\n"),
            ("In [4]", "%matplotlib inline\nresult = check('1')"),
        ],
    )
    code = "\n".join(cell.source for cell in submission.cells)
    assert "import numpy as np" in code and "def f()" in code and "N = 4" in code
    assert "grader" not in code and "np.zeros" not in code and "check(" not in code
    assert [d.where for d in submission.dropped if d.reason.startswith("syntax error")] == ["In [3]"]
    assert submission.cells[0].filename == "In [1]"


def test_the_public_result_has_no_metrics_hidden_items_or_manual_items():
    items = [
        ItemResult(
            "1-training",
            "1",
            "training",
            0.5,
            0.5,
            "passed",
            "the loss fell",
            "public",
            metrics={"test_mse": 0.04, "threshold": 0.061},
        ),
        ItemResult("3a-knn-hidden", "3a", "knn", 1.0, 1.0, "passed", "right", "hidden"),
        ItemResult("2b", "2b", "answer", 0.0, 0.5, "manual", "graded later", "public", kind="manual"),
    ]
    budget = {"name": "smoke"}
    report = Report("autoencoders", "notebook", "x", 0, 0, 0, 0, 0, "0", "", budget, {}, 0, 0.0, items)
    result = public_result(report, {}, 1.0)
    assert [i["id"] for i in result["items"]] == ["1-training"]
    assert "metrics" not in result["items"][0] and "0.061" not in str(result)


def test_the_result_shows_student_text_as_text_in_html_and_plain():
    result = CheckResult(
        "autoencoders",
        ("1",),
        [
            CheckItem(
                "1-relu",
                "1",
                "ReLU",
                0.0,
                0.5,
                "failed",
                "raised ValueError: <script>x</script>",
                figures=["iVBORw0KGgo="],
            ),
            CheckItem("1-loss", "1", "loss", 0.5, 0.5, "passed", "MSE"),
        ],
        budget="smoke",
    )
    page = result._repr_html_()
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert 'src="data:image/png;base64,iVBORw0KGgo="' in page
    text = str(result)
    assert result.score == 0.5 and result.max_score == 1.0
    assert "[FIX ] 1-relu" in text and "[ok  ] 1-loss" in text and "0.5 / 1 points" in text


def test_check_outside_a_notebook_says_where_it_works():
    from grader.notebook_check import CheckError, check

    with pytest.raises(CheckError, match="inside a Jupyter/Colab notebook; in a terminal run `grader check"):
        check("1")


SNAPSHOT = """
import json as _json, random as _random
import numpy as _np
_IPYTHON = ('In', 'Out', 'exit', 'quit', 'get_ipython', 'check', 'result')
def _state():
    names = {k: repr(v) for k, v in globals().items() if not k.startswith('_') and k not in _IPYTHON}
    return {'names': names, 'np': _np.random.get_state()[1][:8].tolist(), 'py': _random.getstate()[1][:8],
            'tf': tf.random.uniform((3,)).numpy().tolist()}
def _seed():
    _np.random.seed(7); _random.seed(7); tf.random.set_seed(7)
_seed(); _before = _state(); _seed()
"""


def test_a_notebook_checks_exercise_1_then_a_mutant_and_its_kernel_is_untouched():
    imports, reference, helpers = reference_segments("autoencoders")
    exercise_1 = "\n\n".join(
        [reference["IMAGE_SHAPE"], reference["LATENT_SHAPE"], helpers]
        + [reference[name] for name in EXERCISE_1]
    )
    # A common slip: the plot is drawn (and shown) but the figure is not returned.
    mutant = reference["plot_reconstructions"].replace("    return fig", "    plt.show()")
    assert mutant != reference["plot_reconstructions"]
    cells = [
        imports + "\ncounter = [41]",
        exercise_1,
        "encoder = build_encoder()  # the student's own top-level code: not re-run by the grader",
        SNAPSHOT,
        "from grader import check\nresult = check('1', quick=True)\nresult",
        "_after = _state(); _seed()\n"
        "print(_json.dumps({'same': _after == _before, 'score': result.score, 'max': result.max_score,"
        " 'failed': [i.id for i in result.items if not i.passed], 'ids': [i.id for i in result.items],"
        " 'figures': sum(len(i.figures) for i in result.items)}))",
        mutant,
        "print(_json.dumps({'failed': [i.id for i in check('1', quick=True).items if not i.passed]}))",
    ]
    notebook = run_notebook(cells)
    shown = notebook.cells[4].outputs[-1]["data"]
    assert "text/html" in shown and "1-training" in shown["text/html"] and "<img" in shown["text/html"]
    first = json_printed(notebook.cells[5])
    assert first["same"], "check() changed the kernel's globals or random state"
    assert first["failed"] == [] and first["score"] == first["max"] > 0, stdout_of(notebook.cells[5])
    assert all(item.startswith("1-") for item in first["ids"]) and first["figures"] >= 1
    assert json_printed(notebook.cells[7])["failed"] == ["1-plot-reconstructions"]


@pytest.mark.parametrize(
    ("assignment", "settings", "figures"),
    [
        ("autoencoders", {"TRY_EPOCHS": "1", "TRY_SAMPLES": "500"}, 6),
        ("sheet10", {"TRY_EPOCHS": "1"}, 1),
        ("transposed_conv", {}, 0),
    ],
)
def test_the_reference_laid_into_the_hand_out_runs_top_to_bottom_and_gets_full_marks(
    assignment, settings, figures
):
    """The hand-out's data, "try it" and check cells run with the reference's code (1 epoch, few
    images); then ``check()`` of every exercise at the smoke budget gives full public marks."""
    notebook = lay_reference_into_template(assignment, settings)
    checks = [cell for cell in notebook.cells if "check" in tags(cell)]
    for cell in checks[:-1]:  # each exercise's own check is tested above; here the whole hand-out
        cell.source = ""
    checks[-1].source = (
        "result = check(budget='smoke')\nimport json\n"
        "print(json.dumps({'score': result.score, 'max': result.max_score, "
        "'failed': [(i.id, i.feedback) for i in result.items if not i.passed]}))"
    )
    execute(notebook, timeout=1200)
    tried = [cell for cell in notebook.cells if "try-it" in tags(cell)]
    assert all(cell.outputs for cell in tried)
    shown = sum(o.get("output_type") == "display_data" for cell in tried for o in cell.outputs)
    assert shown >= figures
    final = json_printed(checks[-1])
    assert final["failed"] == [] and final["score"] == final["max"] > 0, final


def ask_service(request: dict) -> dict:
    import io
    import json

    from grader.selfcheck_service import serve

    replies = io.StringIO()
    serve(io.StringIO(json.dumps(request) + "\n"), replies)
    return json.loads(replies.getvalue())


def test_the_service_says_how_to_name_the_assignment_in_notebook_words():
    reply = ask_service({"cells": [["In [1]", "x = 1"]], "exercises": ["1"]})
    assert not reply["ok"] and "cannot tell which assignment" in reply["error"]
    assert 'pass rubric="NAME" to check()' in reply["error"]


def test_the_service_refuses_an_unknown_exercise_with_the_real_ones():
    reply = ask_service(
        {"cells": [["In [1]", "import numpy as np"]], "exercises": ["9"], "rubric": "transposed_conv"}
    )
    assert reply == {
        "ok": False,
        "error": "there is no exercise '9' in transposed_conv; the exercises are: tc1, tc2, tc3, tc4",
    }
