"""The review's database: ``OUT/review.sqlite``, one row per confirmed action, committed at once.

SQLite in WAL mode with a connection per call: the server can be killed at any moment and
keeps every committed action; two graders write different rows and never overwrite each
other; writing the same answer twice is caught by its version (optimistic locking).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

DB_NAME = "review.sqlite"

SCHEMA = """
CREATE TABLE IF NOT EXISTS grades (
    student TEXT NOT NULL, item TEXT NOT NULL, points REAL NOT NULL, comment TEXT NOT NULL,
    criteria TEXT NOT NULL, grader TEXT NOT NULL, at TEXT NOT NULL, version INTEGER NOT NULL,
    submission_sha256 TEXT NOT NULL, PRIMARY KEY (student, item));
CREATE TABLE IF NOT EXISTS overrides (
    student TEXT NOT NULL, item TEXT NOT NULL, points REAL NOT NULL, reason TEXT NOT NULL,
    grader TEXT NOT NULL, at TEXT NOT NULL, original_score REAL NOT NULL, original_status TEXT NOT NULL,
    original_feedback TEXT NOT NULL, submission_sha256 TEXT NOT NULL, PRIMARY KEY (student, item));
CREATE TABLE IF NOT EXISTS comments (
    item TEXT NOT NULL, text TEXT NOT NULL, PRIMARY KEY (item, text));
CREATE TABLE IF NOT EXISTS log (
    id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, grader TEXT NOT NULL, action TEXT NOT NULL,
    student TEXT NOT NULL, item TEXT NOT NULL, old REAL, new REAL, detail TEXT NOT NULL);
"""


class Conflict(Exception):
    """Another grader saved this answer since the page was loaded; nothing was written."""

    def __init__(self, current: Grade) -> None:
        super().__init__(f"{current.grader} saved {current.student}/{current.item} at {current.at}")
        self.current = current


@dataclass(frozen=True)
class Grade:
    student: str
    item: str
    points: float
    comment: str
    criteria: list[int]  # indices into the rubric item's criteria
    grader: str
    at: str
    version: int
    submission_sha256: str


@dataclass(frozen=True)
class Override:
    """An automatic item's score changed by hand (a regrade request), with the original kept."""

    student: str
    item: str
    points: float
    reason: str
    grader: str
    at: str
    original_score: float
    original_status: str
    original_feedback: str
    submission_sha256: str


@dataclass(frozen=True)
class LogEntry:
    at: str
    grader: str
    action: str
    student: str
    item: str
    old: float | None
    new: float | None
    detail: str


@dataclass(frozen=True)
class NewGrade:
    """What a grader confirmed for one answer; ``version`` is the one they saw (0: none yet)."""

    student: str
    item: str
    points: float
    comment: str = ""
    criteria: list[int] = field(default_factory=list)
    version: int = 0
    submission_sha256: str = ""


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass
class Store:
    """The database in ``OUT``; safe to share between the server's threads."""

    path: Path
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @staticmethod
    def open(out: Path) -> Store:
        store = Store(Path(out) / DB_NAME)
        with store._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)
        return store

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)  # explicit transactions only
        try:
            db.execute("PRAGMA synchronous=FULL")  # a confirmed action survives a power cut too
            yield db
        finally:
            db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock, self._connect() as db:
            db.execute("BEGIN IMMEDIATE")  # also excludes a second server on the same folder
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    # -- grades of written answers ----------------------------------------------------

    def save_grade(self, grade: NewGrade, grader: str, check_version: bool = True) -> Grade:
        """Store one grade; with ``check_version``, a :class:`Conflict` if someone saved it meanwhile."""
        with self._transaction() as db:
            row = db.execute(
                "SELECT * FROM grades WHERE student = ? AND item = ?", (grade.student, grade.item)
            ).fetchone()
            current = _grade(row) if row else None
            seen = current.version if current else 0
            if check_version and seen != grade.version:
                raise Conflict(current) if current else Conflict(_missing(grade))
            stored = Grade(
                grade.student,
                grade.item,
                grade.points,
                grade.comment,
                sorted(set(grade.criteria)),
                grader,
                now(),
                seen + 1,
                grade.submission_sha256,
            )
            db.execute(
                "INSERT OR REPLACE INTO grades VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    stored.student,
                    stored.item,
                    stored.points,
                    stored.comment,
                    json.dumps(stored.criteria),
                    stored.grader,
                    stored.at,
                    stored.version,
                    stored.submission_sha256,
                ),
            )
            _log(
                db,
                grader,
                "grade",
                stored.student,
                stored.item,
                current.points if current else None,
                stored.points,
                json.dumps({"criteria": stored.criteria, "comment": stored.comment}),
            )
            if stored.comment:
                db.execute("INSERT OR IGNORE INTO comments VALUES (?, ?)", (stored.item, stored.comment))
        return stored

    def grades(self, item: str | None = None) -> dict[tuple[str, str], Grade]:
        query, args = (
            ("SELECT * FROM grades WHERE item = ?", (item,)) if item else ("SELECT * FROM grades", ())
        )
        with self._connect() as db:
            return {(g.student, g.item): g for g in map(_grade, db.execute(query, args).fetchall())}

    def saved_comments(self, item: str) -> list[str]:
        with self._connect() as db:
            rows = db.execute("SELECT text FROM comments WHERE item = ? ORDER BY text", (item,)).fetchall()
        return [text for (text,) in rows]

    # -- overrides of automatic items --------------------------------------------------

    def save_override(self, override: Override) -> Override:
        """Store an override; the first one's original score and feedback are kept for good."""
        with self._transaction() as db:
            row = db.execute(
                "SELECT * FROM overrides WHERE student = ? AND item = ?", (override.student, override.item)
            ).fetchone()
            previous = Override(*row) if row else None
            if previous is not None:
                override = Override(
                    override.student,
                    override.item,
                    override.points,
                    override.reason,
                    override.grader,
                    override.at,
                    previous.original_score,
                    previous.original_status,
                    previous.original_feedback,
                    override.submission_sha256,
                )
            db.execute(
                "INSERT OR REPLACE INTO overrides VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", _row(override)
            )
            old = previous.points if previous else override.original_score
            _log(
                db,
                override.grader,
                "override",
                override.student,
                override.item,
                old,
                override.points,
                override.reason,
            )
        return override

    def overrides(self) -> dict[tuple[str, str], Override]:
        with self._connect() as db:
            rows = db.execute("SELECT * FROM overrides").fetchall()
        return {(o.student, o.item): o for o in (Override(*row) for row in rows)}

    def log(self) -> list[LogEntry]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT at, grader, action, student, item, old, new, detail FROM log ORDER BY id"
            ).fetchall()
        return [LogEntry(*row) for row in rows]


def _grade(row: tuple) -> Grade:
    student, item, points, comment, criteria, grader, at, version, sha = row
    return Grade(student, item, points, comment, json.loads(criteria), grader, at, version, sha)


def _missing(grade: NewGrade) -> Grade:
    """The 'current' grade of an answer nobody graded (a client sent a version that never existed)."""
    return Grade(grade.student, grade.item, 0.0, "", [], "nobody", "", 0, "")


def _row(override: Override) -> tuple:
    return tuple(getattr(override, name) for name in Override.__dataclass_fields__)


def _log(
    db: sqlite3.Connection,
    grader: str,
    action: str,
    student: str,
    item: str,
    old: float | None,
    new: float | None,
    detail: str,
) -> None:
    db.execute(
        "INSERT INTO log (at, grader, action, student, item, old, new, detail) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (now(), grader, action, student, item, old, new, detail),
    )
