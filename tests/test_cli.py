"""The command line: exit codes, reports written in every case, friendly output.

Issue 3: `grader grade` on the untouched template, on a notebook with a syntax error and
on a missing file each gives the documented behaviour (exit code 0 / 2 / 2, a report).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from grader.cli import check_summary, main

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "grader", *args], capture_output=True, text=True, cwd=cwd, timeout=600
    )


def read_json(path: Path) -> dict:
    return json.loads(path.read_text())


def test_grading_the_untouched_template_scores_zero_and_says_what_is_not_implemented(tmp_path):
    result = run("grade", str(ROOT / "student_template" / "transposed_conv.py"), "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "not implemented yet: conv_matrix" in result.stdout
    report = read_json(tmp_path / "transposed_conv.json")
    assert report["auto_score"] == 0 and report["auto_max"] == 4
    assert {item["status"] for item in report["items"]} == {"failed"}
    assert (tmp_path / "transposed_conv.md").exists()


def test_the_autoencoders_template_scores_zero_without_crashing(tmp_path):
    """Every item of the untouched template fails cleanly; items that need training say why why skipped."""
    code = main(
        [
            "grade",
            str(ROOT / "student_template" / "autoencoders.py"),
            "--out",
            str(tmp_path),
            "--budget",
            "smoke",
        ]
    )
    assert code == 0
    report = read_json(tmp_path / "autoencoders.json")
    auto = [item for item in report["items"] if item["kind"] == "auto"]
    assert report["auto_score"] == 0
    assert {item["status"] for item in auto} <= {"failed", "skipped"}
    by_id = {item["id"]: item for item in auto}
    assert by_id["1-layer-types"]["feedback"] == "not implemented yet: build_encoder"
    assert by_id["4a-accuracy"]["status"] == "skipped"
    assert "training your autoencoder failed" in by_id["4a-accuracy"]["feedback"]
    assert "no answer found for 2b" in {item["id"]: item for item in report["items"]}["2b"]["feedback"]


def test_a_notebook_cell_with_a_syntax_error_is_skipped_and_named_in_the_feedback(tmp_path):
    notebook = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("# My answers"),
            nbformat.v4.new_code_cell("import numpy as np"),
            nbformat.v4.new_code_cell("def conv_matrix(kernel, input_shape):\n    return np.zeros((4, 16)\n"),
        ]
    )
    path = tmp_path / "broken.ipynb"
    nbformat.write(notebook, path)
    result = run("grade", str(path), "--rubric", "transposed_conv", "--out", str(tmp_path / "out"))
    assert "Traceback" not in result.stderr
    report = read_json(tmp_path / "out" / "broken.json")
    assert report["status"] == "graded"
    [drop] = report["debug"]["dropped"]
    assert drop["where"] == "broken.ipynb, cell 3"
    assert drop["reason"].startswith("syntax error in broken.ipynb, cell 3, line 2")
    feedback = report["items"][0]["feedback"]
    assert (
        "sets it only in code the grader does not run (broken.ipynb, cell 3: syntax error in broken.ipynb"
        in feedback
    )


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("pipe.py", None, "pipe.py is not a regular file (a pipe, a socket or a device)"),
        (
            "r.ipynb",
            "r",
            "r.ipynb is a notebook in r (its kernel's language); the grader reads Python notebooks",
        ),
        ("big.ipynb", "big", "the code of big.ipynb is larger than 20 MB"),
    ],
)
def test_files_the_grader_cannot_grade_exit_2_with_one_line(tmp_path, name, content, message):
    import os

    path = tmp_path / name
    if content is None:
        os.mkfifo(path)  # reading it would block forever
    elif content == "r":
        notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x <- c(1, 2)\nprint(x)")])
        notebook.metadata["kernelspec"] = {"name": "ir", "display_name": "R", "language": "R"}
        nbformat.write(notebook, path)
    else:
        nbformat.write(
            nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("X = 1\n" * 3_500_000)]), path
        )
    result = run("grade", str(path), "--rubric", "transposed_conv", "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    assert f"grader: error: {message}" in result.stderr.splitlines()
    assert "Traceback" not in result.stderr


def test_an_unreadable_file_exits_2_with_one_line(tmp_path, capsys, monkeypatch):
    path = tmp_path / "locked.py"
    path.write_text("def f():\n    return 1\n")

    def refuse(*args, **kwargs):  # what chmod 000 does (root reads every file, so it is simulated)
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("grader.submission.open", refuse, raising=False)
    assert main(["grade", str(path), "--rubric", "transposed_conv", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "grader: error: cannot read locked.py: Permission denied" in err
    assert "Traceback" not in err


def test_a_missing_file_exits_2_with_a_one_line_error_and_a_report(tmp_path):
    result = run("grade", str(tmp_path / "nothing.py"), "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    assert f"file not found: {tmp_path / 'nothing.py'}" in result.stderr
    assert "Traceback" not in result.stderr
    report = read_json(tmp_path / "out" / "nothing.json")
    assert report["status"] == "error" and "file not found" in report["load_error"]


def test_a_missing_file_with_a_rubric_lists_every_item_as_an_error(tmp_path):
    code = main(
        ["grade", str(tmp_path / "gone.ipynb"), "--rubric", "transposed_conv", "--out", str(tmp_path)]
    )
    assert code == 2
    report = read_json(tmp_path / "gone.json")
    assert len(report["items"]) == 8 and all(i["status"] == "error" for i in report["items"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["grade", "x.py", "--rubric", "nope"], "unknown rubric 'nope'"),
        (["grade", "x.py", "--format", "pdf"], "unknown format 'pdf'"),
        (["grade", "x.py", "--rubric", "transposed_conv", "--budget", "huge"], "no budget named 'huge'"),
        (
            ["grade", "x.py", "--rubric", "transposed_conv", "--data", "/no/such/mnist.npz"],
            "MNIST file not found",
        ),
        (["calibrate", "--rubric", "transposed_conv", "--seeds", "0"], "--seeds must be at least 1"),
    ],
)
def test_usage_errors_exit_2_with_one_line(tmp_path, capsys, args, message):
    (tmp_path / "x.py").write_text("def conv_matrix(kernel, input_shape):\n    return None\n")
    args = [str(tmp_path / "x.py") if a == "x.py" else a for a in args]
    assert main(args + ["--out", str(tmp_path / "out")] if args[0] == "grade" else args) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_the_rubric_is_inferred_from_the_names_a_submission_defines(tmp_path):
    code = main(
        [
            "grade",
            str(ROOT / "reference" / "transposed_conv.py"),
            "--out",
            str(tmp_path),
            "--format",
            "json,gradescope",
        ]
    )
    assert code == 0
    report = read_json(tmp_path / "transposed_conv.json")
    assert report["assignment"] == "transposed_conv" and report["auto_score"] == 4
    results = read_json(tmp_path / "results.json")
    assert results["score"] == 4 and len(results["tests"]) == 8
    assert {t["visibility"] for t in results["tests"]} == {"visible", "after_published"}


def test_an_ambiguous_submission_asks_for_the_rubric(tmp_path, capsys):
    path = tmp_path / "empty_module.py"
    path.write_text("x = 1\n")
    assert main(["grade", str(path), "--out", str(tmp_path)]) == 2
    assert "cannot tell which assignment empty_module.py is for; pass --rubric" in capsys.readouterr().err


def test_list_rubrics_shows_points(capsys):
    assert main(["list-rubrics"]) == 0
    out = capsys.readouterr().out
    assert "autoencoders" in out and "25.5 points" in out and "transposed_conv" in out


def test_the_self_check_lists_what_to_fix_first(tmp_path, capsys):
    source = (ROOT / "reference" / "transposed_conv.py").read_text()
    broken = source.replace(
        "    return (conv_matrix(kernel, image.shape) @ image.ravel()).reshape(out_shape)",
        "    raise NotImplementedError('conv2d_as_matmul')",
    )
    path = tmp_path / "mine.py"
    path.write_text(broken)
    assert main(["check", str(path)]) == 0
    out = capsys.readouterr().out
    assert "public items only" in out
    # Issue 15: a stub is "not started", not a fix; tc4's own function calls that stub, so it is a fix.
    assert "Not started yet: tc2\n" in out
    assert "Fix these first:\n  1. tc4-example" in out
    assert "not implemented yet: conv2d_as_matmul (which upsample_then_conv calls)" in out
    assert "-random" not in out, "hidden items are not shown in the self-check"


def test_the_self_check_congratulates_a_complete_submission():
    from grader.grading import grade

    report = grade(ROOT / "reference" / "transposed_conv.py", "transposed_conv", public_only=True)
    assert "All 4 public automatic items pass." in check_summary(report)


def _script_that_loads_data_at_top_level(tmp_path: Path) -> Path:
    """The transposed_conv reference with a data-loading line that fails outside the student's folder."""
    source = (ROOT / "reference" / "transposed_conv.py").read_text()
    path = tmp_path / "exported.py"
    path.write_text(
        source.replace("\n\ndef conv_matrix", '\n\nimages = np.load("my_images.npy")\n\n\ndef conv_matrix', 1)
    )
    return path


