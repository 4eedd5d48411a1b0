"""Training stages: each assignment declares its stages once; the engine only reads declarations.

A stage is a model the grader trains under the rubric's budget. One :class:`Stage` says
everything the engine needs to know about it: what it is in the student's words, which
probe builds its models without training, which stages it starts from, its metrics, its
retry rule, its calibrated thresholds, the check that grades it and its figures. The
assignments declare their stages in ``grader/assignments/<name>/stages.py``; the session
(training and retries), calibration, rubric validation, grading messages and report
figures iterate over :func:`grader.assignments.registry.declared_stages` and name no stage themselves.

The worker trains a stage with the trainer registered under the stage's name
(``@trainer(name)`` in the assignment's ``probes.py``, which answers the probe ``train:<name>``). The
parent never imports the worker's modules, so a declaration names its probes by string;
:func:`build_stages` checks them against the checks that read them when the declarations
load, and ``tests/test_stages.py`` checks them against the worker's registry.

**The retry rule.** A degenerate attempt (the stage's rule says why: a dead latent
dimension, a NaN loss, a metric beyond its calibrated threshold) is retrained with the next
seed, up to the budget's ``retries``; the attempt with the lowest badness is kept. Seeds
derive from the rubric seed, so a re-run makes the same attempts and keeps the same one.

**Adding a stage.** Most stages are data: a rubric's ``[stages.NAME]`` table, from which
``grader/data_stages.py`` derives the whole declaration (docs/authoring.md). A stage data cannot
describe is Python, in the assignment's package: register its trainer in ``probes.py``
(``@trainer("name")``), write the check that grades it in ``checks`` (it reads the probe
``train:name``) and declare the :class:`Stage` in ``stages.py`` (``STAGES``); the registry finds
them (docs/authoring.md, "A training stage in Python"). Give the stage ``epochs`` and
``batch_size`` in the rubric's budget; ``grader calibrate`` then sets its thresholds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # the check registry imports the assignments' stages: no import at load time
    from grader.checks.base import CheckSpec

# (probe data, probe arrays, parent-only expected data) -> metrics
Metrics = Callable[[Mapping[str, Any], Mapping[str, np.ndarray], Mapping[str, Any]], dict[str, Any]]
# (probe data, probe arrays, parent-only expected data) -> a matplotlib figure, or None to draw nothing
Draw = Callable[[Mapping[str, Any], Mapping[str, np.ndarray], Mapping[str, Any]], Any]
DIRECTIONS = ("upper", "lower")


class StageDeclarationError(Exception):
    """An assignment's stage declaration is inconsistent; the message names the file, stage and field."""


@dataclass(frozen=True)
class Threshold:
    """A threshold ``grader calibrate`` sets a margin beyond the reference's worst value.

    ``upper``: lower is better, threshold = worst * (1 + margin); ``lower``: higher is
    better, threshold = max(worst - margin, floor). An item's ``params.margin`` overrides
    the default margin, and the item's param of the same name is the fallback value.
    """

    name: str  # the item parameter it sets, e.g. "test_mse_max"
    metric: str  # the metric the stage's check reports, e.g. "test_mse"
    direction: str
    margin: float
    floor: float | None = None  # e.g. chance for an accuracy: a threshold never goes below it


@dataclass(frozen=True)
class StageFigure:
    """A picture of the trained models in the report, shown with the items of ``check``."""

    name: str
    probe: str  # drawn from this probe's reply: the stage's trainer or a probe that uses the stage
    check: str
    draw: Draw


@dataclass(frozen=True)
class Stage:
    name: str  # the budget's key (epochs.<name>, batch_size.<name>) and the worker's trainer
    what: str  # in the student's words: "training your autoencoder"
    runs: str  # the student code its training runs, for hang and crash messages
    builder_probe: str  # builds the models without training; when it hung or crashed, no training
    check: str  # grades the training; its items' thresholds drive the retry rule
    metrics: Metrics
    degenerate: Callable[[Mapping[str, Any], Mapping[str, float]], str | None]  # why to retry, or None
    badness: Callable[[Mapping[str, Any]], float]  # lower is better: the attempt kept
    thresholds: tuple[Threshold, ...] = ()
    depends_on: tuple[str, ...] = ()  # stages whose trained models its training starts from
    used_by: tuple[str, ...] = ()  # probes that use its trained models in the worker
    figures: tuple[StageFigure, ...] = ()
    args: Mapping[str, Any] = field(default_factory=dict)  # sent with every training request (data stages)

    @property
    def probe(self) -> str:
        """The worker's training probe (``@trainer(name)`` registers it under this name)."""
        return f"train:{self.name}"


