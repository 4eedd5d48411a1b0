"""grader/sandbox/protocol.py: what the parent accepts from the worker, and how it reads the pipe."""

from __future__ import annotations

import json
import os
import time

import numpy as np
import pytest

from grader.sandbox import protocol
from grader.sandbox.protocol import (
    ChannelClosed,
    LineReader,
    ProtocolError,
    decode_reply,
    load_arrays,
    save_arrays,
)


def reply(**fields) -> bytes:
    message = {"id": 7, "ok": True, "data": {"shape": [10]}, "arrays": "probe_7.npz", "error": None} | fields
    return json.dumps(message).encode()


# -- decode_reply -----------------------------------------------------------------------------------


def test_valid_reply_is_accepted():
    message = decode_reply(reply(), expected_id=7)
    assert message["data"] == {"shape": [10]}
    assert message["arrays"] == "probe_7.npz"


def test_reply_with_a_student_error_is_accepted():
    error = {
        "kind": "exception",
        "name": "knn",
        "message": "boom",
        "type": "ValueError",
        "traceback": ["line"],
    }
    assert decode_reply(reply(ok=False, error=error), expected_id=7)["error"]["kind"] == "exception"


def test_non_json_is_refused():
    with pytest.raises(ProtocolError, match="not JSON"):
        decode_reply(b"All tests passed! score 100", expected_id=7)


def test_non_utf8_is_refused():
    with pytest.raises(ProtocolError, match="not JSON"):
        decode_reply(b'{"id": 7, "ok": true, "x": "\xff"}', expected_id=7)


def test_reply_to_another_request_is_refused():
    with pytest.raises(ProtocolError, match="reply to request 6, expected 7"):
        decode_reply(reply(id=6), expected_id=7)


def test_extra_keys_are_refused():
    with pytest.raises(ProtocolError, match="invalid message"):
        decode_reply(reply(score=25.5), expected_id=7)


def test_oversized_error_message_is_refused():
    error = {"kind": "exception", "name": "knn", "message": "x" * 5000}
    with pytest.raises(ProtocolError, match="invalid message"):
        decode_reply(reply(ok=False, error=error), expected_id=7)


@pytest.mark.parametrize(
    "fields",
    [
        {"id": "7"},
        {"ok": "yes"},
        {"data": [1, 2]},
        {"arrays": "../../etc/passwd"},
        {"error": {"kind": "passed", "name": "knn", "message": ""}},
        {"error": {"kind": "exception", "name": "knn"}},
    ],
)
def test_wrong_types_and_values_are_refused(fields):
    with pytest.raises(ProtocolError, match="invalid message"):
        decode_reply(reply(**fields), expected_id=7)


def test_missing_required_key_is_refused():
    with pytest.raises(ProtocolError, match="invalid message"):
        decode_reply(json.dumps({"id": 7}).encode(), expected_id=7)


# -- LineReader -------------------------------------------------------------------------------------


@pytest.fixture
def pipe():
    read_fd, write_fd = os.pipe()
    ends = {"read": read_fd, "write": write_fd}
    yield ends
    for fd in ends.values():
        if fd is not None:
            try:
                os.close(fd)
            except OSError:
                pass


def test_line_reader_returns_whole_lines_in_order(pipe):
    os.write(pipe["write"], b'{"id": 1}\n{"id"')
    reader = LineReader(pipe["read"])
    assert reader.read(time.monotonic() + 2) == b'{"id": 1}'
    os.write(pipe["write"], b": 2}\n")
    assert reader.read(time.monotonic() + 2) == b'{"id": 2}'


def test_line_reader_times_out_at_the_deadline(pipe):
    os.write(pipe["write"], b"no newline yet")
    reader = LineReader(pipe["read"])
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        reader.read(started + 0.2)
    assert 0.15 <= time.monotonic() - started < 2.0


def test_line_reader_reports_a_closed_channel(pipe):
    os.write(pipe["write"], b"partial")
    os.close(pipe["write"])
    pipe["write"] = None
    with pytest.raises(ChannelClosed):
        LineReader(pipe["read"]).read(time.monotonic() + 2)


def test_line_reader_refuses_a_message_over_the_limit(pipe):
    os.write(pipe["write"], b"x" * 200)
    with pytest.raises(ProtocolError, match="message larger than 100 bytes"):
        LineReader(pipe["read"], limit=100).read(time.monotonic() + 2)


def test_send_writes_one_json_line(pipe):
    protocol.send(pipe["write"], {"id": 3, "ok": True})
    assert json.loads(LineReader(pipe["read"]).read(time.monotonic() + 2)) == {"id": 3, "ok": True}


# -- arrays -----------------------------------------------------------------------------------------


def test_arrays_round_trip_and_the_file_is_deleted(tmp_path):
    name = save_arrays(
        tmp_path, "probe_1.npz", {"x": np.arange(6, dtype=np.float32).reshape(2, 3), "ok": np.array(True)}
    )
    arrays = load_arrays(tmp_path, name)
    np.testing.assert_array_equal(arrays["x"], np.arange(6).reshape(2, 3))
    assert arrays["ok"].dtype == bool
    assert not (tmp_path / name).exists()


