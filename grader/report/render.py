"""Markdown, HTML, Gradescope ``results.json`` and the terminal table, all from a Report."""

from __future__ import annotations

import json
from typing import Any

from grader.report.model import ItemResult, Report

GRADESCOPE_VISIBILITY = {"public": "visible", "hidden": "after_published"}
SYMBOLS = {"passed": "ok", "partial": "~", "failed": "x", "error": "!", "timeout": "T", "manual": "m", "skipped": "-"}


def headline(report: Report) -> str:
    text = f"{report.score:g} / {report.max_score:g} points (automatic {report.auto_score:g} / {report.auto_max:g}"
    if report.manual_pending:
        text += f"; {report.manual_pending:g} to be graded by the instructor"
    return text + ")"


def setup_line(report: Report) -> str:
    budget = report.budget
    return (
        f"grader {report.grader_version}, budget '{budget.get('name')}' (seed {report.seed}), "
        f"data '{report.data.get('name')}', Keras {report.keras or '-'}, {report.seconds:.1f} s"
    )


def markdown(report: Report, show_hidden: bool = True) -> str:
    items = [i for i in report.items if show_hidden or i.visibility == "public"]
    lines = [
        f"# {report.assignment}: {report.student or report.submission}",
        "",
        f"**{headline(report)}**",
        "",
        f"Submission `{report.submission}` graded with {setup_line(report)}.",
    ]
    if report.load_error:
        lines += ["", f"> **Your submission could not be graded:** {report.load_error}"]
    for warning in report.warnings:
        lines += ["", f"> Note: {warning.splitlines()[0]}"]
    lines += ["", "| Item | Exercise | Score | Status |", "|---|---|---|---|"]
    for item in items:
        lines.append(f"| {item.id}: {item.title} | {item.exercise} | {item.score:g} / {item.max_score:g} | {item.status} |")
    lines += ["", "## Feedback", ""]
    for item in items:
        if item.kind == "manual":
            continue
        lines += [f"### {item.id} ({item.score:g} / {item.max_score:g}, {item.status})", "", item.feedback, ""]
        for figure in item.figures:
            lines += [f"![{item.id}]({figure})", ""]
        if item.output.strip():
            lines += ["Your code printed:", "", "```", item.output.strip()[:4000], "```", ""]
    figures = [(name, path) for name, path in report.figures.items() if not any(path in i.figures for i in items)]
    if figures:
        lines += ["## Pictures of your models (trained by the grader)", ""]
        for name, path in figures:
            lines += [f"**{name.replace('_', ' ')}**", "", f"![{name}]({path})", ""]
    manual = [i for i in items if i.kind == "manual" and i.id != "integrity"]
    if manual:
        lines += ["## Written answers (graded by the instructor)", ""]
        for item in manual:
            score = f"{item.score:g} / {item.max_score:g}" if item.status != "manual" else f"pending / {item.max_score:g}"
            lines += [f"### {item.exercise}: {item.title} ({score})", ""]
            lines += ["> " + line for line in (item.answer or "(no answer)").splitlines()] + [""]
            if item.comment:
                lines += [f"Instructor: {item.comment}", ""]
    if show_hidden and (report.integrity or report.stages):
        lines += ["## For the instructor", ""]
        for flag in report.integrity:
            lines.append(f"- integrity: {flag['where']}: {flag['message']}")
        for stage, record in report.stages.items():
            attempts = record.get("attempts", [])
            if len(attempts) > 1:
                lines.append(f"- {stage}: trained {len(attempts)} times, kept seed {record.get('selected_seed')}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def gradescope(report: Report) -> dict[str, Any]:
    """Gradescope's results.json: automatic items as tests, and manual items once merge-manual scored them."""
    tests = []
    scored = [i for i in report.items if i.kind == "auto" or (i.status != "manual" and i.id != "integrity")]
    for number, item in enumerate(scored, start=1):
        output = item.feedback + (f"\n\nYour code printed:\n{item.output[:4000]}" if item.output.strip() else "")
        tests.append(
            {
                "name": f"{item.id}: {item.title}",
                "number": f"{item.exercise}.{number}",
                "score": item.score,
                "max_score": item.max_score,
                "status": "passed" if item.status == "passed" else "failed",
                "output": output,
                "visibility": GRADESCOPE_VISIBILITY.get(item.visibility, "visible"),
            }
        )
    pending = [i.exercise for i in report.items if i.kind == "manual" and i.status == "manual" and i.max_score]
    summary = headline(report) + "." + (f" Written answers to grade by hand: {', '.join(pending)}." if pending else "")
    if report.load_error:
        summary += f" Your submission could not be graded: {report.load_error}"
    return {
        "score": report.score,  # the automatic score until manual scores are merged
        "execution_time": round(report.seconds, 1),
        "output": summary,
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def gradescope_json(report: Report) -> str:
    return json.dumps(gradescope(report), indent=2)


def table(report: Report, items: list[ItemResult] | None = None, width: int = 100) -> str:
    """The score table printed by ``grader grade``."""
    rows = items if items is not None else report.items
    lines = [f"{'item':<24} {'score':>11}  {'status':<8} feedback", "-" * width]
    for item in rows:
        score = f"{item.score:g}/{item.max_score:g}"
        first = item.feedback.splitlines()[0] if item.feedback else ""
        room = max(20, width - 48)
        lines.append(f"{item.id:<24} {score:>11}  {item.status:<8} {first[:room] + ('...' if len(first) > room else '')}")
    lines += ["-" * width, f"{report.assignment}: {headline(report)}", setup_line(report)]
    return "\n".join(lines)


HTML_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ report.assignment }}: {{ report.student }}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.3rem .5rem;text-align:left}
.passed{color:#1a7f37}.failed,.error,.timeout{color:#cf222e}.partial{color:#9a6700}.manual,.skipped{color:#57606a}
pre{background:#f6f8fa;padding:.5rem;overflow:auto}img{max-width:100%;border:1px solid #eee}
blockquote{border-left:4px solid #ddd;margin:0;padding-left:1rem;color:#444}
</style></head><body>
<h1>{{ report.assignment }}: {{ report.student }}</h1>
<p><strong>{{ headline }}</strong></p><p>{{ setup }}</p>
{% if report.load_error %}<p class="error"><strong>Your submission could not be graded:</strong> {{ report.load_error }}</p>{% endif %}
{% for warning in report.warnings %}<p><em>Note: {{ warning.splitlines()[0] }}</em></p>{% endfor %}
<table><tr><th>Item</th><th>Exercise</th><th>Score</th><th>Status</th></tr>
{% for item in report.items %}<tr><td>{{ item.id }}: {{ item.title }}</td><td>{{ item.exercise }}</td>
<td>{{ "%g"|format(item.score) }} / {{ "%g"|format(item.max_score) }}</td><td class="{{ item.status }}">{{ item.status }}</td></tr>
{% endfor %}</table>
<h2>Feedback</h2>
{% for item in report.items if item.kind == "auto" %}
<h3 class="{{ item.status }}">{{ item.id }} ({{ "%g"|format(item.score) }} / {{ "%g"|format(item.max_score) }}, {{ item.status }})</h3>
<pre>{{ item.feedback }}</pre>
{% for figure in item.figures %}<img src="{{ figure }}" alt="{{ item.id }}">{% endfor %}
{% if item.output.strip() %}<details><summary>Your code printed</summary><pre>{{ item.output[:4000] }}</pre></details>{% endif %}
{% endfor %}
{% if loose_figures %}<h2>Pictures of your models (trained by the grader)</h2>
{% for name, path in loose_figures %}<h3>{{ name.replace("_", " ") }}</h3><img src="{{ path }}" alt="{{ name }}">{% endfor %}{% endif %}
<h2>Written answers (graded by the instructor)</h2>
{% for item in report.items if item.kind == "manual" and item.id != "integrity" %}
<h3>{{ item.exercise }}: {{ item.title }}</h3><blockquote>{{ item.answer or "(no answer)" }}</blockquote>
{% if item.comment %}<p>Instructor: {{ item.comment }}</p>{% endif %}
{% endfor %}
</body></html>
"""


def html_page(report: Report) -> str:
    from jinja2 import Environment

    environment = Environment(autoescape=True)
    template = environment.from_string(HTML_TEMPLATE)
    loose = [(n, p) for n, p in report.figures.items() if not any(p in i.figures for i in report.items)]
    return template.render(report=report, headline=headline(report), setup=setup_line(report), loose_figures=loose)

