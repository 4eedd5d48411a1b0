"""Budget search: per training stage, the cheapest budget that keeps the corpus verdicts.

For each stage (``grader/assignments/<name>/stages.py``) and each candidate budget (the
rubric's default budget with that stage's epochs, the training samples and, where given,
the batch size changed) this script:

1. calibrates the stage's items on the reference over ``--seeds`` grading seeds, with the
   margin rule of ``grader/calibration.py`` (into a temporary calibration file: the
   rubric's own file is never touched);
2. grades, at ``--grade-seeds`` grading seeds, only the corpus entries whose verdict depends
   on that stage (every variant, and the mutants expected to lose one of its items), and
   only the items the stage feeds (a rubric cut down to them, so each entry costs a worker
   start and that stage's training, not a whole grading);
3. compares with the expected verdicts (``benchmarks/fidelity.py``) and prints a table: the
   reference's metric and threshold, variants and mutants right, false fails and passes,
   and the candidate's cost in seconds (the reference's median training seconds for the
   stage, and the search's own wall time).

A candidate "keeps" the verdicts when every judged entry is right at every seed. Adopting
one as the default budget needs more than this search (docs/architecture.md, "Training is
budgeted, calibrated and retried"): ``benchmarks/seed_robustness.py`` over 10 seeds with
0 false fails, ``grader calibrate``, and the full ``benchmarks/fidelity.py`` at that budget.

    python benchmarks/budget_search.py --stage autoencoder --candidates 3:4000 4:2000 --seeds 3
    python benchmarks/budget_search.py --stage vae --candidates 3:4000:128 --only variant_sequential

A candidate is EPOCHS:TRAIN_SAMPLES[:BATCH_SIZE]; training samples are shared by every stage
of a budget, so a candidate that changes them changes the data the other stages see too. A
stage that depends on another (``depends_on``: the classifier starts from the trained
autoencoder) is searched on the base budget's training of that other stage: after cutting
the autoencoder's epochs, search the classifier again with ``--base`` naming a budget that
has the cut.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def _fidelity() -> Any:
    """benchmarks/fidelity.py (the corpus and its comparison), loaded once under one module name."""
    if "fidelity_benchmark" in sys.modules:
        return sys.modules["fidelity_benchmark"]
    spec = importlib.util.spec_from_file_location("fidelity_benchmark", ROOT / "benchmarks" / "fidelity.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules["fidelity_benchmark"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


fidelity = _fidelity()


class CandidateError(ValueError):
    """A --candidates value that is not EPOCHS:TRAIN_SAMPLES[:BATCH_SIZE]."""


@dataclass(frozen=True)
class Candidate:
    stage: str
    epochs: int
    train_samples: int
    batch_size: int | None = None  # None: the default budget's

    @property
    def name(self) -> str:
        batch = f"x{self.batch_size}" if self.batch_size else ""
        return f"search-{self.stage}-{self.epochs}e-{self.train_samples}n{batch}"


def parse_candidate(stage: str, text: str) -> Candidate:
    """``3:4000`` or ``3:4000:128`` -> a Candidate of ``stage``."""
    parts = text.split(":")
    try:
        numbers = [int(part) for part in parts]
    except ValueError:
        raise CandidateError(f"candidate {text!r}: expected EPOCHS:TRAIN_SAMPLES[:BATCH_SIZE]") from None
    if len(numbers) not in (2, 3) or min(numbers) < 1:
        raise CandidateError(f"candidate {text!r}: expected EPOCHS:TRAIN_SAMPLES[:BATCH_SIZE], all >= 1")
    return Candidate(stage, numbers[0], numbers[1], numbers[2] if len(numbers) == 3 else None)


def candidate_budget(base: Any, candidate: Candidate) -> Any:
    """The base budget with the candidate's epochs (and batch size) for its stage and its samples."""
    epochs = dict(base.epochs) | {candidate.stage: candidate.epochs}
    batch = dict(base.batch_size)
    if candidate.batch_size is not None:
        batch[candidate.stage] = candidate.batch_size
    return replace(
        base, name=candidate.name, epochs=epochs, batch_size=batch, train_samples=candidate.train_samples
    )


def stage_items(rubric: Any, stage: Any, probes_of: Callable[[Any], Iterable[str]]) -> tuple[Any, ...]:
    """The rubric's automatic items whose probes are the stage's training or use its trained models."""
    feeds = {stage.probe} | (set(stage.used_by) - {"reference_artifacts"})
    return tuple(item for item in rubric.items if not item.is_manual and feeds & set(probes_of(item)))


def relevant_entries(entries: list[Any], rubric: str, item_ids: set[str]) -> list[Any]:
    """Every variant of the rubric (it must keep full marks), and the mutants that lose one of the items."""
    chosen = []
    for entry in entries:
        if entry.rubric != rubric:
            continue
        listed = set(entry.items) | {i for table in entry.budgets.values() for i in table}
        if entry.kind == "variant" or listed & item_ids:
            chosen.append(narrow_entry(entry, item_ids))
    return chosen


