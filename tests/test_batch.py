"""grader batch: discovery, isolation of bad rows, resume after a kill, the gradebook, the Dask executor.

Everything runs on the NumPy-only ``transposed_conv`` rubric (no TensorFlow), with the load
timeout lowered so that a submission hanging at import costs seconds, not a minute.
"""

from __future__ import annotations

import csv
import io
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import psutil
import pytest
from rubric_tools import anchored

from grader.batch.discovery import discover
from grader.batch.executors import LocalExecutor
from grader.batch.progress import Progress, step
from grader.batch.resume import GradingKey
from grader.batch.runner import BatchConfig, run_batch
from grader.batch.task import BatchOutcome, BatchTask, error_report, grade_one, render_safely
from grader.cli import main
from grader.grading import GradeOptions
from grader.report.writer import read_report
from grader.rubric import load_rubric

REPO = Path(__file__).resolve().parent.parent
REFERENCE = (REPO / "reference" / "transposed_conv.py").read_text()
TEMPLATE = (REPO / "student_template" / "transposed_conv.py").read_text()
SLOW = "\nimport time\n\ntime.sleep(2)\n"  # appended: after the __future__ import (runs with all_cells)
HEADER = [
    "student",
    "status",
    "total",
    "auto",
    "manual_pending",
    "integrity",
    "tc1-example",
    "tc1-random",
    "tc2-example",
    "tc2-random",
    "tc3-example",
    "tc3-random",
    "tc4-example",
    "tc4-random",
]


MANUAL_ITEM = """
[[items]]
id = "tc-why"
exercise = "tc5"
title = "Why the transpose of C"
points = 1
check = "manual"
kind = "manual"
visibility = "public"
timeout_s = 1
"""


def fast_rubric(folder: Path, load_timeout_s: int = 5, manual: bool = False) -> Path:
    """The transposed_conv rubric with a short load timeout and maybe a manual item (rubrics are data)."""
    text = anchored((REPO / "rubrics" / "transposed_conv.toml").read_text())
    text = text.replace("load_timeout_s = 60", f"load_timeout_s = {load_timeout_s}")
    if manual:
        text = text.replace("[budgets.smoke]", MANUAL_ITEM + "\n[budgets.smoke]")
    path = folder / "transposed_conv.toml"
    path.write_text(text)
    return path