def test_a_py_file_runs_definitions_only_unless_all_cells(tmp_path):
    path = _script_that_loads_data_at_top_level(tmp_path)
    assert main(["grade", str(path), "--out", str(tmp_path / "defs"), "--format", "json"]) == 0
    report = read_json(tmp_path / "defs" / "exported.json")
    assert report["auto_score"] == 4
    assert [d["code"] for d in report["debug"]["dropped"]] == ['images = np.load("my_images.npy")']

    assert main(["grade", str(path), "--out", str(tmp_path / "all"), "--format", "json", "--all-cells"]) == 0
    report = read_json(tmp_path / "all" / "exported.json")
    assert report["auto_score"] == 0 and report["debug"]["dropped"] == []
    assert (
        "loading your submission failed (the code in exported.py raised FileNotFoundError"
        in (report["items"][0]["feedback"])
    )


def test_all_cells_reaches_check_and_batch(tmp_path, capsys):
    from grader.cli import _options, build_parser

    path = _script_that_loads_data_at_top_level(tmp_path)
    assert main(["check", str(path), "--rubric", "transposed_conv", "--all-cells"]) == 0
    assert "FileNotFoundError" in capsys.readouterr().out
    args = build_parser().parse_args(["batch", str(tmp_path), "--rubric", "transposed_conv", "--out", "o"])
    assert _options(args).all_cells is False
    args = build_parser().parse_args(
        ["batch", str(tmp_path), "--rubric", "transposed_conv", "--out", "o", "--all-cells"]
    )
    assert _options(args).all_cells is True


