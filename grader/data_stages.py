"""Training stages as data: a rubric's ``[stages.NAME]`` tables (docs/authoring.md).

A stage declared in the rubric needs no grader Python. The table names the function that
builds the compiled model, which of its models is trained, the image view, the target and the
metric; from these this module derives the whole :class:`grader.stages.Stage`: the metric (a
pure function of the raw training data), the calibrated threshold with its direction, the retry
rule for an unlucky seed and the check that grades the stage, with the same budget and attempts
text as the shipped stages::

    [stages.digits]
    model = "build_classifier"        # its [models.build_classifier] table, if any, gives args
    target = "labels"                 # labels | one_hot | input (an autoencoder)
    metric = "accuracy"               # accuracy | mse | bce | loss
    margin = 0.05                     # grader calibrate: the threshold's margin beyond the reference

The worker trains it with the probe family ``train`` (``grader/probes/declared.py``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

from grader.checks.base import CheckInputs, CheckSpec, Verdict
from grader.checks.training import attempts_text, budget_text, learning_rate_note, slow_learning_note
from grader.functions import NAME
from grader.metrics import finite, finite_or_inf, loss_fell, training_losses
from grader.model_specs import ImageView, ModelSpec, ModelSpecError, parse_image_view
from grader.stages import Stage, StageFigure, Threshold

TARGETS = ("labels", "one_hot", "input")
STAGE_FIELDS = (
    "model",
    "train",
    "images",
    "target",
    "metric",
    "margin",
    "floor",
    "check",
    "describe",
    "figure",
    "classes",
)


@dataclass(frozen=True)
class Metric:
    """A built-in metric: what it is in words, and whether higher is better."""

    words: str
    higher_is_better: bool
    percent: bool = False

    def text(self, value: float) -> str:
        return f"{value:.1%}" if self.percent else f"{value:.4f}"


METRICS = {
    "accuracy": Metric("test accuracy", True, percent=True),
    "mse": Metric("test mean squared error", False),
    "bce": Metric("test binary cross-entropy", False),
    "loss": Metric("final training loss", False),
}


@dataclass(frozen=True)
class StageSpec:
    name: str
    model: ModelSpec
    train: str  # which of the models ``model`` returns is fitted
    images: ImageView
    target: str
    metric: str
    margin: float
    floor: float | None
    check: str
    describe: str  # the model in the student's words: "dense autoencoder"
    figure: bool
    classes: int

    @property
    def key(self) -> str:
        """The metric the check reports and calibration reads: "test_accuracy", "final_loss"."""
        return "final_loss" if self.metric == "loss" else f"test_{self.metric}"

    @property
    def threshold(self) -> str:
        """The item parameter the threshold sets: "test_accuracy_min", "test_bce_max"."""
        return f"{self.key}_{'min' if METRICS[self.metric].higher_is_better else 'max'}"

    def worker_args(self) -> dict[str, Any]:
        return {
            "stage": self.name,
            "model": self.model.probe_args(),
            "train": self.train,
            "images": self.images.as_dict(),
            "target": self.target,
            "classes": self.classes,
        }


# -- metrics (pure functions of the raw training data) -------------------------------------------


def _target(spec: StageSpec, expected: Mapping[str, Any]) -> np.ndarray:
    """What the predictions are scored against, in float64 (the worker never sees it)."""
    if spec.target == "input":
        raw = expected["x_test"].astype(np.float64) / 255.0
        if spec.images.size == 32:
            raw = np.pad(raw, ((0, 0), (2, 2), (2, 2)))
        return raw.reshape((len(raw), *spec.images.shape))
    labels = np.asarray(expected["y_test"])
    return labels if spec.metric == "accuracy" else np.eye(spec.classes)[labels]


def _compared(predictions: np.ndarray, target: np.ndarray) -> np.ndarray | None:
    """The predictions in the target's shape, or None (a different size, or not finite)."""
    if predictions.size != target.size or not np.all(np.isfinite(predictions)):
        return None
    return predictions.astype(np.float64).reshape(target.shape)


