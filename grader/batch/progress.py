"""The progress of a batch: a bar on stderr (on a terminal), one line per finished submission, and a
line every few seconds for every step that takes longer (:class:`Step`)."""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from tqdm import tqdm

from grader.batch.task import BatchOutcome
from grader.text_safety import one_line

HEARTBEAT_S = 15.0  # a step still running says so this often


@contextlib.contextmanager
def step(echo: Callable[[str], None], what: str, every: float = HEARTBEAT_S) -> Iterator[None]:
    """Say ``what`` is being done, then "still <what> (N s)" every ``every`` seconds, then how long it
    took when that was more than 2 s: a batch is never silent for long."""
    started = time.monotonic()
    stop = threading.Event()
    echo(f"{what}...")

    def beat() -> None:
        while not stop.wait(every):
            echo(f"  still {what} ({time.monotonic() - started:.0f} s)")

    thread = threading.Thread(target=beat, name="batch-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        took = time.monotonic() - started
        if took > 2:
            echo(f"  {what}: done in {took:.0f} s")


@dataclass
class Progress:
    """Counts what finished (done, errors, timeouts) and tells it: the bar and a line each, with an ETA.

    The ETA is the measured time per submission (the mean of those finished) times the submissions
    left, shared by the ``workers`` grading at once; there is none before the first has finished."""

    total: int
    echo: Callable[[str], None]
    workers: int = 1
    done: int = 0
    errors: int = 0
    timeouts: int = 0
    started: float = field(default_factory=time.monotonic)
    bar: Any = None
    seconds: list[float] = field(default_factory=list)  # each finished submission's own grading time
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)

    def __post_init__(self) -> None:
        self.bar = tqdm(
            total=self.total, desc="grading", unit="submission", file=sys.stderr, disable=None, leave=False
        )
        self.echo(
            f"grading {self.total} submission(s), {min(self.workers, self.total)} at a time "
            "(the first results take longest: each worker starts up first)"
        )
        threading.Thread(target=self._beat, name="batch-progress", daemon=True).start()

    def _beat(self) -> None:
        while not self._stop.wait(HEARTBEAT_S):
            elapsed = time.monotonic() - self.started
            with tqdm.external_write_mode(file=sys.stdout):
                self.echo(f"  [{self.done}/{self.total}] still grading ({elapsed:.0f} s, ETA {self.eta()})")

    @property
    def failed(self) -> int:
        return self.errors + self.timeouts

    def eta(self) -> str:
        if not self.seconds or self.done >= self.total:
            return "-"
        per_submission = sum(self.seconds) / len(self.seconds)
        left = self.total - self.done
        seconds = per_submission * left / max(1, min(self.workers, left))
        return time.strftime("%H:%M:%S", time.gmtime(seconds))

    def finished(self, outcome: BatchOutcome) -> None:
        self.done += 1
        self.errors += outcome.status == "error"
        self.timeouts += outcome.status == "timeout"
        self.seconds.append(outcome.seconds)
        self.bar.update(1)
        self.bar.set_postfix(failed=self.failed)
        line = (
            f"[{self.done}/{self.total}, {self.failed} failed, ETA {self.eta()}] {outcome.student}: "
            f"{outcome.score:g}/{outcome.max_score:g} {outcome.status} ({outcome.seconds:.1f} s)"
        )
        if outcome.message:
            line += f": {one_line(outcome.message, 160)}"
        with tqdm.external_write_mode(file=sys.stdout):
            self.echo(one_line(line))  # a file name or message must not drive the terminal

    def close(self) -> None:
        self._stop.set()
        self.bar.close()
