"""The metamorphic style corpus: the references rewritten in the styles students write.

Every variant is a reference (``reference/*.py``) with a combination of style transforms
applied (``tests/styles/transforms.py``); each is equivalent to its reference, so it must
earn full automatic marks. Each variant is written in four formats: a ``.py`` module, a
notebook (code split into several cells with markdown between), a jupytext percent script
and an ``nbconvert --to script`` export. Everything is deterministic: the same reference
gives byte-identical files.

    python tests/styles/generate.py OUT_DIR     # writes OUT_DIR/<variant>/<format file>

tests/test_styles.py grades the ``.py`` forms at the smoke budget and checks that the other
formats load to the same code; benchmarks/fidelity.py grades every format at the real budget.
"""

from __future__ import annotations

import ast
import itertools
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as a script
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import transforms  # type: ignore[no-redef]
else:
    from . import transforms

ROOT = Path(__file__).resolve().parents[2]
FORMATS = ("py", "ipynb", "percent", "nbconvert")
FILE_NAMES = {
    "py": "submission.py",
    "ipynb": "submission.ipynb",
    "percent": "submission_percent.py",
    "nbconvert": "submission_nbconvert.py",
}


@dataclass(frozen=True)
class Variant:
    name: str  # "<rubric>__<style>+<style>..."
    rubric: str
    styles: tuple[str, ...]
    source: str  # the .py form
    keras: str | None = None  # "2" when the style uses Keras 2 idioms

    @property
    def description(self) -> str:
        return f"style corpus: the {self.rubric} reference with {', '.join(self.styles)}"


def reference_source(rubric: str) -> str:
    return (ROOT / "reference" / f"{rubric}.py").read_text(encoding="utf-8")


# -- which style combinations ------------------------------------------------------------------


def autoencoder_styles() -> Iterator[transforms.AutoencoderStyle]:
    """35 combinations: every model x activation x VAE style (the reference's own one left
    out), with the module-level styles (partial, aliases, derived) cycled, none in one of four."""
    combos = itertools.product(transforms.AE_VAE, transforms.AE_ACTIVATIONS, transforms.AE_MODELS)
    for index, (vae, activation, model) in enumerate(combos):
        flags = [(False, False, False), (False, True, False), (True, False, True), (True, True, False)]
        partial, aliases, derived = flags[index % len(flags)]
        yield transforms.AutoencoderStyle(model, activation, partial, aliases, derived, vae)
    # Nine more, with every optional style on, so that each model x activation meets them all.
    for activation, model in itertools.product(transforms.AE_ACTIVATIONS, transforms.AE_MODELS):
        yield transforms.AutoencoderStyle(model, activation, True, True, True, "no_trackers")


def sheet10_styles() -> Iterator[transforms.Sheet10Style]:
    """16 of the 64 combinations: every fifth, all styles, and those of the model and the
    attention alone (no module-level constants)."""
    alone = {(False, True, False, False, False, False), (False, False, False, False, False, True)}
    alone.add((False, True, False, False, False, True))
    for index, bits in enumerate(itertools.product((False, True), repeat=6)):
        if index % 5 == 0 or bits == (True,) * 6 or bits in alone:
            yield transforms.Sheet10Style(*bits)


def transposed_conv_styles() -> Iterator[transforms.TransposedConvStyle]:
    for matrix, upsample in itertools.product(transforms.TC_MATRIX, transforms.TC_UPSAMPLE):
        for helper, derived in ((False, True), (True, False)):
            yield transforms.TransposedConvStyle(matrix, upsample, helper, derived, computed=helper)


def variants() -> list[Variant]:
    found: list[Variant] = []
    builders = (
        ("autoencoders", autoencoder_styles, transforms.rewrite_autoencoders),
        ("sheet10", sheet10_styles, transforms.rewrite_sheet10),
        ("transposed_conv", transposed_conv_styles, transforms.rewrite_transposed_conv),
    )
    for rubric, styles, rewrite in builders:
        reference = reference_source(rubric)
        for style in styles():
            tags = style.tags()
            if not tags:  # the reference itself
                continue
            source = rewrite(reference, style)
            ast.parse(source)  # a transform that breaks the syntax is a bug of the generator
            keras = "2" if getattr(style, "vae", "") == "keras2" else None
            found.append(Variant(f"{rubric}__{'+'.join(tags)}", rubric, tags, source, keras))
    names = [variant.name for variant in found]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    assert not duplicates, f"two style combinations give the same variant name: {duplicates}"
    return found


