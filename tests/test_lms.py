"""LMS downloads in: Moodle folders, Canvas file names, zips of either; one of several files picked.

Everything runs on the NumPy-only ``transposed_conv`` rubric (no TensorFlow).
"""

from __future__ import annotations

import csv
import io
import stat
import zipfile
from pathlib import Path

import pytest
from test_batch import REFERENCE, REPO, TEMPLATE, fast_rubric, write_class

from grader.batch import archive
from grader.batch.discovery import discover
from grader.batch.errors import BatchError
from grader.batch.lms import LmsName, lms_file, moodle_folder
from grader.cli import main
from grader.rubric import load_rubric

CONTRACT = load_rubric("transposed_conv").contract.functions
HELPER = "def plot_things():\n    pass\n"
# A copy with a comment added, a variable renamed and the spacing changed.
NEAR_COPY = "# my own work\n" + REFERENCE.replace("kernel", "k_matrix").replace("    ", "  ")
LYING_OBJECT = (REPO / "tests" / "hostile" / "lying_object" / "submission.py").read_text()


def gradebook(out: Path) -> tuple[list[str], dict[str, dict[str, str]]]:
    reader = csv.DictReader(io.StringIO((out / "gradebook.csv").read_text()))
    rows = {row["student"]: row for row in reader}
    return list(reader.fieldnames or []), rows


def moodle_class(folder: Path) -> Path:
    return write_class(
        folder,
        {
            "Alice Example_1001_assignsubmission_file_/transposed_conv.py": REFERENCE,
            "Bob O'Brien-Smith_1002_assignsubmission_file_/helpers.py": HELPER,
            "Bob O'Brien-Smith_1002_assignsubmission_file_/my_solution.py": NEAR_COPY,
            "Carol Ng_1003_assignsubmission_file_/attempt/work.ipynb": "{}",
            "Carol Ng_1003_assignsubmission_file_/attempt/work.py": TEMPLATE,
        },
    )


def canvas_class(folder: Path) -> Path:
    return write_class(
        folder,
        {
            "examplealice_4101_90001_transposed_conv.py": REFERENCE,
            "obriensmithbob_LATE_4102_90002_solution.py": REFERENCE,
            "ngcarol_4103_90003_notes.py": HELPER,
            "ngcarol_4103_90004_transposed_conv-1.py": TEMPLATE,
            "ngcarol_4103_90005_report.pdf": "%PDF",
        },
    )


# -- names ---------------------------------------------------------------------------------------


def test_lms_names_give_the_id_the_name_and_lateness() -> None:
    assert moodle_folder("Alice Example_1001_assignsubmission_file_") == LmsName(
        "1001", "moodle", "Alice Example"
    )
    assert moodle_folder("Ann_Marie Li_77_assignsubmission_file") == LmsName("77", "moodle", "Ann_Marie Li")
    assert moodle_folder("alice") is None
    assert moodle_folder("Alice_1001_assignsubmission_onlinetext_") is None
    assert lms_file("smithjohn_LATE_4102_90002_ae.ipynb") == LmsName(
        "4102", "canvas", "smithjohn", late=True, original="ae.ipynb"
    )
    assert lms_file("smithjohn_4102_90002_my_ae.py") == LmsName(
        "4102", "canvas", "smithjohn", original="my_ae.py"
    )
    assert lms_file("Alice Example_1001_assignsubmission_file_ae.py") == LmsName(
        "1001", "moodle", "Alice Example", original="ae.py"
    )
    assert lms_file("alice.py") is None and lms_file("alice_final.py") is None


# -- discovery -----------------------------------------------------------------------------------


def test_a_moodle_download_gives_participant_ids_names_and_the_chosen_file(tmp_path: Path) -> None:
    subs = moodle_class(tmp_path / "subs")
    entries = {e.student: e for e in discover(subs, "transposed_conv", contract=CONTRACT).entries}
    assert list(entries) == ["1001", "1002", "1003"]
    assert [e.full_name for e in entries.values()] == ["Alice Example", "Bob O'Brien-Smith", "Carol Ng"]
    assert entries["1001"].chosen == ""
    bob = entries["1002"]
    assert bob.path is not None and bob.path.name == "my_solution.py"
    assert bob.chosen == (
        f"graded my_solution.py: it defines {len(CONTRACT)} of the {len(CONTRACT)} contract functions "
        "(of 2 files; also helpers.py)"
    )
    carol = entries["1003"]  # the empty notebook defines nothing; the template defines the stubs
    assert (
        carol.path is not None and carol.path.name == "work.py" and carol.chosen.startswith("graded work.py")
    )


