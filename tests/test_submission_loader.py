"""grader/submission.py: loading .py and .ipynb files into cells, written answers, and clear errors."""

from __future__ import annotations

import json
import traceback
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from grader.submission import SubmissionError, load_submission


def write_notebook(path: Path, cells: list) -> Path:
    nbformat.write(new_notebook(cells=cells), str(path))
    return path


def error_message(path: Path) -> str:
    with pytest.raises(SubmissionError) as caught:
        load_submission(path)
    message = str(caught.value)
    assert "\n" not in message
    return message


# -- .py modules --------------------------------------------------------------------------------


def test_py_module_is_one_cell_kept_whole(tmp_path):
    source = "import numpy as np\nx = np.zeros(3)\nprint(x)\n\ndef f():\n    return 1\n"
    path = tmp_path / "sub.py"
    path.write_text(source)
    submission = load_submission(path)
    assert submission.kind == "py"
    assert [cell.filename for cell in submission.cells] == ["sub.py"]
    assert submission.cells[0].source == source
    assert submission.dropped == []
    assert len(submission.sha256) == 64


def test_answers_dict_of_a_py_module(tmp_path):
    path = tmp_path / "sub.py"
    path.write_text('ANSWERS = {"2b": "  Zeros and ones cluster.  ", "2c": "The ReLU clips at zero."}\n')
    assert load_submission(path).answers == {"2b": "Zeros and ones cluster.", "2c": "The ReLU clips at zero."}


# -- notebooks: definitions only ------------------------------------------------------------------------


def test_notebook_keeps_definitions_and_records_dropped_statements(tmp_path):
    cells = [
        new_markdown_cell("# Exercise 1"),
        new_code_cell("import numpy as np\nfrom keras import layers\nBATCH_SIZE = 256\nSHAPE = (32, 32, 1)"),
        new_code_cell(
            "x_train = load_data()\nprint(x_train.shape)\n\ndef build_encoder():\n    return 1 / 0"
        ),
        new_code_cell("class Sampling:\n    pass\n\nhistory = model.fit(x_train, x_train, epochs=50)"),
    ]
    submission = load_submission(write_notebook(tmp_path / "sub.ipynb", cells))
    kept = submission.source
    for wanted in (
        "import numpy as np",
        "from keras import layers",
        "BATCH_SIZE = 256",
        "SHAPE = (32, 32, 1)",
        "def build_encoder():",
        "class Sampling:",
    ):
        assert wanted in kept
    for unwanted in ("load_data()", "print(", "model.fit"):
        assert unwanted not in kept
    where = {drop.code: drop.where for drop in submission.dropped}
    assert where["x_train = load_data()"] == "sub.ipynb, cell 3, line 1"
    assert where["print(x_train.shape)"] == "sub.ipynb, cell 3, line 2"
    assert where["history = model.fit(x_train, x_train, epochs=50)"] == "sub.ipynb, cell 4, line 4"
    assert submission.dropped_names["x_train"] == "sub.ipynb, cell 3, line 1"


def test_kept_code_keeps_its_line_numbers(tmp_path):
    cells = [new_code_cell("x_train = load_data()\nprint(1)\n\ndef build_encoder():\n    return 1 / 0")]
    submission = load_submission(write_notebook(tmp_path / "sub.ipynb", cells))
    cell = submission.cells[0]
    assert cell.filename == "sub.ipynb, cell 1"
    assert cell.source.splitlines()[3] == "def build_encoder():"
    namespace: dict = {}
    exec(compile(cell.source, cell.filename, "exec"), namespace)
    with pytest.raises(ZeroDivisionError) as caught:
        namespace["build_encoder"]()
    frame = traceback.extract_tb(caught.value.__traceback__)[-1]
    assert (frame.filename, frame.lineno) == ("sub.ipynb, cell 1", 5)  # the student's own cell and line


def test_ipython_magics_and_shell_escapes_are_ignored(tmp_path):
    cells = [
        new_code_cell("%matplotlib inline\n!pip install tensorflow\nimport numpy as np"),
        new_code_cell("%%time\nhistory = model.fit(x, x)\ndef not_kept():\n    pass"),
        new_code_cell("def f():\n    return 2"),
    ]
    submission = load_submission(write_notebook(tmp_path / "sub.ipynb", cells))
    assert [cell.number for cell in submission.cells] == [1, 3]
    assert submission.cells[0].source.splitlines() == ["", "", "import numpy as np"]
    assert "not_kept" not in submission.source


def test_keep_all_cells_keeps_training_statements(tmp_path):
    cells = [new_code_cell("x = load_data()\nhistory = model.fit(x, x)")]
    submission = load_submission(write_notebook(tmp_path / "sub.ipynb", cells), keep_all_cells=True)
    assert "model.fit(x, x)" in submission.source
    assert submission.dropped == []