# -- the formats ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Chunk:
    kind: str  # "code" | "markdown"
    text: str


def chunks(source: str) -> list[Chunk]:
    """The module as notebook cells: the docstring becomes the title cell, each top-level
    function or class (with the comments above it) starts a new code cell, and a markdown
    cell names what the next code cell defines, as students annotate their notebooks."""
    tree = ast.parse(source)
    lines = source.split("\n")
    body = list(tree.body)
    result: list[Chunk] = []
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        result.append(Chunk("markdown", "# " + str(body[0].value.value).strip()))
        lines[: body[0].end_lineno] = [""] * body[0].end_lineno
        body = body[1:]
    starts = [0]
    for statement in body:
        if isinstance(statement, (ast.FunctionDef, ast.ClassDef)):
            first = min([statement.lineno, *(d.lineno for d in statement.decorator_list)]) - 1
            while first > 0 and lines[first - 1].startswith("#"):
                first -= 1  # the section comment above belongs to this cell
            if first > starts[-1]:
                starts.append(first)
    for start, end in zip(starts, [*starts[1:], len(lines)], strict=True):
        code = "\n".join(lines[start:end]).strip("\n")
        if not code.strip():
            continue
        defined = _first_definition(code)
        if defined and result:
            result.append(Chunk("markdown", f"Next: `{defined}`."))
        result.append(Chunk("code", code))
    return result


def _first_definition(code: str) -> str | None:
    for statement in ast.parse(code).body:
        if isinstance(statement, (ast.FunctionDef, ast.ClassDef)):
            return statement.name
    return None


def to_notebook(source: str) -> str:
    """nbformat v4 JSON; written by hand (sorted keys, one-space indent) to stay byte-stable."""
    cells = []
    for number, chunk in enumerate(chunks(source)):
        cell: dict = {"cell_type": chunk.kind, "id": f"cell-{number}", "metadata": {}}
        cell["source"] = chunk.text.splitlines(keepends=True)
        if chunk.kind == "code":
            cell |= {"execution_count": None, "outputs": []}
        cells.append(cell)
    notebook = {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return json.dumps(notebook, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


JUPYTEXT_HEADER = """# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.16.1
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---
"""


def _commented(text: str) -> str:
    return "\n".join(f"# {line}".rstrip() for line in text.split("\n"))


def to_percent(source: str) -> str:
    """What ``jupytext --to py:percent`` writes for the notebook."""
    parts = [JUPYTEXT_HEADER]
    for chunk in chunks(source):
        if chunk.kind == "markdown":
            parts.append(f"# %% [markdown]\n{_commented(chunk.text)}\n")
        else:
            parts.append(f"# %%\n{chunk.text}\n")
    return "\n".join(parts)


def to_nbconvert(source: str) -> str:
    """What ``jupyter nbconvert --to script`` writes: ``# In[n]:`` markers, markdown as comments."""
    parts = ["#!/usr/bin/env python\n# coding: utf-8\n"]
    number = 0
    for chunk in chunks(source):
        if chunk.kind == "markdown":
            parts.append(f"{_commented(chunk.text)}\n")
        else:
            number += 1
            parts.append(f"# In[{number}]:\n\n\n{chunk.text}\n\n")
    return "\n".join(parts)


def render(variant: Variant, fmt: str) -> str:
    if fmt == "py":
        return variant.source
    return {"ipynb": to_notebook, "percent": to_percent, "nbconvert": to_nbconvert}[fmt](variant.source)


def write(variant: Variant, folder: Path, formats: tuple[str, ...] = FORMATS) -> dict[str, Path]:
    """``folder/<variant.name>/<file>`` for each format; format -> path."""
    target = folder / variant.name
    target.mkdir(parents=True, exist_ok=True)
    paths = {}
    for fmt in formats:
        paths[fmt] = target / FILE_NAMES[fmt]
        paths[fmt].write_text(render(variant, fmt), encoding="utf-8")
    return paths


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python tests/styles/generate.py OUT_DIR", file=sys.stderr)
        return 2
    found = variants()
    for variant in found:
        write(variant, Path(args[0]))
    print(f"{len(found)} variants x {len(FORMATS)} formats in {args[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