def write_class(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return folder


def gradebook_rows(out: Path) -> dict[str, dict[str, str]]:
    rows = csv.DictReader(io.StringIO((out / "gradebook.csv").read_text()))
    return {row["student"]: row for row in rows}


def report_times(out: Path) -> dict[str, int]:
    return {path.stem: path.stat().st_mtime_ns for path in (out / "reports").glob("*.json")}


def wait_for(condition, timeout: float = 90.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out waiting")


# -- discovery -------------------------------------------------------------------------------


def test_discovery_takes_files_and_one_submission_per_student_folder(tmp_path: Path) -> None:
    subs = write_class(
        tmp_path / "subs",
        {
            "alice.py": "",
            "bob.ipynb": "{}",
            "notes.txt": "",
            ".hidden.py": "",
            "carol/transposed_conv.py": "",
            "carol/helper.py": "",  # the assignment's name wins
            "dave/attempt1/work.py": "",  # an LMS export: one level deeper
            "erin/a.py": "",
            "erin/b.py": "",
            "frank/README.md": "",
            "__pycache__/x.py": "",
            "results/reports/alice.md": "",  # the output folder, inside the class folder
        },
    )
    found = discover(subs, "transposed_conv", exclude=subs / "results")
    entries = {entry.student: entry for entry in found.entries}
    assert list(entries) == ["alice", "bob", "carol", "dave", "erin", "frank"]
    assert entries["carol"].path == subs / "carol" / "transposed_conv.py"
    assert entries["dave"].path == subs / "dave" / "attempt1" / "work.py"
    assert entries["erin"].problem == (
        "the folder erin/ holds 2 submissions (a.py, b.py): keep one, or name it transposed_conv.py or "
        "transposed_conv.ipynb"
    )
    assert entries["frank"].problem == "the folder frank/ holds no .py or .ipynb file"
    assert found.ignored == ["notes.txt"]


def test_batch_usage_errors_exit_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # alice.py beside alice.ipynb is no usage error: the one with the contract's functions is graded
    # (tests/test_batch_robustness.py).
    subs = write_class(tmp_path / "subs", {"alice.py": REFERENCE, "alice.ipynb": "{}"})
    (tmp_path / "empty").mkdir()
    out = tmp_path / "out"
    (out / "reports").mkdir(parents=True)
    (out / "reports" / "zoe.json").write_text("{}")
    cases = [
        (["missing"], "grader: error: submissions folder not found: "),
        (["empty"], "grader: error: no submissions in "),
        (["subs", "--workers", "0"], "grader: error: --workers must be at least 1"),
        (["subs", "--executor", "dask"], "grader: error: --executor dask needs --scheduler ADDRESS"),
    ]
    for args, message in cases:
        argv = ["batch", str(tmp_path / args[0]), "--rubric", "transposed_conv", "--out", str(tmp_path / "o")]
        assert main(argv + args[1:]) == 2, args
        err = capsys.readouterr().err
        assert err.startswith(message) and err.count("\n") == 1, err
    (subs / "alice.ipynb").unlink()
    assert main(["batch", str(subs), "--rubric", "transposed_conv", "--out", str(out)]) == 2
    assert capsys.readouterr().err == (
        f"grader: error: {out} already holds 1 report(s): pass --resume to keep the finished ones and grade "
        "the rest, or choose an empty --out folder\n"
    )


# -- one bad row never stops the batch ---------------------------------------------------------


def test_each_submission_affects_only_its_own_row(tmp_path: Path) -> None:
    out = tmp_path / "out"
    subs = write_class(
        tmp_path / "subs",
        {
            "alice.py": REFERENCE,
            "bob.py": TEMPLATE,
            "carol.py": "def conv_matrix(:\n",
            "dave.py": "import os\nos._exit(3)\n",
            "hank.py": "while True:\n    pass\n",
            # Hostile: tries to overwrite a classmate's report and to read a classmate's file.
            "mallory.py": REFERENCE + f"\nopen({str(out / 'reports' / 'alice.json')!r}, 'w').write('{{}}')\n",
            "nina.py": REFERENCE + f"\nprint(open({str(tmp_path / 'subs' / 'bob.py')!r}).read())\n",
            "erin/transposed_conv.py": REFERENCE,
            "erin/helper.py": "",
        },
    )
    # Every statement runs (--all-cells): the hangs, exits and cheats above sit at module level.
    config = BatchConfig(subs, fast_rubric(tmp_path), out, options=GradeOptions(all_cells=True), workers=2)
    lines: list[str] = []
    result = run_batch(config, echo=lines.append)

    assert (result.graded, result.errors, result.timeouts, result.skipped) == (8, 1, 1, 0)
    assert (out / "gradebook.csv").read_text().splitlines()[0].split(",") == HEADER
    rows = gradebook_rows(out)
    assert list(rows) == ["alice", "bob", "carol", "dave", "erin", "hank", "mallory", "nina"]
    summary = {student: (row["status"], row["total"]) for student, row in rows.items()}
    assert summary == {
        "alice": ("graded", "4"),
        "bob": ("graded", "0"),
        "carol": ("error", "0"),
        "dave": ("graded", "0"),
        "erin": ("graded", "4"),
        "hank": ("timeout", "0"),
        "mallory": ("graded", "4"),
        "nina": ("graded", "4"),
    }
    assert read_report(out / "reports" / "alice.json").score == 4.0  # mallory could not overwrite it
    for student in ("mallory", "nina"):
        errors = read_report(out / "reports" / f"{student}.json").load_errors
        assert errors and "is not allowed while grading" in errors[0]["message"], student
    hank = read_report(out / "reports" / "hank.json")
    assert hank.load_error.startswith("timed out after 5 s")
    assert "loading your submission timed out after 5 s" in hank.items[0].feedback
    for student in rows:
        assert (out / "gradescope" / student / "results.json").is_file()
        assert (out / "reports" / f"{student}.md").is_file()
        assert (out / "reports" / f"{student}.html").is_file()
        assert f'<a href="reports/{student}.html">{student}</a>' in (out / "index.html").read_text()
    assert {"similarity_csv", "similarity_html", "index.html"} <= set(result.files)
    assert (
        "grading 8 submission(s), 2 at a time (the first results take longest: each worker starts up first)"
        in lines
    )
    summary_md = (out / "summary.md").read_text()
    assert "| carol | error | syntax error in carol.py at line 1: invalid syntax |" in summary_md
    assert "| hank | timeout | timed out after 5 s |" in summary_md
    assert any(line.startswith("[8/8, 2 failed, ETA -] ") for line in lines), lines

    # Re-run with --resume after bob fixed his file: only bob is graded again.
    before = report_times(out)
    (subs / "bob.py").write_text(REFERENCE)
    lines.clear()
    result = run_batch(replace(config, resume=True), echo=lines.append)
    assert (result.graded, result.skipped) == (1, 7)
    assert "bob: regrading (the submission changed)" in lines
    assert "alice: skipped (already graded: same submission, rubric and grader version)" in lines
    after = report_times(out)
    assert after["bob"] != before["bob"]
    assert {s: t for s, t in after.items() if s != "bob"} == {s: t for s, t in before.items() if s != "bob"}
    assert gradebook_rows(out)["bob"]["total"] == "4"


class ExitOnUnpickle:
    """Kills the grading process that receives it, as a grader crash would."""

    def __reduce__(self):
        return os._exit, (7,)


def test_a_grading_process_that_dies_or_overruns_costs_only_its_own_row(tmp_path: Path) -> None:
    rubric = load_rubric(fast_rubric(tmp_path))
    good = BatchTask("alice", rubric, GradeOptions(all_cells=True), "alice.py", REFERENCE.encode())
    crash = replace(good, student="crash", carry={"x": ExitOnUnpickle()})
    slow = replace(good, student="slow", source=(REFERENCE + SLOW).encode(), watchdog_s=1.0)
    outcomes = {outcome.student: outcome for outcome in LocalExecutor(workers=1).run([crash, slow, good])}

    crashed = outcomes["crash"]
    assert (crashed.status, crashed.message) == ("error", "the grading process died (exit code 7)")
    assert (outcomes["slow"].status, outcomes["slow"].message) == (
        "timeout",
        "grading took longer than 1 s and was stopped",
    )
    assert (outcomes["alice"].status, outcomes["alice"].score) == ("graded", 4.0)
    assert outcomes["crash"].internal and not outcomes["alice"].internal
    assert "reports/crash.json" in outcomes["crash"].files


def test_a_grader_bug_becomes_an_error_row_that_resume_grades_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import grader.grading

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(grader.grading, "grade", broken)
    rubric = load_rubric(fast_rubric(tmp_path))
    outcome = grade_one(BatchTask("alice", rubric, GradeOptions(), "subs/alice.py", REFERENCE.encode()))
    assert (outcome.status, outcome.internal) == ("error", True)
    assert outcome.message == "internal error of the grader (RuntimeError: boom)"
    (tmp_path / "r.json").write_bytes(outcome.files["reports/alice.json"])
    report = read_report(tmp_path / "r.json")
    key = GradingKey(rubric.sha256, report.grader_version, report.budget, report.data["fingerprint"])
    assert key.why_regrade(report, report.submission_sha256) == "the grader failed on it last time"


def test_figures_that_cannot_be_drawn_cost_the_row_only_its_figures(tmp_path: Path) -> None:
    rubric = load_rubric(fast_rubric(tmp_path))
    task = BatchTask("alice", rubric, GradeOptions(), "subs/alice.py", REFERENCE.encode())
    raw = {"probes": None, "expected": {}}  # not what grader.report.figures can draw from
    report = replace(error_report(task, "a stand-in for a graded report"), raw=raw)
    files = render_safely(report, task)
    assert {"reports/alice.json", "reports/alice.md", "gradescope/alice/results.json"} <= set(files)
    assert not any("figures/" in name for name in files)
    assert report.raw is raw  # the report itself is not changed to skip its figures
    (tmp_path / "r.json").write_bytes(files["reports/alice.json"])
    written = read_report(tmp_path / "r.json")
    assert written.raw is None and '"raw":' not in files["reports/alice.json"].decode()
    assert written.warnings[-1].startswith("the report's figures could not be drawn:\nTraceback")


def test_a_regraded_submission_keeps_its_instructor_scores(tmp_path: Path) -> None:
    """A new rubric or grader version regrades an unchanged file; the merged manual scores stay."""
    rubric = load_rubric(fast_rubric(tmp_path, manual=True))
    kept = {"tc-why": {"score": 0.5, "status": "partial", "comment": "half right", "max_score": 1.0}}
    task = BatchTask("alice", rubric, GradeOptions(), "alice.py", REFERENCE.encode(), carry=kept)
    outcome = grade_one(task)
    (tmp_path / "alice.json").write_bytes(outcome.files["reports/alice.json"])
    report = read_report(tmp_path / "alice.json")
    item = report.item("tc-why")
    assert (item.score, item.status, item.comment) == (0.5, "partial", "half right")
    assert (report.score, report.manual_pending) == (4.5, 0.0)


# -- kill and resume -----------------------------------------------------------------------------


@pytest.mark.parametrize("stop", [signal.SIGKILL, signal.SIGINT], ids=["SIGKILL", "SIGINT"])
def test_a_killed_batch_resumes_without_losing_or_regrading_anything(
    tmp_path: Path, stop: signal.Signals, capsys: pytest.CaptureFixture[str]
) -> None:
    subs = write_class(
        tmp_path / "subs",
        {
            "a.py": REFERENCE,
            "b.py": REFERENCE + SLOW,
            "c.py": TEMPLATE,
            "d.py": "def f(:\n",
            "e.py": REFERENCE,
            "f.py": TEMPLATE,
        },
    )
    out = tmp_path / "out"
    rubric = fast_rubric(tmp_path, load_timeout_s=20)
    args = ["batch", str(subs), "--rubric", str(rubric), "--out", str(out), "--workers", "1", "--all-cells"]
    batch = subprocess.Popen(
        [sys.executable, "-m", "grader", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # Ctrl-C as in a terminal: a job started in the background (`cmd &`) inherits SIGINT ignored.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        wait_for(lambda: list((out / "reports").glob("*.json")))
        family = psutil.Process(batch.pid).children(recursive=True)  # the grading process and its sandbox
        batch.send_signal(stop)
        stdout, stderr = batch.communicate(timeout=60)
    finally:
        if batch.poll() is None:
            batch.kill()
    if stop == signal.SIGINT:
        assert batch.returncode == 130
        assert "interrupted: 1 of 6 graded in this run" in stdout and "--resume" in stdout
    else:
        assert batch.returncode == -signal.SIGKILL
    _, alive = psutil.wait_procs(family, timeout=30)
    assert not alive, f"processes outlived the batch: {alive}"
    done = report_times(out)
    assert 1 <= len(done) < 6 and "a" in done

    assert main([*args, "--resume", "--workers", "2"]) == 0
    printed = capsys.readouterr().out
    for student in done:
        assert f"{student}: skipped (already graded: same submission, rubric and grader version)" in printed
    assert {s: t for s, t in report_times(out).items() if s in done} == done  # not rewritten
    reports = {student: read_report(out / "reports" / f"{student}.json") for student in "abcdef"}
    assert {s: (r.status, r.score) for s, r in reports.items()} == {
        "a": ("graded", 4.0),
        "b": ("graded", 4.0),
        "c": ("graded", 0.0),
        "d": ("error", 0.0),
        "e": ("graded", 4.0),
        "f": ("graded", 0.0),
    }
    assert list(gradebook_rows(out)) == list("abcdef")
    assert not list(out.rglob("*.tmp"))


# -- Dask -----------------------------------------------------------------------------------------


def test_the_dask_executor_grades_on_a_cluster(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    distributed = pytest.importorskip("distributed")
    subs = write_class(tmp_path / "subs", {"alice.py": REFERENCE, "bob.py": TEMPLATE, "carol.py": "def (:\n"})
    out = tmp_path / "out"
    # One worker process, two threads: two submissions at once in one process.
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, dashboard_address=None) as cluster:
        argv = [
            "batch",
            str(subs),
            "--rubric",
            str(fast_rubric(tmp_path)),
            "--out",
            str(out),
            "--executor",
            "dask",
            "--scheduler",
            cluster.scheduler_address,
        ]
        assert main(argv) == 0
    assert "graded 3 (1 error, 0 timeout), skipped 0" in capsys.readouterr().out
    rows = gradebook_rows(out)
    assert {s: (r["status"], r["total"]) for s, r in rows.items()} == {
        "alice": ("graded", "4"),
        "bob": ("graded", "0"),
        "carol": ("error", "0"),
    }
    alice = read_report(out / "reports" / "alice.json")
    assert alice.submission == str(subs / "alice.py")
    assert (out / "gradescope" / "alice" / "results.json").is_file()


def test_a_submission_for_another_assignment_is_named_in_the_progress_line_and_summary(
    tmp_path: Path,
) -> None:
    subs = write_class(
        tmp_path / "subs", {"alice.py": REFERENCE, "sam.py": (REPO / "reference" / "sheet10.py").read_text()}
    )
    out = tmp_path / "out"
    lines: list[str] = []
    run_batch(BatchConfig(subs, fast_rubric(tmp_path, load_timeout_s=60), out, workers=1), echo=lines.append)
    message = (
        "this looks like a `sheet10` submission (defines preprocess, build_dense_autoencoder, "
        "...), not `transposed_conv`: wrong file or wrong --rubric?"
    )
    sam = [line for line in lines if "] sam: " in line]
    assert len(sam) == 1 and " sam: 0/4 wrong-assignment (" in sam[0] and sam[0].endswith(f"s): {message}")
    assert {s: row["status"] for s, row in gradebook_rows(out).items()} == {
        "alice": "graded",
        "sam": "wrong-assignment",
    }
    summary = (out / "summary.md").read_text()
    assert "2 submissions: 1 graded, 1 wrong-assignment." in summary
    shown = message.replace("`", "\\`")  # student text is never Markdown: the backticks stay backticks
    assert f"| sam | wrong-assignment | {shown} |" in summary


def test_resume_regrades_when_all_cells_changes(tmp_path: Path) -> None:
    """--all-cells changes what runs, so reports graded without it are not kept by --resume with it."""
    subs = write_class(tmp_path / "subs", {"alice.py": REFERENCE, "carol.py": "def conv_matrix(:\n"})
    out = tmp_path / "out"
    config = BatchConfig(subs, fast_rubric(tmp_path), out, workers=1)
    run_batch(config, echo=lambda line: None)
    lines: list[str] = []
    run_batch(replace(config, resume=True), echo=lines.append)
    assert "alice: skipped (already graded: same submission, rubric and grader version)" in lines
    assert "carol: skipped (already graded: same submission, rubric and grader version)" in lines
    lines.clear()
    run_batch(replace(config, resume=True, options=GradeOptions(all_cells=True)), echo=lines.append)
    assert "alice: regrading (--all-cells changed)" in lines
    assert "carol: regrading (--all-cells changed)" in lines


# -- progress: never silent, an ETA from the measured time per submission ---------------------------


def _outcome(seconds: float) -> BatchOutcome:
    return BatchOutcome("alice", "graded", 1.0, 1.0, seconds, "", {})


def test_the_eta_is_the_measured_time_per_submission_shared_by_the_workers() -> None:
    lines: list[str] = []
    progress = Progress(5, lines.append, workers=2)
    try:
        assert progress.eta() == "-"  # nothing measured yet: no guess
        progress.finished(_outcome(60.0))
        progress.finished(_outcome(120.0))
        assert progress.eta() == "00:02:15"  # 3 left x 90 s each, 2 at a time
    finally:
        progress.close()


def test_a_long_step_says_what_it_does_while_it_runs_and_how_long_it_took() -> None:
    lines: list[str] = []
    with step(lines.append, "preparing the reference artifacts", every=0.05):
        time.sleep(0.2)
    assert lines[0] == "preparing the reference artifacts..."
    assert any(line.startswith("  still preparing the reference artifacts (") for line in lines)
    with step(lines.append, "a quick step", every=10):
        pass
    assert lines[-1] == "a quick step..."  # under 2 s: no "done in"


def test_an_all_skipped_resume_gives_no_rate(tmp_path: Path, capsys) -> None:
    subs = write_class(tmp_path / "subs", {"alice.py": REFERENCE})
    out = tmp_path / "out"
    rubric = str(fast_rubric(tmp_path))
    assert main(["batch", str(subs), "--rubric", rubric, "--out", str(out)]) == 0
    first = capsys.readouterr().out
    assert "similarity.csv" in first and "similarity.html" in first and "index.html" in first
    assert main(["batch", str(subs), "--rubric", rubric, "--out", str(out), "--resume"]) == 0
    last = capsys.readouterr().out
    assert "skipped 1 (already graded) in" in last and "per hour" not in last
