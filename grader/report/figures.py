"""Pictures for the report: the student's models as the grader trained them, and their plots.

Drawn in the trusted parent from raw arrays (reconstructions, latent codes, decoded
grids), so a student sees their own model even when their plotting functions fail. The
pictures of trained models are the stages' declared figures (``StageFigure``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from grader.assignments.registry import declared_stages
from grader.stages import Stages

# A probe that called a plotting function returns the student's figure as a PNG under this key
# (``figure_probe`` in grader/probes/common.py); it is shown with the items that check it.
PNG = "png"


def plot_probes(probes: Mapping[str, Any]) -> list[str]:
    """The probes that returned a student's figure, in the order they ran."""
    return [
        name
        for name, result in probes.items()
        if result is not None and result.ok and result.arrays.get(PNG) is not None and result.arrays[PNG].size
    ]


def render(
    raw: Mapping[str, Any], directory: Path, prefix: str, stages: Stages | None = None
) -> dict[str, str]:
    """Write PNGs into ``directory``; returns name -> path relative to the report."""
    import matplotlib

    stages = raw.get("stages") or declared_stages() if stages is None else stages
    matplotlib.use("Agg")
    directory.mkdir(parents=True, exist_ok=True)
    probes, expected = raw["probes"], raw["expected"]
    written: dict[str, str] = {}

    def save(name: str, figure: Any) -> None:
        import matplotlib.pyplot as plt

        figure.savefig(directory / f"{name}.png", dpi=80, bbox_inches="tight")
        plt.close(figure)
        written[name] = f"{prefix}/{name}.png"

    for probe in plot_probes(probes):
        file = probe.replace(":", "-")  # plot:<function>: no colon in a file name (zips, Windows)
        (directory / f"{file}.png").write_bytes(probes[probe].arrays[PNG].tobytes())
        written[probe] = f"{prefix}/{file}.png"
    for figure in stages.figures():
        result = probes.get(figure.probe)
        if result is not None and result.ok:
            drawn = figure.draw(result.data, result.arrays, expected)
            if drawn is not None:
                save(figure.name, drawn)
    return written


def attach(report: Any, written: Mapping[str, str], stages: Stages | None = None) -> None:
    """Record figures on the report and on the items they illustrate."""
    raw = getattr(report, "raw", None) or {}
    shown = (raw.get("stages") or declared_stages() if stages is None else stages).figures_by_check()
    report.figures = dict(written)
    plots = set(plot_probes(report.raw["probes"])) if getattr(report, "raw", None) else set()
    for item in report.items:
        names = shown.get(item.check, ()) + tuple(p for p in item.probes if p in plots)
        item.figures = [written[name] for name in names if name in written]


def caption(name: str, report: Any, whose: str = "your", stages: Stages | None = None) -> str:
    """What a figure shows, in words: the student's model after the grader's short training (its
    epochs: blurry pictures are expected at that budget), or the student's plotting function drawn on
    the grader's data. ``name`` is the figure's name (a report's ``figures`` key, its file's stem)."""
    stages = declared_stages() if stages is None else stages
    title = name.replace("_", " ")
    shows = {f.name: stage.name for stage in stages for f in stage.figures}
    shows |= getattr(report, "trained_figures", None) or {}  # a rubric's data stages (JSON reports too)
    if name in shows:
        budget = getattr(report, "budget", {}) or {}
        epochs = budget.get("epochs", {}).get(shows[name])
        trained = f" ({epochs} epoch{'s' if epochs != 1 else ''})" if epochs else ""
        return (
            f"{title}: {whose} model after the grader's short training{trained}, not {whose} own run "
            "(rougher than after a full training)"
        )
    return f"{title}: {whose} plotting function, drawn on the grader's data"


def name_of(path: str) -> str:
    """A figure's name from its path in the report (figures/<student>/<name>.png)."""
    return Path(path).stem
