"""The ``autoencoders`` assignment (seed 003): its declaration for the engine.

Its stages are in ``stages.py``, its probes in ``probes.py``, its checks in ``checks/``, its
grader-made inputs in ``inputs.py`` and its diagnosis hooks in ``diagnoses.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# What each probe runs of the student's code, for messages such as "... while running X".
PROBE_FUNCTIONS = {
    "ae_models": "build_encoder, build_decoder and build_autoencoder",
    "classifier_structure": "build_classifier",
    "train_classifier_call": "train_classifier (on the grader's classifier)",
    "vae_models": "build_vae_encoder, build_vae_decoder and build_vae",
}


def probe_args(artifacts_meta: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """decode_grid rebuilds the reference decoder from its layer list."""
    return {"decode_grid": {"decoder_layers": artifacts_meta.get("decoder_layers", [])}}
