"""Scores must not move: record every item's score and status, and compare a later run with it.

A refactoring of the engine must leave every verdict as it was. ``record`` grades every
entry of the fidelity corpus (tests/submissions/) at the smoke budget and the three
references (reference/*.py) at the real budget, and writes, per report, each item's id,
score, max and status to a JSON baseline. ``compare`` grades the same again (or reads a
second recording with ``--against``) and prints every item whose score or status moved,
then a one-line summary.

    python benchmarks/compare_scores.py record [--out FILE] [--only NAME ...]
    python benchmarks/compare_scores.py compare BASELINE [--against FILE] [--save FILE] [--only NAME ...]

Every grade gets one TensorFlow thread, like tests/test_fidelity.py, so that a recording is
reproducible; ``--workers N`` grades N submissions at once (default 1). Exit code 1 when
anything moved, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

ROOT = Path(__file__).resolve().parents[1]
BASELINES = ROOT / "benchmarks" / "baselines"
CORPUS_BUDGET = "smoke"  # the budget tests/test_fidelity.py grades the corpus at
REFERENCE_BUDGET = "default"  # the references: the real budget
REFERENCE_PREFIX = "reference:"
FORMAT = 1


def _load_fidelity() -> Any:
    """benchmarks/fidelity.py: its corpus reading and grading (the benchmarks are not a package)."""
    spec = importlib.util.spec_from_file_location("fidelity_benchmark", ROOT / "benchmarks" / "fidelity.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


# -- what is recorded ------------------------------------------------------------------


def summarise_report(report: Any, rubric: str, budget: str) -> dict[str, Any]:
    """What must not move in a Report (or a fidelity GraderCrash): each item's id, score, max, status."""
    if not hasattr(report, "items"):  # grade() itself raised
        return {"rubric": rubric, "budget": budget, "status": "crash", "items": []}
    items = [
        {"id": item.id, "score": item.score, "max": item.max_score, "status": item.status}
        for item in report.items
    ]
    return {"rubric": rubric, "budget": budget, "status": report.status, "items": items}


def reference_jobs(only: list[str] | None = None) -> dict[str, tuple[Path, str]]:
    """reference/<rubric>.py for each shipped reference: key -> (path, rubric)."""
    paths = sorted(p for p in (ROOT / "reference").glob("*.py") if not p.name.startswith("_"))
    jobs = {f"{REFERENCE_PREFIX}{p.stem}": (p, p.stem) for p in paths}
    return {key: job for key, job in jobs.items() if not only or key in only}


def record(
    only: list[str] | None = None, echo: Callable[[str], None] = print, workers: int = 1
) -> dict[str, Any]:
    """Grade the corpus (smoke budget) and the references (real budget), ``workers`` at a time."""
    fidelity = _load_fidelity()
    entries = [entry for entry in fidelity.discover() if not only or entry.name in only]
    references = reference_jobs(only)
    if only and not entries and not references:
        _usage_error(f"nothing named {', '.join(only)} in the corpus or reference/")
    total, done, started = len(entries) + len(references), [0], time.monotonic()

    def progress(key: str, report: Any) -> None:
        done[0] += 1
        score = f"{report.auto_score:g}/{report.auto_max:g}" if hasattr(report, "items") else "crash"
        echo(f"[{done[0]}/{total}] {key}: {score} ({time.monotonic() - started:.0f} s elapsed)")

    reports: dict[str, Any] = {}
    graded = fidelity.grade_all(entries, CORPUS_BUDGET, workers, progress=progress, threads=1)
    for entry in entries:
        reports[entry.name] = summarise_report(graded[entry.name], entry.rubric, CORPUS_BUDGET)
    graded = fidelity.grade_all([], REFERENCE_BUDGET, workers, references, progress=progress, threads=1)
    for key, (_, rubric) in references.items():
        reports[key] = summarise_report(graded[key], rubric, REFERENCE_BUDGET)
    from grader import __version__

    return {
        "format": FORMAT,
        "recorded": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "grader_version": __version__,
        "reports": dict(sorted(reports.items())),
    }


# -- comparison ------------------------------------------------------------------------


