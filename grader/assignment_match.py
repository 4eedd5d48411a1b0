"""Which assignment a submission is for, from the contract names it defines.

``grader grade`` without ``--rubric`` picks the shipped rubric whose contract functions
the submission defines the largest share of. The same coverage tells a submission for
another assignment (a ``sheet10`` notebook in an ``autoencoders`` class) from a weak
attempt at the right one: see :func:`wrong_assignment` for the rule.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

# "Almost none" of the graded rubric's functions, and a clear match with another rubric.
ALMOST_NONE = 0.2
CLEAR_MATCH = 0.5
NAMES_SHOWN = 2  # the batch progress line keeps 160 characters of the message


@dataclass(frozen=True)
class Coverage:
    """The contract functions of one rubric that a submission defines."""

    rubric: str
    defined: tuple[str, ...]  # in the contract's order
    total: int

    @property
    def fraction(self) -> float:
        return len(self.defined) / max(self.total, 1)


def defined_functions(sources: Iterable[str]) -> set[str]:
    """Names of the module-level functions in ``sources`` (cells that do not parse are skipped)."""
    from grader.threadsafe import parse_source

    names: set[str] = set()
    for source in sources:
        try:
            tree = parse_source(source)
        except SyntaxError:
            continue
        names.update(node.name for node in tree.body if isinstance(node, ast.FunctionDef))
    return names


def coverage(defined: set[str], rubric: str, functions: Sequence[str]) -> Coverage:
    return Coverage(rubric, tuple(name for name in functions if name in defined), len(functions))


def best_match(coverages: Sequence[Coverage]) -> Coverage | None:
    """The rubric with the largest share defined; None when nothing matches or two rubrics tie."""
    ranked = sorted(coverages, key=lambda c: -c.fraction)
    if not ranked or ranked[0].fraction == 0:
        return None
    if len(ranked) > 1 and ranked[0].fraction == ranked[1].fraction:
        return None
    return ranked[0]


def wrong_assignment(graded: Coverage, others: Sequence[Coverage]) -> str:
    """A one-line message when the submission looks like another assignment's; "" otherwise.

    The rule: the submission defines at most ALMOST_NONE of the graded rubric's functions,
    and at least CLEAR_MATCH of another shipped rubric's, and a larger share of it. A
    weak attempt at the right assignment (a template with a few stubs filled in, or a file
    with two of its functions) matches no other rubric, so it is graded as usual.
    """
    if graded.fraction > ALMOST_NONE:
        return ""
    candidates = [c for c in others if c.rubric != graded.rubric]
    match = best_match(candidates)
    if match is None or match.fraction < CLEAR_MATCH or match.fraction <= graded.fraction:
        return ""
    names = ", ".join(match.defined[:NAMES_SHOWN]) + (", ..." if len(match.defined) > NAMES_SHOWN else "")
    return (
        f"this looks like a `{match.rubric}` submission (defines {names}), not `{graded.rubric}`: "
        f"wrong file or wrong --rubric?"
    )


def shipped_contracts() -> Mapping[str, tuple[str, ...]]:
    """rubric name -> its contract functions, for every shipped rubric that loads."""
    from grader.rubric import RubricError, list_rubrics, load_rubric

    contracts = {}
    for name in list_rubrics():
        try:
            contracts[name] = tuple(load_rubric(name).contract.functions)
        except RubricError:
            continue
    return contracts
