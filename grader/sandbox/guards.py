"""Guards installed in the worker before student code runs.

They close the easy ways out; they are not a security boundary against a determined
student (see the README's threat model): ctypes and a kernel sandbox are a level below.

* the ``grader``, ``reference``, ``rubrics`` and ``student_template`` packages cannot be
  imported, and are removed from ``sys.modules``;
* an audit hook (which cannot be removed) refuses network sockets, new processes and
  opening or listing the protected folders (the reference, rubrics, output folder);
* ``os._exit`` raises instead of ending the worker silently.
"""

from __future__ import annotations

import os
import posix
import socket
import sys
from importlib.abc import MetaPathFinder
from typing import Any

from grader.probes.base import ExitCalled

BLOCKED_PACKAGES = frozenset({"grader", "reference", "rubrics", "student_template"})
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


class BlockedImport(MetaPathFinder):
    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> None:
        if fullname.partition(".")[0] in BLOCKED_PACKAGES:
            raise ImportError(f"a graded submission may not import '{fullname}'")
        return None


def install(protected: list[str]) -> None:
    sys.meta_path.insert(0, BlockedImport())
    for name in list(sys.modules):
        if name.partition(".")[0] in BLOCKED_PACKAGES:
            del sys.modules[name]
    roots = tuple(os.path.realpath(path) + os.sep for path in protected)
    sys.addaudithook(_make_hook(roots))

    def refuse_exit(code: int = 0) -> None:
        raise ExitCalled(code)

    os._exit = refuse_exit
    posix._exit = refuse_exit


def _make_hook(roots: tuple[str, ...]):
    def is_protected(path: Any) -> bool:
        if isinstance(path, int) or path is None:
            return False
        try:
            real = os.path.realpath(os.fsdecode(path))
        except (TypeError, ValueError):
            return False
        return any((real + os.sep).startswith(root) for root in roots)

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event in BLOCKED_EVENTS:
            raise PermissionError(f"{event} is not allowed while grading (no network, no new processes)")
        if event == "socket.__new__" and len(args) > 1 and args[1] in NET_FAMILIES:
            raise PermissionError("network sockets are not allowed while grading")
        if event in ("open", "os.listdir", "os.scandir", "shutil.copyfile", "os.remove", "os.rename") and args:
            if is_protected(args[0]) or (event == "os.rename" and len(args) > 1 and is_protected(args[1])):
                raise PermissionError(f"access to {args[0]!s} is not allowed while grading")

    return hook