def test_a_canvas_download_gives_user_ids_lateness_and_the_chosen_file(tmp_path: Path) -> None:
    found = discover(canvas_class(tmp_path / "subs"), "transposed_conv", contract=CONTRACT)
    entries = {e.student: e for e in found.entries}
    assert list(entries) == ["4101", "4102", "4103"]
    assert [e.late for e in entries.values()] == ["on time", "late", "on time"]
    assert (
        entries["4103"].path is not None
        and entries["4103"].path.name == "ngcarol_4103_90004_transposed_conv-1.py"
    )
    assert found.ignored == ["ngcarol_4103_90005_report.pdf"]


def test_several_files_that_tie_are_not_guessed(tmp_path: Path) -> None:
    subs = write_class(
        tmp_path / "subs",
        {"Dan_1_assignsubmission_file_/a.py": HELPER, "Dan_1_assignsubmission_file_/b.py": HELPER},
    )
    (entry,) = discover(subs, "transposed_conv", contract=CONTRACT).entries
    assert entry.student == "1" and entry.path is None
    assert entry.problem.startswith(
        "the folder Dan_1_assignsubmission_file_/ holds 2 submissions (a.py, b.py)"
    )
    canvas = write_class(tmp_path / "canvas", {"dan_5_6_a.py": HELPER, "dan_5_7_b.py": HELPER})
    (entry,) = discover(canvas, "transposed_conv", contract=CONTRACT).entries
    assert entry.problem == "student 5 handed in 2 submissions (dan_5_6_a.py, dan_5_7_b.py): keep one"


# -- zips ----------------------------------------------------------------------------------------


def zip_folder(folder: Path, archive_path: Path, prefix: str = "") -> Path:
    with zipfile.ZipFile(archive_path, "w") as zipped:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                zipped.write(path, prefix + path.relative_to(folder).as_posix())
    return archive_path


def test_a_zip_is_unpacked_safely(tmp_path: Path) -> None:
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(bad, "w") as zipped:
        zipped.writestr("class/alice.py", REFERENCE)
        zipped.writestr("class/bob.py", REFERENCE)
        zipped.writestr("../evil.py", "x = 1\n")
        zipped.writestr("/etc/evil.py", "x = 1\n")
        link = zipfile.ZipInfo("class/link.py")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zipped.writestr(link, "/etc/passwd")
    unpacked = archive.unpack(bad, tmp_path / "x" / "bad")
    assert unpacked.root == tmp_path / "x" / "bad" / "class"  # the wrapping folder is entered
    assert sorted(p.name for p in unpacked.root.iterdir()) == ["alice.py", "bob.py"]
    assert unpacked.skipped == [
        "../evil.py: a path outside the folder",
        "/etc/evil.py: a path outside the folder",
        "class/link.py: a symbolic link",
    ]
    assert not (tmp_path / "x" / "evil.py").exists() and not (tmp_path / "evil.py").exists()


def test_a_zip_that_is_too_large_or_not_a_zip_is_one_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = tmp_path / "big.zip"
    with zipfile.ZipFile(big, "w", compression=zipfile.ZIP_DEFLATED) as zipped:
        zipped.writestr("a.py", "#" * 5000)
    monkeypatch.setattr(archive, "MAX_TOTAL_BYTES", 1000)
    with pytest.raises(BatchError, match=r"^big.zip unpacks to more than 0 MB$"):
        archive.unpack(big, tmp_path / "out")
    (tmp_path / "fake.zip").write_text("not a zip")
    with pytest.raises(BatchError, match=r"^fake.zip is not a readable zip file \("):
        archive.unpack(tmp_path / "fake.zip", tmp_path / "out2")


# -- graded end to end ---------------------------------------------------------------------------


