"""The loading rule: which top-level statements of a submission the grader runs.

A submission defines what a fresh kernel would define by running it top to bottom, except
work that only produces output or that the grader replaces: training runs, plots, prints,
data loading, file writes (and magics, which :mod:`grader.submission` blanks before this).

So the grader keeps
- every definition: imports, functions, classes, docstrings and literal constants;
- every other top-level statement that a definition or a constant depends on: a backward
  slice over names, through the free names of the functions and classes (bodies, decorators,
  default arguments, bases), seeded with those free names and with every constant-like
  (UPPER_CASE) name, such as the contract's constants (``ATTENTION_OUTPUT``) and aliases
  (``L = tf.keras.layers``). A statement that changes a kept name in place
  (``CONFIG["lr"] = 0.1``, ``FILTERS.append(32)``) is kept with it.

and drops, with the reason, a statement that trains, loads or downloads data, plots, prints,
or writes files, even when a name depends on it; a statement that uses a name only such a
statement set (``x_train = x_train / 255`` after ``load_data()``); a script's
``if __name__ == "__main__":`` block; and everything no kept name depends on (e.g.
``model = build_autoencoder()`` that no function uses). The slice is over the whole
submission, across cells, because a function in cell 3 may use an alias set in cell 9.

The seed does not come from the rubric: the rubric is sometimes recognised from the
submission itself, and the notebook's ``check()`` must apply the same rule. See
docs/architecture.md ("The loading rule").
"""

from __future__ import annotations

import ast
import symtable
from collections.abc import Iterable
from dataclasses import dataclass

TRAINING = frozenset(
    {"fit", "fit_generator", "train_on_batch", "train_step", "evaluate", "evaluate_generator"}
)
DATA_LOADING = frozenset(
    {
        "load_data",
        "mnist_data",
        "load",
        "loadtxt",
        "genfromtxt",
        "read_csv",
        "read_excel",
        "read_json",
        "read_parquet",
        "read_pickle",
        "read_text",
        "read_bytes",
        "urlretrieve",
        "urlopen",
        "get_file",
        "load_dataset",
        "fetch_openml",
        "image_dataset_from_directory",
        "load_model",
        "load_weights",
        "download",
    }
)
FILE_WRITES = frozenset(
    {
        "save",
        "savefig",
        "save_weights",
        "savez",
        "savez_compressed",
        "savetxt",
        "to_csv",
        "dump",
        "write",
        "write_text",
        "write_bytes",
        "mkdir",
        "makedirs",
    }
)
OUTPUT = frozenset(
    {
        "print",
        "pprint",
        "display",
        "show",
        "imshow",
        "plot",
        "scatter",
        "hist",
        "bar",
        "figure",
        "subplot",
        "subplots",
        "title",
        "suptitle",
        "xlabel",
        "ylabel",
        "legend",
        "tight_layout",
        "colorbar",
        "set_title",
        "summary",
        "plot_model",
    }
)
PLOTTING_MODULES = frozenset({"plt", "pyplot", "matplotlib", "sns", "seaborn", "IPython"})
# Why each kind of replaced work is dropped, in the order they win when a statement does several.
REPLACED = (
    (TRAINING, "training (the grader trains with its own budget)"),
    (DATA_LOADING, "data loading (the grader supplies the data)"),
    (FILE_WRITES, "a file write"),
    (OUTPUT, "output only (a print or a plot)"),
)
NOT_NEEDED = "no function, class or constant uses what it sets"
MAIN_BLOCK = 'a script\'s `if __name__ == "__main__":` block'


@dataclass(frozen=True)
class Verdict:
    """Whether one top-level statement runs, and why not."""

    kept: bool
    reason: str = ""  # why it is dropped
    derived: bool = False  # kept although not a definition: the worker runs it under a time limit


def is_constant(node: ast.AST) -> bool:
    """A literal, or arithmetic on literals (e.g. ``2 * 16`` or ``(32, 32, 1)``)."""
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return all(is_constant(element) for element in node.elts)
    if isinstance(node, ast.Dict):
        return all(k is not None and is_constant(k) for k in node.keys) and all(
            is_constant(v) for v in node.values
        )
    if isinstance(node, ast.UnaryOp):
        return is_constant(node.operand)
    if isinstance(node, ast.BinOp):
        return is_constant(node.left) and is_constant(node.right)
    return False


def is_definition(statement: ast.stmt) -> bool:
    """Imports, functions, classes, docstrings and literal constants: always kept."""
    if isinstance(
        statement, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    ):
        return True
    if isinstance(statement, ast.Assign):
        return is_constant(statement.value)
    if isinstance(statement, ast.AnnAssign):
        return statement.value is None or is_constant(statement.value)
    if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
        return True  # a docstring
    if isinstance(statement, ast.Try):  # try: import x / except ImportError: import y
        body = statement.body + statement.orelse + [s for h in statement.handlers for s in h.body]
        return all(isinstance(s, (ast.Import, ast.ImportFrom, ast.Pass)) for s in body)
    return False


def replaced_work(statement: ast.stmt) -> str:
    """Why the grader replaces what ``statement`` does (training, data, files, output), or ""."""
    found = set()
    for node in ast.walk(statement):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        if name == "open":
            found.add("a file write" if _opens_for_writing(node) else REPLACED[1][1])
        elif _root_name(func) in PLOTTING_MODULES:
            found.add(REPLACED[3][1])
        for names, reason in REPLACED:
            if name in names:
                found.add(reason)
    return next((reason for _, reason in REPLACED if reason in found), "")


