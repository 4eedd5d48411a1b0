"""grader/integrity.py (flags for the instructor) and grader/keras_version.py (Keras 2 detection)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from grader.integrity import scan
from grader.keras_version import keras2_reasons, load_error_suggests_keras2
from grader.submission import load_submission

REFERENCE = Path(__file__).resolve().parent.parent / "reference"


def submission(tmp_path: Path, source: str):
    path = tmp_path / "sub.py"
    path.write_text(source)
    return load_submission(path)


def flags(tmp_path: Path, source: str) -> list[tuple[str, str, str]]:
    return [(flag.rule, flag.where, flag.message) for flag in scan(submission(tmp_path, source))]


# -- integrity ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "rule", "phrase"),
    [
        (
            "from reference.autoencoders import build_encoder\n",
            "grader-import",
            "imports the grader's own package 'reference.autoencoders'",
        ),
        ("import grader.checks\n", "grader-import", "'grader.checks'"),
        ("m = __import__('reference')\n", "grader-import", "'reference'"),
        ("code = open('../reference/autoencoders.py').read()\n", "grader-files", "reference/autoencoders.py"),
        ("import sys\nsys.exit(0)\n", "system", "ends the process (sys.exit)"),
        ("import os\nos._exit(0)\n", "system", "ends the process (os._exit)"),
        ("import subprocess\n", "system", "starting processes (subprocess)"),
        ("import socket\n", "system", "network access (socket)"),
        ("import ctypes\n", "system", "low-level memory access (ctypes)"),
        (
            "import numpy as np\nnp.allclose = lambda *a, **k: True\n",
            "monkeypatch",
            "replaces a library attribute: np.allclose",
        ),
        (
            "import builtins\nbuiltins.float = int\n",
            "monkeypatch",
            "replaces a library attribute: builtins.float",
        ),
        ("import sys\nsys.modules['numpy'] = None\n", "monkeypatch", "changes sys.modules"),
        (
            "class Always:\n    def __eq__(self, other):\n        return True\n",
            "lying-object",
            "defines __eq__",
        ),
        ("import importlib\nm = importlib.import_module(name)\n", "system", "computed at run time"),
        ("print('All tests passed! score: 100')\n", "fake-output", "looks like grading output"),
    ],
)
def test_scan_flags_code_that_reaches_for_the_grader_or_the_system(tmp_path, source, rule, phrase):
    found = flags(tmp_path, source)
    assert any(found_rule == rule and phrase in message for found_rule, _, message in found), found


def test_flags_name_the_file_and_line(tmp_path):
    found = flags(tmp_path, "import numpy as np\n\n\nimport os\nos._exit(3)\n")
    assert ("system", "sub.py, line 5", "ends the process (os._exit)") in found


def test_flags_in_a_notebook_name_the_cell(tmp_path):
    path = tmp_path / "sub.ipynb"
    cells = [new_markdown_cell("# Hi"), new_code_cell("import socket\n\ndef f():\n    pass")]
    nbformat.write(new_notebook(cells=cells), str(path))
    found = [(flag.rule, flag.where) for flag in scan(load_submission(path))]
    assert ("system", "sub.ipynb, cell 2, line 1") in found


def test_ordinary_student_code_is_not_flagged(tmp_path):
    source = (
        "import numpy as np\nimport tensorflow as tf\nfrom keras import layers\n"
        "BATCH_SIZE = 256\n\ndef build_encoder():\n    x = np.zeros(3)\n    return tf.exp(x)\n"
    )
    assert flags(tmp_path, source) == []


@pytest.mark.parametrize("name", ["autoencoders", "sheet10", "transposed_conv"])
def test_reference_solutions_raise_no_flags_and_no_keras2_reasons(name):
    reference = load_submission(REFERENCE / f"{name}.py")
    assert scan(reference) == []
    assert keras2_reasons(reference) == []


# -- Keras 2 detection ---------------------------------------------------------------------------------------


def reasons(tmp_path: Path, source: str) -> list[str]:
    """The detection rules on every statement (a .py keeps definitions only unless all_cells)."""
    path = tmp_path / "sub.py"
    path.write_text(source)
    return keras2_reasons(load_submission(path, all_cells=True))


def test_keras2_code_that_the_loader_drops_does_not_choose_keras2(tmp_path):
    """Only code that runs decides: a training cell calling fit_generator is not run."""
    source = "import keras\n\ndef f():\n    return 1\n\nmodel.fit_generator(gen, epochs=50)\n"
    assert keras2_reasons(submission(tmp_path, source)) == []
    assert reasons(tmp_path, source) == [".fit_generator (removed in Keras 3) at sub.py, line 6"]


def test_integrity_flags_code_that_the_loader_drops(tmp_path):
    """The instructor sees what a student tried, even where the grader did not run it."""
    found = flags(tmp_path, "import numpy as np\n\nm = __import__('reference')\n")
    assert found == [("grader-import", "sub.py, line 3", "imports the grader's own package 'reference'")]


def test_keras_backend_exp_and_random_normal_are_keras2(tmp_path):
    source = (
        "from keras import backend as K\n\n"
        "def sampling(args):\n    z_mean, z_log_std = args\n"
        "    eps = K.random_normal(shape=K.shape(z_mean))\n    return z_mean + K.exp(z_log_std) * eps\n"
    )
    found = reasons(tmp_path, source)
    assert any(
        reason.startswith("K.random_normal (Keras 2 backend function) at sub.py, line 5") for reason in found
    )
    assert any(reason.startswith("K.exp (Keras 2 backend function) at sub.py, line 6") for reason in found)


def test_tf_keras_backend_alias_is_recognised(tmp_path):
    found = reasons(tmp_path, "import tensorflow.keras.backend as KB\ny = KB.square(2)\n")
    assert found == ["KB.square (Keras 2 backend function) at sub.py, line 2"]


def test_adam_lr_is_keras2(tmp_path):
    found = reasons(tmp_path, "from keras.optimizers import Adam\nopt = Adam(lr=0.001)\n")
    assert found == ["Adam(lr=...) at sub.py, line 2"]


def test_fit_generator_is_keras2(tmp_path):
    found = reasons(tmp_path, "def train(model, gen):\n    return model.fit_generator(gen, epochs=3)\n")
    assert found == [".fit_generator (removed in Keras 3) at sub.py, line 2"]


def test_keras_layers_merge_is_keras2(tmp_path):
    assert reasons(tmp_path, "import keras\nm = keras.layers.merge\n") == [
        "keras.layers.merge at sub.py, line 2"
    ]
    assert reasons(tmp_path, "from keras.layers.merge import concatenate\n") == [
        "from keras.layers.merge import ... at sub.py, line 1"
    ]


def test_keras3_code_gives_no_reasons(tmp_path):
    source = (
        "import keras\nfrom keras import ops\n\n"
        "def sampling(args):\n    m, s = args\n"
        "    return m + ops.exp(s) * keras.random.normal(ops.shape(m))\n"
        "opt = keras.optimizers.Adam(learning_rate=1e-3)\neps = keras.backend.epsilon()\n"
    )
    assert reasons(tmp_path, source) == []


def test_load_error_about_keras_suggests_keras2():
    errors = [
        {"type": "ZeroDivisionError", "message": "division by zero"},
        {"type": "AttributeError", "message": "module 'keras.backend' has no attribute 'exp'"},
    ]
    assert (
        load_error_suggests_keras2(errors)
        == "AttributeError at load time: module 'keras.backend' has no attribute 'exp'"
    )


def test_unrelated_load_errors_do_not_suggest_keras2():
    assert (
        load_error_suggests_keras2([{"type": "NameError", "message": "name 'keras' is not defined"}]) is None
    )
    assert (
        load_error_suggests_keras2(
            [{"type": "ImportError", "message": "cannot import name 'foo' from 'bar'"}]
        )
        is None
    )
    assert load_error_suggests_keras2([]) is None


@pytest.mark.parametrize(
    ("source", "phrase"),
    [
        (
            "LABELS = [" + ", ".join(["7"] * 10_001) + "]",
            "embeds a literal of 10,001 elements: data (a table of labels?)",
        ),
        ("BLOB = b'" + "A" * 100_001 + "'", "embeds 100,001 characters of bytes: data (a table of labels?)"),
        (
            "def predict(x):\n    return TABLE[x.tobytes()]",
            "looks values up by an array's bytes (.tobytes())",
        ),
        ("def predict(x):\n    return TABLE.get(hash(x.tobytes()))", "looks values up by an array's bytes"),
    ],
    ids=["list", "blob", "subscript", "hash"],
)
def test_embedded_labels_and_pixel_lookups_are_flagged(tmp_path, source, phrase):
    messages = [message for _, _, message in flags(tmp_path, source)]
    assert any(phrase in message for message in messages), messages


def test_a_small_table_and_ordinary_bytes_are_not_flagged(tmp_path):
    source = (
        "TABLE = {i: i * i for i in range(10)}\nSHAPE = [1, 2, 3]\ndef f(x, out):\n    out.write(x.tobytes())"
    )
    assert flags(tmp_path, source) == []
