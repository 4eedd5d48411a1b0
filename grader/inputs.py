"""What the grader hands to the worker, and what it keeps for itself.

The worker gets images, training labels and grader-made inputs for the function items.
The parent keeps the test labels, the test images in the form it scores against, and
every expected value (docs/architecture.md, principle 2: the worker never sees what it
could echo back). An assignment adds its own grader-made inputs in
``grader/assignments/<name>/inputs.py`` (``build(data, artifacts)``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from grader.assignments.registry import input_builder
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
    builder = input_builder(name)
    if builder is not None:
        builder(data, artifacts)
    data.expected["inputs"] = data.worker
    data.expected["artifacts"] = artifacts
    return data
