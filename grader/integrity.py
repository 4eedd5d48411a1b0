"""The integrity scan: an AST read of the submission for the instructor (never for points).

It flags code that reaches for the grader, the reference or the operating system:
imports of ``grader``/``reference``, file paths into their folders, process exits,
subprocesses, sockets, ctypes, monkeypatching of libraries, and objects that redefine
``__eq__``/``__array__``. A flag is not a verdict: the sandbox already keeps such code
from earning points; the flags tell the instructor where to look.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from grader.submission import Submission

PROTECTED_PACKAGES = frozenset({"grader", "reference", "rubrics", "student_template"})
SYSTEM_MODULES = {
    "ctypes": "low-level memory access (ctypes)",
    "socket": "network access (socket)",
    "subprocess": "starting processes (subprocess)",
    "multiprocessing": "starting processes (multiprocessing)",
    "requests": "network access (requests)",
    "urllib": "network access (urllib)",
    "http": "network access (http)",
    "gc": "walking the interpreter's objects (gc)",
    "inspect": "inspecting the caller's frames (inspect)",
    "signal": "changing signal handlers (signal)",
    "resource": "changing resource limits (resource)",
}
RISKY_CALLS = {
    "sys.exit": "ends the process (sys.exit)",
    "os._exit": "ends the process (os._exit)",
    "exit": "ends the process (exit)",
    "quit": "ends the process (quit)",
    "os.system": "runs a shell command (os.system)",
    "os.fork": "forks the process (os.fork)",
    "os.kill": "sends signals (os.kill)",
    "os.setsid": "leaves the process group (os.setsid)",
    "os.write": "writes to raw file descriptors (os.write)",
    "os.fdopen": "opens raw file descriptors (os.fdopen)",
    "sys._getframe": "inspects the caller's frames (sys._getframe)",
    "setattr": "sets attributes dynamically (setattr)",
}
PATH_WORDS = ("reference", "rubrics", "calibration", "grader", "/proc/", "site-packages", "gradebook", "reports/")
LIBRARY_ROOTS = frozenset({"np", "numpy", "tf", "tensorflow", "keras", "builtins", "sys", "os", "sklearn", "math"})


@dataclass(frozen=True)
class Flag:
    rule: str
    where: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "where": self.where, "message": self.message}


def scan(submission: Submission) -> list[Flag]:
    flags: list[Flag] = []
    for cell in submission.cells:
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue
        flags.extend(_scan_tree(tree, cell.filename))
    unique = {(flag.rule, flag.where, flag.message): flag for flag in flags}
    return list(unique.values())


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else ""
    return ""


def _scan_tree(tree: ast.AST, filename: str) -> list[Flag]:
    flags = []

    def flag(rule: str, node: ast.AST, message: str) -> None:
        flags.append(Flag(rule, f"{filename}, line {getattr(node, 'lineno', '?')}", message))

    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            for name in names:
                root = name.partition(".")[0]
                if root in PROTECTED_PACKAGES:
                    flag("grader-import", node, f"imports the grader's own package '{name}'")
                elif root in SYSTEM_MODULES:
                    flag("system", node, f"imports {name}: {SYSTEM_MODULES[root]}")
        elif isinstance(node, ast.Call):
            name = _dotted(node.func)
            if name in RISKY_CALLS:
                flag("system", node, RISKY_CALLS[name])
            elif name in ("__import__", "importlib.import_module") and node.args:
                target = node.args[0]
                if isinstance(target, ast.Constant) and str(target.value).partition(".")[0] in PROTECTED_PACKAGES:
                    flag("grader-import", node, f"imports the grader's own package '{target.value}'")
                elif not isinstance(target, ast.Constant):
                    flag("system", node, "imports a module whose name is computed at run time")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            lowered = node.value.lower()
            hits = [word for word in PATH_WORDS if word in lowered and ("/" in lowered or lowered.endswith((".py", ".toml", ".json")))]
            if hits:
                flag("grader-files", node, f"mentions a path into the grader's files: {node.value[:80]!r}")
            if "passed" in lowered and ("score" in lowered or "test" in lowered) or '"score"' in lowered:
                flag("fake-output", node, f"prints text that looks like grading output: {node.value[:60]!r}")
        elif isinstance(node, (ast.Assign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                dotted = _dotted(target)
                if isinstance(target, ast.Attribute) and dotted.partition(".")[0] in LIBRARY_ROOTS:
                    flag("monkeypatch", node, f"replaces a library attribute: {dotted}")
                if isinstance(target, ast.Subscript) and _dotted(target.value) in ("sys.modules", "__builtins__"):
                    flag("monkeypatch", node, f"changes {_dotted(target.value)}")
        elif isinstance(node, ast.FunctionDef) and node.name in ("__eq__", "__array__", "__float__", "__bool__"):
            flag("lying-object", node, f"defines {node.name}: an object that may compare or convert misleadingly")
    return flags
