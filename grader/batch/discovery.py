"""Which submissions a folder holds: ``.py``/``.ipynb`` files, or one folder per student holding one.

LMS downloads (Moodle folders, Canvas file names: :mod:`grader.batch.lms`) give the student's
id, name and lateness. Several candidate files for one student: the one that defines the
most contract functions is graded, and the entry says which and why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from grader.batch.errors import BatchError
from grader.batch.lms import LmsName, lms_file, moodle_folder

SUFFIXES = (".py", ".ipynb")


@dataclass(frozen=True)
class Entry:
    """One student's submission: ``path``, or ``problem`` saying why there is none to grade."""

    student: str
    path: Path | None
    problem: str = ""
    full_name: str = ""  # from the LMS's name
    late: str = ""  # Canvas: "late" or "on time"; "" when the LMS does not say
    chosen: str = ""  # why this file, when the student handed in several


@dataclass(frozen=True)
class Discovery:
    entries: list[Entry]
    ignored: list[str]  # files in DIR that are not submissions


def discover(
    directory: Path, assignment: str = "", exclude: Path | None = None, contract: Sequence[str] = ()
) -> Discovery:
    """Every submission in ``directory``: .py/.ipynb files, or one folder per student holding one.

    ``exclude``: a folder to pass over (the output folder, when it lies inside ``directory``).
    ``contract``: the rubric's function names, to pick one of several files of a student.
    """
    directory = Path(directory)
    if not directory.exists():
        raise BatchError(f"submissions folder not found: {directory}")
    if not directory.is_dir():
        raise BatchError(f"{directory} is not a folder: pass the folder (or .zip) that holds the submissions")
    entries, ignored = [], []
    lms_files: dict[str, list[tuple[Path, LmsName]]] = {}
    for child in sorted(directory.iterdir()):
        if _hidden(child.name) or (exclude is not None and child.resolve() == exclude.resolve()):
            continue
        named = lms_file(child.name) if child.is_file() and child.suffix in SUFFIXES else None
        if child.is_dir():
            entries.append(_folder_entry(child, assignment, contract))
        elif named is not None:
            lms_files.setdefault(named.student, []).append((child, named))
        elif child.suffix in SUFFIXES:
            entries.append(Entry(child.stem, child))
        else:
            ignored.append(child.name)
    entries += [_lms_files_entry(files, contract) for files in lms_files.values()]
    entries.sort(key=lambda entry: entry.student)
    if not entries:
        raise BatchError(
            f"no submissions in {directory}: expected .py or .ipynb files, "
            "or one folder per student holding one"
        )
    seen: dict[str, Entry] = {}
    for entry in entries:
        if entry.student in seen:
            first = seen[entry.student]
            raise BatchError(
                f"two submissions for student '{entry.student}': {first.path or first.student} and "
                f"{entry.path or entry.student}; keep one"
            )
        seen[entry.student] = entry
    return Discovery(entries, ignored)


def _hidden(name: str) -> bool:
    return name.startswith((".", "__"))


def _folder_entry(folder: Path, assignment: str, contract: Sequence[str]) -> Entry:
    moodle = moodle_folder(folder.name)
    student, full_name = (moodle.student, moodle.full_name) if moodle else (folder.name, "")
    found = sorted(p for p in folder.iterdir() if _is_submission(p, folder))
    if not found:  # e.g. an LMS export with a sub-folder per attempt
        found = sorted(p for p in folder.rglob("*") if _is_submission(p, folder))
    if len(found) > 1:
        named = [p for p in found if p.stem == assignment]
        found = named if len(named) == 1 else found
    if not found:
        return Entry(student, None, f"the folder {folder.name}/ holds no .py or .ipynb file", full_name)
    if len(found) > 1:
        path, chosen = pick_by_contract(found, contract)
        if path is not None:
            return Entry(student, path, full_name=full_name, chosen=chosen)
        names = ", ".join(str(p.relative_to(folder)) for p in found[:5])
        hint = f", or name it {assignment}.py or {assignment}.ipynb" if assignment else ""
        problem = f"the folder {folder.name}/ holds {len(found)} submissions ({names}): keep one{hint}"
        return Entry(student, None, problem, full_name)
    return Entry(student, found[0], full_name=full_name)


def _lms_files_entry(files: list[tuple[Path, LmsName]], contract: Sequence[str]) -> Entry:
    """The files of one student in a flat LMS download (Canvas keeps every file handed in)."""
    first = files[0][1]
    late = ("late" if any(named.late for _, named in files) else "on time") if first.lms == "canvas" else ""
    if len(files) == 1:
        return Entry(first.student, files[0][0], full_name=first.full_name, late=late)
    path, chosen = pick_by_contract([path for path, _ in files], contract)
    if path is None:
        names = ", ".join(path.name for path, _ in files[:5])
        problem = f"student {first.student} handed in {len(files)} submissions ({names}): keep one"
        return Entry(first.student, None, problem, first.full_name, late)
    return Entry(first.student, path, full_name=first.full_name, late=late, chosen=chosen)


def pick_by_contract(paths: Sequence[Path], contract: Sequence[str]) -> tuple[Path | None, str]:
    """The one file defining the most contract functions, and a line saying so; (None, "") on a tie."""
    counts = sorted(((len(_defined(path) & set(contract)), path) for path in paths), key=lambda c: -c[0])
    (best, path), runner_up = counts[0], counts[1][0]
    if best == 0 or best == runner_up:
        return None, ""
    others = ", ".join(p.name for _, p in counts[1:4])
    return path, (
        f"graded {path.name}: it defines {best} of the {len(contract)} contract functions "
        f"(of {len(paths)} files; also {others})"
    )


def _defined(path: Path) -> set[str]:
    """The module-level functions of a .py or notebook; none when it cannot be read."""
    from grader.assignment_match import defined_functions
    from grader.submission import SubmissionError, load_submission

    try:
        submission = load_submission(path, all_cells=True)
    except (SubmissionError, OSError, ValueError):
        return set()
    return defined_functions(cell.source for cell in submission.cells)


def _is_submission(path: Path, folder: Path) -> bool:
    hidden = any(_hidden(part) for part in path.relative_to(folder).parts)
    return path.suffix in SUFFIXES and not hidden and path.is_file()