def moves(baseline: dict[str, Any], current: dict[str, Any], only: list[str] | None = None) -> list[str]:
    """One line per report or item whose score or status differs (``only``: these reports)."""
    old, new = baseline["reports"], current["reports"]
    keys = sorted((set(old) | set(new)) & set(only) if only else set(old) | set(new))
    lines = []
    for key in keys:
        if key not in new:
            lines.append(f"{key}: in the baseline, not graded now")
            continue
        if key not in old:
            lines.append(f"{key}: graded now, not in the baseline")
            continue
        if old[key]["status"] != new[key]["status"]:
            lines.append(f"{key}: report status {old[key]['status']} -> {new[key]['status']}")
        lines.extend(f"{key} {line}" for line in _item_moves(old[key]["items"], new[key]["items"]))
    return lines


def _item_moves(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[str]:
    before, after = {i["id"]: i for i in old}, {i["id"]: i for i in new}
    lines = []
    for item_id in [*before, *(i for i in after if i not in before)]:
        a, b = before.get(item_id), after.get(item_id)
        if a is None or b is None:
            lines.append(f"{item_id}: {'new item' if a is None else 'item gone'}")
            continue
        changes = [
            f"{field} {a[field]:g} -> {b[field]:g}" for field in ("score", "max") if a[field] != b[field]
        ]
        if a["status"] != b["status"]:
            changes.append(f"status {a['status']} -> {b['status']}")
        if changes:
            lines.append(f"{item_id}: {', '.join(changes)}")
    return lines


def summary(baseline: dict[str, Any], current: dict[str, Any], moved: list[str]) -> str:
    reports = len(set(baseline["reports"]) & set(current["reports"]))
    items = sum(len(r["items"]) for key, r in current["reports"].items() if key in baseline["reports"])
    verdict = "no moves" if not moved else f"{len(moved)} move(s)"
    return f"{verdict}: {reports} reports, {items} items compared with the baseline of {baseline['recorded']}"


# -- command line ----------------------------------------------------------------------


def _usage_error(message: str) -> NoReturn:
    print(f"compare_scores: {message}", file=sys.stderr)
    raise SystemExit(2)


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        _usage_error(f"cannot read {path}: {exc}")
    if data.get("format") != FORMAT or not isinstance(data.get("reports"), dict):
        _usage_error(f"{path} is not a score recording (format {FORMAT})")
    return data


def dumps(data: dict[str, Any]) -> str:
    """JSON with one line per item, so that a recording reads (and diffs) item by item."""
    lines = ["{"]
    lines += [f" {json.dumps(key)}: {json.dumps(value)}," for key, value in data.items() if key != "reports"]
    lines.append(' "reports": {')
    for n, (key, report) in enumerate(data["reports"].items()):
        head = json.dumps({k: v for k, v in report.items() if k != "items"})[:-1]
        items = [f"   {json.dumps(item)}" for item in report["items"]]
        body = "\n" + ",\n".join(items) + "\n  " if items else ""
        comma = "," if n < len(data["reports"]) - 1 else ""
        lines.append(f'  {json.dumps(key)}: {head}, "items": [{body}]}}{comma}')
    lines += [" }", "}"]
    return "\n".join(lines) + "\n"


def _write(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dumps(data))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    rec = commands.add_parser("record", help="grade everything and write a baseline")
    today = datetime.datetime.now(datetime.timezone.utc).date().isoformat()
    default = BASELINES / f"scores-{today}.json"
    rec.add_argument("--out", type=Path, default=default, help="(default: %(default)s)")
    cmp_ = commands.add_parser("compare", help="grade everything again and print what moved")
    cmp_.add_argument("baseline", type=Path, help="a file written by 'record'")
    cmp_.add_argument("--against", type=Path, help="compare this recording instead of grading again")
    cmp_.add_argument("--save", type=Path, help="also write the new recording here")
    for sub in (rec, cmp_):
        sub.add_argument("--only", nargs="+", metavar="NAME", help="only these entries (reference:NAME too)")
        sub.add_argument(
            "--workers", type=int, default=1, help="submissions graded at once, 1 TF thread each (default 1)"
        )
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))

    def echo(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    if args.command == "record":
        _write(args.out, record(args.only, echo, args.workers))
        print(f"recorded {args.out}")
        return 0
    baseline = _read(args.baseline)
    current = _read(args.against) if args.against else record(args.only, echo, args.workers)
    if args.save:
        _write(args.save, current)
    moved = moves(baseline, current, args.only)
    for line in moved:
        print(line)
    print(summary(baseline, current, moved))
    return 1 if moved else 0


if __name__ == "__main__":
    sys.exit(main())