def test_a_moodle_class_is_graded_under_participant_ids_with_names_and_integrity_flags(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    subs = moodle_class(tmp_path / "subs")
    write_class(subs, {"Eve Cheat_1004_assignsubmission_file_/transposed_conv.py": LYING_OBJECT})
    out = tmp_path / "out"
    assert main(["batch", str(subs), "--rubric", str(fast_rubric(tmp_path)), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    header, rows = gradebook(out)
    assert header[:9] == [
        "student",
        "status",
        "total",
        "auto",
        "manual_pending",
        "integrity",
        "full_name",
        "file",
        "tc1-example",
    ]
    assert list(rows) == ["1001", "1002", "1003", "1004"]
    assert rows["1002"]["full_name"] == "Bob O'Brien-Smith"
    assert rows["1002"]["file"] == "Bob O'Brien-Smith_1002_assignsubmission_file_/my_solution.py"
    assert rows["1001"]["file"] == ""
    assert float(rows["1002"]["total"]) == float(rows["1001"]["total"]) > float(rows["1003"]["total"])
    assert "1002: graded my_solution.py: it defines" in printed
    assert "my_solution.py" in (out / "reports" / "1002.md").read_text()  # the report names the file
    # The __eq__ cheat earns nothing and is named in the gradebook, the summary and the last line.
    assert rows["1004"]["total"] == "0"
    assert (
        rows["1004"]["integrity"]
        == "defines __eq__ x2; defines __bool__; defines __float__; defines __array__"
    )
    assert [rows[s]["integrity"] for s in ("1001", "1002", "1003")] == ["", "", ""]
    summary = (out / "summary.md").read_text()
    assert "\n1 of 4 submissions flagged." in summary
    # Escaped for Markdown (a bare __eq__ renders as a bold "eq").
    findings = r"defines \_\_eq\_\_ x2; defines \_\_bool\_\_; defines \_\_float\_\_; defines \_\_array\_\_"
    assert f"| 1004 | {findings} |" in summary
    # The near copies are the most similar pair; the template's code makes nobody alike.
    similar = list(csv.DictReader(io.StringIO((out / "similarity.csv").read_text())))
    assert list(similar[0]) == [
        "student_a",
        "student_b",
        "similarity",
        "share_of_a",
        "share_of_b",
        "tokens_shared",
    ]
    assert (similar[0]["student_a"], similar[0]["student_b"]) == ("1001", "1002")
    assert float(similar[0]["similarity"]) > 0.9
    assert len(similar) == 6 and all(float(row["similarity"]) < 0.5 for row in similar[1:])
    values = [float(row["similarity"]) for row in similar]
    assert values == sorted(values, reverse=True)
    assert "| 1001 | 1002 | " in summary.split("## Integrity findings")[1]
    page = (out / "similarity.html").read_text()
    assert "<h2>1001 and 1002: " in page and "<mark>" in page and "1003 and" not in page
    assert printed.splitlines()[-1] == (
        "integrity: 1 of 4 submissions flagged (the integrity column of gradebook.csv; summary.md lists them)"
    )
    worksheet = tmp_path / "worksheet.csv"
    worksheet.write_text(
        '"Identifier","Full name","Grade","Maximum Grade","Feedback comments"\n'
        + "".join(f'"Participant {n}","X","","10.00",""\n' for n in (1001, 1002, 1003, 1004))
    )
    assert main(["export", str(out), "--moodle", str(worksheet)]) == 0
    filled = list(csv.reader(io.StringIO((out / "exports" / "moodle_grading_worksheet.csv").read_text())))
    assert [row[2] for row in filled[1:]] == ["10.00", "10.00", "0.00", "0.00"]
    assert filled[4][4].endswith("Full report: reports/1004.md")


def test_a_zipped_canvas_class_is_graded_under_user_ids_with_lateness_and_exported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    subs = canvas_class(tmp_path / "subs")
    write_class(subs, {"cheateve_4104_90006_transposed_conv.py": LYING_OBJECT})
    download = zip_folder(subs, tmp_path / "submissions.zip", prefix="submissions/")
    out = tmp_path / "out"
    argv = ["batch", str(download), "--rubric", str(fast_rubric(tmp_path)), "--out", str(out)]
    assert main(argv) == 0
    capsys.readouterr()
    header, rows = gradebook(out)
    assert header[5:9] == ["integrity", "full_name", "late", "file"]
    assert list(rows) == ["4101", "4102", "4103", "4104"]
    assert [rows[s]["late"] for s in rows] == ["on time", "late", "on time", "on time"]
    assert rows["4103"]["file"] == "ngcarol_4103_90004_transposed_conv-1.py"
    assert [bool(rows[s]["integrity"]) for s in rows] == [False, False, False, True]
    assert (
        out / "submissions" / "submissions" / "submissions" / "examplealice_4101_90001_transposed_conv.py"
    ).is_file()
    similar = list(csv.DictReader(io.StringIO((out / "similarity.csv").read_text())))
    assert (similar[0]["student_a"], similar[0]["student_b"], similar[0]["similarity"]) == (
        "4101",
        "4102",
        "1.0000",
    )
    assert main([*argv, "--resume"]) == 0  # the zip is unpacked again, nothing is regraded
    printed = capsys.readouterr().out
    assert printed.count(": skipped (already graded") == 4
    assert printed.splitlines()[-1].startswith("integrity: 1 of 4 submissions flagged")
    canvas = tmp_path / "grades.csv"
    canvas.write_text(
        "Student,ID,SIS User ID,SIS Login ID,Section,Transposed Conv (777),Current Score\n"
        "    Points Possible,,,,,10.00,(read only)\n"
        '"Example, Alice",4101,,,S1,,\n"Obriensmith, Bob",4102,,,S1,,\n"Ng, Carol",4103,,,S1,,\n'
    )
    assert main(["export", str(out), "--canvas", str(canvas)]) == 0
    assert "graded but not in the LMS file (left out): 4104" in capsys.readouterr().out
    exported = list(csv.reader(io.StringIO((out / "exports" / "canvas_gradebook.csv").read_text())))
    assert [row[5] for row in exported[2:]] == ["10.00", "10.00", "0.00"]
