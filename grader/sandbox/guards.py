"""Guards installed in the worker before student code runs.

They close the easy ways out; they are not a security boundary against a determined
student (see the README's threat model): ctypes and a kernel sandbox are a level below.

* the ``grader``, ``reference``, ``rubrics`` and ``student_template`` packages cannot be
  imported, are removed from ``sys.modules``, and their folders from ``sys.path``;
* an audit hook (which cannot be removed) refuses network sockets, new processes, and
  reading, listing or changing the protected paths (the reference, the rubric and its
  calibration, the output folder) and other processes' ``/proc`` entries;
* ``os._exit`` raises instead of ending the worker silently, and ``_posixsubprocess``
  (which starts processes without an audit event, e.g. for multiprocessing's "spawn")
  refuses to.
"""

from __future__ import annotations

import _posixsubprocess  # imported before the block: later imports get the refusing version
import os
import posix
import re
import socket
import subprocess
import sys
from importlib.abc import MetaPathFinder
from typing import Any

from grader.probes.base import ExitCalled

BLOCKED_PACKAGES = frozenset({"grader", "reference", "rubrics", "student_template", "_posixsubprocess"})
BLOCKED_EVENTS = frozenset(
    {
        "socket.connect",
        "socket.bind",
        "socket.sendto",
        "socket.sendmsg",
        "socket.getaddrinfo",
        "subprocess.Popen",
        "os.system",
        "os.exec",
        "os.spawn",
        "os.posix_spawn",
        "os.fork",
        "os.forkpty",
        "pty.spawn",
    }
)
NET_FAMILIES = frozenset({socket.AF_INET, socket.AF_INET6})
# Audit events whose first argument is a path: reading, listing or changing it.
PATH_EVENTS = frozenset(
    {
        "open",
        "os.listdir",
        "os.scandir",
        "os.mkdir",
        "os.rmdir",
        "os.remove",
        "os.truncate",
        "os.chmod",
        "os.chown",
        "os.utime",
        "os.chdir",
        "os.chflags",
        "os.lchflags",
        "os.setxattr",
        "os.removexattr",
        "os.listxattr",
        "os.getxattr",
        "glob.glob",
        "glob.glob/2",
        "shutil.rmtree",
        "shutil.chown",
        "shutil.make_archive",
        "sqlite3.connect",
    }
)
# Events whose first two arguments are paths (source, destination).
TWO_PATH_EVENTS = frozenset(
    {
        "os.rename",
        "os.link",
        "os.symlink",
        "shutil.copyfile",
        "shutil.copymode",
        "shutil.copystat",
        "shutil.copytree",
        "shutil.move",
        "shutil.unpack_archive",
    }
)
OTHER_PROCESS = re.compile(r"^/proc/(\d+)(/|$)")


class BlockedImport(MetaPathFinder):
    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> None:
        if fullname.partition(".")[0] in BLOCKED_PACKAGES:
            raise ImportError(f"a graded submission may not import '{fullname}'")
        return None


def install(protected: list[str]) -> None:
    roots = tuple(os.path.realpath(path) for path in protected)
    sys.meta_path.insert(0, BlockedImport())
    for name in list(sys.modules):
        if name.partition(".")[0] in BLOCKED_PACKAGES and name != "_posixsubprocess":
            del sys.modules[name]
    sys.path[:] = [entry for entry in sys.path if not _reveals_grader(entry, roots)]
    sys.addaudithook(_make_hook(roots))

    def refuse_exit(code: int = 0) -> None:
        raise ExitCalled(code)

    def refuse_fork_exec(*args: Any, **kwargs: Any) -> None:
        raise PermissionError("starting processes is not allowed while grading")

    os._exit = refuse_exit
    posix._exit = refuse_exit
    _posixsubprocess.fork_exec = refuse_fork_exec
    subprocess._fork_exec = refuse_fork_exec


def _reveals_grader(entry: str, roots: tuple[str, ...]) -> bool:
    """A sys.path entry inside a protected folder, or a checkout that holds the grader (not site-packages)."""
    real = os.path.realpath(entry or ".")
    if any(_inside(real, root) for root in roots):
        return True
    holds = any(os.path.isfile(os.path.join(real, name, "__init__.py")) for name in ("grader", "reference"))
    return holds and not real.endswith(("site-packages", "dist-packages"))


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _proc_pid() -> int:
    """This process's pid as ``/proc`` names it: in a PID namespace ``os.getpid()`` is the inner one."""
    try:
        return int(os.readlink("/proc/self"))
    except (OSError, ValueError):
        return os.getpid()


def _make_hook(roots: tuple[str, ...]):
    own = _proc_pid()

    def is_protected(path: Any) -> bool:
        if isinstance(path, int) or path is None:
            return False
        try:
            text = os.fsdecode(path)
            real = os.path.realpath(text)
        except (TypeError, ValueError):
            return False
        except OSError:  # a link the kernel does not resolve for this worker (Landlock: another process's)
            return True
        # Another process's memory, environment or folders (/proc/<ppid>/cwd leads to the grader's).
        for candidate in (os.path.abspath(text), real):
            other = OTHER_PROCESS.match(candidate)
            if other and int(other.group(1)) not in (own, os.getpid()):
                return True
        return any(_inside(real, root) for root in roots)

    def refuse_paths(event: str, paths: tuple[Any, ...]) -> None:
        for path in paths:
            if is_protected(path):
                raise PermissionError(f"access to {os.fsdecode(path)} is not allowed while grading")

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event in BLOCKED_EVENTS:
            raise PermissionError(f"{event} is not allowed while grading (no network, no new processes)")
        if event == "socket.__new__" and len(args) > 1 and args[1] in NET_FAMILIES:
            raise PermissionError("network sockets are not allowed while grading")
        if event in PATH_EVENTS and args:
            refuse_paths(event, args[:1])
        elif event in TWO_PATH_EVENTS:
            refuse_paths(event, args[:2])

    return hook