def test_object_arrays_are_refused_and_the_file_is_deleted(tmp_path):
    path = tmp_path / "probe_2.npz"
    with open(path, "wb") as handle:
        np.savez(handle, evil=np.array([{"score": 100}, None], dtype=object), allow_pickle=True)
    with pytest.raises(ProtocolError, match="array evil has dtype object"):
        load_arrays(tmp_path, "probe_2.npz")
    assert not path.exists()


def test_string_arrays_are_refused(tmp_path):
    name = save_arrays(tmp_path, "probe_3.npz", {"text": np.array(["passed"])})
    with pytest.raises(ProtocolError, match="array text has dtype <U6"):
        load_arrays(tmp_path, name)


def test_array_file_over_the_cap_is_refused(tmp_path, monkeypatch):
    name = save_arrays(tmp_path, "probe_4.npz", {"x": np.zeros(1000)})
    monkeypatch.setattr(protocol, "MAX_ARRAY_FILE_BYTES", 100)
    with pytest.raises(ProtocolError, match="array file probe_4.npz is larger than 100 bytes"):
        load_arrays(tmp_path, name)


def test_missing_or_escaping_array_file_is_refused(tmp_path):
    with pytest.raises(ProtocolError, match="array file probe_5.npz missing"):
        load_arrays(tmp_path, "probe_5.npz")
    (tmp_path.parent / "outside.npz").write_bytes(b"")
    with pytest.raises(ProtocolError, match="missing"):
        load_arrays(tmp_path, "../outside.npz")


def test_corrupt_array_file_is_refused(tmp_path):
    (tmp_path / "probe_6.npz").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ProtocolError, match="unreadable"):
        load_arrays(tmp_path, "probe_6.npz")


# -- the arrays' budget: checked before anything is inflated ----------------------------------------


def write_npy_member(archive, name: str, header: dict, data_chunks: int, chunk: bytes = b"") -> None:
    """One ``.npy`` member with this header, then ``data_chunks`` times ``chunk`` (streamed, deflated)."""
    import io

    head = io.BytesIO()
    np.lib.format.write_array_header_1_0(head, header)
    with archive.open(name, "w", force_zip64=True) as member:
        member.write(head.getvalue())
        for _ in range(data_chunks):
            member.write(chunk)


def bomb(path, megabytes: int, declared: tuple[int, ...] | None = None):
    """A deflated ``.npz`` of ``megabytes`` MB of zeros (about 100 KB on disk per 100 MB)."""
    import zipfile

    shape = declared or (megabytes * 2**20 // 8,)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        header = {"descr": "<f8", "fortran_order": False, "shape": shape}
        write_npy_member(archive, "result.npy", header, megabytes, bytes(2**20))
    return path


def test_a_deflate_bomb_is_refused_before_it_is_inflated(tmp_path):
    path = bomb(tmp_path / "r1.npz", 300)
    assert path.stat().st_size < 2 * 2**20  # 300 MB of zeros take under 2 MB on disk
    started = time.monotonic()
    with pytest.raises(protocol.ArrayBudgetError) as refused:
        load_arrays(tmp_path, "r1.npz")
    assert str(refused.value) == (
        "array 'result' would take 300.0 MB once loaded "
        "(a reply may hold 256.0 MB per array, 512.0 MB in all)"
    )
    assert time.monotonic() - started < 5 and not path.exists()


def test_a_header_that_declares_16_tib_is_refused_without_allocating(tmp_path):
    bomb(tmp_path / "r2.npz", 1, declared=(2**41,))  # 2**41 float64: 16 TiB
    with pytest.raises(protocol.ArrayBudgetError, match="would take 16.0 TB once loaded"):
        load_arrays(tmp_path, "r2.npz")


def test_a_header_that_understates_its_data_is_refused(tmp_path):
    bomb(tmp_path / "r3.npz", 100, declared=(10,))  # declares 80 bytes, holds 100 MB
    started = time.monotonic()
    with pytest.raises(ProtocolError, match="holds more or less data than its header declares"):
        load_arrays(tmp_path, "r3.npz")
    assert time.monotonic() - started < 2  # it stopped after 81 bytes


def test_arrays_over_the_total_are_refused_though_each_fits(tmp_path, monkeypatch):
    monkeypatch.setattr(protocol, "MAX_REPLY_ARRAYS_BYTES", 3 * 2**20)
    save_arrays(tmp_path, "r4.npz", {f"a{i}": np.zeros(2**20 // 8) for i in range(4)})  # 1 MB each
    with pytest.raises(protocol.ArrayBudgetError, match="array 'a3' would take 1.0 MB"):
        load_arrays(tmp_path, "r4.npz")


def test_a_header_with_an_object_dtype_is_refused_before_reading(tmp_path):
    import zipfile

    with zipfile.ZipFile(tmp_path / "r5.npz", "w") as archive:
        write_npy_member(archive, "x.npy", {"descr": "|O", "fortran_order": False, "shape": (3,)}, 0)
    with pytest.raises(ProtocolError, match="array x has dtype object"):
        load_arrays(tmp_path, "r5.npz")


def test_ordinary_arrays_pass_the_budget(tmp_path):
    arrays = {"images": np.random.rand(1000, 32, 32, 1).astype(np.float32), "labels": np.arange(1000)}
    save_arrays(tmp_path, "r6.npz", arrays)
    loaded = load_arrays(tmp_path, "r6.npz")
    for key, value in arrays.items():
        assert np.array_equal(loaded[key], value)
