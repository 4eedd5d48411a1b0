"""gradebook.csv, summary.md, summary.png and merge-manual, on reports written to disk (no grading)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from grader.batch import gradebook
from grader.batch.errors import BatchError
from grader.batch.gradebook import common_messages, rebuild
from grader.batch.manual import MergeError, merge_manual
from grader.batch.output import OutputFolder
from grader.cli import main
from grader.report.model import ItemResult, Report
from grader.report.writer import Layout, read_report, write_report

# (id, kind, max points)
ITEMS = [("shape", "auto", 1.0), ("train", "auto", 2.0), ("2b", "manual", 0.5), ("2c", "manual", 1.0)]


def make_report(student: str, outcomes: dict[str, tuple[str, float, str]], status: str = "graded") -> Report:
    """A report with ITEMS; ``outcomes`` maps an automatic item id to (status, score, feedback)."""
    items = []
    for item_id, kind, points in ITEMS:
        if kind == "manual":
            items.append(
                ItemResult(
                    item_id,
                    item_id,
                    f"answer {item_id}",
                    0.0,
                    points,
                    "manual",
                    "graded by your instructor.",
                    "public",
                    kind="manual",
                    answer="because",
                )
            )
        else:
            state, score, text = outcomes.get(item_id, ("passed", points, "ok"))
            items.append(ItemResult(item_id, "1", f"item {item_id}", score, points, state, text, "public"))
    items.append(ItemResult("integrity", "-", "Integrity", 0, 0, "manual", "flag", "hidden", kind="manual"))
    report = Report(
        assignment="toy",
        submission=f"subs/{student}.py",
        submission_sha256="a" * 64,
        score=0,
        max_score=0,
        auto_score=0,
        auto_max=0,
        manual_pending=0,
        grader_version="0.1.0",
        rubric_sha256="b" * 64,
        budget={"name": "default", "seed": 0},
        data={"name": "default", "fingerprint": "f"},
        seed=0,
        seconds=1.0,
        items=items,
        status=status,
        student=student,
        load_error="syntax error in x.py at line 3" if status == "error" else "",
    )
    report.recompute_totals()
    return report


@pytest.fixture
def out(tmp_path: Path) -> Path:
    """A batch output folder with four students' reports (json, md, gradescope) and the class files."""
    folder = tmp_path / "out"
    unreadable = ("error", 0.0, "your submission could not be read")
    reports = {
        "alice": make_report("alice", {}),
        "bob": make_report(
            "bob",
            {
                "shape": ("failed", 0.0, "encoder output is (N, 2, 2, 1); expected (N, 1, 2, 1)"),
                "train": ("partial", 1.0, "test MSE 0.0871 is above the threshold 0.06"),
            },
        ),
        "carol": make_report(
            "carol",
            {
                "shape": ("failed", 0.0, "encoder output is (N, 4, 4, 1); expected (N, 1, 2, 1)"),
                "train": ("partial", 1.0, "test MSE 0.0912 is above the threshold 0.06"),
            },
        ),
        "dave": make_report("dave", {"shape": unreadable, "train": unreadable}, status="error"),
    }
    for student, report in reports.items():
        write_report(report, Layout(folder, batch=True), student, ("md", "gradescope", "json"))
    rebuild(folder)
    return folder


def read_gradebook(folder: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO((folder / "gradebook.csv").read_text())))


def contents(folder: Path) -> dict[Path, bytes]:
    """Every file's bytes, except the batch lock (merge-manual takes it)."""
    files = [path for path in folder.rglob("*") if path.is_file() and path.name != ".batch.lock"]
    return {path: path.read_bytes() for path in files}


