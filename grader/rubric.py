"""Rubrics are data: TOML files in ``rubrics/`` (docs/architecture.md, principle 1).

A rubric lists the assignment's contract (the names a submission defines), the
training budget, and the items. Loading validates everything; a bad rubric is a
:class:`RubricError` that names the file, the item and the field.
"""

from __future__ import annotations

import hashlib
import os
import sys
import sysconfig
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from grader.assignments.registry import all_checks, register_diagnoses, stage_declarations
from grader.checks.base import CheckSpec
from grader.data_stages import StageSpec, check_of, parse_stages, stage_of
from grader.functions import FunctionSpec, FunctionSpecError, parse_functions
from grader.model_specs import ModelSpec, ModelSpecError, PlotSpec, parse_models, parse_plots
from grader.stages import StageDeclarationError, Stages, build_stages

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

KINDS = ("auto", "manual")
VISIBILITIES = ("public", "hidden")
ITEM_FIELDS = ("id", "exercise", "title", "points", "check", "kind", "visibility", "timeout_s")
OPTIONAL_ITEM_FIELDS = ("params", "criteria", "figures")


class RubricError(Exception):
    """A rubric file is invalid; the message names the file, the item and the field."""


@dataclass(frozen=True)
class Criterion:
    """One thing a written answer earns points for; the reviewer ticks it (grader review)."""

    points: float
    text: str


@dataclass(frozen=True)
class Item:
    id: str
    exercise: str
    title: str
    points: float
    check: str
    kind: str
    visibility: str
    timeout_s: float
    params: dict[str, Any] = field(default_factory=dict)
    criteria: tuple[Criterion, ...] = ()  # manual items only: their points add up to `points`
    figures: tuple[str, ...] = ()  # manual items only: the report's figures the question is about

    @property
    def is_manual(self) -> bool:
        return self.kind == "manual"


@dataclass(frozen=True)
class Budget:
    """How the grader trains student models: the same for every submission."""

    name: str
    seed: int
    retries: int
    train_samples: int
    test_samples: int
    epochs: dict[str, int]
    batch_size: dict[str, int]

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "seed": self.seed,
            "retries": self.retries,
            "train_samples": self.train_samples,
            "test_samples": self.test_samples,
            "epochs": dict(self.epochs),
            "batch_size": dict(self.batch_size),
        }

    def with_seed(self, seed: int) -> Budget:
        return replace(self, seed=seed)


@dataclass(frozen=True)
class Contract:
    functions: tuple[str, ...]
    constants: tuple[str, ...]
    answers: tuple[str, ...]