def test_check_one_exercise_without_training_trains_no_model(monkeypatch, capsys):
    """`grader check --exercise 3a` grades the k-NN function alone: no stage of the student's is trained."""
    from grader.session import ProbeSession

    def no_training(self, stage, item, deadline):
        raise AssertionError(f"trained {stage.name} for item {item}")

    monkeypatch.setattr(ProbeSession, "_train", no_training)
    code = main(["check", str(ROOT / "reference" / "autoencoders.py"), "--exercise", "3a", "--quick"])
    out = capsys.readouterr().out
    assert code == 0
    assert "[ok  ] 3a-knn-public" in out and "All 1 public automatic items pass." in out
    assert "1-training" not in out and "4a" not in out and "3a-knn-hidden" not in out


def test_check_an_unstarted_exercise_says_not_started_and_nothing_to_fix(capsys):
    code = main(
        ["check", str(ROOT / "student_template" / "autoencoders.py"), "-e", "2a", "-e", "3", "--quick"]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "Not started yet: 2a, 3a, 3b, 3c" in out and "Fix these first" not in out
    assert "Nothing to check yet: start with the first exercise." in out


def test_check_an_unknown_exercise_is_a_usage_error(capsys):
    code = main(["check", str(ROOT / "student_template" / "autoencoders.py"), "-e", "9"])
    assert code == 2
    assert "there is no exercise '9' in autoencoders" in capsys.readouterr().err


def test_a_second_submission_with_the_same_name_does_not_overwrite_the_first_report(tmp_path, capsys):
    """reference/x.py then student_template/x.py both name OUT/x.json: the second is refused, and the
    message says whose report is there and how to keep both."""
    out = tmp_path / "out"
    assert main(["grade", str(ROOT / "reference" / "transposed_conv.py"), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"reports: {out / 'transposed_conv.md'}, {out / 'transposed_conv.json'}" in printed
    template = ROOT / "student_template" / "transposed_conv.py"
    assert main(["grade", str(template), "--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert (
        f"{out / 'transposed_conv.json'} is the report of {ROOT / 'reference' / 'transposed_conv.py'}"
        in error
    )
    assert f"--out {tmp_path / 'out-py'}" in error
    assert read_json(out / "transposed_conv.json")["auto_score"] == 4
    # the same file again replaces its own report
    assert main(["grade", str(ROOT / "reference" / "transposed_conv.py"), "--out", str(out)]) == 0


def test_regrading_removes_the_last_gradings_figures(tmp_path):
    from grader.grading import grade
    from grader.report.writer import Layout, write_report

    report = grade(ROOT / "reference" / "transposed_conv.py", "transposed_conv")
    stale = tmp_path / "figures" / "mine" / "latent_space.png"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"old")
    write_report(report, Layout(tmp_path), "mine", ["md", "json"])
    assert not stale.exists()


def test_the_table_uses_the_terminal_width_and_lost_points_are_told_in_full(tmp_path, monkeypatch, capsys):
    source = (ROOT / "reference" / "transposed_conv.py").read_text()
    path = tmp_path / "mine.py"
    path.write_text(source.replace("def conv_matrix(kernel", "def conv_matrix_old(kernel"))
    monkeypatch.setenv("COLUMNS", "250")
    assert main(["grade", str(path), "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    table, _, below = out.partition("What lost points:")
    assert "-" * 250 in table
    items = read_json(tmp_path / "out" / "mine.json")["items"]
    lost = [i for i in items if i["score"] < i["max_score"]]
    assert lost
    for item in lost:
        assert f"  {item['id']} ({item['score']:g}/{item['max_score']:g}, {item['status']}):" in below
        for line in item["feedback"].splitlines():
            assert f"    {line}" in below


def test_render_writes_html_and_markdown_again_from_the_json_alone(tmp_path, capsys):
    out = tmp_path / "out"
    assert (
        main(["grade", str(ROOT / "reference" / "transposed_conv.py"), "--out", str(out), "--format", "json"])
        == 0
    )
    capsys.readouterr()
    assert main(["render", str(out / "transposed_conv.json"), "--format", "html,md"]) == 0
    assert capsys.readouterr().out.strip() == (
        f"wrote: {out / 'transposed_conv.html'}, {out / 'transposed_conv.md'}"
    )
    html = (out / "transposed_conv.html").read_text()
    assert "<h1>transposed_conv report: transposed_conv.py</h1>" in html
    assert f"Submission <code>{ROOT / 'reference' / 'transposed_conv.py'}</code> graded with grader" in html
    assert '<td class="score">0.5 / 0.5</td>' in html and "td.score,th.score{white-space:nowrap" in html
    assert (
        (out / "transposed_conv.md").read_text().startswith("# transposed_conv report: transposed_conv.py\n")
    )
    assert main(["render", str(out / "nothing.json")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_tensorflows_own_warnings_are_not_shown_as_the_students_output():
    from grader.report.output import student_output

    printed = "\n".join(
        [
            "epoch 1 done",
            "WARNING:tensorflow:AutoGraph could not transform <function f at 0x7f> and will run it as-is.",
            "Please report this to the TensorFlow team. When filing the bug, set the verbosity to 10",
            "Cause: 'NoneType' object has no attribute '__dict__'",
            "To silence this warning, decorate the function with @tf.autograph.experimental.do_not_convert",
            "WARNING:tensorflow:5 out of the last 41 calls to <function g> triggered tf.function retracing.",
            "I0000 00:00:1733221.123456   42 cpu_feature_guard.cc:210] This TensorFlow binary is optimized",
            "my loss is 0.1",
        ]
    )
    assert student_output(printed) == "epoch 1 done\nmy loss is 0.1"


def test_check_on_the_untouched_hand_out_says_every_exercise_is_not_started(capsys):
    """Issue 24: Exercises 1 and 6a (and 6c, which waits on 6a's VAE) were missing from the list and
    6a's stubs were "fix these first"."""
    code = main(["check", str(ROOT / "student_template" / "autoencoders.ipynb"), "--quick"])
    out = capsys.readouterr().out
    assert code == 0
    assert "Not started yet: 1, 2a, 3a, 3b, 3c, 4a, 4b, 5a, 6a, 6c\n" in out
    assert "Fix these first" not in out and "Nothing to check yet: start with the first exercise." in out
