"""What the grader hands the ``autoencoders`` worker besides the images: the classifier's split,
a fixed History, the KL cases, the k-NN cases, and the trained reference's codes, grid and decoder
(no cascades: docs/architecture.md, principle 4)."""

from __future__ import annotations

import numpy as np

from grader.checks import ground_truth
from grader.inputs import GradingData, train_test_split


def build(data: GradingData, artifacts: dict[str, np.ndarray]) -> None:
    """Add the grader-made inputs to ``data.worker`` (the parent keeps the expected values)."""
    worker = data.worker
    y_train = worker["y_train"]
    fit, val = train_test_split(np.arange(len(y_train)), test_size=0.125, stratify=y_train, random_state=3)
    worker["classifier_fit"], worker["classifier_val"] = np.sort(fit), np.sort(val)
    worker["history_loss"] = np.array([0.0712, 0.0553, 0.0491, 0.0467, 0.0452])
    worker["history_val_loss"] = np.array([0.0601, 0.0518, 0.0478, 0.0461, 0.0455])
    rng = np.random.default_rng(4)
    worker["kl_mean"] = rng.normal(0.0, 1.0, size=(8, 2)).astype(np.float32)
    worker["kl_log"] = rng.normal(0.0, 0.5, size=(8, 2)).astype(np.float32)
    worker.update(knn_public_case())
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
        # A student kit's decode_grid gets a stand-in decoder (grader/distribution/kit.py), while
        # plot_grid still shows the reference's own decodes of the grid.
        shown = artifacts.get("plot_grid_images", artifacts["grid_images"])
        worker["ref_mosaic"] = ground_truth.mosaic(shown, n, n).astype(np.float32)
        worker["recon_x"], worker["recon_x_rec"] = artifacts["recon_x"], artifacts["recon_x_rec"]
        for key, value in artifacts.items():
            if key.startswith("decoder_w") or key == "decoder_input":
                worker[key] = value


def knn_public_case() -> dict[str, np.ndarray]:
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