@dataclass(frozen=True)
class Rubric:
    name: str
    title: str
    path: Path
    sha256: str
    contract: Contract
    budgets: dict[str, Budget]
    items: tuple[Item, ...]
    load_timeout_s: float = 120.0
    reference_artifacts: bool = False  # items get inputs made from the trained reference
    tensorflow: bool = True  # False: the worker does not import TensorFlow up front
    reference: Path = Path()  # the reference solution (the rubric's `reference` key, relative to it)
    template: Path | None = None  # the student template (the `template` key), if the rubric names one
    functions: dict[str, FunctionSpec] = field(default_factory=dict)  # function exercises and their cases
    # A student kit's or an autograder's rubric (grader/distribution/): the reference's results on this
    # rubric's cases, computed when the kit was built, and the sha256 of the reference they came from.
    precomputed: Path | None = None
    reference_sha256: str = ""
    # Models, plots and training stages declared as data (grader/model_specs.py, grader/data_stages.py)
    models: dict[str, ModelSpec] = field(default_factory=dict)
    plots: dict[str, PlotSpec] = field(default_factory=dict)
    data_stages: dict[str, StageSpec] = field(default_factory=dict)
    # Every stage and check this rubric's items can use: the assignments' Python ones and its own.
    stages: Stages = field(default_factory=Stages, compare=False, repr=False)
    checks: Mapping[str, CheckSpec] = field(default_factory=dict, compare=False, repr=False)

    def __getstate__(self) -> dict[str, Any]:
        """Pickled without its stages and checks (the Python stages hold lambdas): rebuilt on arrival,
        so a batch task's rubric travels to a worker process or another machine."""
        state = dict(self.__dict__)
        del state["stages"], state["checks"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        for key, value in state.items():
            object.__setattr__(self, key, value)
        checks, stages = _checks_and_stages(self.name, self.data_stages, self.path.name)
        object.__setattr__(self, "checks", checks)
        object.__setattr__(self, "stages", stages)

    def probe_args(self) -> dict[str, dict[str, Any]]:
        """The arguments of the probes the rubric's tables declare (functions, models, plots)."""
        specs = [*self.functions.values(), *self.models.values(), *self.plots.values()]
        return {spec.probe: spec.probe_args() for spec in specs}

    @property
    def budget(self) -> Budget:
        return self.budgets["default"]

    def budget_named(self, name: str) -> Budget:
        if name not in self.budgets:
            raise RubricError(
                f"{self.path.name}: no budget named '{name}' (known: {', '.join(sorted(self.budgets))})"
            )
        return self.budgets[name]

    @property
    def max_score(self) -> float:
        return sum(item.points for item in self.items)

    @property
    def calibration_path(self) -> Path:
        """Where the calibration is read: the user cache's copy when `grader calibrate` wrote one
        there (for an installed rubric), else the file beside the rubric."""
        cached = self._cached_calibration
        return cached if not _writable_folder(self.path.parent) and cached.exists() else self._beside

    @property
    def calibration_write_path(self) -> Path:
        """Where `grader calibrate` writes: beside the rubric, or the user cache for an installed
        rubric (never into site-packages)."""
        return self._beside if _writable_folder(self.path.parent) else self._cached_calibration

    @property
    def _beside(self) -> Path:
        return self.path.with_name(f"{self.name}.calibration.json")

    @property
    def _cached_calibration(self) -> Path:
        from grader.data import user_cache_dir

        where = hashlib.sha256(str(self.path.resolve()).encode()).hexdigest()[:12]
        return user_cache_dir() / "calibration" / f"{self.name}-{where}.calibration.json"

    @property
    def reference_digest(self) -> str:
        """The sha256 of the reference source (what calibration and caches are keyed by)."""
        if self.reference_sha256:
            return self.reference_sha256
        if not self.reference.is_file():
            raise RubricError(f"{self.path.name}: no reference solution {self.reference}")
        return hashlib.sha256(self.reference.read_bytes()).hexdigest()

    def item(self, item_id: str) -> Item:
        for item in self.items:
            if item.id == item_id:
                return item
        raise KeyError(item_id)


def rubrics_dir() -> Path:
    """The shipped rubrics: ``rubrics/`` beside the ``grader`` package, in a checkout or site-packages."""
    return Path(__file__).resolve().parent.parent / "rubrics"


def _writable_folder(folder: Path) -> bool:
    """False inside an installed package (site-packages) or a folder this user cannot write."""
    installed = {Path(sysconfig.get_paths()[key]).resolve() for key in ("purelib", "platlib")}
    resolved = folder.resolve()
    if any(resolved == root or root in resolved.parents for root in installed):
        return False
    return os.access(resolved, os.W_OK)


def list_rubrics() -> list[str]:
    return sorted(path.stem for path in rubrics_dir().glob("*.toml"))


def load_rubric(name_or_path: str | Path) -> Rubric:
    """Load a shipped rubric by name (``autoencoders``) or any rubric file by path."""
    path = Path(name_or_path)
    if path.suffix != ".toml":
        path = rubrics_dir() / f"{name_or_path}.toml"
        if not path.exists():
            raise RubricError(f"unknown rubric '{name_or_path}' (known: {', '.join(list_rubrics())})")
    if not path.exists():
        raise RubricError(f"rubric file not found: {path}")
    raw_bytes = path.read_bytes()
    try:
        raw = tomllib.loads(raw_bytes.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise RubricError(f"{path.name}: not valid TOML ({exc})") from None
    return _parse(raw, path, hashlib.sha256(raw_bytes).hexdigest())


def _parse(raw: dict[str, Any], path: Path, sha: str) -> Rubric:
    where = path.name
    name = _field(raw, "assignment", str, where)
    contract_raw = _field(raw, "contract", dict, where)
    contract = Contract(
        functions=tuple(_field(contract_raw, "functions", list, f"{where} [contract]")),
        constants=tuple(_field(contract_raw, "constants", list, f"{where} [contract]")),
        answers=tuple(_field(contract_raw, "answers", list, f"{where} [contract]")),
    )
    try:
        models = parse_models(raw.get("models", {}), contract.functions)
        plots = parse_plots(raw.get("plots", {}), contract.functions)
        data_stages = parse_stages(raw.get("stages", {}), models, contract.functions)
    except ModelSpecError as exc:
        raise RubricError(f"{where}: {exc}") from None
    checks, stages = _checks_and_stages(name, data_stages, where)
    budgets = {"default": _parse_budget("default", _field(raw, "budget", dict, where), where, stages)}
    for budget_name, table in raw.get("budgets", {}).items():
        merged = _merge(raw["budget"], table)
        budgets[budget_name] = _parse_budget(budget_name, merged, where, stages)
    try:
        functions = parse_functions(raw.get("functions", {}))
    except FunctionSpecError as exc:
        raise RubricError(f"{where}: {exc}") from None
    for function in functions:  # a function exercise is part of the contract: a typo is caught here
        if function not in contract.functions:
            raise RubricError(
                f"{where}: [functions.{function}]: not a function of the contract "
                f"({', '.join(contract.functions)})"
            )
    items_raw = _field(raw, "items", list, where)
    items = tuple(
        _parse_item(entry, index, where, functions, checks) for index, entry in enumerate(items_raw)
    )
    models = _with_default_models(items, models, plots, checks, contract, where)
    seen: set[str] = set()
    for item in items:
        if item.id in seen:
            raise RubricError(f"{where}: item '{item.id}': field 'id': duplicate id")
        seen.add(item.id)
    for budget in budgets.values():
        _validate_trained_stages(items, budget, stages, checks, where)
    _validate_figures(items, stages, checks, where)
    return Rubric(
        name=name,
        title=str(raw.get("title", name)),
        path=path,
        sha256=sha,
        contract=contract,
        budgets=budgets,
        items=items,
        load_timeout_s=float(raw.get("load_timeout_s", 120.0)),
        reference_artifacts=bool(raw.get("reference_artifacts", False)),
        tensorflow=bool(raw.get("tensorflow", True)),
        reference=_relative_file(raw, "reference", path, f"../reference/{name}.py"),
        template=_relative_file(raw, "template", path, None),
        functions=functions,
        precomputed=_relative_file(raw, "precomputed", path, None),
        reference_sha256=str(raw.get("reference_sha256", "")),
        models=models,
        plots=plots,
        data_stages=data_stages,
        stages=stages,
        checks=checks,
    )


def _checks_and_stages(
    name: str, data_stages: dict[str, StageSpec], where: str
) -> tuple[dict[str, CheckSpec], Stages]:
    """The engine's and the assignments' checks and stages, with the ones this rubric declares."""
    register_diagnoses()
    checks = dict(all_checks())
    for spec in data_stages.values():
        if spec.check in checks:
            raise RubricError(
                f"{where}: [stages.{spec.name}]: field 'check': '{spec.check}' is already a check; "
                "name the stage's check differently"
            )
        checks[spec.check] = check_of(spec)
    declarations = {key: list(value) for key, value in stage_declarations().items()}
    declarations[name] = declarations.get(name, []) + [stage_of(spec) for spec in data_stages.values()]
    try:
        return checks, build_stages(declarations, checks)
    except StageDeclarationError as exc:
        raise RubricError(f"{where}: {exc}") from None


def _with_default_models(
    items: tuple[Item, ...],
    models: dict[str, ModelSpec],
    plots: dict[str, PlotSpec],
    checks: Mapping[str, CheckSpec],
    contract: Contract,
    where: str,
) -> dict[str, ModelSpec]:
    """Every ``model:<function>`` an item reads, with its table or the defaults (no arguments, one model);
    every ``plot:<function>`` must have its table (its arguments are grader-made inputs)."""
    models = dict(models)
    for item in items:
        if item.is_manual:
            continue
        for probe in checks[item.check].probes_for(item.params):
            family, _, function = probe.partition(":")
            if family not in ("model", "plot"):
                continue
            label = f"{where}: item '{item.id}': field 'params'"
            if function not in contract.functions:
                raise RubricError(f"{label}: '{function}' is not a function of the contract")
            if family == "plot" and function not in plots:
                raise RubricError(f"{label}: no [plots.{function}] table gives the arguments of {function}")
            if family == "model" and function not in models:
                models[function] = ModelSpec(function)
            if family == "model" and item.params.get("part") not in (None, *models[function].returns):
                raise RubricError(
                    f"{label}.part: '{item.params['part']}' is not one of the models {function} returns "
                    f"({', '.join(models[function].returns)})"
                )
    return models


def _relative_file(raw: dict[str, Any], key: str, path: Path, default: str | None) -> Path | None:
    """A file the rubric names relative to its own folder (a rubric may live in any folder)."""
    value = raw.get(key, default)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise RubricError(f"{path.name}: field '{key}': must be a file name relative to the rubric")
    return (path.parent / value).resolve()


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        merged[key] = _merge(base.get(key, {}), value) if isinstance(value, dict) else value
    return merged


def _budget_label(where: str, name: str) -> str:
    return f"{where} [budget{'' if name == 'default' else 's.' + name}]"


def _parse_budget(name: str, table: dict[str, Any], where: str, stages: Stages) -> Budget:
    where = _budget_label(where, name)
    epochs = _field(table, "epochs", dict, where)
    batch_size = _field(table, "batch_size", dict, where)
    for label, mapping in (("epochs", epochs), ("batch_size", batch_size)):
        for stage, value in mapping.items():
            if stage not in stages.names:
                raise RubricError(
                    f"{where}: field '{label}.{stage}': unknown stage (known: {', '.join(stages.names)})"
                )
            if not isinstance(value, int) or value < 1:
                raise RubricError(f"{where}: field '{label}.{stage}': must be a positive integer")
    budget = Budget(
        name=name,
        seed=_field(table, "seed", int, where),
        retries=_field(table, "retries", int, where),
        train_samples=_field(table, "train_samples", int, where),
        test_samples=_field(table, "test_samples", int, where),
        epochs=dict(epochs),
        batch_size=dict(batch_size),
    )
    for label in ("retries", "train_samples", "test_samples"):
        if getattr(budget, label) < (0 if label == "retries" else 1):
            raise RubricError(f"{where}: field '{label}': must not be negative or zero")
    return budget


def _validate_trained_stages(
    items: tuple[Item, ...], budget: Budget, stages: Stages, CHECKS: Mapping[str, CheckSpec], where: str
) -> None:
    """Every stage an automatic item needs trained (with what it starts from) is in the budget."""
    for item in items:
        if item.is_manual:
            continue
        for probe in CHECKS[item.check].probes_for(item.params):
            for stage in stages.needed_by(probe):
                for label, mapping in (("epochs", budget.epochs), ("batch_size", budget.batch_size)):
                    if stage.name not in mapping:
                        raise RubricError(
                            f"{_budget_label(where, budget.name)}: field '{label}.{stage.name}': missing "
                            f"(item '{item.id}' needs {stage.what})"
                        )


def _parse_item(
    entry: Any, index: int, where: str, functions: dict[str, FunctionSpec], checks: Mapping[str, CheckSpec]
) -> Item:
    if not isinstance(entry, dict):
        raise RubricError(f"{where}: item #{index + 1}: must be a table")
    label = f"{where}: item '{entry.get('id', f'#{index + 1}')}'"
    for name in ITEM_FIELDS:
        if name not in entry:
            raise RubricError(f"{label}: field '{name}': missing")
    unknown = set(entry) - set(ITEM_FIELDS) - set(OPTIONAL_ITEM_FIELDS)
    if unknown:
        raise RubricError(f"{label}: field '{sorted(unknown)[0]}': unknown field")
    points = entry["points"]
    if isinstance(points, bool) or not isinstance(points, (int, float)):
        raise RubricError(f"{label}: field 'points': must be a number")
    if points < 0:
        raise RubricError(f"{label}: field 'points': must not be negative")
    if entry["kind"] not in KINDS:
        raise RubricError(f"{label}: field 'kind': must be one of {', '.join(KINDS)}")
    if entry["visibility"] not in VISIBILITIES:
        raise RubricError(f"{label}: field 'visibility': must be one of {', '.join(VISIBILITIES)}")
    timeout = entry["timeout_s"]
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
        raise RubricError(f"{label}: field 'timeout_s': must be a positive number")
    params = entry.get("params", {})
    if not isinstance(params, dict):
        raise RubricError(f"{label}: field 'params': must be a table")
    for name in ("id", "exercise", "title", "check"):
        if not isinstance(entry[name], str) or not entry[name]:
            raise RubricError(f"{label}: field '{name}': must be a non-empty string")
    _validate_check(entry["check"], entry["kind"], params, label, functions, checks)
    criteria = _parse_criteria(entry, float(points), label)
    figures = entry.get("figures", [])
    if figures and entry["kind"] != "manual":
        raise RubricError(f"{label}: field 'figures': only a manual item lists figures")
    if not isinstance(figures, list) or not all(isinstance(name, str) and name for name in figures):
        raise RubricError(f"{label}: field 'figures': must be a list of figure names")
    return Item(
        id=entry["id"],
        exercise=entry["exercise"],
        title=entry["title"],
        points=float(points),
        check=entry["check"],
        kind=entry["kind"],
        visibility=entry["visibility"],
        timeout_s=float(timeout),
        params=params,
        criteria=criteria,
        figures=tuple(figures),
    )


def figure_names(items: tuple[Item, ...], stages: Stages, CHECKS: Mapping[str, CheckSpec]) -> list[str]:
    """The figures a report of these items can have: the stages' pictures of trained models and the
    student's own plots (named by the probe that drew them)."""
    probes = [p for i in items if not i.is_manual for p in CHECKS[i.check].probes_for(i.params)]
    return list(dict.fromkeys([figure.name for figure in stages.figures()] + probes))


def _validate_figures(
    items: tuple[Item, ...], stages: Stages, checks: Mapping[str, CheckSpec], where: str
) -> None:
    """A written question's ``figures`` name figures a report can have (grader review shows them)."""
    known = figure_names(items, stages, checks)
    for item in items:
        for name in item.figures:
            if name not in known:
                raise RubricError(
                    f"{where}: item '{item.id}': field 'figures': unknown figure '{name}' "
                    f"(known: {', '.join(known)})"
                )


def _parse_criteria(entry: dict[str, Any], points: float, label: str) -> tuple[Criterion, ...]:
    """A manual item's ``criteria = [{ points = 0.25, text = "..." }, ...]``, adding up to its points."""
    if "criteria" not in entry:
        return ()
    raw = entry["criteria"]
    if entry["kind"] != "manual":
        raise RubricError(f"{label}: field 'criteria': only a manual item lists criteria")
    if not isinstance(raw, list) or not raw:
        raise RubricError(f"{label}: field 'criteria': must be a non-empty list of {{ points, text }} tables")
    criteria = []
    for number, criterion in enumerate(raw, start=1):
        where = f"{label}: field 'criteria', criterion {number}"
        if not isinstance(criterion, dict):
            raise RubricError(f'{where}: must be a table {{ points = ..., text = "..." }}')
        unknown = sorted(set(criterion) - {"points", "text"})
        if unknown:
            raise RubricError(f"{where}: field '{unknown[0]}': unknown field (use points and text)")
        value, text = criterion.get("points"), criterion.get("text")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise RubricError(f"{where}: field 'points': must be a positive number")
        if not isinstance(text, str) or not text.strip():
            raise RubricError(f"{where}: field 'text': must be a non-empty string")
        criteria.append(Criterion(float(value), text.strip()))
    total = sum(c.points for c in criteria)
    if abs(total - points) > 1e-9:
        raise RubricError(
            f"{label}: field 'criteria': the criteria's points add up to {total:g}, "
            f"the item is worth {points:g}"
        )
    return tuple(criteria)


def _validate_check(
    check: str,
    kind: str,
    params: dict[str, Any],
    label: str,
    functions: dict[str, FunctionSpec],
    CHECKS: Mapping[str, CheckSpec],
) -> None:

    if kind == "manual":
        if check != "manual":
            raise RubricError(f"{label}: field 'check': a manual item uses check = \"manual\"")
        return
    if check not in CHECKS:
        raise RubricError(f"{label}: field 'check': unknown check '{check}'")
    missing = [name for name in CHECKS[check].required_params if name not in params]
    if missing:
        raise RubricError(f"{label}: field 'params.{missing[0]}': missing (check '{check}' needs it)")
    problem = CHECKS[check].validate(params, functions) if CHECKS[check].validate else None
    if problem:
        raise RubricError(f"{label}: {problem}")


def _field(table: dict[str, Any], name: str, kind: type, where: str) -> Any:
    if name not in table:
        raise RubricError(f"{where}: field '{name}': missing")
    value = table[name]
    if kind is int and isinstance(value, bool) or not isinstance(value, kind):
        raise RubricError(f"{where}: field '{name}': must be a {kind.__name__}")
    return value
