"""The review's routes (Starlette): pages rendered with Jinja2 (autoescaped), a small JSON API, plain JS.

Safety (docs/architecture.md, "Review"):

- the whole app lives under a secret path prefix, ``/t/<token>/`` (see ``base_path``): the URL that
  ``grader review`` prints is the capability. A request without the prefix is refused with 401, one
  with a wrong token in it with 403 (compared in constant time); the Host header must name this
  server (no DNS rebinding);
- no cookie is set or read: a browser sends a host's cookies to every port of that host, so any other
  web server on 127.0.0.1 that the instructor's browser visits would receive a token kept in one;
- every link, image, script, stylesheet, fetch and redirect carries the prefix; ``Referrer-Policy:
  no-referrer`` keeps it out of Referer headers, and the pages link to no other site;
- the old ``/?token=`` URL redirects (303, no cookie) to the same page under the prefix, as a path on
  this server (no open redirect);
- student ids travel as query parameters (``/t/<token>/student?id=..``), never as path segments that
  a browser would normalise (an id ``..`` or one with a ``/``);
- every state change is a JSON POST carrying the token in the ``X-Review-Token`` header too,
  which another site can neither read nor send (CSRF);
- student text is only ever inserted as text: Jinja2 autoescaping on the server, ``textContent``
  in the browser; the Content-Security-Policy allows only this server's scripts (static/), so even a
  mistake in escaping could not run a submission's script; notebook images are PNG bytes only.
"""

from __future__ import annotations

import hmac
import math
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from grader.batch.manual import MergeError, validate_manual_rows
from grader.review.classroom import Classroom
from grader.review.groups import BLANK, group_answers
from grader.review.store import Conflict, Grade, NewGrade, Override, Store, now
from grader.review.syncer import Syncer

HERE = Path(__file__).resolve().parent
PREFIX = "/t/"  # + the token: see base_path
TOKEN_CHARACTERS = re.compile(r"[A-Za-z0-9_-]+")  # secrets.token_urlsafe's: a path segment as it is
HEADER = "x-review-token"
OPEN_THE_PRINTED_URL = "open the URL that grader review printed (http://HOST:PORT/t/...)"
MAX_BODY = 64 * 1024
MAX_TEXT = 5000
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # the token is in every URL
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


@dataclass
class Review:
    """What the routes share: the class, the database, the writer of the reports, the token."""

    classroom: Classroom
    store: Store
    syncer: Syncer
    token: str
    allowed_hosts: tuple[str, ...]  # () when bound to another interface than the loopback: any


class BadRequest(Exception):
    """A request the server refuses with 400 and this message."""