def write_csv(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# -- gradebook.csv and summaries ----------------------------------------------------------


def test_gradebook_has_one_row_per_student_and_a_column_per_item(out: Path) -> None:
    header = (out / "gradebook.csv").read_text().splitlines()[0].split(",")
    assert header == [
        "student",
        "status",
        "total",
        "auto",
        "manual_pending",
        "integrity",
        "shape",
        "train",
        "2b",
        "2c",
    ]
    rows = {row["student"]: row for row in read_gradebook(out)}
    assert list(rows) == ["alice", "bob", "carol", "dave"]
    assert rows["alice"] | {} == {
        "student": "alice",
        "status": "graded",
        "total": "3",
        "auto": "3",
        "manual_pending": "1.5",
        "integrity": "",
        "shape": "1",
        "train": "2",
        "2b": "",
        "2c": "",
    }
    assert (rows["bob"]["total"], rows["bob"]["shape"], rows["bob"]["train"]) == ("1", "0", "1")
    assert rows["dave"]["status"] == "error"


def test_summary_gives_item_statistics_common_failures_and_errored_submissions(out: Path) -> None:
    summary = (out / "summary.md").read_text()
    assert "4 submissions: 1 error, 3 graded." in summary
    # train: scores 2, 1, 1, 0 -> mean 1.00, median 1; one passed, two partial, one error.
    assert "| train | auto | 2 | 1.00 | 1 | 1 | 2 | 0 | 1 | 0 | 0 | 0 |" in summary
    assert "| 2b | manual | 0.5 | - | - | 0 | 0 | 0 | 0 | 0 | 0 | 4 |" in summary
    assert "### shape: 3 of 4 did not pass" in summary
    # Two wordings that differ only in numbers are one message.
    assert "- 2 x: encoder output is (N, 2, 2, 1); expected (N, 1, 2, 1)" in summary
    assert "- 2 x: test MSE 0.0871 is above the threshold 0.06" in summary
    assert "| dave | error | syntax error in x.py at line 3 |" in summary
    assert (out / "summary.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_common_messages_groups_by_wording_with_numbers_masked() -> None:
    ranked = common_messages(["loss 0.5 too high", "loss 0.7 too high", "loss 0.5 too high\nmore", "no f"])
    assert ranked == [(3, "loss 0.5 too high"), (1, "no f")]


def test_the_gradebook_is_rebuilt_from_the_reports_on_disk(out: Path) -> None:
    before = (out / "gradebook.csv").read_bytes()
    (out / "gradebook.csv").unlink()
    rebuild(out)
    assert (out / "gradebook.csv").read_bytes() == before


def test_reports_of_two_assignments_in_one_folder_are_refused(out: Path) -> None:
    other = make_report("erin", {})
    other.assignment = "other"
    write_report(other, Layout(out, batch=True), "erin", ("json",))
    with pytest.raises(gradebook.GradebookError, match=r"several assignments \(other, toy\)"):
        rebuild(out)


def test_the_manual_template_lists_every_pending_manual_item(out: Path) -> None:
    rows = list(csv.reader(io.StringIO((out / "manual_scores_template.csv").read_text())))
    assert rows[0] == ["student", "item", "points", "comment"]
    assert rows[1:3] == [["alice", "2b", "", ""], ["alice", "2c", "", ""]]
    assert len(rows) == 1 + 4 * 2  # no integrity rows


# -- merge-manual ----------------------------------------------------------------------------


def test_merge_manual_updates_json_markdown_gradescope_and_gradebook(out: Path, tmp_path: Path) -> None:
    scores = write_csv(
        tmp_path / "scores.csv",
        "\n".join(
            [
                "student,item,points,comment",
                "alice,2b,0.5,clear",
                'alice,2c,0.25,"half right, see 2b"',
                "bob,2b,0,",
                "bob,2c,,",  # left empty: stays pending
            ]
        )
        + "\n",
    )
    result = merge_manual(out, scores)
    assert (result.merged, result.students, result.left_empty) == (3, 2, 1)

    alice = read_report(out / "reports" / "alice.json")
    item = alice.item("2b")
    assert (item.score, item.status, item.comment) == (0.5, "passed", "clear")
    assert (alice.item("2c").score, alice.item("2c").status) == (0.25, "partial")
    assert (alice.score, alice.manual_pending) == (3.75, 0.0)
    assert read_report(out / "reports" / "bob.json").item("2b").status == "failed"
    assert read_report(out / "reports" / "bob.json").item("2c").status == "manual"  # left empty: pending

    markdown = (out / "reports" / "alice.md").read_text()
    assert "### 2c: answer 2c (0.25 / 1)" in markdown and "Instructor: half right, see 2b" in markdown
    gradescope = json.loads((out / "gradescope" / "alice" / "results.json").read_text())
    assert gradescope["score"] == 3.75
    assert [t["name"].split(":")[0] for t in gradescope["tests"]] == ["shape", "train", "2b", "2c"]

    rows = {row["student"]: row for row in read_gradebook(out)}
    alice_row = rows["alice"]
    assert (alice_row["total"], alice_row["manual_pending"], alice_row["2c"]) == ("3.75", "0", "0.25")
    assert (rows["bob"]["2b"], rows["bob"]["2c"], rows["bob"]["manual_pending"]) == ("0", "", "1")


def test_merge_manual_names_every_bad_line_and_merges_nothing(out: Path, tmp_path: Path) -> None:
    scores = write_csv(
        tmp_path / "scores.csv",
        "\n".join(
            [
                "student,item,points,comment",
                "alice,2b,0.5,fine",  # line 2: valid, but must not be merged either
                "alyce,2b,0.5,",  # line 3: unknown student
                "bob,shape,1,",  # line 4: automatic item
                "bob,2x,1,",  # line 5: unknown item
                "bob,2b,0.7,",  # line 6: above the maximum
                "carol,2c,lots,",  # line 7: not a number
                "carol,2c,-1,",  # line 8: below zero
                "alice,2b,0.25,again",  # line 9: a second score
                "dave,2c,,needs a score",  # line 10: comment without points
            ]
        )
        + "\n",
    )
    before = contents(out)
    with pytest.raises(MergeError) as caught:
        merge_manual(out, scores)
    message = str(caught.value)
    assert message.startswith("scores.csv: 8 problems, nothing was merged:")
    expected = [
        "line 3: unknown student 'alyce': no report reports/alyce.json; did you mean 'alice'?",
        "line 4: student 'bob': item 'shape' is graded automatically; "
        "only manual items take instructor scores (2b, 2c)",
        "line 5: student 'bob': unknown item '2x' (manual items: 2b, 2c)",
        "line 6: student 'bob', item '2b': 0.7 points is outside the allowed range (allowed: 0 to 0.5)",
        "line 7: student 'carol', item '2c': points 'lots' is not a number (allowed: 0 to 1)",
        "line 8: student 'carol', item '2c': -1 points is outside the allowed range (allowed: 0 to 1)",
        "line 9: student 'alice', item '2b': a second score (the first is on line 2)",
        "line 10: student 'dave', item '2c': points missing (allowed: 0 to 1)",
    ]
    assert message.splitlines()[1:] == [f"  {line}" for line in expected]
    assert contents(out) == before


def test_merge_manual_rejects_a_file_without_the_expected_header(out: Path, tmp_path: Path) -> None:
    scores = write_csv(tmp_path / "scores.csv", "student;item;points\nalice;2b;0.5\n")
    expected = r"line 1: missing column 'student' \(it seems to use ';': save it with commas\)"
    with pytest.raises(MergeError, match=expected):
        merge_manual(out, scores)


def test_merge_manual_refuses_while_a_batch_writes_to_the_folder(out: Path, tmp_path: Path) -> None:
    scores = write_csv(tmp_path / "scores.csv", "student,item,points,comment\nbob,2b,0.5,\n")
    busy = "another grader batch or merge-manual is writing to"
    with OutputFolder(out).lock(), pytest.raises(BatchError, match=busy):
        merge_manual(out, scores)
    assert read_report(out / "reports" / "bob.json").item("2b").status == "manual"


def test_merge_manual_on_the_command_line_exits_2_with_the_problems(
    out: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scores = write_csv(tmp_path / "scores.csv", "student,item,points,comment\nbob,2b,2,\n")
    assert main(["merge-manual", str(out), str(scores)]) == 2
    assert "line 2: student 'bob', item '2b': 2 points is outside the allowed range (allowed: 0 to 0.5)" in (
        capsys.readouterr().err
    )
    assert main(["merge-manual", str(out), str(tmp_path / "missing.csv")]) == 2
    assert "grader: error: manual scores file not found:" in capsys.readouterr().err
    good = write_csv(tmp_path / "good.csv", "student,item,points,comment\nbob,2b,0.5,\n")
    assert main(["merge-manual", str(out), str(good)]) == 0
    assert "merged 1 score(s) for 1 student(s)" in capsys.readouterr().out


def test_integrity_findings_are_a_short_column_and_a_summary_section(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    flags = [
        {"rule": "system", "where": "x.py, line 2", "message": "network access (socket): may not reach out"},
        {
            "rule": "lying-object",
            "where": "x.py, line 5",
            "message": "defines __eq__: an object that may ...",
        },
        {
            "rule": "lying-object",
            "where": "x.py, line 9",
            "message": "defines __eq__: an object that may ...",
        },
    ]
    reports = {"alice": make_report("alice", {}), "zed": make_report("zed", {})}
    reports["zed"].integrity = flags
    for student, report in reports.items():
        write_report(report, Layout(folder, batch=True), student, ("json",))
    rebuild(folder)
    rows = {row["student"]: row for row in read_gradebook(folder)}
    assert (rows["alice"]["integrity"], rows["zed"]["integrity"]) == (
        "",
        "network access (socket); defines __eq__ x2",
    )
    summary = (folder / "summary.md").read_text()
    assert (
        "## Integrity findings\n\n1 of 2 submissions flagged. A flag is where to look, not a verdict"
        in summary
    )
    assert r"| zed | network access (socket); defines \_\_eq\_\_ x2 |" in summary  # no bold "eq"
    reports["zed"].integrity = []
    write_report(reports["zed"], Layout(folder, batch=True), "zed", ("json",))
    rebuild(folder)
    assert (
        "## Integrity findings\n\nNone: the integrity scan flagged no submission."
        in (folder / "summary.md").read_text()
    )


def test_the_summary_counts_items_still_at_the_template_instead_of_listing_them(out: Path) -> None:
    """One empty submission must not fill "Most common failure messages" with "not implemented yet"."""
    stub = ("failed", 0.0, "not implemented yet: build_encoder")
    report = make_report("erin", {"shape": stub, "train": stub})
    write_report(report, Layout(out, batch=True), "erin", ("json",))
    rebuild(out)
    summary = (out / "summary.md").read_text()
    messages = summary.split("## Most common failure messages")[1].split("## Submissions that errored")[0]
    assert "not implemented yet" not in messages
    assert "- 1 x: not started (still the template)" in messages
    assert "Items still at the template's stubs are left out above: 1 submission(s) (erin)." in messages
    assert "- 2 x: encoder output is (N, 2, 2, 1); expected (N, 1, 2, 1)" in messages  # numbers masked


def test_similar_pairs_and_no_integrity_flag_do_not_say_none(out: Path) -> None:
    classes = gradebook.load_reports(out)
    summary = gradebook.summary_markdown(classes, [("bob", "carol", 0.92)])
    section = summary.split("## Integrity findings")[1]
    assert "| bob | carol | 92% |" in section
    assert (
        "None:" not in section
        and "The integrity scan (imports, exits, ctypes...) flagged no submission." in section
    )


def test_the_class_page_links_every_student_to_their_report_and_shows_pass_rates(out: Path) -> None:
    hostile = "<b>x&y"
    write_report(make_report(hostile, {}), Layout(out, batch=True), hostile, ("json",))
    rebuild(out)
    page = (out / "index.html").read_text()
    assert "<h1>toy: the class</h1>" in page and '<img src="summary.png"' in page
    for student in ("alice", "bob", "carol", "dave"):
        assert f'<a href="reports/{student}.html">{student}</a>' in page
    assert '<a href="reports/%3Cb%3Ex%26y.html">&lt;b&gt;x&amp;y</a>' in page
    assert "<td>shape, train</td>" in page  # bob's items that lost points
    shape = page.split("<td>shape: item shape</td>")[1].split("</tr>")[0]
    assert "2 / 5" in shape and "40%" in shape  # alice and the new student passed; bob, carol, dave not
