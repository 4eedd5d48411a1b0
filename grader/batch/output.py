"""The output folder of a batch: its layout, its lock, atomic writes and the listing of its reports.

::

    OUT/reports/<student>.json     the report (the source of truth), written last
    OUT/reports/<student>.md       and its figures in OUT/reports/figures/<student>/
    OUT/gradescope/<student>/results.json
    OUT/gradebook.csv, summary.md, summary.png, manual_scores_template.csv   (grader.batch.gradebook)
    OUT/similarity.csv, similarity.html   similar pairs of submissions (grader.batch.similarity)
    OUT/roster.csv                 LMS name, lateness, chosen file per student (grader.batch.roster)
    OUT/submissions/<zip name>/    a zip of submissions, unpacked (grader.batch.archive)
    OUT/exports/                   the LMS's grade files, filled by grader export (grader.batch.lms_export)
    OUT/.batch.lock                held by the one process writing to OUT

A report on disk means a finished submission: every file is written atomically, the JSON
report last.
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from grader.batch.errors import BatchError
from grader.fileio import stale_temp_files, write_atomic
from grader.report.model import Report
from grader.report.writer import Layout, read_report

LOCK_NAME = ".batch.lock"
REPORTS = "reports"
GRADESCOPE = "gradescope"


@dataclass(frozen=True)
class OutputFolder:
    """``OUT`` of ``grader batch`` (and of ``grader merge-manual``)."""

    root: Path

    @property
    def layout(self) -> Layout:
        """Where each format of a student's report goes."""
        return Layout(self.root, batch=True)

    @staticmethod
    def report_key(student: str) -> str:
        """The JSON report's path relative to OUT (its presence marks the student done)."""
        return f"{REPORTS}/{student}.json"

    def report_paths(self) -> list[Path]:
        """Every JSON report, sorted by file name (the file name is the student's id)."""
        return sorted((self.root / REPORTS).glob("*.json"))

    def has_reports_folder(self) -> bool:
        return (self.root / REPORTS).is_dir()

    def read_report(self, student: str) -> Report | None:
        """The finished report of ``student``, or None (missing or unreadable: grade it again)."""
        try:
            return read_report(self.root / self.report_key(student))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """One writer per output folder; the kernel drops the lock when the process dies, even by SIGKILL."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / LOCK_NAME, "a+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise BatchError(
                    f"another grader batch or merge-manual is writing to {self.root}; wait for it to finish"
                ) from None
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def remove_stale_temp_files(self) -> None:
        """Half-written files of a killed run (never renamed into place)."""
        for folder in (self.root / REPORTS, self.root / GRADESCOPE):
            for path in stale_temp_files(folder):
                path.unlink(missing_ok=True)

    def write(self, relative: str, data: bytes) -> Path:
        """Write ``OUT/relative`` atomically; a path that would leave OUT is refused."""
        root = self.root.resolve()
        path = (root / relative).resolve()
        if root not in path.parents:
            raise BatchError(f"refusing to write outside {self.root}: {relative}")
        write_atomic(path, data)
        return path

    def write_student_files(self, student: str, files: Mapping[str, bytes]) -> None:
        """A student's files (path relative to OUT -> bytes), each atomically, the JSON report last."""
        last = self.report_key(student)
        for relative in sorted(files, key=lambda key: key == last):
            self.write(relative, files[relative])
