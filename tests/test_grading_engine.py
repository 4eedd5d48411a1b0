"""The grading engine end to end: a dead worker is replaced and later items still graded.

docs/architecture.md, "The sandbox": when an item kills the worker, a fresh worker carries on with the
remaining items, and trained models that later items need are rebuilt (the chosen
training attempt is re-selected, so the rebuilt model is the same one).
"""

from __future__ import annotations

from pathlib import Path

from rubric_tools import reduced_rubric

from grader.grading import grade

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = (ROOT / "reference" / "autoencoders.py").read_text()


def test_a_worker_killed_mid_grading_is_replaced_and_trained_models_are_rebuilt(tmp_path):
    source = REFERENCE.replace(
        '    """Training (and, if present, validation) loss per epoch."""',
        '    """Training (and, if present, validation) loss per epoch."""\n    import os, signal\n'
        "    os.kill(os.getpid(), signal.SIGKILL)",
    )
    path = tmp_path / "killer.py"
    path.write_text(source)
    rubric = reduced_rubric(
        tmp_path, "autoencoders", ("1-training", "1-plot-loss", "4a-accuracy", "4b-history")
    )
    report = grade(path, rubric, budget="smoke")
    statuses = {item.id: item.status for item in report.items if item.id != "integrity"}
    assert "sends signals (os.kill)" in report.item("integrity").feedback
    assert statuses == {
        "1-training": "passed",
        "1-plot-loss": "error",
        "4a-accuracy": "passed",
        "4b-history": "passed",
    }
    assert (
        "crashed" in report.item("1-plot-loss").feedback
        and "plot loss" in report.item("1-plot-loss").feedback
    )
    assert report.debug["worker_restarts"] == 1
    # The classifier starts from the autoencoder trained with the selected seed, rebuilt in the new worker.
    assert report.stages["autoencoder"]["selected_seed"] == 0


def test_the_report_lists_the_statements_a_notebook_loader_dropped(tmp_path):
    import nbformat

    cells = [
        nbformat.v4.new_code_cell((ROOT / "reference" / "transposed_conv.py").read_text()),
        nbformat.v4.new_code_cell("kernel = np.ones((3, 3))\nprint(conv_matrix(kernel, (4, 4)).shape)"),
    ]
    path = tmp_path / "nb.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=cells), path)
    report = grade(path, "transposed_conv")
    assert report.auto_score == report.auto_max
    assert report.debug["dropped"] == [
        {
            "where": "nb.ipynb, cell 2, line 1",
            "code": "kernel = np.ones((3, 3))",
            "reason": "no function, class or constant uses what it sets",
        },
        {
            "where": "nb.ipynb, cell 2, line 2",
            "code": "print(conv_matrix(kernel, (4, 4)).shape)",
            "reason": "output only (a print or a plot)",
        },
    ]


def test_the_report_lists_the_statements_a_py_loader_dropped(tmp_path):
    from grader.report.render import markdown

    source = (ROOT / "reference" / "transposed_conv.py").read_text()
    path = tmp_path / "sub.py"
    path.write_text(source + "\nkernel = np.ones((3, 3))\nprint(conv_matrix(kernel, (4, 4)).shape)\n")
    report = grade(path, "transposed_conv")
    assert report.auto_score == report.auto_max
    lines = len(source.splitlines())
    assert report.debug["dropped"] == [
        {
            "where": f"sub.py, line {lines + 2}",
            "code": "kernel = np.ones((3, 3))",
            "reason": "no function, class or constant uses what it sets",
        },
        {
            "where": f"sub.py, line {lines + 3}",
            "code": "print(conv_matrix(kernel, (4, 4)).shape)",
            "reason": "output only (a print or a plot)",
        },
    ]
    assert (
        f"- not run (the loading rule; --all-cells runs them): sub.py, line {lines + 2}: "
        "`kernel = np.ones((3, 3))` (no function, class or constant uses what it sets); " in markdown(report)
    )


