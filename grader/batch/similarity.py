"""Similar submissions: ``OUT/similarity.csv`` (most similar pair first) and ``similarity.html``.

Fingerprints come from ``copydetect`` (winnowing over tokens with variable names, comments and
whitespace filtered out), with the assignment's template as boilerplate, so the hand-out's own
code makes no two students alike. A pair's ``similarity`` is the larger of the two shares:
how much of one submission's code is found in the other.
"""

from __future__ import annotations

import csv
import html
import io
import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.batch.discovery import Entry
from grader.text_safety import csv_text

SIMILARITY_CSV = "similarity.csv"
SIMILARITY_HTML = "similarity.html"
COLUMNS = ("student_a", "student_b", "similarity", "share_of_a", "share_of_b", "tokens_shared")
K = 25  # characters of filtered code per fingerprint: copydetect's default noise threshold
WIN = 1  # every k-gram kept: classes are small enough
THRESHOLD = 0.5  # pairs at or above: in summary.md and similarity.html
HTML_PAIRS = 30


@dataclass(frozen=True)
class Pair:
    student_a: str
    student_b: str
    similarity: float
    share_of_a: float
    share_of_b: float
    tokens_shared: int
    slices: Any = None  # copydetect's matching character ranges, for the HTML


def code_of(path: Path) -> str:
    """The code of a .py, or a notebook's code cells; "" when it cannot be read.

    Any error of the loader on one file (a cell without ``source``, brackets nested past the
    parser's recursion limit) leaves that file out of the comparison, not the class.
    """
    from grader.submission import load_submission

    try:
        return "\n\n".join(cell.source for cell in load_submission(path, all_cells=True).cells)
    except Exception:
        return ""


def _fingerprint(name: str, code: str, boilerplate: Any = None) -> Any:
    from copydetect import CodeFingerprint

    return CodeFingerprint(name, K, WIN, boilerplate, filter=True, language="python", fp=io.StringIO(code))


def compare(sources: Mapping[str, str], template: str = "") -> tuple[list[Pair], dict[str, Any]]:
    """Every pair of students, most similar first (ties by name), and each one's fingerprint."""
    import numpy as np
    from copydetect import compare_files

    boilerplate = np.array(sorted(_fingerprint("template.py", template).hashes)) if template.strip() else None
    prints = {}
    for student, code in sorted(sources.items()):
        try:
            prints[student] = _fingerprint(f"{student}.py", code, boilerplate)
        except Exception:  # code the tokenizer rejects: left out of the comparison, not the batch
            continue
    pairs = []
    for a, b in itertools.combinations(sorted(prints), 2):
        try:
            tokens, (share_a, share_b), slices = compare_files(prints[a], prints[b])
        except Exception:  # one odd pair costs that pair only
            continue
        share_a, share_b = round(float(share_a), 4), round(float(share_b), 4)
        pairs.append(Pair(a, b, max(share_a, share_b), share_a, share_b, int(tokens), slices))
    pairs.sort(key=lambda pair: (-pair.similarity, pair.student_a, pair.student_b))
    return pairs, prints


def sources_of(entries: list[Entry]) -> dict[str, str]:
    codes = {entry.student: code_of(entry.path) for entry in entries if entry.path is not None}
    return {student: code for student, code in codes.items() if code.strip()}


def similarity_csv(pairs: list[Pair]) -> str:
    rows: list[tuple[object, ...]] = [COLUMNS]
    for p in pairs:
        rows.append(
            (
                p.student_a,
                p.student_b,
                f"{p.similarity:.4f}",
                f"{p.share_of_a:.4f}",
                f"{p.share_of_b:.4f}",
                p.tokens_shared,
            )
        )
    return csv_text(rows)


def read_similar_pairs(out: Path, threshold: float = THRESHOLD) -> list[tuple[str, str, float]]:
    """The pairs of OUT/similarity.csv at or above ``threshold`` (for summary.md)."""
    path = Path(out) / SIMILARITY_CSV
    if not path.is_file():
        return []
    rows = csv.DictReader(io.StringIO(path.read_bytes().decode("utf-8", errors="replace"), newline=""))
    pairs = []
    for row in rows:
        try:  # a row another tool mangled is left out, not the summary
            pairs.append((str(row["student_a"]), str(row["student_b"]), float(row["similarity"])))
        except (KeyError, TypeError, ValueError):
            continue
    return [pair for pair in pairs if pair[2] >= threshold]


def similarity_html(pairs: list[Pair], prints: Mapping[str, Any], threshold: float = THRESHOLD) -> str:
    """The pairs at or above ``threshold`` (at most HTML_PAIRS), their shared code marked side by side."""
    from copydetect.utils import highlight_overlap

    shown = [pair for pair in pairs if pair.similarity >= threshold][:HTML_PAIRS]
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>Similar submissions</title><style>"
        "body{font-family:sans-serif}table{width:100%;table-layout:fixed}td{vertical-align:top}"
        "pre{font-size:12px;white-space:pre-wrap;background:#f6f6f6;padding:6px}"
        "mark{background:#ffd27f}</style></head><body><h1>Similar submissions</h1>",
        f"<p>{len(shown)} pair(s) at or above {threshold:.0%} similar (the template's code, comments, "
        "whitespace and variable names ignored; all pairs are in similarity.csv).</p>",
    ]
    for pair in shown:
        left, _ = highlight_overlap(
            prints[pair.student_a].raw_code, pair.slices[0], "<mark>", "</mark>", escape_html=True
        )
        right, _ = highlight_overlap(
            prints[pair.student_b].raw_code, pair.slices[1], "<mark>", "</mark>", escape_html=True
        )
        a, b = html.escape(pair.student_a), html.escape(pair.student_b)
        parts.append(
            f"<h2>{a} and {b}: {pair.similarity:.0%}</h2><table><tr>"
            f"<th>{a} ({pair.share_of_a:.0%} found in {b})</th>"
            f"<th>{b} ({pair.share_of_b:.0%} found in {a})</th>"
            f"</tr><tr><td><pre>{left}</pre></td><td><pre>{right}</pre></td></tr></table>"
        )
    return "\n".join([*parts, "</body></html>\n"])
