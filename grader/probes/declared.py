"""Probes of the models, plots and training stages a rubric declares as data (runs in the worker).

Three probe families, whose arguments the parent sends from the rubric (docs/authoring.md):

- ``model:<function>`` builds the student's models with ``<function>(*args)`` and describes
  each one it returns (``[models.<function>]``);
- ``plot:<function>`` calls a plotting function on grader-made inputs (``[plots.<function>]``);
- ``train:<stage>`` trains a stage declared in ``[stages.<stage>]``: builds the model, fits it on
  the grader's images under the budget and returns its losses and its test predictions.

They return raw data only; the parent measures it (``grader/data_stages.py``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from grader.data import to_float_images
from grader.probes.base import ProbeOutput, StudentCallError, WorkerContext, probe
from grader.probes.common import figure_probe, history_losses, loss_recorder, set_seed
from grader.probes.models import declared_input_shape, describe_model, describe_optimizer, is_model


def image_view(ctx: WorkerContext, split: str, view: dict[str, Any]) -> np.ndarray:
    """The grader's images of a split as the rubric's view: 28x28 or 32x32 (padded), flattened or not."""
    size, flatten = int(view.get("size", 28)), bool(view.get("flatten", False))
    key = f"view:{split}:{size}:{flatten}"
    if key not in ctx.cache:
        images = to_float_images(ctx.inputs[f"x_{split}"], size)  # (N, size, size, 1) in [0, 1]
        ctx.cache[key] = images.reshape(len(images), -1) if flatten else images
    return ctx.cache[key]


def build_models(ctx: WorkerContext, spec: dict[str, Any]) -> dict[str, Any]:
    """``function(*args)``'s models by the names the rubric gives them (one model, or a tuple)."""
    function, names = spec["function"], list(spec["returns"])
    result = ctx.call(function, *spec.get("args", []))
    models = list(result) if isinstance(result, (tuple, list)) and len(names) > 1 else [result]
    if len(models) != len(names) or not all(is_model(model) for model in models):
        expected = f"a tuple ({', '.join(names)}) of Keras models" if len(names) > 1 else "a Keras model"
        raise StudentCallError(
            {
                "kind": "invalid",
                "name": function,
                "message": f"returned {type(result).__name__}; expected {expected}",
            }
        )
    return dict(zip(names, models, strict=True))


def _sample(ctx: WorkerContext, spec: dict[str, Any], name: str, model: Any, first: bool) -> np.ndarray:
    """Two inputs for one forward pass: the grader's images when the model takes them, else zeros."""
    images = image_view(ctx, "train", spec.get("images", {}))[:2]
    shape = declared_input_shape(model) or (None if first else tuple(spec.get("inputs", {}).get(name, ())))
    if shape is None or tuple(shape) == images.shape[1:]:
        return images
    if not shape:
        raise StudentCallError(
            {
                "kind": "invalid",
                "name": spec["function"],
                "message": f"its {name} declares no input shape (give it a keras.Input)",
            }
        )
    return np.zeros((2, *shape), np.float32)


@probe("model")
def models(ctx: WorkerContext, args: dict[str, Any]) -> ProbeOutput:
    """``model:<function>``: every model the function returns, described (layers, shapes, compile)."""
    set_seed(ctx.budget.get("seed", 0))
    built = build_models(ctx, args)
    data = {}
    for number, (name, model) in enumerate(built.items()):
        sample = _sample(ctx, args, name, model, first=number == 0)
        data[name] = ctx.guarded(args["function"], describe_model, model, sample)
    return ProbeOutput(data)


@probe("plot")
def plot(ctx: WorkerContext, args: dict[str, Any]) -> ProbeOutput:
    """``plot:<function>``: the student's figure of grader-made inputs (copies: the student may edit them)."""
    inputs = [ctx.inputs[name].copy() for name in args.get("args", [])]
    return figure_probe(ctx, args["function"], *inputs, **args.get("kwargs", {}))


def _targets(ctx: WorkerContext, stage: dict[str, Any], x: np.ndarray) -> np.ndarray:
    target = stage["target"]
    if target == "input":
        return x
    labels = ctx.inputs["y_train"]
    if target == "one_hot":
        return np.eye(int(stage.get("classes", 10)), dtype=np.float32)[labels]
    return labels


@probe("train")
def train(ctx: WorkerContext, args: dict[str, Any]) -> ProbeOutput:
    """``train:<stage>``: one attempt of a declared stage with the parent's seed."""
    name, seed = args["stage"], int(args["seed"])
    set_seed(seed)
    built = build_models(ctx, args["model"])
    model = built[args["train"]]
    x = image_view(ctx, "train", args["images"])
    recorder = loss_recorder()
    history = ctx.guarded(
        f"training the {args['train']} from {args['model']['function']}",
        model.fit,
        x,
        _targets(ctx, args, x),
        epochs=ctx.budget["epochs"][name],
        batch_size=ctx.budget["batch_size"][name],
        shuffle=True,
        verbose=0,
        callbacks=[recorder],
    )
    predicted = ctx.guarded(
        f"predicting with the {args['train']} from {args['model']['function']}",
        model.predict,
        image_view(ctx, "test", args["images"]),
        verbose=0,
    )
    if isinstance(predicted, (list, tuple)):
        predicted = predicted[0]
    ctx.stage(name).attempts[int(args["attempt"])] = built
    data = {
        "loss": history_losses(history).get("loss", []),
        "batch_loss": recorder.epoch_means(),
        "optimizer": describe_optimizer(model),
    }
    return ProbeOutput(data, {"predictions": np.asarray(predicted, np.float32)})
