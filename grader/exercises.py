"""One exercise at a time: which rubric items an ``--exercise`` selects, and which exercises a
student has not started yet (docs/assignments.md, "Exercise labels").

Pure functions on rubric items and item results; ``grader check --exercise`` and the notebook's
``check("1")`` (grader/notebook_check.py) use them.
"""

from __future__ import annotations

import re
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


def stubs(results: Sequence[object]) -> set[str]:
    """The functions that results call "not implemented yet" (still the template's stubs)."""
    found = set()
    for result in results:
        for part in getattr(result, "feedback", "").split("not implemented yet: ")[1:]:
            name = part.split(" ")[0].strip(".,:;()")
            if name:
                found.add(name)
    return found


def waits_on_a_stub(feedback: str, stub_names: set[str]) -> bool:
    """A result that could not be tried because a stub came first ("not tried: build_encoder failed",
    "skipped: training your VAE failed (build_vae_encoder: ...)"): the stub is the cause, not this item."""
    if "not tried: " not in feedback and not feedback.startswith("skipped"):
        return False
    return any(re.search(rf"\b{re.escape(name)}\b", feedback) for name in stub_names)


def not_started(results: Sequence[object]) -> list[str]:
    """Exercises whose automatic items all still see the template (and at least one says so).

    A constant the template sets to a number (``VAE_EPOCHS = 0``) does not start an exercise whose
    functions are all stubs; an item that waits on a stub counts as the stub's."""
    auto = [r for r in results if getattr(r, "kind", "auto") == "auto"]
    stub_names = stubs(auto)
    by_exercise: dict[str, list[object]] = {}
    for result in auto:
        by_exercise.setdefault(result.exercise, []).append(result)  # type: ignore[attr-defined]
    started_not = []
    for exercise, group in by_exercise.items():
        code = [r for r in group if not getattr(r, "check", "").startswith("constant")] or group
        waiting = [waits_on_a_stub(r.feedback, stub_names) for r in code]  # type: ignore[attr-defined]
        template = [untouched(r.feedback, r.status, getattr(r, "probes", ())) for r in code]  # type: ignore[attr-defined]
        says_so = [t and r.status != "skipped" for t, r in zip(template, code, strict=True)]  # type: ignore[attr-defined]
        if all(w or t for w, t in zip(waiting, template, strict=True)) and any(waiting + says_so):
            started_not.append(exercise)
    return started_not
