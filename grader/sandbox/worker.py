"""The sandboxed worker process: ``python -I -m grader.sandbox.worker CMD_FD REPLY_FD DIR``.

It imports TensorFlow once, loads the submission's cells into a module namespace, then
answers probe requests from the parent one by one. Student output goes to per-item log
files (file descriptors 1 and 2), never into the private reply channel.

This process is untrusted once student code has run in it: everything it sends is
raw data that the parent validates and checks.
"""

from __future__ import annotations
import __future__

import ast
import builtins
import contextlib
import json
import linecache
import os
import resource
import signal
import sys
import traceback
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from grader.sandbox import isolation
from grader.shared import RUNNING_STATEMENT

_loads = json.loads  # bound before student code runs, which may patch the json module
# The parent refuses longer strings (protocol.ERROR_SCHEMA): clip a student's long line here.
ERROR_FIELD_LIMITS = {"name": 200, "type": 200, "message": 4000, "advice": 2000}


def main(argv: list[str]) -> int:
    # Student code can walk its frames up to here: the init message and the grader's state stay
    # in _start's frame, gone once it returns (a submission cannot tell a self-check from a grading).
    worker, commands = _start(argv)
    if worker is None:
        return 1
    worker.load()
    worker.serve(commands)
    return 0


def preload(keras: str) -> None:
    """Import what a worker imports before student code, running no TensorFlow op (the zygote)."""
    from grader.sandbox import guards, protocol  # noqa: F401
    from grader.sandbox.keras_compat import configure_keras

    configure_keras(keras)
    import grader.probes.all  # noqa: F401


def _start(argv: list[str]) -> tuple[Worker | None, Any]:
    """Enter the isolation, import the grader, read the submission: everything before student code."""
    cmd_fd, reply_fd, sandbox = int(argv[1]), int(argv[2]), Path(argv[3])
    _die_with_parent()
    commands = os.fdopen(cmd_fd, "rb", buffering=0)
    init = json.loads(_read_line(commands))
    try:
        policy = _isolation_policy(init)
        # First: namespaces need a single-threaded process. With a PID namespace, this returns in
        # the worker, pid 2 of its namespace; the process the parent started waits for it.
        isolation.enter(policy, close_fds=(cmd_fd, reply_fd))
        _set_limits(init)
        worker = Worker(init, sandbox, reply_fd)
        if init.get("standby"):  # started ahead (TensorFlow imported): wait until the submission is there
            _read_line(commands)
        worker.read_submission(init)
        isolation.seal(policy)  # the grader's own code is read: close it before student code
    except BaseException:  # a grader bug before any student code ran: say so on the channel
        _send_raw(reply_fd, {"id": 0, "ok": False, "internal": traceback.format_exc()[-20000:]})
        return None, commands
    return worker, commands


