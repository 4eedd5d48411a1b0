"""Helpers shared by the assignments' probes (runs in the worker)."""

from __future__ import annotations

import math
import random
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from grader.data import to_float_images
from grader.probes.base import ProbeOutput, StudentCallError, WorkerContext, probe, to_json_number
from grader.probes.figures import close, describe_figure
from grader.probes.models import declared_input_shape, is_model


def keras_module() -> Any:
    import keras  # under Keras 2 this resolves to tf_keras (keras_compat)

    return keras


def set_seed(seed: int) -> None:
    keras_module().utils.set_random_seed(int(seed))


def reset_random_state(seed: int) -> None:
    """Seed Python, NumPy and (once imported) TensorFlow/Keras: every request starts from this state.

    The worker calls it before each probe, so a probe's result does not depend on what ran
    before it in the same process: a fresh worker that replaces a dead one gives the same
    answers (with op determinism on, TF's random ops even refuse to run unseeded).
    """
    seed = int(seed)
    if "keras" in sys.modules:
        set_seed(seed)  # Python, NumPy, TF and Keras's own generator
        return
    random.seed(seed)
    np.random.seed(seed)
    if "tensorflow" in sys.modules:  # imported by a submission of a TensorFlow-free assignment
        sys.modules["tensorflow"].random.set_seed(seed)


def images(ctx: WorkerContext, split: str, size: int = 32) -> np.ndarray:
    """The grader's images for a split, at 32x32 (padded) or 28x28, cached per size."""
    key = f"images:{split}:{size}"
    if key not in ctx.cache:
        ctx.cache[key] = to_float_images(ctx.inputs[f"x_{split}"], size)
    return ctx.cache[key]


def build_model(ctx: WorkerContext, name: str, *args: Any) -> tuple[Any, dict[str, Any] | None]:
    """Call a student builder; the result must be a Keras model. Returns (model, error)."""
    try:
        model = ctx.call(name, *args)
    except StudentCallError as exc:
        return None, exc.info
    if not is_model(model):
        return None, {
            "kind": "invalid",
            "name": name,
            "message": f"returned {type(model).__name__}, not a Keras model",
        }
    return model, None


def json_floats(values: Any) -> list[float | None]:
    """A list of floats for JSON: NaN and infinity become None."""
    out = []
    for value in np.asarray(values, dtype=np.float64).ravel():
        out.append(float(value) if math.isfinite(value) else None)
    return out


def history_losses(history: Any) -> dict[str, list[float | None]]:
    values = getattr(history, "history", history)
    if not isinstance(values, dict):
        return {}
    return {str(key): json_floats(series) for key, series in values.items() if _is_series(series)}


