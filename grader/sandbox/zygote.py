"""The zygote: one process that imports TensorFlow once and forks every sandboxed worker.

A fresh worker spends 4 to 10 s importing TensorFlow before it loads a submission. The zygote
pays that once per grader process and Keras flavour: it imports what a worker imports
(TensorFlow, Keras, NumPy, matplotlib, the probes), never runs a TensorFlow op, and forks a
child per worker. A forked child is single-threaded, so it can still enter its namespaces and
Landlock exactly as a fresh worker does (``grader.sandbox.worker.main``); from there on it is the
same worker. See docs/architecture.md, "The zygote".

Safety rules, each enforced here:

* no op before a fork: the zygote counts its OS threads after its imports and refuses to fork
  once the count has grown (a TensorFlow op starts thread pools; a fork then copies locks that
  other threads hold);
* the supervisor sees an ordinary process: the child is in its own session, its exit status
  comes back over the zygote's channel (:class:`ForkedProcess` has the part of
  ``subprocess.Popen`` the supervisor uses);
* a dead zygote, or one that refuses, means a fresh worker as before (the report records which
  kind ran: ``Report.worker``).

The protocol is one record per message on a ``SOCK_SEQPACKET`` socket pair, the worker's file
descriptors passed with ``SCM_RIGHTS``. This module is the trusted side; the zygote process
itself is ``grader/sandbox/zygote_process.py``.
"""

from __future__ import annotations

import atexit
import functools
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ZYGOTE_COMMAND = ("-I", "-m", "grader.sandbox.zygote_process")
START_TIMEOUT_S = 180.0  # TensorFlow's import on a busy machine
FORK_TIMEOUT_S = 30.0
MAX_RECORD = 1 << 20


class ZygoteUnavailable(Exception):
    """The zygote cannot fork this worker (dead, refusing, or never started): start a fresh one."""


def fork_refusal(baseline: int, threads: int) -> str | None:
    """Why the zygote must not fork now, or None: its OS threads grew since its imports."""
    if threads > baseline:
        return f"the zygote has {threads} OS threads, {baseline} after its imports: something ran in it"
    return None


def thread_count() -> int:
    """This process's OS threads (Linux)."""
    return len(os.listdir("/proc/self/task"))


def enabled() -> bool:
    """Whether workers are forked from a zygote here: Linux, unless ``GRADER_ZYGOTE=0``."""
    return sys.platform == "linux" and os.environ.get("GRADER_ZYGOTE", "1") != "0"


# -- the trusted side ----------------------------------------------------


@dataclass
class ForkedProcess:
    """A worker forked by a zygote: ``pid``, ``poll``, ``wait`` and ``returncode`` as in Popen."""

    pid: int
    zygote: Zygote
    returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            self.returncode = self.zygote.returncode(self.pid)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            code = self.zygote.wait(self.pid, timeout)
            if code is None:
                raise subprocess.TimeoutExpired(f"worker {self.pid}", timeout or 0)
            self.returncode = code
        return self.returncode


