"""grader review without a browser: the token's prefix, CSRF, the store, sync into the reports, groups,
overrides.

The class is written like a batch writes it (tests/review_fixtures.py): nothing is graded.
"""

from __future__ import annotations

import csv
import io
import json
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import pytest

pytest.importorskip("starlette", reason="grader review needs the review extra (starlette, uvicorn)")

from review_fixtures import HOSTILE, make_class  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from grader.batch.resume import carry_scores, scores_to_carry  # noqa: E402
from grader.cli import main  # noqa: E402
from grader.report.writer import read_report  # noqa: E402
from grader.review.groups import BLANK, group_answers  # noqa: E402
from grader.review.images import notebook_images  # noqa: E402
from grader.review.server import prepare  # noqa: E402
from grader.review.store import Store  # noqa: E402

TOKEN = "test-token"
AUTH = {"X-Review-Token": TOKEN}
P = f"/t/{TOKEN}"  # every path of the app starts with this prefix: the URL is the key
OLD_COOKIE = "review_token_80"  # where the token was kept before (the test client's port is 80)


@pytest.fixture
def out(tmp_path: Path) -> Path:
    return make_class(tmp_path)


@pytest.fixture
def served(out: Path):
    prepared = prepare(out, token=TOKEN)
    client = TestClient(prepared.app, base_url="http://127.0.0.1")
    yield prepared.review, client


def grade(client: TestClient, student: str, item: str = "2b", **body) -> dict:
    response = client.post(P + "/api/grade", json={"student": student, "item": item, **body}, headers=AUTH)
    return {"status": response.status_code, **response.json()}


def gradebook(out: Path) -> dict[str, dict[str, str]]:
    rows = csv.DictReader(io.StringIO((out / "gradebook.csv").read_text(encoding="utf-8")))
    return {row["student"]: row for row in rows}


