"""Grade a class: ``grader batch DIR --rubric NAME --out OUT`` (DESIGN.md, "Scale").

The pipeline per submission is :func:`grade_one`: a plain, picklable function that never
raises. It grades one submission (its bytes travel with the task, so a Dask worker on
another machine needs no shared folder), renders the report's files in memory and returns
them. The trusted parent writes each file atomically, the JSON report last, so a report
on disk means a finished submission; ``--resume`` skips those whose submission, rubric,
grader version, budget and data are unchanged. Two executors run ``grade_one``:

* ``local``: N spawned processes, each grading one submission at a time. A process that
  dies or overruns costs only the row it was grading and is replaced; every process dies
  with the batch (SIGINT, SIGTERM, even SIGKILL) after closing its sandbox.
* ``dask``: the same function on a Dask distributed cluster.

The gradebook and summary are rebuilt from the reports on disk (:mod:`grader.gradebook`).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import math
import multiprocessing
import os
import signal
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from multiprocessing.connection import wait
from pathlib import Path
from typing import Any

from grader import __version__
from grader.grading import GradeOptions
from grader.report.model import ItemResult, Report
from grader.rubric import Rubric
from grader.sandbox import isolation

SUFFIXES = (".py", ".ipynb")
FORMATS = ("md", "gradescope", "json")  # JSON last: its presence means the others are complete
LOCK_NAME = ".batch.lock"
WATCHDOG_MARGIN_S = 300.0  # on top of the rubric's own limits: a backstop for grader bugs only
MAX_SUBMISSION_BYTES = 20 * 1024 * 1024  # grader.submission.MAX_BYTES: larger files are not shipped
# pyplot keeps global state: a Dask worker running several grade_one threads draws one report at a time.
_FIGURES_LOCK = threading.Lock()


class BatchError(Exception):
    """A problem with the batch's inputs (folder, output, scheduler), told in one line."""


# -- discovery ---------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One student's submission: ``path``, or ``problem`` saying why there is none to grade."""

    student: str
    path: Path | None
    problem: str = ""


@dataclass(frozen=True)
class Discovery:
    entries: list[Entry]
    ignored: list[str]  # files in DIR that are not submissions


def discover(directory: Path, assignment: str = "", exclude: Path | None = None) -> Discovery:
    """Every submission in ``directory``: .py/.ipynb files, or one folder per student holding one.

    ``exclude``: a folder to pass over (the output folder, when it lies inside ``directory``).
    """
    directory = Path(directory)
    if not directory.exists():
        raise BatchError(f"submissions folder not found: {directory}")
    if not directory.is_dir():
        raise BatchError(f"{directory} is not a folder: pass the folder that holds the submissions")
    entries, ignored = [], []
    for child in sorted(directory.iterdir()):
        if _hidden(child.name) or (exclude is not None and child.resolve() == exclude.resolve()):
            continue
        if child.is_dir():
            entries.append(_folder_entry(child, assignment))
        elif child.suffix in SUFFIXES:
            entries.append(Entry(child.stem, child))
        else:
            ignored.append(child.name)
    if not entries:
        raise BatchError(
            f"no submissions in {directory}: expected .py or .ipynb files, "
            "or one folder per student holding one"
        )
    seen: dict[str, Entry] = {}
    for entry in entries:
        if entry.student in seen:
            first = seen[entry.student]
            raise BatchError(
                f"two submissions for student '{entry.student}': {first.path or first.student} and "
                f"{entry.path or entry.student}; keep one"
            )
        seen[entry.student] = entry
    return Discovery(entries, ignored)


def _hidden(name: str) -> bool:
    return name.startswith((".", "__"))