def narrow_entry(entry: Any, item_ids: set[str]) -> Any:
    """The entry's expectations for ``item_ids`` only (the cut-down rubric grades no other item)."""
    return replace(
        entry,
        items={k: v for k, v in entry.items.items() if k in item_ids},
        feedback={k: v for k, v in entry.feedback.items() if k in item_ids},
        budgets={b: {k: v for k, v in t.items() if k in item_ids} for b, t in entry.budgets.items()},
        report_status=None,
    )


@dataclass
class Row:
    candidate: Candidate
    reference: dict[str, dict[str, float]] = field(default_factory=dict)  # metric -> min/median/max
    thresholds: dict[str, float] = field(default_factory=dict)
    variants: tuple[int, int] = (0, 0)
    mutants: tuple[int, int] = (0, 0)
    false_fails: list[str] = field(default_factory=list)
    false_passes: list[str] = field(default_factory=list)
    other: list[str] = field(default_factory=list)
    train_seconds: float = 0.0  # median seconds of the stage's training, reference runs
    wall: float = 0.0

    @property
    def keeps(self) -> bool:
        return (
            self.variants[0] == self.variants[1]
            and self.mutants[0] == self.mutants[1]
            and not (self.false_fails or self.false_passes or self.other)
        )


def judge(row: Row, outcomes_by_seed: list[list[Any]]) -> None:
    """Fill the row's counts: an entry is right only when it is right at every seed."""
    names: dict[str, tuple[str, bool]] = {}
    for outcomes in outcomes_by_seed:
        for outcome in outcomes:
            name, kind = outcome.entry.name, outcome.entry.kind
            names[name] = (kind, names.get(name, (kind, True))[1] and outcome.ok)
            for mismatch in outcome.mismatches:
                text = f"{name}: {mismatch}"
                target = (
                    row.false_fails
                    if mismatch.false_fail
                    else row.false_passes
                    if mismatch.false_pass
                    else row.other
                )
                if text not in target:
                    target.append(text)
    for kind, attr in (("variant", "variants"), ("mutant", "mutants")):
        judged = [ok for k, ok in names.values() if k == kind]
        setattr(row, attr, (sum(judged), len(judged)))


def format_table(rows: list[Row]) -> str:
    head = (
        f"{'stage':<12} {'epochs':>6} {'samples':>7} {'batch':>5}  {'train s':>7} {'search s':>8}  "
        f"{'variants':>8} {'mutants':>7} {'FF':>3} {'FP':>3}  reference (min/median/max) -> threshold"
    )
    lines = [head, "-" * len(head)]
    for row in rows:
        c = row.candidate
        reference = "; ".join(
            f"{metric} {v['min']:.4g}/{v['median']:.4g}/{v['max']:.4g}" for metric, v in row.reference.items()
        )
        thresholds = ", ".join(f"{k} {v:.4g}" for k, v in row.thresholds.items())
        lines.append(
            f"{c.stage:<12} {c.epochs:>6} {c.train_samples:>7} {c.batch_size or '-':>5}  "
            f"{row.train_seconds:>7.1f} {row.wall:>8.0f}  {row.variants[0]:>3}/{row.variants[1]:<4} "
            f"{row.mutants[0]:>3}/{row.mutants[1]:<3} {len(row.false_fails):>3} {len(row.false_passes):>3}  "
            f"{reference} -> {thresholds}" + ("" if row.keeps else "   DOES NOT KEEP")
        )
        lines.extend(f"    - {text}" for text in row.false_fails + row.false_passes + row.other)
    kept = [row for row in rows if row.keeps]
    for stage in dict.fromkeys(row.candidate.stage for row in rows):
        best = min(
            (r for r in kept if r.candidate.stage == stage), key=lambda r: r.train_seconds, default=None
        )
        what = (
            f"{best.candidate.epochs} epochs, {best.candidate.train_samples} samples"
            f"{f', batch {best.candidate.batch_size}' if best.candidate.batch_size else ''} "
            f"({best.train_seconds:.1f} s of training)"
            if best
            else "none of the candidates"
        )
        lines.append(f"cheapest candidate that keeps the verdicts for {stage}: {what}")
    return "\n".join(lines)


# -- running a candidate (TensorFlow work in sandboxed workers) ------------------------------------


def search_rubric(rubric: Any, items: tuple[Any, ...], budget: Any, folder: Path) -> Any:
    """The rubric cut down to ``items``, with the candidate budget, its calibration file in ``folder``."""
    return replace(
        rubric,
        path=folder / rubric.path.name,
        items=items,
        budgets=dict(rubric.budgets) | {budget.name: budget},
        reference_artifacts=False,  # the stage's items need no reference codes
        functions={},
    )