# -- notebooks: written answers ---------------------------------------------------------------------------


def test_answer_heading_with_text_in_the_same_cell(tmp_path):
    cells = [new_markdown_cell("### Answer 2b\nZeros and ones form compact clusters.")]
    submission = load_submission(write_notebook(tmp_path / "sub.ipynb", cells))
    assert submission.answers == {"2b": "Zeros and ones form compact clusters."}


def test_answer_in_the_markdown_cell_after_an_empty_heading(tmp_path):
    cells = [new_markdown_cell("### Answer 2c"), new_markdown_cell("The ReLU clips negative codes to zero.")]
    submission = load_submission(write_notebook(tmp_path / "sub.ipynb", cells))
    assert submission.answers == {"2c": "The ReLU clips negative codes to zero."}


def test_placeholder_answer_counts_as_empty(tmp_path):
    cells = [new_markdown_cell("### Answer 3b"), new_markdown_cell("*Write your answer here.*")]
    submission = load_submission(write_notebook(tmp_path / "sub.ipynb", cells))
    assert submission.answers == {"3b": ""}


def test_answer_from_a_tagged_cell(tmp_path):
    tagged = new_markdown_cell("Accuracy rises far above chance.")
    tagged.metadata["tags"] = ["answer:4b"]
    submission = load_submission(write_notebook(tmp_path / "sub.ipynb", [tagged]))
    assert submission.answers == {"4b": "Accuracy rises far above chance."}


def test_answers_dict_in_a_notebook_code_cell(tmp_path):
    cells = [new_code_cell('ANSWERS = {"5b": "Blurry mixtures between clusters."}')]
    submission = load_submission(write_notebook(tmp_path / "sub.ipynb", cells))
    assert submission.answers == {"5b": "Blurry mixtures between clusters."}


# -- clear one-line errors -----------------------------------------------------------------------------------


def test_missing_file(tmp_path):
    assert error_message(tmp_path / "nope.py").startswith("file not found:")


def test_folder_instead_of_a_file(tmp_path):
    assert "is a folder; pass the .py or .ipynb file inside it" in error_message(tmp_path)


def test_wrong_suffix(tmp_path):
    path = tmp_path / "sub.txt"
    path.write_text("x = 1\n")
    assert error_message(path) == "sub.txt: a submission is a .py module or an .ipynb notebook"


def test_empty_file(tmp_path):
    path = tmp_path / "sub.py"
    path.write_text("  \n\n")
    assert error_message(path) == "sub.py is empty"


def test_non_utf8_file_names_the_byte_and_position(tmp_path):
    path = tmp_path / "sub.py"
    path.write_bytes(b"x = 'caf\xe9'\n")
    assert error_message(path) == "sub.py is not UTF-8 text (byte 0xe9 at position 8); save it as UTF-8"


def test_invalid_json_notebook_names_line_and_column(tmp_path):
    path = tmp_path / "sub.ipynb"
    path.write_text('{\n  "cells": [\n    {"cell_type": "code",,}\n  ]\n}\n')
    assert (
        error_message(path) == "sub.ipynb is not a valid notebook: invalid JSON at line 3 column 26"
    )  # the second comma


def test_nbformat_3_notebook_is_refused(tmp_path):
    path = tmp_path / "sub.ipynb"
    path.write_text(
        json.dumps({"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": [{"cells": []}]})
    )
    message = error_message(path)
    assert "uses notebook format 3; only format 4 is supported" in message


def test_syntax_error_in_a_py_file_names_file_and_line(tmp_path):
    path = tmp_path / "sub.py"
    path.write_text("import numpy\n\ndef f(:\n    pass\n")
    assert error_message(path).startswith("syntax error in sub.py at line 3:")


def test_syntax_error_in_a_notebook_names_cell_and_line(tmp_path):
    cells = [new_markdown_cell("# Title"), new_code_cell("import numpy\nfor x in range(3)\n    pass")]
    path = write_notebook(tmp_path / "sub.ipynb", cells)
    assert error_message(path).startswith("syntax error in sub.ipynb, cell 2, line 2:")


def test_submissions_load_in_parallel_threads():
    """CPython < 3.11.8 broke ast.parse in two threads at once (CI saw 'AST constructor
    recursion depth mismatch' while the fidelity runner graded in threads)."""
    from concurrent.futures import ThreadPoolExecutor

    from grader.submission import load_submission

    path = Path(__file__).resolve().parents[1] / "reference" / "autoencoders.py"
    with ThreadPoolExecutor(4) as pool:
        loaded = list(pool.map(lambda _: load_submission(path), range(200)))
    assert {s.sha256 for s in loaded} == {loaded[0].sha256}