def _folder_entry(folder: Path, assignment: str) -> Entry:
    found = sorted(p for p in folder.iterdir() if _is_submission(p, folder))
    if not found:  # e.g. an LMS export with a sub-folder per attempt
        found = sorted(p for p in folder.rglob("*") if _is_submission(p, folder))
    if len(found) > 1:
        named = [p for p in found if p.stem == assignment]
        found = named if len(named) == 1 else found
    if not found:
        return Entry(folder.name, None, f"the folder {folder.name}/ holds no .py or .ipynb file")
    if len(found) > 1:
        names = ", ".join(str(p.relative_to(folder)) for p in found[:5])
        hint = f", or name it {assignment}.py or {assignment}.ipynb" if assignment else ""
        problem = f"the folder {folder.name}/ holds {len(found)} submissions ({names}): keep one{hint}"
        return Entry(folder.name, None, problem)
    return Entry(folder.name, found[0])


def _is_submission(path: Path, folder: Path) -> bool:
    hidden = any(_hidden(part) for part in path.relative_to(folder).parts)
    return path.suffix in SUFFIXES and not hidden and path.is_file()


# -- resume ------------------------------------------------------------------------


@dataclass(frozen=True)
class GradingKey:
    """What a finished report must match to be kept by ``--resume``."""

    rubric_sha256: str
    grader_version: str
    budget: dict[str, Any]
    data_fingerprint: str

    def why_regrade(self, report: Report | None, submission_sha256: str) -> str:
        """Why ``report`` is not up to date; "" when it is."""
        if report is None:
            return "not graded yet"
        checks = [
            (report.submission_sha256 != submission_sha256, "the submission changed"),
            (report.rubric_sha256 != self.rubric_sha256, "the rubric changed"),
            (
                report.grader_version != self.grader_version,
                f"the grader changed ({report.grader_version} -> {self.grader_version})",
            ),
            (report.budget != self.budget, "the budget changed"),
            (report.data.get("fingerprint") != self.data_fingerprint, "the data changed"),
            (bool(report.debug.get("internal_error")), "the grader failed on it last time"),
        ]
        return next((reason for failed, reason in checks if failed), "")


def file_sha256(path: Path | None) -> str:
    if path is None:
        return ""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return ""


def read_existing(out: Path, student: str) -> Report | None:
    """The finished report of ``student`` in ``out``, or None (missing or unreadable: regrade)."""
    from grader.report.writer import read_report

    path = out / "reports" / f"{student}.json"
    try:
        return read_report(path)
    except (OSError, ValueError, KeyError, TypeError):
        return None


# -- the per-submission function ---------------------------------------------------------


@dataclass(frozen=True)
class BatchTask:
    """Everything :func:`grade_one` needs, picklable: it may run on another machine."""

    student: str
    rubric: Rubric
    options: GradeOptions
    source_path: str = ""  # where the submission was found (shown in the report)
    source: bytes = b""
    problem: str = ""  # set: no grading, an error row saying this
    carry: dict[str, dict[str, Any]] = field(default_factory=dict)  # manual scores kept from the last report
    watchdog_s: float = 0.0  # the local executor stops the grading after this long (0: never)
    data: dict[str, str] = field(default_factory=dict)  # the dataset's name and fingerprint, for error rows


@dataclass(frozen=True)
class BatchOutcome:
    """One finished row: its files (path relative to OUT -> bytes) and a summary for the progress line."""

    student: str
    status: str  # graded | error | timeout
    score: float
    max_score: float
    seconds: float
    message: str
    files: dict[str, bytes]
    internal: bool = False  # the grader failed, not the submission


def grade_one(task: BatchTask) -> BatchOutcome:
    """Grade one submission and render its files. Never raises: any failure is an error row."""
    started = time.monotonic()
    report = _safe_grade(task)
    _carry_manual_scores(report, task.carry)
    files = _safe_render(report, task)
    return BatchOutcome(
        student=task.student,
        status=report.status,
        score=report.score,
        max_score=report.max_score,
        seconds=round(time.monotonic() - started, 2),
        message=report.load_error,
        files=files,
        internal=bool(report.debug.get("internal_error")),
    )


