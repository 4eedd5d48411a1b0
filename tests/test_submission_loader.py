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


def test_plain_py_module_is_one_cell_with_its_real_line_numbers(tmp_path):
    source = "import numpy as np\n\ndef f():\n    return 1\n"
    path = tmp_path / "sub.py"
    path.write_text(source)
    submission = load_submission(path)
    assert submission.kind == "py"
    assert [(cell.filename, cell.number) for cell in submission.cells] == [("sub.py", 0)]
    assert submission.cells[0].source == source
    assert submission.dropped == []
    assert len(submission.sha256) == 64


def test_py_module_keeps_definitions_only_and_records_what_it_dropped(tmp_path):
    source = (
        "import numpy as np\nBATCH = 64\n(x_train, y_train), _ = load_data()\nprint(x_train.shape)\n\n"
        "def f():\n    return 1 / 0\n\nhistory = model.fit(x_train, epochs=50)\n"
    )
    path = tmp_path / "sub.py"
    path.write_text(source)
    submission = load_submission(path)
    kept = submission.cells[0].source
    assert "import numpy as np" in kept and "BATCH = 64" in kept and "def f():" in kept
    assert "load_data" not in kept and "print(" not in kept and "model.fit" not in kept
    assert kept.splitlines()[5] == "def f():", "line numbers are the file's"
    where = {drop.code: drop.where for drop in submission.dropped}
    assert where == {
        "(x_train, y_train), _ = load_data()": "sub.py, line 3",
        "print(x_train.shape)": "sub.py, line 4",
        "history = model.fit(x_train, epochs=50)": "sub.py, line 9",
    }
    assert submission.dropped_names["x_train"] == "sub.py, line 3: data loading"


def test_all_cells_runs_every_statement_of_a_py_module(tmp_path):
    source = "import numpy as np\nx = np.zeros(3)\nprint(x)\n"
    path = tmp_path / "sub.py"
    path.write_text(source)
    submission = load_submission(path, all_cells=True)
    assert submission.cells[0].source == source
    assert submission.dropped == []
    assert load_submission(path, keep_all_cells=True).cells[0].source == source  # the old name


def test_a_py_line_starting_with_percent_inside_a_string_is_kept(tmp_path):
    source = 'def f():\n    return """\n%d items\n!important\n"""\n'
    path = tmp_path / "sub.py"
    path.write_text(source)
    assert load_submission(path).cells[0].source == source


# -- scripts exported from notebooks --------------------------------------------------------------

NBCONVERT = """#!/usr/bin/env python
# coding: utf-8

# # Autoencoders
# Student: Jo

# In[1]:


get_ipython().run_line_magic('matplotlib', 'inline')
get_ipython().system('pip install -q scikit-learn')
import numpy as np


# In[2]:


(x_train, y_train), _ = keras.datasets.mnist.load_data()


# In[ ]:


def build_encoder():
    x = 1
    return x / 0


# ### Answer 2b
#\x20
# Zeros and ones form clusters.

# In[ ]:


history = model.fit(x_train, x_train, epochs=50)
"""


def test_nbconvert_script_is_split_into_its_cells(tmp_path):
    path = tmp_path / "sub.py"
    path.write_text(NBCONVERT)
    submission = load_submission(path)
    assert [(cell.filename, cell.number) for cell in submission.cells] == [
        ("sub.py, cell 1", 1),
        ("sub.py, cell 3", 3),
    ]
    assert "get_ipython" not in submission.source
    assert submission.cells[0].source.splitlines()[2] == "import numpy as np"
    where = {drop.code: drop.where for drop in submission.dropped}
    assert where == {
        "(x_train, y_train), _ = keras.datasets.mnist.load_data()": "sub.py, cell 2, line 1",
        "history = model.fit(x_train, x_train, epochs=50)": "sub.py, cell 4, line 1",
    }
    assert submission.answers == {"2b": "Zeros and ones form clusters."}


def test_a_traceback_in_an_exported_script_names_cell_and_line(tmp_path):
    path = tmp_path / "sub.py"
    path.write_text(NBCONVERT)
    cell = load_submission(path).cells[1]
    namespace: dict = {}
    exec(compile(cell.source, cell.filename, "exec"), namespace)
    with pytest.raises(ZeroDivisionError) as caught:
        namespace["build_encoder"]()
    frame = traceback.extract_tb(caught.value.__traceback__)[-1]
    assert (frame.filename, frame.lineno) == ("sub.py, cell 3", 3)  # "cell 3, line 3", as in the notebook


