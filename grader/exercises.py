"""One exercise at a time: which rubric items an ``--exercise`` selects, and which exercises a
student has not started yet (docs/assignments.md, "Exercise labels").

Pure functions on rubric items and item results; ``grader check --exercise`` and the notebook's
``check("1")`` (grader/notebook_check.py) use them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol, TypeVar

# Feedback that means "this is still the template": a stub that raises NotImplementedError, a
# constant left at None or "", or an item skipped because what it needs is such a stub.
UNTOUCHED = ("not implemented yet", "is still None", " is empty: ")


class UnknownExercise(ValueError):
    """An --exercise label the rubric does not have; the message lists the ones it has."""


class HasExercise(Protocol):
    exercise: str


Labelled = TypeVar("Labelled", bound=HasExercise)


def matches(label: str, wanted: str) -> bool:
    """``wanted`` names ``label``: the same label, or a prefix of it followed by a letter or a dot
    ("2" selects 2a-2c, "1" selects sheet10's 1.1-1.4; "1" never selects "10")."""
    label, wanted = label.strip().lower(), wanted.strip().lower()
    if label == wanted:
        return True
    if not wanted or not label.startswith(wanted):
        return False
    follows = label[len(wanted)]
    return follows.isalpha() or follows == "."


def select_exercises(items: Sequence[Labelled], wanted: Iterable[str], rubric: str = "") -> list[Labelled]:
    """The items of the ``wanted`` exercises (all items when none is wanted), in rubric order."""
    wanted = [w for w in wanted if w.strip()]
    if not wanted:
        return list(items)
    for label in wanted:
        if not any(matches(item.exercise, label) for item in items):
            known = ", ".join(dict.fromkeys(item.exercise for item in items if item.exercise != "-"))
            where = f" in {rubric}" if rubric else ""
            raise UnknownExercise(f"there is no exercise '{label}'{where}; the exercises are: {known}")
    return [item for item in items if any(matches(item.exercise, label) for label in wanted)]


def untouched(feedback: str, status: str, probes: Sequence[str] = ()) -> bool:
    """An item's result says its code is still the template's.

    A function the student wrote that calls another exercise's stub is started: its item calls it
    by name (probe ``calls:NAME``) and the stub named in the feedback is another one."""
    stub = feedback.partition("not implemented yet: ")[2].split(" ")[0].strip(".,")
    called = {probe.partition(":")[2] for probe in probes if probe.startswith("calls:")}
    if stub and called and stub not in called:
        return False
    return status == "skipped" or any(marker in feedback for marker in UNTOUCHED)


def not_started(results: Sequence[object]) -> list[str]:
    """Exercises whose automatic items all still see the template (and at least one says so)."""
    by_exercise: dict[str, list[object]] = {}
    for result in results:
        if getattr(result, "kind", "auto") == "auto":
            by_exercise.setdefault(result.exercise, []).append(result)  # type: ignore[attr-defined]
    started_not = []
    for exercise, group in by_exercise.items():
        statuses = [(r.feedback, r.status, getattr(r, "probes", ())) for r in group]  # type: ignore[attr-defined]
        if all(untouched(*status) for status in statuses) and any(s != "skipped" for _, s, _ in statuses):
            started_not.append(exercise)
    return started_not
