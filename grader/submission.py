"""Load a submission (``.py`` or ``.ipynb``) into cells of source code and written answers.

Both kinds follow the loading rule (grader/loading_rule.py, docs/architecture.md): the
grader runs what a fresh kernel would define by running the file top to bottom, except
work that only produces output or that the grader replaces (training, plots, prints, data
loading, file writes, magics), so the student's own MNIST download and 50-epoch training
are not re-run while ``L = tf.keras.layers`` or ``ATTENTION_OUTPUT = ...`` are. Every
dropped statement is recorded with the reason; ``all_cells=True`` runs everything. A cell
that does not parse is skipped and reported. IPython magics, shell escapes and
``get_ipython()`` calls are ignored.

A ``.py`` exported from a notebook is split into its cells at the markers that
jupytext (``# %%``) and ``jupyter nbconvert --to script`` (``# In[3]:``) write, so
tracebacks say "sub.py, cell 7", line 3; cell N is the N-th marker of the file. A
plain ``.py`` stays one cell with its real line numbers. Anything unreadable is a
:class:`SubmissionError` with a one-line message.
"""

from __future__ import annotations

import ast
import hashlib
import io
import json
import re
import stat
import tokenize
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

# nbformat is imported here, once, not lazily: two grading threads importing it at the same time
# see a half-initialised module (its reader and validator import each other).
import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell

from grader.loading_rule import Verdict, select
from grader.threadsafe import parse_source

PLACEHOLDER = re.compile(r"^\s*\*?\s*write your answer here\.?\s*\*?\s*$", re.IGNORECASE)
ANSWER_HEADING = re.compile(r"^\s*#{1,6}\s*answer\s+([\w.]+)\s*:?\s*$", re.IGNORECASE)
# A cell marker of a script exported from a notebook: jupytext's "# %%" (with an optional
# title or "[markdown]") and nbconvert's "# In[3]:" / "# In[ ]:".
CELL_MARKER = re.compile(r"^#\s?%%(?P<rest>.*)$|^# In\[[ \d]*\]:\s*$")
# The limit is on the code: a notebook's outputs (figures) may make the file much larger.
MAX_CODE_BYTES = 20 * 2**20
MAX_FILE_BYTES = 200 * 2**20  # the raw file, outputs included
MAX_BYTES = MAX_CODE_BYTES  # the old name
MAGIC = "magic"  # the reason of a blanked get_ipython() call: never listed as dropped
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
    # Lines where a kept derived statement starts: the worker runs the cell statement by statement
    # and those under a time limit. None (--all-cells): the cell runs as one block, as written.
    timed: tuple[int, ...] | None = None


@dataclass(frozen=True)
class Dropped:
    where: str
    code: str
    names: tuple[str, ...] = ()
    reason: str = ""  # why the grader does not run it (grader/loading_rule.py)


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
        """name -> where and why a dropped statement assigned it (for the NameError advice)."""
        return {name: _where_and_why(drop) for drop in self.dropped for name in drop.names}

    def worker_cells(self) -> list[dict[str, Any]]:
        cells: list[dict[str, Any]] = []
        for cell in self.cells:
            entry: dict[str, Any] = {"filename": cell.filename, "source": cell.source}
            if cell.timed is not None:
                entry |= {"timed": list(cell.timed), "time_limit_s": DERIVED_TIME_LIMIT_S}
            cells.append(entry)
        return cells


# A kept statement that is not a definition (ATTENTION_OUTPUT = f(...)) may take this long at load.
DERIVED_TIME_LIMIT_S = 15.0


def _where_and_why(drop: Dropped) -> str:
    return f"{drop.where}: {drop.reason.split(' (')[0]}" if drop.reason else drop.where


def load_submission(
    path: str | Path, all_cells: bool = False, *, keep_all_cells: bool | None = None
) -> Submission:
    """Read ``path`` under the loading rule unless ``all_cells`` (``keep_all_cells``: its old name)."""
    if keep_all_cells is not None:
        all_cells = keep_all_cells
    path = Path(path)
    raw = _read_bytes(path)
    sha = hashlib.sha256(raw).hexdigest()
    if path.suffix == ".py":
        if len(raw) > MAX_CODE_BYTES:
            raise SubmissionError(f"{path.name} is larger than {MAX_CODE_BYTES // 2**20} MB")
        return _load_script(path, _decode_script(path.name, raw), sha, all_cells)
    return _load_notebook(path, _decode_utf8(path.name, raw), sha, all_cells)


