"""Which submissions a folder holds: ``.py``/``.ipynb`` files, or one folder per student holding one."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from grader.batch.errors import BatchError

SUFFIXES = (".py", ".ipynb")


@dataclass(frozen=True)
class Entry:
    """One student's submission: ``path``, or ``problem`` saying why there is none to grade."""

    student: str
    path: Path | None
    problem: str = ""


@dataclass(frozen=True)
class Discovery:
    entries: list[Entry]
    ignored: list[str]  # files in DIR that are not submissions


def discover(directory: Path, assignment: str = "", exclude: Path | None = None) -> Discovery:
    """Every submission in ``directory``: .py/.ipynb files, or one folder per student holding one.

    ``exclude``: a folder to pass over (the output folder, when it lies inside ``directory``).
    """
    directory = Path(directory)
    if not directory.exists():
        raise BatchError(f"submissions folder not found: {directory}")
    if not directory.is_dir():
        raise BatchError(f"{directory} is not a folder: pass the folder that holds the submissions")
    entries, ignored = [], []
    for child in sorted(directory.iterdir()):
        if _hidden(child.name) or (exclude is not None and child.resolve() == exclude.resolve()):
            continue
        if child.is_dir():
            entries.append(_folder_entry(child, assignment))
        elif child.suffix in SUFFIXES:
            entries.append(Entry(child.stem, child))
        else:
            ignored.append(child.name)
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


def _folder_entry(folder: Path, assignment: str) -> Entry:
    found = sorted(p for p in folder.iterdir() if _is_submission(p, folder))
    if not found:  # e.g. an LMS export with a sub-folder per attempt
        found = sorted(p for p in folder.rglob("*") if _is_submission(p, folder))
    if len(found) > 1:
        named = [p for p in found if p.stem == assignment]
        found = named if len(named) == 1 else found
    if not found:
        return Entry(folder.name, None, f"the folder {folder.name}/ holds no .py or .ipynb file")
    if len(found) > 1:
        names = ", ".join(str(p.relative_to(folder)) for p in found[:5])
        hint = f", or name it {assignment}.py or {assignment}.ipynb" if assignment else ""
        problem = f"the folder {folder.name}/ holds {len(found)} submissions ({names}): keep one{hint}"
        return Entry(folder.name, None, problem)
    return Entry(folder.name, found[0])


def _is_submission(path: Path, folder: Path) -> bool:
    hidden = any(_hidden(part) for part in path.relative_to(folder).parts)
    return path.suffix in SUFFIXES and not hidden and path.is_file()