def _safe_grade(task: BatchTask) -> Report:
    if task.problem:
        return error_report(task, task.problem)
    try:
        return _grade(task)
    except Exception as exc:  # a grader bug: this row only, and --resume tries again
        return error_report(
            task,
            f"internal error of the grader ({type(exc).__name__}: {exc})",
            internal=traceback.format_exc(),
        )


def _grade(task: BatchTask) -> Report:
    from grader.grading import grade

    name = Path(task.source_path).name or f"{task.student}.py"
    with tempfile.TemporaryDirectory(prefix="grader-batch-") as folder:
        path = Path(folder) / name
        path.write_bytes(task.source)
        report = grade(path, task.rubric, replace(task.options, student=task.student))
    report.submission = task.source_path
    # An unreadable file still has bytes: record them so --resume knows it was graded.
    report.submission_sha256 = report.submission_sha256 or hashlib.sha256(task.source).hexdigest()
    return report


def error_report(task: BatchTask, message: str, internal: str = "", status: str = "error") -> Report:
    """A report for a submission the grader could not grade: every automatic item gets ``message``."""
    rubric = task.rubric
    budget = rubric.budget_named(task.options.budget)
    if task.options.seed is not None:
        budget = budget.with_seed(task.options.seed)
    items = [
        ItemResult(
            item.id,
            item.exercise,
            item.title,
            0.0,
            item.points,
            "manual",
            "graded by your instructor.",
            item.visibility,
            kind="manual",
            answer="",
        )
        if item.is_manual
        else ItemResult(
            item.id,
            item.exercise,
            item.title,
            0.0,
            item.points,
            status,
            f"your submission could not be graded: {message}.",
            item.visibility,
        )
        for item in rubric.items
    ]
    report = Report(
        assignment=rubric.name,
        submission=task.source_path,
        submission_sha256=hashlib.sha256(task.source).hexdigest() if task.source else "",
        score=0.0,
        max_score=0.0,
        auto_score=0.0,
        auto_max=0.0,
        manual_pending=0.0,
        grader_version=__version__,
        rubric_sha256=rubric.sha256,
        budget=budget.as_dict(),
        data={"name": task.options.data, "fingerprint": ""} | task.data,
        seed=budget.seed,
        seconds=0.0,
        items=items,
        status=status,
        load_error=message,
        student=task.student,
    )
    if internal:
        report.debug["internal_error"] = True
        report.warnings.append(f"internal error while grading {task.student}:\n{internal}")
    report.recompute_totals()
    return report


def _carry_manual_scores(report: Report, carry: dict[str, dict[str, Any]]) -> None:
    """Keep instructor scores of an unchanged submission when it is regraded (new rubric or grader)."""
    for item in report.items:
        kept = carry.get(item.id)
        if item.kind == "manual" and kept and kept["max_score"] == item.max_score:
            item.score, item.status, item.comment = kept["score"], kept["status"], kept["comment"]
    report.recompute_totals()


def _safe_render(report: Report, task: BatchTask) -> dict[str, bytes]:
    try:
        return render_files(report, task.student)
    except Exception:  # a figure that cannot be drawn must not cost the row
        report.raw = None
        report.warnings.append(f"the report's figures could not be drawn:\n{traceback.format_exc()}")
        try:
            return render_files(report, task.student)
        except Exception as exc:
            fallback = error_report(
                task,
                f"internal error of the grader while writing the report ({exc})",
                internal=traceback.format_exc(),
            )
            return {f"reports/{task.student}.json": (fallback.to_json() + "\n").encode()}


def render_files(report: Report, student: str) -> dict[str, bytes]:
    """The batch layout's files of one report, in memory: relative path -> bytes."""
    from grader.report.writer import Layout, write_report

    with tempfile.TemporaryDirectory(prefix="grader-render-") as folder, _FIGURES_LOCK:
        root = Path(folder)
        write_report(report, Layout(root, batch=True), student, FORMATS)
        files = sorted(path for path in root.rglob("*") if path.is_file())
        return {path.relative_to(root).as_posix(): path.read_bytes() for path in files}


