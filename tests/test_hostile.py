"""The hostile corpus (``tests/hostile/``): nothing crashes the grader, nothing earns unearned points.

Each folder of the corpus holds a submission and ``expected.toml``: the outcome it must get
(which items score 0, which keep full marks, statuses, feedback phrases, integrity flags, the
wall time). The corpus is graded as two classes with ``grader batch`` (its ``run_batch``),
exactly as an instructor would grade it:

* the ``transposed_conv`` entries (NumPy only: fast), into an output folder that already
  holds the reference's report, which must come out byte for byte untouched;
* the ``autoencoders`` entries (TensorFlow), with the smoke budget and Exercise 1's items,
  beside the reference, which must still earn full marks under the short time limits.

Both rubrics are copies with short time limits, so that hangs cost seconds, not minutes.
Submissions may name ``__REPO__``, ``__OUT_DIR__``, ``__MARKER_DIR__``, ``__RUBRIC__``,
``__CLASS_DIR__``, ``__CACHE__`` (the grader's cache), ``__PORT__`` (a TCP listener on
127.0.0.1 that the test opens) and ``__GRADER_PID__``: a cheat with full knowledge of where the
grader keeps its files.
"""

from __future__ import annotations

import json
import os
import re
import socket
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import psutil
import pytest
from rubric_tools import anchored

from grader.batch.runner import BatchConfig, run_batch
from grader.data import user_cache_dir
from grader.grading import GradeOptions
from grader.report.model import Report
from grader.report.writer import read_report
from grader.sandbox import isolation, protocol
from grader.sandbox.supervisor import SandboxLimits, enforceable_paths

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

REPO = Path(__file__).resolve().parent.parent
CORPUS = Path(__file__).resolve().parent / "hostile"
ENTRIES = sorted(path.name for path in CORPUS.iterdir() if (path / "expected.toml").is_file())
VICTIM = "reference_transposed_conv"  # the report the cheats try to overwrite
KNOWN_KEYS = {
    "threat",
    "kind",
    "rubric",
    "max_seconds",
    "report_status",
    "zero",
    "full",
    "status",
    "feedback",
    "integrity",
    "notebook_cells",
    "process_gone",
    "planted",
    "marker_absent",
    "output",
}
# One set of limits per class (a batch has one): low enough that the limits are reached fast.
TC_LIMITS = SandboxLimits(memory_mb=512, processes=8, output_file_mb=16)
TC_TIMEOUTS = {"load_timeout_s": 5, "timeout_s": 10}
# TensorFlow's import counts in the load time limit, not in the items' (a fresh worker reloads).
AE_TIMEOUTS = {"load_timeout_s": 120, "timeout_s": 10, "training_timeout_s": 45}


def expected(entry: str) -> dict[str, Any]:
    return tomllib.loads((CORPUS / entry / "expected.toml").read_text())


# -- building the two classes -------------------------------------------------------------------------


def transposed_conv_rubric(folder: Path) -> Path:
    text = anchored((REPO / "rubrics" / "transposed_conv.toml").read_text())
    text = re.sub(r"(?m)^load_timeout_s = \d+", f"load_timeout_s = {TC_TIMEOUTS['load_timeout_s']}", text)
    text = re.sub(r"(?m)^timeout_s = \d+", f"timeout_s = {TC_TIMEOUTS['timeout_s']}", text)
    path = folder / "transposed_conv.toml"
    path.write_text(text)
    return path


def autoencoders_rubric(folder: Path) -> Path:
    """Exercise 1 of the autoencoders rubric (models, training, figures), with short time limits."""
    head, *items = anchored((REPO / "rubrics" / "autoencoders.toml").read_text()).split("[[items]]")
    head = re.sub(r"(?m)^load_timeout_s = \d+", f"load_timeout_s = {AE_TIMEOUTS['load_timeout_s']}", head)
    kept = []
    for item in items:
        if re.search(r'(?m)^exercise = "1"$', item):
            limit = AE_TIMEOUTS["training_timeout_s" if 'check = "ae_training"' in item else "timeout_s"]
            kept.append(re.sub(r"(?m)^timeout_s = \d+", f"timeout_s = {limit}", item))
    path = folder / "autoencoders.toml"
    path.write_text(head + "".join("[[items]]" + item for item in kept))
    return path


