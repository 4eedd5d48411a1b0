"""The report: the single source of truth, serialised as JSON (docs/architecture.md, principle 6)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

STATUSES = ("passed", "partial", "failed", "error", "timeout", "manual", "skipped")


@dataclass
class ItemResult:
    id: str
    exercise: str
    title: str
    score: float
    max_score: float
    status: str
    feedback: str
    visibility: str
    seconds: float = 0.0
    output: str = ""
    kind: str = "auto"
    metrics: dict[str, Any] = field(default_factory=dict)
    figures: list[str] = field(default_factory=list)
    check: str = ""
    probes: list[str] = field(default_factory=list)
    answer: str | None = None  # manual items: the student's written answer
    comment: str = ""  # manual items: the instructor's comment after merge-manual
    criteria: list[str] = field(default_factory=list)  # manual items: the rubric criteria ticked in review

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown status {self.status}")


@dataclass
class Report:
    assignment: str
    submission: str
    submission_sha256: str
    score: float
    max_score: float
    auto_score: float
    auto_max: float
    manual_pending: float
    grader_version: str
    rubric_sha256: str
    budget: dict[str, Any]
    data: dict[str, Any]
    seed: int
    seconds: float
    items: list[ItemResult]
    status: str = "graded"  # graded | error | timeout | wrong-assignment
    keras: str = ""
    isolation: str = ""  # the worker's isolation in force, e.g. landlock-abi7+netns (isolation.label)
    worker: str = ""  # forked (from the zygote) or fresh: grader/sandbox/zygote.py
    load_error: str = ""
    wrong_assignment: str = ""  # "this looks like a `sheet10` submission ...": see grader/assignment_match.py
    load_errors: list[dict[str, Any]] = field(default_factory=list)
    integrity: list[dict[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    stages: dict[str, Any] = field(default_factory=dict)
    figures: dict[str, str] = field(default_factory=dict)
    trained_figures: dict[str, str] = field(default_factory=dict)  # figure -> the stage whose model it shows
    debug: dict[str, Any] = field(default_factory=dict)
    student: str = ""
    # In memory only, never serialised: the probes' raw data and the expected values the report
    # writer draws the figures from (grader.report.figures). None for a report read from JSON.
    raw: dict[str, Any] | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: every field but ``raw``."""
        data = asdict(replace(self, raw=None))  # raw is left out, not deep-copied
        del data["raw"]
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, allow_nan=False, default=_json_default)

    @staticmethod
    def from_dict(raw: dict[str, Any]) -> Report:
        known = {f.name for f in fields(Report)} - {"raw"}
        values = {key: value for key, value in raw.items() if key in known}
        item_fields = {f.name for f in fields(ItemResult)}
        values["items"] = [
            ItemResult(**{k: v for k, v in item.items() if k in item_fields}) for item in raw["items"]
        ]
        return Report(**values)

    def item(self, item_id: str) -> ItemResult:
        for item in self.items:
            if item.id == item_id:
                return item
        raise KeyError(item_id)

    def recompute_totals(self) -> None:
        """Totals from the items (after grading, or after merging manual scores)."""
        auto = [i for i in self.items if i.kind == "auto"]
        manual = [i for i in self.items if i.kind == "manual"]
        self.auto_score = round(sum(i.score for i in auto), 4)
        self.auto_max = round(sum(i.max_score for i in auto), 4)
        self.manual_pending = round(sum(i.max_score for i in manual if i.status == "manual"), 4)
        self.score = round(sum(i.score for i in self.items), 4)
        self.max_score = round(sum(i.max_score for i in self.items), 4)


def _json_default(value: Any) -> Any:
    try:
        import numpy as np

        if isinstance(value, np.generic):
            return value.item()
    except ImportError:  # pragma: no cover
        pass
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
