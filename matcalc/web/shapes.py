"""The playground's shape declarations: one line per input, and prompts for undeclared names.

A declaration line is ``NAME: ROWS, COLS`` (also ``NAME = ROWS, COLS``, ``NAME: ROWS x COLS``,
``NAME: ROWS×COLS``), or ``NAME: N`` for an N×1 column; ``#`` starts a comment. Each line is
checked on its own, so an error names its line and column in the shapes box.

When a program uses a name that is not declared, :func:`undeclared` says which, and infers what it
can of its shape: every pair of the dimensions already in use (and 1) is tried, and the pairs with
which the program still parses are offered.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from typing import Any

import matcalc as mc
from matcalc.errors import InputError, MatcalcError, ShapeError, UnknownNameError

Shapes = dict[str, tuple[str, str]]

_LINE = re.compile(r"^\s*(?P<name>[^\s:=#]+)\s*[:=]\s*(?P<spec>[^#]*?)\s*(#.*)?$")
_SEPARATOR = re.compile(r"\s*(?:,|×|\s+x\s+|\s+)\s*")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")

MAX_CANDIDATE_DIMS = 6  # (6 + 1)² trial parses at most


def parse_shapes_text(text: str) -> Shapes:
    """``"W: m, n\\nb: m"`` → ``{"W": ("m", "n"), "b": ("m", "1")}``; errors carry their line
    and column."""
    out: Shapes = {}
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _LINE.match(line)
        if match is None:
            raise InputError("expected NAME: ROWS, COLS (e.g. W: m, n) or NAME: N for an N×1 "
                             "column", number, len(line) - len(line.lstrip()) + 1, text)
        name, spec = match["name"], match["spec"]
        parts = [p for p in _SEPARATOR.split(spec) if p]
        if len(parts) not in (1, 2):
            raise InputError(f"{name}: expected ROWS, COLS or N, got {spec!r}", number,
                             match.start("spec") + 1, text)
        shape = (parts[0], parts[1] if len(parts) == 2 else "1")
        _check_declaration(name, shape, text, number, match)
        if name in out:
            raise InputError(f"{name} is declared twice", number, match.start("name") + 1, text)
        out[name] = shape
    return out


def _check_declaration(name: str, shape: tuple[str, str], text: str, number: int,
                       match: re.Match[str]) -> None:
    """Declare the name alone and parse it: the very checks a program's declarations get."""
    try:
        mc.parse_program(name, {name: shape})
    except MatcalcError as exc:
        column = match.start("spec" if "dimension" in exc.message else "name") + 1
        raise InputError(f"{name}: {bare_message(exc)}", number, column, text) from None


def shapes_from_mapping(value: Mapping[str, Any]) -> Shapes:
    """Declarations given as JSON, ``{"W": ["m", "n"], "x": "n"}``, checked like the text form."""
    lines = []
    for name, shape in value.items():
        parts = [shape] if isinstance(shape, (str, int)) else list(shape)
        lines.append(f"{name}: " + ", ".join(str(p) for p in parts))
    return parse_shapes_text("\n".join(lines))


def shapes_text(shapes: Mapping[str, tuple[Any, Any]]) -> str:
    """The text form of declarations, one line each (the inverse of :func:`parse_shapes_text`)."""
    return "\n".join(f"{name}: {rows}, {cols}" for name, (rows, cols) in shapes.items())


def bare_message(exc: MatcalcError) -> str:
    """The message without a position an error may have folded into it, and without the Python
    spelling of the mapping it came from (``shapes['W'] = ('m', 'n'): ``)."""
    text = re.sub(r" \(line \d+, column \d+\)$", "", exc.message.split("\n")[0])
    return re.sub(r"^shapes\[.*?\](?: = \(.*?\))?: ", "", text)


def undeclared(program: str, shapes: Shapes, error: MatcalcError) -> dict[str, Any] | None:
    """For an error about an undeclared name: the name, and the shapes that fit where it is used."""
    name = _name_at(program, error)
    if name is None or name in _dimension_names(shapes):
        return None
    fits = _fitting_shapes(program, shapes, name)
    rows = {r for r, _ in fits}
    cols = {c for _, c in fits}
    return {"name": name, "fits": [list(f) for f in fits],
            "rows": rows.pop() if len(rows) == 1 else None,
            "cols": cols.pop() if len(cols) == 1 else None}


def _name_at(program: str, error: MatcalcError) -> str | None:
    """The identifier an UnknownNameError points at, unless it is called like a function."""
    if not isinstance(error, UnknownNameError) or error.line is None or error.column is None:
        return None
    lines = program.split("\n")
    if not 1 <= error.line <= len(lines):
        return None
    rest = lines[error.line - 1][error.column - 1:]
    match = _IDENT.match(rest)
    if match is None or rest[match.end():].lstrip().startswith("("):
        return None
    return match.group()


def _dimension_names(shapes: Shapes) -> list[str]:
    names: dict[str, None] = {}
    for rows, cols in shapes.values():
        for d in (rows, cols):
            names.update(dict.fromkeys(mc.dim(d).names))
    return list(names)


def _fitting_shapes(program: str, shapes: Shapes, name: str) -> list[tuple[str, str]]:
    """Every (rows, cols) from the dimensions in use and 1 with which no shape error follows;
    none when every pair fits (the program says nothing yet about the name's shape)."""
    dims = _dimension_names(shapes)[:MAX_CANDIDATE_DIMS] + ["1"]
    fits = []
    pairs = list(itertools.product(dims, dims))
    for rows, cols in pairs:
        try:
            mc.parse_program(program, {**shapes, name: (rows, cols)})
        except ShapeError:
            continue
        except MatcalcError:
            pass  # a later error (another undeclared name, say) says nothing against this pair
        fits.append((rows, cols))
    return [] if len(fits) == len(pairs) else fits