class Links(HTMLParser):
    """Every URL a page makes the browser load or follow: href, src, action, and the JS's base."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[tuple[str, str, str]] = []  # (tag, attribute, value), entities decoded

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("href", "src", "action", "formaction", "srcset", "poster", "data"):
                self.urls.append((tag, name, value or ""))
        if tag == "meta" and ("name", "review-base") in attrs:
            self.urls.append((tag, "content", dict(attrs)["content"] or ""))


def links(html: str) -> list[tuple[str, str, str]]:
    parser = Links()
    parser.feed(html)
    return parser.urls


# -- access -----------------------------------------------------------------------------

PAGES = [
    "/",
    "/q/2b",
    "/student?id=alice",
    "/log",
    "/api/question/2b",
    "/img/notebook?student=alice&item=2b&n=0",
    "/img/figure?student=alice&name=latent_space",
    "/static/review.js",
    "/static/review.css",
]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_needs_the_prefix_with_the_token(out: Path, path: str) -> None:
    client = TestClient(prepare(out, token=TOKEN).app, base_url="http://127.0.0.1")
    assert client.get(P + path).status_code == 200
    refused = client.get(path)
    assert refused.status_code == 401 and "open the URL that grader review printed" in refused.text
    assert TOKEN not in refused.text
    for wrong in ("/t/wrong", "/t/test-tokeN", "/t/test-token-", "/t/%C3%A9"):
        assert client.get(wrong + path).status_code == 403, wrong
    assert client.get(path, headers=AUTH).status_code == 401  # the header is for POSTs, with the prefix


@pytest.mark.parametrize("port", [80, 8001])
def test_the_old_cookie_alone_is_refused(out: Path, port: int) -> None:
    """What another server on 127.0.0.1 receives from a browser that held the token in a cookie:
    replayed without the prefix, it opens nothing and changes nothing."""
    prepared = prepare(out, token=TOKEN)
    cookies = {OLD_COOKIE: TOKEN, f"review_token_{port}": TOKEN, "review_token": TOKEN}
    client = TestClient(prepared.app, base_url=f"http://127.0.0.1:{port}", cookies=cookies)
    for path in ("/", "/q/2b", "/student?id=alice", "/api/question/2b", "/static/review.js"):
        response = client.get(path)
        assert response.status_code == 401, path
        assert "open the URL that grader review printed" in response.text
    body = {"student": "alice", "item": "2b", "points": 0.5}
    posted = client.post("/api/grade", json=body, headers=AUTH)  # even with the header: no prefix
    assert posted.status_code == 401 and posted.json()["error"].startswith("open the URL")
    assert prepared.review.store.grades() == {}
    assert client.get(P + "/q/2b").status_code == 200  # the same client, with the prefix


def test_no_response_sets_a_cookie(out: Path) -> None:
    """Neither the old ?token= URL nor the page it redirects to (where a cookie used to be set), nor the
    first visit of the printed URL, nor any page, asset, API call or refusal."""
    client = TestClient(prepare(out, token=TOKEN).app, base_url="http://127.0.0.1")

    def no_cookie(response, status: int):
        assert response.headers.get_list("set-cookie") == [], response.request.url
        assert response.status_code == status, response.request.url
        return response

    old = no_cookie(client.get(f"/?token={TOKEN}", follow_redirects=False), 303)
    no_cookie(client.get(old.headers["location"]), 200)
    no_cookie(client.get(P + "/", follow_redirects=False), 200)
    for path in PAGES:
        no_cookie(client.get(P + path), 200)
    body = {"student": "bob", "item": "2b", "points": 0.25}
    no_cookie(client.post(P + "/api/grade", json=body, headers=AUTH), 200)
    no_cookie(client.get("/q/2b"), 401)
    no_cookie(client.get("/t/wrong/q/2b"), 403)
    no_cookie(client.get("/q/2b?token=wrong", follow_redirects=False), 403)
    assert len(client.cookies) == 0


def test_the_old_token_url_redirects_to_the_same_page_under_the_prefix(out: Path) -> None:
    client = TestClient(prepare(out, token=TOKEN).app, base_url="http://127.0.0.1")
    first = client.get(f"/q/2b?token={TOKEN}", follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"] == P + "/q/2b"
    student = client.get(f"/student?id=a%26b%20c&token={TOKEN}&x=1", follow_redirects=False)
    assert student.status_code == 303 and student.headers["location"] == P + "/student?id=a%26b%20c&x=1"
    assert client.get(f"/?token={TOKEN}", follow_redirects=False).headers["location"] == P + "/"
    assert client.get(first.headers["location"]).status_code == 200
    # the prefix without its slash: the index page
    bare = client.get(P + "?x=1", follow_redirects=False)
    assert bare.status_code == 303 and bare.headers["location"] == P + "/?x=1"
    assert client.get("/q/2b?token=wrong", follow_redirects=False).status_code == 403


def test_another_reviews_url_is_refused(tmp_path: Path) -> None:
    """Two reviews on one machine (two ports): neither opens with the other's URL."""
    first, second = (
        TestClient(prepare(make_class(tmp_path / name), token=token).app, base_url="http://127.0.0.1")
        for name, token in (("a", "first-token"), ("b", "other-token"))
    )
    assert first.get("/t/first-token/q/2b").status_code == 200
    assert second.get("/t/first-token/q/2b").status_code == 403
    assert second.get("/q/2b?token=first-token", follow_redirects=False).status_code == 403


