"""The command line: a thin layer over plain functions (``grader.grading.grade`` and friends).

Exit codes: 0 graded (whatever the score); 2 a usage error or an unreadable submission
(a report is still written); 1 an internal error of the grader.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from grader import __version__
from grader.data import DataError
from grader.report.model import ItemResult, Report
from grader.sandbox.isolation import IsolationUnavailable
from grader.text_safety import escape_controls, one_line
from grader.threadsafe import format_exception

if TYPE_CHECKING:
    from grader.report.writer import Layout

EXIT_OK, EXIT_INTERNAL, EXIT_USAGE = 0, 1, 2


ALL_CELLS_HELP = (
    "run every statement of the file, not only its imports, functions, classes and constants "
    "(by default the student's own data loading and training are not re-run)"
)


class UsageError(Exception):
    """A problem with the command line or its inputs, told in one line."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return args.run(args)
    except (UsageError, DataError, IsolationUnavailable) as exc:
        print(f"grader: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("grader: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        from grader.artifacts import ArtifactError
        from grader.distribution.wheel import DistributionError
        from grader.grading import UnknownAssignment
        from grader.rubric import RubricError

        if isinstance(exc, (UnknownAssignment, RubricError, ArtifactError, DistributionError)):
            print(f"grader: error: {exc}", file=sys.stderr)
            return EXIT_USAGE
        sys.stderr.write(format_exception())
        print(
            f"grader: internal error ({type(exc).__name__}); please report it with the traceback above.",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="grader",
        description="Autograder for TensorFlow/Keras exercises: sandboxed, budgeted, calibrated.",
    )
    parser.add_argument("--version", action="version", version=f"grader {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    grade = commands.add_parser("grade", help="grade one submission and print its score table")
    grade.add_argument("path", type=Path, help="the submission: a .py module or an .ipynb notebook")
    _grading_options(grade)
    grade.add_argument(
        "--out", type=Path, default=Path("grader-out"), help="folder for the reports (default: grader-out)"
    )
    grade.add_argument(
        "--format", default="json,md", help="comma-separated: json, md, html, gradescope (default: json,md)"
    )
    grade.set_defaults(run=run_grade)

    check = commands.add_parser("check", help="student self-check: public items only, what to fix first")
    check.add_argument("path", type=Path, help="your .py or .ipynb file")
    check.add_argument("--rubric", help="assignment name (inferred from your file when obvious)")
    check.add_argument(
        "--quick", action="store_true", help="train on the tiny 'smoke' budget (faster, rougher)"
    )
    check.add_argument(
        "-e",
        "--exercise",
        action="append",
        default=[],
        metavar="LABEL",
        help="check only this exercise (e.g. 1, 3a, or 2 for 2a-2c); repeatable. Nothing else is built "
        "or trained",
    )
    check.add_argument("--all-cells", action="store_true", help=ALL_CELLS_HELP)
    check.set_defaults(run=run_check)

    render = commands.add_parser(
        "render",
        help="render a JSON report again (Markdown, HTML) without grading",
        description="Write REPORT's other formats beside it (same name), from the JSON alone: the figures "
        "already drawn are linked, nothing is graded again.",
    )
    render.add_argument("report", type=Path, metavar="REPORT_JSON", help="a report written by grade or batch")
    render.add_argument("--format", default="html,md", help="comma-separated: md, html (default: html,md)")
    render.set_defaults(run=run_render)

    listing = commands.add_parser("list-rubrics", help="list the shipped rubrics")
    listing.set_defaults(run=run_list)

    calibrate = commands.add_parser(
        "calibrate", help="train the reference over several seeds and write thresholds"
    )
    calibrate.add_argument("--rubric", required=True, help="rubric name or TOML path")
    calibrate.add_argument(
        "--seeds", type=int, default=10, help="grading seeds to train the reference with (default 10)"
    )
    calibrate.add_argument("--budget", default="default", help="budget name in the rubric (default: default)")
    calibrate.add_argument("--data", default="default", help="default | mnist | FILE.npz")
    calibrate.set_defaults(run=run_calibrate)
    _batch_commands(commands)
    return parser


def _batch_commands(commands: argparse._SubParsersAction) -> None:
    batch = commands.add_parser(
        "batch",
        help="grade a class: every submission in a folder, in parallel, resumable",
        description="Grade every .py/.ipynb in DIR (or the one in each student's sub-folder) into OUT: "
        "reports/, gradescope/, gradebook.csv, summary.md, summary.png. "
        "A student id is the file or folder name; LMS downloads (Moodle folders, Canvas file names, "
        "or a .zip of either) give the participant or user id instead.",
        conflict_handler="resolve",  # --rubric below replaces the optional one of _grading_options
    )
    batch.add_argument(
        "directory",
        type=Path,
        metavar="DIR",
        help="the submissions: files, a folder each, an LMS download, or a .zip of these",
    )
    batch.add_argument("--out", type=Path, required=True, help="output folder")
    batch.add_argument(
        "--workers",
        type=int,
        default=1,
        help="submissions graded at once (default 1); each gets cores/N TensorFlow threads",
    )
    batch.add_argument(
        "--resume",
        action="store_true",
        help="keep the reports in OUT of unchanged submissions (same rubric and grader); grade the rest",
    )
    batch.add_argument(
        "--executor",
        choices=("local", "dask"),
        default="local",
        help="local processes (default) or a Dask distributed cluster",
    )
    batch.add_argument("--scheduler", default="", help="Dask scheduler address, e.g. tcp://10.0.0.5:8786")
    _grading_options(batch)
    batch.add_argument("--rubric", required=True, help="rubric name or TOML file (one assignment per batch)")
    batch.set_defaults(run=run_batch)

    merge = commands.add_parser(
        "merge-manual",
        help="merge instructor scores for manual items into a batch's reports and gradebook",
        description="CSV columns: student,item,points,comment (see OUT/manual_scores_template.csv). "
        "Every row is checked first: one bad row and nothing is merged.",
    )
    merge.add_argument("out", type=Path, metavar="OUT", help="the output folder of grader batch")
    merge.add_argument("scores", type=Path, metavar="SCORES_CSV", help="the instructor's scores (CSV)")
    merge.set_defaults(run=run_merge_manual)

    review = commands.add_parser(
        "review",
        help="a web app to grade a batch's written answers by question (needs the review extra)",
        description="Serve OUT's written answers in the browser: by question, each student's answer "
        "with their figures, rubric criteria, answer groups and overrides. Every action is saved in "
        "OUT/review.sqlite at once; the reports, Gradescope files and gradebook.csv follow.",
    )
    review.add_argument("out", type=Path, metavar="OUT", help="the output folder of grader batch")
    review.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    review.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    review.add_argument("--no-browser", action="store_true", help="only print the URL, do not open a browser")
    review.add_argument("--rubric", default=None, help="rubric name or TOML file (default: the reports' own)")
    review.set_defaults(run=run_review)

    export = commands.add_parser(
        "export",
        help="fill the LMS's grade upload files (Moodle worksheet, Canvas gradebook) from a batch",
        description="Fill the files downloaded from the LMS with the batch's grades (scaled to the LMS's "
        "maximum) into OUT/exports/, keeping their columns, order and encoding. Students found on one "
        "side only are listed, never dropped silently.",
    )
    export.add_argument("out", type=Path, metavar="OUT", help="the output folder of grader batch")
    export.add_argument(
        "--moodle",
        type=Path,
        metavar="WORKSHEET_CSV",
        help="Moodle's offline grading worksheet (by participant)",
    )
    export.add_argument(
        "--canvas", type=Path, metavar="GRADEBOOK_CSV", help="a Canvas gradebook export (by user id)"
    )
    export.add_argument(
        "--canvas-column",
        default="",
        metavar="NAME",
        help="the Canvas assignment column, e.g. 'Autoencoders (12345)' (default: named like the rubric)",
    )
    export.set_defaults(run=run_export)

    kit = commands.add_parser(
        "student-kit",
        help="write what students get: the hand-out and a self-check without the reference or hidden items",
    )
    kit.add_argument("--rubric", required=True, help="rubric name or TOML file")
    kit.add_argument("-o", "--out", type=Path, required=True, metavar="DIR", help="a new folder for the kit")
    kit.add_argument(
        "--budget",
        nargs="+",
        default=None,
        metavar="NAME",
        help="budgets the kit can check with (default: default smoke); the reference is trained for each",
    )
    kit.set_defaults(run=run_student_kit)

    assign = commands.add_parser(
        "assign",
        help="a master notebook with solution markers -> reference, hand-out, template and rubric",
        description="Write reference.py, template.py, handout.ipynb and rubric.toml into a new folder "
        "from a master notebook (code between '# BEGIN SOLUTION' and '# END SOLUTION', answers between "
        "'<!-- BEGIN ANSWER -->' and '<!-- END ANSWER -->'; its rubric in the notebook's metadata "
        "grader.rubric or in MASTER.toml / rubric.toml beside it). The reference is graded first: "
        "nothing is written unless it earns every automatic point.",
    )
    assign.add_argument("master", type=Path, help="the master notebook (.ipynb)")
    assign.add_argument("out", type=Path, help="a new (or empty) folder for the assignment")
    assign.add_argument("--budget", default="default", help="the budget the reference is graded at")
    assign.set_defaults(run=run_assign)

    gradescope = commands.add_parser(
        "gradescope", help="build a Gradescope autograder zip (instructors only)"
    )
    gradescope.add_argument("--rubric", required=True, help="rubric name or TOML file")
    gradescope.add_argument("--budget", default="default", help="the budget it grades at (default: default)")
    gradescope.add_argument(
        "--timeout-min", type=float, default=40.0, help="the autograder's timeout on Gradescope (default 40)"
    )
    gradescope.add_argument("-o", "--out", type=Path, required=True, metavar="ZIP", help="the zip to write")
    gradescope.set_defaults(run=run_gradescope)


def _grading_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--rubric", help="rubric name or TOML file (inferred from the submission when obvious)"
    )
    parser.add_argument(
        "--data", default="default", help="default (embedded MNIST 5k) | mnist (Keras cache) | FILE.npz"
    )
    parser.add_argument("--seed", type=int, help="grading seed (default: the rubric's)")
    parser.add_argument("--budget", default="default", help="budget name in the rubric (default: default)")
    parser.add_argument(
        "--keras", choices=("auto", "2", "3"), default="auto", help="Keras to grade under (default: auto)"
    )
    parser.add_argument(
        "--memory-mb", type=int, default=3072, help="memory limit of the sandbox (default 3072)"
    )
    parser.add_argument("--all-cells", action="store_true", help=ALL_CELLS_HELP)
    parser.add_argument(
        "--require-isolation",
        action="store_true",
        help="refuse to grade unless the kernel isolates the sandbox (Landlock files and TCP; see README)",
    )


def _options(args: argparse.Namespace, **extra: object):
    from grader.grading import GradeOptions
    from grader.sandbox.supervisor import SandboxLimits

    return GradeOptions(
        budget=args.budget,
        seed=args.seed,
        data=args.data,
        keras=args.keras,
        limits=SandboxLimits(memory_mb=args.memory_mb),
        all_cells=args.all_cells,
        require_isolation=args.require_isolation,
        **extra,
    )


def _progress(total: int, description: str):
    """A progress bar on stderr (only on a terminal); returns (callback, close)."""
    from tqdm import tqdm

    bar = tqdm(total=total, desc=description, unit="item", file=sys.stderr, disable=None, leave=False)

    def step(label: str) -> None:
        if label != "load":
            bar.update(1)
        bar.set_postfix_str(label)

    return step, bar.close


def run_grade(args: argparse.Namespace) -> int:
    from grader.grading import grade
    from grader.report import render
    from grader.report.writer import FORMATS, Layout, write_report
    from grader.rubric import load_rubric

    formats = [fmt.strip() for fmt in args.format.split(",") if fmt.strip()]
    unknown = [fmt for fmt in formats if fmt not in FORMATS]
    if unknown:
        raise UsageError(f"unknown format '{unknown[0]}' (choose from {', '.join(FORMATS)})")
    rubric = load_rubric(args.rubric) if args.rubric else None
    layout = Layout(args.out)
    _refuse_to_overwrite(layout, args.path)
    step, close = _progress(len(rubric.items) if rubric else 0, args.path.name)
    try:
        # The output folder is protected: the submission may not read or write reports there.
        report = grade(args.path, rubric, _options(args), progress=step, protected=(str(args.out.resolve()),))
    finally:
        close()
    written = write_report(report, layout, args.path.stem, formats)
    width = terminal_width()
    print(render.table(report, width=width))
    revisit = render.to_revisit(report)
    if revisit:
        print(revisit)
    for warning in report.warnings:
        print(f"warning: {one_line(warning)}", file=sys.stderr)
    if written:
        print("reports: " + ", ".join(str(path) for path in written.values()))
        if report.figures and any(fmt in written for fmt in ("md", "html")):
            print(f"figures: {layout.figures(args.path.stem)[0]}/")
    if report.load_error and not report.submission_sha256:
        print(f"grader: error: {escape_controls(report.load_error)}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK


def _refuse_to_overwrite(layout: Layout, path: Path) -> None:
    """A report in OUT of another submission with the same name (autoencoders.py, autoencoders.ipynb)
    is not replaced silently: say whose it is and how to keep both."""
    import json

    stem = path.stem
    existing = layout.path(stem, "json")  # the JSON report is the source of truth: it names its submission
    if not existing.is_file():
        return
    try:
        previous = str(json.loads(existing.read_text(encoding="utf-8")).get("submission", ""))
    except (OSError, ValueError, AttributeError):
        return  # not a report we can read: writing over it is what the user asked
    if previous and Path(previous).resolve() != path.resolve():
        other = layout.out.with_name(f"{layout.out.name}-{path.suffix.lstrip('.') or 'other'}")
        raise UsageError(
            f"{existing} is the report of {previous}; grading {path} would overwrite it. "
            f"Grade into another folder (--out {other}) or delete that report first"
        )


def run_render(args: argparse.Namespace) -> int:
    from grader.fileio import write_atomic
    from grader.report import render
    from grader.report.writer import read_report

    renderers = {"md": render.markdown, "html": render.html_page}
    formats = [fmt.strip() for fmt in args.format.split(",") if fmt.strip()]
    unknown = [fmt for fmt in formats if fmt not in renderers]
    if unknown or not formats:
        raise UsageError(f"unknown format '{(unknown or [''])[0]}' (choose from {', '.join(renderers)})")
    try:
        report = read_report(args.report)
    except OSError as exc:
        raise UsageError(f"cannot read {args.report}: {exc.strerror}") from None
    except (ValueError, TypeError, KeyError) as exc:
        raise UsageError(f"{args.report} is not a grader report ({type(exc).__name__}: {exc})") from None
    written = []
    for fmt in formats:
        path = args.report.with_suffix(f".{fmt}")
        write_atomic(path, renderers[fmt](report))
        written.append(path)
    print("wrote: " + ", ".join(str(path) for path in written))
    return EXIT_OK


def run_check(args: argparse.Namespace) -> int:
    from grader.exercises import UnknownExercise
    from grader.grading import GradeOptions, grade

    options = GradeOptions(
        public_only=True,
        budget="smoke" if args.quick else "default",
        all_cells=args.all_cells,
        exercises=tuple(args.exercise),
    )
    try:
        report = grade(args.path, args.rubric, options)
    except UnknownExercise as exc:
        raise UsageError(str(exc)) from None
    print(escape_controls(check_summary(report)))  # a student's exception text must not drive the terminal
    if report.load_error and not report.submission_sha256:
        return EXIT_USAGE
    return EXIT_OK


def check_summary(report: Report) -> str:
    """Friendly self-check output: what to fix first, then the public items.

    Exercises still at the template's stubs are listed once as "not started", not as fixes."""
    from grader.exercises import not_started

    auto = [i for i in report.items if i.kind == "auto"]
    idle = set(not_started(auto)) if not report.load_error else set()
    to_fix = [i for i in auto if i.status != "passed" and i.exercise not in idle]
    lines = [f"Self-check of {Path(report.submission).name} ({report.assignment}, public items only)", ""]
    if report.load_error:
        lines += [f"Your file could not be graded: {report.load_error}", ""]
    if report.wrong_assignment:
        lines += [f"Wrong assignment? {report.wrong_assignment}", ""]
    started = [i for i in auto if i.exercise not in idle]
    if idle:
        labels = dict.fromkeys(i.exercise for i in auto if i.exercise in idle)
        lines += [f"Not started yet: {', '.join(labels)}", ""]
    if report.load_error and not to_fix:
        lines.append("Fix the error above, save, and run the check again.")
    elif not to_fix and not started:
        lines.append("Nothing to check yet: start with the first exercise.")
    elif not to_fix:
        which = "public automatic items you have started" if idle else "public automatic items"
        lines.append(f"All {len(started)} {which} pass. Well done!")
    else:
        lines.append("Fix these first:")
        for number, item in enumerate(causes_first(to_fix)[:3], start=1):
            lines += [f"  {number}. {item.id} ({item.title}): {item.feedback.splitlines()[0]}"]
        lines.append("")
        lines.append(f"{len(started) - len(to_fix)} of {len(started)} public automatic items pass.")
    if started:
        lines += ["", "All public items:"]
    room = max(40, terminal_width() - 40)
    for item in started:
        mark = {"passed": "ok  ", "partial": "part", "skipped": "skip"}.get(item.status, "FIX ")
        first = item.feedback.splitlines()[0] if item.feedback else ""
        lines.append(f"  [{mark}] {item.id:<24} {item.score:g}/{item.max_score:g}  {_cut(first, room)}")
    pending = [i for i in report.items if i.kind == "manual" and i.id != "integrity"]
    empty = [i.exercise for i in pending if not i.answer]
    if empty:
        lines += ["", f"Written answers still empty: {', '.join(empty)}"]
    lines += ["", "Hidden items and your written answers are graded when you hand in."]
    return "\n".join(lines)


def causes_first(items: list[ItemResult]) -> list[ItemResult]:
    """The items to fix in the order their causes come: the rubric's order (each exercise's shape and
    structure before its training, earlier exercises first), an item that waited on another one's
    failure ("not tried: ...", "skipped: ...") after the rest."""
    waited = [i for i in items if i.status == "skipped" or "not tried: " in i.feedback]
    return [i for i in items if i not in waited] + waited


def terminal_width() -> int:
    """The terminal's width ($COLUMNS first), 100 when it cannot be told (a pipe)."""
    import shutil

    return shutil.get_terminal_size((100, 24)).columns


def _cut(text: str, room: int) -> str:
    return text if len(text) <= room else text[: room - 3] + "..."


def run_list(args: argparse.Namespace) -> int:
    from grader.rubric import list_rubrics, load_rubric

    for name in list_rubrics():
        rubric = load_rubric(name)
        auto = sum(i.points for i in rubric.items if not i.is_manual)
        print(f"{name:<18} {rubric.max_score:>5g} points ({auto:g} automatic)  {rubric.title}")
    return EXIT_OK


def run_calibrate(args: argparse.Namespace) -> int:
    from grader import calibration
    from grader.artifacts import reference_path
    from grader.data import load_dataset
    from grader.grading import GradeOptions, grade
    from grader.rubric import load_rubric

    if args.seeds < 1:
        raise UsageError("--seeds must be at least 1")
    rubric = load_rubric(args.rubric)
    budget = rubric.budget_named(args.budget)
    dataset = load_dataset(args.data)
    reference = reference_path(rubric)

    def grade_reference(seeded_budget):
        options = GradeOptions(budget=args.budget, seed=seeded_budget.seed, data=args.data, calibrated=False)
        return grade(reference, rubric, options)

    def progress(done: int, total: int) -> None:
        print(f"  reference graded with seed {budget.seed + done - 1} ({done}/{total})", file=sys.stderr)

    entry = calibration.calibrate(rubric, budget, dataset, args.seeds, grade_reference, progress)
    print(f"{rubric.name}, budget '{budget.name}', {args.seeds} seeds -> {rubric.calibration_write_path}")
    for item_id, record in entry["items"].items():
        for metric, stats in record["reference"].items():
            thresholds = ", ".join(f"{k} = {v:.4g}" for k, v in record["thresholds"].items())
            print(
                f"  {item_id:<14} {metric:<10} min {stats['min']:.4g}  median {stats['median']:.4g}  "
                f"max {stats['max']:.4g}  -> {thresholds} ({stats['rule']})"
            )
    for stage, summary in entry["retries"].items():
        print(
            f"  {stage:<14} degenerate first attempts: {summary['first_attempt_degenerate']} of "
            f"{summary['runs']} "
            f"({100 * summary['rate']:.0f}%)"
        )
    return EXIT_OK


def run_batch(args: argparse.Namespace) -> int:
    from grader.batch.errors import BatchError
    from grader.batch.gradebook import GradebookError
    from grader.batch.runner import BatchConfig, run_batch

    config = BatchConfig(
        directory=args.directory,
        rubric=args.rubric,
        out=args.out,
        options=_options(args),
        workers=args.workers,
        resume=args.resume,
        executor=args.executor,
        scheduler=args.scheduler,
    )
    try:
        result = run_batch(config, echo=lambda line: print(line, flush=True))
    except (BatchError, GradebookError) as exc:
        raise UsageError(str(exc)) from None
    rate = f" ({result.per_hour:.0f} submissions per hour)" if result.graded else ""
    print(
        f"graded {result.graded} ({result.errors} error, {result.timeouts} timeout), "
        f"skipped {result.skipped} (already graded) in {result.seconds:.1f} s{rate}"
    )
    print("outputs: " + ", ".join(str(path) for path in result.files.values()))
    if result.flagged:
        print(
            f"integrity: {result.flagged} of {result.total} submissions flagged "
            f"(the integrity column of gradebook.csv; summary.md lists them)"
        )
    else:
        print(f"integrity: none of the {result.total} submissions flagged")
    return EXIT_OK


def run_merge_manual(args: argparse.Namespace) -> int:
    from grader.batch.errors import BatchError
    from grader.batch.gradebook import GradebookError
    from grader.batch.manual import MergeError, merge_manual

    try:
        result = merge_manual(args.out, args.scores)
    except (MergeError, BatchError, GradebookError) as exc:
        raise UsageError(str(exc)) from None
    pending = f"; {result.left_empty} row(s) without points left pending" if result.left_empty else ""
    print(f"merged {result.merged} score(s) for {result.students} student(s){pending}")
    print("outputs: " + ", ".join(str(path) for path in result.files.values()))
    return EXIT_OK


def run_review(args: argparse.Namespace) -> int:
    try:
        from grader.review.server import ReviewError, serve
    except ImportError as exc:
        raise UsageError(
            f"grader review needs the review extra ({exc.name} is missing): "
            'pip install "dl-autograder[review]"'
        ) from None
    try:
        serve(args.out, args.host, args.port, not args.no_browser, args.rubric)
    except ReviewError as exc:
        raise UsageError(str(exc)) from None
    return EXIT_OK


def run_export(args: argparse.Namespace) -> int:
    from grader.batch.errors import BatchError
    from grader.batch.gradebook import GradebookError
    from grader.batch.lms_export import ExportError, export_grades

    try:
        exports = export_grades(args.out, args.moodle, args.canvas, args.canvas_column)
    except (ExportError, BatchError, GradebookError) as exc:
        raise UsageError(str(exc)) from None
    for export in exports:
        print(f"wrote {export.path}: {export.filled} student(s) filled")
        for note in export.notes:
            print(f"  {note}")
        if export.not_in_lms:
            print(f"  graded but not in the LMS file (left out): {', '.join(export.not_in_lms)}")
        if export.no_report:
            print(f"  in the LMS file but not graded (row kept as it was): {', '.join(export.no_report)}")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())


def run_student_kit(args: argparse.Namespace) -> int:
    from grader.distribution.kit import build_kit

    kit = build_kit(args.rubric, args.out, args.budget)
    print(f"{kit.folder}: {kit.wheel.name}, student_template/, README.md")
    print(f"  {len(kit.items)} public items, budgets {', '.join(kit.budgets)}; no reference, no hidden item")
    return EXIT_OK


def run_assign(args: argparse.Namespace) -> int:
    from grader.assign import AssignError, assign

    try:
        assigned = assign(args.master, args.out, args.budget)
    except AssignError as exc:
        print(f"error: {one_line(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    print(f"{assigned.folder}: {', '.join(assigned.files)}")
    print(f"  the reference earns {assigned.score:g} / {assigned.max_score:g} automatic points")
    return EXIT_OK


def run_gradescope(args: argparse.Namespace) -> int:
    from grader.distribution.gradescope import build_autograder

    autograder = build_autograder(args.rubric, args.out, args.budget, args.timeout_min)
    print(f"{autograder.zip}: {autograder.size_bytes / 1e6:.1f} MB, budget '{autograder.budget}'")
    print("  upload it as the assignment's autograder on Gradescope (it holds the hidden items)")
    return EXIT_OK
