"""What the grader hands to the worker, and what it keeps for itself, per assignment.

The worker gets images, training labels and grader-made inputs for the function items.
The parent keeps the test labels, the test images in the form it scores against, and
every expected value (docs/architecture.md, principle 2: the worker never sees what it
could echo back).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from grader.checks import ground_truth
from grader.data import Dataset
from grader.rubric import Budget


@dataclass
class GradingData:
    worker: dict[str, np.ndarray]
    expected: dict[str, Any] = field(default_factory=dict)


def train_test_split(*arrays, **options):
    """sklearn's split, imported on first use: sklearn costs ~2 s at every start-up otherwise."""
    from sklearn.model_selection import train_test_split as split

    return split(*arrays, **options)


def stratified_subset(labels: np.ndarray, size: int, seed: int) -> np.ndarray:
    """Indices of a stratified subset (the embedded data is sorted by label: never take the first N)."""
    if size >= len(labels):
        return np.arange(len(labels))
    indices, _ = train_test_split(np.arange(len(labels)), train_size=size, stratify=labels, random_state=seed)
    return np.sort(indices)


def base(budget: Budget, dataset: Dataset) -> GradingData:
    """Training images and labels and test images for the worker; test labels for the parent."""
    train = stratified_subset(dataset.y_train, budget.train_samples, seed=1)
    test = stratified_subset(dataset.y_test, budget.test_samples, seed=2)
    worker = {
        "x_train": dataset.x_train[train],
        "y_train": dataset.y_train[train],
        "x_test": dataset.x_test[test],
    }
    expected = {
        "x_test": dataset.x_test[test],
        "y_test": dataset.y_test[test],
        "budget": budget.as_dict(),
        "data": {"name": dataset.name, "fingerprint": dataset.fingerprint},
    }
    return GradingData(worker, expected)


def for_assignment(
    name: str, budget: Budget, dataset: Dataset, artifacts: dict[str, np.ndarray]
) -> GradingData:
    data = base(budget, dataset)
    builder = BUILDERS.get(name)
    if builder is not None:
        builder(data, artifacts)
    data.expected["inputs"] = data.worker
    data.expected["artifacts"] = artifacts
    return data


def _autoencoders(data: GradingData, artifacts: dict[str, np.ndarray]) -> None:
    worker = data.worker
    y_train = worker["y_train"]
    fit, val = train_test_split(np.arange(len(y_train)), test_size=0.125, stratify=y_train, random_state=3)
    worker["classifier_fit"], worker["classifier_val"] = np.sort(fit), np.sort(val)
    worker["history_loss"] = np.array([0.0712, 0.0553, 0.0491, 0.0467, 0.0452])
    worker["history_val_loss"] = np.array([0.0601, 0.0518, 0.0478, 0.0461, 0.0455])
    rng = np.random.default_rng(4)
    worker["kl_mean"] = rng.normal(0.0, 1.0, size=(8, 2)).astype(np.float32)
    worker["kl_log"] = rng.normal(0.0, 0.5, size=(8, 2)).astype(np.float32)
    worker.update(_knn_public_case())
    if artifacts:
        z = artifacts["z_train"]
        worker["latent_z"], worker["latent_y"] = z, y_train
        first, second = train_test_split(np.arange(len(z)), test_size=0.25, stratify=y_train, random_state=5)
        worker["knn_hidden_z_train"], worker["knn_hidden_y_train"] = z[first], y_train[first]
        worker["knn_hidden_z_test"], worker["knn_hidden_y_test"] = z[second], y_train[second]
        grid = artifacts["grid"]
        n = grid.shape[0]
        worker["ref_grid"] = grid
        worker["ref_grid_z_min"] = np.array([grid[-1, 0, 0], grid[-1, 0, 1]])
        worker["ref_grid_z_max"] = np.array([grid[0, -1, 0], grid[0, -1, 1]])
        worker["ref_mosaic"] = ground_truth.mosaic(artifacts["grid_images"], n, n).astype(np.float32)
        worker["recon_x"], worker["recon_x_rec"] = artifacts["recon_x"], artifacts["recon_x_rec"]
        for key, value in artifacts.items():
            if key.startswith("decoder_w") or key == "decoder_input":
                worker[key] = value


def _knn_public_case() -> dict[str, np.ndarray]:
    """A hand-made latent set where 1-NN differs from a k-NN vote and from overall accuracy.

    Ten clusters; digit d has (d % 4) of its 4 test codes in the next digit's cluster. For
    digits 0-4, one test code also has a lone training code of digit d + 5 right beside it:
    its nearest neighbour is wrong, while a 3- or 5-NN vote is still right.
    """
    rng = np.random.default_rng(6)
    centres = np.stack([np.cos(np.arange(10) * 0.628), np.sin(np.arange(10) * 0.628)], axis=1) * 6
    z_train = [centres[d] + rng.normal(0, 0.4, size=(5, 2)) for d in range(10)]
    y_train = [np.full(5, d) for d in range(10)]
    z_test, y_test = [], []
    for digit in range(10):
        wrong = digit % 4
        for index in range(4):
            home = centres[(digit + 1) % 10] if index < wrong else centres[digit]
            z_test.append(home + rng.normal(0, 0.3, size=2))
            y_test.append(digit)
        if digit < 5:  # the decoy sits beside the last test code, which lies in its own cluster
            z_train.append(z_test[-1][np.newaxis] + 0.01)
            y_train.append(np.array([digit + 5]))
    return {
        "knn_public_z_train": np.concatenate(z_train).astype(np.float32),
        "knn_public_y_train": np.concatenate(y_train).astype(np.int64),
        "knn_public_z_test": np.array(z_test, dtype=np.float32),
        "knn_public_y_test": np.array(y_test, dtype=np.int64),
    }


def _box_blur(images: np.ndarray) -> np.ndarray:
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1)), mode="edge")
    shifts = [padded[:, i : i + 28, j : j + 28] for i in range(3) for j in range(3)]
    return np.mean(shifts, axis=0)


def _sheet10(data: GradingData, artifacts: dict[str, np.ndarray]) -> None:
    worker = data.worker
    x_test = worker["x_test"]
    originals = x_test[:10].astype(np.float32) / 255.0
    worker["recon_x"] = originals.reshape(10, 784)
    worker["recon_x_rec"] = _box_blur(originals).reshape(10, 784).astype(np.float32)


BUILDERS: dict[str, Callable[[GradingData, dict[str, np.ndarray]], None]] = {
    "autoencoders": _autoencoders,
    "sheet10": _sheet10,
}