def create_app(review: Review) -> Starlette:
    """The ASGI app; ``review.syncer`` must be started by the caller (see grader.review.server)."""
    if not TOKEN_CHARACTERS.fullmatch(review.token):
        raise ValueError("the access token is a path segment: letters, digits, '-' and '_' only")
    base = base_path(review.token)
    templates = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True)
    templates.filters["points"] = _points

    def page(name: str, **values: Any) -> HTMLResponse:
        values.update(token=review.token, base=base, sync_error=review.syncer.error)
        return HTMLResponse(templates.get_template(name).render(**values))

    async def index(request: Request) -> Response:
        grades = review.store.grades()
        questions = [
            {
                "question": q,
                "graded": _graded_count(review, q.id, grades),
                "total": len(review.classroom.reports),
            }
            for q in review.classroom.questions.values()
        ]
        return page("index.html.j2", questions=questions, students=sorted(review.classroom.reports))

    async def question(request: Request) -> Response:
        item = request.path_params["item"]
        if item not in review.classroom.questions:
            return PlainTextResponse(f"no written question '{item}'", status_code=404)
        return page("question.html.j2", **_question_view(review, item))

    async def student(request: Request) -> Response:
        name = request.query_params.get("id", "")
        report = review.classroom.reports.get(name)
        if report is None:
            return PlainTextResponse(f"no report for student '{name}'", status_code=404)
        log = [entry for entry in review.store.log() if entry.student == name]
        return page("student.html.j2", student=name, report=report, log=log)

    async def log_page(request: Request) -> Response:
        return page("log.html.j2", log=review.store.log())

    async def notebook_image(request: Request) -> Response:
        params = request.query_params
        name, item, number = params.get("student", ""), params.get("item", ""), params.get("n", "")
        if name not in review.classroom.reports or item not in review.classroom.questions:
            return PlainTextResponse("not found", status_code=404)
        images = review.classroom.notebook_images(name, item)
        if not number.isdigit() or not 0 <= int(number) < len(images):
            return PlainTextResponse("not found", status_code=404)
        return Response(images[int(number)], media_type="image/png")

    async def figure(request: Request) -> Response:
        """A figure the grader drew, by student and name: a PNG file inside OUT/reports/figures only."""
        name = request.query_params.get("student", "")
        report = review.classroom.reports.get(name)
        relative = report.figures.get(request.query_params.get("name", "")) if report else None
        root = (review.classroom.out / "reports" / "figures").resolve()
        path = (review.classroom.out / "reports" / relative).resolve() if relative else root
        if root not in path.parents or path.suffix != ".png" or not path.is_file():
            return PlainTextResponse("not found", status_code=404)
        return Response(path.read_bytes(), media_type="image/png")

    async def api_grade(request: Request) -> Response:
        body = await _json(request)
        grader, item, student_id = _grader(body), _text(body, "item", 200), _text(body, "student", 500)
        new = _new_grade(review, body, student_id, item)
        try:
            stored = review.store.save_grade(new, grader)
        except Conflict as conflict:
            return JSONResponse(
                {
                    "error": f"{conflict.current.grader} graded this answer meanwhile: reload it",
                    "current": _grade_json(conflict.current),
                },
                status_code=409,
            )
        review.syncer.mark(student_id)
        return JSONResponse({"grade": _grade_json(stored), "progress": _progress(review, item)})

    async def api_group(request: Request) -> Response:
        """Grade several answers at once; answers someone already graded are left as they are."""
        body = await _json(request)
        grader, item = _grader(body), _text(body, "item", 200)
        students = body.get("students")
        if not isinstance(students, list) or not students or not all(isinstance(s, str) for s in students):
            raise BadRequest("students: a non-empty list of student ids")
        graded = review.store.grades(item)
        saved, skipped = [], []
        for name in dict.fromkeys(students):
            new = _new_grade(review, body, name, item, version=0)
            if (name, item) in graded or _report_graded(review, name, item):
                skipped.append(name)
                continue
            try:
                saved.append(_grade_json(review.store.save_grade(new, grader)))
            except Conflict:
                skipped.append(name)
        review.syncer.mark(*(g["student"] for g in saved))
        return JSONResponse({"saved": saved, "skipped": skipped, "progress": _progress(review, item)})

    async def api_override(request: Request) -> Response:
        body = await _json(request)
        grader, name, item_id = _grader(body), _text(body, "student", 500), _text(body, "item", 200)
        report = review.classroom.reports.get(name)
        if report is None:
            raise BadRequest(f"unknown student '{name}'")
        try:
            item = report.item(item_id)
        except KeyError:
            raise BadRequest(f"student '{name}': unknown item '{item_id}'") from None
        if item.kind != "auto":
            raise BadRequest(f"item '{item_id}' is a written answer: grade it on its question page")
        points, reason = _number(body.get("points")), _text(body, "reason", MAX_TEXT).strip()
        if points is None or not 0 <= points <= item.max_score:
            raise BadRequest(f"points: a number from 0 to {_points(item.max_score)}")
        if not reason:
            raise BadRequest("reason: say why the score changes (e.g. the regrade request)")
        previous = review.store.overrides().get((name, item_id))
        stored = review.store.save_override(
            Override(
                name,
                item_id,
                points,
                reason,
                grader,
                now(),
                previous.original_score if previous else item.score,
                previous.original_status if previous else item.status,
                previous.original_feedback if previous else item.feedback,
                report.submission_sha256,
            )
        )
        review.syncer.mark(name)
        return JSONResponse({"override": asdict(stored)})

    async def api_question(request: Request) -> Response:
        item = request.path_params["item"]
        if item not in review.classroom.questions:
            return JSONResponse({"error": f"no written question '{item}'"}, status_code=404)
        grades = review.store.grades(item)
        return JSONResponse(
            {
                "grades": [_grade_json(g) for g in grades.values()],
                "progress": _progress(review, item),
                "comments": review.store.saved_comments(item),
                "sync_error": review.syncer.error,
            }
        )

    routes = [
        Route("/", index),
        Route("/q/{item}", question),
        Route("/student", student),
        Route("/log", log_page),
        Route("/img/notebook", notebook_image),
        Route("/img/figure", figure),
        Route("/api/grade", api_grade, methods=["POST"]),
        Route("/api/group", api_group, methods=["POST"]),
        Route("/api/override", api_override, methods=["POST"]),
        Route("/api/question/{item}", api_question),
        Mount("/static", app=StaticFiles(directory=HERE / "static"), name="static"),
    ]
    return Starlette(
        routes=[Mount(base, routes=routes)],  # the Guard lets nothing else through
        middleware=[Middleware(Guard, review=review)],
        exception_handlers={BadRequest: _bad_request},
    )