def test_all_cells_keeps_an_exported_script_s_statements_but_not_its_magics(tmp_path):
    path = tmp_path / "sub.py"
    path.write_text(NBCONVERT)
    submission = load_submission(path, all_cells=True)
    assert [cell.number for cell in submission.cells] == [1, 2, 3, 4]
    assert "model.fit" in submission.source and "get_ipython" not in submission.source
    assert submission.dropped == []


JUPYTEXT = """# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Autoencoders

# %%
# %matplotlib inline
import numpy as np

x_train = np.load("mnist.npz")["x_train"]

# %% [markdown]
# ### Answer 2c
# The ReLU clips at zero.

# %% tags=["solution"]
def build_decoder():
    return undefined_name
"""


def test_jupytext_percent_script_keeps_cell_numbers_and_markdown_answers(tmp_path):
    path = tmp_path / "sub.py"
    path.write_text(JUPYTEXT)
    submission = load_submission(path)
    assert [(cell.filename, cell.number) for cell in submission.cells] == [
        ("sub.py, cell 2", 2),
        ("sub.py, cell 4", 4),
    ]
    assert [(drop.where, drop.names) for drop in submission.dropped] == [
        ("sub.py, cell 2, line 4", ("x_train",))
    ]
    assert submission.answers == {"2c": "The ReLU clips at zero."}


def test_code_before_the_first_marker_keeps_the_file_s_line_numbers(tmp_path):
    path = tmp_path / "sub.py"
    path.write_text("import numpy as np\n\n# %%\ndef f():\n    pass\n")
    submission = load_submission(path)
    assert [(cell.filename, cell.source.splitlines()[0]) for cell in submission.cells] == [
        ("sub.py", "import numpy as np"),
        ("sub.py, cell 1", "def f():"),
    ]


def test_a_cell_of_an_exported_script_that_does_not_parse_is_skipped_and_reported(tmp_path):
    path = tmp_path / "sub.py"
    path.write_text("# In[1]:\n\n\nimport numpy\n\n\n# In[2]:\n\n\nfor x in range(3)\n    pass\n")
    submission = load_submission(path)
    assert [cell.filename for cell in submission.cells] == ["sub.py, cell 1"]
    [drop] = submission.dropped
    assert drop.where == "sub.py, cell 2"
    assert drop.reason.startswith("syntax error in sub.py, cell 2, line 1:")
    assert drop.reason.endswith("; the cell is skipped (it defined nothing)")


def test_raw_magics_in_a_py_file_are_ignored(tmp_path):
    path = tmp_path / "sub.py"
    path.write_text("%matplotlib inline\n!pip install keras\nimport numpy as np\n")
    submission = load_submission(path)
    assert submission.cells[0].source.splitlines() == ["", "", "import numpy as np"]


# -- real-world files ----------------------------------------------------------------------------------


def test_windows_line_endings_in_a_py_file(tmp_path):
    path = tmp_path / "sub.py"
    path.write_bytes(b"import numpy as np\r\nx = np.zeros(3)\r\n\r\ndef f():\r\n    return 1\r\n")
    submission = load_submission(path)
    assert "\r" not in submission.source
    assert submission.cells[0].source.splitlines()[3] == "def f():"
    assert [drop.where for drop in submission.dropped] == ["sub.py, line 2"]


def test_windows_line_endings_in_a_notebook_file_and_its_cells(tmp_path):
    cells = [new_code_cell("import numpy as np\r\nx = np.zeros(3)\r\ndef f():\r\n    return 1")]
    text = nbformat.writes(new_notebook(cells=cells)).replace("\n", "\r\n")
    path = tmp_path / "sub.ipynb"
    path.write_bytes(text.encode())
    submission = load_submission(path)
    assert submission.cells[0].source.split("\n") == ["import numpy as np", "", "def f():", "    return 1"]
    assert [drop.where for drop in submission.dropped] == ["sub.ipynb, cell 1, line 2"]


