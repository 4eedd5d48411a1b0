"""grader export: a batch's grades into Moodle's grading worksheet and a Canvas gradebook export.

One class of three (ids 1001-1003: a full solution, the template, a file that does not parse) is
graded once on the NumPy-only ``transposed_conv`` rubric; each test fills a realistic LMS file.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from test_batch import REFERENCE, TEMPLATE, fast_rubric, write_class

from grader.batch.lms_export import ExportError, export_grades
from grader.batch.runner import BatchConfig, run_batch
from grader.cli import main

MOODLE_HEADER = (
    '"Identifier","Full name","Email address","Status","Grade","Maximum Grade","Grade can be changed",'
    '"Last modified (submission)","Last modified (grade)","Feedback comments"'
)
MOODLE_ROWS = [
    '"Participant 1001","Alice Example","alice@example.org","Submitted for grading","","100.00","Yes",'
    '"Monday, 3 March 2025, 10:15 AM","-",""',
    '"Participant 1002","Bob O\'Brien-Smith","bob@example.org","Submitted for grading","","100.00","Yes",'
    '"Monday, 3 March 2025, 11:02 AM","-",""',
    '"Participant 1004","Dana Nosub","dana@example.org","No submission","","100.00","Yes","-","-",""',
]
CANVAS = (
    "Student,ID,SIS User ID,SIS Login ID,Section,Transposed Conv (12345),Quiz 1 (12346),Current Score,"
    "Final Score\n"
    "    Points Possible,,,,,20.00,10.00,(read only),(read only)\n"
    '"Example, Alice",1001,A1001,alice,Section 1,,8.00,80.00,80.00\n'
    '"O\'Brien-Smith, Bob",1002,A1002,bob,Section 1,,9.50,95.00,95.00\n'
    '"Student, Test",9999,,,Section 1,,,,\n'
)


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("class")
    subs = write_class(
        root / "subs", {"1001.py": REFERENCE, "1002.py": TEMPLATE, "1003.py": "def conv_matrix(:\n"}
    )
    run_batch(BatchConfig(subs, fast_rubric(root), root / "out", workers=1), echo=lambda line: None)
    return root / "out"


def rows_of(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_the_moodle_worksheet_is_filled_by_participant_in_its_own_format(
    graded: Path, tmp_path: Path
) -> None:
    worksheet = tmp_path / "Grades-Autoencoders.csv"
    worksheet.write_bytes(b"\xef\xbb\xbf" + "\r\n".join([MOODLE_HEADER, *MOODLE_ROWS, ""]).encode())
    (export,) = export_grades(graded, moodle=worksheet)
    assert export.path == graded / "exports" / "moodle_grading_worksheet.csv"
    data = export.path.read_bytes()
    assert data.startswith(b'\xef\xbb\xbf"Identifier","Full name",')  # the BOM, the quoting and
    assert data.count(b"\r\n") == 4  # the line ends are Moodle's
    header, alice, bob, dana = rows_of(data)
    assert header == rows_of(worksheet.read_bytes())[0]
    assert alice[:4] == ["Participant 1001", "Alice Example", "alice@example.org", "Submitted for grading"]
    assert alice[4] == "100.00" and alice[5] == "100.00"
    assert (
        alice[9] == "Autograder: 4 of 4 points; 8 of 8 automatic checks passed. Full report: reports/1001.md"
    )
    assert bob[4] == "0.00"
    assert (
        bob[9].startswith("Autograder: ")
        and "To revisit: tc1-example, tc1-random, tc2-example, ..." in bob[9]
    )
    assert bob[9].endswith(" Full report: reports/1002.md")
    assert dana == next(csv.reader([MOODLE_ROWS[2]]))  # no report: the row is left as it was
    assert (export.filled, export.not_in_lms, export.no_report) == (2, ["1003"], ["Participant 1004"])


def test_the_canvas_gradebook_column_is_filled_by_user_id_scaled_to_its_points(
    graded: Path, tmp_path: Path
) -> None:
    gradebook = tmp_path / "2025-03-04T1010_Grades-DL.csv"
    gradebook.write_text(CANVAS)
    (export,) = export_grades(graded, canvas=gradebook)
    assert export.path == graded / "exports" / "canvas_gradebook.csv"
    text = export.path.read_text()
    assert not text.startswith("\ufeff") and "\r\n" not in text
    rows = rows_of(export.path.read_bytes())
    assert rows[0] == CANVAS.splitlines()[0].split(",")
    assert rows[1] == next(csv.reader([CANVAS.splitlines()[1]]))  # Points Possible untouched
    assert rows[2][5] == "20.00" and rows[2][6] == "8.00"  # only the assignment's column changes
    assert rows[3][5] == "0.00"  # the template: nothing passes
    assert rows[4][5] == ""
    assert export.notes[0] == "filled the column 'Transposed Conv (12345)' (out of 20.00)"
    assert (export.filled, export.not_in_lms, export.no_report) == (2, ["1003"], ["Student, Test (9999)"])


def test_the_canvas_column_is_chosen_by_name_or_a_clear_error(graded: Path, tmp_path: Path) -> None:
    gradebook = tmp_path / "grades.csv"
    gradebook.write_text(CANVAS.replace("Transposed Conv (12345)", "Homework 3 (12345)"))
    with pytest.raises(ExportError) as error:
        export_grades(graded, canvas=gradebook)
    assert str(error.value) == (
        "no assignment column named like the rubric 'transposed_conv' in the Canvas gradebook: choose one "
        "with --canvas-column (its assignments: 'Homework 3 (12345)', 'Quiz 1 (12346)')"
    )
    (export,) = export_grades(graded, canvas=gradebook, canvas_col="Homework 3")
    assert rows_of(export.path.read_bytes())[2][5] == "20.00"


def test_export_from_the_command_line_lists_who_is_missing(
    graded: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    worksheet = tmp_path / "worksheet.csv"
    worksheet.write_text("\n".join([MOODLE_HEADER, *MOODLE_ROWS, ""]))
    assert main(["export", str(graded), "--moodle", str(worksheet)]) == 0
    assert capsys.readouterr().out == (
        f"wrote {graded / 'exports' / 'moodle_grading_worksheet.csv'}: 2 student(s) filled\n"
        "  graded but not in the LMS file (left out): 1003\n"
        "  in the LMS file but not graded (row kept as it was): Participant 1004\n"
    )
    other = tmp_path / "other.csv"
    other.write_text(MOODLE_HEADER + '\n"Participant 5","X","","","","100.00","Yes","-","-",""\n')
    not_a_worksheet = tmp_path / "names.csv"
    not_a_worksheet.write_text("name,points\nalice,3\n")
    cases = [
        ([], "grader: error: nothing to export: pass --moodle WORKSHEET.csv and/or --canvas GRADEBOOK.csv"),
        (["--moodle", str(other)], "grader: error: no student of "),
        (
            ["--moodle", str(not_a_worksheet)],
            f"grader: error: {not_a_worksheet} is not a Moodle grading worksheet: ",
        ),
        (
            ["--moodle", str(tmp_path / "nope.csv")],
            "grader: error: cannot read the Moodle grading worksheet ",
        ),
    ]
    for args, message in cases:
        assert main(["export", str(graded), *args]) == 2, args
        err = capsys.readouterr().err
        assert err.startswith(message) and err.count("\n") == 1, err
    assert main(["export", str(tmp_path), "--moodle", str(worksheet)]) == 2
    assert "no reports in" in capsys.readouterr().err
    assert json.loads((graded / "reports" / "1001.json").read_text())["student"] == "1001"
