"""The integrity scan: an AST read of the submission for the instructor (never for points).

It flags code that reaches for the grader, the reference or the operating system:
imports of ``grader``/``reference``, file paths into their folders, process exits,
subprocesses, sockets, ctypes, monkeypatching of libraries, and objects that redefine
``__eq__``/``__array__``. A flag is not a verdict: the sandbox already keeps such code
from earning points; the flags tell the instructor where to look.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from grader.submission import Submission, is_handout_import
from grader.threadsafe import parse_source

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
    "runpy.run_path": "runs a file by its path (runpy.run_path)",
    "importlib.util.spec_from_file_location": "imports a file by its path (spec_from_file_location)",
    "os.getppid": "looks up the grader's own process (os.getppid)",
}
# Calls that build or open a path: an argument naming a grader folder is file access to it.
PATH_CALLS = frozenset({"os.path.join", "Path", "pathlib.Path", "open", "glob.glob", "os.listdir", "os.walk"})
PATH_WORDS = (
    "reference",
    "rubrics",
    "calibration",
    "grader",
    "/proc/",
    "site-packages",
    "gradebook",
    "reports/",
)
LIBRARY_ROOTS = frozenset(
    {"np", "numpy", "tf", "tensorflow", "keras", "builtins", "sys", "os", "sklearn", "math"}
)
LYING_METHODS = ("__eq__", "__array__", "__float__", "__bool__")
# A public dataset's labels embedded in the code (README, "Threat model"): a literal this large,
# or a blob this long, is data, not code.
LARGE_LITERAL_ELEMENTS = 10_000
LARGE_BLOB_BYTES = 100_000
Finding = tuple[str, str]  # (rule, message)


@dataclass(frozen=True)
class Flag:
    rule: str
    where: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "where": self.where, "message": self.message}


def scan(submission: Submission) -> list[Flag]:
    """Flags in everything the student wrote, statements the loader dropped included."""
    flags: list[Flag] = []
    for cell in submission.written or submission.cells:
        try:
            tree = parse_source(cell.source)
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


def _grader_folders(args: list[ast.expr]) -> list[str]:
    """Constant arguments that name a grader folder (``os.path.join(root, "reference")``)."""
    texts = [arg.value for arg in args if isinstance(arg, ast.Constant) and isinstance(arg.value, str)]
    return [text.strip("/") for text in texts if text.strip("/") in PROTECTED_PACKAGES]


def _scan_tree(tree: ast.AST, filename: str) -> list[Flag]:
    flags = []
    for node in ast.walk(tree):
        where = f"{filename}, line {getattr(node, 'lineno', '?')}"
        flags.extend(Flag(rule, where, message) for rule, message in _findings(node))
    return flags


def _findings(node: ast.AST) -> list[Finding]:
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return _import_findings(node)
    if isinstance(node, ast.Call):
        keyed = _dotted(node.func) in ("hash", "id") or _dotted(node.func).endswith(".get")
        keyed = keyed or _dotted(node.func).startswith("hashlib.")
        return _call_findings(node) + (_lookup_findings(node.args) if keyed else [])
    if isinstance(node, ast.Subscript):
        return _lookup_findings([node.slice])
    if isinstance(node, (ast.List, ast.Tuple, ast.Set, ast.Dict)):
        return _literal_findings(node)
    if (
        isinstance(node, ast.Constant)
        and isinstance(node.value, (str, bytes))
        and len(node.value) > LARGE_BLOB_BYTES
    ):
        kind = "bytes" if isinstance(node.value, bytes) else "text"
        return [
            ("embedded-data", f"embeds {len(node.value):,} characters of {kind}: data (a table of labels?)")
        ]
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return _text_findings(node.value)
    if isinstance(node, (ast.Assign, ast.AugAssign)):
        return _assign_findings(node)
    if isinstance(node, ast.FunctionDef) and node.name in LYING_METHODS:
        return [("lying-object", f"defines {node.name}: an object that may compare or convert misleadingly")]
    return []


def _literal_findings(node: ast.List | ast.Tuple | ast.Set | ast.Dict) -> list[Finding]:
    size = len(node.keys) if isinstance(node, ast.Dict) else len(node.elts)
    if size <= LARGE_LITERAL_ELEMENTS:
        return []
    return [("embedded-data", f"embeds a literal of {size:,} elements: data (a table of labels?)")]


def _lookup_findings(keys: list[ast.expr]) -> list[Finding]:
    """A lookup keyed by an array's bytes (``table[x.tobytes()]``, ``hash(x.tobytes())``)."""
    for key in keys:
        for inner in ast.walk(key):
            if isinstance(inner, ast.Call) and isinstance(inner.func, ast.Attribute):
                if inner.func.attr == "tobytes":
                    return [
                        (
                            "pixel-lookup",
                            "looks values up by an array's bytes (.tobytes()): a table keyed by images?",
                        )
                    ]
    return []


def _import_findings(node: ast.Import | ast.ImportFrom) -> list[Finding]:
    if is_handout_import(node):  # the hand-out's own data and check cells
        return []
    names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else [node.module or ""]
    found = []
    for name in names:
        root = name.partition(".")[0]
        if root in PROTECTED_PACKAGES:
            found.append(("grader-import", f"imports the grader's own package '{name}'"))
        elif root in SYSTEM_MODULES:
            found.append(("system", f"imports {name}: {SYSTEM_MODULES[root]}"))
    return found


def _call_findings(node: ast.Call) -> list[Finding]:
    name = _dotted(node.func)
    found = [("system", RISKY_CALLS[name])] if name in RISKY_CALLS else []
    if name in PATH_CALLS:
        for folder in _grader_folders(node.args):
            found.append(("grader-files", f"builds a path into the grader's folder '{folder}'"))
    elif name in ("__import__", "importlib.import_module") and node.args:
        target = node.args[0]
        if not isinstance(target, ast.Constant):
            found.append(("system", "imports a module whose name is computed at run time"))
        elif str(target.value).partition(".")[0] in PROTECTED_PACKAGES:
            found.append(("grader-import", f"imports the grader's own package '{target.value}'"))
    return found


def _text_findings(text: str) -> list[Finding]:
    lowered = text.lower()
    found = []
    # A path-like token (no spaces, a slash or a file suffix) naming one of the grader's places;
    # prose such as a docstring that says "graded ... K.exp / K.sum" is not a path.
    tokens = [t for t in re.split(r"\s+", lowered) if "/" in t or t.endswith((".py", ".toml", ".json"))]
    if any(word in token for token in tokens for word in PATH_WORDS):
        found.append(("grader-files", f"mentions a path into the grader's files: {text[:80]!r}"))
    if "passed" in lowered and ("score" in lowered or "test" in lowered) or '"score"' in lowered:
        found.append(("fake-output", f"prints text that looks like grading output: {text[:60]!r}"))
    return found


def _assign_findings(node: ast.Assign | ast.AugAssign) -> list[Finding]:
    found = []
    for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
        dotted = _dotted(target)
        if isinstance(target, ast.Attribute) and dotted.partition(".")[0] in LIBRARY_ROOTS:
            found.append(("monkeypatch", f"replaces a library attribute: {dotted}"))
        if isinstance(target, ast.Subscript) and _dotted(target.value) in ("sys.modules", "__builtins__"):
            found.append(("monkeypatch", f"changes {_dotted(target.value)}"))
    return found
