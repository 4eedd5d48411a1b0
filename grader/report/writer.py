"""Write a report's files, each atomically (:mod:`grader.fileio`): a crash never leaves half a file."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from grader.fileio import write_atomic
from grader.report import figures, render
from grader.report.model import Report

FORMATS = ("json", "md", "html", "gradescope")


@dataclass(frozen=True)
class Layout:
    """Where each format goes.

    ``single``: OUT/<stem>.*; ``batch``: OUT/reports/<stem>.* and OUT/gradescope/<stem>/.
    """

    out: Path
    batch: bool = False

    def path(self, stem: str, fmt: str) -> Path:
        if fmt == "gradescope":
            return (
                self.out / "gradescope" / stem / "results.json" if self.batch else self.out / "results.json"
            )
        folder = self.out / "reports" if self.batch else self.out
        return folder / f"{stem}.{fmt}"

    def figures(self, stem: str) -> tuple[Path, str]:
        folder = self.out / "reports" if self.batch else self.out
        return folder / "figures" / stem, f"figures/{stem}"


def write_report(
    report: Report,
    layout: Layout,
    stem: str,
    formats: Iterable[str] = ("json", "md"),
    draw_figures: bool = True,
) -> dict[str, Path]:
    """Draw the figures (from ``report.raw``, unless ``draw_figures`` is false), then each format; JSON last.

    The JSON report is written last so that its presence means every other file is complete
    (``grader batch --resume`` relies on it).
    """
    formats = list(formats)
    unknown = [fmt for fmt in formats if fmt not in FORMATS]
    if unknown:
        raise ValueError(f"unknown format {unknown[0]} (choose from {', '.join(FORMATS)})")
    if draw_figures and report.raw is not None and any(fmt in formats for fmt in ("md", "html")):
        directory, prefix = layout.figures(stem)
        shutil.rmtree(directory, ignore_errors=True)  # a figure of the last grading must not stay behind
        figures.attach(report, figures.render(report.raw, directory, prefix))
    written = {}
    renderers = {"md": render.markdown, "html": render.html_page, "gradescope": render.gradescope_json}
    for fmt in formats:
        if fmt == "json":
            continue
        path = layout.path(stem, fmt)
        write_atomic(path, renderers[fmt](report))
        written[fmt] = path
    if "json" in formats:
        path = layout.path(stem, "json")
        write_atomic(path, report.to_json() + "\n")
        written["json"] = path
    return written


def read_report(path: Path) -> Report:
    return Report.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
