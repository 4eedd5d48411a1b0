"""The trusted side of the sandbox: start a worker, enforce limits, survive its death.

One :class:`Sandbox` serves one submission. It starts a worker process in a fresh
session and a temporary working folder, sends it requests over a private pipe and
enforces, per request, a wall-time limit; a monitor thread enforces the memory cap and
the process-count cap. When the worker dies (timeout, crash, ``os._exit``, a limit),
the request fails with a :class:`WorkerFailure` that says what happened, and the next
request starts a fresh worker, which reloads the submission.

Nothing outlives a request: after each reply every other process that carries the
sandbox's token is killed, and at the end the worker's process group and session go too.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import psutil

from grader.sandbox import cgroups, isolation, protocol, zygote
from grader.shared import RUNNING_STATEMENT

OUTPUT_KEEP_BYTES = 8 * 1024
# Threads count as tasks in a pids cgroup: room for TensorFlow's (the monitor counts processes).
CGROUP_THREADS = 256
# The kernel's memory limit sits above the monitor's RSS cap: it catches what RSS misses
# (memfd, shared memory, a burst between two polls); the monitor reports ordinary overruns.
CGROUP_MEMORY_SLACK_MB = 256
MAX_SANDBOX_FILES = 20_000
WORKER_COMMAND = ("-I", "-m", "grader.sandbox.worker")  # -I: no user site, no PYTHON* variables
SIGNAL_NAMES = {
    signal.SIGSEGV: "a segmentation fault",
    signal.SIGABRT: "an abort",
    signal.SIGBUS: "a bus error",
    signal.SIGFPE: "a floating-point exception",
    signal.SIGILL: "an illegal instruction",
    signal.SIGXFSZ: "writing more output than the limit",
    signal.SIGXCPU: "using more CPU time than the limit",
}


@dataclass(frozen=True)
class SandboxLimits:
    memory_mb: int = 3072
    processes: int = 16  # processes (not threads) the worker may have at once
    output_file_mb: int = 64  # per-file write cap (RLIMIT_FSIZE): stops a print flood
    disk_mb: int = 1024  # all the files of the worker's folder together (checked by the monitor)
    threads: int = 0  # TF threads; 0 = all cores


@dataclass
class WorkerFailure(Exception):
    """The worker could not answer.

    ``reason`` is timeout | memory | processes | disk | crash | exit | output | arrays | protocol | internal.
    """

    reason: str
    message: str
    output: str = ""

    def __str__(self) -> str:
        return self.message


@dataclass
class Reply:
    data: dict[str, Any]
    arrays: dict[str, np.ndarray]
    error: dict[str, Any] | None
    output: str
    seconds: float


@dataclass
class Sandbox:
    """Runs probes for one submission in a disposable worker process."""

    cells: list[dict[str, str]]
    inputs: dict[str, np.ndarray]
    files: dict[str, Path] = field(default_factory=dict)  # extra files copied in (e.g. a decoder)
    keras: str = "3"
    limits: SandboxLimits = field(default_factory=SandboxLimits)
    protected: tuple[str, ...] = ()
    dropped: dict[str, str] = field(default_factory=dict)
    trusted: bool = False  # the reference, run to build artifacts: no guards
    load_timeout_s: float = 120.0
    standby: bool = False  # started before its submission is known (Standby); cells come with load_standby

    def __post_init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="grader-sandbox-"))
        for name in ("results", "output", "work", "home", "tmp"):
            (self.dir / name).mkdir()
        if not self.standby:
            self._write_submission()
        self._standby_policy: isolation.Policy | None = None
        self.token = uuid.uuid4().hex
        self.process: subprocess.Popen | None = None
        self.restarts = 0
        self.load_info: dict[str, Any] | None = None
        self._next_id = 1
        self._kill_reason: str | None = None
        self._monitor: threading.Thread | None = None
        self._stop_monitor = threading.Event()
        self.peak_rss_mb = 0.0
        self.isolation = "trusted" if self.trusted else ""  # set when a worker has started
        self._netns_seen: set[int] = set()  # workers the monitor saw in their own network namespace
        self._cgroup: cgroups.Cgroup | None = None
        self._spawns = 0
        self.worker_kind = ""  # forked (from the zygote) or fresh, once a worker has started

    # -- life cycle -------------------------------------------------------

    def _write_submission(self) -> None:
        (self.dir / "submission.json").write_text(json.dumps({"cells": self.cells, "dropped": self.dropped}))
        np.savez(self.dir / "inputs.npz", **self.inputs)
        for name, source in self.files.items():
            shutil.copy(source, self.dir / name)

    def start(self) -> dict[str, Any]:
        """Start a worker and load the submission; returns the worker's load report."""
        return self._await_load(self._spawn())

    def start_standby(self) -> None:
        """Start the worker ahead: it imports TensorFlow and enters its isolation, then waits for
        the submission (``load_standby``). Nothing of a student's has run in it yet."""
        self._standby_policy = self._spawn()

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def load_standby(
        self,
        cells: list[dict[str, str]],
        inputs: dict[str, np.ndarray],
        dropped: dict[str, str],
        load_timeout_s: float,
    ) -> dict[str, Any]:
        """Give the waiting worker its submission and load it, as ``start`` does for a fresh one."""
        self.cells, self.inputs, self.dropped, self.load_timeout_s = cells, inputs, dropped, load_timeout_s
        self._write_submission()
        self.standby = False  # a worker started after a death loads the files at once
        try:
            protocol.send(self._cmd_fd, {"go": True})
        except OSError:
            pass  # it died while waiting; _await_load reports why
        return self._await_load(self._standby_policy)

    def _await_load(self, policy: isolation.Policy | None) -> dict[str, Any]:
        deadline = time.monotonic() + self.load_timeout_s
        try:
            reply = self._receive(0, deadline, "load", protocol.LOAD_DATA_SCHEMA)
        finally:  # also when the load failed: student code ran under the same isolation
            if policy is not None and self.process is not None:
                # Landlock as ordered (the worker runs no student code unless it applied it); the
                # network namespace seen from outside (student code cannot leave one it is in).
                pid = self.process.pid
                netns = pid in self._netns_seen or _own_network(pid) is False
                pidns = worker_pids(pid).init is not None
                cgroup = self._cgroup.version if self._cgroup is not None else ""
                self.isolation = isolation.label(policy.abi, netns, pidns, cgroup)
        self.load_info = reply.data
        return reply.data | {"output": reply.output}

    def hung_statement(self) -> tuple[int, int] | None:
        """(cell index, first line) of the derived statement a timed-out load was running, if any."""
        try:
            marker = json.loads((self.dir / "output" / RUNNING_STATEMENT).read_text()[:200])
            return int(marker["cell"]), int(marker["line"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def ensure_started(self) -> None:
        if self.process is None or self.process.poll() is not None:
            if self.process is not None:
                self.restarts += 1
            self.start()

    def close(self) -> None:
        self._shutdown()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- requests ---------------------------------------------------------

    def request(self, op: str, payload: dict[str, Any], item: str, timeout_s: float) -> Reply:
        """Send one request and wait for its reply, at most ``timeout_s`` seconds."""
        self.ensure_started()
        assert self.process is not None
        request_id = self._next_id
        self._next_id += 1
        message = {"id": request_id, "op": op, "item": _safe_name(item)} | payload
        try:
            protocol.send(self._cmd_fd, message)
        except OSError:
            pass  # the worker died; _receive reports why
        return self._receive(request_id, time.monotonic() + timeout_s, item)

    def _receive(
        self, request_id: int, deadline: float, item: str, data_schema: dict[str, Any] | None = None
    ) -> Reply:
        started = time.monotonic()
        try:
            reply = protocol.decode_reply(self._reader.read(deadline), request_id, data_schema)
            if not self.trusted:
                check_folder(self.dir, self.limits.disk_mb)  # what the monitor's last poll missed
            names = reply.get("arrays")
            arrays = protocol.load_arrays(self.dir / "results", names) if names else {}
        except TimeoutError:
            self._shutdown("timeout")
            raise WorkerFailure(
                "timeout", f"timed out after {deadline - started:.0f} s", self._output(item)
            ) from None
        except protocol.ChannelClosed:
            raise self._death(item) from None
        except DiskFull as exc:
            self._shutdown("disk")
            raise WorkerFailure("disk", str(exc), self._output(item)) from None
        except protocol.ArrayBudgetError as exc:
            self._shutdown("arrays")
            message = f"the worker's reply was too large to read: {exc}"
            raise WorkerFailure("arrays", message, self._output(item)) from None
        except protocol.ProtocolError as exc:
            self._shutdown("protocol")
            message = f"the worker sent an invalid message ({exc})"
            raise WorkerFailure("protocol", message, self._output(item)) from None
        self._reap_strays()
        if reply.get("internal"):
            if self.trusted:
                raise RuntimeError(f"grader probe failed inside the worker:\n{reply['internal']}")
            # Student code ran in this process (and may have patched what the probe relies on,
            # or forged the message): a failure of this request, never a crash of the grader.
            last = reply["internal"].strip().splitlines()[-1:] or ["?"]
            raise WorkerFailure(
                "internal",
                f"the grader's code failed inside the worker (internal error: {last[0][:200]})",
                self._output(item),
            )
        return Reply(
            data=reply.get("data") or {},
            arrays=arrays,
            error=reply.get("error"),
            output=self._output(item),
            seconds=time.monotonic() - started,
        )

    # -- process management ----------------------------------------------

    def _policy(self) -> isolation.Policy | None:
        """The worker's kernel isolation: none for the trusted worker (the grader's own reference)."""
        if self.trusted:
            return None
        import grader
        from grader.assignments import outside_folders

        denied = enforceable_paths(self.protected, self.dir)
        # The grader's code and assignment packages kept outside it: readable only while the worker imports.
        grader_code = [os.path.dirname(grader.__file__), *outside_folders()]
        return isolation.plan(isolation.detect(), str(self.dir), denied, grader_code)

    def _spawn(self) -> isolation.Policy | None:
        self._close_channel()  # a worker that died between requests left its channel open
        self._join_monitor()  # its kill loop scans by token: it would kill the new worker too
        if self._spawns:  # a fresh worker starts from a clean folder: no state from the one before
            for name in ("results", "work", "home", "tmp"):
                shutil.rmtree(self.dir / name, ignore_errors=True)
                (self.dir / name).mkdir(exist_ok=True)
        self._spawns += 1
        cmd_r, cmd_w = os.pipe()
        reply_r, reply_w = os.pipe()
        log = open(self.dir / "output" / "load.log", "ab")
        policy = self._policy()
        try:
            self.process = self._launch(cmd_r, reply_w, log, policy)
            self._cgroup = None if self.trusted else self._make_cgroup(self.process.pid)
        finally:
            log.close()
            os.close(cmd_r)
            os.close(reply_w)
        self._cmd_fd = cmd_w
        self._reply_fd = reply_r
        self._reader = protocol.LineReader(reply_r)
        self._kill_reason = None
        if policy is not None and (self._cgroup is None or "memory" not in self._cgroup.folders):
            # No kernel count of memory outside RSS: refuse the calls that make it (seccomp).
            policy = dataclasses.replace(policy, refuse_shared_memory=True)
        init = {
            "isolation": policy.as_dict() if policy is not None else None,
            "threads": self.limits.threads,
            "keras": self.keras,
            "protected": enforceable_paths(self.protected, self.dir),
            "trusted": self.trusted,
            "fsize_mb": self.limits.output_file_mb,
            "processes": self.limits.processes,
            "standby": self.standby,
        }
        try:
            protocol.send(cmd_w, init)
        except OSError:
            pass  # the worker died at start; the first _receive reports why
        self._stop_monitor = threading.Event()
        self._monitor = threading.Thread(
            target=self._watch, args=(self.process, self._stop_monitor), daemon=True
        )
        self._monitor.start()
        return policy

    def _launch(
        self, cmd_r: int, reply_w: int, log: Any, policy: isolation.Policy | None
    ) -> subprocess.Popen | zygote.ForkedProcess:
        """The worker process: forked from this process's zygote where one can run, else started fresh.

        Either way it waits for its init message, then enters its isolation (grader/sandbox/worker.py)."""
        env = _worker_env(self, self.token)
        forks = self._zygote(policy)
        if forks is not None:
            try:
                process = forks.spawn([str(self.dir)], env, self.dir / "work", (cmd_r, reply_w, log.fileno()))
                self.worker_kind = "forked"
                return process
            except zygote.ZygoteUnavailable:
                pass
        self.worker_kind = "fresh"
        return subprocess.Popen(
            [sys.executable, *WORKER_COMMAND, str(cmd_r), str(reply_w), str(self.dir)],
            pass_fds=(cmd_r, reply_w),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            cwd=self.dir / "work",
            env=env,
            start_new_session=True,
        )

    def _zygote(self, policy: isolation.Policy | None) -> zygote.Zygote | None:
        """This process's zygote for the worker's Keras, or None where workers start fresh."""
        if not forks_workers(self.keras, policy):
            return None
        return zygote.pool().get(self.keras, _zygote_env(self.keras, self.limits))

    def _make_cgroup(self, pid: int) -> cgroups.Cgroup | None:
        """The worker's own cgroup (kernel-counted memory and tasks), where the machine allows one.

        The worker waits for its init message, so it runs nothing before it is inside."""
        memory = (self.limits.memory_mb + CGROUP_MEMORY_SLACK_MB) * 2**20
        group = cgroups.create(
            f"grader-{self.token[:16]}-{self._spawns}", memory, self.limits.processes + CGROUP_THREADS
        )
        if group is None:
            return None
        try:
            group.add(pid)
        except OSError:
            group.remove()
            return None
        return group

    def _watch(self, process: subprocess.Popen, stop: threading.Event) -> None:
        """Poll the worker's process tree: memory, process-count and disk caps."""
        try:
            root = psutil.Process(process.pid)
        except psutil.NoSuchProcess:
            return
        ticks = 0
        while not stop.wait(0.1):
            ticks += 1
            if process.pid not in self._netns_seen and _own_network(process.pid) is False:
                self._netns_seen.add(process.pid)
            # Processes that left the tree (setsid, double fork) still carry the token.
            if ticks % 10 == 0 and len(sandbox_processes(self.token, process.pid)) > self.limits.processes:
                self._kill("processes", process)
                return
            try:
                tree = [root] + root.children(recursive=True)
            except psutil.Error:
                return
            # With a PID namespace the grader's own two (the started process, the namespace's init)
            # do not count: the worker and what it started do.
            pids = worker_pids(process.pid)
            # The grader's two waiting processes (tiny) are left out: the worker alone is measured
            # by its RSS, cheaply; PSS (reading every mapping) only once it has children.
            tree = [proc for proc in tree if proc.pid not in pids.own - {pids.worker}] if pids.init else tree
            if len(tree) > self.limits.processes:
                self._kill("processes", process)
                return
            if ticks % 5 == 0 and not self.trusted:
                try:
                    check_folder(self.dir, self.limits.disk_mb)
                except DiskFull:
                    self._kill("disk", process)
                    return
            rss = _tree_memory(tree)
            self.peak_rss_mb = max(self.peak_rss_mb, rss / 2**20)
            if rss > self.limits.memory_mb * 2**20:
                self._kill("memory", process)
                return

    def _join_monitor(self) -> None:
        self._stop_monitor.set()
        if self._monitor is not None and self._monitor is not threading.current_thread():
            self._monitor.join(timeout=60)
        self._monitor = None

    def _death(self, item: str) -> WorkerFailure:
        assert self.process is not None
        try:
            code = self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._kill("protocol")
            code = self.process.returncode
        reason = self._kill_reason
        if reason is None and self._cgroup is not None and self._cgroup.oom_killed():
            reason = "memory"  # the kernel's limit: memory that no process's RSS showed (memfd, shm)
        self._shutdown(reason or "exit")
        output = self._output(item)
        if reason == "memory":
            return WorkerFailure("memory", f"memory limit of {_size(self.limits.memory_mb)} exceeded", output)
        if reason == "processes":
            return WorkerFailure(
                "processes", f"started more than {self.limits.processes} processes (limit)", output
            )
        if reason == "disk":
            return WorkerFailure("disk", disk_message(self.limits.disk_mb), output)
        if code is not None and code < 0:
            what = SIGNAL_NAMES.get(-code, f"signal {-code}")
            if -code == signal.SIGXFSZ:
                limit = self.limits.output_file_mb
                return WorkerFailure("output", f"stopped for {what} ({limit} MB)", output)
            return WorkerFailure("crash", f"the Python process crashed with {what}", output)
        if code == 0:
            what = "your code ended the Python process (exit code 0: os._exit, or the C library's exit)"
        else:
            what = (
                f"the worker process ended with exit code {code} (your code ended the Python process, "
                "or broke it, e.g. by replacing builtins)"
            )
        return WorkerFailure("exit", what, output)

    def _shutdown(self, reason: str | None = None) -> None:
        """Kill the worker and close its channel: only in the thread that reads the channel."""
        self._kill(reason)
        self._close_channel()

    def _close_channel(self) -> None:
        for fd_name in ("_cmd_fd", "_reply_fd"):
            fd = getattr(self, fd_name, None)
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
                setattr(self, fd_name, None)

    def _kill(self, reason: str | None = None, watched: subprocess.Popen | None = None) -> None:
        """Kill the sandbox's processes. The monitor thread calls it too (with the worker it
        watches), so it leaves the channel open (closing it under the reading thread would break,
        or reuse, its file descriptor): the reader then sees the end of the channel and reports why."""
        process = self.process
        if watched is not None and watched is not process:
            return  # a stale monitor: its worker is gone already
        if reason and self._kill_reason is None:
            self._kill_reason = reason
        self._stop_monitor.set()
        if process is not None:
            # The namespace's init first: the kernel then kills everything in the worker's namespace.
            pids = worker_pids(process.pid)
            if pids.init is not None:
                _kill_pid(pids.init)
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        _kill_all(self.token, process.pid if process is not None else None)
        if self._cgroup is not None and (process is None or process.poll() is not None):
            self._cgroup.remove()
            self._cgroup = None

    def _reap_strays(self) -> None:
        """Kill every process of this sandbox but the worker: nothing started in a request outlives it.

        Found by token and session, and as descendants of the worker (or of its namespace's init,
        which adopts the orphans): a process with an empty environment in a new session is one."""
        if self.process is None:
            return
        pids = worker_pids(self.process.pid)
        strays = set(sandbox_processes(self.token, self.process.pid))
        strays.update(_descendants(pids.init if pids.init is not None else self.process.pid))
        for pid in strays - pids.own:
            _kill_pid(pid)

    def _output(self, item: str) -> str:
        path = self.dir / "output" / f"{_safe_name(item)}.log"
        return read_capped(path)


def forks_workers(keras: str, policy: isolation.Policy | None) -> bool:
    """Whether a worker for this Keras and isolation is forked from a zygote.

    Not without TensorFlow (nothing to share), and not without a PID namespace: there, what a
    worker leaves behind is found by the token in its environment block, and a forked worker's
    block is the zygote's."""
    return zygote.enabled() and keras != "none" and (policy is None or policy.pidns)


@dataclass
class Standby:
    """One worker started ahead of the next submission, for a grader that grades one student again
    and again (the notebook self-check, grader/selfcheck_service.py): the next check skips the
    worker's start-up (TensorFlow's import) but still gets a fresh, isolated process. Where workers
    are forked from a zygote (grader/sandbox/zygote.py), it keeps the zygote ready instead."""

    sandbox: Sandbox | None = None

    def prepare(self, keras: str, limits: SandboxLimits, protected: tuple[str, ...]) -> None:
        """Start a waiting worker for this configuration (unless one is already waiting).

        Where workers are forked, the zygote is made ready instead and each check forks its worker
        when it starts, as a grading does: a worker that waited would be older than a grading's,
        which student code could read (/proc/self/stat) to tell a self-check from a grading."""
        unconfined = isolation.plan(isolation.Kernel(0), "", (), ())  # only its namespaces are read
        if forks_workers(keras, unconfined):
            self.close()
            zygote.pool().get(keras, _zygote_env(keras, limits))
            return
        if (
            self.sandbox is not None
            and self.sandbox.alive()
            and self._fits(self.sandbox, keras, limits, protected)
        ):
            return
        self.close()
        self.sandbox = Sandbox([], {}, keras=keras, limits=limits, protected=protected, standby=True)
        self.sandbox.start_standby()

    def take(self, keras: str, limits: SandboxLimits, protected: tuple[str, ...]) -> Sandbox | None:
        """The waiting worker if it is alive and fits; None otherwise (the caller starts one)."""
        sandbox, self.sandbox = self.sandbox, None
        if sandbox is not None and sandbox.alive() and self._fits(sandbox, keras, limits, protected):
            return sandbox
        if sandbox is not None:
            sandbox.close()
        return None

    def close(self) -> None:
        if self.sandbox is not None:
            self.sandbox.close()
            self.sandbox = None

    @staticmethod
    def _fits(sandbox: Sandbox, keras: str, limits: SandboxLimits, protected: tuple[str, ...]) -> bool:
        return (sandbox.keras, sandbox.limits, tuple(sandbox.protected)) == (keras, limits, tuple(protected))


def read_capped(path: Path, keep: int = OUTPUT_KEEP_BYTES) -> str:
    """The first ``keep`` bytes of a log (and its tail), noting what was cut."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as handle:
            head = handle.read(keep)
            tail = b""
            if size > keep:
                handle.seek(max(keep, size - 1024))
                tail = handle.read(1024)
    except OSError:
        return ""
    text = _clean(head.decode("utf-8", "replace"))
    if size > keep:
        cut = size - keep - len(tail)
        text += f"\n... [{cut:,} bytes of output cut] ...\n" + _clean(tail.decode("utf-8", "replace"))
    return text


def _clean(text: str) -> str:
    # TensorFlow's C++ start-up chatter is not the student's output.
    noise = ("I0000 ", "W0000 ", "E0000 ", "WARNING: All log messages", "To enable the following")
    return "\n".join(line for line in text.splitlines() if not line.startswith(noise))


def _safe_name(item: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in item)[:80] or "item"


def _worker_env(sandbox: Sandbox, token: str) -> dict[str, str]:
    home = sandbox.dir / "home"
    return _zygote_env(sandbox.keras, sandbox.limits) | {
        "HOME": str(home),
        "KERAS_HOME": str(home / ".keras"),
        "MPLCONFIGDIR": str(home / "mpl"),
        "TMPDIR": str(sandbox.dir / "tmp"),  # the worker may write only beneath its own folder
        "GRADER_SANDBOX_TOKEN": token,
    }


def _zygote_env(keras: str, limits: SandboxLimits) -> dict[str, str]:
    """A worker's environment without its own paths and token: what its zygote imports under."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "MPLBACKEND": "Agg",
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "OMP_NUM_THREADS": str(limits.threads or os.cpu_count() or 1),
        "CUDA_VISIBLE_DEVICES": "",
    }
    # GRADER_ASSIGNMENTS_PATH: assignment packages outside the grader (grader/assignments/__init__.py)
    for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "LD_LIBRARY_PATH", "GRADER_ASSIGNMENTS_PATH"):
        if name in os.environ:
            env[name] = os.environ[name]
    if keras == "2":
        env["TF_USE_LEGACY_KERAS"] = "1"
    return env


