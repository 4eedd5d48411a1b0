"""Markdown, HTML, Gradescope ``results.json`` and the terminal table, all from a Report.

Student text is never Markdown: every text that can hold a student's words (ids, file names,
feedback quoting their values or exceptions, printed output, written answers) goes through
:mod:`grader.text_safety`, and the terminal table escapes control characters.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from grader.report.model import ItemResult, Report
from grader.report.output import student_output
from grader.text_safety import code_block, code_span, escape_controls, markdown_text, one_line

DROPPED_SHOWN = 5  # top-level statements the loader dropped, listed in the Markdown report
GRADESCOPE_VISIBILITY = {"public": "visible", "hidden": "after_published"}
SYMBOLS = {
    "passed": "ok",
    "partial": "~",
    "failed": "x",
    "error": "!",
    "timeout": "T",
    "manual": "m",
    "skipped": "-",
}


def headline(report: Report) -> str:
    text = f"{report.score:g} / {report.max_score:g} points "
    text += f"(automatic {report.auto_score:g} / {report.auto_max:g}"
    if report.manual_pending:
        text += f"; {report.manual_pending:g} to be graded by the instructor"
    return text + ")"


def setup_line(report: Report) -> str:
    budget = report.budget
    return (
        f"grader {report.grader_version}, budget '{budget.get('name')}' (seed {report.seed}), "
        f"data '{report.data.get('name')}', Keras {report.keras or '-'}, "
        f"isolation {report.isolation or '-'}{_worker(report)}, {report.seconds:.1f} s"
    )


def _worker(report: Report) -> str:
    return f" ({report.worker} worker)" if report.worker else ""


def title(report: Report) -> str:
    """The report's title: whose it is (the student, else the file's name) and the assignment."""
    who = report.student if report.student and report.student != Path(report.submission).stem else ""
    return f"{report.assignment} report: {who or Path(report.submission).name or report.submission}"


def figure_lines(item: ItemResult, report: Report) -> list[str]:
    """Each of an item's figures with what it shows (grader.report.figures.caption)."""
    from grader.report.figures import caption, name_of

    lines = []
    for figure in item.figures:
        lines += [f"![{item.id}]({figure})", "", f"*{caption(name_of(figure), report)}*", ""]
    return lines


def _caption(name: str, report: Report) -> str:
    from grader.report.figures import caption

    return caption(name, report)


def markdown(report: Report, show_hidden: bool = True) -> str:
    items = [i for i in report.items if show_hidden or i.visibility == "public"]
    lines = [
        f"# {markdown_text(title(report))}",
        "",
        f"**{headline(report)}**",
        "",
        f"Submission {code_span(report.submission)} graded with {markdown_text(setup_line(report))}.",
    ]
    if report.load_error:
        lines += ["", f"> **Your submission could not be graded:** {_quoted(report.load_error)}"]
    if report.wrong_assignment:
        lines += ["", f"> **Wrong assignment?** {_quoted(report.wrong_assignment)}"]
    for warning in report.warnings:
        lines += ["", f"> Note: {markdown_text(one_line(warning))}"]
    lines += ["", "| Item | Exercise | Score | Status |", "|---|---|---|---|"]
    for item in items:
        lines.append(
            f"| {item.id}: {item.title} | {item.exercise} | {item.score:g} / {item.max_score:g} | "
            f"{item.status} |"
        )
    lines += ["", "## Feedback", ""]
    for item in items:
        if item.kind == "manual":
            continue
        lines += [
            f"### {item.id} ({item.score:g} / {item.max_score:g}, {item.status})",
            "",
            markdown_text(item.feedback),
            "",
        ]
        lines += figure_lines(item, report)
        printed = student_output(item.output).strip()
        if printed:
            lines += ["Your code printed:", "", *code_block(printed[:4000]), ""]
    figures = [
        (name, path) for name, path in report.figures.items() if not any(path in i.figures for i in items)
    ]
    if figures:
        lines += ["## Pictures of your models (trained by the grader)", ""]
        for name, path in figures:
            lines += [f"**{name.replace('_', ' ')}**", "", f"![{name}]({path})", ""]
            lines += [f"*{_caption(name, report)}*", ""]
    manual = [i for i in items if i.kind == "manual" and i.id != "integrity"]
    if manual:
        lines += ["## Written answers (graded by the instructor)", ""]
        for item in manual:
            score = (
                f"{item.score:g} / {item.max_score:g}"
                if item.status != "manual"
                else f"pending / {item.max_score:g}"
            )
            lines += [f"### {item.exercise}: {item.title} ({score})", ""]
            answer = markdown_text(item.answer or "(no answer)")
            lines += ["> " + line for line in answer.splitlines()] + [""]
            lines += [f"- met: {criterion}" for criterion in item.criteria] + ([""] if item.criteria else [])
            if item.comment:
                lines += [f"Instructor: {item.comment}", ""]
    dropped = report.debug.get("dropped", [])
    if show_hidden and (report.integrity or report.stages or dropped):
        lines += ["## For the instructor", ""]
        for flag in report.integrity:
            lines.append(
                f"- integrity: {markdown_text(flag['where'])}: {markdown_text(one_line(flag['message']))}"
            )
        if dropped:  # the loading rule drops these (grader/loading_rule.py); --all-cells runs them
            shown = "; ".join(_dropped_text(d) for d in dropped[:DROPPED_SHOWN])
            more = f" and {len(dropped) - DROPPED_SHOWN} more" if len(dropped) > DROPPED_SHOWN else ""
            lines.append(f"- not run (the loading rule; --all-cells runs them): {shown}{more}")
        for stage, record in report.stages.items():
            attempts = record.get("attempts", [])
            if len(attempts) > 1:
                lines.append(
                    f"- {stage}: trained {len(attempts)} times, kept seed {record.get('selected_seed')}"
                )
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _quoted(text: str) -> str:
    """Text inside a ``> `` quote: every line of it stays in the quote."""
    return "\n> ".join(markdown_text(text).splitlines())