@pytest.mark.parametrize(
    ("path", "target"),
    [
        ("//evil.example/", "/evil.example/"),
        ("/\\evil.example/", "/evil.example/"),
        ("///evil.example/x", "/evil.example/x"),
    ],
)
def test_the_token_redirect_stays_on_this_server(out: Path, path: str, target: str) -> None:
    client = TestClient(prepare(out, token=TOKEN).app, base_url="http://127.0.0.1")
    # the whole URL: httpx would read "//evil.example/" alone as another host
    response = client.get(f"http://127.0.0.1{path}?token={TOKEN}&a=1", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == P + target + "?a=1"


@pytest.mark.parametrize("path", ["/", "/q/2b", "/student?id=alice", "/log"])
def test_every_link_of_a_page_starts_with_the_prefix_and_works(served, path: str) -> None:
    """Every href and src (and the base the JS puts before its fetches): a link without the prefix
    would be refused now that no cookie carries the token."""
    _, client = served
    found = links(client.get(P + path).text)
    assert ("link", "href", P + "/static/review.css") in found
    assert ("script", "src", P + "/static/review.js") in found
    assert ("meta", "content", P) in found and ("a", "href", P + "/") in found
    expected = {
        "/": [P + "/q/2b", P + "/student?id=alice", P + "/log"],
        "/q/2b": [P + "/q/4c", P + "/student?id=dave", P + "/img/notebook?student=alice&item=2b&n=0"],
        "/student?id=alice": [P + "/q/2b"],
        "/log": [],
    }[path]
    assert set(expected) <= {value for _, _, value in found}
    for tag, attribute, value in found:
        assert value == P or value.startswith(P + "/"), (tag, attribute, value)
        assert client.get(value if value != P else P + "/").status_code == 200, value
    if path == "/q/2b":
        assert P + "/img/figure?student=alice&name=latent_space" in {value for _, _, value in found}


def test_the_script_fetches_under_the_prefix() -> None:
    """review.js sends every POST to BASE + path, BASE read from the page (the prefix)."""
    script = (Path(__file__).resolve().parents[1] / "grader" / "review" / "static" / "review.js").read_text()
    assert "const BASE = document.querySelector('meta[name=\"review-base\"]').content;" in script
    assert "fetch(BASE + path," in script and script.count("fetch(") == 1
    assert re.findall(r'post\("([^"]+)"', script) == ["/api/grade", "/api/group", "/api/override"]


def test_a_student_named_dot_dot_has_a_reachable_page(tmp_path: Path) -> None:
    """A browser turns /student/.. into /: ids travel in the query, encoded."""
    from html import escape
    from urllib.parse import urljoin

    out = make_class(tmp_path, {"..": "an answer", "a&b c#": "an answer", "bob": "an answer"})
    client = TestClient(prepare(out, token=TOKEN).app, base_url="http://127.0.0.1")
    index = client.get(P + "/").text
    for student in ("..", "a&b c#", "bob"):
        href = re.search(rf'href="([^"]*)">{re.escape(escape(student))}</a>', index).group(1)
        # resolved as a browser resolves it: /student/.. would become /
        page = client.get(urljoin(f"http://127.0.0.1{P}/", href.replace("&amp;", "&")))
        assert page.status_code == 200 and f'data-student="{escape(student)}"' in page.text


def test_the_browser_is_started_on_a_private_file_not_on_the_tokens_url(out: Path, monkeypatch) -> None:
    """A command line is visible to every user (ps): webbrowser.open gets a 0600 file in a 0700 folder
    that sends the browser on; the file is gone when the server stops."""
    import os
    import stat
    from urllib.parse import urlparse

    from grader.review.server import serve

    opened = []

    def fake_open(url: str) -> bool:
        path = Path(urlparse(url).path)
        text, modes = path.read_text(encoding="utf-8"), (path.stat().st_mode, path.parent.stat().st_mode)
        opened.append((url, path, text, *modes))
        os.kill(os.getpid(), signal.SIGINT)  # serve's own handler stops the server
        return True

    monkeypatch.setattr("webbrowser.open", fake_open)
    lines: list[str] = []
    serve(out, open_browser=True, echo=lines.append)
    printed = next(line for line in lines if line.startswith("open ")).split()[1]
    token = re.fullmatch(r"http://127\.0\.0\.1:\d+/t/([A-Za-z0-9_-]{30,})/", printed).group(1)
    url, path, text, mode, folder = opened[0]
    assert url.startswith("file://") and token not in url
    assert f'content="0;url={printed}"' in text and f'href="{printed}"' in text
    assert stat.S_IMODE(mode) == 0o600 and stat.S_IMODE(folder) == 0o700
    assert not path.exists()


def test_state_changes_need_the_header_as_well_as_the_prefix(served) -> None:
    review, client = served
    body = {"student": "alice", "item": "2b", "points": 0.5}
    assert client.post(P + "/api/grade", json=body).status_code == 401  # the URL alone: a forged form
    assert client.post(P + "/api/grade", json=body, headers={"X-Review-Token": "x"}).status_code == 403
    plain = {**AUTH, "Content-Type": "text/plain"}
    form = client.post(P + "/api/grade", content="student=alice", headers=plain)
    assert form.status_code == 415
    assert client.post("/api/grade", json=body, headers=AUTH).status_code == 401  # the header alone
    assert client.post("/t/wrong/api/grade", json=body, headers=AUTH).status_code == 403
    assert review.store.grades() == {}


def test_a_foreign_host_name_is_refused(served) -> None:
    _, client = served
    refused = client.get(P + "/", headers={"Host": "evil.example:80"})
    assert refused.status_code == 403 and refused.text == "unknown Host header"


def test_pages_forbid_inline_scripts(served) -> None:
    _, client = served
    policy = client.get(P + "/q/2b").headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy


# -- student text is text ---------------------------------------------------------------


def test_hostile_answers_are_escaped_on_the_question_page(served) -> None:
    _, client = served
    page = client.get(P + "/q/2b").text
    assert "<script>window.__pwned" not in page
    assert 'href="javascript:' not in page and "onerror=" not in page.replace("onerror=&#34;", "")
    assert "&lt;script&gt;window.__pwned = 1&lt;/script&gt;&lt;/textarea&gt;" in page
    assert "{{ 7 * 7 }}" in page and "49" not in page


def test_a_hostile_comment_is_stored_and_rendered_as_text(served, out: Path) -> None:
    review, client = served
    assert grade(client, "dave", points=0, comment=HOSTILE)["status"] == 200
    review.syncer.flush()
    html = (out / "reports" / "dave.html").read_text(encoding="utf-8")
    assert "<script>window.__pwned" not in html and "&lt;script&gt;" in html
    assert "<script>window.__pwned" not in client.get(P + "/q/2b").text


# -- grading and the reports ------------------------------------------------------------


def test_ticked_criteria_make_the_score_and_the_students_feedback(served, out: Path) -> None:
    review, client = served
    saved = grade(client, "alice", criteria=[0, 1], comment="Well observed.")
    assert saved["status"] == 200 and saved["grade"]["points"] == 0.5
    assert saved["progress"] == {"graded": 1, "total": 5}
    half = grade(client, "bob", criteria=[1])
    assert half["grade"]["points"] == 0.25
    review.syncer.flush()
    report = read_report(out / "reports" / "alice.json")
    item = report.item("2b")
    assert (item.score, item.status, item.comment) == (0.5, "passed", "Well observed.")
    assert item.criteria[0].startswith("Names the digits that form clear clusters")
    html = (out / "reports" / "alice.html").read_text(encoding="utf-8")
    assert "met: Explains the overlap" in html and "Instructor: Well observed." in html
    markdown = (out / "reports" / "alice.md").read_text(encoding="utf-8")
    assert "- met: Names the digits" in markdown
    gradescope = json.loads((out / "gradescope" / "alice" / "results.json").read_text(encoding="utf-8"))
    assert gradescope["score"] == report.score
    assert any("met: Explains the overlap" in test["output"] for test in gradescope["tests"])
    assert gradebook(out)["bob"]["2b"] == "0.25"


def test_gradebook_totals_equal_the_sum_of_the_items(served, out: Path) -> None:
    review, client = served
    for number, student in enumerate(["alice", "bob", "carol", "dave", "erin"]):
        for item in review.classroom.questions:
            maximum = review.classroom.questions[item].max_score
            assert grade(client, student, item, points=maximum * number / 4)["status"] == 200
    review.syncer.flush()
    book = gradebook(out)
    items = [
        q
        for q in book["alice"]
        if q
        not in (
            "student",
            "status",
            "total",
            "auto",
            "manual_pending",
            "integrity",
            "file",
            "full_name",
            "late",
        )
    ]
    for student, row in book.items():
        assert float(row["manual_pending"] or 0) == 0
        assert float(row["total"]) == pytest.approx(sum(float(row[i] or 0) for i in items)), student
    assert book["erin"]["total"] == "25.5"


def test_a_bad_score_is_refused_with_merge_manuals_message(served) -> None:
    review, client = served
    refused = grade(client, "bob", points=3)
    assert refused["status"] == 400
    assert (
        refused["error"]
        == "student 'bob', item '2b': 3 points is outside the allowed range (allowed: 0 to 0.5)"
    )
    assert grade(client, "bob", item="1-relu", points=0)["error"] == "unknown question '1-relu'"
    assert grade(client, "nobody", points=0)["error"] == "unknown student 'nobody'"
    assert "criteria: indices from 0 to 1" in grade(client, "bob", criteria=[5])["error"]
    assert review.store.grades() == {}


def test_two_graders_lose_neither_s_work(served, out: Path) -> None:
    review, client = served
    second = TestClient(client.app, base_url="http://127.0.0.1")
    results = {}

    def work(name: str, browser: TestClient, students: list[str]) -> None:
        results[name] = [
            grade(browser, s, points=0.5, grader=name, comment=f"by {name}")["status"] for s in students
        ]

    threads = [
        threading.Thread(target=work, args=("ann", client, ["alice", "bob"])),
        threading.Thread(target=work, args=("ben", second, ["carol", "dave", "erin"])),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {"ann": [200, 200], "ben": [200, 200, 200]}
    review.syncer.flush()
    stored = review.store.grades("2b")
    assert {s: g.grader for (s, _), g in stored.items()} == {
        "alice": "ann",
        "bob": "ann",
        "carol": "ben",
        "dave": "ben",
        "erin": "ben",
    }
    assert all(row["2b"] == "0.5" for row in gradebook(out).values())


def test_the_same_answer_graded_twice_is_a_conflict_not_a_silent_overwrite(served) -> None:
    review, client = served
    assert grade(client, "alice", points=0.5, grader="ann", version=0)["status"] == 200
    late = grade(client, "alice", points=0, grader="ben", version=0)  # ben loaded the page before ann saved
    assert late["status"] == 409 and late["current"]["grader"] == "ann"
    assert "ann graded this answer meanwhile" in late["error"]
    assert review.store.grades()["alice", "2b"].points == 0.5
    assert grade(client, "alice", points=0, grader="ben", version=1)["status"] == 200  # knowingly replaced


def test_a_killed_server_loses_nothing_confirmed(out: Path) -> None:
    first = prepare(out, token=TOKEN)
    client = TestClient(first.app, base_url="http://127.0.0.1")
    assert grade(client, "bob", criteria=[0], comment="half")["status"] == 200
    # killed before the reports were written: only the database has it
    assert read_report(out / "reports" / "bob.json").item("2b").status == "manual"
    with sqlite3.connect(out / "review.sqlite") as db:
        assert db.execute("SELECT points FROM grades WHERE student = 'bob'").fetchone() == (0.25,)
    prepare(out, token=TOKEN)  # the next start writes the reports
    assert read_report(out / "reports" / "bob.json").item("2b").score == 0.25
    assert gradebook(out)["bob"]["2b"] == "0.25"


def test_resume_keeps_the_reviewed_scores_and_criteria(served, out: Path) -> None:
    review, client = served
    grade(client, "carol", criteria=[0], comment="one of two")
    review.syncer.flush()
    previous = read_report(out / "reports" / "carol.json")
    source = (out.parent / "submissions" / "carol.py").read_bytes()
    regraded = read_report(out / "reports" / "erin.json")  # a fresh report: 2b pending
    regraded.submission_sha256 = previous.submission_sha256
    carry_scores(regraded, scores_to_carry(previous, source))
    item = regraded.item("2b")
    assert (item.score, item.comment, len(item.criteria)) == (0.25, "one of two", 1)


# -- groups -----------------------------------------------------------------------------


def test_similar_answers_are_grouped_and_blanks_apart() -> None:
    answers = {
        "a": "The zeros and ones form clear clusters, 4 and 9 overlap because they look alike.",
        "b": "Zeros and ones form clear clusters; 4 and 9 overlap since they look alike.",
        "c": "ReLU clips the negative values so the codes sit on the axes.",
        "d": "",
    }
    groups = group_answers(answers, blank={"d"})
    assert [(g.key, g.students) for g in groups] == [(BLANK, ("d",)), ("g1", ("a", "b")), ("single", ("c",))]
    assert groups[0].label == "Empty or placeholder answers"


def test_the_blank_group_is_scored_zero_in_one_action(served, out: Path) -> None:
    review, client = served
    page = client.get(P + "/q/2b").text
    assert (
        'data-student="carol" data-group="blank"' in page and 'data-student="erin" data-group="blank"' in page
    )
    done = client.post(
        P + "/api/group", json={"item": "2b", "students": ["carol", "erin"], "points": 0}, headers=AUTH
    )
    assert done.status_code == 200 and [g["student"] for g in done.json()["saved"]] == ["carol", "erin"]
    review.syncer.flush()
    assert gradebook(out)["carol"]["2b"] == "0" and gradebook(out)["erin"]["2b"] == "0"


def test_a_group_grade_leaves_answers_graded_by_someone_else(served) -> None:
    review, client = served
    grade(client, "alice", points=0.25, grader="ann")
    body = {"item": "2b", "students": ["alice", "bob"], "criteria": [0, 1], "grader": "ben"}
    done = client.post(P + "/api/group", json=body, headers=AUTH).json()
    assert done["skipped"] == ["alice"] and [g["student"] for g in done["saved"]] == ["bob"]
    assert review.store.grades()["alice", "2b"].points == 0.25
    adjusted = grade(client, "bob", points=0.4, version=1)  # a member adjusted after the group grade
    assert adjusted["grade"]["points"] == 0.4


# -- overrides --------------------------------------------------------------------------


def test_an_override_is_logged_and_explained_to_the_student(served, out: Path) -> None:
    review, client = served
    body = {
        "student": "bob",
        "item": "2a-scatter",
        "points": 1.5,
        "reason": "regrade: legend missing",
        "grader": "ann",
    }
    assert client.post(P + "/api/override", json=body, headers=AUTH).status_code == 200
    body.update(points=1.75, reason="regrade request #2")
    assert client.post(P + "/api/override", json=body, headers=AUTH).status_code == 200
    review.syncer.flush()
    item = read_report(out / "reports" / "bob.json").item("2a-scatter")
    assert (item.score, item.status) == (1.75, "partial")
    assert item.feedback == "ok\n\nScore changed by your instructor from 2 to 1.75 / 2: regrade request #2"
    log = [e for e in review.store.log() if e.action == "override"]
    assert [(e.grader, e.old, e.new, e.detail) for e in log] == [
        ("ann", 2.0, 1.5, "regrade: legend missing"),
        ("ann", 1.5, 1.75, "regrade request #2"),
    ]
    assert all(e.at for e in log)
    assert gradebook(out)["bob"]["total"] == str(18.5 - 0.25)
    assert "regrade request #2" in client.get(P + "/student?id=bob").text


def test_an_override_needs_a_reason_and_an_automatic_item(served) -> None:
    _, client = served

    def refused(**body) -> str:
        response = client.post(P + "/api/override", json={"student": "bob", **body}, headers=AUTH)
        assert response.status_code == 400
        return response.json()["error"]

    assert refused(item="2a-scatter", points=1, reason=" ") == (
        "reason: say why the score changes (e.g. the regrade request)"
    )
    assert (
        refused(item="2b", points=0, reason="x")
        == "item '2b' is a written answer: grade it on its question page"
    )
    assert refused(item="2a-scatter", points=5, reason="x") == "points: a number from 0 to 2"


# -- the student's figures --------------------------------------------------------------


def test_the_notebooks_own_plot_before_the_answer_is_shown_and_nothing_else(served, out: Path) -> None:
    _, client = served
    images = notebook_images(out.parent / "submissions" / "alice.ipynb")
    assert list(images) == ["2b", "2c"] and len(images["2b"]) == 1 and images["2c"] == []
    page = client.get(P + "/q/2b").text
    assert P + "/img/notebook?student=alice&amp;item=2b&amp;n=0" in page
    response = client.get(P + "/img/notebook?student=alice&item=2b&n=0")
    assert response.headers["content-type"] == "image/png" and response.content.startswith(b"\x89PNG")
    assert client.get(P + "/img/notebook?student=alice&item=2b&n=1").status_code == 404
    assert client.get(P + "/img/figure?student=alice&name=latent_space").content.startswith(b"\x89PNG")
    assert client.get(P + "/img/figure?student=alice&name=../../review.sqlite").status_code == 404


def test_a_written_question_shows_the_figures_its_rubric_item_lists(served, out: Path) -> None:
    """2b asks about the student's own latent space: their encoder as the grader trained it
    (latent_space), not plot_latent drawn on the grader's codes, the same picture for everyone."""
    _, client = served
    page = client.get(P + "/q/2b").text
    assert P + "/img/figure?student=alice&amp;name=latent_space" in page
    assert "plot_latent" not in page
    assert "latent space: their model after the grader&#39;s short training" in page
    alice = client.get(P + "/img/figure?student=alice&name=latent_space").content
    bob = client.get(P + "/img/figure?student=bob&name=latent_space").content
    assert alice == (out / "reports" / "figures" / "alice" / "latent_space.png").read_bytes() != bob
    assert P + "/img/figure?" not in client.get(P + "/q/4c").text  # a question about no figure shows none


def test_a_rubrics_figures_must_be_figures_a_report_can_have(tmp_path: Path) -> None:
    from grader.rubric import RubricError, load_rubric, rubrics_dir

    text = (rubrics_dir() / "autoencoders.toml").read_text(encoding="utf-8")
    bad = tmp_path / "autoencoders.toml"
    text = text.replace('figures = ["decoder_grid"]', 'figures = ["decoder_grids"]')
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(RubricError, match="item '5b': field 'figures': unknown figure 'decoder_grids'"):
        load_rubric(bad)


def test_a_changed_notebook_shows_no_images(served, out: Path) -> None:
    review, client = served
    (out.parent / "submissions" / "alice.ipynb").write_text("{}", encoding="utf-8")
    review.classroom._images.clear()
    assert P + "/img/notebook?student=alice" not in client.get(P + "/q/2b").text


# -- the command line -------------------------------------------------------------------


def test_cli_review_without_reports_says_what_to_run(tmp_path: Path, capsys) -> None:
    assert main(["review", str(tmp_path / "nothing"), "--no-browser"]) == 2
    assert "no reports in" in capsys.readouterr().err


def test_cli_review_help_lists_its_options(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["review", "--help"])
    text = capsys.readouterr().out
    assert all(flag in text for flag in ("--host", "--port", "--no-browser", "--rubric"))


def test_store_survives_a_reopen(tmp_path: Path) -> None:
    from grader.review.store import NewGrade

    store = Store.open(tmp_path)
    store.save_grade(NewGrade("a", "2b", 0.5, "ok", [1, 0, 1]), "ann")
    again = Store.open(tmp_path).grades()[("a", "2b")]
    assert (again.points, again.criteria, again.version, again.grader) == (0.5, [0, 1], 1, "ann")
    assert Store.open(tmp_path).saved_comments("2b") == ["ok"]


# -- a real batch, reviewed, then resumed -------------------------------------------------


def test_batch_resume_after_review_keeps_the_scores_and_criteria(tmp_path: Path) -> None:
    """Graded for real (the NumPy-only transposed_conv rubric, fast), reviewed, then --resume twice:
    unchanged reports are kept, and a changed rubric regrades but carries the reviewed scores over."""
    from test_batch import MANUAL_ITEM, REFERENCE, fast_rubric, write_class

    from grader.batch.runner import BatchConfig, run_batch

    rubric = fast_rubric(tmp_path, manual=True)
    criteria = (
        'criteria = [{ points = 0.5, text = "C maps x to y" }, { points = 0.5, text = "so C^T maps back" }]\n'
    )
    rubric.write_text(rubric.read_text().replace(MANUAL_ITEM, MANUAL_ITEM + criteria))
    subs = write_class(tmp_path / "subs", {"ann.py": REFERENCE, "ben.py": REFERENCE + "\n# mine\n"})
    out = tmp_path / "out"
    config = BatchConfig(subs, rubric, out, workers=1)
    run_batch(config, echo=lambda line: None)

    prepared = prepare(out, rubric=rubric, token=TOKEN)
    client = TestClient(prepared.app, base_url="http://127.0.0.1")
    assert grade(client, "ann", item="tc-why", criteria=[1], comment="half")["status"] == 200
    prepared.review.syncer.flush()
    assert gradebook(out)["ann"]["tc-why"] == "0.5"

    run_batch(replace(config, resume=True), echo=lambda line: None)  # nothing changed: kept
    assert gradebook(out)["ann"]["tc-why"] == "0.5"
    rubric.write_text(rubric.read_text() + "\n# a comment: the rubric's hash changes\n")
    run_batch(replace(config, resume=True), echo=lambda line: None)  # regraded, scores carried
    item = read_report(out / "reports" / "ann.json").item("tc-why")
    assert (item.score, item.comment, item.criteria) == (0.5, "half", ["so C^T maps back (+0.5)"])
    assert gradebook(out)["ann"]["tc-why"] == "0.5" and gradebook(out)["ben"]["manual_pending"] == "1"


# -- the real command: URL, token, SIGKILL ------------------------------------------------


def _start(out: Path) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "grader", "review", str(out), "--no-browser"],
        stdout=subprocess.PIPE,
        text=True,
    )
    for line in process.stdout:
        if line.startswith("open "):
            return process, line.split()[1]
    raise AssertionError(f"no URL printed (exit {process.wait()})")


