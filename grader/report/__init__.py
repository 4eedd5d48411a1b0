"""Reports: the JSON report is the source of truth; Markdown, HTML and Gradescope are rendered from it."""

from grader.report.model import STATUSES, ItemResult, Report

__all__ = ["STATUSES", "ItemResult", "Report"]
