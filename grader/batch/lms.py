"""The names LMS downloads give submissions, read into a student id and the columns the gradebook keeps.

* Moodle "Download all submissions": a folder ``Full Name_<participant id>_assignsubmission_file_/``
  per student (or, without folders, files ``Full Name_<id>_assignsubmission_file_<file name>``).
  The id is the participant id; the full name is kept.
* Canvas "Download submissions": files ``<name>_<user id>_<submission id>_<file name>``, with
  ``LATE_`` after the name when handed in late. The id is the Canvas user id; lateness is kept.

Pure functions on names: :mod:`grader.batch.discovery` decides what to do with the files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Moodle also downloads online text and feedback files: only files are submissions here.
_MOODLE_FOLDER = re.compile(r"^(?P<name>.+?)_(?P<id>\d+)_assignsubmission_file_?$")
_MOODLE_FILE = re.compile(r"^(?P<name>.+?)_(?P<id>\d+)_assignsubmission_file_(?P<file>.+)$")
_CANVAS_FILE = re.compile(r"^(?P<name>[^_]+)_(?:(?P<late>LATE)_)?(?P<id>\d+)_(?P<sub>\d+)_(?P<file>.+)$")


@dataclass(frozen=True)
class LmsName:
    """What an LMS name says: the student's id, the LMS, and the columns the gradebook keeps."""

    student: str
    lms: str  # moodle | canvas
    full_name: str = ""
    late: bool = False
    original: str = ""  # the student's own file name, when the LMS kept it in the name


def moodle_folder(name: str) -> LmsName | None:
    """``Alice Example_1001_assignsubmission_file_`` -> participant 1001, "Alice Example"."""
    match = _MOODLE_FOLDER.match(name)
    return LmsName(match["id"], "moodle", full_name=match["name"]) if match else None


def lms_file(name: str) -> LmsName | None:
    """A Moodle or Canvas file name (without a per-student folder), or None for any other name."""
    match = _MOODLE_FILE.match(name)
    if match:
        return LmsName(match["id"], "moodle", full_name=match["name"], original=match["file"])
    match = _CANVAS_FILE.match(name)
    if match:
        late = bool(match["late"])
        return LmsName(match["id"], "canvas", full_name=match["name"], late=late, original=match["file"])
    return None
