"""The trusted side builds Python syntax trees one thread at a time (grader/threadsafe.py).

CPython 3.11.7 (this machine's) fails ``ast.parse`` now and then when two threads build a
tree at once ("AST constructor recursion depth mismatch", gh-106905); CI saw it in
``test_retries.py``, whose two grading threads parsed the submission (locked) while the
other read a worker's arrays with ``np.load`` (numpy parses each array header with
``ast.literal_eval``).
"""

from __future__ import annotations

import ast
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest
from test_import_graph import ASSIGNMENT_WORKER_SIDE, WORKER_SIDE, module_files

from grader import threadsafe

# What builds a syntax tree, written as the trusted side would call it.
TREE_BUILDERS = {
    "ast.parse",
    "ast.literal_eval",  # parses when given a string (submission.py gives it a node: see below)
    "np.load",
    "numpy.load",
    "traceback.format_exc",
    "traceback.print_exc",
    "traceback.format_exception",
    "traceback.print_exception",
}


def unlocked_tree_builders(source: str) -> list[str]:
    """The calls in ``source`` that build a syntax tree without the lock: "line N: name"."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            name = ast.unparse(node.func).removeprefix("self.")
            if name not in TREE_BUILDERS:
                continue
            # literal_eval parses a string, not a node it is given (submission.py: statement.value)
            given_a_node = bool(node.args) and isinstance(node.args[0], ast.Attribute)
            if name == "ast.literal_eval" and given_a_node:
                continue
            found.append(f"line {node.lineno}: {name}")
    return found


def trusted_modules() -> dict[str, Path]:
    return {
        name: path
        for name, path in module_files().items()
        if not any(name == side or name.startswith(side + ".") for side in WORKER_SIDE)
        and not ASSIGNMENT_WORKER_SIDE.match(name)
        and name != "grader.threadsafe"
    }


def test_the_trusted_side_builds_syntax_trees_only_through_the_lock():
    offenders = {
        name: calls
        for name, path in trusted_modules().items()
        if (calls := unlocked_tree_builders(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}, "call grader.threadsafe's parse_source, load_npz or format_exception instead"


def test_the_scan_covers_the_modules_that_read_files_and_format_errors():
    names = set(trusted_modules())
    readers = {"grader.submission", "grader.sandbox.protocol", "grader.data", "grader.artifacts"}
    assert readers | {"grader.grading", "grader.cli", "grader.batch.task"} <= names
    assert "grader.sandbox.worker" not in names  # its own process: the student's code runs there alone


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import ast\ntree = ast.parse(text)", ["line 2: ast.parse"]),
        ("with np.load(path) as npz:\n    pass", ["line 1: np.load"]),
        ("x = numpy.load(path)", ["line 1: numpy.load"]),
        ("log(traceback.format_exc())", ["line 1: traceback.format_exc"]),
        ("traceback.print_exc()", ["line 1: traceback.print_exc"]),
        ("value = ast.literal_eval(text)", ["line 1: ast.literal_eval"]),
        ("value = ast.literal_eval(statement.value)", []),
        ("tree = parse_source(text)\narrays = load_npz(path)", []),
    ],
)
def test_the_scan_finds_each_kind_of_unlocked_call(source, expected):
    assert unlocked_tree_builders(source) == expected


def held_elsewhere(call) -> tuple[bool, object]:
    """Run ``call`` while another thread holds the lock: (whether it waited for it, its result)."""
    taken, release = threading.Event(), threading.Event()

    def holder() -> None:
        with threadsafe.AST_LOCK:
            taken.set()
            release.wait(10)

    thread = threading.Thread(target=holder)
    thread.start()
    taken.wait(10)
    result: list[object] = []
    caller = threading.Thread(target=lambda: result.append(call()))
    caller.start()
    caller.join(0.3)
    waited = caller.is_alive()
    release.set()
    caller.join(10)
    thread.join(10)
    return waited, result[0]


def test_parsing_waits_for_the_lock():
    waited, tree = held_elsewhere(lambda: threadsafe.parse_source("x = 1", "sub.py"))
    assert waited
    assert isinstance(tree.body[0], ast.Assign)


def test_reading_arrays_waits_for_the_lock(tmp_path):
    np.savez(tmp_path / "a.npz", x=np.arange(3), y=np.ones(2))
    waited, arrays = held_elsewhere(lambda: threadsafe.load_npz(tmp_path / "a.npz"))
    assert waited
    assert sorted(arrays) == ["x", "y"]
    assert arrays["x"].tolist() == [0, 1, 2]


def test_formatting_a_traceback_waits_for_the_lock():
    def failing() -> str:
        try:
            raise KeyError("boom")
        except KeyError:
            return threadsafe.format_exception()

    waited, text = held_elsewhere(failing)
    assert waited
    assert text.startswith("Traceback") and "KeyError: 'boom'" in text


def test_the_lock_is_reentrant_in_one_thread(tmp_path):
    np.savez(tmp_path / "a.npz", x=np.arange(3))
    with threadsafe.AST_LOCK:
        assert threadsafe.load_npz(tmp_path / "a.npz")["x"].tolist() == [0, 1, 2]
        assert isinstance(threadsafe.parse_source("y = 2"), ast.Module)


def test_load_npz_reads_only_the_keys_asked_for_that_exist(tmp_path):
    np.savez(tmp_path / "a.npz", x=np.arange(3), y=np.ones(2))
    assert sorted(threadsafe.load_npz(tmp_path / "a.npz", ("y", "z"))) == ["y"]


def test_load_npz_refuses_pickled_objects(tmp_path):
    np.savez(tmp_path / "a.npz", x=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match="allow_pickle"):
        threadsafe.load_npz(tmp_path / "a.npz")


def test_load_npz_raises_on_a_file_that_is_not_an_archive(tmp_path):
    (tmp_path / "a.npz").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises((ValueError, OSError, EOFError, zipfile.BadZipFile)):
        threadsafe.load_npz(tmp_path / "a.npz")
