"""Which submissions a folder holds: ``.py``/``.ipynb`` files, or one folder per student holding one.

LMS downloads (Moodle folders, Canvas file names: :mod:`grader.batch.lms`) give the student's
id, name and lateness. Several candidate files for one student (``alice.py`` beside
``alice.ipynb``, a folder holding two): the one that defines the most contract functions is
graded, and the entry says which and why; a tie is that student's error row.

No file stops the class: a name that cannot be an id is made safe (:func:`grader.text_safety.safe_id`,
the original kept), two submissions that end up with one id are that id's error row, and what
is not a regular file (a named pipe) is listed, never opened.
"""

from __future__ import annotations

import ast
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from grader.batch.errors import BatchError
from grader.batch.lms import LmsName, lms_file, moodle_folder
from grader.text_safety import safe_id

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
    original: str = ""  # the id as found, when it had to be made safe


@dataclass(frozen=True)
class Discovery:
    entries: list[Entry]
    ignored: list[str]  # files in DIR that are not submissions
    special: list[str] = field(default_factory=list)  # named pipes, sockets, devices: never opened


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
    entries, ignored, special = [], [], []
    lms_files: dict[str, list[tuple[Path, LmsName]]] = {}
    flat: dict[str, list[Path]] = {}  # file stem -> alice.py, alice.ipynb
    for child in sorted(directory.iterdir()):
        if _hidden(child.name) or (exclude is not None and child.resolve() == exclude.resolve()):
            continue
        named = lms_file(child.name) if child.is_file() and child.suffix in SUFFIXES else None
        if child.is_dir():
            entries.append(_folder_entry(child, assignment, contract))
        elif not child.is_file():
            special.append(child.name)
        elif named is not None:
            lms_files.setdefault(named.student, []).append((child, named))
        elif child.suffix in SUFFIXES:
            flat.setdefault(child.stem, []).append(child)
        else:
            ignored.append(child.name)
    entries += [_lms_files_entry(files, contract) for files in lms_files.values()]
    entries += [_flat_files_entry(stem, paths, contract) for stem, paths in flat.items()]
    if not entries:
        raise BatchError(
            f"no submissions in {directory}: expected .py or .ipynb files, "
            "or one folder per student holding one"
        )
    return Discovery(unique_ids(entries, directory), ignored, special)


def unique_ids(entries: list[Entry], directory: Path) -> list[Entry]:
    """Each entry under a safe id, sorted; entries that share one id become that id's error row."""
    by_id: dict[str, list[Entry]] = {}
    for entry in entries:
        by_id.setdefault(safe_id(entry.student), []).append(entry)
    unique = []
    for student, group in sorted(by_id.items()):
        first = group[0]
        original = first.student if first.student != student else ""
        if len(group) == 1:
            unique.append(replace(first, student=student, original=original))
            continue
        where = ", ".join(_where(entry, directory) for entry in group[:5])
        problem = f"{len(group)} submissions have the student id '{student}' ({where}): keep one"
        originals = "; ".join(sorted({entry.student for entry in group}))
        unique.append(Entry(student, None, problem, original=originals if originals != student else ""))
    return unique


def _where(entry: Entry, directory: Path) -> str:
    if entry.path is None:
        return entry.student
    try:
        return str(entry.path.relative_to(directory))
    except ValueError:
        return entry.path.name


def _flat_files_entry(stem: str, paths: list[Path], contract: Sequence[str]) -> Entry:
    """``alice.py`` (and maybe ``alice.ipynb`` beside it): the one defining most contract functions."""
    if len(paths) == 1:
        return Entry(stem, paths[0])
    path, chosen = pick_by_contract(paths, contract)
    if path is None:
        names = ", ".join(p.name for p in paths)
        problem = (
            f"student {stem} handed in {len(paths)} submissions ({names}) that define as many contract "
            "functions: keep one"
        )
        return Entry(stem, None, problem)
    return Entry(stem, path, chosen=chosen)


def _hidden(name: str) -> bool:
    return name.startswith((".", "__"))


def _folder_entry(folder: Path, assignment: str, contract: Sequence[str]) -> Entry:
    moodle = moodle_folder(folder.name)
    student, full_name = (moodle.student, moodle.full_name) if moodle else (folder.name, "")
    try:
        found = sorted(p for p in folder.iterdir() if _is_submission(p, folder))
        if not found:  # e.g. an LMS export with a sub-folder per attempt
            found = sorted(p for p in folder.rglob("*") if _is_submission(p, folder))
    except OSError as exc:
        return Entry(
            student, None, f"the folder {folder.name}/ could not be read ({exc.strerror})", full_name
        )
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
    """The one file defining the most contract functions, and a line saying so; (None, "") on a tie.

    Functions that are more than a stub count first: the untouched template beside a student's
    work (its functions only ``raise NotImplementedError``) loses to the work.
    """
    wanted = set(contract)
    counts = []
    for path in paths:
        implemented, stubs = _defined(path)
        counts.append(((len(implemented & wanted), len((implemented | stubs) & wanted)), path))
    counts.sort(key=lambda count: (-count[0][0], -count[0][1]))
    (best, path), runner_up = counts[0], counts[1][0]
    if best == (0, 0) or best == runner_up:
        return None, ""
    others = ", ".join(p.name for _, p in counts[1:4])
    return path, (
        f"graded {path.name}: it defines {best[0] or best[1]} of the {len(contract)} contract functions "
        f"(of {len(paths)} files; also {others})"
    )


def _defined(path: Path) -> tuple[set[str], set[str]]:
    """The module-level functions of a .py or notebook: (implemented, stubs); none when unreadable."""
    from grader.submission import load_submission
    from grader.threadsafe import parse_source

    implemented: set[str] = set()
    stubs: set[str] = set()
    try:
        for cell in load_submission(path, all_cells=True).cells:
            with contextlib.suppress(SyntaxError):
                for node in parse_source(cell.source).body:
                    if isinstance(node, ast.FunctionDef):
                        (stubs if _stub(node) else implemented).add(node.name)
    except Exception:  # any file the loader cannot read (or recurses on) defines nothing here
        return set(), set()
    return implemented, stubs


def _stub(function: ast.FunctionDef) -> bool:
    """A body of only a docstring, ``pass``, ``...`` or ``raise NotImplementedError(...)``."""
    body = function.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the docstring (or a lone ``...``)
    if not body:
        return True
    if len(body) > 1:
        return False
    statement = body[0]
    if isinstance(statement, ast.Pass):
        return True
    if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
        return statement.value.value is Ellipsis
    if isinstance(statement, ast.Raise) and statement.exc is not None:
        raised = statement.exc.func if isinstance(statement.exc, ast.Call) else statement.exc
        return isinstance(raised, ast.Name) and raised.id == "NotImplementedError"
    return False


def _is_submission(path: Path, folder: Path) -> bool:
    hidden = any(_hidden(part) for part in path.relative_to(folder).parts)
    return path.suffix in SUFFIXES and not hidden and path.is_file()