def test_google_colab_notebook(tmp_path):
    raw = {
        "nbformat": 4,
        "nbformat_minor": 0,
        "metadata": {"colab": {"provenance": []}, "kernelspec": {"name": "python3"}, "accelerator": "GPU"},
        "cells": [
            {
                "cell_type": "code",
                "metadata": {"id": "mnt"},
                "execution_count": None,
                "outputs": [],
                "source": ["from google.colab import drive\n", "drive.mount('/content/drive')"],
            },
            {
                "cell_type": "code",
                "metadata": {"id": "setup"},
                "execution_count": None,
                "outputs": [],
                "source": [
                    "%cd /content/drive/MyDrive/dl\n",
                    "!pip install -q keras\n",
                    "import numpy as np",
                ],
            },
        ],
    }
    path = tmp_path / "sub.ipynb"
    path.write_text(json.dumps(raw))
    submission = load_submission(path)
    assert [cell.number for cell in submission.cells] == [2]
    assert submission.cells[0].source.splitlines() == ["", "", "import numpy as np"]
    assert [(drop.where, drop.code) for drop in submission.dropped] == [
        ("sub.ipynb, cell 1, line 1", "from google.colab import drive"),
        ("sub.ipynb, cell 1, line 2", "drive.mount('/content/drive')"),
    ]
    assert "google.colab" not in load_submission(path, all_cells=True).source  # it exists only in Colab


def test_notebook_saved_by_vs_code(tmp_path):
    """Sources as one string, no execution_count, vscode metadata."""
    raw = {
        "nbformat": 4,
        "nbformat_minor": 2,
        "metadata": {"vscode": {"interpreter": {"hash": "3b1e5d8a"}}, "language_info": {"name": "python"}},
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": "### Answer 5b\nBlurry mixtures."},
            {
                "cell_type": "code",
                "metadata": {},
                "outputs": [],
                "source": "import numpy as np\nx = 1 + np.pi",
            },
        ],
    }
    path = tmp_path / "sub.ipynb"
    path.write_text(json.dumps(raw, indent=1))
    submission = load_submission(path)
    assert [(cell.filename, cell.source) for cell in submission.cells] == [
        ("sub.ipynb, cell 2", "import numpy as np\n")
    ]
    assert submission.answers == {"5b": "Blurry mixtures."}


def test_the_shipped_hostile_loop_at_import_is_dropped_by_the_loader():
    """A training loop left at module level (tests/hostile/loop_at_import) is not run by default."""
    path = Path(__file__).resolve().parent / "hostile" / "loop_at_import" / "submission.py"
    submission = load_submission(path)
    assert "while True" not in submission.source
    assert [drop.code for drop in submission.dropped] == ['while True:  # "train until converged"']


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
    assert submission.dropped_names["x_train"] == "sub.ipynb, cell 3, line 1: data loading"


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


def test_nbformat_3_notebook_is_converted_and_read(tmp_path):
    cells = [
        {"cell_type": "code", "input": "def f():\n    return 3\n", "language": "python", "outputs": []},
        {"cell_type": "markdown", "source": "### Answer 2b\nBecause."},
    ]
    raw = {"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": [{"cells": cells}]}
    path = tmp_path / "sub.ipynb"
    path.write_text(json.dumps(raw))
    submission = load_submission(path)
    assert submission.source == "def f():\n    return 3"
    assert submission.answers == {"2b": "Because."}


def test_notebook_format_nbformat_cannot_read_is_refused_in_one_line(tmp_path):
    path = tmp_path / "sub.ipynb"
    path.write_text(json.dumps({"nbformat": 9, "nbformat_minor": 0, "metadata": {}, "cells": []}))
    assert error_message(path) == "sub.ipynb uses notebook format 9, which nbformat cannot read"


def test_syntax_error_in_a_py_file_names_file_and_line(tmp_path):
    path = tmp_path / "sub.py"
    path.write_text("import numpy\n\ndef f(:\n    pass\n")
    assert error_message(path).startswith("syntax error in sub.py at line 3:")