class Worker:
    """Everything the worker needs, imported before the guards close the grader's packages."""

    def __init__(self, init: dict[str, Any], sandbox: Path, reply_fd: int):
        from grader.sandbox import guards
        from grader.sandbox.keras_compat import configure_keras

        keras = configure_keras(init["keras"], threads=init["threads"])
        import numpy as np

        import grader.probes.all  # noqa: F401  (registers every probe)
        from grader.probes.base import PROBES, StudentCallError, WorkerContext
        from grader.probes.common import reset_random_state
        from grader.sandbox.protocol import save_arrays, send

        self.probes, self.student_error, self.save_arrays = PROBES, StudentCallError, save_arrays
        self.reset_random_state = reset_random_state
        self._send = send
        self.sandbox, self.reply_fd = sandbox, reply_fd
        self.keras_version = keras.__version__ if keras is not None else "not loaded"
        self.np, self.guards, self.context_type = np, guards, WorkerContext

    def read_submission(self, init: dict[str, Any]) -> None:
        """Read the inputs and the submission's cells, then install the guards (before any student code)."""
        with self.np.load(self.sandbox / "inputs.npz", allow_pickle=False) as npz:
            inputs = {key: npz[key] for key in npz.files}
        payload = json.loads((self.sandbox / "submission.json").read_text())
        self.cells = payload["cells"]
        self.context = self.context_type(
            namespace={},
            inputs=inputs,
            budget={},
            work_dir=self.sandbox,
            filenames=frozenset(cell["filename"] for cell in self.cells),
            dropped=payload.get("dropped", {}),
        )
        if not init["trusted"]:
            self.guards.install(protected=init["protected"])
        self.builtins = dict(vars(builtins))

    def send(self, fd: int, message: dict[str, Any]) -> None:
        """Reply on the private channel, with the real builtins (student code may have replaced some)."""
        vars(builtins).update(self.builtins)
        self._send(fd, message)

    def load(self) -> None:
        """Execute the submission's cells in one module namespace, as Python would import it.

        A notebook's cells run on after one fails (like "run all" that does not stop), so a
        broken cell only costs the names it defines; each failure is reported. A cell the
        loading rule selected from (it has "timed") runs statement by statement, so one
        raising statement does not lose the rest of its cell, and its derived statements
        (``ATTENTION_OUTPUT = f(...)``) under a time limit: an endless one is reported, not fatal.
        """
        module = types.ModuleType("submission")
        module.__file__ = self.cells[0]["filename"] if self.cells else "submission.py"
        sys.modules["submission"] = module
        self.context.namespace = module.__dict__
        errors = []
        self.reset_random_state(0)
        running = self.sandbox / "output" / RUNNING_STATEMENT
        for index, cell in enumerate(self.cells):
            source, filename = cell["source"], cell["filename"]
            linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
            try:
                for code, lineno, limit in _compiled(cell):
                    if limit:  # a hang in C outlives SIGALRM: the parent reads which statement it was
                        running.write_text(json.dumps({"cell": index, "line": lineno}))
                    try:
                        with _time_limit(limit, filename, lineno):
                            self.context.guarded(f"the code in {filename}", exec, code, module.__dict__)
                    except self.student_error as exc:
                        errors.append(exc.info)
                    finally:
                        running.unlink(missing_ok=True)
            except SyntaxError as exc:  # the parent checks syntax first; kept as a safety net
                errors.append(
                    {"kind": "exception", "name": filename, "type": "SyntaxError", "message": str(exc)[:1000]}
                )
        _flush()
        defined = sorted(name[:200] for name in module.__dict__ if not name.startswith("__"))[:2000]
        errors = [_clip_error(error) for error in errors[:200]]
        data = {"errors": errors, "defined": defined, "keras": self.keras_version}
        self.send(self.reply_fd, {"id": 0, "ok": True, "data": data})

    def serve(self, commands: Any) -> None:
        """Answer requests until the parent closes the channel."""
        while True:
            line = _read_line(commands)
            if not line:
                return
            request = _loads(line)
            _switch_output(self.sandbox / "output" / f"{request.get('item', 'item')}.log")
            reply = self.answer(request)
            _flush()
            try:
                self.send(self.reply_fd, reply)
            except (TypeError, ValueError) as exc:  # data that is not JSON (e.g. NaN)
                message = f"unserialisable reply: {str(exc)[:1000]}"
                self.send(self.reply_fd, {"id": request["id"], "ok": False, "internal": message})

    def answer(self, request: dict[str, Any]) -> dict[str, Any]:
        reply: dict[str, Any] = {"id": request["id"], "ok": True, "data": {}, "arrays": None, "error": None}
        try:
            if request["op"] == "select":
                stage = self.context.stage(request["stage"])
                stage.selected = int(request["attempt"])
                stage.seeds[stage.selected] = int(request["seed"])
            elif request["op"] == "probe":
                self.context.budget = request.get("budget", self.context.budget)
                # Every probe starts from the same random state, whatever ran (or died) before it.
                self.reset_random_state(self.context.budget.get("seed", 0))
                # "calls:<function>" is one probe family: the name before the colon when not registered
                name = request["probe"]
                probe = self.probes.get(name) or self.probes[name.partition(":")[0]]
                output = probe(self.context, request.get("args", {}))
                reply["data"] = output.data
                if output.arrays:
                    name = f"r{request['id']}.npz"
                    reply["arrays"] = self.save_arrays(self.sandbox / "results", name, output.arrays)
            else:
                raise ValueError(f"unknown op {request['op']}")
        except self.student_error as exc:
            reply["ok"] = False
            reply["error"] = _clip_error(exc.info)
        except BaseException:  # a grader bug: report it, never hide it as a student error
            reply["ok"] = False
            reply["internal"] = traceback.format_exc()[-20000:]
        return reply