@dataclass(frozen=True)
class Stages:
    """Every declared stage, in declaration order."""

    by_name: Mapping[str, Stage] = field(default_factory=dict)

    def __iter__(self) -> Iterator[Stage]:
        return iter(self.by_name.values())

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.by_name)

    def get(self, name: str) -> Stage:
        return self.by_name[name]

    def trained_by(self, probe: str) -> Stage | None:
        """The stage that ``probe`` trains, if it is a training probe."""
        return next((stage for stage in self if stage.probe == probe), None)

    def used_by(self, probe: str) -> tuple[Stage, ...]:
        """The stages whose trained models ``probe`` uses."""
        return tuple(stage for stage in self if probe in stage.used_by)

    def graded_by(self, check: str) -> Stage | None:
        return next((stage for stage in self if stage.check == check), None)

    def needed_by(self, probe: str) -> tuple[Stage, ...]:
        """Every stage that must be trained before ``probe`` can answer, dependencies first."""
        needed: list[Stage] = []

        def add(stage: Stage) -> None:
            for name in stage.depends_on:
                add(self.get(name))
            if stage not in needed:
                needed.append(stage)

        trained = self.trained_by(probe)
        for stage in self.used_by(probe) + ((trained,) if trained else ()):
            add(stage)
        return tuple(needed)

    def figures(self) -> tuple[StageFigure, ...]:
        return tuple(figure for stage in self for figure in stage.figures)

    def figures_by_check(self) -> dict[str, tuple[str, ...]]:
        """check -> the names of the figures its items show."""
        shown: dict[str, tuple[str, ...]] = {}
        for figure in self.figures():
            shown[figure.check] = shown.get(figure.check, ()) + (figure.name,)
        return shown


def build_stages(declarations: Mapping[str, Sequence[Stage]], checks: Mapping[str, CheckSpec]) -> Stages:
    """The assignments' declarations (assignment -> its stages) checked against each other and
    against the checks that read them; a mismatch is a :class:`StageDeclarationError`."""
    by_name: dict[str, Stage] = {}
    where: dict[str, str] = {}
    read_by_checks = {probe for spec in checks.values() if not callable(spec.probes) for probe in spec.probes}
    for assignment, stages in declarations.items():
        for stage in stages:
            label = f"grader/assignments/{assignment}/stages.py: stage '{stage.name}'"
            if stage.name in by_name:
                raise StageDeclarationError(f"{label}: field 'name': also declared in {where[stage.name]}")
            _validate(stage, label, by_name, checks, read_by_checks)
            by_name[stage.name] = stage
            where[stage.name] = f"grader/assignments/{assignment}/stages.py"
    _validate_shared(list(by_name.values()), where)
    return Stages(by_name)


def _validate(
    stage: Stage,
    label: str,
    earlier: Mapping[str, Stage],
    checks: Mapping[str, CheckSpec],
    read_by_checks: set[str],
) -> None:
    def fail(name: str, message: str) -> StageDeclarationError:
        return StageDeclarationError(f"{label}: field '{name}': {message}")

    if not stage.name or not stage.name.isidentifier():
        raise fail("name", "must be a Python identifier such as 'encoder_training'")
    for name in stage.depends_on:
        if name not in earlier:  # declared earlier: dependencies can never form a cycle
            known = ", ".join(earlier) or "none"
            raise fail("depends_on", f"unknown stage '{name}' (stages declared before it: {known})")
    if stage.check not in checks:
        raise fail("check", f"unknown check '{stage.check}'")
    spec = checks[stage.check]
    if not callable(spec.probes) and stage.probe not in spec.probes:
        raise fail("check", f"check '{stage.check}' does not read the training probe '{stage.probe}'")
    # A rubric's model:<function> probe is read by the checks its items name (checked as the rubric loads).
    if stage.builder_probe not in read_by_checks and not stage.builder_probe.startswith("model:"):
        raise fail("builder_probe", f"no check reads a probe '{stage.builder_probe}'")
    for threshold in stage.thresholds:
        if threshold.direction not in DIRECTIONS:
            raise fail("thresholds", f"'{threshold.name}': direction must be one of {', '.join(DIRECTIONS)}")
        if threshold.name not in spec.required_params:
            raise fail(
                "thresholds",
                f"'{threshold.name}' is not a parameter of check '{stage.check}' "
                f"(it reads {', '.join(spec.required_params) or 'none'})",
            )
    for figure in stage.figures:
        if figure.probe not in (stage.probe, *stage.used_by):
            raise fail(
                "figures",
                f"'{figure.name}' is drawn from '{figure.probe}', which neither trains nor uses this stage",
            )
        if figure.check not in checks:
            raise fail("figures", f"'{figure.name}': unknown check '{figure.check}'")


def _validate_shared(stages: list[Stage], where: Mapping[str, str]) -> None:
    """What must be unique over all assignments: the check that grades a stage, figure names."""
    graders: dict[str, str] = {}
    figures: dict[str, str] = {}
    for stage in stages:
        label = f"{where[stage.name]}: stage '{stage.name}'"
        if stage.check in graders:
            raise StageDeclarationError(
                f"{label}: field 'check': '{stage.check}' already grades stage '{graders[stage.check]}'"
            )
        graders[stage.check] = stage.name
        for figure in stage.figures:
            if figure.name in figures:
                other = figures[figure.name]
                raise StageDeclarationError(
                    f"{label}: field 'figures': '{figure.name}' is also a figure of stage '{other}'"
                )
            figures[figure.name] = stage.name


def attempt_seeds(seed: int, retries: int) -> list[int]:
    """The seeds of successive attempts: the rubric seed, then the next ones."""
    return [seed + attempt for attempt in range(retries + 1)]
