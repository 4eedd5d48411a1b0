"""Kernel-counted limits for one worker: a memory cgroup and a pids cgroup, where the machine allows.

The supervisor's monitor polls the worker's RSS and process count; both miss things. Memory
written to a ``memfd_create`` file or to shared memory and never mapped is in no process's RSS;
a fork loop outruns a poll. A cgroup counts in the kernel: ``memory.max`` (v2) or
``memory.limit_in_bytes`` (v1) charges shmem and memfd pages too, and ``pids.max`` refuses the
fork beyond it.

Each worker gets its own cgroup, created beneath the grader's own (so the grader's limits
still cover it) and removed when the worker is gone. That needs write access to the cgroup
tree: as root, or where systemd delegates a v2 subtree to the user. Elsewhere :func:`create`
returns None and the poll is all there is (README, "Threat model").
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")


@dataclass
class Cgroup:
    """The worker's cgroup folders (one per controller on v1, a single one on v2)."""

    version: str  # "v1" or "v2"
    folders: dict[str, Path] = field(default_factory=dict)  # controller -> folder

    def add(self, pid: int) -> None:
        """Move ``pid`` (before it runs student code) into every controller's folder."""
        for folder in set(self.folders.values()):
            (folder / "cgroup.procs").write_text(str(pid))

    def oom_killed(self) -> bool:
        """Whether the kernel's memory limit killed a process of this cgroup."""
        folder = self.folders.get("memory")
        if folder is None:
            return False
        events = _read(folder / ("memory.events" if self.version == "v2" else "memory.oom_control"))
        for line in events.splitlines():
            name, _, value = line.partition(" ")
            if name == "oom_kill" and value.strip().isdigit() and int(value) > 0:
                return True
        return False

    def memory_bytes(self) -> int:
        """Memory charged to the cgroup now (shmem and memfd included); 0 without a memory cgroup."""
        folder = self.folders.get("memory")
        if folder is None:
            return 0
        text = _read(folder / ("memory.current" if self.version == "v2" else "memory.usage_in_bytes"))
        return int(text) if text.strip().isdigit() else 0

    def remove(self) -> None:
        """Remove the folders (the kernel refuses while a process is left: retried briefly)."""
        for folder in set(self.folders.values()):
            for _ in range(50):
                try:
                    folder.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)


def create(name: str, memory_bytes: int, pids: int, root: Path = CGROUP_ROOT) -> Cgroup | None:
    """A cgroup for one worker with these limits, or None where the machine allows none.

    Test hook: ``GRADER_CGROUP=0`` in the grader's environment: as if the machine allowed none.
    """
    if os.environ.get("GRADER_CGROUP") == "0":
        return None
    own = _own_cgroups(Path("/proc/self/cgroup"))
    if (root / "cgroup.controllers").is_file() and "" in own:  # cgroup v2 alone
        return _create_v2(root / own[""].lstrip("/") / name, memory_bytes, pids)
    return _create_v1(root, own, name, memory_bytes, pids)


def _create_v2(folder: Path, memory_bytes: int, pids: int) -> Cgroup | None:
    limits = {"memory": ("memory.max", memory_bytes), "pids": ("pids.max", pids)}
    try:
        folder.mkdir()
    except OSError:
        return None
    group = Cgroup("v2")
    for controller, (filename, value) in limits.items():
        try:
            (folder / filename).write_text(str(value))
            group.folders[controller] = folder
        except OSError:
            continue  # the controller is not enabled for this subtree
    if not group.folders:
        group.folders["none"] = folder
        group.remove()
        return None
    if "memory" in group.folders:
        _try_write(folder / "memory.swap.max", "0")
    return group


def _create_v1(root: Path, own: dict[str, str], name: str, memory_bytes: int, pids: int) -> Cgroup | None:
    limits = {"memory": ("memory.limit_in_bytes", memory_bytes), "pids": ("pids.max", pids)}
    group = Cgroup("v1")
    for controller, (filename, value) in limits.items():
        if controller not in own or not (root / controller).is_dir():
            continue
        folder = root / controller / own[controller].lstrip("/") / name
        try:
            folder.mkdir()
            (folder / filename).write_text(str(value))
        except OSError:
            try:
                folder.rmdir()
            except OSError:
                pass
            continue
        group.folders[controller] = folder
    return group if group.folders else None


def _own_cgroups(path: Path) -> dict[str, str]:
    """This process's cgroup per controller (v1), and under "" its v2 cgroup."""
    found: dict[str, str] = {}
    for line in _read(path).splitlines():
        parts = line.split(":", 2)
        if len(parts) == 3:
            for controller in parts[1].split(","):
                found[controller] = parts[2]
    return found


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _try_write(path: Path, text: str) -> None:
    try:
        path.write_text(text)
    except OSError:
        pass


def available() -> str:
    """The cgroup version this machine lets the grader use for a worker ("v1", "v2"; "": none)."""
    group = create(f"grader-probe-{os.getpid()}", 2**30, 64)
    if group is None:
        return ""
    group.remove()
    return group.version
