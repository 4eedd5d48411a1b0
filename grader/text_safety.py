"""Text that came from a student, made safe for where the grader writes it.

Pure functions, standard library only (the sandbox's worker uses :func:`plain_message` too):

* terminals (tables, progress lines) and Markdown files: :func:`escape_controls` turns every C0
  and C1 control character except newline and tab into a visible ``\\x1b``, so no escape sequence
  (OSC 52 clipboard writes, OSC 8 links, title changes, the alternate screen) reaches a terminal;
* Markdown: :func:`markdown_text` escapes Markdown's specials and HTML, :func:`code_block` and
  :func:`code_span` use fences longer than any backtick run in the text;
* CSV: :func:`csv_text`, the one CSV writer of the grader; its cells that a spreadsheet would read
  as a formula (``=``, ``+``, ``-``, ``@``, tab, carriage return first) get a ``'`` in front
  (OWASP's rule for CSV injection), numbers stay numbers;
* file names and URLs: :func:`safe_id`, a student id made of letters, digits, ``.``, ``_``, ``-``.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence

# C0 controls but \t and \n, DEL, and the C1 controls (0x80-0x9f: a terminal reads 0x9b as ESC [).
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SGR = re.compile(r"\x1b\[[0-9;]*m")  # colours and bold, which Keras 3 puts in its messages
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
# Markdown's inline specials and HTML; backslash-escaped (HTML: as entities) wherever they are.
_MD_INLINE = re.compile(r"[\\`*\[\]{}|!~#]")
_UNDERSCORES = re.compile(r"_+")  # between two letters or digits they are text (build_encoder)
# What only starts a block at a line's start: list, heading underline, numbered list (">" is "&gt;").
_MD_LINE_START = re.compile(r"^(\s*)([+=-]|\d+[.)])", re.MULTILINE)
_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
ID_MAX = 100  # characters: OUT/reports/<id>.json and the figures' names stay far below 255 bytes


class Verbatim(str):
    """A CSV cell copied from a file the grader did not write (an LMS export): written as it was."""


def escape_controls(text: str) -> str:
    """Every control character but newline and tab as visible text: ``"\\x1b]52;c;..."``."""
    return _CONTROLS.sub(lambda match: f"\\x{ord(match[0]):02x}", text)


def one_line(text: str, limit: int = 0) -> str:
    """The first line of ``text``, controls escaped, cut to ``limit`` characters (0: no limit)."""
    first = escape_controls((str(text).splitlines() or [""])[0])
    return first if not limit or len(first) <= limit else first[: limit - 3] + "..."


def plain_message(text: str) -> str:
    """An exception message for people: colour codes removed, every other control escaped."""
    return escape_controls(_SGR.sub("", text))


def markdown_text(text: str) -> str:
    """``text`` as literal Markdown: no heading, link, emphasis, table cell, list or HTML of its own."""
    text = escape_controls(str(text))
    text = "".join(_HTML.get(char, char) for char in text)
    text = _MD_INLINE.sub(lambda match: "\\" + match[0], text)
    text = _UNDERSCORES.sub(lambda match: _underscores(match, text), text)
    text = text.replace("://", ":\\/\\/").replace("www.", "www\\.")  # no bare-URL links (GFM)
    return _MD_LINE_START.sub(lambda match: match[1] + _escape_first(match[2]), text)


def _underscores(match: re.Match[str], text: str) -> str:
    before = text[match.start() - 1] if match.start() > 0 else " "
    after = text[match.end()] if match.end() < len(text) else " "
    return match[0] if before.isalnum() and after.isalnum() else "\\_" * len(match[0])


def _escape_first(marker: str) -> str:
    if marker[0].isdigit():  # "1." starts a numbered list; "1\." does not
        return marker[:-1] + "\\" + marker[-1]
    return "\\" + marker


def _longest_backtick_run(text: str) -> int:
    return max((len(run) for run in re.findall(r"`+", text)), default=0)


def code_block(text: str, language: str = "") -> list[str]:
    """A fenced code block holding ``text`` literally: its fence is longer than any backtick run in it."""
    text = escape_controls(text)
    fence = "`" * max(3, _longest_backtick_run(text) + 1)
    return [fence + language, *text.splitlines(), fence]


def code_span(text: str) -> str:
    """Inline code holding ``text`` literally (one line)."""
    text = one_line(text)
    ticks = "`" * (_longest_backtick_run(text) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def csv_cell(value: object) -> str:
    """A cell a spreadsheet shows as text: formulas get a leading ``'``; numbers, negative ones too, stay."""
    if isinstance(value, Verbatim):
        return str(value)
    text = value if isinstance(value, str) else str(value)
    if text.startswith(_FORMULA_START) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


def csv_text(
    rows: Iterable[Sequence[object]],
    delimiter: str = ",",
    quoting: int = csv.QUOTE_MINIMAL,
    newline: str = "\n",
) -> str:
    """CSV of ``rows`` (each cell through :func:`csv_cell`), lines ended by ``newline``.

    A cell holding a carriage return or a newline is always quoted, whatever ``newline`` is
    (Python's writer quotes only the characters of its own line terminator).
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, quoting=quoting, lineterminator="\r\n")
    lines = []
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([csv_cell(cell) for cell in row])
        lines.append(buffer.getvalue()[:-2] + newline)
    return "".join(lines)


def safe_id(name: str) -> str:
    """A student id safe in file names, CSV, terminals and URLs: letters, digits, ``.``, ``_``, ``-``.

    Anything else becomes ``_``; a leading ``.`` or ``-`` too (no hidden file, no option); at most
    ID_MAX characters. The original name is kept beside it (``roster.csv``).
    """
    cleaned = "".join(char if char.isalnum() or char in "._-" else "_" for char in name)
    cleaned = re.sub(r"^[.-]", "_", cleaned)[:ID_MAX]
    return cleaned or "_"