def loss_recorder() -> Any:
    """A Keras callback that records the loss each training batch logs, epoch by epoch.

    The History is not always the loss: under Keras 3 a custom ``train_step`` that returns
    ``{"loss": loss}`` without a metric tracker logs 0.0 for every epoch, while each batch's
    logs hold the loss it computed. ``epoch_means()`` is each epoch's mean batch loss.
    """
    keras = keras_module()

    class LossRecorder(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.epochs: list[list[float]] = []

        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            self.epochs.append([])

        def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
            value = (logs or {}).get("loss")
            if self.epochs and value is not None and np.size(value) == 1:
                self.epochs[-1].append(float(np.asarray(value, dtype=np.float64)))

        def epoch_means(self) -> list[float | None]:
            if not all(self.epochs):  # an epoch without a logged loss: nothing measured
                return []
            return json_floats([np.mean(losses) for losses in self.epochs])

    return LossRecorder()


def _is_series(series: Any) -> bool:
    try:
        return np.asarray(series, dtype=np.float64).ndim == 1
    except Exception:
        return False


def figure_probe(ctx: WorkerContext, name: str, *args: Any, **kwargs: Any) -> ProbeOutput:
    """Call a student's plotting function and describe the figure it returns."""
    figure = ctx.call(name, *args, **kwargs)
    try:
        data, arrays = describe_figure(figure)
    finally:
        close(figure)
    return ProbeOutput(data, arrays)


def latent_codes(model: Any, x: np.ndarray) -> np.ndarray:
    codes = model.predict(x, verbose=0)
    if isinstance(codes, (list, tuple)):
        codes = codes[0]
    codes = np.asarray(codes, dtype=np.float32)
    return codes.reshape(len(codes), -1)


def decode_points(decoder: Any, points: np.ndarray, fallback: tuple[int, ...] = (2,)) -> np.ndarray:
    """The grader's own decode: points (M, 2) reshaped to the decoder's input, images (M, H, W).

    ``fallback`` is the input shape for a decoder that declares none (a subclassed model).
    """
    shape = declared_input_shape(decoder) or fallback
    decoded = np.asarray(
        decoder.predict(points.astype(np.float32).reshape((len(points),) + shape), verbose=0)
    )
    return decoded.reshape(decoded.shape[0], decoded.shape[1], decoded.shape[2])


def grader_grid(z_min: Any, z_max: Any, n: int) -> np.ndarray:
    """The contract's grid: (n, n, 2), row 0 = highest z[1], column 0 = lowest z[0]."""
    xs = np.linspace(float(z_min[0]), float(z_max[0]), n)
    ys = np.linspace(float(z_max[1]), float(z_min[1]), n)
    grid_x, grid_y = np.meshgrid(xs, ys)
    return np.stack([grid_x, grid_y], axis=-1).astype(np.float32)


@probe("constants")
def constants(ctx: WorkerContext, args: dict[str, Any]) -> ProbeOutput:
    """The student's module-level constants as plain JSON values (numbers, strings, dicts of text)."""
    data: dict[str, Any] = {}
    arrays: dict[str, np.ndarray] = {}
    for name in args.get("names", []):
        try:
            value = ctx.constant(name)
        except StudentCallError as exc:
            data[name] = {"error": exc.info}
            continue
        data[name] = plain_value(value)
        if data[name].get("kind") == "array":
            arrays[name] = data[name].pop("array")
    return ProbeOutput(data, arrays)


def plain_value(value: Any) -> dict[str, Any]:
    """A student value as data the parent can inspect without touching the object."""
    if value is None:
        return {"kind": "none"}
    if isinstance(value, bool):
        return {"kind": "bool", "value": bool(value)}
    if isinstance(value, str):
        return {"kind": "str", "value": str(value)[:5000]}
    if isinstance(value, dict):
        items = {str(key)[:50]: str(text)[:20000] for key, text in list(value.items())[:100]}
        return {"kind": "dict", "value": items}
    number = to_json_number(value) if np.ndim(value) == 0 else None
    if number is not None and isinstance(value, (int, float, np.integer, np.floating)):
        return {"kind": "number", "value": number, "is_int": isinstance(value, (int, np.integer))}
    try:
        array = np.array(value, dtype=np.float64)
        if array.dtype.kind == "f" and array.size <= 100000:
            return {"kind": "array", "array": array, "type": type(value).__name__}
    except Exception:  # any object
        pass
    return {"kind": "other", "type": type(value).__name__}


Trainer = Callable[[WorkerContext, int], tuple[dict[str, Any], ProbeOutput]]
TRAINERS: dict[str, Trainer] = {}


def trainer(stage: str) -> Callable[[Trainer], Trainer]:
    """Register how a stage trains the student's models; exposes the probe ``train:<stage>``.

    The parent runs the retry rule: it asks for attempts with derived seeds, judges each
    attempt from its raw data, then ``select``s one. Later probes use the selected attempt
    via :func:`ensure_stage`, which retrains it deterministically in a fresh worker.
    """

    def register(function: Trainer) -> Trainer:
        TRAINERS[stage] = function

        @probe(f"train:{stage}")
        def train(ctx: WorkerContext, args: dict[str, Any]) -> ProbeOutput:
            state, output = function(ctx, int(args["seed"]))
            ctx.stage(stage).attempts[int(args["attempt"])] = state
            return output

        return function

    return register


def ensure_stage(ctx: WorkerContext, stage: str) -> dict[str, Any]:
    """The selected attempt's models for ``stage``, retrained here if this worker is new."""
    state = ctx.stage(stage)
    if state.selected is None:
        raise RuntimeError(f"stage {stage} has no selected attempt")
    if state.selected not in state.attempts:
        models, _ = TRAINERS[stage](ctx, state.seeds[state.selected])
        state.attempts[state.selected] = models
        # As if trained by an earlier request: the calling probe goes on from its usual start state.
        reset_random_state(ctx.budget.get("seed", 0))
    return state.attempts[state.selected]
