"""grader review in a real headless browser: Debian's /usr/bin/chromium driven by PyPI's playwright.

Skipped with a reason when the browser or playwright is missing, except under CI (``CI`` set),
where they must be there: .ci/run installs chromium. Playwright never downloads a browser here.
"""

from __future__ import annotations

import csv
import io
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")


def _need(condition: bool, reason: str) -> None:
    if not condition:
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI must run the browser tests)")
        pytest.skip(reason)


try:
    from playwright.sync_api import Page, expect, sync_playwright
except ImportError:  # pragma: no cover - the test extra installs it
    sync_playwright = None
_need(sync_playwright is not None, "playwright is not installed (pip install -e '.[test]')")
pytest.importorskip("uvicorn", reason="grader review needs the review extra")

from review_fixtures import HOSTILE, make_class  # noqa: E402

from grader.report.writer import read_report  # noqa: E402
from grader.review.server import prepare  # noqa: E402

TOKEN = "browser-token"
P = f"/t/{TOKEN}"  # every path of the app starts with the token: the URL is the key, no cookie


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path, object]]:
    """A real uvicorn server on a free port of 127.0.0.1 (its origin, without the token's prefix), its
    reports written by the background thread."""
    import uvicorn

    out = make_class(tmp_path)
    prepared = prepare(out, token=TOKEN)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(prepared.app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    prepared.review.syncer.start()
    thread.start()
    while not server.started:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}", out, prepared.review
    server.should_exit = True
    thread.join(timeout=10)
    prepared.review.syncer.stop()


