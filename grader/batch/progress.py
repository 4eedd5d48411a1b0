"""The progress of a batch: a bar on stderr (on a terminal) and one line per finished submission."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tqdm import tqdm

from grader.batch.task import BatchOutcome
from grader.text_safety import one_line


@dataclass
class Progress:
    """Counts what finished (done, errors, timeouts) and tells it: the bar and a line each, with an ETA."""

    total: int
    echo: Callable[[str], None]
    done: int = 0
    errors: int = 0
    timeouts: int = 0
    started: float = field(default_factory=time.monotonic)
    bar: Any = None

    def __post_init__(self) -> None:
        self.bar = tqdm(
            total=self.total, desc="grading", unit="submission", file=sys.stderr, disable=None, leave=False
        )

    @property
    def failed(self) -> int:
        return self.errors + self.timeouts

    def eta(self) -> str:
        if not self.done or self.done >= self.total:
            return "-"
        seconds = (time.monotonic() - self.started) / self.done * (self.total - self.done)
        return time.strftime("%H:%M:%S", time.gmtime(seconds))

    def finished(self, outcome: BatchOutcome) -> None:
        self.done += 1
        self.errors += outcome.status == "error"
        self.timeouts += outcome.status == "timeout"
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
        self.bar.close()
