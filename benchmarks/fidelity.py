"""Verdict fidelity: grade the corpus of tests/submissions/ and compare with the expected verdicts.

Each entry is a complete submission (a correct variant of the reference, or a mutant
with one realistic mistake) and an ``expected.toml`` that says which automatic items
it must lose, with key phrases their feedback must contain. This script grades every
entry at the REAL budget (tests/test_fidelity.py does the same at the smoke budget)
and prints the mismatches, the variants at full marks, the mutants caught exactly,
the false fails and the false passes.

It also grades the style corpus (tests/styles/generate.py): every reference rewritten in
the styles students write, each in four formats (.py, notebook, jupytext percent,
nbconvert script), all expected at full marks. Their rows are named
``style:<variant>:<format>``; tests/test_styles.py grades their .py forms at the smoke budget.

    python benchmarks/fidelity.py [--workers 2] [--budget default] [--only NAME ...]
                                  [--corpus all|submissions|styles] [--formats py ...]

Exit code 1 when any entry does not get its expected verdicts.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import traceback
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "submissions"
KINDS = ("variant", "mutant")
STATUSES = ("passed", "partial", "failed", "error", "timeout", "skipped")
# Items whose verdict depends on training quality: at an uncalibrated budget the reference
# itself may miss them, so they are judged against the reference's own result (the baseline).
TRAINING_CHECKS = frozenset({"ae_training", "classifier_accuracy", "vae_training", "dense_training"})


class CorpusError(Exception):
    """A corpus entry is malformed; the message names the folder and the field."""


@dataclass(frozen=True)
class Entry:
    name: str
    path: Path  # the submission file
    rubric: str
    kind: str  # "variant" | "mutant"
    description: str
    default: str
    items: dict[str, str]
    feedback: dict[str, list[str]]
    keras: str | None = None
    # [budgets.<name>] in expected.toml: statuses that differ at that budget (with a reason)
    budgets: dict[str, dict[str, str]] = field(default_factory=dict)
    budget_reasons: dict[str, str] = field(default_factory=dict)
    report_status: str | None = None  # optional: the report's own status (e.g. "wrong-assignment")
    # optional: phrases the loader's list of dropped statements must contain (where and why)
    dropped: list[str] = field(default_factory=list)

    def expected_status(self, item_id: str, budget: str | None = None) -> str:
        overrides = self.budgets.get(budget or "", {})
        return overrides.get(item_id, self.items.get(item_id, self.default))


@dataclass(frozen=True)
class Mismatch:
    item: str
    what: str  # "status" | "feedback" | "keras" | "missing item" | "score" | "crash"
    expected: str
    actual: str

    @property
    def false_fail(self) -> bool:
        return self.what == "status" and self.expected == "passed"

    @property
    def false_pass(self) -> bool:
        return self.what == "status" and self.actual == "passed"

    def __str__(self) -> str:
        return f"{self.item}: {self.what} expected {self.expected!r}, got {self.actual!r}"


@dataclass
class Outcome:
    entry: Entry
    mismatches: list[Mismatch] = field(default_factory=list)
    unjudged: list[str] = field(default_factory=list)  # training items the baseline itself missed
    seconds: float = 0.0
    auto_score: float = 0.0
    auto_max: float = 0.0
    keras: str = ""

    @property
    def ok(self) -> bool:
        return not self.mismatches


def load_entry(folder: Path) -> Entry:
    files = [p for p in folder.iterdir() if p.name in ("submission.py", "submission.ipynb")]
    if len(files) != 1:
        raise CorpusError(f"{folder.name}: expected one submission.py or .ipynb, found {len(files)}")
    try:
        raw = tomllib.loads((folder / "expected.toml").read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CorpusError(f"{folder.name}/expected.toml: {exc}") from None
    for key in ("rubric", "kind", "description"):
        if not isinstance(raw.get(key), str) or not raw[key]:
            raise CorpusError(f"{folder.name}/expected.toml: '{key}' is required (a non-empty string)")
    if raw["kind"] not in KINDS:
        raise CorpusError(f"{folder.name}/expected.toml: kind must be one of {KINDS}, not {raw['kind']!r}")
    items = {str(k): str(v) for k, v in raw.get("items", {}).items()}
    default = str(raw.get("default", "passed"))
    for item, status in items.items() | {("default", default)}:
        if status not in STATUSES:
            raise CorpusError(f"{folder.name}/expected.toml: {item} = {status!r} is not one of {STATUSES}")
    if raw["kind"] == "variant" and (items or default != "passed"):
        raise CorpusError(f"{folder.name}/expected.toml: a variant passes every item; it cannot list [items]")
    if raw["kind"] == "mutant" and not items:
        raise CorpusError(f"{folder.name}/expected.toml: a mutant must list the items it loses in [items]")
    feedback = {str(k): [str(p) for p in v] for k, v in raw.get("feedback", {}).items()}
    keras = raw.get("keras")
    report_status = raw.get("report_status")
    if report_status is not None and not isinstance(report_status, str):
        raise CorpusError(f"{folder.name}/expected.toml: 'report_status' must be a string")
    budgets, reasons = {}, {}
    for budget, table in raw.get("budgets", {}).items():
        reasons[budget] = str(table.get("reason", ""))
        if not reasons[budget]:
            raise CorpusError(f"{folder.name}/expected.toml: [budgets.{budget}] needs a reason")
        budgets[budget] = {str(k): str(v) for k, v in table.items() if k != "reason"}
        for item, status in budgets[budget].items():
            if status not in STATUSES:
                raise CorpusError(f"{folder.name}/expected.toml: budgets.{budget}.{item}: bad {status!r}")
    return Entry(
        folder.name,
        files[0],
        raw["rubric"],
        raw["kind"],
        raw["description"],
        default,
        items,
        feedback,
        str(keras) if keras is not None else None,
        budgets,
        reasons,
        report_status,
        [str(phrase) for phrase in raw.get("dropped", [])],
    )


def discover(corpus: Path = CORPUS, only: list[str] | None = None) -> list[Entry]:
    folders = sorted(p for p in corpus.iterdir() if p.is_dir() and (p / "expected.toml").exists())
    entries = [load_entry(folder) for folder in folders]
    if only:
        unknown = set(only) - {entry.name for entry in entries}
        if unknown:
            raise CorpusError(f"no corpus entry named {', '.join(sorted(unknown))}")
        entries = [entry for entry in entries if entry.name in only]
    return entries


def discover_styles(folder: Path, formats: tuple[str, ...] | None = None) -> list[Entry]:
    """The style corpus generated into ``folder``: one variant Entry per variant and format."""
    sys.path.insert(0, str(ROOT / "tests"))
    from styles import generate

    entries = []
    for variant in generate.variants():
        for fmt, path in generate.write(variant, folder, formats or generate.FORMATS).items():
            name = f"style:{variant.name}:{fmt}"
            entries.append(
                Entry(
                    name,
                    path,
                    variant.rubric,
                    "variant",
                    variant.description,
                    "passed",
                    {},
                    {},
                    variant.keras,
                )
            )
    return entries


def _only(entries: list[Entry], only: list[str] | None) -> list[Entry]:
    if not only:
        return entries
    unknown = set(only) - {entry.name for entry in entries}
    if unknown:
        raise CorpusError(f"no corpus entry named {', '.join(sorted(unknown))}")
    return [entry for entry in entries if entry.name in only]


def compare(entry: Entry, report: Any, baseline: Any | None = None) -> Outcome:
    """The entry's expected verdicts against a Report; ``baseline``: the reference's Report, same budget."""
    if isinstance(report, GraderCrash):
        return Outcome(entry, [Mismatch("(grade)", "crash", "a report", report.error.strip())])
    outcome = Outcome(entry, auto_score=report.auto_score, auto_max=report.auto_max, keras=report.keras or "")
    budget = (report.budget or {}).get("name")
    listed = set(entry.items) | set(entry.budgets.get(budget or "", {}))
    automatic = {item.id: item for item in report.items if item.kind != "manual"}
    reference = {item.id: item for item in getattr(baseline, "items", [])}  # none when it crashed
    for item_id in sorted(listed | set(entry.feedback)):
        if item_id not in automatic:
            outcome.mismatches.append(Mismatch(item_id, "missing item", "an automatic item", "absent"))
    judged_score = judged_max = 0.0
    for item_id, item in automatic.items():
        base = reference.get(item_id)
        baseline_missed = base is not None and base.status != "passed"
        if item.check in TRAINING_CHECKS and item_id not in listed and baseline_missed:
            outcome.unjudged.append(item_id)
            continue
        expected = entry.expected_status(item_id, budget)
        if expected == "passed":
            judged_score, judged_max = judged_score + item.score, judged_max + item.max_score
        if item.status != expected:
            outcome.mismatches.append(Mismatch(item_id, "status", expected, item.status))
        # An item whose status differs at this budget keeps its usual feedback only at the usual one.
        phrases = entry.feedback.get(item_id, []) if expected == entry.expected_status(item_id) else []
        for phrase in phrases:
            if phrase.lower() not in (item.feedback or "").lower():
                outcome.mismatches.append(Mismatch(item_id, "feedback", phrase, _clip(item.feedback)))
    if entry.kind == "variant" and abs(judged_score - judged_max) > 1e-6:
        outcome.mismatches.append(Mismatch("(total)", "score", f"{judged_max:g}", f"{judged_score:g}"))
    if entry.report_status is not None and report.status != entry.report_status:
        outcome.mismatches.append(Mismatch("(report)", "report status", entry.report_status, report.status))
    if entry.keras is not None and not outcome.keras.startswith(entry.keras):
        outcome.mismatches.append(Mismatch("(report)", "keras", entry.keras, outcome.keras))
    dropped = " | ".join(f"{d.get('where')}: {d.get('reason')}" for d in report.debug.get("dropped", []))
    for phrase in entry.dropped:
        if phrase.lower() not in dropped.lower():
            outcome.mismatches.append(Mismatch("(report)", "dropped", phrase, _clip(dropped)))
    return outcome


def _clip(text: str, limit: int = 160) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass
class GraderCrash:
    """grade() itself raised: a grader bug, reported as a mismatch of that entry only."""

    error: str
    auto_score: float = 0.0
    auto_max: float = 0.0
    seconds: float = 0.0


def grade_entry(path: Path, rubric: str, budget: str, threads: int) -> Any:
    from grader.grading import grade
    from grader.sandbox.supervisor import SandboxLimits

    try:
        return grade(path, rubric, budget=budget, limits=SandboxLimits(threads=threads))
    except Exception:  # one crashing entry must not hide the verdicts of the others
        return GraderCrash(traceback.format_exc(limit=-6))


def reference_path(rubric: str) -> Path:
    from grader.artifacts import reference_path as path_of

    return Path(path_of(rubric))


def grade_all(
    entries: list[Entry],
    budget: str,
    workers: int,
    extra: dict[str, tuple[Path, str]] | None = None,
    progress: Any = None,
    threads: int | None = None,
) -> dict[str, Any]:
    """Grade every entry (and ``extra`` jobs: key -> (path, rubric)) concurrently; key -> Report.

    Each grade runs its own sandboxed worker with ``threads`` TF threads (default: the
    cores shared out between the workers).
    """
    jobs = {entry.name: (entry.path, entry.rubric) for entry in entries} | dict(extra or {})
    threads = threads or max(1, (os.cpu_count() or 1) // max(workers, 1))
    # Slow rubrics first so that the pool's last jobs are short.
    order = sorted(jobs, key=lambda key: {"autoencoders": 0, "sheet10": 1}.get(jobs[key][1], 2))
    reports: dict[str, Any] = {}
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(grade_entry, *jobs[key], budget, threads): key for key in order}
        for future in as_completed(futures):
            key = futures[future]
            reports[key] = future.result()
            if progress:
                progress(key, reports[key])
    return reports


def baselines_for(entries: list[Entry]) -> dict[str, tuple[Path, str]]:
    """One reference job per rubric that has training items."""
    rubrics = sorted({entry.rubric for entry in entries} - {"transposed_conv"})
    return {f"reference:{rubric}": (reference_path(rubric), rubric) for rubric in rubrics}


def summarise(outcomes: list[Outcome], seconds: float) -> str:
    lines = []
    width = max((len(o.entry.name) for o in outcomes), default=10)
    lines.append(f"{'entry':<{width}}  {'kind':<7}  {'auto':>11}  {'time':>6}  verdict")
    lines.append("-" * (width + 50))
    for outcome in outcomes:
        verdict = "ok" if outcome.ok else f"{len(outcome.mismatches)} mismatch(es)"
        if outcome.unjudged:
            verdict += f" (not judged, the reference missed them too: {', '.join(outcome.unjudged)})"
        score = f"{outcome.auto_score:g}/{outcome.auto_max:g}"
        name, kind = outcome.entry.name, outcome.entry.kind
        lines.append(f"{name:<{width}}  {kind:<7}  {score:>11}  {outcome.seconds:5.0f}s  {verdict}")
        for mismatch in outcome.mismatches:
            lines.append(f"{'':<{width}}    - {mismatch}")
    variants = [o for o in outcomes if o.entry.kind == "variant"]
    mutants = [o for o in outcomes if o.entry.kind == "mutant"]
    false_fails = [(o.entry.name, m) for o in outcomes for m in o.mismatches if m.false_fail]
    false_passes = [(o.entry.name, m) for o in outcomes for m in o.mismatches if m.false_pass]
    lines.append("-" * (width + 50))
    lines.append(f"variants at full marks   {sum(o.ok for o in variants)}/{len(variants)}")
    lines.append(f"mutants caught exactly   {sum(o.ok for o in mutants)}/{len(mutants)}")
    lines.append(f"false fails              {len(false_fails)}" + _listing(false_fails))
    lines.append(f"false passes             {len(false_passes)}" + _listing(false_passes))
    other = sum(len(o.mismatches) for o in outcomes) - len(false_fails) - len(false_passes)
    lines.append(f"other mismatches         {other} (feedback, keras, error vs failed ...)")
    lines.append(f"total time               {seconds:.0f} s")
    return "\n".join(lines)


def _listing(pairs: list[tuple[str, Mismatch]]) -> str:
    return "".join(f"\n    {name}: {m.item} ({m.expected} -> {m.actual})" for name, m in pairs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workers", type=int, default=2, help="submissions graded at once (default 2)")
    parser.add_argument("--budget", default="default", help="rubric budget (default: the real one)")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="grade only these entries")
    parser.add_argument(
        "--corpus",
        choices=("all", "submissions", "styles"),
        default="all",
        help="tests/submissions, the generated style corpus, or both (default)",
    )
    parser.add_argument(
        "--formats",
        nargs="+",
        choices=("py", "ipynb", "percent", "nbconvert"),  # tests/styles/generate.py FORMATS
        help="the style corpus's formats to grade (default: all four)",
    )
    parser.add_argument(
        "--no-baseline",
        action="store_true",
        help="judge training items strictly, without grading the references as baselines",
    )
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    styles_folder = tempfile.TemporaryDirectory(prefix="fidelity-styles-")
    try:
        entries = discover() if args.corpus != "styles" else []
        if args.corpus != "submissions":
            entries += discover_styles(Path(styles_folder.name), tuple(args.formats or ()) or None)
        entries = _only(entries, args.only)
    except CorpusError as exc:
        print(f"corpus error: {exc}", file=sys.stderr)
        return 2
    extra = {} if args.no_baseline else baselines_for(entries)
    started = time.monotonic()
    done = [0]

    def progress(key: str, report: Any) -> None:
        done[0] += 1
        print(
            f"[{done[0]}/{len(entries) + len(extra)}] {key}: {report.auto_score:g}/{report.auto_max:g} "
            f"in {report.seconds:.0f} s",
            file=sys.stderr,
            flush=True,
        )

    reports = grade_all(entries, args.budget, args.workers, extra, progress)
    outcomes = []
    for entry in entries:
        outcome = compare(entry, reports[entry.name], reports.get(f"reference:{entry.rubric}"))
        outcome.seconds = reports[entry.name].seconds
        outcomes.append(outcome)
    print(summarise(outcomes, time.monotonic() - started))
    styles_folder.cleanup()
    return 0 if all(outcome.ok for outcome in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
