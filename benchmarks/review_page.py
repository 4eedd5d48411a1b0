"""grader review at class size: the time to load a question page of a synthetic class of 150 students.

The class is made from the corpus without grading: each student's written answers are taken in
turn from the autoencoders submissions of tests/submissions/ and the reference (every tenth
answer left empty), each student has a notebook with a plot before their answer 2b, and the
reports are written as the batch writes them (tests/review_fixtures.py). The corpus has one
answer per question, so each student keeps a different subset of its sentences.

    python benchmarks/review_page.py [--students 150] [--item 2b] [--browser]

Prints the server's start-up, the question page's first and warm load over HTTP, the time to
save one grade and to see it in gradebook.csv, and with --browser (needs /usr/bin/chromium and
playwright) the page's load in headless Chromium.
"""

from __future__ import annotations

import argparse
import json
import re
import socket
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))  # the fixture that writes reports like the batch

from review_fixtures import make_report, notebook, png  # noqa: E402

from grader.batch.gradebook import rebuild  # noqa: E402
from grader.report.writer import Layout, write_report  # noqa: E402
from grader.submission import load_submission  # noqa: E402

TOKEN = "benchmark"


def corpus_answers() -> dict[str, list[str]]:
    """Question -> the distinct non-empty answers of the corpus's autoencoders submissions."""
    paths = [
        REPO / "reference" / "autoencoders.py",
        *sorted((REPO / "tests" / "submissions").glob("*/submission.*")),
    ]
    pool: dict[str, list[str]] = {}
    for path in paths:
        try:
            answers = load_submission(path).answers
        except Exception:  # noqa: BLE001 - a hostile or broken corpus file simply adds nothing
            continue
        for key, text in answers.items():
            if text.strip() and text not in pool.setdefault(key, []):
                pool[key].append(text)
    return pool


def variant(text: str, number: int) -> str:
    """Student ``number``'s version of a corpus answer: a subset of its sentences (the corpus holds one
    answer per question; real answers are partial versions of the full one)."""
    sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if s.strip()]
    choice = number % (2 ** min(len(sentences), 6) - 1) + 1
    kept = [s for i, s in enumerate(sentences) if i >= 6 or choice >> i & 1]
    return " ".join(kept)


def make_class(root: Path, students: int) -> Path:
    pool = corpus_answers()
    out, submissions = root / "out", root / "submissions"
    submissions.mkdir(parents=True)
    layout = Layout(out, batch=True)
    for number in range(students):
        student = f"s{number:03d}"
        answers = {
            key: "" if (number + len(key)) % 10 == 0 else variant(texts[number % len(texts)], number)
            for key, texts in pool.items()
        }
        path = submissions / f"{student}.ipynb"
        path.write_text(json.dumps(notebook(answers.get("2b", ""))), encoding="utf-8")
        report = make_report(student, path, answers)
        figures = out / "reports" / "figures" / student
        figures.mkdir(parents=True)
        (figures / "plot_latent.png").write_bytes(png(shade=number % 256))
        report.item("2a-scatter").figures = [f"figures/{student}/plot_latent.png"]
        report.figures = {"plot_latent": f"figures/{student}/plot_latent.png"}
        write_report(report, layout, student, ["json", "md", "html", "gradescope"], draw_figures=False)
    rebuild(out)
    return out


def timed(function, *args):
    start = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - start


def get(url: str) -> bytes:
    with urllib.request.urlopen(url) as response:  # the URL carries the token: /t/<token>/...
        return response.read()


def post(url: str, body: dict) -> dict:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "X-Review-Token": TOKEN},
    )
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=150)
    parser.add_argument("--item", default="2b")
    parser.add_argument("--browser", action="store_true", help="also load the page in headless Chromium")
    args = parser.parse_args()

    import uvicorn

    from grader.review.server import prepare, review_url

    with tempfile.TemporaryDirectory() as folder:
        out, seconds = timed(make_class, Path(folder), args.students)
        print(f"class of {args.students} written in {seconds:.1f} s")
        prepared, seconds = timed(prepare, out, None, "127.0.0.1", TOKEN)
        print(f"server start-up (reading {args.students} reports): {seconds:.2f} s")
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        server = uvicorn.Server(uvicorn.Config(prepared.app, log_level="warning"))
        threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True).start()
        prepared.review.syncer.start()
        while not server.started:
            time.sleep(0.05)
        url = review_url("127.0.0.1", sock.getsockname()[1], TOKEN).rstrip("/")  # http://...:PORT/t/<token>
        _, warmed = timed(
            prepared.review.classroom.warm
        )  # grader review does this at start-up, in the background
        page, first = timed(get, f"{url}/q/{args.item}")
        _, warm = timed(get, f"{url}/q/{args.item}")
        cards = page.count(b'<section class="card')
        groups = page.count(b'<h2 class="group"')
        print(f"question {args.item}: {cards} answers in {groups} groups, {len(page) / 1024:.0f} KiB")
        print(f"  start-up warm-up in the background (notebooks, scikit-learn): {warmed:.2f} s")
        print(f"  question page over HTTP (grouped, rendered): first {first:.2f} s, again {warm:.2f} s")
        saved, seconds = timed(
            post, f"{url}/api/grade", {"student": "s001", "item": args.item, "points": 0.25}
        )
        print(f"  save one grade (SQLite commit): {seconds * 1000:.0f} ms")
        start = time.perf_counter()
        while "s001" in prepared.review.syncer._dirty or prepared.review.syncer.pending():
            time.sleep(0.02)
        book = (out / "gradebook.csv").read_text()
        while "s001," not in book or ",0.25," not in book.split("s001,", 1)[1].split("\n", 1)[0] + ",":
            time.sleep(0.05)
            book = (out / "gradebook.csv").read_text()
        print(f"  grade in the report and gradebook.csv after: {time.perf_counter() - start:.2f} s")
        if args.browser:
            from playwright.sync_api import sync_playwright

            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path="/usr/bin/chromium", args=["--headless", "--no-sandbox", "--disable-gpu"]
                )
                tab = browser.new_page()
                tab.goto(f"{url}/")
                start = time.perf_counter()
                tab.goto(f"{url}/q/{args.item}")
                tab.wait_for_selector("section.card.current")
                print(f"  in Chromium, page ready (first card selected): {time.perf_counter() - start:.2f} s")
                browser.close()
        server.should_exit = True
        prepared.review.syncer.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
