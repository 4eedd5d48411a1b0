"""How long the notebook's ``check()`` takes (issue 15), measured inside a real kernel (nbclient).

The reference solution (reference/autoencoders.py) runs as the student's cell; then, in one
kernel: ``check("1", quick=True)`` (the first check: the grading process and its worker start
cold), ``check("3a")`` (no training; served by the worker started ahead), ``check()`` (every
public item at the real budget), and ``check("3a")`` again after a code change (a fresh worker
started ahead). A second kernel times ``check("3a")`` as its very first check (everything
cold). Prints one JSON line of seconds.

    python benchmarks/selfcheck_timings.py [--budget default]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]

TIMED = """
import time as _time
_time.sleep(PAUSE)  # the student reads the last result and edits: the worker started ahead gets ready
_t = _time.perf_counter(); _r = check({args}); _s = _time.perf_counter() - _t
print('TIMING', {label!r}, round(_s, 1), _r.score, _r.max_score, [i.id for i in _r.items if not i.passed])
"""


def run(cells: list[str]) -> list[str]:
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NotebookClient(notebook, timeout=3600, kernel_name="python3").execute()
    lines = []
    for cell in notebook.cells:
        for output in cell.outputs:
            lines += [line for line in output.get("text", "").splitlines() if line.startswith("TIMING")]
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--budget", default="default", help="budget of the non-quick checks (default: default)"
    )
    parser.add_argument("--pause", type=float, default=20.0, help="seconds between checks (default 20)")
    args = parser.parse_args()
    reference = (ROOT / "reference" / "autoencoders.py").read_text()
    budget = f", budget={args.budget!r}" if args.budget != "default" else ""
    started = time.perf_counter()
    warm = run(
        [
            reference,
            f"from grader import check\nPAUSE = {args.pause}",
            TIMED.format(args="'1', quick=True", label="check('1', quick=True) first check"),
            TIMED.format(args=f"'3a'{budget}", label="check('3a') warm"),
            TIMED.format(args=budget.lstrip(", "), label="check() all public"),
            "def helper_added_later():\n    return 1",
            TIMED.format(args=f"'3a'{budget}", label="check('3a') after a code change"),
        ]
    )
    for line in warm:
        print(line, flush=True)
    cold = run(
        [
            reference,
            "from grader import check\nPAUSE = 0",
            TIMED.format(args=f"'3a'{budget}", label="check('3a') cold"),
        ]
    )
    for line in cold:
        print(line)
    print(json.dumps({"total_s": round(time.perf_counter() - started, 1)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