def test_a_notebook_cell_that_does_not_parse_is_skipped_and_the_rest_is_kept(tmp_path):
    cells = [
        new_markdown_cell("# Title"),
        new_code_cell("import numpy\nfor x in range(3)\n    pass"),
        new_code_cell("print('done'"),
        new_code_cell("def f():\n    return 1"),
    ]
    submission = load_submission(write_notebook(tmp_path / "sub.ipynb", cells))
    assert [cell.filename for cell in submission.cells] == ["sub.ipynb, cell 4"]
    assert [(d.where, d.code) for d in submission.dropped] == [
        ("sub.ipynb, cell 2", "import numpy"),
        ("sub.ipynb, cell 3", "print('done'"),
    ]
    assert submission.dropped[0].reason.startswith("syntax error in sub.ipynb, cell 2, line 2:")


def test_submissions_load_in_parallel_threads():
    """CPython < 3.11.8 broke ast.parse in two threads at once (CI saw 'AST constructor
    recursion depth mismatch' while the fidelity runner graded in threads)."""
    from concurrent.futures import ThreadPoolExecutor

    from grader.submission import load_submission

    path = Path(__file__).resolve().parents[1] / "reference" / "autoencoders.py"
    with ThreadPoolExecutor(4) as pool:
        loaded = list(pool.map(lambda _: load_submission(path), range(200)))
    assert {s.sha256 for s in loaded} == {loaded[0].sha256}


# -- the loading rule (grader/loading_rule.py) ---------------------------------------------------

RULE_SOURCE = """\
import functools
import numpy as np
import tensorflow as tf
from tensorflow import keras
L = tf.keras.layers
K = keras
epochs = 30
VAE_EPOCHS = epochs
FILTERS = [16] * 4
ENCODER_SPEC = [(FILTERS[0], (2, 2))] * 4 + [(1, (2, 1))]
Conv = functools.partial(L.Conv2D, padding="same", activation="relu")
CONFIG = dict(lr=0.1)
CONFIG["beta"] = 2.0
(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
x_train = x_train / 255.0
images = np.load("extra.npz")
QUERY = np.ones((2, 3))
def attention(q, k, v):
    return q, k
out, weights = attention(QUERY, QUERY, QUERY)
ATTENTION_OUTPUT = np.asarray(out).reshape(-1)
def build_encoder():
    return K.Sequential([Conv(8, 3), L.Flatten()], name=CONFIG["name"])
model = build_encoder()
history = model.fit(x_train, epochs=VAE_EPOCHS)
print("done")
import matplotlib.pyplot as plt
plt.imshow(x_test[0])
model.save("model.keras")
with open("log.txt", "w") as log:
    log.write("x")
if __name__ == "__main__":
    build_encoder()
"""

KEPT = {
    "L = tf.keras.layers": "an alias",
    "K = keras": "an alias",
    "VAE_EPOCHS = epochs": "a value derived from a constant",
    "FILTERS = [16] * 4": "a literal constant",
    "ENCODER_SPEC = [(FILTERS[0], (2, 2))] * 4 + [(1, (2, 1))]": "a derived constant",
    'Conv = functools.partial(L.Conv2D, padding="same", activation="relu")': "a layer factory",
    "CONFIG = dict(lr=0.1)": "used by a function",
    'CONFIG["beta"] = 2.0': "changes a kept name",
    "QUERY = np.ones((2, 3))": "a computed constant",
    "out, weights = attention(QUERY, QUERY, QUERY)": "a constant depends on it",
    "ATTENTION_OUTPUT = np.asarray(out).reshape(-1)": "a contract constant computed by the student's code",
}
DROPPED = {
    "(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()": "data loading (the grader",
    "x_train = x_train / 255.0": "uses `x_train`, set by data loading at sub.py, line 14",
    'images = np.load("extra.npz")': "data loading (the grader supplies the data)",
    "model = build_encoder()": "no function, class or constant uses what it sets",
    "history = model.fit(x_train, epochs=VAE_EPOCHS)": "training (the grader trains with its own budget)",
    'print("done")': "output only (a print or a plot)",
    "plt.imshow(x_test[0])": "output only (a print or a plot)",
    'model.save("model.keras")': "a file write",
    'with open("log.txt", "w") as log:': "a file write",
    'if __name__ == "__main__":': 'a script\'s `if __name__ == "__main__":` block',
}


