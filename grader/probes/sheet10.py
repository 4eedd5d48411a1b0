"""Probes of the ``sheet10`` assignment (seed 000): the dense autoencoder and attention."""

from __future__ import annotations

from typing import Any

import numpy as np

from grader.probes.base import ProbeOutput, StudentCallError, WorkerContext, probe, student_array
from grader.probes.common import figure_probe, history_losses, set_seed, trainer
from grader.probes.models import declared_input_shape, describe_model, is_model

ATTENTION_CASES = ("batched", "masked", "rank1")


def _flat_images(ctx: WorkerContext, split: str) -> np.ndarray:
    """The grader's own preprocessing (pixel / 255, flattened): no cascade from `preprocess`."""
    raw = ctx.inputs[f"x_{split}"]
    return (raw.reshape(len(raw), -1) / 255.0).astype(np.float32)


@probe("preprocess")
def preprocess(ctx: WorkerContext, args: dict[str, Any]) -> ProbeOutput:
    result = ctx.call("preprocess", ctx.inputs["preprocess_case"].copy())
    return ProbeOutput({}, {"out": student_array("preprocess", result, np.float64)})


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


@probe("attention")
def attention(ctx: WorkerContext, args: dict[str, Any]) -> ProbeOutput:
    """scaled_dot_product_attention on batched, masked and rank-1 inputs."""
    data: dict[str, Any] = {}
    arrays: dict[str, np.ndarray] = {}
    for case in ATTENTION_CASES:
        q, k, v = (ctx.inputs[f"att_{case}_{name}"] for name in "qkv")
        mask_key = f"att_{case}_mask"
        # float32 as the contract promises: TF code that mixes in tf.float32 constants (the seed's
        # tf.cast(..., tf.float32)) must not fail on the grader's dtype.
        mask = ctx.inputs[mask_key].astype(np.float32) if mask_key in ctx.inputs else None
        if case == "rank1":  # the seed student's call: plain Python lists
            q, k, v = q.tolist(), k.tolist(), v.tolist()
        else:
            q, k, v = q.astype(np.float32), k.astype(np.float32), v.astype(np.float32)
        try:
            result = ctx.call("scaled_dot_product_attention", q, k, v, mask)
            if not isinstance(result, (tuple, list)) or len(result) != 2:
                raise StudentCallError(
                    {
                        "kind": "invalid",
                        "name": "scaled_dot_product_attention",
                        "message": f"returned {type(result).__name__}; expected (output, attention_weights)",
                    }
                )
            arrays[f"{case}_output"] = student_array("scaled_dot_product_attention", result[0], np.float64)
            arrays[f"{case}_weights"] = student_array("scaled_dot_product_attention", result[1], np.float64)
            data[case] = {"ok": True}
        except StudentCallError as exc:
            data[case] = {"error": exc.info}
    return ProbeOutput(data, arrays)
