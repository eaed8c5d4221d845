"""What the playground computes, in a worker process (see :mod:`matcalc.web.workers`).

Each task takes a request whose form :mod:`matcalc.web.schema` has checked (fields, types, sizes)
and returns a JSON-ready dict. Program text is only parsed, by matcalc's grammar; nothing a user
typed is executed. A problem with the input raises :class:`Failure`, whose payload says which
field is at fault and where (line, column and the line with a caret).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

import numpy as np

import matcalc as mc
from matcalc.dims import shape_str
from matcalc.errors import InputError, InternalError, MatcalcError, caret
from matcalc.evaluate import bind, symbols_of
from matcalc.expr import Expr

from .shapes import Shapes, bare_message, parse_shapes_text, shapes_from_mapping, undeclared

DEFAULT_SIZES = {"m": 3, "n": 4, "B": 5}  # those of matcalc.check; other names get 2, 6, 7, …
MAX_SECTION_CHARS = 2_000_000  # a derivation or a module longer than this is not sent


class Failure(Exception):
    """A request that cannot be answered as asked: the JSON error to answer with, and its status."""

    def __init__(self, error: dict[str, Any], status: int = 422, **extra: Any):
        super().__init__(error.get("message", ""))
        self.error, self.status, self.extra = error, status, extra


def error_payload(exc: BaseException, field: str | None = None,
                  source: str | None = None) -> dict[str, Any]:
    """An error as JSON: its kind, message, field, and for text its line, column and caret."""
    if isinstance(exc, MatcalcError):
        out: dict[str, Any] = {"type": type(exc).__name__, "message": bare_message(exc)}
        line, column = exc.line, exc.column
        text = exc.source if exc.source is not None else source
    else:  # RecursionError, MemoryError
        out = {"type": type(exc).__name__, "message": str(exc)}
        line = column = None
        text = None
    out["field"] = field
    if line is not None and column is not None:
        out.update(line=line, column=column)
        if text is not None:
            out["excerpt"] = caret(text, line, column).lstrip("\n")
    return out


def fail(exc: MatcalcError, field: str | None, source: str | None = None, **extra: Any) -> Failure:
    """The Failure for a matcalc error about one field of the request."""
    status = 500 if isinstance(exc, InternalError) else 422
    return Failure(error_payload(exc, field, source), status, **extra)


@dataclass
class Program:
    """A parsed program and what the page shows of it."""

    source: str
    shapes: Shapes
    result: Expr
    named: dict[str, Expr]
    node: bool  # the result is one node of a network: its upstream gradient is a symbol
    wrt: list[str]

    @property
    def loss_name(self) -> str:
        if self.node or self.result.op.name != "named":
            return "L"
        return str(self.result.get("name"))


def read_shapes(value: str | Mapping[str, Any]) -> Shapes:
    """The request's declarations, from text or from a JSON object."""
    try:
        return parse_shapes_text(value) if isinstance(value, str) else shapes_from_mapping(value)
    except MatcalcError as exc:
        raise fail(exc, "shapes") from None


def load(req: Mapping[str, Any]) -> Program:
    """Parse the request's program with its declarations; choose node mode and variables."""
    shapes = read_shapes(req["shapes"])
    source = req["program"]
    if not source.strip():
        raise Failure({"type": "InputError", "message": "type a program, e.g. "
                       "L = sum(relu(W @ X + b))", "field": "program"})
    try:
        result, named = mc.parse_program(source, shapes)
    except MatcalcError as exc:
        raise fail(exc, "program", source, undeclared=undeclared(source, shapes, exc)) from None
    node = (not result.is_scalar) if req.get("node") is None else bool(req["node"])
    inputs = _inputs(result, shapes)
    wrt = list(req.get("wrt") or inputs)
    program = Program(source, shapes, result, named, node, wrt)
    if not wrt:
        raise Failure({"type": "InputError", "field": "wrt",
                       "message": "the program has no input to differentiate by"},
                      program=describe(program))
    return program


def _inputs(result: Expr, shapes: Shapes) -> list[str]:
    """The inputs the result reads, in the order they were declared."""
    used = symbols_of(result)
    return [n for n in shapes if n in used] + sorted(n for n in used if n not in shapes)