def run_candidate(
    rubric: Any,
    stage: Any,
    candidate: Candidate,
    entries: list[Any],
    seeds: int,
    grade_seeds: int,
    workers: int,
    echo: Callable[[str], None],
    base: str = "default",
) -> Row:
    from grader import calibration
    from grader.artifacts import reference_path
    from grader.data import load_dataset
    from grader.grading import grade
    from grader.sandbox.supervisor import SandboxLimits

    started = time.monotonic()
    budget = candidate_budget(rubric.budget_named(base), candidate)
    items = stage_items(rubric, stage, lambda item: _probes_of(item, rubric))
    row = Row(candidate)
    threads = max(1, 2 // max(workers, 1))
    limits = SandboxLimits(threads=threads)
    with tempfile.TemporaryDirectory(prefix="budget-search-") as folder:
        cut = search_rubric(rubric, items, budget, Path(folder))
        reference = reference_path(rubric)
        train_seconds: list[float] = []

        def grade_reference(seeded: Any) -> Any:
            report = grade(
                reference, cut, budget=budget.name, seed=seeded.seed, calibrated=False, limits=limits
            )
            train_seconds.extend(a["seconds"] for a in report.stages.get(stage.name, {}).get("attempts", []))
            return report

        entry = calibration.calibrate(cut, budget, load_dataset("default"), seeds, grade_reference)
        for record in entry["items"].values():
            row.thresholds.update(record["thresholds"])
            row.reference.update(record["reference"])
        row.train_seconds = statistics.median(train_seconds) if train_seconds else 0.0
        echo(f"  {candidate.name}: reference calibrated over {seeds} seeds, thresholds {row.thresholds}")
        outcomes_by_seed = []
        for offset in range(grade_seeds):
            seed = budget.seed + offset

            def grade_entry(e: Any, seed: int = seed) -> Any:
                try:
                    report = grade(e.path, cut, budget=budget.name, seed=seed, limits=limits)
                except Exception as exc:  # one crash must not hide the other entries' verdicts
                    report = fidelity.GraderCrash(repr(exc))
                return fidelity.compare(e, report)

            with ThreadPoolExecutor(max_workers=workers) as pool:
                outcomes = list(pool.map(grade_entry, entries))
            bad = [o.entry.name for o in outcomes if not o.ok]
            echo(
                f"  {candidate.name}: grading seed {seed}: {len(outcomes) - len(bad)}/{len(outcomes)} right"
                + (f" (wrong: {', '.join(bad)})" if bad else "")
            )
            outcomes_by_seed.append(outcomes)
    judge(row, outcomes_by_seed)
    row.wall = time.monotonic() - started
    return row


def _probes_of(item: Any, rubric: Any = None) -> tuple[str, ...]:
    """The probes an item's check reads: the rubric's own checks (its data stages) and the engine's."""
    from grader.checks import CHECKS

    checks = rubric.checks if rubric is not None else CHECKS
    return checks[item.check].probes_for(item.params)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rubric", default="autoencoders")
    parser.add_argument(
        "--stage", required=True, help="the training stage (autoencoders: autoencoder, classifier, vae)"
    )
    parser.add_argument(
        "--candidates",
        nargs="+",
        required=True,
        metavar="E:N[:B]",
        help="epochs:train_samples[:batch_size] of the stage, e.g. 3:4000 4:2000:128",
    )
    parser.add_argument(
        "--seeds", type=int, default=3, help="reference seeds for the calibration (default 3)"
    )
    parser.add_argument(
        "--grade-seeds",
        type=int,
        default=1,
        help="grading seeds the corpus entries are graded at (default 1)",
    )
    parser.add_argument("--workers", type=int, default=1, help="entries graded at once (default 1)")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="grade only these corpus entries")
    parser.add_argument(
        "--base",
        default="default",
        help="the rubric budget a candidate changes (default: default); e.g. a named budget that already "
        "trains a stage this one depends on (the classifier starts from the trained autoencoder) for less",
    )
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from grader.rubric import load_rubric

    rubric = load_rubric(args.rubric)  # its stages: every assignment's Python ones and its own data ones
    stage = rubric.stages.get(args.stage) if args.stage in rubric.stages.names else None
    if stage is None:
        parser.error(f"unknown stage {args.stage!r} (known: {', '.join(rubric.stages.names)})")
    try:
        candidates = [parse_candidate(args.stage, text) for text in args.candidates]
        entries = fidelity.discover(only=args.only)
    except (CandidateError, fidelity.CorpusError) as exc:
        parser.error(str(exc))
    ids = {item.id for item in stage_items(rubric, stage, lambda item: _probes_of(item, rubric))}
    if not ids:
        parser.error(f"rubric {rubric.name} has no item that stage {stage.name} decides")
    if args.base not in rubric.budgets:
        parser.error(f"rubric {rubric.name} has no budget {args.base!r} (known: {', '.join(rubric.budgets)})")
    chosen = relevant_entries(entries, rubric.name, ids)
    print(
        f"stage {stage.name}: items {', '.join(sorted(ids))}; {len(chosen)} corpus entries: "
        f"{', '.join(e.name for e in chosen)}",
        flush=True,
    )
    rows = []
    for candidate in candidates:
        rows.append(
            run_candidate(
                rubric,
                stage,
                candidate,
                chosen,
                args.seeds,
                args.grade_seeds,
                args.workers,
                lambda line: print(line, flush=True),
                args.base,
            )
        )
    print(format_table(rows))
    return 0 if all(row.keeps for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
