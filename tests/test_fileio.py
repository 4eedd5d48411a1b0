"""grader.fileio: the one atomic write, used by every writer of the grader."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from grader.fileio import atomic_file, stale_temp_files, write_atomic

ROOT = Path(__file__).resolve().parents[1]


def test_text_and_bytes_are_written_and_folders_made(tmp_path: Path) -> None:
    write_atomic(tmp_path / "a" / "b.txt", "grüße\n")
    write_atomic(tmp_path / "c.bin", b"\x00\x01")
    assert (tmp_path / "a" / "b.txt").read_bytes() == "grüße\n".encode()
    assert (tmp_path / "c.bin").read_bytes() == b"\x00\x01"
    assert stale_temp_files(tmp_path) == []


def test_a_write_that_fails_half_way_leaves_the_old_file_and_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    target.write_text("old")
    with pytest.raises(KeyboardInterrupt), atomic_file(target) as handle:
        handle.write(b"half of the new")
        raise KeyboardInterrupt
    assert target.read_text() == "old"
    assert list(tmp_path.iterdir()) == [target]


def test_the_temporary_file_sits_beside_the_target_until_the_rename(tmp_path: Path) -> None:
    target = tmp_path / "reports" / "alice.json"
    with atomic_file(target) as handle:
        handle.write(b"{}")
        (temporary,) = stale_temp_files(tmp_path)
        assert temporary.parent == target.parent and temporary.name.startswith(".alice.json.")
        assert not target.exists()
    assert target.read_bytes() == b"{}" and stale_temp_files(tmp_path) == []


def test_stale_temp_files_of_a_missing_folder_are_none(tmp_path: Path) -> None:
    assert stale_temp_files(tmp_path / "absent") == []


def test_no_other_module_renames_files_into_place() -> None:
    """os.replace / os.rename / Path.replace appear only in grader/fileio.py: one atomic write."""
    callers = []
    for path in sorted((ROOT / "grader").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in ("replace", "rename", "mkstemp"):
                source = ast.unparse(node.value)
                if source in ("os", "tempfile") or node.attr in ("rename", "mkstemp"):
                    callers.append(f"{path.relative_to(ROOT)}: {source}.{node.attr}")
    assert [c for c in callers if not c.startswith("grader/fileio.py")] == []
