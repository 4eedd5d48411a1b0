"""A zip of submissions (an LMS's "download all"), unpacked safely into the output folder.

Safe means: no member leaves the target folder (absolute paths, ``..``, symlinks are skipped),
and the caps below stop a zip bomb before it fills the disk.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from grader.batch.discovery import SUFFIXES
from grader.batch.errors import BatchError
from grader.batch.lms import lms_file, moodle_folder
from grader.fileio import atomic_file

MAX_MEMBERS = 10_000
MAX_MEMBER_BYTES = 50 * 2**20  # a submission larger than 20 MB is refused later anyway
MAX_TOTAL_BYTES = 1024 * 2**20
CHUNK = 2**20


@dataclass(frozen=True)
class Unpacked:
    root: Path  # the folder that holds the submissions
    skipped: list[str]  # members left out, with the reason


def unpack(archive: Path, target: Path) -> Unpacked:
    """Extract ``archive`` into ``target``; return the folder holding the submissions."""
    try:
        with zipfile.ZipFile(archive) as zipped:
            members = zipped.infolist()
            if len(members) > MAX_MEMBERS:
                raise BatchError(f"{archive.name} holds {len(members)} files (at most {MAX_MEMBERS})")
            if sum(member.file_size for member in members) > MAX_TOTAL_BYTES:
                raise BatchError(f"{archive.name} unpacks to more than {MAX_TOTAL_BYTES // 2**20} MB")
            skipped = [problem for member in members if (problem := _extract(zipped, member, target))]
    except zipfile.BadZipFile as exc:
        raise BatchError(f"{archive.name} is not a readable zip file ({exc})") from None
    return Unpacked(_submissions_root(target), skipped)


def _extract(zipped: zipfile.ZipFile, member: zipfile.ZipInfo, target: Path) -> str:
    """Write one member under ``target``; a non-empty return says why it was skipped."""
    parts = PurePosixPath(member.filename.replace("\\", "/")).parts
    if member.is_dir():
        return ""
    if not parts or member.filename.startswith(("/", "\\")) or ".." in parts or ":" in parts[0]:
        return f"{member.filename}: a path outside the folder"
    if (member.external_attr >> 16) & 0o170000 == 0o120000:
        return f"{member.filename}: a symbolic link"
    if member.file_size > MAX_MEMBER_BYTES:
        return f"{member.filename}: larger than {MAX_MEMBER_BYTES // 2**20} MB"
    written = 0
    try:
        with zipped.open(member) as source, atomic_file(target.joinpath(*parts)) as handle:
            while chunk := source.read(CHUNK):
                written += len(chunk)
                if written > MAX_MEMBER_BYTES:  # the header's size can lie
                    raise BatchError(f"{member.filename} unpacks to more than {MAX_MEMBER_BYTES // 2**20} MB")
                handle.write(chunk)
    except OSError as exc:  # a file where a folder must be ("a.py" then "a.py/b.py"), a name too long
        return f"{member.filename}: could not be written ({exc.strerror or exc})"
    return ""


def _submissions_root(target: Path) -> Path:
    """A zip whose only entry is one wrapping folder (no files beside it): the submissions are inside."""
    root = target
    while True:
        children = [c for c in root.iterdir() if not c.name.startswith((".", "__"))] if root.is_dir() else []
        wrapper = children[0] if len(children) == 1 and children[0].is_dir() else None
        if wrapper is None or moodle_folder(wrapper.name):
            return root
        inside = [c for c in wrapper.iterdir() if c.is_file() and c.suffix in SUFFIXES]
        if len(inside) == 1 and not lms_file(inside[0].name):  # one student's folder: a class of one
            return root
        root = wrapper
