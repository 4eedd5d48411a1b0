"""Screenshots of what people see, taken in Debian's Chromium (playwright, as tests/test_review_browser.py):
the HTML report, the class page, the review app and a notebook check (the HTML of ``check()``).

Written to docs/screenshots/ so that a change in how the pages look shows up in review. The reference
is graded at the tiny 'smoke' budget, the hand-out template beside it: a class of two.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "docs" / "screenshots"


def _need(condition: bool, reason: str) -> None:
    if not condition:
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI must run the browser tests)")
        pytest.skip(reason)


try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - the test extra installs it
    sync_playwright = None
_need(sync_playwright is not None, "playwright is not installed (pip install -e '.[test]')")
pytest.importorskip("uvicorn", reason="grader review needs the review extra")


def _class(out: Path):
    """OUT of a batch of two: the reference and the untouched hand-out, graded at the smoke budget."""
    from grader.batch.gradebook import rebuild
    from grader.grading import GradeOptions, grade
    from grader.report.writer import Layout, write_report

    reports = {}
    for student, path in (
        ("reference", ROOT / "reference" / "autoencoders.py"),
        ("template", ROOT / "student_template" / "autoencoders.py"),
    ):
        report = grade(path, "autoencoders", GradeOptions(budget="smoke"))
        report.student = student
        write_report(report, Layout(out, batch=True), student, ("md", "html", "json"))
        reports[student] = report
    rebuild(out)
    return reports


def test_screenshots_of_the_report_the_class_page_the_review_and_a_notebook_check(tmp_path: Path) -> None:
    import uvicorn

    from grader.notebook_check import CheckResult
    from grader.review.server import prepare
    from grader.selfcheck_service import _figures, public_result

    _need(CHROMIUM.exists(), f"{CHROMIUM} is missing (apt-get install chromium)")
    out = tmp_path / "out"
    reports = _class(out)
    check = CheckResult.from_dict(
        public_result(reports["reference"], _figures(reports["reference"]), 1.0), ()
    )
    notebook = tmp_path / "check.html"
    notebook.write_text(f"<!doctype html><meta charset='utf-8'><body>{check._repr_html_()}</body>", "utf-8")

    prepared = prepare(out, token="shots")
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(prepared.app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    SHOTS.mkdir(parents=True, exist_ok=True)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox", "--disable-gpu"]
            )
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            shots = {
                "report.png": (out / "reports" / "reference.html").as_uri(),
                "class_page.png": (out / "index.html").as_uri(),
                "notebook_check.png": notebook.as_uri(),
                "review_2b.png": f"{url}/t/shots/q/2b",  # the review serves under its token (no cookie)
            }
            for name, address in shots.items():
                page.goto(address)
                page.wait_for_load_state("networkidle")
                page.screenshot(path=str(SHOTS / name), full_page=name != "review_2b.png")
                assert (SHOTS / name).stat().st_size > 10_000, name
            # what the screenshots are meant to show
            page.goto((out / "index.html").as_uri())
            assert page.locator('a[href="reports/reference.html"]').count() == 1
            page.goto(f"{url}/t/shots/q/2b")
            assert page.locator('section.card img[alt="latent_space"]').count() >= 1
            browser.close()
    finally:
        server.should_exit = True
        thread.join(timeout=10)
