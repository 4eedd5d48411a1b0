"""The reference's results a kit or an autograder ships instead of the reference itself.

``grade()`` trains and calls the reference in a trusted process (grader/artifacts.py,
grader/reference_calls.py). A student kit cannot: it holds no reference. So the results are
computed here, when the kit is built, and written to ``<rubric>.precomputed/`` beside the kit's
rubric, where ``grade()`` reads them (``Rubric.precomputed``). What is written are arrays the
public items are graded on (latent codes, reconstructions, function outputs), never the
reference's source. A student kit's decoder is a stand-in: ``decode_grid`` needs a decoder to
call, and the reference's own would hand out Exercise 1's architecture and its weights.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from grader import artifacts, reference_calls
from grader.artifacts import PRECOMPUTED_ARTIFACTS
from grader.data import Dataset
from grader.rubric import Rubric

STAND_IN_SEED = 23


@dataclass(frozen=True)
class StandInDecoder:
    """A decoder of plain layers (Flatten, Dense with a sigmoid, Reshape) the worker rebuilds."""

    records: list[dict[str, Any]]
    weights: list[np.ndarray]

    def decode(self, points: np.ndarray) -> np.ndarray:
        """What the rebuilt Keras model gives for ``points`` (N, latent...), as (N, H, W*C) like
        the reference's ``decode_points``."""
        kernel, bias = self.weights
        flat = points.reshape(len(points), -1).astype(np.float64)
        images = 1.0 / (1.0 + np.exp(-(flat @ kernel + bias)))
        height = self.records[-1]["target_shape"][0]
        return images.reshape(len(points), height, -1).astype(np.float32)


def stand_in_decoder(input_shape: list[int], output_shape: list[int], scale: float) -> StandInDecoder:
    """A fixed random decoder with the reference decoder's input and output shapes."""
    rng = np.random.default_rng(STAND_IN_SEED)
    inputs, outputs = int(np.prod(input_shape)), int(np.prod(output_shape))
    kernel = rng.normal(0.0, 2.0 / max(scale, 1e-6), size=(inputs, outputs)).astype(np.float32)
    bias = rng.normal(0.0, 0.5, size=outputs).astype(np.float32)
    records = [
        {"type": "Flatten"},
        {"type": "Dense", "units": outputs, "activation": "sigmoid", "use_bias": True},
        {"type": "Reshape", "target_shape": list(output_shape)},
    ]
    return StandInDecoder(records, [kernel, bias])


def with_stand_in_decoder(
    arrays: dict[str, np.ndarray], meta: dict[str, Any]
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """The artifacts with the reference decoder's layers and weights replaced by a stand-in.

    ``decode_grid`` is graded on the stand-in's decodes of the grid; ``plot_grid`` still shows the
    reference's own decodes (``plot_grid_images``: an array of images, no weights)."""
    kept = {k: v for k, v in arrays.items() if not k.startswith("decoder_w")}
    grid = arrays["grid"]
    decoder = stand_in_decoder(
        list(meta["decoder_input"]),
        list(meta["decoder_layers"][-1]["output_shape"]),
        float(np.abs(grid).max()),
    )
    kept["plot_grid_images"] = arrays["grid_images"]
    kept["grid_images"] = decoder.decode(grid.reshape(-1, grid.shape[-1]))  # Flatten keeps z's order
    for index, weight in enumerate(decoder.weights):
        kept[f"decoder_w{index}"] = weight
    return kept, {"decoder_layers": decoder.records, "decoder_input": list(meta["decoder_input"])}


def kept_cases(rubric: Rubric, item_ids: set[str]) -> dict[str, set[str]]:
    """function -> the cases the items ``item_ids`` grade it on (an item without ``cases``: all)."""
    cases: dict[str, set[str]] = {}
    for item in rubric.items:
        if item.id in item_ids and item.check == "matches_reference":
            spec = rubric.functions[item.params["function"]]
            cases.setdefault(spec.name, set()).update(item.params.get("cases") or spec.cases)
    return cases


def precompute(
    rubric: Rubric, budgets: list[str], dataset: Dataset, item_ids: set[str], stand_in: bool
) -> dict[str, bytes]:
    """File name in ``<rubric>.precomputed/`` -> its bytes: the artifacts of each budget and the
    reference's results on the cases of the items ``item_ids``. Trains the reference (cached)."""
    files: dict[str, bytes] = {}
    if rubric.reference_artifacts:
        for name in budgets:
            arrays, meta = artifacts.load_or_build(rubric, rubric.budget_named(name), dataset)
            if stand_in:
                arrays, meta = with_stand_in_decoder(arrays, meta)
            else:
                meta = {"decoder_layers": meta["decoder_layers"], "decoder_input": meta["decoder_input"]}
            meta |= {"data": dataset.fingerprint, "data_name": dataset.name, "budget": name}
            stem = PRECOMPUTED_ARTIFACTS.format(budget=name)
            files[f"{stem}.npz"], files[f"{stem}.json"] = _npz(arrays), json.dumps(meta).encode()
    if rubric.functions:
        cases = kept_cases(rubric, item_ids)
        calls = reference_calls.load_or_compute(rubric)
        arrays = {
            f"{function}/{key}": array
            for function, results in calls.items()
            for key, array in results.items()
            if key.partition(".")[0] in cases.get(function, set())
        }
        stem = reference_calls.PRECOMPUTED
        files[f"{stem}.npz"], files[f"{stem}.json"] = _npz(arrays), json.dumps({}).encode()
    return files


def _npz(arrays: dict[str, np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()
