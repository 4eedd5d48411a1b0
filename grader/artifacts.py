"""Reference artifacts: inputs made from the trained reference, computed once and cached.

No cascades (docs/architecture.md, principle 4): ``plot_latent``, ``knn_per_digit_accuracy``, ``decode_grid``
and the plotting functions are graded on the reference autoencoder's latent codes,
decoder and reconstructions, not on the student's. The reference is trained in a
trusted worker under the rubric's budget and the results are cached on disk, keyed
by rubric, budget, data, grader version and reference source, so a batch trains it
once.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from grader import __version__, inputs
from grader.data import Dataset, user_cache_dir
from grader.fileio import atomic_file, write_atomic
from grader.rubric import Budget, Rubric
from grader.sandbox.supervisor import Sandbox, SandboxLimits
from grader.session import ProbeSession
from grader.submission import load_submission
from grader.threadsafe import load_npz

BUILD_TIMEOUT_S = 900.0


class ArtifactError(Exception):
    """The reference could not be trained: a grader problem, not a student's."""


def reference_path(rubric: str | Rubric) -> Path:
    """The reference solution of a rubric (a shipped rubric's name, or a Rubric): its ``reference`` key."""
    if isinstance(rubric, str):
        from grader.rubric import load_rubric

        rubric = load_rubric(rubric)
    if not rubric.reference.is_file():
        raise ArtifactError(f"{rubric.path.name}: no reference solution {rubric.reference}")
    return rubric.reference


def artifact_key(rubric: Rubric, budget: Budget, dataset: Dataset) -> str:
    source = reference_path(rubric).read_bytes()
    material = {
        "rubric": rubric.name,
        "budget": budget.as_dict(),
        "data": dataset.fingerprint,
        "grader": __version__,
        "reference": hashlib.sha256(source).hexdigest(),
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()[:24]


def load_or_build(
    rubric: Rubric,
    budget: Budget,
    dataset: Dataset,
    limits: SandboxLimits | None = None,
    cache_dir: Path | None = None,
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """(arrays, meta) for the rubric; empty when the rubric needs no reference artifacts."""
    if not rubric.reference_artifacts:
        return {}, {}
    if rubric.precomputed is not None:
        return read_precomputed(rubric, budget, dataset)
    directory = (cache_dir or user_cache_dir()) / "artifacts"
    stem = f"{rubric.name}-{artifact_key(rubric, budget, dataset)}"
    cached = read_cached(directory, stem)
    if cached is not None:
        return cached
    arrays, meta = _build(rubric, budget, dataset, limits or SandboxLimits())
    write_cached(directory, stem, arrays, meta)
    return arrays, meta


PRECOMPUTED_ARTIFACTS = "artifacts-{budget}"


def read_precomputed(
    rubric: Rubric, budget: Budget, dataset: Dataset
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """A kit's artifacts (grader/distribution/): made when the kit was built, for some budgets only."""
    assert rubric.precomputed is not None
    cached = read_cached(rubric.precomputed, PRECOMPUTED_ARTIFACTS.format(budget=budget.name))
    if cached is None:
        have = sorted(p.stem.removeprefix("artifacts-") for p in rubric.precomputed.glob("artifacts-*.json"))
        raise ArtifactError(
            f"this copy of the grader has the reference's results for budget(s) {', '.join(have) or 'none'} "
            f"of {rubric.name}, not for budget '{budget.name}'; choose one of those "
            "(check(quick=True) or --budget smoke is the smoke budget)"
        )
    arrays, meta = cached
    if meta.get("data") != dataset.fingerprint:
        raise ArtifactError(
            f"this copy of the grader has the reference's results on the data '{meta.get('data_name')}' "
            f"only, not on '{dataset.name}'; check with the default data"
        )
    return arrays, meta


def read_cached(directory: Path, stem: str) -> tuple[dict[str, np.ndarray], dict[str, Any]] | None:
    try:
        meta = json.loads((directory / f"{stem}.json").read_text())
        arrays = load_npz(directory / f"{stem}.npz")
    except (OSError, ValueError, json.JSONDecodeError, EOFError):
        return None  # missing or corrupt: rebuild
    except Exception:  # zipfile/zlib errors on a truncated file
        return None
    return arrays, meta


def write_cached(directory: Path, stem: str, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
    with atomic_file(directory / f"{stem}.npz") as handle:
        np.savez(handle, **arrays)
    write_atomic(directory / f"{stem}.json", json.dumps(meta))


def _build(
    rubric: Rubric, budget: Budget, dataset: Dataset, limits: SandboxLimits
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    started = time.monotonic()
    submission = load_submission(reference_path(rubric))
    data = inputs.base(budget, dataset)
    with Sandbox(submission.worker_cells(), data.worker, limits=limits, trusted=True) as sandbox:
        load = sandbox.start()
        if load["errors"]:
            raise ArtifactError(f"the reference failed to load: {load['errors'][0]}")
        session = ProbeSession(sandbox, budget, data.expected)
        deadline = time.monotonic() + BUILD_TIMEOUT_S
        result = session.fetch("reference_artifacts", "artifacts", deadline)
        if not result.ok:
            reason = result.failure.message if result.failure else result.error
            raise ArtifactError(f"training the reference solution for its artifacts failed: {reason}")
    meta = dict(result.data) | {
        "stages": session.stage_summary(),
        "seconds": round(time.monotonic() - started, 1),
    }
    arrays = dict(result.arrays) | {"decoder_input": np.array(result.data["decoder_input"])}
    return arrays, meta
