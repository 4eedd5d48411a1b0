"""The batch: discover, plan (``--resume``), grade with an executor, write each row, rebuild the gradebook.

The trusted parent writes each row's files as they come back (JSON report last), so a batch
stopped at any moment is finished by the same command with ``--resume``. The gradebook and
summary are rebuilt from the reports on disk (:mod:`grader.batch.gradebook`).
"""

from __future__ import annotations

import contextlib
import html
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from grader import __version__
from grader.batch import archive, gradebook, roster, similarity
from grader.batch.discovery import Entry, discover
from grader.batch.errors import BatchError
from grader.batch.executors import DaskExecutor, LocalExecutor
from grader.batch.output import OutputFolder
from grader.batch.progress import Progress, step
from grader.batch.resume import GradingKey, plan
from grader.batch.task import build_task
from grader.grading import GradeOptions
from grader.report.model import Report
from grader.rubric import Rubric
from grader.sandbox import isolation
from grader.text_safety import one_line

EXECUTORS = ("local", "dask")
UNPACKED = "submissions"  # OUT/submissions/<zip name>/: a zip's contents


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
    flagged: int = 0  # submissions with integrity findings
    total: int = 0
    seconds: float = 0.0
    files: dict[str, Path] = field(default_factory=dict)

    @property
    def per_hour(self) -> float:
        return 3600.0 * self.graded / self.seconds if self.seconds > 0 else 0.0


def run_batch(config: BatchConfig, echo: Callable[[str], None] = print) -> BatchResult:
    """Grade every submission in ``config.directory`` into ``config.out``; rebuild gradebook and summary."""
    from grader.data import load_dataset
    from grader.rubric import load_rubric

    if config.workers < 1:
        raise BatchError("--workers must be at least 1")
    if config.executor not in EXECUTORS:
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
    folder = OutputFolder(config.out)
    with folder.lock():
        directory = _submissions_folder(config, echo)
        found = discover(directory, rubric.name, exclude=config.out, contract=rubric.contract.functions)
        folder.remove_stale_temp_files()
        existing = {entry.student: folder.read_report(entry.student) for entry in found.entries}
        _check_output_folder(folder, config.resume, rubric, existing)
        with step(echo, f"loading the data '{config.options.data}'"):
            dataset = load_dataset(config.options.data)  # also fills the data cache once, before the workers
        key = GradingKey(
            rubric.sha256, __version__, budget.as_dict(), dataset.fingerprint, config.options.all_cells
        )
        if found.ignored:
            names = one_line(", ".join(found.ignored[:5]))
            echo(f"ignored {len(found.ignored)} file(s) that are not .py or .ipynb: {names}")
        if found.special:
            names = one_line(", ".join(found.special[:5]))
            echo(f"ignored {len(found.special)} entries that are not regular files: {names}")
        for entry in found.entries:
            if entry.chosen:
                echo(one_line(f"{entry.student}: {entry.chosen}"))
        folder.write(roster.ROSTER, roster.roster_csv(found, directory).encode())
        todo = plan(found.entries, existing, key, echo)
        result = BatchResult(skipped=len(found.entries) - len(todo))
        if todo:
            _grade_all(config, folder, rubric, budget, dataset, todo, existing, result, echo)
        with step(echo, f"comparing the {len(found.entries)} submissions for similarity"):
            similar = _write_similarity(folder, found.entries, rubric)
        with step(echo, "writing the gradebook, summary and class page"):
            result.files = gradebook.rebuild(config.out)
        result.files.update(similar)
        reports = gradebook.load_reports(config.out).reports
        result.flagged, result.total = len(gradebook.flagged(reports)), len(reports)
    result.seconds = round(time.monotonic() - started, 1)
    return result


def _write_similarity(folder: OutputFolder, entries: list[Entry], rubric: Rubric) -> dict[str, Path]:
    """similarity.csv and similarity.html over the whole class (resumed rows included).

    A file that breaks the comparison is left out of it (:func:`similarity.code_of`); should the
    comparison itself fail, the class still gets its gradebook: the files say why they are empty.
    """
    template = (
        rubric.template.read_text(encoding="utf-8") if rubric.template and rubric.template.is_file() else ""
    )
    try:
        pairs, prints = similarity.compare(similarity.sources_of(entries), template)
        html_page = similarity.similarity_html(pairs, prints)
    except Exception as exc:  # a grader bug must not cost the gradebook
        pairs, html_page = [], f"<p>The comparison failed: {html.escape(one_line(repr(exc)))}</p>\n"
    folder.write(similarity.SIMILARITY_CSV, similarity.similarity_csv(pairs).encode())
    folder.write(similarity.SIMILARITY_HTML, html_page.encode())
    return {
        "similarity_csv": folder.root / similarity.SIMILARITY_CSV,
        "similarity_html": folder.root / similarity.SIMILARITY_HTML,
    }


def _submissions_folder(config: BatchConfig, echo: Callable[[str], None]) -> Path:
    """DIR itself, or for a zip file the folder it is unpacked into (OUT/submissions/<zip name>)."""
    directory = Path(config.directory)
    if not (directory.is_file() and directory.suffix.lower() == ".zip"):
        return directory
    target = config.out / UNPACKED / directory.stem
    unpacked = archive.unpack(directory, target)
    for problem in unpacked.skipped:
        echo(one_line(f"skipped in {directory.name}: {problem}"))
    return unpacked.root


def _grade_all(
    config: BatchConfig,
    folder: OutputFolder,
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
        tasks = (build_task(entry, rubric, options, existing.get(entry.student), data) for entry in todo)
        progress = Progress(len(todo), echo, workers=config.workers if config.executor == "local" else 1)
        try:
            with contextlib.closing(executor.run(tasks)) as outcomes:
                for outcome in outcomes:
                    folder.write_student_files(outcome.student, outcome.files)
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

    what = f"preparing the reference artifacts of {rubric.name} (training the reference; cached afterwards)"
    with step(echo, what):
        artifacts.load_or_build(rubric, budget, dataset, options.limits, options.artifact_cache)


def _warn_memory(workers: int, memory_mb: int, echo: Callable[[str], None]) -> None:
    import psutil

    total_mb = psutil.virtual_memory().total / 2**20
    if workers * memory_mb > total_mb:
        echo(
            f"warning: {workers} workers x {memory_mb} MB sandbox memory exceeds this machine's "
            f"{total_mb:.0f} MB; consider fewer --workers or a lower --memory-mb"
        )


def _check_output_folder(
    folder: OutputFolder, resume: bool, rubric: Rubric, existing: dict[str, Report | None]
) -> None:
    reports = folder.report_paths()
    if reports and not resume:
        raise BatchError(
            f"{folder.root} already holds {len(reports)} report(s): pass --resume to keep the finished ones "
            "and grade the rest, or choose an empty --out folder"
        )
    others = sorted({r.assignment for r in existing.values() if r and r.assignment != rubric.name})
    if others:
        raise BatchError(
            f"{folder.root} holds reports of another assignment ({', '.join(others)}); "
            "use one --out folder per assignment"
        )