def measure(spec: StageSpec, predictions: np.ndarray, target: np.ndarray, losses: list[Any]) -> float:
    """The stage's metric; the worst value (0 or infinity) when the predictions cannot be scored."""
    if spec.metric == "loss":
        usable = [value for value in losses if value is not None]
        return float(usable[-1]) if usable and math.isfinite(usable[-1]) else math.inf
    if spec.metric == "accuracy":
        usable = predictions.ndim == 2 and predictions.shape[0] == len(target) and predictions.shape[1] > 1
        if not usable or not np.all(np.isfinite(predictions)):
            return 0.0
        return float(np.mean(predictions.argmax(axis=1) == target))
    compared = _compared(predictions, target)
    if compared is None:
        return math.inf
    if spec.metric == "mse":
        return float(np.mean((compared - target) ** 2))
    p = np.clip(compared, 1e-7, 1 - 1e-7)
    return float(-np.mean(target * np.log(p) + (1 - target) * np.log(1 - p)))


def stage_metrics(
    spec: StageSpec, data: Mapping[str, Any], arrays: Mapping[str, np.ndarray], expected: Mapping[str, Any]
) -> dict[str, Any]:
    losses = training_losses(data)
    value = measure(spec, arrays["predictions"], _target(spec, expected), losses)
    return {spec.key: value, "loss_fell": loss_fell(losses), "finite": finite(losses)}


def _passes(spec: StageSpec, value: float, limit: float) -> bool:
    return value >= limit if METRICS[spec.metric].higher_is_better else value <= limit


def _side(spec: StageSpec) -> str:
    return "below" if METRICS[spec.metric].higher_is_better else "above"


def degenerate(spec: StageSpec, metrics: Mapping[str, Any], thresholds: Mapping[str, float]) -> str | None:
    """The retry rule: a NaN loss, or the metric beyond its calibrated threshold."""
    if not metrics["finite"]:
        return "the loss became NaN"
    limit = thresholds.get(spec.threshold)
    value = metrics[spec.key]
    if limit is not None and not _passes(spec, value, limit):
        metric = METRICS[spec.metric]
        return (
            f"the {metric.words} was {metric.text(value)}, {_side(spec)} the calibrated threshold "
            f"{metric.text(limit)}"
        )
    return None


def badness(spec: StageSpec, metrics: Mapping[str, Any]) -> float:
    value = metrics[spec.key]
    return -value if METRICS[spec.metric].higher_is_better else finite_or_inf(value)


# -- the check -----------------------------------------------------------------------------------


def grade(spec: StageSpec, inputs: CheckInputs) -> Verdict:
    """The generic check of a data stage: the loss fell and the metric is within its threshold."""
    probe = f"train:{spec.name}"
    data = inputs.probes[probe]
    metrics = stage_metrics(spec, data, inputs.arrays[probe], inputs.expected)
    metric, value = METRICS[spec.metric], metrics[spec.key]
    limit = inputs.threshold(spec.threshold)
    note, budget = attempts_text(data), budget_text(inputs, spec.name)
    measured = {spec.key: value}
    if not metrics["finite"] or not metrics["loss_fell"]:
        rate = learning_rate_note(data)  # a frozen optimizer: why the loss stood still
        return Verdict.failed(f"the training loss did not fall {budget}.{rate}{note}", **measured)
    said = f"{budget} the {metric.words} is {metric.text(value)}"
    if _passes(spec, value, limit):
        return Verdict.passed(f"{said} (threshold {metric.text(limit)}).{note}", **measured)
    return Verdict.failed(
        f"{said}, {_side(spec)} the threshold {metric.text(limit)}.{slow_learning_note(data)}{note}",
        **measured,
    )


def _reconstructions(
    spec: StageSpec, data: Mapping[str, Any], arrays: Mapping[str, np.ndarray], expected: Mapping[str, Any]
) -> Any:
    from grader.report import plots

    size = spec.images.size
    target = _target(spec, expected)[:10].reshape(-1, size, size)
    predictions = arrays["predictions"][:10]
    if predictions.size != target.size:
        return None
    title = f"Test images and your {spec.describe}'s reconstructions"
    return plots.pairs(target.astype(np.float32), predictions.reshape(target.shape), title)


