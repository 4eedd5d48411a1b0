"""Load a submission (``.py`` or ``.ipynb``) into cells of source code and written answers.

Both kinds keep only definitions by default, so the student's own MNIST download and
50-epoch training are not re-run: imports, functions, classes and module-level
assignments of constants. Every dropped statement is recorded; ``all_cells=True`` runs
everything. IPython magics, shell escapes and ``get_ipython()`` calls are ignored.

A ``.py`` exported from a notebook is split into its cells at the markers that
jupytext (``# %%``) and ``jupyter nbconvert --to script`` (``# In[3]:``) write, so
tracebacks say "sub.py, cell 7", line 3; cell N is the N-th marker of the file. A
plain ``.py`` stays one cell with its real line numbers. Anything unreadable is a
:class:`SubmissionError` with a one-line message.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from grader.threadsafe import parse_source

PLACEHOLDER = re.compile(r"^\s*\*?\s*write your answer here\.?\s*\*?\s*$", re.IGNORECASE)
ANSWER_HEADING = re.compile(r"^\s*#{1,6}\s*answer\s+([\w.]+)\s*:?\s*$", re.IGNORECASE)
# A cell marker of a script exported from a notebook: jupytext's "# %%" (with an optional
# title or "[markdown]") and nbconvert's "# In[3]:" / "# In[ ]:".
CELL_MARKER = re.compile(r"^#\s?%%(?P<rest>.*)$|^# In\[[ \d]*\]:\s*$")
MAX_BYTES = 20 * 1024 * 1024
# Modules that exist only inside Google Colab: importing them elsewhere fails, so they are dropped.
COLAB_ONLY = ("google.colab",)
# The hand-out's own imports of the grader (its data cell and its check cells): they serve the
# student's kernel, never the graded code, so the loader drops them (the worker may not import grader).
HANDOUT_IMPORTS = frozenset({("grader", "check"), ("grader.data", "load_dataset")})


class SubmissionError(Exception):
    """The submission cannot be read; the message says why in one line."""


@dataclass(frozen=True)
class Cell:
    filename: str  # what tracebacks show: "sub.py" or "sub.ipynb, cell 7"
    source: str
    number: int = 0  # cell number (1-based) of a notebook or a script with cell markers; 0 otherwise


@dataclass(frozen=True)
class Dropped:
    where: str
    code: str
    names: tuple[str, ...] = ()


@dataclass
class Submission:
    path: Path
    kind: str  # "py" | "ipynb" | "history" (a notebook kernel's input history)
    sha256: str
    cells: list[Cell]
    answers: dict[str, str] = field(default_factory=dict)
    dropped: list[Dropped] = field(default_factory=list)
    # The code cells as the student wrote them, dropped statements included: the integrity scan
    # reports what a student tried, even where the grader did not run it.
    written: list[Cell] = field(default_factory=list)

    @property
    def source(self) -> str:
        return "\n\n".join(cell.source for cell in self.cells)

    @property
    def dropped_names(self) -> dict[str, str]:
        """name -> where a dropped statement assigned it (for the NameError advice)."""
        return {name: drop.where for drop in self.dropped for name in drop.names}

    def worker_cells(self) -> list[dict[str, str]]:
        return [{"filename": cell.filename, "source": cell.source} for cell in self.cells]


def load_submission(
    path: str | Path, all_cells: bool = False, *, keep_all_cells: bool | None = None
) -> Submission:
    """Read ``path``; keep definitions only unless ``all_cells`` (``keep_all_cells``: its old name)."""
    if keep_all_cells is not None:
        all_cells = keep_all_cells
    path = Path(path)
    if not path.exists():
        raise SubmissionError(f"file not found: {path}")
    if path.is_dir():
        raise SubmissionError(f"{path} is a folder; pass the .py or .ipynb file inside it")
    if path.suffix not in (".py", ".ipynb"):
        raise SubmissionError(f"{path.name}: a submission is a .py module or an .ipynb notebook")
    raw = path.read_bytes()
    if len(raw) > MAX_BYTES:
        raise SubmissionError(f"{path.name} is larger than {MAX_BYTES // 2**20} MB")
    if not raw.strip():
        raise SubmissionError(f"{path.name} is empty")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SubmissionError(
            f"{path.name} is not UTF-8 text (byte 0x{raw[exc.start]:02x} at position {exc.start}); save it "
            f"as UTF-8"
        ) from None
    sha = hashlib.sha256(raw).hexdigest()
    if path.suffix == ".py":
        return _load_script(path, text, sha, all_cells)
    return _load_notebook(path, text, sha, all_cells)


def _parse(cell: Cell) -> ast.Module:
    try:
        return parse_source(cell.source, cell.filename)
    except SyntaxError as exc:
        where = (
            f"{cell.filename}, line {exc.lineno}" if cell.number else f"{cell.filename} at line {exc.lineno}"
        )
        raise SubmissionError(f"syntax error in {where}: {exc.msg}") from None


def _load_notebook(path: Path, text: str, sha: str, all_cells: bool) -> Submission:
    import nbformat

    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SubmissionError(
            f"{path.name} is not a valid notebook: invalid JSON at line {exc.lineno} column {exc.colno}"
        ) from None
    if not isinstance(raw, dict) or "cells" not in raw and "worksheets" not in raw:
        raise SubmissionError(f"{path.name} is not a Jupyter notebook (no cells)")
    major = raw.get("nbformat")
    if major != 4:
        raise SubmissionError(
            f"{path.name} uses notebook format {major}; only format 4 is supported (open and save it in "
            f"Jupyter)"
        )
    try:
        notebook = nbformat.reads(text, as_version=4)
    except Exception as exc:  # nbformat raises several kinds for broken files
        raise SubmissionError(
            f"{path.name} is not a valid notebook: {str(exc).splitlines()[0][:200]}"
        ) from None
    cells: list[Cell] = []
    written: list[Cell] = []
    dropped: list[Dropped] = []
    for number, nb_cell in enumerate(notebook.cells, start=1):
        if nb_cell.cell_type != "code":
            continue
        source = _strip_magics(_unix_newlines(nb_cell.source))
        cell = Cell(f"{path.name}, cell {number}", source, number)
        written.append(cell)
        cell, cell_dropped = _select(cell, _parse(cell), all_cells)
        dropped.extend(cell_dropped)
        if cell.source.strip():
            cells.append(cell)
    answers = _answers_from_markdown(notebook.cells) | _answers_from_code(cells)
    return Submission(path, "ipynb", sha, cells, answers=answers, dropped=dropped, written=written)


def _load_script(path: Path, text: str, sha: str, all_cells: bool) -> Submission:
    """A ``.py``: one cell, or the cells of a notebook export; markdown cells are read for answers."""
    from nbformat.v4 import new_code_cell, new_markdown_cell

    cells: list[Cell] = []
    written: list[Cell] = []
    dropped: list[Dropped] = []
    script_cells = split_script(path.name, _unix_newlines(text))
    for cell, kind in script_cells:
        if kind != "code":
            continue
        cell = _without_magics_if_needed(cell)
        tree = _parse(cell)
        if not tree.body:  # only comments, e.g. the header of an export
            continue
        written.append(cell)
        cell, cell_dropped = _select(cell, tree, all_cells)
        dropped.extend(cell_dropped)
        if cell.source.strip():
            cells.append(cell)
    notebook_cells = [
        new_code_cell(cell.source) if kind == "code" else new_markdown_cell(cell.source)
        for cell, kind in script_cells
    ]
    answers = _answers_from_markdown(notebook_cells) | _answers_from_code(cells)
    return Submission(path, "py", sha, cells, answers=answers, dropped=dropped, written=written)


def load_cells(name: str, sources: Sequence[tuple[str, str]], all_cells: bool = False) -> Submission:
    """A submission from code already in memory: ``(label, source)`` per cell, in the order run.

    A notebook kernel's input history (grader/notebook_check.py): the same definitions-only rule as
    a file. A cell that does not parse defined nothing in the kernel either, so it is left out.
    """
    cells: list[Cell] = []
    written: list[Cell] = []
    dropped: list[Dropped] = []
    for number, (label, source) in enumerate(sources, start=1):
        cell = Cell(label, _strip_magics(_unix_newlines(source)), number)
        try:
            tree = parse_source(cell.source, cell.filename)
        except SyntaxError:
            dropped.append(Dropped(label, "a cell with a syntax error (it defined nothing)"))
            continue
        written.append(cell)
        cell, cell_dropped = _select(cell, tree, all_cells)
        dropped.extend(cell_dropped)
        if cell.source.strip():
            cells.append(cell)
    digest = hashlib.sha256("\n\0".join(source for _, source in sources).encode()).hexdigest()
    answers = _answers_from_code(cells)
    return Submission(Path(name), "history", digest, cells, answers=answers, dropped=dropped, written=written)


def split_script(name: str, text: str) -> list[tuple[Cell, str]]:
    """(cell, "code" | "markdown") in file order; a file without markers is one code cell.

    Code before the first marker keeps the plain file name and its real line numbers.
    Markdown is jupytext's ``# %% [markdown]`` cells, and nbconvert's comment blocks
    (it writes markdown cells as ``# text`` lines between the code cells).
    """
    lines = text.split("\n")
    starts = [index for index, line in enumerate(lines) if CELL_MARKER.match(line)]
    if not starts:
        return [(Cell(name, text), "code")]
    preamble = lines[: starts[0]]  # e.g. nbconvert's "# coding: utf-8" and the notebook's title
    result: list[tuple[Cell, str]] = [(Cell(name, "\n".join(preamble)), "code")]
    result.extend((Cell(name, block), "markdown") for block in _comment_blocks(preamble))
    for number, (start, end) in enumerate(zip(starts, [*starts[1:], len(lines)], strict=True), start=1):
        body = lines[start + 1 : end]
        while body and not body[0].strip():  # nbconvert's blank lines after the marker
            body = body[1:]
        rest = (CELL_MARKER.match(lines[start]).group("rest") or "").strip()
        cell = Cell(f"{name}, cell {number}", "\n".join(body), number)
        if rest.startswith("[markdown]") or rest.startswith("[md]"):
            result.append((replace(cell, source=_uncomment(body)), "markdown"))
            continue
        result.append((cell, "code"))
        result.extend((replace(cell, source=block), "markdown") for block in _comment_blocks(body))
    return result


def _uncomment(lines: list[str]) -> str:
    return "\n".join(line[2:] if line.startswith("# ") else line.lstrip("#") for line in lines).strip()


def _comment_blocks(lines: list[str]) -> list[str]:
    """Paragraphs made only of ``#`` comment lines at the start of a line (nbconvert's markdown)."""
    blocks, current = [], []
    for line in [*lines, ""]:
        if line.startswith("#"):
            current.append(line)
            continue
        if current and not line.strip():
            blocks.append(_uncomment(current))
        current = []
    return [block for block in blocks if block]


def _without_magics_if_needed(cell: Cell) -> Cell:
    """A .py cell with its magics blanked, but only when it is not Python as written: a line of a
    string that starts with % or ! stays intact. A cell broken either way keeps its own error."""
    try:
        parse_source(cell.source, cell.filename)
        return cell
    except SyntaxError:
        stripped = replace(cell, source=_strip_magics(cell.source))
    try:
        parse_source(stripped.source, cell.filename)
    except SyntaxError:
        return cell
    return stripped


def _unix_newlines(text: str) -> str:
    """Windows (and old Mac) line endings as \\n, so that line numbers match ast's."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _strip_magics(source: str) -> str:
    """Blank out IPython magics and shell escapes (keeping line numbers); drop cell magics."""
    if source.lstrip().startswith("%%"):
        return ""
    lines = []
    for line in source.splitlines():
        stripped = line.lstrip()
        lines.append("" if stripped.startswith(("%", "!")) or stripped.startswith("?") else line)
    return "\n".join(lines)


def _is_constant(node: ast.AST) -> bool:
    """A literal, or arithmetic on literals (e.g. ``2 * 16`` or ``(32, 32, 1)``)."""
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return all(_is_constant(element) for element in node.elts)
    if isinstance(node, ast.Dict):
        return all(k is not None and _is_constant(k) for k in node.keys) and all(
            _is_constant(v) for v in node.values
        )
    if isinstance(node, ast.UnaryOp):
        return _is_constant(node.operand)
    if isinstance(node, ast.BinOp):
        return _is_constant(node.left) and _is_constant(node.right)
    return False


def _keep(statement: ast.stmt) -> bool:
    if isinstance(
        statement, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    ):
        return True
    if isinstance(statement, ast.Assign):
        return _is_constant(statement.value)
    if isinstance(statement, ast.AnnAssign):
        return statement.value is None or _is_constant(statement.value)
    if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
        return True  # a docstring
    if isinstance(statement, ast.Try):  # try: import x / except ImportError: import y
        body = statement.body + statement.orelse + [s for h in statement.handlers for s in h.body]
        return all(isinstance(s, (ast.Import, ast.ImportFrom, ast.Pass)) for s in body)
    return False


def _assigned_names(statement: ast.stmt) -> tuple[str, ...]:
    names = []
    for node in ast.walk(statement):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.append(node.id)
    return tuple(dict.fromkeys(names))


def _is_ipython_call(statement: ast.stmt) -> bool:
    """``get_ipython().run_line_magic(...)`` and friends: nbconvert's form of a magic or ``!cmd``."""
    value = getattr(statement, "value", None) if isinstance(statement, (ast.Expr, ast.Assign)) else None
    node = value.func if isinstance(value, ast.Call) else None
    while isinstance(node, (ast.Attribute, ast.Call)):
        node = node.value if isinstance(node, ast.Attribute) else node.func
    return isinstance(node, ast.Name) and node.id == "get_ipython"


def is_handout_import(statement: ast.stmt) -> bool:
    """``from grader import check`` or ``from grader.data import load_dataset`` (and nothing else)."""
    if not isinstance(statement, ast.ImportFrom):
        return False
    return all((statement.module, a.name) in HANDOUT_IMPORTS and a.asname is None for a in statement.names)


def _is_colab_import(statement: ast.stmt) -> bool:
    if is_handout_import(statement):
        return True
    if isinstance(statement, ast.ImportFrom):
        modules = [statement.module or ""]
    elif isinstance(statement, ast.Import):
        modules = [alias.name for alias in statement.names]
    else:
        return False
    return any(m == c or m.startswith(c + ".") for m in modules for c in COLAB_ONLY)


def _select(cell: Cell, tree: ast.Module, all_cells: bool) -> tuple[Cell, list[Dropped]]:
    """Blank ``get_ipython()`` calls and Colab-only imports always, and every statement that is
    not a definition unless ``all_cells``; all but the magics are recorded. Line numbers stay valid."""
    lines = cell.source.split("\n")
    dropped = []
    kept_lines: set[int] = set()
    kept: list[ast.stmt] = []
    for statement in tree.body:
        span = range(statement.lineno, (statement.end_lineno or statement.lineno) + 1)
        magic = _is_ipython_call(statement)
        if not magic and not _is_colab_import(statement) and (all_cells or _keep(statement)):
            kept_lines.update(span)
            kept.append(statement)
            continue
        if not magic:
            code = ast.get_source_segment(cell.source, statement) or ""
            dropped.append(
                Dropped(
                    f"{cell.filename}, line {statement.lineno}",
                    code.splitlines()[0][:120] if code else "",
                    _assigned_names(statement),
                )
            )
        for lineno in span:
            if lineno not in kept_lines:
                lines[lineno - 1] = ""
    if len(kept) == len(tree.body):
        return cell, dropped
    source = "\n".join(lines)
    try:
        parse_source(source)
    except SyntaxError:  # statements sharing a line: fall back to re-printing the kept ones
        source = "\n".join(ast.unparse(s) for s in kept)
    return replace(cell, source=source), dropped


def _answers_from_code(cells: list[Cell]) -> dict[str, str]:
    """A literal ``ANSWERS = {...}`` dict at module level (the last one wins)."""
    answers: dict[str, str] = {}
    for cell in cells:
        try:
            tree = parse_source(cell.source)
        except SyntaxError:
            continue
        for statement in tree.body:
            if (
                isinstance(statement, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == "ANSWERS" for t in statement.targets)
                and isinstance(statement.value, ast.Dict)
            ):
                try:
                    value = ast.literal_eval(statement.value)
                except ValueError:
                    continue
                answers = {str(k): str(v).strip() for k, v in value.items()}
    return answers


def _answers_from_markdown(cells: list[Any]) -> dict[str, str]:
    """``### Answer 2b`` headings (answer in the same cell, or in the next markdown cell) and tags."""
    answers: dict[str, str] = {}
    for index, cell in enumerate(cells):
        if cell.cell_type != "markdown":
            continue
        for tag in cell.get("metadata", {}).get("tags", []):
            if str(tag).startswith("answer:"):
                answers[str(tag)[7:]] = _clean_answer(cell.source)
        lines = cell.source.splitlines()
        if not lines or not ANSWER_HEADING.match(lines[0]):
            continue
        key = ANSWER_HEADING.match(lines[0]).group(1)
        body = "\n".join(lines[1:]).strip()
        if not body and index + 1 < len(cells) and cells[index + 1].cell_type == "markdown":
            following = cells[index + 1].source
            if not following.lstrip().startswith(("#", "**Question")):
                body = following.strip()
        answers[key] = _clean_answer(body)
    return answers


def _clean_answer(text: str) -> str:
    return "" if PLACEHOLDER.match(text or "") else (text or "").strip()