def write_outcome(out: Path, outcome: BatchOutcome) -> None:
    """Write a row's files atomically, the JSON report last (its presence marks the row done)."""
    report_key = f"reports/{outcome.student}.json"
    root = out.resolve()
    for relative in sorted(outcome.files, key=lambda key: key == report_key):
        path = (root / relative).resolve()
        if root not in path.parents:
            raise BatchError(f"refusing to write outside {out}: {relative}")
        write_bytes_atomic(path, outcome.files[relative])


def write_bytes_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# -- executors --------------------------------------------------------------------------


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
            outcome = _failed_outcome(self.task, self.started, f"the grading process died ({how})", "error")
            self.stop()
            return outcome
        self.task = None
        return outcome

    def overrun(self) -> BatchOutcome:
        assert self.task is not None
        self.stop()
        message = f"grading took longer than {self.task.watchdog_s:.0f} s and was stopped"
        return _failed_outcome(self.task, self.started, message, "timeout")

    def stop(self) -> None:
        """SIGTERM first: the child closes its sandbox (killing the student's processes), then exits."""
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(10)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(5)
        self.connection.close()


def _failed_outcome(task: BatchTask, started: float, message: str, status: str) -> BatchOutcome:
    report = error_report(task, message, internal=message, status=status)
    files = {f"reports/{task.student}.json": (report.to_json() + "\n").encode()}
    with contextlib.suppress(Exception):
        files = render_files(report, task.student)
    seconds = round(time.monotonic() - started, 2)
    return BatchOutcome(task.student, status, report.score, report.max_score, seconds, message, files, True)


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
                    outcome = _dask_failure(task, exc)
                future.release()
                following = next(queue, None)
                if following is not None:
                    completed.add(submit(following))
                yield outcome
        finally:
            for future, _ in pending.values():
                future.cancel()


def _dask_failure(task: BatchTask, exc: Exception) -> BatchOutcome:
    message = f"the Dask worker failed ({type(exc).__name__}: {str(exc)[:300]})"
    report = error_report(task, message, internal=message)
    return BatchOutcome(
        task.student,
        "error",
        report.score,
        report.max_score,
        0.0,
        message,
        render_files(report, task.student),
        True,
    )


# -- the batch ------------------------------------------------------------------------


@dataclass(frozen=True)
class BatchConfig:
    directory: Path
    rubric: str | Path
    out: Path
    options: GradeOptions = field(default_factory=GradeOptions)
    workers: int = 1
    resume: bool = False
    executor: str = "local"  # local | dask
    scheduler: str = ""


@dataclass
class BatchResult:
    graded: int = 0
    skipped: int = 0
    errors: int = 0
    timeouts: int = 0
    seconds: float = 0.0
    files: dict[str, Path] = field(default_factory=dict)

    @property
    def per_hour(self) -> float:
        return 3600.0 * self.graded / self.seconds if self.seconds > 0 else 0.0


def run_batch(config: BatchConfig, echo: Callable[[str], None] = print) -> BatchResult:
    """Grade every submission in ``config.directory`` into ``config.out``; rebuild gradebook and summary."""
    from grader import gradebook
    from grader.data import load_dataset
    from grader.rubric import load_rubric

    if config.workers < 1:
        raise BatchError("--workers must be at least 1")
    if config.executor not in ("local", "dask"):
        raise BatchError(f"unknown executor '{config.executor}' (choose local or dask)")
    if config.executor == "dask" and not config.scheduler:
        raise BatchError("--executor dask needs --scheduler ADDRESS (e.g. tcp://10.0.0.5:8786)")
    if config.options.require_isolation:  # once, before any grading (each grade would refuse too)
        isolation.require(isolation.detect())
    started = time.monotonic()
    rubric = load_rubric(config.rubric)
    budget = rubric.budget_named(config.options.budget)
    if config.options.seed is not None:
        budget = budget.with_seed(config.options.seed)
    found = discover(config.directory, rubric.name, exclude=config.out)
    config.out.mkdir(parents=True, exist_ok=True)
    with _batch_lock(config.out):
        _remove_stale_temp_files(config.out)
        existing = {entry.student: read_existing(config.out, entry.student) for entry in found.entries}
        _check_output_folder(config, rubric, existing)
        dataset = load_dataset(config.options.data)  # also fills the data cache once, before the workers
        key = GradingKey(rubric.sha256, __version__, budget.as_dict(), dataset.fingerprint)
        if found.ignored:
            names = ", ".join(found.ignored[:5])
            echo(f"ignored {len(found.ignored)} file(s) that are not .py or .ipynb: {names}")
        todo = _plan(found.entries, existing, key, echo)
        result = BatchResult(skipped=len(found.entries) - len(todo))
        if todo:
            _grade_all(config, rubric, budget, dataset, todo, existing, result, echo)
        result.files = gradebook.rebuild(config.out)
    result.seconds = round(time.monotonic() - started, 1)
    return result