def test_the_command_prints_a_loopback_url_with_a_token_and_a_kill_loses_nothing(out: Path) -> None:
    process, url = _start(out)
    try:
        origin, token = re.fullmatch(r"(http://127\.0\.0\.1:\d+)/t/([A-Za-z0-9_-]{30,})/", url).groups()
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(origin + "/q/2b")
        assert refused.value.code == 401
        with urllib.request.urlopen(url + "q/2b") as page:
            assert page.status == 200 and page.headers.get_all("Set-Cookie") is None
            assert f'src="/t/{token}/static/review.js"' in page.read().decode()
        request = urllib.request.Request(
            url + "api/grade",
            data=json.dumps({"student": "bob", "item": "2b", "criteria": [0]}).encode(),
            headers={"Content-Type": "application/json", "X-Review-Token": token},
        )
        assert json.loads(urllib.request.urlopen(request).read())["grade"]["points"] == 0.25
    finally:
        process.kill()  # SIGKILL, right after the confirmation
        process.wait()
    process, _ = _start(out)  # the next start writes what the database holds
    try:
        assert read_report(out / "reports" / "bob.json").item("2b").score == 0.25
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0


def test_a_grade_for_an_earlier_submission_is_not_applied_to_a_resubmission(served, out: Path) -> None:
    review, client = served
    assert grade(client, "bob", points=0.5)["status"] == 200
    review.syncer.flush()
    report = read_report(out / "reports" / "bob.json")  # the batch regraded a new file from bob
    report.submission_sha256 = "c" * 64
    report.item("2b").status, report.item("2b").score = "manual", 0.0
    report.recompute_totals()
    (out / "reports" / "bob.json").write_text(report.to_json(), encoding="utf-8")
    again = prepare(out, token=TOKEN)
    assert read_report(out / "reports" / "bob.json").item("2b").status == "manual"
    page = TestClient(again.app, base_url="http://127.0.0.1").get(P + "/q/2b").text
    assert "0 / 5</span> graded" in page


def test_a_notebook_nested_too_deep_for_json_shows_no_images_instead_of_an_error(tmp_path: Path) -> None:
    nested = tmp_path / "deep.ipynb"
    nested.write_text('{"cells": ' + "[" * 200_000 + "]" * 200_000 + "}", encoding="utf-8")
    assert notebook_images(nested) == {}
