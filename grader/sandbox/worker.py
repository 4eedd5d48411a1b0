"""The sandboxed worker process: ``python -I -m grader.sandbox.worker CMD_FD REPLY_FD DIR``.

It imports TensorFlow once, loads the submission's cells into a module namespace, then
answers probe requests from the parent one by one. Student output goes to per-item log
files (file descriptors 1 and 2), never into the private reply channel.

This process is untrusted once student code has run in it: everything it sends is
raw data that the parent validates and checks.
"""

from __future__ import annotations

import json
import linecache
import os
import resource
import sys
import traceback
import types
from pathlib import Path
from typing import Any


def main(argv: list[str]) -> int:
    cmd_fd, reply_fd, sandbox = int(argv[1]), int(argv[2]), Path(argv[3])
    commands = os.fdopen(cmd_fd, "rb", buffering=0)
    init = json.loads(_read_line(commands))
    _set_limits(init)
    try:
        worker = Worker(init, sandbox, reply_fd)
    except BaseException:  # a grader bug before any student code ran: say so on the channel
        _send_raw(reply_fd, {"id": 0, "ok": False, "internal": traceback.format_exc()[-20000:]})
        return 1
    worker.load()
    worker.serve(commands)
    return 0


class Worker:
    """Everything the worker needs, imported before the guards close the grader's packages."""

    def __init__(self, init: dict[str, Any], sandbox: Path, reply_fd: int):
        from grader.sandbox import guards
        from grader.sandbox.keras_compat import configure_keras

        keras = configure_keras(init["keras"], threads=init["threads"])
        import numpy as np

        import grader.probes.all  # noqa: F401  (registers every probe)
        from grader.probes.base import PROBES, StudentCallError, WorkerContext
        from grader.sandbox.protocol import save_arrays, send

        self.probes, self.student_error, self.save_arrays, self.send = PROBES, StudentCallError, save_arrays, send
        self.sandbox, self.reply_fd = sandbox, reply_fd
        self.keras_version = keras.__version__ if keras is not None else "not loaded"
        with np.load(sandbox / "inputs.npz", allow_pickle=False) as npz:
            inputs = {key: npz[key] for key in npz.files}
        payload = json.loads((sandbox / "submission.json").read_text())
        self.cells = payload["cells"]
        self.context = WorkerContext(
            namespace={},
            inputs=inputs,
            budget={},
            work_dir=sandbox,
            filenames=frozenset(cell["filename"] for cell in self.cells),
            dropped=payload.get("dropped", {}),
        )
        if not init["trusted"]:
            guards.install(protected=init["protected"])

    def load(self) -> None:
        """Execute the submission's cells in one module namespace, as Python would import it.

        A notebook's cells run on after one fails (like "run all" that does not stop), so a
        broken cell only costs the names it defines; each failure is reported.
        """
        module = types.ModuleType("submission")
        module.__file__ = self.cells[0]["filename"] if self.cells else "submission.py"
        sys.modules["submission"] = module
        self.context.namespace = module.__dict__
        errors = []
        for cell in self.cells:
            source, filename = cell["source"], cell["filename"]
            linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
            try:
                code = compile(source, filename, "exec")
                self.context.guarded(f"the code in {filename}", exec, code, module.__dict__)
            except self.student_error as exc:
                errors.append(exc.info)
            except SyntaxError as exc:  # the parent checks syntax first; kept as a safety net
                errors.append({"kind": "exception", "name": filename, "type": "SyntaxError", "message": str(exc)})
        _flush()
        defined = sorted(name for name in module.__dict__ if not name.startswith("__"))
        data = {"errors": errors, "defined": defined[:2000], "keras": self.keras_version}
        self.send(self.reply_fd, {"id": 0, "ok": True, "data": data})

    def serve(self, commands: Any) -> None:
        """Answer requests until the parent closes the channel."""
        while True:
            line = _read_line(commands)
            if not line:
                return
            request = json.loads(line)
            _switch_output(self.sandbox / "output" / f"{request.get('item', 'item')}.log")
            reply = self.answer(request)
            _flush()
            try:
                self.send(self.reply_fd, reply)
            except (TypeError, ValueError) as exc:  # data that is not JSON (e.g. NaN)
                self.send(self.reply_fd, {"id": request["id"], "ok": False, "internal": f"unserialisable reply: {exc}"})

    def answer(self, request: dict[str, Any]) -> dict[str, Any]:
        reply: dict[str, Any] = {"id": request["id"], "ok": True, "data": {}, "arrays": None, "error": None}
        try:
            if request["op"] == "select":
                stage = self.context.stage(request["stage"])
                stage.selected = int(request["attempt"])
                stage.seeds[stage.selected] = int(request["seed"])
            elif request["op"] == "probe":
                self.context.budget = request.get("budget", self.context.budget)
                output = self.probes[request["probe"]](self.context, request.get("args", {}))
                reply["data"] = output.data
                if output.arrays:
                    name = f"r{request['id']}.npz"
                    reply["arrays"] = self.save_arrays(self.sandbox / "results", name, output.arrays)
            else:
                raise ValueError(f"unknown op {request['op']}")
        except self.student_error as exc:
            reply["ok"] = False
            reply["error"] = exc.info
        except BaseException:  # a grader bug: report it, never hide it as a student error
            reply["ok"] = False
            reply["internal"] = traceback.format_exc()[-20000:]
        return reply


def _send_raw(fd: int, message: dict[str, Any]) -> None:
    data = (json.dumps(message) + "\n").encode()
    while data:
        data = data[os.write(fd, data) :]


def _set_limits(init: dict[str, Any]) -> None:
    """Kernel limits where the OS allows: output file size, core dumps."""
    fsize = int(init.get("fsize_mb", 64)) * 2**20
    for limit, value in ((resource.RLIMIT_FSIZE, fsize), (resource.RLIMIT_CORE, 0)):
        try:
            resource.setrlimit(limit, (value, value))
        except (ValueError, OSError):
            pass


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