@dataclass(frozen=True)
class WorkerPids:
    """The worker's processes as the host sees them."""

    started: int  # the process the supervisor started
    init: int | None = None  # pid 1 of the worker's PID namespace (None: no PID namespace)
    worker: int | None = None  # the worker, pid 2 there

    @property
    def own(self) -> set[int]:
        return {pid for pid in (self.started, self.init, self.worker) if pid is not None}


def worker_pids(started: int) -> WorkerPids:
    """Find the namespace's init and the worker beneath the started process (by their inner pids)."""
    for child in _children(started):
        if _inner_pid(child) == 1:
            worker = next((pid for pid in _children(child) if _inner_pid(pid) == 2), None)
            return WorkerPids(started, child, worker)
    return WorkerPids(started)


def _children(pid: int) -> list[int]:
    try:
        return [child.pid for child in psutil.Process(pid).children()]
    except psutil.Error:
        return []


def _descendants(pid: int) -> list[int]:
    try:
        return [child.pid for child in psutil.Process(pid).children(recursive=True)]
    except psutil.Error:
        return []


def _inner_pid(pid: int) -> int | None:
    """The pid in its own (innermost) PID namespace: the last field of ``NSpid`` in /proc."""
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("NSpid:"):
                    return int(line.split()[-1])
    except (OSError, ValueError, IndexError):
        return None
    return None


