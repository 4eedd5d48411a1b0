"""Probes of the ``sheet10`` assignment (seed 000): the dense autoencoder (preprocessing and attention
are function exercises: ``grader/probes/calls.py``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from grader.probes.base import ProbeOutput, StudentCallError, WorkerContext, probe
from grader.probes.common import figure_probe, history_losses, set_seed, trainer
from grader.probes.models import declared_input_shape, describe_model, is_model


def _flat_images(ctx: WorkerContext, split: str) -> np.ndarray:
    """The grader's own preprocessing (pixel / 255, flattened): no cascade from `preprocess`."""
    raw = ctx.inputs[f"x_{split}"]
    return (raw.reshape(len(raw), -1) / 255.0).astype(np.float32)


def _build_dense(ctx: WorkerContext) -> tuple[Any, Any, Any]:
    result = ctx.call("build_dense_autoencoder", 32)
    if not isinstance(result, (tuple, list)) or len(result) != 3 or not all(is_model(m) for m in result):
        raise StudentCallError(
            {
                "kind": "invalid",
                "name": "build_dense_autoencoder",
                "message": f"returned {type(result).__name__}; expected a tuple (autoencoder, encoder, "
                f"decoder) of Keras models",
            }
        )
    return tuple(result)


@probe("dense_models")
def dense_models(ctx: WorkerContext, args: dict[str, Any]) -> ProbeOutput:
    set_seed(ctx.budget.get("seed", 0))
    autoencoder, encoder, decoder = _build_dense(ctx)
    sample = _flat_images(ctx, "train")[:2]
    data = {
        "autoencoder": ctx.guarded("build_dense_autoencoder", describe_model, autoencoder, sample),
        "encoder": ctx.guarded("build_dense_autoencoder", describe_model, encoder, sample),
    }
    width = (declared_input_shape(decoder) or (32,))[-1]  # a subclassed decoder declares no input
    data["decoder"] = ctx.guarded(
        "build_dense_autoencoder", describe_model, decoder, np.zeros((2, width), np.float32)
    )
    return ProbeOutput(data)


@trainer("dense")
def train_dense(ctx: WorkerContext, seed: int) -> tuple[dict[str, Any], ProbeOutput]:
    set_seed(seed)
    autoencoder, encoder, decoder = _build_dense(ctx)
    x, x_test = _flat_images(ctx, "train"), _flat_images(ctx, "test")
    history = ctx.guarded(
        "training the autoencoder from build_dense_autoencoder",
        autoencoder.fit,
        x,
        x,
        epochs=ctx.budget["epochs"]["dense"],
        batch_size=ctx.budget["batch_size"]["dense"],
        shuffle=True,
        verbose=0,
    )
    x_rec = ctx.guarded("predicting with build_dense_autoencoder", autoencoder.predict, x_test, verbose=0)
    data = {"loss": history_losses(history).get("loss", [])}
    return {"autoencoder": autoencoder}, ProbeOutput(data, {"x_rec": np.asarray(x_rec, np.float32)})


@probe("dense_plot")
def dense_plot(ctx: WorkerContext, args: dict[str, Any]) -> ProbeOutput:
    return figure_probe(
        ctx, "plot_reconstructions", ctx.inputs["recon_x"].copy(), ctx.inputs["recon_x_rec"].copy(), n=10
    )