def _plan(
    entries: list[Entry], existing: dict[str, Report | None], key: GradingKey, echo: Callable[[str], None]
) -> list[Entry]:
    todo = []
    for entry in entries:
        report = existing.get(entry.student)
        reason = key.why_regrade(report, file_sha256(entry.path))
        if report is not None and not reason and entry.problem and report.load_error != entry.problem:
            reason = "its folder changed"  # e.g. a second notebook appeared beside the first
        if report is not None and not reason:
            echo(f"{entry.student}: skipped (already graded: same submission, rubric and grader version)")
        else:
            if report is not None:
                echo(f"{entry.student}: regrading ({reason})")
            todo.append(entry)
    return todo


def _grade_all(
    config: BatchConfig,
    rubric: Rubric,
    budget: Any,
    dataset: Any,
    todo: list[Entry],
    existing: dict[str, Report | None],
    result: BatchResult,
    echo: Callable[[str], None],
) -> None:
    executor: LocalExecutor | DaskExecutor = (
        DaskExecutor(config.scheduler) if config.executor == "dask" else LocalExecutor(config.workers)
    )
    with executor:
        options = replace(config.options, limits=replace(config.options.limits, threads=executor.threads()))
        if config.executor == "local":
            _warn_memory(config.workers, options.limits.memory_mb, echo)
            _prepare_artifacts(rubric, budget, dataset, options, echo)
        options = replace(options, protected=options.protected + _protected(config))
        data = {"name": dataset.name, "fingerprint": dataset.fingerprint}
        tasks = (_task(entry, rubric, options, existing.get(entry.student), data) for entry in todo)
        progress = Progress(len(todo), echo)
        try:
            with contextlib.closing(executor.run(tasks)) as outcomes:
                for outcome in outcomes:
                    write_outcome(config.out, outcome)
                    progress.finished(outcome)
        except KeyboardInterrupt:
            progress.close()
            echo(
                f"interrupted: {progress.done} of {len(todo)} graded in this run (their reports are kept); "
                "run the same command with --resume to grade the rest"
            )
            raise
        finally:
            progress.close()
    result.graded = progress.done
    result.errors, result.timeouts = progress.errors, progress.timeouts


def _task(
    entry: Entry, rubric: Rubric, options: GradeOptions, previous: Report | None, data: dict[str, str]
) -> BatchTask:
    """Built lazily, when a worker is free: only the submissions in flight are held in memory."""
    problem, source = entry.problem, b""
    if entry.path is not None and not problem:
        try:
            if entry.path.stat().st_size > MAX_SUBMISSION_BYTES:
                problem = f"{entry.path.name} is larger than {MAX_SUBMISSION_BYTES // 2**20} MB"
            else:
                source = entry.path.read_bytes()
        except OSError as exc:
            problem = f"{entry.path.name} could not be read ({exc.strerror})"
    carry = {}
    if previous is not None and source and previous.submission_sha256 == hashlib.sha256(source).hexdigest():
        carry = {
            i.id: {"score": i.score, "status": i.status, "comment": i.comment, "max_score": i.max_score}
            for i in previous.items
            if i.kind == "manual" and i.status != "manual"
        }
    watchdog = rubric.load_timeout_s + sum(item.timeout_s + rubric.load_timeout_s for item in rubric.items)
    return BatchTask(
        student=entry.student,
        rubric=rubric,
        options=options,
        source_path=str(entry.path or ""),
        source=source,
        problem=problem,
        carry=carry,
        watchdog_s=watchdog + WATCHDOG_MARGIN_S,
        data=data,
    )