class DiskFull(Exception):
    """The worker's folder holds more than its limit."""


def disk_message(limit_mb: int) -> str:
    return f"wrote more than {_size(limit_mb)} of files (limit)"


def check_folder(folder: Path, limit_mb: int, max_files: int = MAX_SANDBOX_FILES) -> None:
    """Raise :class:`DiskFull` when ``folder`` holds more than ``limit_mb`` (blocks in use) or too many files.

    RLIMIT_FSIZE caps each file; this caps them all together."""
    used, files = 0, 0
    pending = [folder]
    while pending:
        try:
            entries = list(os.scandir(pending.pop()))
        except OSError:
            continue
        for entry in entries:
            files += 1
            if files > max_files:
                raise DiskFull(f"wrote more than {max_files:,} files (limit)")
            try:
                if entry.is_dir(follow_symlinks=False):
                    pending.append(Path(entry.path))
                else:
                    used += entry.stat(follow_symlinks=False).st_blocks * 512
            except OSError:
                continue
        if used > limit_mb * 2**20:
            raise DiskFull(disk_message(limit_mb))


def _own_network(pid: int) -> bool | None:
    """Whether the process shares this process's network namespace (None: cannot tell)."""
    try:
        return os.readlink(f"/proc/{pid}/ns/net") == os.readlink("/proc/self/ns/net")
    except OSError:
        return None


