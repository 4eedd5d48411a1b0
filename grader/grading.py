"""Grade one submission against one rubric: ``grade(path, rubric) -> Report``.

The pipeline of docs/architecture.md: load the submission, scan it, start its sandbox, fetch each
item's probe data (raw data only), run the item's check in this trusted process, and
assemble the JSON report. Nothing a submission does can stop the report from being
written: unreadable input, hangs, crashes and exits all become item statuses.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from grader import __version__, artifacts, calibration, inputs, integrity, reference_calls
from grader.assignment_match import (
    best_match,
    coverage,
    defined_functions,
    shipped_contracts,
    wrong_assignment,
)
from grader.assignments import registry
from grader.checks import CheckInputs, StudentCallFailed, StudentError, Verdict
from grader.data import Dataset, load_dataset
from grader.exercises import select_exercises
from grader.functions import all_inputs
from grader.keras_version import keras2_reasons, load_error_suggests_keras2
from grader.report.model import ItemResult, Report
from grader.rubric import Budget, Item, Rubric, list_rubrics, load_rubric
from grader.sandbox import isolation
from grader.sandbox.supervisor import Sandbox, SandboxLimits, Standby, WorkerFailure
from grader.session import ProbeResult, ProbeSession
from grader.stages import Stages
from grader.submission import Submission, SubmissionError, load_submission
from grader.threadsafe import format_exception

# What the student wrote that each probe of the engine runs, for messages about hangs and crashes;
# an assignment declares its probes' (``PROBE_FUNCTIONS``), a training stage's probe its ``Stage.runs``.
ENGINE_PROBE_FUNCTIONS = {"constants": "your module-level constants"}
# Loads retried without a derived statement that hung in C code (each retry waits out the load timeout).
MAX_HUNG_STATEMENTS = 3


@dataclass(frozen=True)
class GradeOptions:
    budget: str = "default"
    seed: int | None = None
    data: str = "default"
    keras: str = "auto"  # "auto" | "2" | "3"
    limits: SandboxLimits = field(default_factory=SandboxLimits)
    public_only: bool = False
    all_cells: bool = False  # run every statement, not only the definitions (--all-cells)
    student: str = ""
    calibrated: bool = True  # False while calibrating: thresholds from the rubric only
    artifact_cache: Path | None = None
    protected: tuple[str, ...] = ()  # more folders the submission may not open (batch: the class, the output)
    require_isolation: bool = False  # refuse to grade without kernel isolation (isolation.require)
    exercises: tuple[str, ...] = ()  # only these exercises' items (grader check --exercise); () = all
    # A worker started ahead for this submission (the notebook self-check keeps one warm).
    standby: Standby | None = field(default=None, compare=False, hash=False, repr=False)
    # What grading needs besides the submission, prepared once (GradingPlan); used when its key matches.
    plan: GradingPlan | None = field(default=None, compare=False, hash=False, repr=False)


@dataclass(frozen=True)
class GradingPlan:
    """Everything grading needs that does not depend on the submission, prepared once with
    :func:`prepare`: the seeded budget, the data, the thresholds, the worker's inputs and the
    expected values (with the reference's artifacts and results), and the probes' arguments.
    A batch prepares it once per worker process, the self-check service once (PlanCache)."""

    key: tuple[Any, ...]
    budget: Budget
    dataset: Dataset
    thresholds: dict[str, dict[str, float]]
    warnings: tuple[str, ...]
    data: inputs.GradingData
    probe_args: dict[str, dict[str, Any]]


def plan_key(rubric: Rubric, options: GradeOptions) -> tuple[Any, ...]:
    """What a plan depends on: the rubric (its file and contents), the budget and seed, the data,
    whether calibrated thresholds are used, the artifact cache and the sandbox limits."""
    return (
        str(rubric.path),
        rubric.sha256,
        options.budget,
        options.seed,
        options.data,
        options.calibrated,
        str(options.artifact_cache),
        options.limits,
    )


def _budget(rubric: Rubric, options: GradeOptions) -> Budget:
    budget = rubric.budget_named(options.budget)
    return budget if options.seed is None else budget.with_seed(options.seed)


def prepare(rubric: Rubric, options: GradeOptions, dataset: Dataset | None = None) -> GradingPlan:
    """The plan of ``rubric`` under ``options`` (trains or loads the reference's artifacts once)."""
    budget = _budget(rubric, options)
    dataset = dataset or load_dataset(options.data)
    thresholds, warnings = calibration.thresholds_for(rubric, budget, dataset, use_file=options.calibrated)
    arrays, meta = artifacts.load_or_build(rubric, budget, dataset, options.limits, options.artifact_cache)
    data = inputs.for_assignment(rubric.name, budget, dataset, arrays)
    # Function exercises: the rubric's cases go to the worker; the reference's results stay here.
    data.worker.update(all_inputs(rubric.functions))
    data.expected["functions"] = rubric.functions
    data.expected["reference_calls"] = reference_calls.load_or_compute(
        rubric, options.limits, options.artifact_cache
    )
    probe_args = {"constants": {"names": list(rubric.contract.constants)}}
    probe_args |= registry.probe_args(rubric.name, meta) | rubric.probe_args()
    return GradingPlan(
        plan_key(rubric, options), budget, dataset, thresholds, tuple(warnings), data, probe_args
    )


class PlanCache:
    """The last few plans of one process, by key: a batch worker grades every row with one plan."""

    def __init__(self, size: int = 4) -> None:
        self._plans: dict[tuple[Any, ...], GradingPlan] = {}
        self._size = size

    def get(self, rubric: Rubric, options: GradeOptions) -> GradingPlan:
        key = plan_key(rubric, options)
        if key not in self._plans:
            if len(self._plans) >= self._size:
                self._plans.pop(next(iter(self._plans)))
            self._plans[key] = prepare(rubric, options)
        return self._plans[key]


class UnknownAssignment(Exception):
    """The rubric could not be inferred from the submission."""


def grade(
    path: str | Path | Submission,
    rubric: str | Path | Rubric | None = None,
    options: GradeOptions | None = None,
    progress: Callable[[str], None] | None = None,
    **overrides: Any,
) -> Report:
    """Grade ``path`` against ``rubric`` (a name, a TOML path, a Rubric, or None to infer it).

    ``path`` may also be a loaded :class:`Submission` (a notebook kernel's history: grader/notebook_check.py).
    """
    if "keep_all_cells" in overrides:  # the old name of all_cells
        overrides["all_cells"] = overrides.pop("keep_all_cells")
    options = replace(options or GradeOptions(), **overrides)
    if options.require_isolation:
        isolation.require(isolation.detect())
    started = time.monotonic()
    if isinstance(path, Submission):
        submission: Submission | None = path
        path, unreadable = path.path, ""
    else:
        path = Path(path)
        try:
            submission = load_submission(path, all_cells=options.all_cells)
            unreadable = ""
        except SubmissionError as exc:
            submission, unreadable = None, str(exc)
    if submission is None and rubric is None:  # nothing to grade against: a report that says why
        return _unreadable_report(path, unreadable, options, started)
    rubric = resolve_rubric(rubric, submission)
    plan = options.plan  # prepared by the caller (a batch worker, the self-check service) when it matches
    if plan is not None and plan.key != plan_key(rubric, options):
        plan = None
    budget = plan.budget if plan else _budget(rubric, options)
    dataset = plan.dataset if plan else load_dataset(options.data)
    items = [item for item in rubric.items if item.visibility == "public" or not options.public_only]
    # Only the selected exercises: their probes alone are fetched, so nothing else is built or trained.
    items = select_exercises(items, options.exercises, rubric.name)
    base = _report_base(rubric, path, submission, budget, dataset, options)
    if submission is None:
        return _finish(
            base, [_unreadable_item(item, unreadable) for item in items], started, load_error=unreadable
        )

    plan = plan or prepare(rubric, options, dataset)
    thresholds, data = plan.thresholds, plan.data
    base.warnings.extend(plan.warnings)
    base.integrity = [flag.as_dict() for flag in integrity.scan(submission)]
    base.wrong_assignment = wrong_assignment_message(submission, rubric)
    base.debug["dropped"] = [
        {"where": d.where, "code": d.code, "reason": d.reason} for d in submission.dropped
    ]

    keras, why = _choose_keras(options.keras, submission, rubric)
    probe_args = plan.probe_args
    sandbox = None
    try:
        sandbox, load, keras, why = _start(submission, data, keras, why, options, rubric, progress)
        base.keras = f"{keras} ({why})"
        base.isolation = sandbox.isolation
        base.worker = sandbox.worker_kind
        base.load_errors = load.get("errors", [])
        if load.get("failure"):
            failure: WorkerFailure = load["failure"]
            base.status = "timeout" if failure.reason == "timeout" else "error"
            results = [_load_failed_item(item, failure, rubric.load_timeout_s) for item in items]
            return _finish(base, results, started, load_error=failure.message)
        # While calibrating there are no thresholds yet: the retry rule uses only its structural part.
        retry_thresholds = _thresholds_by_check(rubric, thresholds) if options.calibrated else {}
        session = ProbeSession(
            sandbox,
            budget,
            data.expected,
            retry_thresholds,
            probe_args,
            declared=rubric.stages,
            checks=rubric.checks,
        )
        results = []
        for item in items:
            if progress:
                progress(item.id)
            results.append(
                _grade_item(item, session, submission, thresholds.get(item.id, {}), data.expected, base)
            )
        base.stages = session.stage_summary()
        base.debug["worker_restarts"] = sandbox.restarts
        base.debug["peak_rss_mb"] = round(sandbox.peak_rss_mb, 1)
        _merge_dynamic_answers(results, session)
        # In memory only (not part of the JSON): raw data the report writer draws figures from.
        base.raw = {"probes": session.results, "expected": data.expected, "stages": rubric.stages}
        base.trained_figures = {f.name: stage.name for stage in rubric.stages for f in stage.figures}
    finally:
        if sandbox is not None:
            sandbox.close()
    return _finish(base, results, started)


# -- set-up ---------------------------------------------------------------------


def resolve_rubric(rubric: str | Path | Rubric | None, submission: Submission | None) -> Rubric:
    """The rubric given (a name, a path, a loaded one), else the one the submission's names point to."""
    if isinstance(rubric, Rubric):
        return rubric
    if rubric is not None:
        return load_rubric(rubric)
    if submission is None:
        raise UnknownAssignment(
            "the submission could not be read, so its assignment is unknown: pass --rubric"
        )
    return load_rubric(infer_rubric(submission))


def infer_rubric(submission: Submission) -> str:
    """The rubric whose contract functions the submission defines most of."""
    defined = defined_functions(cell.source for cell in submission.cells)
    coverages = [coverage(defined, name, functions) for name, functions in shipped_contracts().items()]
    match = best_match(coverages)
    if match is None:
        raise UnknownAssignment(
            f"cannot tell which assignment {submission.path.name} is for; pass --rubric "
            f"({', '.join(list_rubrics())})"
        )
    return match.rubric


def wrong_assignment_message(submission: Submission, rubric: Rubric) -> str:
    """Why the submission looks like another shipped assignment's ("" when it does not)."""
    defined = defined_functions(cell.source for cell in submission.cells)
    others = [
        coverage(defined, name, functions)
        for name, functions in shipped_contracts().items()
        if name != rubric.name
    ]
    return wrong_assignment(coverage(defined, rubric.name, rubric.contract.functions), others)


def _choose_keras(requested: str, submission: Submission, rubric: Rubric) -> tuple[str, str]:
    if not rubric.tensorflow and requested == "auto":
        return "none", "the assignment needs no TensorFlow"
    if requested in ("2", "3"):
        return requested, f"--keras {requested}"
    reasons = keras2_reasons(submission)
    if reasons:
        return "2", "Keras 2 code: " + "; ".join(reasons[:2])
    return "3", "default"


def _start(
    submission: Submission,
    data: inputs.GradingData,
    keras: str,
    why: str,
    options: GradeOptions,
    rubric: Rubric,
    progress: Callable[[str], None] | None,
) -> tuple[Sandbox, dict[str, Any], str, str]:
    """Start the sandbox and load the submission; under auto, retry Keras 2 on a Keras load error.

    A load that timed out inside a kept derived statement (a hang in C code that its own time limit
    could not end) is loaded again without it, at most MAX_HUNG_STATEMENTS times: a statement that
    cannot run costs its names, never the whole submission (docs/architecture.md, "The loading rule").
    """
    skipped: list[tuple[int, int]] = []
    while True:
        cells = _without(submission.worker_cells(), skipped)
        protected = sandbox_protected(rubric, options)
        waiting = options.standby.take(keras, options.limits, protected) if options.standby else None
        sandbox = waiting or Sandbox(
            cells,
            data.worker,
            keras=keras,
            limits=options.limits,
            protected=protected,
            dropped=submission.dropped_names,
            load_timeout_s=rubric.load_timeout_s,
        )
        if progress:
            progress("load")
        try:
            if waiting is not None:
                dropped = submission.dropped_names
                load = sandbox.load_standby(cells, data.worker, dropped, rubric.load_timeout_s)
            else:
                load = sandbox.start()
        except WorkerFailure as failure:
            hung = sandbox.hung_statement() if failure.reason == "timeout" else None
            if hung is not None and hung not in skipped and len(skipped) < MAX_HUNG_STATEMENTS:
                skipped.append(hung)
                sandbox.close()
                continue
            return sandbox, {"failure": failure, "errors": []}, keras, why
        load["errors"] = [*(_hung_error(cells, s, rubric.load_timeout_s) for s in skipped), *load["errors"]]
        suggestion = load_error_suggests_keras2(load.get("errors", []))
        if options.keras == "auto" and keras == "3" and suggestion:
            sandbox.close()
            keras, why = "2", suggestion
            continue
        return sandbox, load, keras, why


def _without(cells: list[dict[str, Any]], skipped: list[tuple[int, int]]) -> list[dict[str, Any]]:
    """The worker's cells with the statements that hung a load marked to be skipped."""
    for index, line in skipped:
        cells[index] = cells[index] | {"skip": [*cells[index].get("skip", []), line]}
    return cells


def _hung_error(cells: list[dict[str, Any]], statement: tuple[int, int], timeout: float) -> dict[str, Any]:
    index, line = statement
    where = f"{cells[index]['filename']}, line {line}"
    message = (
        f"the statement at {where} was still running when loading timed out after {timeout:g} s (a "
        f"loop inside compiled code, which its own time limit cannot stop), so the grader loaded your "
        f"submission again without it"
    )
    return {"kind": "exception", "name": where, "type": "TimeoutError", "message": message}


def sandbox_protected(rubric: Rubric, options: GradeOptions) -> tuple[str, ...]:
    """Every path a submission graded with ``rubric`` and ``options`` may not open (the data files too)."""
    from grader.data import data_files

    return _protected_paths(rubric) + data_files(options.data) + options.protected


def _protected_paths(rubric: Rubric) -> tuple[str, ...]:
    """What a submission may not open: the grader, the reference, the rubrics, this rubric and its
    calibration (which may live elsewhere), the cache of reference artifacts and data, and the
    assignment packages of ``GRADER_ASSIGNMENTS_PATH`` (read only while the worker imports)."""
    import importlib.util

    import grader
    from grader.assignments import outside_folders
    from grader.data import user_cache_dir
    from grader.rubric import rubrics_dir

    # A student kit ships no reference package (grader/distribution/kit.py).
    spec = importlib.util.find_spec("reference")
    references = (Path(spec.origin).parent,) if spec is not None and spec.origin else ()
    precomputed = (rubric.precomputed,) if rubric.precomputed is not None else ()
    folders = (
        Path(grader.__file__).parent,
        *references,
        *precomputed,
        rubrics_dir(),
        user_cache_dir(),
        *map(Path, outside_folders()),
    )
    files = (rubric.path, rubric.reference, rubric.calibration_path, rubric.calibration_write_path)
    return tuple(str(path) for path in (*folders, *files))


def _thresholds_by_check(
    rubric: Rubric, thresholds: dict[str, dict[str, float]]
) -> dict[str, dict[str, float]]:
    """Threshold values keyed by check name (the retry rule looks them up by check)."""
    by_check: dict[str, dict[str, float]] = {}
    for item in rubric.items:
        values = {
            k: float(v)
            for k, v in item.params.items()
            if isinstance(v, (int, float)) and not isinstance(v, bool)
        }
        by_check.setdefault(item.check, {}).update(values | thresholds.get(item.id, {}))
    return by_check


def _report_base(
    rubric: Rubric,
    path: Path,
    submission: Submission | None,
    budget: Any,
    dataset: Dataset,
    options: GradeOptions,
) -> Report:
    report = Report(
        assignment=rubric.name,
        submission=str(path),
        submission_sha256=submission.sha256 if submission else "",
        score=0.0,
        max_score=0.0,
        auto_score=0.0,
        auto_max=0.0,
        manual_pending=0.0,
        grader_version=__version__,
        rubric_sha256=rubric.sha256,
        budget=budget.as_dict(),
        data={"name": dataset.name, "fingerprint": dataset.fingerprint},
        seed=budget.seed,
        seconds=0.0,
        items=[],
        student=options.student or path.stem,
    )
    report.debug["all_cells"] = options.all_cells  # batch --resume regrades when this changes
    return report


# -- items ------------------------------------------------------------------------


def _grade_item(
    item: Item,
    session: ProbeSession,
    submission: Submission,
    thresholds: dict[str, float],
    expected: dict[str, Any],
    report: Report,
) -> ItemResult:
    started = time.monotonic()
    if item.is_manual:
        return _manual_item(item, submission)
    spec = session.checks[item.check]
    deadline = started + item.timeout_s
    fetched: dict[str, ProbeResult] = {}
    outputs = []
    verdict: Verdict | None = None
    for probe in spec.probes_for(item.params):
        result = session.fetch(probe, item.id, deadline)
        if result.output and result.origin == item.id:  # shown once, with the item that ran it
            outputs.append(result.output)
        if result.failure is not None:
            verdict = _failure_verdict(item, _running(probe, session.declared), result)
            break
        if result.error is not None:
            verdict = _student_error_verdict(StudentError.from_dict(result.error), report)
            break
        fetched[probe] = result
    if verdict is None:
        check_inputs = CheckInputs(
            params=item.params,
            probes={name: result.data for name, result in fetched.items()},
            arrays={name: result.arrays for name, result in fetched.items()},
            thresholds=thresholds,
            expected=expected,
        )
        try:
            verdict = spec.function(check_inputs)
        except StudentCallFailed as exc:
            verdict = _student_error_verdict(exc.error, report)
        except Exception:  # a grader bug: never hidden, never blamed on the student
            report.warnings.append(
                f"internal error in check {item.check} for item {item.id}:\n{format_exception()}"
            )
            verdict = Verdict(
                0.0,
                "the grader failed on this item (internal error); your instructor has been told.",
                status="error",
            )
    result = _result(item, verdict, time.monotonic() - started, "\n".join(outputs))
    result.probes = list(spec.probes_for(item.params))
    return result


def _result(item: Item, verdict: Verdict, seconds: float, output: str) -> ItemResult:
    fraction = min(1.0, max(0.0, verdict.fraction))
    status = verdict.status or ("passed" if fraction == 1.0 else "partial" if fraction > 0 else "failed")
    return ItemResult(
        id=item.id,
        exercise=item.exercise,
        title=item.title,
        score=round(fraction * item.points, 4),
        max_score=item.points,
        status=status,
        feedback=verdict.feedback,
        visibility=item.visibility,
        seconds=round(seconds, 2),
        output=output,
        kind=item.kind,
        check=item.check,
        metrics={
            k: (v if isinstance(v, (int, float)) and math.isfinite(v) else None)
            for k, v in verdict.metrics.items()
        },
    )


def _student_error_verdict(error: StudentError, report: Report) -> Verdict:
    feedback = error.feedback()
    if error.traceback:
        feedback += "\nYour code:\n  " + "\n  ".join(error.traceback)
    if error.kind == "missing" and report.load_errors:
        # The load failure comes first: it is usually why the name is missing.
        first = StudentError.from_dict(report.load_errors[0])
        verb = "called" if first.kind == "exit" else f"raised {first.exc_type}:"
        feedback = (
            f"loading your submission failed ({first.name} {verb} {first.message[:200]}), so " + feedback
        )
    return Verdict(0.0, feedback, status=error.status)


def _running(probe: str, stages: Stages) -> str:
    """What of the student's code ``probe`` runs, in words."""
    stage = stages.trained_by(probe)
    if stage is not None:
        return stage.runs
    family, _, function = probe.partition(":")
    if family in ("calls", "model", "plot") and function:  # a probe family runs the function it names
        return function
    runs = ENGINE_PROBE_FUNCTIONS | registry.probe_functions()
    return runs.get(probe, probe.replace("_", " "))


def _failure_verdict(item: Item, doing: str, result: ProbeResult) -> Verdict:
    failure = result.failure
    assert failure is not None
    if failure.reason == "dependency":
        return Verdict.skipped(f"skipped: {failure.message}.")
    if result.origin != item.id:
        return Verdict.skipped(
            f"skipped: it needs {doing}, which already failed in item {result.origin} ({failure.message})."
        )
    messages = {
        "timeout": f"item timed out after {item.timeout_s:g} s while running {doing} (an endless loop, or "
        f"far more "
        "training than needed?)",
        "memory": f"{failure.message} while running {doing}",
        "processes": f"your code {failure.message} while running {doing}",
        "disk": f"your code {failure.message} while running {doing}",
        "crash": f"{failure.message} while running {doing}",
        "exit": f"{failure.message} while running {doing}; the grader cannot give points for it",
        "output": f"your code printed too much output while running {doing}: the worker was "
        f"{failure.message}",
    }
    text = messages.get(failure.reason, f"{failure.message} while running {doing}")
    return Verdict(0.0, text + ".", status="timeout" if failure.reason == "timeout" else "error")


def _manual_item(item: Item, submission: Submission) -> ItemResult:
    answer = submission.answers.get(item.exercise, "")
    feedback = (
        "graded by your instructor."
        if answer
        else (
            f"no answer found for {item.exercise}: write it in ANSWERS['{item.exercise}'] (.py) or under a "
            f"'### Answer {item.exercise}' heading (notebook)."
        )
    )
    return ItemResult(
        id=item.id,
        exercise=item.exercise,
        title=item.title,
        score=0.0,
        max_score=item.points,
        status="manual",
        feedback=feedback,
        visibility=item.visibility,
        kind="manual",
        answer=answer,
    )


def _merge_dynamic_answers(results: list[ItemResult], session: ProbeSession) -> None:
    """Answers from an ANSWERS dict built at run time (not a literal the AST could read)."""
    constants = session.results.get("constants")
    answers = (constants.data.get("ANSWERS") or {}) if constants and constants.ok else {}
    if answers.get("kind") != "dict":
        return
    for result in results:
        if result.kind == "manual" and not result.answer and answers["value"].get(result.exercise):
            result.answer = answers["value"][result.exercise]
            result.feedback = "graded by your instructor."


def _unreadable_report(path: Path, message: str, options: GradeOptions, started: float) -> Report:
    report = Report(
        assignment="unknown",
        submission=str(path),
        submission_sha256="",
        score=0.0,
        max_score=0.0,
        auto_score=0.0,
        auto_max=0.0,
        manual_pending=0.0,
        grader_version=__version__,
        rubric_sha256="",
        budget={},
        data={},
        seed=0,
        seconds=0.0,
        items=[],
        student=options.student or path.stem,
    )
    return _finish(report, [], started, load_error=message)


def ungraded_item(
    item: Item, status: str, feedback: str, manual_feedback: str = "graded by your instructor."
) -> ItemResult:
    """Zero points for an item the grader could not grade (``status``, ``feedback``); a manual
    item stays manual, with ``manual_feedback`` and no answer."""
    if item.is_manual:
        return ItemResult(
            item.id,
            item.exercise,
            item.title,
            0.0,
            item.points,
            "manual",
            manual_feedback,
            item.visibility,
            kind="manual",
            answer="",
        )
    return ItemResult(item.id, item.exercise, item.title, 0.0, item.points, status, feedback, item.visibility)


def _unreadable_item(item: Item, message: str) -> ItemResult:
    return ungraded_item(
        item, "error", f"your submission could not be read: {message}.", "your submission could not be read."
    )


def _load_failed_item(item: Item, failure: WorkerFailure, timeout: float) -> ItemResult:
    if failure.reason == "timeout":
        text = (
            f"loading your submission timed out after {timeout:g} s: "
            "code at module level runs too long (an endless loop?)."
        )
        return ungraded_item(item, "timeout", text)
    return ungraded_item(item, "error", f"loading your submission failed: {failure.message}.")


def _finish(report: Report, results: list[ItemResult], started: float, load_error: str = "") -> Report:
    if report.integrity:
        results.append(
            ItemResult(
                id="integrity",
                exercise="-",
                title="Integrity scan (for the instructor)",
                score=0.0,
                max_score=0.0,
                status="manual",
                feedback="; ".join(f"{f['where']}: {f['message']}" for f in report.integrity),
                visibility="hidden",
                kind="manual",
            )
        )
    report.items = results
    report.load_error = load_error
    if load_error and report.status == "graded":
        report.status = "error"
    elif report.wrong_assignment and report.status == "graded":
        report.status = "wrong-assignment"
    report.recompute_totals()
    report.seconds = round(time.monotonic() - started, 2)
    return report