def test_the_loading_rule_keeps_what_definitions_and_constants_need(tmp_path):
    path = tmp_path / "sub.py"
    path.write_text(RULE_SOURCE)
    submission = load_submission(path)
    kept = submission.cells[0].source.splitlines()
    for statement, why in KEPT.items():
        assert statement in kept, f"{statement} is kept: {why}"
    assert len(kept) == len(RULE_SOURCE.splitlines()), "line numbers stay the file's"


def test_the_loading_rule_drops_replaced_work_with_the_reason(tmp_path):
    path = tmp_path / "sub.py"
    path.write_text(RULE_SOURCE)
    submission = load_submission(path)
    reasons = {drop.code: drop.reason for drop in submission.dropped}
    assert set(reasons) == set(DROPPED)
    for code, reason in DROPPED.items():
        assert reasons[code].startswith(reason), code
    assert submission.dropped_names["x_test"] == "sub.py, line 14: data loading"


def test_derived_statements_are_marked_for_the_time_limit_and_definitions_are_not(tmp_path):
    path = tmp_path / "sub.py"
    path.write_text(RULE_SOURCE)
    submission = load_submission(path)
    lines = RULE_SOURCE.splitlines()
    timed = {lines[n - 1] for n in submission.cells[0].timed}
    assert "ATTENTION_OUTPUT = np.asarray(out).reshape(-1)" in timed and "L = tf.keras.layers" in timed
    assert "FILTERS = [16] * 4" not in timed and "import numpy as np" not in timed
    [cell] = submission.worker_cells()
    assert cell["timed"] == list(submission.cells[0].timed) and cell["time_limit_s"] > 0


def test_all_cells_keeps_everything_and_runs_cells_whole(tmp_path):
    path = tmp_path / "sub.py"
    path.write_text(RULE_SOURCE)
    submission = load_submission(path, all_cells=True)
    assert submission.cells[0].source == RULE_SOURCE and submission.dropped == []
    assert "timed" not in submission.worker_cells()[0]


def test_the_slice_crosses_cells_both_ways(tmp_path):
    cells = [
        new_code_cell("import tensorflow as tf\ndef build():\n    return L.Dense(UNITS)"),
        new_code_cell("L = tf.keras.layers\nunits = 4\nUNITS = units * 2\nscratch = build()"),
    ]
    submission = load_submission(write_notebook(tmp_path / "sub.ipynb", cells))
    assert "L = tf.keras.layers\nunits = 4\nUNITS = units * 2\n" in submission.cells[1].source
    assert [(d.code, d.reason) for d in submission.dropped] == [
        ("scratch = build()", "no function, class or constant uses what it sets")
    ]


def test_a_function_local_is_not_mistaken_for_a_global(tmp_path):
    path = tmp_path / "sub.py"
    path.write_text("def f(model):\n    history = model\n    return history\nhistory = train()\n")
    submission = load_submission(path)
    assert [d.code for d in submission.dropped] == ["history = train()"]


def test_the_notebook_check_and_grader_check_keep_the_same_code(tmp_path):
    from grader.submission import load_cells

    sources = [RULE_SOURCE[:200], RULE_SOURCE[200:].partition("\n")[2], "print('done'"]
    cells = [new_code_cell(source) for source in sources]
    from_file = load_submission(write_notebook(tmp_path / "sub.ipynb", cells))
    from_kernel = load_cells("notebook", [(f"sub.ipynb, cell {n}", s) for n, s in enumerate(sources, 1)])
    assert [c.source for c in from_kernel.cells] == [c.source for c in from_file.cells]
    assert [c.timed for c in from_kernel.cells] == [c.timed for c in from_file.cells]
    assert [(d.code, d.reason) for d in from_kernel.dropped] == [
        (d.code, d.reason) for d in from_file.dropped
    ]


# -- odd files ------------------------------------------------------------------------------------


def test_a_latin1_module_with_a_coding_line_is_read(tmp_path):
    path = tmp_path / "sub.py"
    path.write_bytes(b'# -*- coding: latin-1 -*-\nNAME = "caf\xe9"\n')
    assert 'NAME = "caf\u00e9"' in load_submission(path).source


