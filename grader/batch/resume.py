"""``--resume``: which finished reports are kept, and which instructor scores a regrade carries over."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.batch.discovery import Entry
from grader.report.model import Report


@dataclass(frozen=True)
class GradingKey:
    """What a finished report must match to be kept by ``--resume``."""

    rubric_sha256: str
    grader_version: str
    budget: dict[str, Any]
    data_fingerprint: str
    all_cells: bool = False

    def why_regrade(self, report: Report | None, submission_sha256: str) -> str:
        """Why ``report`` is not up to date; "" when it is."""
        if report is None:
            return "not graded yet"
        checks = [
            (report.submission_sha256 != submission_sha256, "the submission changed"),
            (report.rubric_sha256 != self.rubric_sha256, "the rubric changed"),
            (
                report.grader_version != self.grader_version,
                f"the grader changed ({report.grader_version} -> {self.grader_version})",
            ),
            (report.budget != self.budget, "the budget changed"),
            (report.data.get("fingerprint") != self.data_fingerprint, "the data changed"),
            (bool(report.debug.get("all_cells")) != self.all_cells, "--all-cells changed"),
            (bool(report.debug.get("internal_error")), "the grader failed on it last time"),
        ]
        return next((reason for failed, reason in checks if failed), "")


def file_sha256(path: Path | None) -> str:
    if path is None:
        return ""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return ""


def plan(
    entries: list[Entry], existing: dict[str, Report | None], key: GradingKey, echo: Callable[[str], None]
) -> list[Entry]:
    """The entries to grade: those without an up-to-date report (each decision is echoed)."""
    todo = []
    for entry in entries:
        report = existing.get(entry.student)
        reason = key.why_regrade(report, file_sha256(entry.path))
        if report is not None and not reason and entry.problem and report.load_error != entry.problem:
            reason = "its folder changed"  # e.g. a second notebook appeared beside the first
        if report is not None and not reason:
            echo(f"{entry.student}: skipped (already graded: same submission, rubric and grader version)")
        else:
            if report is not None:
                echo(f"{entry.student}: regrading ({reason})")
            todo.append(entry)
    return todo


def scores_to_carry(previous: Report | None, source: bytes) -> dict[str, dict[str, Any]]:
    """The instructor's scores in ``previous`` when the submission is unchanged (new rubric or grader)."""
    if previous is None or not source or previous.submission_sha256 != hashlib.sha256(source).hexdigest():
        return {}
    return {
        i.id: {
            "score": i.score,
            "status": i.status,
            "comment": i.comment,
            "criteria": list(i.criteria),
            "max_score": i.max_score,
        }
        for i in previous.items
        if i.kind == "manual" and i.status != "manual"
    }


def carry_scores(report: Report, carry: dict[str, dict[str, Any]]) -> None:
    """Put carried instructor scores back on the manual items whose points are unchanged."""
    for item in report.items:
        kept = carry.get(item.id)
        if item.kind == "manual" and kept and kept["max_score"] == item.max_score:
            item.score, item.status, item.comment = kept["score"], kept["status"], kept["comment"]
            item.criteria = list(kept.get("criteria", []))
    report.recompute_totals()