def dimension_names(result: Expr) -> list[str]:
    """Every dimension name the program's shapes and parameters mention, in order of appearance."""
    names: dict[str, None] = {}
    for node in mc.toposort([result]):
        dims = list(node.shape) + [v for _, v in node.params if isinstance(v, mc.Dim)]
        for d in dims:
            names.update(dict.fromkeys(d.names))
    return list(names)


def default_sizes(names: list[str]) -> dict[str, int]:
    """Small distinct sizes (3, 4, 5 for m, n, B as in matcalc.check), so that a transposed
    factor cannot fit by accident."""
    sizes = {n: DEFAULT_SIZES[n] for n in names if n in DEFAULT_SIZES}
    spare = (k for k in range(2, 100) if k not in sizes.values())
    for n in names:
        if n not in sizes:
            sizes[n] = next(spare, 2)
    return sizes


def describe(p: Program) -> dict[str, Any]:
    """The shapes of the inputs, the named intermediates and the result."""
    used = set(symbols_of(p.result))
    inputs = [{"name": n, "shape": shape_str(mc.Matrix(n, *s).shape), "used": n in used}
              for n, s in p.shapes.items()]
    named = [{"name": n, "shape": shape_str(e.shape)} for n, e in p.named.items()]
    name = p.result.get("name") if p.result.op.name == "named" else None
    return {"inputs": inputs, "named": named,
            "result": {"name": name, "shape": shape_str(p.result.shape),
                       "scalar": p.result.is_scalar},
            "node": p.node, "wrt": p.wrt, "loss": p.loss_name,
            "sizes": default_sizes(dimension_names(p.result))}


def gradients(p: Program) -> list[Expr]:
    """∂L/∂x for every variable: by grad for a loss, by vjp (upstream ∂L/∂Y a symbol) for a node."""
    try:
        grads: list[Expr] = mc.vjp(p.result, p.wrt) if p.node else mc.grad(p.result, p.wrt)
    except MatcalcError as exc:
        raise fail(exc, "wrt", program=describe(p)) from None
    return grads


def numbers(p: Program, req: Mapping[str, Any]) -> tuple[dict[str, int], dict[str, np.ndarray]]:
    """Sizes for every dimension (the request's, those the given values fix, then defaults) and
    the given values as arrays."""
    names = dimension_names(loss_of(p))
    given = dict(req.get("dims") or {})
    unknown = [k for k in given if k not in names]
    if unknown:
        raise Failure({"type": "InputError", "field": "dims",
                       "message": f"the program has no dimension {unknown[0]!r}; its dimensions "
                                  f"are {', '.join(names) or 'none'}"})
    values = dict(req.get("values") or {})
    symbols = symbols_of(loss_of(p))
    strange = [k for k in values if k not in symbols]
    if strange:
        raise Failure({"type": "InputError", "field": "values",
                       "message": f"{strange[0]} is not an input of the program; its inputs are "
                                  f"{', '.join(sorted(symbols))}"})
    try:
        arrays, fixed = bind({k: symbols[k] for k in values}, values, given or None)
    except MatcalcError as exc:
        raise fail(exc, "values") from None
    sizes = default_sizes([n for n in names if n not in given and n not in fixed])
    return {**sizes, **fixed, **given}, arrays


def loss_of(p: Program) -> Expr:
    """The scalar that the gradients are gradients of: for a node, ⟨∂L/∂Y, Y⟩."""
    if not p.node:
        return p.result
    name = p.result.get("name") if p.result.op.name == "named" else "Y"
    upstream = mc.cotangent(str(name), p.result.rows, p.result.cols)
    total = cast(Callable[[Expr], Expr], mc.sum)  # a builder from the op registry
    return total(upstream * p.result)


def slug(text: str) -> str:
    """A file name from a title: ASCII letters and digits joined by hyphens."""
    words = re.findall(r"[A-Za-z0-9]+", text.lower())
    return "-".join(words)[:60] or "derivation"


def checked_length(text: str, what: str) -> str:
    """The text, unless it is too long to send to a browser."""
    if len(text) > MAX_SECTION_CHARS:
        raise InputError(f"the {what} is {len(text):,} characters long, more than the page shows "
                         f"({MAX_SECTION_CHARS:,}); differentiate by fewer variables or split the "
                         f"program")
    return text
