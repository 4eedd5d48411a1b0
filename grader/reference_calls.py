"""The reference's results on the rubric's function cases, computed once in a trusted process.

``matches_reference`` items compare a student's function with the reference's on the cases
the rubric declares (``grader.functions``). The reference runs in a trusted sandbox, like
the reference artifacts, never in the student's worker (which must not see what it could
echo back), and its results are cached on disk, keyed by the cases, the reference source
and the grader version, so a batch computes them once.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

from grader import __version__
from grader.artifacts import ArtifactError, read_cached, write_cached
from grader.data import user_cache_dir
from grader.functions import FunctionSpec, all_inputs
from grader.rubric import Rubric
from grader.sandbox.supervisor import Sandbox, SandboxLimits
from grader.session import ProbeResult, ProbeSession
from grader.submission import load_submission

TIMEOUT_S = 300.0
PRECOMPUTED = "reference-calls"


def cache_key(rubric: Rubric) -> str:
    material = {
        "functions": {name: asdict(spec) for name, spec in sorted(rubric.functions.items())},
        "reference": hashlib.sha256(rubric.reference.read_bytes()).hexdigest(),
        "grader": __version__,
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True, default=str).encode()).hexdigest()[:24]


def load_or_compute(
    rubric: Rubric, limits: SandboxLimits | None = None, cache_dir: Path | None = None
) -> dict[str, dict[str, np.ndarray]]:
    """function -> {"<case>.<output>": the reference's array}; empty when the rubric has no functions."""
    if not rubric.functions:
        return {}
    if rubric.precomputed is not None:  # a kit (grader/distribution/): made when the kit was built
        directory, stem = rubric.precomputed, PRECOMPUTED
    else:
        directory, stem = (
            (cache_dir or user_cache_dir()) / "reference-calls",
            f"{rubric.name}-{cache_key(rubric)}",
        )
    cached = read_cached(directory, stem)
    if cached is None and rubric.precomputed is not None:
        raise ArtifactError(f"{rubric.path.name}: the reference's results are missing from {directory}")
    if cached is None:
        arrays, meta = _compute(rubric, limits or SandboxLimits())
        write_cached(directory, stem, arrays, meta)
    else:
        arrays, meta = cached
    return {
        function: {
            key.partition("/")[2]: array for key, array in arrays.items() if key.startswith(f"{function}/")
        }
        for function in rubric.functions
    }


def _compute(rubric: Rubric, limits: SandboxLimits) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    started = time.monotonic()
    submission = load_submission(rubric.reference)
    keras = "3" if rubric.tensorflow else "none"
    arrays: dict[str, np.ndarray] = {}
    with Sandbox(
        submission.worker_cells(), all_inputs(rubric.functions), keras=keras, limits=limits, trusted=True
    ) as sandbox:
        load = sandbox.start()
        if load["errors"]:
            raise ArtifactError(f"the reference {rubric.reference.name} failed to load: {load['errors'][0]}")
        probe_args = {spec.probe: spec.probe_args() for spec in rubric.functions.values()}
        session = ProbeSession(sandbox, rubric.budget, {}, probe_args=probe_args)
        for spec in rubric.functions.values():
            result = session.fetch(spec.probe, "reference", time.monotonic() + TIMEOUT_S)
            arrays.update(_results(rubric, spec, result))
    return arrays, {"seconds": round(time.monotonic() - started, 1)}


def _results(rubric: Rubric, spec: FunctionSpec, result: ProbeResult) -> dict[str, np.ndarray]:
    """The reference's arrays, or an ArtifactError: a reference that fails a case is a rubric bug."""
    where = f"{rubric.path.name}: the reference {rubric.reference.name}"
    if result.failure is not None:
        raise ArtifactError(f"{where} failed on {spec.name}: {result.failure.message}")
    if result.error is not None:
        raise ArtifactError(f"{where} failed on {spec.name}: {result.error.get('message', '')}")
    for case, record in result.data.items():
        if "error" in record:
            message = record["error"].get("message", "")
            raise ArtifactError(f"{where} fails case '{case}' of {spec.name}: {message}")
    return {f"{spec.name}/{key}": array for key, array in result.arrays.items()}
