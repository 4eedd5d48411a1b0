"""``grader assign``: the README's master notebook becomes a reference at full marks, a template at
zero and a hand-out with stubs, placeholders and check cells; a master whose reference loses a point,
or whose markers do not pair, writes nothing (grader/assign.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest
from test_adding_an_assignment import readme_example

from grader.assign import AssignError, stub_solutions
from grader.cli import main
from grader.grading import grade


def notebook_from_percent(text: str) -> nbformat.NotebookNode:
    """jupytext's percent format -> a notebook: '# %%' starts a code cell, '# %% [markdown]' markdown."""
    notebook = nbformat.v4.new_notebook()
    for chunk in re.split(r"^# %%", text, flags=re.M)[1:]:
        header, _, body = chunk.partition("\n")
        body = body.strip("\n")
        if "[markdown]" in header:
            lines = [line[2:] if line.startswith("# ") else line.lstrip("#") for line in body.splitlines()]
            notebook.cells.append(nbformat.v4.new_markdown_cell("\n".join(lines)))
        else:
            notebook.cells.append(nbformat.v4.new_code_cell(body))
    return notebook


@pytest.fixture
def master(tmp_path) -> Path:
    folder = tmp_path / "softmax_master"
    folder.mkdir()
    nbformat.write(
        notebook_from_percent(readme_example("master.py", "softmax_master")), str(folder / "master.ipynb")
    )
    (folder / "master.toml").write_text(readme_example("master.toml", "softmax_master"))
    return folder / "master.ipynb"


def test_the_readme_master_becomes_an_assignment(master, tmp_path, capsys):
    out = tmp_path / "softmax_sheet2"
    assert main(["assign", str(master), str(out)]) == 0
    assert "the reference earns 1.5 / 1.5 automatic points" in capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == [
        "handout.ipynb",
        "reference.py",
        "rubric.toml",
        "template.py",
    ]
    template = (out / "template.py").read_text()
    assert 'raise NotImplementedError("softmax")' in template and "TEMPERATURE = None" in template
    assert "np.sum(shifted" not in template and "BEGIN SOLUTION" not in template
    handout = nbformat.read(str(out / "handout.ipynb"), as_version=4)
    text = "\n".join(cell.source for cell in handout.cells)
    assert "np.sum(shifted" not in text and "overflows" not in text and "grader" not in handout.metadata
    assert "### Answer 2\n*Write your answer here.*" in text
    tags = [cell.metadata.get("tags", []) for cell in handout.cells]
    checks = [cell.source for cell in handout.cells if "check" in cell.metadata.get("tags", [])]
    assert checks == ['check("1", rubric="rubric.toml")  # the code this notebook ran, graded']
    assert ["try-it"] in tags


def test_the_written_files_grade_as_the_rubric_says(master, tmp_path):
    out = tmp_path / "sheet"
    assert main(["assign", str(master), str(out)]) == 0
    reference = grade(out / "reference.py", out / "rubric.toml")
    assert (reference.auto_score, reference.auto_max) == (1.5, 1.5)
    template = grade(out / "template.py", out / "rubric.toml")
    assert template.auto_score == 0.0
    handout = grade(out / "handout.ipynb", out / "rubric.toml")  # the unanswered hand-out: zero, no answer
    assert handout.auto_score == 0.0
    assert next(item for item in handout.items if item.id == "2").answer in ("", None)


def test_a_wrong_reference_writes_nothing_and_names_the_item(master, tmp_path, capsys):
    notebook = nbformat.read(str(master), as_version=4)
    notebook.cells[1].source = notebook.cells[1].source.replace("TEMPERATURE = 1", "TEMPERATURE = 2")
    nbformat.write(notebook, str(master))
    out = tmp_path / "sheet"
    assert main(["assign", str(master), str(out)]) == 2
    error = capsys.readouterr().err
    assert "the reference earns 1 of 1.5 automatic points, so nothing was written" in error
    assert "1-temperature (0/0.5: TEMPERATURE is 2; the exercise asks for 1" in error
    assert not out.exists()


def test_the_rubric_can_live_in_the_notebook_s_metadata(master, tmp_path):
    notebook = nbformat.read(str(master), as_version=4)
    notebook.metadata["grader"] = {"rubric": (master.with_suffix(".toml")).read_text()}
    master.with_suffix(".toml").unlink()
    nbformat.write(notebook, str(master))
    assert main(["assign", str(master), str(tmp_path / "sheet")]) == 0


def test_an_existing_folder_and_a_missing_rubric_are_refused(master, tmp_path, capsys):
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "x").write_text("")
    assert main(["assign", str(master), str(taken)]) == 2
    assert "exists and is not an empty folder" in capsys.readouterr().err
    master.with_suffix(".toml").unlink()
    assert main(["assign", str(master), str(tmp_path / "new")]) == 2
    assert "no rubric: put its TOML in the notebook's metadata" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("x = 1\n# END SOLUTION", "cell 3, line 2: '# END SOLUTION' without a '# BEGIN SOLUTION'"),
        ("# BEGIN SOLUTION\nx = 1", "cell 3, line 1: '# BEGIN SOLUTION' without its '# END SOLUTION'"),
    ],
)
def test_unpaired_markers_name_the_cell_and_line(source, message):
    with pytest.raises(AssignError) as caught:
        stub_solutions(source, "cell 3")
    assert str(caught.value) == message


def test_a_solution_in_a_method_and_a_bare_statement():
    source = "class Net:\n    def call(self, x):\n"
    source += "        # BEGIN SOLUTION\n        return x\n        # END SOLUTION\n"
    solution, stubbed, names = stub_solutions(source, "cell 1")
    assert 'raise NotImplementedError("call")' in stubbed and names == ["call"]
    assert "return x" in solution and "BEGIN" not in solution
    _, stubbed, names = stub_solutions("# BEGIN SOLUTION\nprint(1)\n# END SOLUTION", "cell 2")
    assert (stubbed, names) == ("...", [])


def test_the_help_says_what_it_writes(capsys):
    with pytest.raises(SystemExit):
        main(["assign", "--help"])
    assert "nothing is written unless it earns every automatic point" in " ".join(
        capsys.readouterr().out.split()
    )


def test_json_of_the_handout_is_valid(master, tmp_path):
    out = tmp_path / "sheet"
    assert main(["assign", str(master), str(out)]) == 0
    nbformat.validate(nbformat.reads((out / "handout.ipynb").read_text(), as_version=4))
    assert json.loads((out / "handout.ipynb").read_text())["nbformat"] == 4
