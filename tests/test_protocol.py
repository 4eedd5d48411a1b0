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
    with pytest.raises(ProtocolError, match="array file probe_2.npz unreadable"):
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