def gradescope(report: Report) -> dict[str, Any]:
    """Gradescope's results.json: automatic items as tests, and manual items once merge-manual scored them."""
    tests = []
    scored = [i for i in report.items if i.kind == "auto" or (i.status != "manual" and i.id != "integrity")]
    for number, item in enumerate(scored, start=1):
        printed = student_output(item.output).strip()
        output = item.feedback + (f"\n\nYour code printed:\n{printed[:4000]}" if printed else "")
        if item.kind == "manual":  # what the instructor ticked and wrote (grader review, merge-manual)
            output += "".join(f"\n- met: {c}" for c in item.criteria)
            output += f"\n\nInstructor: {item.comment}" if item.comment else ""
        tests.append(
            {
                "name": f"{item.id}: {item.title}",
                "number": f"{item.exercise}.{number}",
                "score": item.score,
                "max_score": item.max_score,
                "status": "passed" if item.status == "passed" else "failed",
                "output": escape_controls(output),
                "visibility": GRADESCOPE_VISIBILITY.get(item.visibility, "visible"),
            }
        )
    pending = [
        i.exercise for i in report.items if i.kind == "manual" and i.status == "manual" and i.max_score
    ]
    summary = (
        headline(report)
        + "."
        + (f" Written answers to grade by hand: {', '.join(pending)}." if pending else "")
    )
    if report.load_error:
        summary += f" Your submission could not be graded: {report.load_error}"
    if report.wrong_assignment:
        summary += f" Wrong assignment? {report.wrong_assignment}"
    return {
        "score": report.score,  # the automatic score until manual scores are merged
        "execution_time": round(report.seconds, 1),
        "output": escape_controls(summary),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def gradescope_json(report: Report) -> str:
    return json.dumps(gradescope(report), indent=2)


def table(report: Report, items: list[ItemResult] | None = None, width: int = 100) -> str:
    """The score table printed by ``grader grade``, ``width`` characters wide (the terminal's); the
    feedback column is cut to fit, and :func:`to_revisit` prints the whole of it for the items lost."""
    rows = items if items is not None else report.items
    lines = [f"{'item':<24} {'score':>11}  {'status':<8} feedback", "-" * width]
    room = max(20, width - 48)
    for item in rows:
        score = f"{item.score:g}/{item.max_score:g}"
        first = one_line(item.feedback)
        cut = first if len(first) <= room else first[: room - 3] + "..."
        lines.append(f"{item.id:<24} {score:>11}  {item.status:<8} {cut}")
    lines += ["-" * width, f"{report.assignment}: {headline(report)}", setup_line(report)]
    if report.wrong_assignment:
        lines.append(f"wrong assignment? {one_line(report.wrong_assignment)}")
    return "\n".join(lines)


def to_revisit(report: Report, items: list[ItemResult] | None = None) -> str:
    """The full feedback of every automatic item that lost points, below the table ('' when none did)."""
    rows = items if items is not None else report.items
    lost = [i for i in rows if i.kind == "auto" and i.score < i.max_score]
    if not lost:
        return ""
    lines = ["", "What lost points:"]
    for item in lost:
        lines.append(f"  {item.id} ({item.score:g}/{item.max_score:g}, {item.status}):")
        lines += [f"    {line}" for line in item.feedback.splitlines() or ["(no feedback)"]]
    return "\n".join(lines)


TEMPLATES = Path(__file__).resolve().parent / "templates"


def html_page(report: Report) -> str:
    from jinja2 import Environment, FileSystemLoader

    from grader.report.figures import caption, name_of

    environment = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True)
    environment.filters["printed"] = lambda text: student_output(text).strip()
    environment.filters["caption"] = lambda path: caption(name_of(path), report)
    template = environment.get_template("report.html.j2")
    loose = [(n, p) for n, p in report.figures.items() if not any(p in i.figures for i in report.items)]
    return template.render(
        report=report,
        title=title(report),
        headline=headline(report),
        setup=setup_line(report),
        loose_figures=loose,
    )


def _dropped_text(drop: dict[str, Any]) -> str:
    reason = f" ({markdown_text(drop['reason'])})" if drop.get("reason") else ""
    return f"{markdown_text(drop['where'])}: {code_span(drop['code'])}{reason}"