def stage_of(spec: StageSpec) -> Stage:
    """The engine's Stage for a data stage: everything derived from the table."""
    metric = METRICS[spec.metric]
    figures = ()
    if spec.figure:
        figures = (
            StageFigure(
                f"{spec.name}_reconstructions",
                f"train:{spec.name}",
                spec.check,
                partial(_reconstructions, spec),
            ),
        )
    return Stage(
        name=spec.name,
        what=f"training your {spec.describe}",
        runs=f"the training of your {spec.describe}",
        builder_probe=spec.model.probe,
        check=spec.check,
        metrics=partial(stage_metrics, spec),
        degenerate=partial(degenerate, spec),
        badness=partial(badness, spec),
        thresholds=(
            Threshold(
                spec.threshold,
                spec.key,
                "lower" if metric.higher_is_better else "upper",
                spec.margin,
                spec.floor,
            ),
        ),
        figures=figures,
        args=spec.worker_args(),
    )


def check_of(spec: StageSpec) -> CheckSpec:
    return CheckSpec(
        spec.check, partial(grade, spec), (spec.model.probe, f"train:{spec.name}"), (spec.threshold,)
    )


# -- parsing -------------------------------------------------------------------------------------


def _number(table: Mapping[str, Any], name: str, where: str, default: float | None) -> float | None:
    value = table.get(name, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ModelSpecError(f"{where}: field '{name}': must be a non-negative number")
    return float(value)


def parse_stage(
    name: str, table: Any, models: Mapping[str, ModelSpec], contract: tuple[str, ...]
) -> StageSpec:
    where = f"[stages.{name}]"
    if not NAME.match(name):
        raise ModelSpecError(f"{where}: the stage's name must be a Python identifier such as 'digits'")
    if not isinstance(table, dict):
        raise ModelSpecError(f"{where}: must be a table")
    unknown = sorted(set(table) - set(STAGE_FIELDS))
    if unknown:
        raise ModelSpecError(f"{where}: field '{unknown[0]}': unknown field (use {', '.join(STAGE_FIELDS)})")
    for required in ("model", "target", "metric"):
        if required not in table:
            raise ModelSpecError(f"{where}: field '{required}': missing")
    function = table["model"]
    if function not in contract:
        raise ModelSpecError(f"{where}: field 'model': '{function}' is not a function of the contract")
    model = models.get(function, ModelSpec(function))
    train = table.get("train", model.returns[0])
    if train not in model.returns:
        raise ModelSpecError(
            f"{where}: field 'train': '{train}' is not one of the models {function} returns "
            f"({', '.join(model.returns)}; [models.{function}] names them)"
        )
    if table["target"] not in TARGETS:
        raise ModelSpecError(f"{where}: field 'target': must be one of {', '.join(TARGETS)}")
    if table["metric"] not in METRICS:
        raise ModelSpecError(f"{where}: field 'metric': must be one of {', '.join(METRICS)}")
    if table["metric"] == "accuracy" and table["target"] == "input":
        raise ModelSpecError(
            f"{where}: field 'metric': an accuracy needs labels (target 'labels' or 'one_hot')"
        )
    figure = table.get("figure", False)
    if not isinstance(figure, bool) or (figure and table["target"] != "input"):
        raise ModelSpecError(f"{where}: field 'figure': true draws reconstructions, for target 'input' only")
    classes = table.get("classes", 10)
    if isinstance(classes, bool) or not isinstance(classes, int) or classes < 2:
        raise ModelSpecError(f"{where}: field 'classes': must be an integer of at least 2")
    check = table.get("check", f"{name}_training")
    if not isinstance(check, str) or not NAME.match(check):
        raise ModelSpecError(f"{where}: field 'check': must be a name such as '{name}_training'")
    describe = table.get("describe", train)
    if not isinstance(describe, str) or not describe.strip():
        raise ModelSpecError(f"{where}: field 'describe': must be the model in the student's words")
    images = (
        parse_image_view(table["images"], f"{where}: field 'images'") if "images" in table else model.images
    )
    return StageSpec(
        name=name,
        model=model,
        train=train,
        images=images,
        target=table["target"],
        metric=table["metric"],
        margin=_number(table, "margin", where, 0.1) or 0.0,
        floor=_number(table, "floor", where, 1 / classes if table["metric"] == "accuracy" else None),
        check=check,
        describe=describe.strip(),
        figure=figure,
        classes=classes,
    )


def parse_stages(
    raw: Any, models: Mapping[str, ModelSpec], contract: tuple[str, ...]
) -> dict[str, StageSpec]:
    if not isinstance(raw, dict):
        raise ModelSpecError("[stages]: must be a table of [stages.NAME] tables")
    return {name: parse_stage(name, table, models, contract) for name, table in raw.items()}