def _compiled(cell: dict[str, Any]) -> list[tuple[Any, int, float]]:
    """(code, first line, time limit in s or 0) to run in order: the whole cell, or each statement."""
    source, filename = cell["source"], cell["filename"]
    if "timed" not in cell:
        return [(compile(source, filename, "exec"), 1, 0.0)]
    timed, limit = set(cell["timed"]), float(cell.get("time_limit_s", 0))
    skipped = set(cell.get("skip", ()))  # statements that hung an earlier load (grading.py)
    tree = compile(source, filename, "exec", ast.PyCF_ONLY_AST)
    compiled, flags = [], 0
    for statement in tree.body:
        if statement.lineno in skipped:
            continue
        if isinstance(statement, ast.ImportFrom) and statement.module == "__future__":
            # a future import applies to the statements after it, as in one module
            flags |= sum(
                getattr(__future__, alias.name, __future__.annotations).compiler_flag
                for alias in statement.names
            )
        module = ast.Module(body=[statement], type_ignores=[])
        code = compile(module, filename, "exec", flags=flags, dont_inherit=True)
        compiled.append((code, statement.lineno, limit if statement.lineno in timed else 0.0))
    return compiled


@contextlib.contextmanager
def _time_limit(seconds: float, filename: str, lineno: int) -> Iterator[None]:
    """SIGALRM ends a statement that runs too long (the parent's load timeout covers a hang in C)."""
    if seconds <= 0:
        yield
        return

    def expire(signum: int, frame: Any) -> None:
        raise TimeoutError(
            f"the statement at {filename}, line {lineno} ran longer than {seconds:g} s while loading, "
            f"so the grader skipped it"
        )

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _clip_error(error: dict[str, Any]) -> dict[str, Any]:
    clipped = dict(error)
    for key, limit in ERROR_FIELD_LIMITS.items():
        if isinstance(clipped.get(key), str):
            clipped[key] = clipped[key][:limit]
    if "traceback" in error:
        clipped["traceback"] = [line[:1000] for line in error["traceback"][-20:]]
    return clipped


def _isolation_policy(init: dict[str, Any]) -> isolation.Policy | None:
    """The kernel isolation the parent asked for (None: the trusted worker, or an old parent)."""
    raw = init.get("isolation")
    return isolation.Policy.from_dict(raw) if raw and not init["trusted"] else None


def _die_with_parent() -> None:
    """Linux: the kernel kills this worker when the grader that started it dies (even by SIGKILL),
    so a killed batch leaves no worker spinning on a student's endless loop."""
    try:
        import ctypes
        import signal

        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the supervisor's cleanup still applies
        pass


def _send_raw(fd: int, message: dict[str, Any]) -> None:
    data = (json.dumps(message) + "\n").encode()
    while data:
        data = data[os.write(fd, data) :]


def _set_limits(init: dict[str, Any]) -> None:
    """Kernel limits where the OS allows: output file size, core dumps, processes (not as root)."""
    fsize = int(init.get("fsize_mb", 64)) * 2**20
    limits = [(resource.RLIMIT_FSIZE, fsize), (resource.RLIMIT_CORE, 0)]
    nproc = _process_limit()
    if nproc is not None:
        limits.append((resource.RLIMIT_NPROC, nproc))
    for limit, value in limits:
        try:
            hard = resource.getrlimit(limit)[1]
            value = value if hard == resource.RLIM_INFINITY else min(value, hard)
            resource.setrlimit(limit, (value, value))
        except (ValueError, OSError):
            pass
    # Python ignores SIGXFSZ, so a print flood would only raise OSError in the student's code;
    # the default action ends the worker, and the parent reports "too much output".
    signal.signal(signal.SIGXFSZ, signal.SIG_DFL)


def _process_limit() -> int | None:
    """RLIMIT_NPROC for a non-root worker: the user's current tasks, plus room for TF's threads.

    The kernel counts every thread of the real user (and ignores the limit for root), so this
    is only a backstop against a fork bomb; the parent's monitor enforces the precise count.
    """
    if os.geteuid() == 0 or not os.path.isdir("/proc/self/task"):
        return None
    uid, used = os.getuid(), 0
    for entry in os.scandir("/proc"):
        try:
            if entry.name.isdigit() and entry.stat().st_uid == uid:
                used += len(os.listdir(f"/proc/{entry.name}/task"))
        except OSError:
            continue
    return used + max(1024, 128 * (os.cpu_count() or 1))


def _switch_output(path: Path) -> None:
    _flush()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # a student may have replaced or closed the stream
            pass


def _read_line(stream: Any) -> bytes:
    chunks = []
    while True:
        byte = stream.read(1)
        if not byte or byte == b"\n":
            return b"".join(chunks)
        chunks.append(byte)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