def test_a_notebook_cell_without_source_is_read_as_empty(tmp_path):
    """nbformat's own tests/invalid.ipynb has a markdown cell with no "source"."""
    raw = {
        "nbformat": 4,
        "nbformat_minor": 0,
        "metadata": {},
        "cells": [
            {"cell_type": "markdown", "metadata": {}},
            {
                "cell_type": "code",
                "metadata": {},
                "outputs": [],
                "execution_count": None,
                "source": ["X = 1\n"],
            },
        ],
    }
    path = tmp_path / "sub.ipynb"
    path.write_text(json.dumps(raw))
    assert load_submission(path).source == "X = 1"


def test_a_notebook_large_because_of_outputs_is_read(tmp_path):
    image = nbformat.v4.new_output("display_data", data={"image/png": "A" * (25 * 2**20)})
    cell = new_code_cell("def f():\n    return 1\n")
    cell.outputs = [image]
    path = write_notebook(tmp_path / "sub.ipynb", [cell])
    assert path.stat().st_size > 25 * 2**20
    assert "def f():" in load_submission(path).source


def test_a_notebook_in_another_language_names_it(tmp_path):
    notebook = new_notebook(cells=[new_code_cell("using LinearAlgebra")])
    notebook.metadata["language_info"] = {"name": "julia"}
    path = tmp_path / "sub.ipynb"
    nbformat.write(notebook, str(path))
    assert error_message(path) == (
        "sub.ipynb is a notebook in julia (its kernel's language); the grader reads Python notebooks"
    )


def test_a_file_over_the_hard_cap_says_to_clear_the_outputs(tmp_path, monkeypatch):
    monkeypatch.setattr("grader.submission.MAX_FILE_BYTES", 1000)
    path = write_notebook(tmp_path / "sub.ipynb", [new_code_cell("X = 1\n" * 300)])
    message = error_message(path)
    assert message.startswith("sub.ipynb is larger than ")
    assert message.endswith("MB; clear the notebook's outputs (Edit > Clear All Outputs) and save it again")


# -- the worker runs what the rule kept (grader/sandbox/worker.py::load) ----------------------------

REFERENCE_TC = Path(__file__).resolve().parent.parent / "reference" / "transposed_conv.py"


def test_a_raising_or_endless_derived_statement_is_reported_and_the_rest_of_its_cell_runs(
    tmp_path, monkeypatch
):
    from grader.grading import GradeOptions, grade

    monkeypatch.setattr("grader.submission.DERIVED_TIME_LIMIT_S", 1.0)
    source = REFERENCE_TC.read_text().replace(
        "\ndef conv_matrix(",
        "\nBROKEN = 1 / 0\nSTEPS = 0\nwhile True:\n    STEPS += 1\n\ndef conv_matrix(",
        1,
    )
    path = tmp_path / "sub.py"
    path.write_text(source)
    report = grade(path, "transposed_conv", GradeOptions(budget="smoke"))
    assert report.auto_score == report.auto_max
    errors = {error["type"]: error["message"] for error in report.load_errors}
    assert errors["ZeroDivisionError"] == "division by zero"
    line = source.splitlines().index("while True:") + 1
    assert errors["TimeoutError"] == (
        f"the statement at sub.py, line {line} ran longer than 1 s while loading, so the grader skipped it"
    )


def test_a_derived_statement_that_hangs_in_c_code_is_skipped_on_a_second_load(tmp_path):
    """sum() over an endless iterator never returns to the interpreter, so its SIGALRM limit cannot
    end it: the load times out, and the grader loads the file again without that statement."""
    import dataclasses

    from grader.grading import GradeOptions, grade
    from grader.rubric import load_rubric

    rubric = dataclasses.replace(load_rubric("transposed_conv"), load_timeout_s=8.0)
    source = REFERENCE_TC.read_text().replace(
        "\ndef conv_matrix(", "\nimport itertools\nFOREVER = sum(itertools.count())\n\ndef conv_matrix(", 1
    )
    path = tmp_path / "sub.py"
    path.write_text(source)
    report = grade(path, rubric, GradeOptions(budget="smoke"))
    assert report.auto_score == report.auto_max
    line = source.splitlines().index("FOREVER = sum(itertools.count())") + 1
    (error,) = [e for e in report.load_errors if e["type"] == "TimeoutError"]
    assert error["message"].startswith(
        f"the statement at sub.py, line {line} was still running when loading timed out after 8 s"
    )