@dataclass
class Zygote:
    """One zygote process for a Keras flavour and thread count, with its channel."""

    keras: str
    env: dict[str, str]
    home: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="grader-zygote-")))

    def __post_init__(self) -> None:
        self._sock, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._lock = threading.Lock()  # one fork request at a time
        self._changed = threading.Condition()
        self._statuses: dict[int, int] = {}
        self._replies: list[dict[str, Any]] = []
        self._dead = False
        log = open(self.home / "zygote.log", "ab")
        try:
            self.process = subprocess.Popen(
                [sys.executable, *ZYGOTE_COMMAND, str(theirs.fileno()), self.keras],
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                cwd=self.home,
                env=self.env | {"HOME": str(self.home), "TMPDIR": str(self.home)},
                start_new_session=True,
            )
        finally:
            log.close()
            theirs.close()
        self._reader = threading.Thread(target=self._read, daemon=True, name="zygote-reader")
        self._reader.start()
        ready = self._reply(START_TIMEOUT_S)
        if ready is None or "ready" not in ready:
            self.close()
            raise ZygoteUnavailable(f"the zygote did not start: {self.log_tail()}")
        self.baseline_threads = int(ready["ready"])

    def _read(self) -> None:
        while True:
            try:
                record = self._sock.recv(MAX_RECORD)
            except OSError:
                record = b""
            if not record:
                break
            self._record(json.loads(record))
        with self._changed:
            self._dead = True  # its children die with it (PR_SET_PDEATHSIG): they read as killed
            self._changed.notify_all()

    def _record(self, message: dict[str, Any]) -> None:
        """One message from the zygote: a child's exit status, or the reply to a request.

        A fork's reply comes before any exit of that child on the ordered channel, so a status
        already held for its pid is an earlier child's whose pid the kernel reused (a long batch,
        a fork bomb in between): dropped, or the new worker would read as dead.
        """
        with self._changed:
            if "exit" in message:
                self._statuses[int(message["exit"])] = int(message["status"])
            else:
                if "forked" in message:
                    self._statuses.pop(int(message["forked"]), None)
                self._replies.append(message)
            self._changed.notify_all()

    def _reply(self, timeout: float) -> dict[str, Any] | None:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not self._replies and not self._dead:
                if not self._changed.wait(max(0.0, deadline - time.monotonic())):
                    return None
            return self._replies.pop(0) if self._replies else None

    def alive(self) -> bool:
        return not self._dead and self.process.poll() is None

    def spawn(
        self, worker_args: list[str], env: dict[str, str], cwd: Path, fds: tuple[int, int, int]
    ) -> ForkedProcess:
        """Fork a worker: ``fds`` are its command pipe, its reply pipe and its log (stdout and stderr)."""
        request = {"op": "fork", "args": worker_args, "env": env, "cwd": str(cwd)}
        with self._lock:
            if not self.alive():
                raise ZygoteUnavailable("the zygote is not running")
            try:
                socket.send_fds(self._sock, [json.dumps(request).encode()], list(fds))
            except OSError as exc:
                raise ZygoteUnavailable(f"the zygote's channel failed: {exc}") from None
            reply = self._reply(FORK_TIMEOUT_S)
        if reply is None or "forked" not in reply:
            why = (reply or {}).get("refused") or "no answer"
            self.close()  # a refusing zygote stays refused: every later worker starts fresh
            raise ZygoteUnavailable(f"the zygote did not fork: {why}")
        return ForkedProcess(int(reply["forked"]), self)

    def status(self) -> dict[str, Any]:
        """The zygote's OS threads, their count after its imports, and its RSS (for tests)."""
        with self._lock:
            self._sock.send(json.dumps({"op": "status"}).encode())
            reply = self._reply(FORK_TIMEOUT_S)
        if reply is None:
            raise ZygoteUnavailable("the zygote did not answer")
        return reply

    def returncode(self, pid: int) -> int | None:
        with self._changed:
            return self._code(pid)

    def wait(self, pid: int, timeout: float | None) -> int | None:
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._changed:
            while (code := self._code(pid)) is None:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return None
                self._changed.wait(left)
            return code

    def _code(self, pid: int) -> int | None:
        if pid in self._statuses:
            return os.waitstatus_to_exitcode(self._statuses[pid])
        return -signal.SIGKILL if self._dead else None

    def log_tail(self) -> str:
        try:
            return (self.home / "zygote.log").read_text(errors="replace")[-2000:].strip() or "no output"
        except OSError:
            return "no log"

    def close(self) -> None:
        try:
            self._sock.shutdown(socket.SHUT_RDWR)  # wakes the reader; the zygote sees the end and exits
        except OSError:
            pass
        self._sock.close()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        import shutil

        shutil.rmtree(self.home, ignore_errors=True)


class ZygotePool:
    """The zygotes of one grader process, one per (Keras flavour, environment), started on first use."""

    def __init__(self) -> None:
        self._zygotes: dict[tuple[str, str], Zygote | None] = {}
        self._lock = threading.Lock()
        self._owner = os.getpid()  # a forked copy of this process shares the channels: never closes them

    def get(self, keras: str, env: dict[str, str]) -> Zygote | None:
        """The running zygote for this configuration, started if needed; None where it cannot run."""
        key = (keras, json.dumps(env, sort_keys=True))
        with self._lock:
            zygote = self._zygotes.get(key)
            if zygote is not None and zygote.alive():
                return zygote
            if key in self._zygotes and zygote is None:
                return None  # it failed to start once: do not pay TensorFlow's import again
            try:
                zygote = Zygote(keras, env)
            except (ZygoteUnavailable, OSError):
                zygote = None
            self._zygotes[key] = zygote
            return zygote

    def close(self) -> None:
        if os.getpid() != self._owner:
            return
        with self._lock:
            for zygote in self._zygotes.values():
                if zygote is not None:
                    zygote.close()
            self._zygotes.clear()


@functools.cache
def _pool_of(pid: int) -> ZygotePool:
    pool = ZygotePool()
    atexit.register(pool.close)
    return pool


def pool() -> ZygotePool:
    """This process's zygotes (a process forked from a grader, e.g. a batch executor, gets its own)."""
    return _pool_of(os.getpid())