def _tree_memory(tree: list[psutil.Process]) -> int:
    """Bytes used by the worker's processes: RSS alone, PSS once it has children.

    Forked children share their parent's pages; summing RSS would count them once per child.
    """
    total = 0
    for proc in tree:
        try:
            total += proc.memory_full_info().pss if len(tree) > 1 else proc.memory_info().rss
        except (psutil.Error, AttributeError):
            try:
                total += proc.memory_info().rss
            except psutil.Error:
                pass
    return total


def _size(mb: float) -> str:
    return f"{round(mb / 1024, 2):g} GB" if mb >= 1024 else f"{mb:g} MB"


def enforceable_paths(protected: tuple[str, ...], sandbox_dir: Path) -> list[str]:
    """The protected paths, minus any that hold what the worker must read (its folder, Python itself).

    Protecting ``/tmp`` as an output folder would otherwise lock the worker out of its own files.
    """
    needed = [os.path.realpath(path) for path in (sandbox_dir, sys.prefix, sys.base_prefix, sys.executable)]
    kept = []
    for path in protected:
        real = os.path.realpath(path)
        if not any(need == real or need.startswith(real.rstrip(os.sep) + os.sep) for need in needed):
            kept.append(real)
    return kept


def sandbox_processes(token: str, worker: int | None = None) -> list[int]:
    """Pids carrying the sandbox's token, or in the worker's session (Linux /proc; else psutil)."""
    if not os.path.isdir("/proc/self"):
        return _token_pids_psutil(token)
    needle = f"GRADER_SANDBOX_TOKEN={token}".encode()
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/environ", "rb") as handle:
                carries = needle in handle.read()
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                state, _, _, session = handle.read().rpartition(b")")[2].split()[:4]
        except (OSError, ValueError):
            continue
        if state != b"Z" and (carries or (worker is not None and int(session) == worker)):
            found.append(int(entry.name))
    return found


def _token_pids_psutil(token: str) -> list[int]:
    found = []
    for proc in psutil.process_iter(["pid"]):
        try:
            if proc.environ().get("GRADER_SANDBOX_TOKEN") == token:
                found.append(proc.pid)
        except (psutil.Error, OSError):
            continue
    return found


def _kill_pid(pid: int) -> None:
    if pid == os.getpid():
        return
    try:
        os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _kill_all(token: str, worker: int | None) -> None:
    """Kill the sandbox's processes until none is left (a fork loop may race the first round)."""
    for _ in range(20):
        pids = sandbox_processes(token, worker)
        if not pids:
            return
        for pid in pids:
            _kill_pid(pid)
        time.sleep(0.02)
