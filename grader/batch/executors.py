"""Two ways to run :func:`grader.batch.task.grade_one` over many tasks; each yields outcomes as they finish.

* :class:`LocalExecutor`: N spawned processes, each grading one submission at a time. A
  process that dies or overruns costs only the row it was grading and is replaced; every
  process dies with the batch (SIGINT, SIGTERM, even SIGKILL) after closing its sandbox.
* :class:`DaskExecutor`: the same function on a Dask distributed cluster.
"""

from __future__ import annotations

import contextlib
import math
import multiprocessing
import os
import signal
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import wait
from typing import Any

from grader.batch.errors import BatchError
from grader.batch.task import BatchOutcome, BatchTask, failed_outcome, grade_one

# -- local processes ---------------------------------------------------------------------


@dataclass
class LocalExecutor:
    """``workers`` spawned processes, each grading one submission at a time.

    A process imports the grader once and grades many submissions. One that dies or overruns
    its watchdog is replaced, and only the submission it was grading becomes an error row.
    """

    workers: int = 1

    def __enter__(self) -> LocalExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def threads(self) -> int:
        """TensorFlow threads per sandbox: the cores shared by the workers."""
        return max(1, (os.cpu_count() or 1) // self.workers)

    def run(self, tasks: Iterable[BatchTask]) -> Iterator[BatchOutcome]:
        context = multiprocessing.get_context("spawn")
        queue = iter(tasks)
        idle: list[_Worker] = []
        busy: dict[Any, _Worker] = {}
        try:
            while True:
                while len(busy) < self.workers and (task := next(queue, None)) is not None:
                    idle = [worker for worker in idle if worker.process.is_alive()]
                    worker = idle.pop() if idle else _Worker.start(context)
                    worker.assign(task)
                    busy[worker.connection] = worker
                if not busy:
                    return
                deadline = min(worker.deadline for worker in busy.values())
                timeout = None if math.isinf(deadline) else max(0.0, deadline - time.monotonic())
                ready = wait(list(busy), timeout=timeout)
                for connection in ready:
                    worker = busy.pop(connection)
                    outcome = worker.collect()
                    if worker.task is None:
                        idle.append(worker)
                    yield outcome
                for connection, worker in list(busy.items()):
                    if time.monotonic() > worker.deadline:
                        del busy[connection]
                        yield worker.overrun()
        finally:
            for worker in [*busy.values(), *idle]:
                worker.stop()


@dataclass
class _Worker:
    """The parent's handle on one grading process."""

    process: Any
    connection: Any
    task: BatchTask | None = None  # being graded; None when idle
    started: float = 0.0
    deadline: float = float("inf")

    @staticmethod
    def start(context: Any) -> _Worker:
        ours, theirs = context.Pipe()
        process = context.Process(target=_worker_main, args=(theirs, os.getpid()), daemon=True)
        process.start()
        theirs.close()  # the child holds the only other end: EOF means it died
        return _Worker(process, ours)

    def assign(self, task: BatchTask) -> None:
        self.task, self.started = task, time.monotonic()
        self.deadline = self.started + task.watchdog_s if task.watchdog_s else float("inf")
        with contextlib.suppress(OSError):  # a dead child: collect() sees EOF and says so
            self.connection.send(task)

    def collect(self) -> BatchOutcome:
        """The finished task's outcome, or an error row when the process died while grading it."""
        assert self.task is not None
        try:
            outcome = self.connection.recv()
        except (EOFError, OSError):
            self.process.join(5)
            code = self.process.exitcode
            how = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
            outcome = failed_outcome(self.task, f"the grading process died ({how})", "error", self._seconds())
            self.stop()
            return outcome
        self.task = None
        return outcome

    def overrun(self) -> BatchOutcome:
        assert self.task is not None
        self.stop()
        message = f"grading took longer than {self.task.watchdog_s:.0f} s and was stopped"
        return failed_outcome(self.task, message, "timeout", self._seconds())

    def _seconds(self) -> float:
        return round(time.monotonic() - self.started, 2)

    def stop(self) -> None:
        """SIGTERM first: the child closes its sandbox (killing the student's processes), then exits."""
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(10)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(5)
        self.connection.close()


def _worker_main(connection: Any, parent: int) -> None:
    """A local grading process: grade the tasks the parent sends until it closes the pipe."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops us with SIGTERM
    signal.signal(signal.SIGTERM, _exit_on_signal)
    _die_with_parent(parent)
    import grader.grading  # noqa: F401  (imported once per process, while the parent gets ready)

    while True:
        try:
            task = connection.recv()
        except EOFError:
            return
        connection.send(grade_one(task))


def _exit_on_signal(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)  # unwinds grade(): its ``finally`` closes the sandbox


def _die_with_parent(parent: int) -> None:
    """Linux: get SIGTERM when the batch dies, even by SIGKILL, so no grading outlives it."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # the parent died before prctl took effect
        raise SystemExit(1)


# -- Dask ------------------------------------------------------------------------------------


@dataclass
class DaskExecutor:
    """The same :func:`grade_one` on a Dask distributed cluster (the grader installed on every worker)."""

    address: str
    window: int = 0  # tasks in flight (0: twice the cluster's threads); bounds the memory of shipped sources
    client: Any = None

    def __enter__(self) -> DaskExecutor:
        try:
            from distributed import Client
        except ImportError:
            raise BatchError(
                "--executor dask needs the 'distributed' package: pip install 'dl-autograder[dask]'"
            ) from None
        try:
            self.client = Client(self.address, timeout="20s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise BatchError(f"cannot reach the Dask scheduler at {self.address}: {exc}") from None
        return self

    def __exit__(self, *exc: object) -> None:
        if self.client is not None:
            self.client.close()

    def threads(self) -> int:
        """TensorFlow threads per task: a host's cores shared by the Dask threads on that host."""
        from urllib.parse import urlparse

        cores = self.client.run(os.cpu_count)
        per_host: dict[str, tuple[int, int]] = {}  # host -> (Dask threads, cores)
        for address, threads in self.client.nthreads().items():
            host = urlparse(address).hostname or address
            per_host[host] = (per_host.get(host, (0, 0))[0] + threads, cores.get(address) or 1)
        return max(1, min((available // max(used, 1) for used, available in per_host.values()), default=1))

    def run(self, tasks: Iterable[BatchTask]) -> Iterator[BatchOutcome]:
        from distributed import as_completed

        window = self.window or 2 * max(1, sum(self.client.nthreads().values()))
        queue = iter(tasks)
        pending: dict[str, tuple[Any, BatchTask]] = {}  # key -> (future, task): at most ``window``

        def submit(task: BatchTask) -> Any:
            key = f"grade-{task.student}-{os.urandom(4).hex()}"
            future = self.client.submit(grade_one, task, pure=False, key=key)
            pending[future.key] = (future, task)
            return future

        completed = as_completed([submit(task) for task, _ in zip(queue, range(window), strict=False)])
        try:
            for future in completed:
                _, task = pending.pop(future.key)
                try:
                    outcome = future.result()
                except Exception as exc:  # the worker died (KilledWorker) or could not run the task
                    why = f"{type(exc).__name__}: {str(exc)[:300]}"
                    outcome = failed_outcome(task, f"the Dask worker failed ({why})")
                future.release()
                following = next(queue, None)
                if following is not None:
                    completed.add(submit(following))
                yield outcome
        finally:
            for future, _ in pending.values():
                future.cancel()