def _protected(config: BatchConfig) -> tuple[str, ...]:
    """The class's submissions and the output folder: no student may read the others' or write reports."""
    sandbox_root = Path(tempfile.gettempdir()).resolve()
    folders = (config.directory.resolve(), config.out.resolve())
    # A folder that holds the temp dir would lock the sandbox out of its own files.
    return tuple(str(f) for f in folders if f != sandbox_root and f not in sandbox_root.parents)


def _prepare_artifacts(
    rubric: Rubric, budget: Any, dataset: Any, options: GradeOptions, echo: Callable[[str], None]
) -> None:
    """Train the reference once, before the workers start (each would otherwise build it)."""
    if not rubric.reference_artifacts:
        return
    from grader import artifacts

    echo(f"preparing the reference artifacts of {rubric.name} (cached after the first run)...")
    artifacts.load_or_build(rubric, budget, dataset, options.limits, options.artifact_cache)


def _warn_memory(workers: int, memory_mb: int, echo: Callable[[str], None]) -> None:
    import psutil

    total_mb = psutil.virtual_memory().total / 2**20
    if workers * memory_mb > total_mb:
        echo(
            f"warning: {workers} workers x {memory_mb} MB sandbox memory exceeds this machine's "
            f"{total_mb:.0f} MB; consider fewer --workers or a lower --memory-mb"
        )


def _check_output_folder(config: BatchConfig, rubric: Rubric, existing: dict[str, Report | None]) -> None:
    reports = sorted((config.out / "reports").glob("*.json"))
    if reports and not config.resume:
        raise BatchError(
            f"{config.out} already holds {len(reports)} report(s): pass --resume to keep the finished ones "
            "and grade the rest, or choose an empty --out folder"
        )
    others = sorted({r.assignment for r in existing.values() if r and r.assignment != rubric.name})
    if others:
        raise BatchError(
            f"{config.out} holds reports of another assignment ({', '.join(others)}); "
            "use one --out folder per assignment"
        )


@contextlib.contextmanager
def _batch_lock(out: Path) -> Iterator[None]:
    """One writer per output folder; the kernel releases the lock when the process dies, even by SIGKILL."""
    with open(out / LOCK_NAME, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BatchError(
                f"another grader batch or merge-manual is writing to {out}; wait for it to finish"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def batch_lock(out: Path) -> contextlib.AbstractContextManager[None]:
    """The lock of ``out`` (merge-manual takes it too)."""
    return _batch_lock(out)


def _remove_stale_temp_files(out: Path) -> None:
    """Half-written files of a killed run (never renamed into place)."""
    for folder in (out / "reports", out / "gradescope"):
        if folder.is_dir():
            for path in folder.rglob(".*.tmp"):
                path.unlink(missing_ok=True)


# -- progress -------------------------------------------------------------------------


@dataclass
class Progress:
    """A bar on stderr (on a terminal) and one line per finished submission: done, failed, ETA."""

    total: int
    echo: Callable[[str], None]
    done: int = 0
    errors: int = 0
    timeouts: int = 0
    started: float = field(default_factory=time.monotonic)
    bar: Any = None

    def __post_init__(self) -> None:
        from tqdm import tqdm

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
            line += f": {outcome.message.splitlines()[0][:160]}"
        from tqdm import tqdm

        with tqdm.external_write_mode(file=sys.stdout):
            self.echo(line)

    def close(self) -> None:
        self.bar.close()