class Guard(BaseHTTPMiddleware):
    """The token's prefix on every request, the Host check, and the CSRF rule for state changes."""

    def __init__(self, app: Any, review: Review) -> None:
        super().__init__(app)
        self.review = review

    async def dispatch(self, request: Request, call_next: Any) -> Response:
        response = await self._check(request, call_next)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    async def _check(self, request: Request, call_next: Any) -> Response:
        host = request.headers.get("host", "").rsplit(":", 1)[0].strip("[]")
        if self.review.allowed_hosts and host not in self.review.allowed_hosts:
            return PlainTextResponse("unknown Host header", status_code=403)
        token, path = self.review.token, request.scope["path"]
        base = base_path(token)
        if not path.startswith(PREFIX):
            given = request.query_params.get("token", "") if request.method == "GET" else ""
            if not given:
                return _refuse(request, 401, OPEN_THE_PRINTED_URL)
            if not _same(given, token):
                return _refuse(request, 403, "wrong access token")
            # the URL grader review printed before: the same page under the prefix (old bookmarks)
            return RedirectResponse(base + same_server_target(request), status_code=303)
        segment, slash, _ = path[len(PREFIX) :].partition("/")
        if not segment:
            return _refuse(request, 401, OPEN_THE_PRINTED_URL)
        if not _same(segment, token):
            return _refuse(request, 403, "wrong access token")
        if not slash:  # /t/<token> alone: its index page is /t/<token>/
            return RedirectResponse(base + "/" + _query(request), status_code=303)
        if request.method != "GET":
            sent = request.headers.get(HEADER, "")
            if not sent:
                return JSONResponse({"error": "missing access token"}, status_code=401)
            if not _same(sent, token):
                return JSONResponse({"error": "wrong access token"}, status_code=403)
            if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
                return JSONResponse({"error": "send JSON"}, status_code=415)
        return await call_next(request)


def base_path(token: str) -> str:
    """The secret prefix of every path of the app: ``/t/<token>`` (then ``/``, ``/q/2b``, ``/static/..``)."""
    return PREFIX + token


def _same(sent: str, token: str) -> bool:
    """In constant time; bytes, since a path or header may hold any character (compare_digest refuses
    a str that is not ASCII)."""
    return hmac.compare_digest(sent.encode("utf-8", "surrogateescape"), token.encode("utf-8"))


def _refuse(request: Request, status: int, text: str) -> Response:
    if request.method != "GET":
        return JSONResponse({"error": text}, status_code=status)
    return PlainTextResponse(f"{status}: {text}", status_code=status)


def _query(request: Request) -> str:
    """The request's query without the token, with its ``?``; empty when nothing is left."""
    rest = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
    return "?" + "&".join(f"{quote(k)}={quote(v)}" for k, v in rest) if rest else ""


def same_server_target(request: Request) -> str:
    """The request's path and query without the token, as a path on this server (to put after the
    prefix): ``//evil.example/`` or ``/\\evil.example`` would be another site to a browser."""
    return "/" + request.scope["path"].lstrip("/\\") + _query(request)


async def _bad_request(request: Request, exc: Exception) -> Response:
    return JSONResponse({"error": str(exc)}, status_code=400)