@pytest.fixture
def page() -> Iterator[Page]:
    _need(CHROMIUM.exists(), f"{CHROMIUM} is missing (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page()
        page.dialogs = []  # any alert() would be a submission's script running
        page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
        yield page
        browser.close()


def gradebook(out: Path) -> dict[str, dict[str, str]]:
    return {r["student"]: r for r in csv.DictReader(io.StringIO((out / "gradebook.csv").read_text()))}


def wait_for(condition, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def current_student(page: Page) -> str:
    return page.locator("section.card.current").get_attribute("data-student")


def test_without_the_token_nothing_is_served(server, page: Page) -> None:
    url, _, review = server
    assert page.goto(url + "/").status == 401
    assert page.goto(url + "/q/2b").status == 401
    assert "open the URL that grader review printed" in page.content()
    assert page.goto(url + "/?token=wrong").status == 403
    assert page.goto(url + "/t/wrong/q/2b").status == 403
    # the cookie the review used to set, as any server on another port of 127.0.0.1 would have had it
    port = url.rsplit(":", 1)[1]
    page.context.add_cookies([{"name": f"review_token_{port}", "value": TOKEN, "url": url}])
    assert page.goto(url + "/q/2b").status == 401
    body = {"student": "alice", "item": "2b", "points": 0.5}
    assert page.request.post(url + "/api/grade", data=body, headers={"X-Review-Token": TOKEN}).status == 401
    assert page.request.post(url + P + "/api/grade", data=body).status == 401  # the prefix alone
    assert review.store.grades() == {}


def test_each_card_of_2b_shows_that_students_own_latent_space(server, page: Page) -> None:
    """2b asks which digits cluster "in their plot": each card shows the latent space of the student's
    own encoder as the grader trained it, a different picture for two different students."""
    url, out, _ = server
    page.goto(f"{url}{P}/q/2b")
    page.wait_for_selector("section.card.current")
    shown = {}
    for student in ("alice", "bob"):
        figure = page.locator(f'section.card[data-student="{student}"] figure:has(img[alt="latent_space"])')
        caption = "latent space: their model after the grader's short training"
        expect(figure.locator("figcaption")).to_contain_text(caption)
        image = figure.locator("img")
        image.scroll_into_view_if_needed()
        expect(image).to_have_js_property("complete", True)
        assert image.evaluate("img => img.naturalWidth") > 0
        assert image.get_attribute("src").startswith(P + "/img/figure?")
        shown[student] = page.request.get(url + image.get_attribute("src")).body()
        own = out / "reports" / "figures" / student / "latent_space.png"
        assert shown[student] == own.read_bytes()
    assert shown["alice"] != shown["bob"]
    assert page.locator('section.card img[alt="plot_latent"]').count() == 0


def test_grade_a_question_for_three_students_with_the_keyboard(server, page: Page) -> None:
    url, out, review = server
    page.goto(f"{url}/?token={TOKEN}")  # the URL grader review printed before: an old bookmark
    assert page.url == f"{url}{P}/" and page.context.cookies() == []  # the same page, under the prefix
    page.click("a.question-link >> text=2b")
    page.wait_for_selector("section.card.current")
    assert page.text_content("#progress") == "0 / 5"

    keys = {}
    first = current_student(page)  # 3 keystrokes: tick criteria 1 and 2, save and go to the next ungraded
    for key in ("1", "2", "Enter"):
        page.keyboard.press(key)
    keys[first] = 3
    page.wait_for_selector(f'section.card.graded[data-student="{first}"]')
    second = current_student(page)  # 2 keystrokes: criterion 2 only, save
    page.keyboard.press("2")
    page.keyboard.press("Enter")
    keys[second] = 2
    page.wait_for_selector(f'section.card.graded[data-student="{second}"]')
    third = current_student(page)  # full marks with a comment: f, c, the text, Ctrl+Enter
    page.keyboard.press("f")
    page.keyboard.press("c")
    page.keyboard.type("See the overlap of 4 and 9 <b>in</b> your plot.")
    page.keyboard.press("Control+Enter")
    keys[third] = 4
    page.wait_for_selector(f'section.card.graded[data-student="{third}"]')
    assert page.text_content("#progress") == "3 / 5"
    assert len({first, second, third}) == 3

    wait_for(lambda: all(gradebook(out)[s]["2b"] != "" for s in (first, second, third)))
    book = gradebook(out)
    assert [book[s]["2b"] for s in (first, second, third)] == ["0.5", "0.25", "0.5"]
    report = read_report(out / "reports" / f"{third}.json").item("2b")
    assert report.comment == "See the overlap of 4 and 9 <b>in</b> your plot." and len(report.criteria) == 2
    html = (out / "reports" / f"{second}.html").read_text()
    assert "met: Explains the overlap" in html and "met: Names the digits" not in html
    # the saved comment is offered again, as text, one click away
    assert page.locator("#comment-list button.reuse").first.text_content() == report.comment
    print(f"\nkeystrokes per answer: {keys}")


def test_injected_html_is_shown_as_text_and_nothing_runs(server, page: Page) -> None:
    url, _, _ = server
    page.goto(f"{url}{P}/q/2b")
    page.wait_for_selector("section.card.current")
    assert page.text_content('section.card[data-student="dave"] pre.answer') == HOSTILE
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.locator("section.card img[src='x']").count() == 0
    assert page.locator("a[href^='javascript:']").count() == 0
    # the notebook's own plot (PNG) is shown beside alice's answer; its HTML output is not
    assert page.locator('section.card[data-student="alice"] img[src$="item=2b&n=0"]').count() == 1
    page.fill('section.card[data-student="dave"] textarea.comment', HOSTILE)
    page.fill('section.card[data-student="dave"] input.points', "0")
    page.click('section.card[data-student="dave"] button.save')
    page.wait_for_selector('section.card.graded[data-student="dave"]')
    page.reload()
    page.wait_for_selector("section.card.current")
    assert page.input_value('section.card[data-student="dave"] textarea.comment') == HOSTILE
    assert page.evaluate("typeof window.__pwned") == "undefined" and page.dialogs == []


def test_an_instructor_grades_every_written_answer_of_five_students(server, page: Page) -> None:
    url, out, review = server
    questions = list(review.classroom.questions)
    for item in questions:
        page.goto(f"{url}{P}/q/{item}")
        page.wait_for_selector("section.card.current")
        blank = page.locator("button.blank-zero")
        if blank.count():  # the empty answers: one click
            blank.click()
            page.wait_for_selector("section.card[data-group=blank].graded")
        while page.text_content("#progress") != "5 / 5":
            before = page.text_content("#progress")
            page.keyboard.press("f")
            page.keyboard.press("Enter")
            expect(page.locator("#progress")).not_to_have_text(before)  # (the CSP forbids eval'd waits)
    wait_for(lambda: all(row["manual_pending"] in ("", "0") for row in gradebook(out).values()))
    items = [q.id for q in review.classroom.reports["alice"].items if q.id != "integrity"]
    for student, row in gradebook(out).items():
        assert float(row["total"]) == pytest.approx(sum(float(row[i] or 0) for i in items)), student
    assert gradebook(out)["alice"]["total"] == "25.5" and gradebook(out)["carol"]["2b"] == "0"


def test_two_graders_in_two_browsers_lose_neither_s_work(server, page: Page) -> None:
    url, out, review = server
    other = page.context.browser.new_context().new_page()  # a second browser profile: its own grader name
    for tab, name in ((page, "ann"), (other, "ben")):
        tab.goto(f"{url}{P}/q/2b")
        tab.wait_for_selector("section.card.current")
        tab.fill("#grader-name", name)
        tab.press("#grader-name", "Tab")
    first = current_student(page)
    assert current_student(other) == first  # both loaded the page with the same first ungraded answer
    page.click("section.card.current")  # ann grades it
    page.keyboard.press("f")
    page.keyboard.press("Enter")
    page.wait_for_selector(f'section.card.graded[data-student="{first}"]')
    other.click("section.card.current")  # ben, from his stale page, grades the same answer: refused
    other.keyboard.press("0")
    other.keyboard.press("Enter")
    expect(other.locator("section.card.current .message")).to_contain_text("ann graded this answer meanwhile")
    other.keyboard.press("j")  # ben moves on and grades the next answer
    second = current_student(other)
    other.keyboard.press("0")
    other.keyboard.press("Enter")
    other.wait_for_selector(f'section.card.graded[data-student="{second}"]')
    page.keyboard.press("f")  # ann grades the next ungraded answer on her page meanwhile
    page.keyboard.press("Enter")
    stored = review.store.grades("2b")
    assert stored[first, "2b"].grader == "ann" and stored[first, "2b"].points == 0.5
    assert stored[second, "2b"].grader == "ben" and stored[second, "2b"].points == 0
    wait_for(lambda: gradebook(out)[first]["2b"] == "0.5" and gradebook(out)[second]["2b"] == "0")


def test_an_override_through_the_student_page(server, page: Page) -> None:
    url, out, review = server
    page.goto(f"{url}{P}/student?id=bob")
    row = page.locator('tr[data-item="2a-scatter"]')
    row.locator("input.override-points").fill("1.5")
    row.locator("button.override").click()
    expect(row.locator(".message")).to_have_text(
        "reason: say why the score changes (e.g. the regrade request)"
    )
    row.locator("input.override-reason").fill("regrade request: <b>legend</b> was there")
    row.locator("button.override").click()
    expect(row.locator(".message")).to_have_text("saved")
    wait_for(lambda: gradebook(out)["bob"]["2a-scatter"] == "1.5")
    page.reload()
    assert "regrade request: <b>legend</b> was there" in page.locator("table.log").text_content()
    feedback = read_report(out / "reports" / "bob.json").item("2a-scatter").feedback
    assert feedback.endswith("from 2 to 1.5 / 2: regrade request: <b>legend</b> was there")


def test_a_card_is_graded_after_opening_the_url_grader_review_prints(tmp_path: Path, page: Page) -> None:
    """The real command: its printed URL opens the review, every request the page makes carries the
    token's prefix (links, assets, the JS's POST), no cookie is set, and the grade reaches gradebook.csv."""
    out = make_class(tmp_path)
    command = [sys.executable, "-m", "grader", "review", str(out), "--no-browser"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        printed = next((line.split()[1] for line in process.stdout if line.startswith("open ")), "")
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/t/[A-Za-z0-9_-]{30,}/", printed), printed
        requested: list[str] = []
        page.on("request", lambda request: requested.append(request.url))
        assert page.goto(printed).status == 200 and page.url == printed
        page.click("a.question-link >> text=2b")
        page.wait_for_selector("section.card.current")
        assert page.url == printed + "q/2b"
        student = current_student(page)
        page.keyboard.press("f")  # full marks, save
        page.keyboard.press("Enter")
        page.wait_for_selector(f'section.card.graded[data-student="{student}"]')
        expect(page.locator(f'section.card[data-student="{student}"] .message')).to_have_text("saved")
        assert page.text_content("#progress") == "1 / 5"
        assert page.context.cookies() == []
        assert printed + "api/grade" in requested and printed + "static/review.js" in requested
        assert [u for u in requested if not u.startswith(printed)] == []
        wait_for(lambda: gradebook(out)[student]["2b"] == "0.5")
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
    assert read_report(out / "reports" / f"{student}.json").item("2b").score == 0.5