def test_feedback_on_a_script_exported_from_a_notebook_names_cell_and_line(tmp_path):
    """nbconvert --to script: the student's traceback says "cell 2", line 3, as in the notebook."""
    source = (ROOT / "reference" / "transposed_conv.py").read_text()
    _, functions = source.split("import numpy as np\n", 1)
    broken = functions.replace(
        "    kernel = np.asarray(kernel, dtype=np.float64)\n    in_h, in_w = input_shape",
        "    kernel = np.asarray(kernel, dtype=np.float64)\n    in_h, in_w = input_shape\n    1 / 0",
    )
    path = tmp_path / "exported.py"
    path.write_text(
        "#!/usr/bin/env python\n# coding: utf-8\n\n# In[1]:\n\n\n"
        "get_ipython().run_line_magic('matplotlib', 'inline')\nimport numpy as np\n\n\n"
        "# In[2]:\n\n\n"
        + broken.lstrip("\n")
        + "\n\n# In[3]:\n\n\nprint(conv_matrix(np.ones((3, 3)), (4, 4)))\n"
    )
    feedback = grade(path, "transposed_conv").item("tc1-example").feedback
    line = 1 + broken.lstrip("\n").splitlines().index("    1 / 0")
    assert "conv_matrix raised ZeroDivisionError: division by zero" in feedback
    assert f'File "exported.py, cell 2", line {line}, in conv_matrix' in feedback


def test_a_missing_name_that_dropped_data_loading_defined_gets_advice(tmp_path):
    import nbformat

    source = (
        (ROOT / "reference" / "transposed_conv.py")
        .read_text()
        .replace(
            "    kernel = np.asarray(kernel, dtype=np.float64)\n    in_h, in_w = input_shape",
            "    kernel = np.asarray(kernel, dtype=np.float64) * SCALE\n    in_h, in_w = input_shape",
        )
    )
    cells = [
        nbformat.v4.new_code_cell("import numpy as np\nSCALE = np.load('scale.npy')"),
        nbformat.v4.new_code_cell(source),
    ]
    path = tmp_path / "nb.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=cells), path)
    report = grade(path, "transposed_conv")
    feedback = report.item("tc1-example").feedback
    assert "conv_matrix raised NameError: name 'SCALE' is not defined" in feedback
    assert (
        "`SCALE` is set by a top-level statement the grader does not run (nb.ipynb, cell 1, line 2: "
        "data loading); the grader runs your definitions and the top-level code they use, but not "
        "training, data loading, plots, prints or file writes" in feedback
    )
    assert 'File "nb.ipynb, cell 2", line' in feedback, "the student's own traceback line is shown"


def test_a_worker_dies_with_the_grader_that_started_it(tmp_path):
    """A grader killed outright (kill -9, the OOM killer) leaves no worker spinning on a student's loop."""
    import subprocess
    import sys
    import time

    import psutil

    path = tmp_path / "spin.py"
    path.write_text("def conv_matrix(kernel, input_shape):\n    while True:\n        pass\n")
    code = f"from grader.grading import grade; grade({str(path)!r}, 'transposed_conv')"
    grader = subprocess.Popen([sys.executable, "-c", code])
    try:
        deadline = time.monotonic() + 60
        workers: list[psutil.Process] = []
        while not workers and time.monotonic() < deadline:
            time.sleep(0.2)
            workers = [
                p
                for p in psutil.Process(grader.pid).children(recursive=True)
                if "grader.sandbox.worker" in " ".join(p.cmdline())
            ]
        assert workers, "the grading never started a worker"
        time.sleep(3)  # let it load the submission and enter the student's endless loop
        grader.kill()
        grader.wait(timeout=10)
        gone, alive = psutil.wait_procs(workers, timeout=10)
        assert not alive, f"workers outlived the grader: {alive}"
    finally:
        grader.kill()
