"""``grader review OUT``: build the app over OUT, bind, print the URL with its token, open a browser.

The URL is ``http://127.0.0.1:PORT/t/<token>/``: every path of the app starts with the token
(grader.review.app, "Safety"), so the URL is the key and no cookie is needed."""

from __future__ import annotations

import contextlib
import html
import os
import secrets
import shutil
import signal
import socket
import sys
import tempfile
import threading
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from grader.batch.output import OutputFolder
from grader.review.app import Review, base_path, create_app
from grader.review.classroom import Classroom
from grader.review.store import Store
from grader.review.syncer import Syncer

LOOPBACK = ("127.0.0.1", "localhost", "::1")
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class ReviewError(Exception):
    """OUT cannot be reviewed (no reports, a bad rubric, the port taken); the message says why."""


@dataclass
class Prepared:
    review: Review
    app: object


def prepare(
    out: Path, rubric: str | Path | None = None, host: str = "127.0.0.1", token: str = ""
) -> Prepared:
    """The app over OUT, its reports brought up to date with the database (after a kill, a resume)."""
    from grader.batch.gradebook import GradebookError
    from grader.rubric import RubricError

    out = Path(out)
    if not OutputFolder(out).has_reports_folder():
        raise ReviewError(f"no reports in {out}: run grader batch with --out {out} first")
    try:
        classroom = Classroom.load(out, rubric)
    except (RubricError, GradebookError) as exc:
        raise ReviewError(str(exc)) from None
    store = Store.open(out)
    criteria = {q.id: q.criteria for q in classroom.questions.values()}

    def reload(students: list[str]) -> None:  # the overridden scores shown on the student pages
        for student in students:
            report = OutputFolder(out).read_report(student)
            if report is not None:
                classroom.reports[student] = report

    syncer = Syncer(out, store, criteria, reload)
    stored = {s for s, _ in store.grades()} | {s for s, _ in store.overrides()}
    syncer.mark(*(s for s in stored if s in classroom.reports))
    syncer.flush()
    hosts = LOOPBACK if host in LOOPBACK else ()  # () = any Host name: the token still guards every request
    review = Review(classroom, store, syncer, token or secrets.token_urlsafe(24), hosts)
    return Prepared(review, create_app(review))


def review_url(host: str, port: int, token: str) -> str:
    """The URL ``grader review`` prints and opens: the index page under the token's prefix."""
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}{base_path(token)}/"


def opener_file(url: str) -> Path:
    """A page that sends the browser on to ``url``, in a private folder (0700, the file 0600).

    The browser is started on this file, not on the URL: a command line is visible to every user
    (``ps``), and the URL carries the access token."""
    folder = Path(tempfile.mkdtemp(prefix="grader-review-"))  # mkdtemp makes it 0700
    path = folder / "open-review.html"
    target = html.escape(url, quote=True)
    page = (
        '<!doctype html><meta charset="utf-8"><meta name="referrer" content="no-referrer">'
        f'<meta http-equiv="refresh" content="0;url={target}"><title>grader review</title>'
        f'<p><a href="{target}">Open grader review</a></p>\n'
    )
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(page)
    return path


def serve(
    out: Path,
    host: str = "127.0.0.1",
    port: int = 0,
    open_browser: bool = True,
    rubric: str | Path | None = None,
    echo: Callable[[str], None] = print,
) -> None:
    """Serve until Ctrl-C; the reports are written before returning."""
    import uvicorn

    prepared = prepare(out, rubric, host)
    review = prepared.review
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        raise ReviewError(f"cannot listen on {host}:{port} ({exc.strerror}); try another --port") from None
    sock.listen(128)  # connections wait in the backlog until uvicorn accepts them: the URL works at once
    bound = sock.getsockname()[1]
    url = review_url(host, bound, review.token)
    server = uvicorn.Server(uvicorn.Config(prepared.app, log_level="warning", access_log=False))
    # Ctrl-C and SIGTERM are how the server is meant to stop: shut down gracefully, exit 0 (uvicorn's own
    # handlers re-raise the signal afterwards, which would end in "interrupted").
    server.capture_signals = contextlib.nullcontext
    stop = lambda *_: setattr(server, "should_exit", True)  # noqa: E731
    previous = {sig: signal.signal(sig, stop) for sig in STOP_SIGNALS}
    questions = len(review.classroom.questions)
    echo(f"grader review: {len(review.classroom.reports)} students, {questions} written question(s) in {out}")
    echo(f"open {url}")
    echo("every action is saved in " + str(review.store.path) + "; Ctrl-C stops the server")
    sys.stdout.flush()  # the URL reaches a pipe (a script, a test) before the server blocks
    review.syncer.start()
    threading.Thread(target=review.classroom.warm, name="review-warm", daemon=True).start()
    opener = opener_file(url) if open_browser else None
    if opener is not None:
        threading.Timer(0.5, webbrowser.open, args=(opener.as_uri(),)).start()
    try:
        server.run(sockets=[sock])
    finally:
        if opener is not None:
            shutil.rmtree(opener.parent, ignore_errors=True)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        review.syncer.stop()
        echo("reports, Gradescope files and gradebook.csv are up to date")
