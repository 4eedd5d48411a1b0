"""A batch output folder for grader review, written like the batch writes it, without grading anything.

Reports of the ``autoencoders`` rubric's items (automatic ones passed, written answers pending),
the grader's figures, one student's notebook with its own plot right before its answer 2b, and
one hostile answer. Used by tests/test_review.py, tests/test_review_browser.py and
benchmarks/review_page.py.
"""

from __future__ import annotations

import base64
import hashlib
import json
import struct
import zlib
from pathlib import Path

from grader.batch.gradebook import rebuild
from grader.report.model import ItemResult, Report
from grader.report.writer import Layout, write_report
from grader.rubric import load_rubric

HOSTILE = (
    '<script>window.__pwned = 1</script></textarea><img src=x onerror="window.__pwned=2">'
    '{{ 7 * 7 }} <a href="javascript:window.__pwned=3">click</a>'
)
ANSWERS_2B = {
    "alice": "0 and 1 form clear clusters; 4 and 9 overlap because they look alike.",
    "bob": "Zeros and ones are separated clearly, while 4 and 9 overlap since their shapes look alike.",
    "carol": "",
    "dave": HOSTILE,
    "erin": "write your answer here",
}
FORMATS = ["json", "md", "html", "gradescope"]


def png(width: int = 4, height: int = 3, shade: int = 128) -> bytes:
    """A tiny grey PNG (no imaging library needed)."""
    raw = b"".join(b"\x00" + bytes([shade]) * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def notebook(answer: str) -> dict:
    """A notebook whose latent plot (a PNG output) comes right before its answer 2b, then an HTML output."""
    image = base64.b64encode(png(shade=30)).decode()
    return {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {},
        "cells": [
            {
                "cell_type": "code",
                "metadata": {},
                "execution_count": 1,
                "source": "plot_latent(z, y)",
                "outputs": [
                    {
                        "output_type": "display_data",
                        "metadata": {},
                        "data": {"image/png": image, "text/plain": "<Figure>"},
                    }
                ],
            },
            {"cell_type": "markdown", "metadata": {}, "source": f"### Answer 2b\n{answer}"},
            {
                "cell_type": "code",
                "metadata": {},
                "execution_count": 2,
                "source": "show()",
                "outputs": [
                    {
                        "output_type": "display_data",
                        "metadata": {},
                        "data": {"text/html": "<script>window.__pwned=4</script>"},
                    }
                ],
            },
            {"cell_type": "markdown", "metadata": {}, "source": "### Answer 2c\nReLU clips at zero."},
        ],
    }


def make_report(student: str, submission: Path, answers: dict[str, str]) -> Report:
    rubric = load_rubric("autoencoders")
    items = []
    for item in rubric.items:
        if item.is_manual:
            key = item.exercise
            items.append(
                ItemResult(
                    item.id,
                    item.exercise,
                    item.title,
                    0.0,
                    item.points,
                    "manual",
                    "graded by your instructor.",
                    item.visibility,
                    kind="manual",
                    answer=answers.get(key, f"{student}'s answer to {key}"),
                )
            )
        else:
            items.append(
                ItemResult(
                    item.id,
                    item.exercise,
                    item.title,
                    item.points,
                    item.points,
                    "passed",
                    "ok",
                    item.visibility,
                    check=item.check,
                )
            )
    report = Report(
        assignment="autoencoders",
        submission=str(submission),
        submission_sha256=hashlib.sha256(submission.read_bytes()).hexdigest(),
        score=0,
        max_score=0,
        auto_score=0,
        auto_max=0,
        manual_pending=0,
        grader_version="0.1.0",
        rubric_sha256=rubric.sha256,
        budget={"name": "smoke"},
        data={"name": "default", "fingerprint": "f"},
        seed=0,
        seconds=1.0,
        items=items,
        student=student,
    )
    report.recompute_totals()
    return report


def make_class(root: Path, answers_2b: dict[str, str] | None = None, notebooks: bool = True) -> Path:
    """``root/out``: a batch output folder of one report per student (json, md, html, Gradescope)."""
    answers_2b = ANSWERS_2B if answers_2b is None else answers_2b
    out, submissions = root / "out", root / "submissions"
    submissions.mkdir(parents=True, exist_ok=True)
    layout = Layout(out, batch=True)
    for number, (student, answer) in enumerate(sorted(answers_2b.items())):
        if notebooks and number == 0:
            path = submissions / f"{student}.ipynb"
            path.write_text(json.dumps(notebook(answer)), encoding="utf-8")
        else:
            path = submissions / f"{student}.py"
            path.write_text(f"ANSWERS = {{'2b': {answer!r}}}\n", encoding="utf-8")
        report = make_report(student, path, {"2b": answer})
        figures = out / "reports" / "figures" / student
        figures.mkdir(parents=True, exist_ok=True)
        # plot_latent draws the grader's codes (the same for everyone); latent_space is the student's own
        # encoder as the grader trained it (different for every student)
        (figures / "plot_latent.png").write_bytes(png(shade=200))
        (figures / "latent_space.png").write_bytes(png(width=4 + number, shade=40 + 30 * number))
        report.item("2a-scatter").figures = [f"figures/{student}/plot_latent.png"]
        report.item("1-training").figures = [f"figures/{student}/latent_space.png"]
        report.figures = {
            "plot_latent": f"figures/{student}/plot_latent.png",
            "latent_space": f"figures/{student}/latent_space.png",
        }
        write_report(report, layout, student, FORMATS, draw_figures=False)
    rebuild(out)
    return out