def is_main_block(statement: ast.stmt) -> bool:
    test = statement.test if isinstance(statement, ast.If) else None
    return (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == "__name__"
        and any(isinstance(c, ast.Constant) and c.value == "__main__" for c in test.comparators)
    )


def is_constant_like(name: str) -> bool:
    """``ATTENTION_OUTPUT``, ``VAE_EPOCHS``, ``L``: the style of a module's constants and aliases."""
    return name.upper() == name and any(c.isalpha() for c in name)


@dataclass(frozen=True)
class Names:
    stores: frozenset[str]  # module-level names the statement binds
    uses: frozenset[str]  # module-level names it reads, now or when its functions run
    mutates: frozenset[str]  # names it changes in place (x.append(...), x[k] = v, x.attr = v)


def names_of(statement: ast.stmt) -> Names:
    """The statement's module-level names, from Python's own symbol table (so a function's
    locals and parameters are not mistaken for globals)."""
    try:
        table = symtable.symtable(ast.unparse(statement), "<statement>", "exec")
    except (SyntaxError, ValueError, RecursionError):
        return Names(frozenset(), frozenset(), frozenset())
    stores = {s.get_name() for s in table.get_symbols() if s.is_assigned() or s.is_imported()}
    uses = {s.get_name() for s in table.get_symbols() if s.is_referenced()}
    uses.update(_globals_of_children(table))
    mutates = set()
    for node in ast.walk(statement):  # a method called as a statement: FILTERS.append(32)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            if isinstance(node.value.func, ast.Attribute):
                mutates.add(_root_name(node.value.func))
        elif isinstance(node, (ast.Attribute, ast.Subscript)) and isinstance(node.ctx, ast.Store):
            mutates.add(_root_name(node))
    mutates.discard("")
    return Names(frozenset(stores), frozenset(uses), frozenset(mutates))


def _globals_of_children(table: symtable.SymbolTable) -> set[str]:
    found = set()
    for child in table.get_children():
        found.update(s.get_name() for s in child.get_symbols() if s.is_global() and s.is_referenced())
        found.update(_globals_of_children(child))
    return found


def _root_name(node: ast.AST) -> str:
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else ""


def _opens_for_writing(call: ast.Call) -> bool:
    mode = (
        call.args[1]
        if len(call.args) > 1
        else next((k.value for k in call.keywords if k.arg == "mode"), None)
    )
    return (
        isinstance(mode, ast.Constant)
        and isinstance(mode.value, str)
        and any(c in mode.value for c in "wax+")
    )


def select(statements: list[ast.stmt], wheres: list[str]) -> list[Verdict]:
    """One verdict per top-level statement of the whole submission, in file (cell) order.

    ``wheres`` says where each statement is ("sub.ipynb, cell 3, line 2"), for the reasons.
    """
    names = [names_of(s) for s in statements]
    verdicts: list[Verdict | None] = [None] * len(statements)
    candidates = []
    for index, statement in enumerate(statements):
        if is_definition(statement):
            verdicts[index] = Verdict(True)
        elif is_main_block(statement):
            verdicts[index] = Verdict(False, MAIN_BLOCK)
        elif reason := replaced_work(statement):
            verdicts[index] = Verdict(False, reason)
        else:
            candidates.append(index)
    _drop_tainted(candidates, verdicts, names, wheres)
    imported = {n for s, ns in zip(statements, names, strict=True) if _is_import(s) for n in ns.stores}
    needed = {n for v, ns in zip(verdicts, names, strict=True) if v is not None and v.kept for n in ns.uses}
    pending = [i for i in candidates if verdicts[i] is None]
    changed = True
    while changed:  # the backward slice: keep what a kept name needs, until nothing is added
        changed = False
        for index in pending:
            if verdicts[index] is not None:
                continue
            stores, mutated = names[index].stores, names[index].mutates - imported
            if stores & needed or mutated & needed or any(is_constant_like(n) for n in stores):
                verdicts[index] = Verdict(True, derived=True)
                needed |= names[index].uses
                changed = True
    return [v if v is not None else Verdict(False, NOT_NEEDED) for v in verdicts]


def _drop_tainted(
    candidates: Iterable[int], verdicts: list[Verdict | None], names: list[Names], wheres: list[str]
) -> None:
    """Drop a statement that uses a name only dropped work set (``x = x / 255`` after ``load_data``)."""
    origin: dict[str, str] = {}  # name -> what set it last, when that was dropped work
    candidates = set(candidates)
    for index, verdict in enumerate(verdicts):
        if index in candidates:
            tainted = sorted(names[index].uses & origin.keys())
            if tainted:
                first = tainted[0]
                verdicts[index] = Verdict(False, f"uses `{first}`, set by {origin[first]}")
                origin.update(dict.fromkeys(names[index].stores, origin[first]))
                continue
            for name in names[index].stores:
                origin.pop(name, None)
        elif verdict is not None and not verdict.kept and verdict.reason != MAIN_BLOCK:
            what = verdict.reason.split(" (")[0]
            origin.update(dict.fromkeys(names[index].stores, f"{what} at {wheres[index]}"))
        elif verdict is not None:
            for name in names[index].stores:
                origin.pop(name, None)


def _is_import(statement: ast.stmt) -> bool:
    return isinstance(statement, (ast.Import, ast.ImportFrom))
