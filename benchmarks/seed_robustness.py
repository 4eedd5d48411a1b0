"""Benchmark (issue 7): no correct submission fails because of an unlucky grading seed.

Grades the three references and every correct variant of the corpus (tests/submissions/*,
kind "variant", any rubric) with grading seeds 0..K-1 at the REAL budget, and prints:

* the false-fail rate: (submission, seed) pairs where an automatic item did not pass;
* how often training was retried, and the time the retries cost;
* the autoencoders reference's median grading time with the retry rule and with retries = 0.

    python benchmarks/seed_robustness.py [--seeds 10] [--workers 2] [--only NAME ...]
                                         [--timing-only | --no-timing]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUBRICS = ("autoencoders", "sheet10", "transposed_conv")
sys.path.insert(0, str(ROOT))

from grader.grading import grade  # noqa: E402
from grader.sandbox.supervisor import SandboxLimits  # noqa: E402

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def correct_variants(only: list[str]) -> list[tuple[str, Path, str]]:
    """(name, file, rubric) of the references and every correct variant of the corpus."""
    found = [(f"reference_{rubric}", ROOT / "reference" / f"{rubric}.py", rubric) for rubric in RUBRICS]
    for folder in sorted((ROOT / "tests" / "submissions").glob("*/")):
        expected = folder / "expected.toml"
        if not expected.exists():
            continue
        meta = tomllib.loads(expected.read_text())
        if meta.get("kind") == "variant":
            files = [p for p in folder.iterdir() if p.suffix in (".py", ".ipynb")]
            found.append((folder.name, files[0], meta["rubric"]))
    return [entry for entry in found if not only or entry[0] in only]


def without_retries(folder: Path) -> Path:
    """A copy of the autoencoders rubric with retries = 0 (and its calibration file)."""
    text = (ROOT / "rubrics" / "autoencoders.toml").read_text()
    path = folder / "autoencoders.toml"
    path.write_text(re.sub(r"^retries = \d+", "retries = 0", text, count=1, flags=re.M))
    calibration = ROOT / "rubrics" / "autoencoders.calibration.json"
    if calibration.exists():
        (folder / calibration.name).write_text(calibration.read_text())
    return path


def run(job: tuple[str, Path, int, str], threads: int) -> dict:
    name, path, seed, rubric = job
    started = time.monotonic()
    report = grade(path, rubric, seed=seed, limits=SandboxLimits(threads=threads))
    failed = [i.id for i in report.items if i.kind == "auto" and i.status != "passed"]
    attempts = {stage: record["attempts"] for stage, record in report.stages.items()}
    retry_seconds = sum(a.get("seconds", 0.0) for records in attempts.values() for a in records[1:])
    return {
        "name": name,
        "seed": seed,
        "failed": failed,
        "wall": time.monotonic() - started,
        "retries": sum(len(records) - 1 for records in attempts.values()),
        "retry_seconds": retry_seconds,
        "reasons": [a["reason"] for records in attempts.values() for a in records if a["reason"]],
    }


def reference_seconds(threads: int, seeds: int = 3) -> tuple[float, float]:
    """The reference's median grading time alone, with the retry rule and with retries = 0.

    Reference artifacts are cached per budget (retries and seed included), so each rubric is
    graded once per seed before the timed runs: only grading is timed, not building them.
    """
    reference = ROOT / "reference" / "autoencoders.py"
    with tempfile.TemporaryDirectory() as folder:
        rubrics = {"rule": "autoencoders", "none": str(without_retries(Path(folder)))}
        for seed in range(seeds):
            for rubric in rubrics.values():
                run(("reference", reference, seed, rubric), threads)  # warm-up
        walls: dict[str, list[float]] = {"rule": [], "none": []}
        for seed in range(seeds):
            for label, rubric in rubrics.items():
                walls[label].append(run(("reference", reference, seed, rubric), threads)["wall"])
    return statistics.median(walls["rule"]), statistics.median(walls["none"])


def timing_line() -> str:
    rule, without = reference_seconds(len(os.sched_getaffinity(0)))
    return (
        f"reference median grading time (alone, 3 seeds): {rule:.1f} s with the retry rule, "
        f"{without:.1f} s with retries = 0 ({100 * (rule / without - 1):+.1f}%)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--only", nargs="*", default=[])
    parser.add_argument("--timing-only", action="store_true", help="only the reference's grading time")
    parser.add_argument(
        "--no-timing", action="store_true", help="skip the reference's timed gradings (12 more gradings)"
    )
    args = parser.parse_args()
    if args.timing_only:
        print(timing_line())
        return 0
    threads = max(1, len(os.sched_getaffinity(0)) // args.workers)
    variants = correct_variants(args.only)
    jobs = [(name, path, seed, rubric) for name, path, rubric in variants for seed in range(args.seeds)]
    print(
        f"{len(variants)} correct submissions x {args.seeds} grading seeds at the real budget "
        f"({args.workers} workers)",
        file=sys.stderr,
    )
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(args.workers) as pool:
        futures = [pool.submit(run, job, threads) for job in jobs]
        for done, future in enumerate(concurrent.futures.as_completed(futures), 1):
            row = future.result()
            verdict = "false fail: " + ", ".join(row["failed"]) if row["failed"] else "ok"
            print(
                f"[{done}/{len(jobs)}] {row['name']} seed {row['seed']}: {verdict} in {row['wall']:.0f} s",
                file=sys.stderr,
                flush=True,
            )
        results = [future.result() for future in futures]
    timing = "reference timing skipped (--no-timing)" if args.no_timing else timing_line()
    total = time.monotonic() - started

    print(f"{'submission':<32} {'false fails':>11} {'retried runs':>12} {'retry s':>8}  reasons")
    for name, _, _ in variants:
        rows = [r for r in results if r["name"] == name]
        fails = sum(1 for r in rows if r["failed"])
        retried = sum(1 for r in rows if r["retries"])
        reasons = sorted({reason.split(" (")[0] for r in rows for reason in r["reasons"]})
        print(
            f"{name:<32} {fails:>5}/{len(rows):<5} {retried:>6}/{len(rows):<5} "
            f"{sum(r['retry_seconds'] for r in rows):>8.1f}  {'; '.join(reasons)}"
        )
        for r in rows:
            if r["failed"]:
                print(f"    seed {r['seed']}: {', '.join(r['failed'])}")
    pairs = len(results)
    false_fails = sum(1 for r in results if r["failed"])
    grading = sum(r["wall"] for r in results)
    retry_seconds = sum(r["retry_seconds"] for r in results)
    print(f"false-fail rate: {false_fails}/{pairs} = {100 * false_fails / pairs:.1f}%")
    print(
        f"retries: {sum(r['retries'] for r in results)} extra trainings costing {retry_seconds:.1f} s "
        f"of {grading:.1f} s grading ({100 * retry_seconds / grading:.1f}%)"
    )
    print(timing)
    print(f"total {total:.0f} s")
    return 1 if false_fails else 0


if __name__ == "__main__":
    sys.exit(main())