async def _json(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise BadRequest("request too large")
    import json

    try:
        body = json.loads(raw)
    except ValueError:
        raise BadRequest("the body is not JSON") from None
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    return body


def _text(body: dict[str, Any], name: str, limit: int) -> str:
    value = body.get(name, "")
    if not isinstance(value, str) or len(value) > limit:
        raise BadRequest(f"{name}: text of at most {limit} characters")
    return value


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _grader(body: dict[str, Any]) -> str:
    return _text(body, "grader", 100).strip() or "instructor"


def _new_grade(
    review: Review, body: dict[str, Any], student: str, item: str, version: int | None = None
) -> NewGrade:
    """A grade checked like a merge-manual row (same messages), plus the criteria's indices."""
    report = review.classroom.reports.get(student)
    question = review.classroom.questions.get(item)
    if report is None or question is None:
        raise BadRequest(f"unknown student '{student}'" if report is None else f"unknown question '{item}'")
    criteria = body.get("criteria", [])
    if not isinstance(criteria, list) or not all(
        isinstance(i, int) and not isinstance(i, bool) and 0 <= i < len(question.criteria) for i in criteria
    ):
        raise BadRequest(f"criteria: indices from 0 to {len(question.criteria) - 1}")
    points = body.get("points")
    if points is None or points == "":
        points = sum(question.criteria[i].points for i in set(criteria))
    comment = _text(body, "comment", MAX_TEXT).strip()
    row = {"student": student, "item": item, "points": str(points), "comment": comment}
    try:
        scores, _ = validate_manual_rows([(1, row)], {student: report}, "this grade")
    except MergeError as exc:
        raise BadRequest(str(exc).split("\n", 1)[-1].strip().removeprefix("line 1: ")) from None
    seen = body.get("version", 0) if version is None else version
    if isinstance(seen, bool) or not isinstance(seen, int):
        raise BadRequest("version: the answer's version as loaded")
    return NewGrade(student, item, scores[0].points, comment, list(criteria), seen, report.submission_sha256)


def _grade_json(grade: Grade) -> dict[str, Any]:
    return asdict(grade)


def _report_graded(review: Review, student: str, item: str) -> bool:
    """Graded before the review (by merge-manual): counts as graded, and a group leaves it alone."""
    return review.classroom.answer(student, item).status != "manual"


def _is_current(review: Review, grade: Grade | None) -> bool:
    """A grade given to the submission now in the report (not to one replaced since, then regraded)."""
    report = review.classroom.reports.get(grade.student) if grade else None
    return report is not None and grade.submission_sha256 in ("", report.submission_sha256)


def _graded_count(review: Review, item: str, grades: dict[tuple[str, str], Grade]) -> int:
    return sum(
        _is_current(review, grades.get((s, item))) or _report_graded(review, s, item)
        for s in review.classroom.reports
    )


def _progress(review: Review, item: str) -> dict[str, int]:
    return {
        "graded": _graded_count(review, item, review.store.grades(item)),
        "total": len(review.classroom.reports),
    }


def _points(value: float) -> str:
    return f"{value:g}"


def _question_view(review: Review, item: str) -> dict[str, Any]:
    classroom, question = review.classroom, review.classroom.questions[item]
    grades = review.store.grades(item)
    answers = {s: classroom.answer(s, item).answer or "" for s in sorted(classroom.reports)}
    blank = {s for s, text in answers.items() if classroom.is_blank(text, item)}
    groups = group_answers(answers, blank)
    cards = []
    for group in groups:
        for name in group.students:
            result, stored = classroom.answer(name, item), grades.get((name, item))
            grade = stored if _is_current(review, stored) else None  # a resubmission is graded afresh
            cards.append(
                {
                    "student": name,
                    "group": group,
                    "answer": answers[name],
                    "blank": name in blank,
                    "grade": grade,
                    "graded": grade is not None or result.status != "manual",
                    "points": grade.points
                    if grade
                    else (result.score if result.status != "manual" else None),
                    "comment": grade.comment if grade else result.comment,
                    "ticked": set(grade.criteria) if grade else set(),
                    "version": stored.version if stored else 0,
                    "images": len(classroom.notebook_images(name, item)),
                    "figures": classroom.figures(name, item),
                }
            )
    return {
        "question": question,
        "groups": groups,
        "cards": cards,
        "blank_group": BLANK,
        "comments": review.store.saved_comments(item),
        "progress": _progress(review, item),
        "questions": list(classroom.questions.values()),
    }
