"""Writes the reports in the background, shortly after each confirmed action.

The database is the record; the reports follow within a moment (``DEBOUNCE_S``), several
actions in one pass. A batch or merge-manual holding OUT's lock only delays the writing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from grader.batch.errors import BatchError
from grader.review.store import Store
from grader.review.sync import sync
from grader.rubric import Criterion

DEBOUNCE_S = 0.3
RETRY_S = 2.0


class Syncer:
    """``mark(student)`` after an action; ``flush()`` writes now (tests, shutdown)."""

    def __init__(
        self,
        out: Path,
        store: Store,
        criteria: dict[str, tuple[Criterion, ...]],
        on_written: Callable[[list[str]], None] = lambda students: None,
    ) -> None:
        self.out, self.store, self.criteria, self.on_written = Path(out), store, criteria, on_written
        self.error = ""  # the last problem writing the reports, shown on the pages
        self._dirty: set[str] = set()
        self._lock = threading.Lock()
        self._writing = threading.Lock()  # one writer at a time (the thread, a test, the shutdown)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="review-sync", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def mark(self, *students: str) -> None:
        with self._lock:
            self._dirty.update(students)
        self._wake.set()

    def pending(self) -> int:
        with self._lock:
            return len(self._dirty)

    def flush(self) -> bool:
        """Write every pending student now; False when OUT is locked by another writer (kept pending)."""
        with self._writing:
            return self._flush()

    def _flush(self) -> bool:
        with self._lock:
            students, self._dirty = set(self._dirty), set()
        if not students:
            return True
        try:
            written = sync(self.out, self.store, self.criteria, students)
        except BatchError as exc:
            self.error = str(exc)
            self.mark(*students)
            return False
        except Exception as exc:  # noqa: BLE001 - keep serving: the database still holds the action
            self.error = f"the reports could not be written: {exc}"
            self.mark(*students)
            return False
        self.error = ""
        self.on_written(written)
        return True

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)
        self.flush()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait()
            self._wake.clear()
            if self._stop.is_set():
                return
            self._stop.wait(DEBOUNCE_S)
            if not self.flush():
                self._stop.wait(RETRY_S)
