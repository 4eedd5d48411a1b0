"""The zygote process: ``python -I -m grader.sandbox.zygote_process FD KERAS``.

It imports what a worker imports, then forks a worker per request on its channel (fd ``FD``)
until the channel closes. Its trusted counterpart, and the rules it keeps, are in
``grader/sandbox/zygote.py``; docs/architecture.md, "The zygote".
"""

from __future__ import annotations

import gc
import json
import os
import select
import signal
import socket
import sys
import tempfile
from typing import Any

from grader.sandbox.zygote import MAX_RECORD, fork_refusal, thread_count


def serve(fd: int, keras: str) -> int:
    """Import the worker's modules, then fork a worker per request until the channel closes."""
    sock = socket.socket(fileno=fd)
    from grader.sandbox import worker

    worker.preload(keras)
    gc.collect()
    gc.freeze()  # the children share the imported objects' pages: the GC does not touch them
    baseline = thread_count()
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    os.set_blocking(wake_r, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    sock.send(json.dumps({"ready": baseline}).encode())
    while True:
        readable, _, _ = select.select([sock, wake_r], [], [], 1.0)
        if wake_r in readable:
            while True:
                try:
                    if not os.read(wake_r, 512):
                        break
                except BlockingIOError:
                    break
        _report_exits(sock)
        if sock not in readable:
            continue
        try:
            record, fds, _, _ = socket.recv_fds(sock, MAX_RECORD, 4)
        except OSError:
            return 0
        if not record:
            return 0  # the grader closed the channel (or died): the children die with this process
        request = json.loads(record)
        if request.get("op") == "status":
            sock.send(json.dumps(_status(baseline)).encode())
            continue
        refusal = fork_refusal(baseline, thread_count())
        if refusal is not None or len(fds) != 3:
            for descriptor in fds:
                os.close(descriptor)
            sock.send(json.dumps({"refused": refusal or "expected 3 file descriptors"}).encode())
            continue
        sys.stdout.flush()
        sys.stderr.flush()
        child = os.fork()
        if child == 0:
            _become_worker(request, fds, (sock.fileno(), wake_r, wake_w))
        for descriptor in fds:
            os.close(descriptor)
        sock.send(json.dumps({"forked": child}).encode())


def _report_exits(sock: socket.socket) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        sock.send(json.dumps({"exit": pid, "status": status}).encode())


def _status(baseline: int) -> dict[str, Any]:
    with open("/proc/self/statm") as handle:
        rss = int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    return {"threads": thread_count(), "baseline": baseline, "rss": rss}


def _become_worker(request: dict[str, Any], fds: list[int], zygote_fds: tuple[int, ...]) -> None:
    """In the forked child: become a worker as ``python -I -m grader.sandbox.worker`` would be."""
    code = 1
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        for descriptor in zygote_fds:
            os.close(descriptor)
        cmd_r, reply_w, log = fds
        os.setsid()
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.close(devnull)
        os.close(log)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        tempfile.tempdir = None  # computed again from the worker's TMPDIR
        gc.unfreeze()
        from grader.sandbox import worker

        code = worker.main(["worker", str(cmd_r), str(reply_w), *request["args"]])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


if __name__ == "__main__":
    sys.exit(serve(int(sys.argv[1]), sys.argv[2]))