def notebook(source: str, cells: int) -> str:
    """``source`` split into cells at its top-level definitions, padded to ``cells`` cells."""
    parts = [part for part in re.split(r"\n\n\n+", source) if part.strip()]  # PEP 8's two blank lines
    padding = [f"filler_{i} = {i}" if i % 2 else f"Note {i}." for i in range(cells - len(parts))]

    def cell(index: int, text: str, kind: str) -> dict[str, Any]:
        extra = {"execution_count": None, "outputs": []} if kind == "code" else {}
        return {"cell_type": kind, "id": f"c{index}", "metadata": {}, "source": text, **extra}

    content = [cell(i, text, "code") for i, text in enumerate(parts)]
    content += [cell(len(parts) + i, text, "code" if i % 2 else "markdown") for i, text in enumerate(padding)]
    return json.dumps({"cells": content, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def copy_entry(entry: str, classroom: Path, places: dict[str, str]) -> None:
    """The entry as a student's folder of the class, its placeholders filled in."""
    source = (CORPUS / entry / "submission.py").read_text()
    for name, value in places.items():
        source = source.replace(name, value)
    folder = classroom / entry
    folder.mkdir()
    cells = expected(entry).get("notebook_cells")
    if cells:
        (folder / "submission.ipynb").write_text(notebook(source, cells))
    else:
        (folder / "submission.py").write_text(source)


@dataclass
class Graded:
    out: Path
    marker: Path
    victim_files: dict[str, bytes]  # the reference's files before the hostile class was graded
    messages: list[str]

    def report(self, student: str) -> Report:
        return read_report(self.out / "reports" / f"{student}.json")


def grade_class(
    classroom: Path, rubric: Path, out: Path, options: GradeOptions, workers: int, resume: bool = False
) -> list[str]:
    messages: list[str] = []
    config = BatchConfig(classroom, rubric, out, options=options, workers=workers, resume=resume)
    run_batch(config, echo=messages.append)
    return messages


def placeholders(classroom: Path, out: Path, marker: Path, rubric: Path, port: int) -> dict[str, str]:
    return {
        "__REPO__": str(REPO),
        "__OUT_DIR__": str(out),
        "__MARKER_DIR__": str(marker),
        "__RUBRIC__": str(rubric),
        "__CLASS_DIR__": str(classroom),
        "__CACHE__": str(user_cache_dir()),
        "__PORT__": str(port),
        "__GRADER_PID__": str(os.getpid()),
    }


def build_transposed_conv_class(root: Path, port: int) -> Graded:
    classroom, out, marker = root / "class", root / "out", root / "marker"
    for folder in (classroom, marker):
        folder.mkdir(parents=True)
    rubric = transposed_conv_rubric(root)
    options = GradeOptions(limits=TC_LIMITS, all_cells=True)
    # The reference is graded first: its report is in the output folder before any cheat runs.
    (classroom / f"{VICTIM}.py").write_text((REPO / "reference" / "transposed_conv.py").read_text())
    grade_class(classroom, rubric, out, options, workers=1)
    files = [path for path in out.rglob("*") if path.is_file() and VICTIM in str(path.relative_to(out))]
    victim = {str(path.relative_to(out)): path.read_bytes() for path in files}
    places = placeholders(classroom, out, marker, rubric, port)
    for entry in ENTRIES:
        if expected(entry)["rubric"] == "transposed_conv":
            copy_entry(entry, classroom, places)
    messages = grade_class(classroom, rubric, out, options, workers=3, resume=True)
    return Graded(out, marker, victim, messages)


def build_autoencoders_class(root: Path, port: int) -> Graded:
    classroom, out, marker = root / "class", root / "out", root / "marker"
    for folder in (classroom, marker):
        folder.mkdir(parents=True)
    rubric = autoencoders_rubric(root)
    (classroom / "reference_autoencoders.py").write_text((REPO / "reference" / "autoencoders.py").read_text())
    places = placeholders(classroom, out, marker, rubric, port)
    for entry in ENTRIES:
        if expected(entry)["rubric"] == "autoencoders":
            copy_entry(entry, classroom, places)
    messages = grade_class(classroom, rubric, out, GradeOptions(budget="smoke", all_cells=True), workers=2)
    return Graded(out, marker, {}, messages)


@dataclass
class Listener:
    """A TCP server on 127.0.0.1 that records every connection a cheat makes to it."""

    server: socket.socket
    connections: list[str]

    @property
    def port(self) -> int:
        return self.server.getsockname()[1]


@pytest.fixture(scope="module")
def listener() -> Any:
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.5)
    found = Listener(server, [])
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                connection, peer = server.accept()
            except (TimeoutError, OSError):
                continue
            found.connections.append(str(peer))
            connection.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield found
    stop.set()
    thread.join()
    server.close()


@pytest.fixture(scope="module")
def classes(tmp_path_factory: pytest.TempPathFactory, listener: Listener) -> dict[str, Graded]:
    """Both classes, graded at the same time (the TensorFlow one takes longest)."""
    results: dict[str, Any] = {}
    # Made here, not in the threads: the first mktemp of a worker creates pytest's base folder,
    # and two threads doing that at once fail (CI: FileExistsError on .../popen-gw0).
    folders = {name: tmp_path_factory.mktemp(name) for name in ("transposed_conv", "autoencoders")}

    def run(name: str, build: Any) -> None:
        try:
            results[name] = build(folders[name], listener.port)
        except BaseException as exc:  # re-raised below, in the test's thread
            results[name] = exc

    threads = [
        threading.Thread(target=run, args=("transposed_conv", build_transposed_conv_class)),
        threading.Thread(target=run, args=("autoencoders", build_autoencoders_class)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for value in results.values():
        if isinstance(value, BaseException):
            raise value
    return results


# -- every entry gets the outcome it must get ------------------------------------------------------------


def items_named(report: Report, spec: Any) -> list[str]:
    auto = [item.id for item in report.items if item.kind != "manual"]
    return auto if spec == "all" else list(spec)


@pytest.mark.parametrize("entry", ENTRIES)
def test_corpus_entry_gets_its_expected_outcome(entry: str, classes: dict[str, Graded]) -> None:
    want = expected(entry)
    graded = classes[want["rubric"]]
    report = graded.report(entry)
    ids = {item.id for item in report.items}
    unknown = {*want.get("status", {}), *want.get("feedback", {})} - ids - {"*"}
    assert not unknown, f"expected.toml names items the rubric lacks: {unknown}"

    assert report.seconds <= want["max_seconds"], f"grading took {report.seconds} s"
    if "report_status" in want:
        assert report.status == want["report_status"]
    for item_id in items_named(report, want.get("zero", [])):
        item = report.item(item_id)
        assert item.score == 0, f"{item_id} earned unearned points: {item.feedback}"
    for item_id in items_named(report, want.get("full", [])):
        item = report.item(item_id)
        assert (item.status, item.score) == ("passed", item.max_score), f"{item_id}: {item.feedback}"
    for item_id, status in want.get("status", {}).items():
        for one in items_named(report, "all") if item_id == "*" else [item_id]:
            assert report.item(one).status == status, f"{one}: {report.item(one).feedback}"
    for item_id, phrases in want.get("feedback", {}).items():
        for phrase in phrases:
            assert phrase in report.item(item_id).feedback
    for item_id, phrases in want.get("output", {}).items():  # what the submission itself printed
        for phrase in phrases:
            assert phrase in report.item(item_id).output, f"{item_id}: {report.item(item_id).output[:500]}"
    if want.get("integrity"):
        flags = report.item("integrity")
        assert flags.visibility == "hidden" and flags.max_score == 0
        for phrase in want["integrity"]:
            assert phrase in flags.feedback


@pytest.mark.parametrize("entry", ENTRIES)
def test_corpus_entry_is_well_formed(entry: str) -> None:
    want = expected(entry)
    assert set(want) <= KNOWN_KEYS, f"unknown keys {set(want) - KNOWN_KEYS}"
    assert want["kind"] in ("accident", "cheat") and want["rubric"] in ("transposed_conv", "autoencoders")
    assert want.get("zero") or want.get("full"), "an entry says which items must score 0 (or keep full marks)"
    assert (CORPUS / entry / "submission.py").is_file()


def test_every_report_is_small_however_much_the_submission_printed(classes: dict[str, Graded]) -> None:
    for graded in classes.values():
        for path in (graded.out / "reports").glob("*.json"):
            assert path.stat().st_size < 512 * 1024, f"{path.name} is {path.stat().st_size} bytes"


# -- the batch, the other students' reports, the processes -------------------------------------------------


def test_the_batch_grades_every_entry(classes: dict[str, Graded]) -> None:
    for name, graded in classes.items():
        students = {path.stem for path in (graded.out / "reports").glob("*.json")}
        wanted = {entry for entry in ENTRIES if expected(entry)["rubric"] == name}
        assert wanted <= students, f"no report for {wanted - students}"


def test_the_reference_report_is_untouched_by_the_hostile_class(classes: dict[str, Graded]) -> None:
    graded = classes["transposed_conv"]
    assert graded.victim_files, "the reference's report was written before the hostile class"
    now = {name: (graded.out / name).read_bytes() for name in graded.victim_files}
    assert now == graded.victim_files
    assert any(f"{VICTIM}: skipped" in message for message in graded.messages)
    report = graded.report(VICTIM)
    assert report.score == report.max_score


def test_the_reference_keeps_full_marks_under_the_short_time_limits(classes: dict[str, Graded]) -> None:
    report = classes["autoencoders"].report("reference_autoencoders")
    assert [item.id for item in report.items if item.score != item.max_score] == []


def test_files_a_cheat_tries_to_plant_in_the_output_folder_do_not_exist(classes: dict[str, Graded]) -> None:
    for entry in ENTRIES:
        want = expected(entry)
        for relative in want.get("planted", []):
            assert not os.path.lexists(classes[want["rubric"]].out / relative), relative
        for relative in want.get("marker_absent", []):
            assert not os.path.lexists(classes[want["rubric"]].marker / relative), relative


def test_no_cheat_reached_the_test_s_tcp_listener(classes: dict[str, Graded], listener: Listener) -> None:
    assert classes and listener.connections == []


KERNEL_ISOLATION = isolation.kernel_enforced(isolation.detect().abi)


@pytest.mark.skipif(not KERNEL_ISOLATION, reason="this kernel has no Landlock with TCP rules")
def test_every_report_records_kernel_isolation(classes: dict[str, Graded]) -> None:
    for graded in classes.values():
        for path in (graded.out / "reports").glob("*.json"):
            report = read_report(path)
            if report.status != "error" or report.isolation:  # an error row may have no sandbox
                assert report.isolation.startswith("landlock-abi"), (path.name, report.isolation)
        assert "Isolation of the student code: landlock-abi" in (graded.out / "summary.md").read_text()


def test_a_background_process_does_not_outlive_the_grading(classes: dict[str, Graded]) -> None:
    checked = 0
    for entry in ENTRIES:
        want = expected(entry)
        if "process_gone" not in want:
            continue
        output = classes[want["rubric"]].report(entry).item(want["process_gone"]).output
        found = re.search(r"background pid (\d+) in (pid:\[\d+\])", output)
        assert found, "the cheat's background process started (else this test proves nothing)"
        pid, namespace = int(found.group(1)), found.group(2)
        checked += 1
        # In a PID namespace of its own the pid is the namespace's: nothing may be left in it.
        own = namespace != os.readlink("/proc/self/ns/pid")
        deadline = time.monotonic() + 5
        while _left(pid, namespace, own) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _left(pid, namespace, own), f"process {pid} of {entry} outlived its grading"
    assert checked


def _left(pid: int, namespace: str, own: bool) -> bool:
    if not own:
        return _alive(pid)
    for entry in os.scandir("/proc"):
        try:
            if entry.name.isdigit() and os.readlink(f"/proc/{entry.name}/ns/pid") == namespace:
                if _alive(int(entry.name)):
                    return True
        except OSError:
            continue
    return False


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE  # a zombie is dead, awaiting its reaper
    except psutil.NoSuchProcess:
        return False


# -- hardening that no single entry shows ------------------------------------------------------------------


def _reply(**fields: Any) -> bytes:
    return json.dumps({"id": 1, "ok": True, "data": {}} | fields).encode()


@pytest.mark.parametrize(
    ("line", "why"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"id": 1, "ok": true, "data": {"loss": NaN}}', "NaN is not allowed"),
        (b'{"id": 1, "ok": true, "data": {"n": ' + b"9" * 5000 + b"}}", "not JSON"),
    ],
    ids=["deep-nesting", "nan", "huge-int"],
)
def test_a_forged_reply_is_refused_not_a_crash_of_the_parent(line: bytes, why: str) -> None:
    with pytest.raises(protocol.ProtocolError, match=why):
        protocol.decode_reply(line, 1)


def test_a_forged_load_reply_cannot_put_arbitrary_errors_into_the_report() -> None:
    forged = _reply(id=0, data={"errors": "all tests passed"})
    with pytest.raises(protocol.ProtocolError, match="invalid message"):
        protocol.decode_reply(forged, 0, protocol.LOAD_DATA_SCHEMA)
    with pytest.raises(protocol.ProtocolError, match="invalid message"):
        protocol.decode_reply(_reply(id=0, data={"score": 4.0}), 0, protocol.LOAD_DATA_SCHEMA)


def test_an_array_file_that_is_a_symlink_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret.npz"
    np.savez(secret, answer=np.ones(3))
    results = tmp_path / "results"
    results.mkdir()
    (results / "r1.npz").symlink_to(secret)
    with pytest.raises(protocol.ProtocolError, match="missing"):
        protocol.load_arrays(results, "r1.npz")


def test_a_protected_folder_that_holds_the_sandbox_or_python_is_not_enforced(tmp_path: Path) -> None:
    sandbox = tmp_path / "grader-sandbox-x"
    sandbox.mkdir()
    out = tmp_path / "out"
    kept = enforceable_paths((str(tmp_path), str(out), os.path.dirname(sys.prefix)), sandbox)
    assert kept == [os.path.realpath(out)]


def test_a_non_root_worker_gets_a_process_limit_above_what_its_user_already_runs(monkeypatch) -> None:
    from grader.sandbox import worker

    monkeypatch.setattr(os, "geteuid", lambda: 1000)  # as if not root; counts this user's tasks
    limit = worker._process_limit()
    assert limit is not None and limit >= len(os.listdir("/proc/self/task")) + 1024


def test_a_stale_monitor_does_not_kill_the_restarted_worker() -> None:
    """The monitor of a worker killed for its processes may still run its kill loop when the
    next worker starts: it must leave the new one alone (CI once saw a BrokenPipeError here)."""
    import subprocess

    from grader.sandbox.supervisor import Sandbox

    sandbox = Sandbox(cells=[], inputs={})
    old = subprocess.Popen(["sleep", "30"])
    new = subprocess.Popen(["sleep", "30"])
    try:
        sandbox.process = new
        sandbox._kill("processes", old)  # what the old worker's monitor thread would call
        assert new.poll() is None, "the stale monitor killed the new worker"
        assert sandbox._kill_reason is None
    finally:
        for process in (old, new):
            process.kill()
            process.wait()
        sandbox.process = None
        sandbox.close()


def test_no_report_of_the_hostile_classes_holds_a_terminal_escape_or_markdown_of_a_students(
    classes: dict[str, Graded],
) -> None:
    """Student text in every Markdown file is text: no raw control character (OSC 52, ESC[?1049h,
    C1 ...) for a terminal to replay, and no link or HTML when rendered (markdown_spoof,
    terminal_escapes_in_errors)."""
    from markdown_it import MarkdownIt

    controls = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
    for graded in classes.values():
        for path in [graded.out / "summary.md", *(graded.out / "reports").glob("*.md")]:
            text = path.read_text(encoding="utf-8")
            assert not controls.search(text), f"{path.name}: {controls.search(text)!r}"
            tokens = MarkdownIt("commonmark").enable("table").parse(text)
            kinds = {t.type for token in tokens for t in [token, *(token.children or [])]}
            assert not kinds & {"link_open", "html_inline", "html_block"}, path.name
    spoofed = (classes["transposed_conv"].out / "reports" / "markdown_spoof.md").read_text(encoding="utf-8")
    tokens = MarkdownIt("commonmark").enable("table").parse(spoofed)
    headings = [tokens[i + 1].content for i, token in enumerate(tokens) if token.type == "heading_open"]
    assert [h for h in headings if h.startswith("tc1-random")] == ["tc1-random (0 / 0.5, error)"], headings