def _read_bytes(path: Path) -> bytes:
    """The file's bytes, or a one-line SubmissionError (a FIFO or a device is never opened)."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise SubmissionError(f"file not found: {path}") from None
    except OSError as exc:
        raise SubmissionError(f"cannot read {path}: {exc.strerror or exc}") from None
    if stat.S_ISDIR(info.st_mode):
        raise SubmissionError(f"{path} is a folder; pass the .py or .ipynb file inside it")
    if path.suffix not in (".py", ".ipynb"):
        raise SubmissionError(f"{path.name}: a submission is a .py module or an .ipynb notebook")
    if not stat.S_ISREG(info.st_mode):
        raise SubmissionError(f"{path.name} is not a regular file (a pipe, a socket or a device)")
    if info.st_size > MAX_FILE_BYTES:
        raise SubmissionError(
            f"{path.name} is larger than {MAX_FILE_BYTES // 2**20} MB; clear the notebook's outputs "
            f"(Edit > Clear All Outputs) and save it again"
        )
    try:
        with open(path, "rb") as file:  # a regular file: reading cannot block
            raw = file.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise SubmissionError(f"cannot read {path.name}: {exc.strerror or exc}") from None
    if len(raw) > MAX_FILE_BYTES:  # it grew after stat
        raise SubmissionError(f"{path.name} is larger than {MAX_FILE_BYTES // 2**20} MB")
    if not raw.strip():
        raise SubmissionError(f"{path.name} is empty")
    return raw


def _decode_utf8(name: str, raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SubmissionError(
            f"{name} is not UTF-8 text (byte 0x{raw[exc.start]:02x} at position {exc.start}); save it "
            f"as UTF-8"
        ) from None


def _decode_script(name: str, raw: bytes) -> str:
    """A .py in the encoding its PEP 263 line declares (``# -*- coding: latin-1 -*-``), else UTF-8."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
    except SyntaxError as exc:  # not UTF-8 without a coding line, or an unknown encoding name
        _decode_utf8(name, raw)  # names the first byte that is not UTF-8
        raise SubmissionError(f"{name}: {exc}") from None
    if encoding in ("utf-8", "utf-8-sig"):
        return _decode_utf8(name, raw)
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise SubmissionError(
            f"{name} is not {encoding} text as its coding line says (byte 0x{raw[exc.start]:02x} at "
            f"position {exc.start})"
        ) from None


def _syntax_error(cell: Cell, exc: SyntaxError) -> str:
    where = f"{cell.filename}, line {exc.lineno}" if cell.number else f"{cell.filename} at line {exc.lineno}"
    return f"syntax error in {where}: {exc.msg}"


def _load_notebook(path: Path, text: str, sha: str, all_cells: bool) -> Submission:
    notebook = _read_notebook(path.name, text)
    code_cells = []
    for number, nb_cell in enumerate(notebook.cells, start=1):
        if nb_cell.get("cell_type") != "code":
            continue
        source = _strip_magics(_unix_newlines(_text(nb_cell.get("source", ""))))
        code_cells.append(Cell(f"{path.name}, cell {number}", source, number))
    if sum(len(cell.source.encode()) for cell in code_cells) > MAX_CODE_BYTES:
        raise SubmissionError(f"the code of {path.name} is larger than {MAX_CODE_BYTES // 2**20} MB")
    submission = _apply_rule(path, "ipynb", sha, code_cells, all_cells)
    submission.answers = _answers_from_markdown(notebook.cells) | _answers_from_code(submission.cells)
    return submission


def _read_notebook(name: str, text: str) -> Any:
    """The notebook as nbformat 4 (older formats converted); a one-line SubmissionError otherwise."""
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SubmissionError(
            f"{name} is not a valid notebook: invalid JSON at line {exc.lineno} column {exc.colno}"
        ) from None
    except RecursionError:  # brackets nested past what Python's JSON parser follows
        raise SubmissionError(f"{name} is not a valid notebook: its JSON is nested too deeply") from None
    if not isinstance(raw, dict) or "cells" not in raw and "worksheets" not in raw:
        raise SubmissionError(f"{name} is not a Jupyter notebook (no cells)")
    major = raw.get("nbformat")
    if major not in (1, 2, 3, 4):
        raise SubmissionError(f"{name} uses notebook format {major}, which nbformat cannot read")
    try:
        notebook = nbformat.reads(text, as_version=4)
    except Exception as exc:  # nbformat raises several kinds for broken files
        raise SubmissionError(f"{name} is not a valid notebook: {str(exc).splitlines()[0][:200]}") from None
    language = _kernel_language(notebook.get("metadata", {}))
    if language and language != "python":
        raise SubmissionError(
            f"{name} is a notebook in {language} (its kernel's language); the grader reads Python notebooks"
        )
    if not isinstance(notebook.get("cells"), list):
        raise SubmissionError(f"{name} is not a Jupyter notebook (no cells)")
    notebook.cells = [cell for cell in notebook.cells if isinstance(cell, dict)]
    return notebook


def _kernel_language(metadata: Any) -> str:
    """``metadata.kernelspec.language`` or ``language_info.name``, lower case ("" if neither)."""
    if not isinstance(metadata, dict):
        return ""
    for key, field_name in (("kernelspec", "language"), ("language_info", "name")):
        value = metadata.get(key, {})
        if isinstance(value, dict) and isinstance(value.get(field_name), str) and value[field_name].strip():
            return value[field_name].strip().lower()
    return ""


def _text(source: Any) -> str:
    """A cell's source: a string, or the list of lines an unnormalised notebook may hold."""
    if isinstance(source, list):
        return "".join(str(line) for line in source)
    return source if isinstance(source, str) else ""


def _load_script(path: Path, text: str, sha: str, all_cells: bool) -> Submission:
    """A ``.py``: one cell, or the cells of a notebook export; markdown cells are read for answers."""
    script_cells = split_script(path.name, _unix_newlines(text))
    code_cells = [_without_magics_if_needed(cell) for cell, kind in script_cells if kind == "code"]
    if len(code_cells) == 1:  # a plain module: Python would not import any of it
        try:
            parse_source(code_cells[0].source, code_cells[0].filename)
        except SyntaxError as exc:
            raise SubmissionError(_syntax_error(code_cells[0], exc)) from None
    submission = _apply_rule(path, "py", sha, code_cells, all_cells)
    notebook_cells = [
        new_code_cell(cell.source) if kind == "code" else new_markdown_cell(cell.source)
        for cell, kind in script_cells
    ]
    submission.answers = _answers_from_markdown(notebook_cells) | _answers_from_code(submission.cells)
    return submission


def load_cells(name: str, sources: Sequence[tuple[str, str]], all_cells: bool = False) -> Submission:
    """A submission from code already in memory: ``(label, source)`` per cell, in the order run.

    A notebook kernel's input history (grader/notebook_check.py): the same loading rule as a file.
    """
    cells = [
        Cell(label, _strip_magics(_unix_newlines(source)), number)
        for number, (label, source) in enumerate(sources, start=1)
    ]
    digest = hashlib.sha256("\n\0".join(source for _, source in sources).encode()).hexdigest()
    submission = _apply_rule(Path(name), "history", digest, cells, all_cells)
    submission.answers = _answers_from_code(submission.cells)
    return submission


def _apply_rule(path: Path, kind: str, sha: str, code_cells: list[Cell], all_cells: bool) -> Submission:
    """Parse each code cell (one that does not parse is skipped and reported), then keep the
    statements the loading rule keeps (grader/loading_rule.py), or all of them with ``all_cells``."""
    parsed: list[tuple[Cell, ast.Module]] = []
    dropped: list[Dropped] = []
    for cell in code_cells:
        try:
            tree = parse_source(cell.source, cell.filename)
        except SyntaxError as exc:
            first = next((line.strip() for line in cell.source.splitlines() if line.strip()), "")
            reason = f"{_syntax_error(cell, exc)}; the cell is skipped (it defined nothing)"
            dropped.append(Dropped(cell.filename, first[:120], _names_in_broken_code(cell.source), reason))
            continue
        if tree.body:  # a cell of comments only (e.g. an export's header) is nothing to run
            parsed.append((cell, tree))
    statements: list[tuple[int, ast.stmt]] = []
    verdicts: dict[tuple[int, int], Verdict] = {}
    for index, (_cell, tree) in enumerate(parsed):
        for position, statement in enumerate(tree.body):
            if _is_ipython_call(statement):
                verdicts[index, position] = Verdict(False, MAGIC)
            elif reason := _unusable_import(statement):
                verdicts[index, position] = Verdict(False, reason)
            elif all_cells:
                verdicts[index, position] = Verdict(True)
            else:
                statements.append((index, position))
    wheres = {
        key: f"{parsed[key[0]][0].filename}, line {parsed[key[0]][1].body[key[1]].lineno}"
        for key in statements
    }
    chosen = select([parsed[i][1].body[p] for i, p in statements], [wheres[key] for key in statements])
    verdicts.update(zip(statements, chosen, strict=True))
    cells = []
    for index, (cell, tree) in enumerate(parsed):
        cell_verdicts = [verdicts[index, position] for position in range(len(tree.body))]
        kept, cell_dropped = _select(cell, tree, cell_verdicts, all_cells)
        dropped.extend(cell_dropped)
        if kept.source.strip():
            cells.append(kept)
    order = {cell.filename: n for n, cell in enumerate(code_cells)}
    dropped.sort(key=lambda d: order.get(d.where.rsplit(", line ", 1)[0], 0))
    written = [cell for cell, _ in parsed]
    return Submission(path, kind, sha, cells, dropped=dropped, written=written)


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


BROKEN_CODE_NAME = re.compile(r"^(?:async\s+)?(?:def|class)\s+(\w+)|^(\w+)\s*(?::[^=]*)?=(?!=)", re.MULTILINE)


def _names_in_broken_code(source: str) -> tuple[str, ...]:
    """The top-level names a cell that does not parse meant to define, for the NameError message."""
    return tuple(dict.fromkeys(a or b for a, b in BROKEN_CODE_NAME.findall(source)))


def _unusable_import(statement: ast.stmt) -> str:
    """Why an import is never run: the hand-out's own grader import, or a Colab-only module."""
    if is_handout_import(statement):
        return "the hand-out's import of the grader (the grader supplies the data and the checks)"
    if _is_colab_import(statement):
        return "a Colab-only import"
    return ""


def _select(
    cell: Cell, tree: ast.Module, verdicts: list[Verdict], all_cells: bool
) -> tuple[Cell, list[Dropped]]:
    """The cell with its dropped statements blanked (line numbers stay valid), the dropped ones
    recorded (magics silently), and the lines of its kept derived statements marked as timed."""
    lines = cell.source.split("\n")
    dropped = []
    kept_lines: set[int] = set()
    kept: list[tuple[ast.stmt, Verdict]] = []
    for statement, verdict in zip(tree.body, verdicts, strict=True):
        span = range(statement.lineno, (statement.end_lineno or statement.lineno) + 1)
        if verdict.kept:
            kept_lines.update(span)
            kept.append((statement, verdict))
            continue
        if verdict.reason != MAGIC:
            code = ast.get_source_segment(cell.source, statement) or ""
            dropped.append(
                Dropped(
                    f"{cell.filename}, line {statement.lineno}",
                    code.splitlines()[0][:120] if code else "",
                    _assigned_names(statement),
                    verdict.reason,
                )
            )
        for lineno in span:
            if lineno not in kept_lines:
                lines[lineno - 1] = ""
    timed = None if all_cells else tuple(s.lineno for s, v in kept if v.derived)
    if len(kept) == len(tree.body):
        return replace(cell, timed=timed), dropped
    source = "\n".join(lines)
    try:
        parse_source(source)
    except SyntaxError:  # statements sharing a line: fall back to re-printing the kept ones
        printed = [ast.unparse(s) for s, _ in kept]
        source = "\n".join(printed)
        starts = [1 + sum(p.count("\n") + 1 for p in printed[:n]) for n in range(len(printed))]
        timed = (
            None
            if all_cells
            else tuple(start for start, (_, v) in zip(starts, kept, strict=True) if v.derived)
        )
    return replace(cell, source=source, timed=timed), dropped


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
        if cell.get("cell_type") != "markdown":
            continue
        for tag in cell.get("metadata", {}).get("tags", []):
            if str(tag).startswith("answer:"):
                answers[str(tag)[7:]] = _clean_answer(_text(cell.get("source")))
        lines = _text(cell.get("source")).splitlines()
        if not lines or not ANSWER_HEADING.match(lines[0]):
            continue
        key = ANSWER_HEADING.match(lines[0]).group(1)
        body = "\n".join(lines[1:]).strip()
        if not body and index + 1 < len(cells) and cells[index + 1].get("cell_type") == "markdown":
            following = _text(cells[index + 1].get("source"))
            if not following.lstrip().startswith(("#", "**Question")):
                body = following.strip()
        answers[key] = _clean_answer(body)
    return answers


def _clean_answer(text: str) -> str:
    return "" if PLACEHOLDER.match(text or "") else (text or "").strip()
