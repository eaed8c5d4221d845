"""What both front ends share: per-parse state, values with positions, name suggestions,
positioned errors, the grammar loader, the entry wrapper and ``declare(shapes)``.

Every error made here carries its line and column from the moment it is constructed
(``ParseError(message, line, column, source)``); a builder's error is re-raised as a new error of
the right class at the position of the text that called it.
"""

from __future__ import annotations

import difflib
import threading
from collections.abc import Callable, Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from lark import Lark, Token
from lark.exceptions import UnexpectedInput, VisitError

from .. import ops
from ..errors import InputError, InternalError, MatcalcError, ParseError, ShapeError
from ..expr import Expr
from ..render import short

__all__ = ["GrammarFile", "Positioned", "Program", "Val", "builder", "clip", "constant",
           "declare", "declared", "end_position", "run", "suggest"]


class Positioned(Protocol):
    """Anything with a 1-based line and column: a token, a value on the stack, a placeholder."""

    @property
    def line(self) -> int | None:
        """The 1-based line, or None when unknown."""

    @property
    def column(self) -> int | None:
        """The 1-based column, or None when unknown."""


@dataclass(slots=True)
class Val:
    """A value on the parser's stack, with where its text starts.

    ``kind`` says what ``value`` is: ``expr`` (an Expr), ``name`` (not yet resolved), ``num`` (a
    numeric literal), and per language ``dim`` and ``assigned`` (text) or ``poly`` and
    ``barecall`` (LaTeX). ``extra`` is what a group remembers of its delimiters (LaTeX).
    """

    kind: str
    value: Any
    line: int
    column: int
    extra: Any = None

    def describe(self) -> str:
        """The value as an error message shows it."""
        if self.kind == "expr" and isinstance(self.value, Expr):
            return short(self.value, 40)
        if self.kind == "dim":
            return str(self.value[0])
        return str(self.value)


E = TypeVar("E", bound=MatcalcError)


class Program:
    """Per-parse state: the source, the declared symbols and the names assigned so far."""

    def __init__(self, source: str, symbols: dict[str, Expr]):
        self.source, self.symbols = source, symbols
        self.assigned: dict[str, Expr] = {}

    def error(self, cls: type[E], message: str, at: Positioned) -> E:
        """An error of class ``cls`` at the position of ``at`` in this source."""
        return cls(message, at.line, at.column, self.source)

    def build(self, at: Positioned, fn: Callable[..., Expr], *args: Any) -> Expr:
        """Call a builder; its ShapeError or InputError comes back positioned at ``at``."""
        try:
            return fn(*args)
        except ShapeError as exc:
            if exc.line is not None:  # already located (by a nested parse)
                raise
            raise ShapeError(exc.message, at.line, at.column, self.source) from None
        except InputError as exc:
            raise ParseError(exc.message, at.line, at.column, self.source) from None

    def text_of(self, tok: Token) -> str:
        """A token's text as written in the source."""
        start, end = tok.start_pos, tok.end_pos
        if start is not None and end is not None and 0 <= start < end <= len(self.source):
            return self.source[start:end]
        return str(tok)

    def lookup(self, name: str) -> Expr | None:
        """A name assigned earlier or declared, else None."""
        found = self.assigned.get(name)
        return found if found is not None else self.symbols.get(name)


def builder(fn: Callable[..., Expr] | None) -> Callable[..., Expr]:
    """An op's builder, which every record the parsers name declares."""
    if fn is None:
        raise InternalError("an op the parser builds has no builder")
    return fn


def constant(x: Any) -> int | float | None:
    """The value of a numeric constant node (a literal, parsed), or None for anything else."""
    if isinstance(x, Expr) and x.op.build is ops.const:
        value: int | float = x.get("value")
        return value
    return None


def suggest(name: str, known: Iterable[str]) -> str:
    """`` (did you mean 'X'?)`` for the closest known name, or nothing."""
    close = difflib.get_close_matches(name, sorted(set(known)), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def clip(text: str, limit: int = 30) -> str:
    """text, shortened with an ellipsis when longer than limit."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def end_position(source: str) -> tuple[int, int]:
    """The line and column just after the last character."""
    lines = source.split("\n")
    return len(lines), len(lines[-1].rstrip("\r")) + 1


# --- grammars ------------------------------------------------------------------------------------

class GrammarFile:
    """A Lark LALR parser read from a grammar file shipped in this package, built on first use."""

    def __init__(self, filename: str, make_options: Callable[[], dict[str, Any]]):
        self.filename, self.make_options = filename, make_options
        self._parser: Lark | None = None
        self._lock = threading.Lock()

    def parser(self) -> Lark:
        """The parser (built once per process: building the LALR tables takes a while)."""
        if self._parser is None:
            with self._lock:
                if self._parser is None:
                    self._parser = self._load()
        return self._parser

    def _load(self) -> Lark:
        try:
            return Lark.open_from_package(__package__ or "matcalc.parsing", self.filename,
                                          parser="lalr", lexer="basic", **self.make_options())
        except OSError as exc:
            raise InternalError(f"the grammar file {self.filename} is missing from the installed "
                                f"matcalc package ({exc})") from None


P = TypeVar("P", bound=Program)


def run(grammar: GrammarFile, program: P, current: ContextVar[P],
        from_lark: Callable[[UnexpectedInput, P], ParseError], what: str) -> Any:
    """Parse ``program.source`` with ``program`` as the current state; every failure is a
    MatcalcError (Lark's rejections become positioned ParseErrors)."""
    parser = grammar.parser()
    token = current.set(program)
    try:
        return parser.parse(program.source)
    except UnexpectedInput as exc:
        raise from_lark(exc, program) from None
    except VisitError as exc:  # callbacks' errors arrive unwrapped today; stay safe if wrapped
        if isinstance(exc.orig_exc, MatcalcError):
            raise exc.orig_exc from None
        raise
    except RecursionError:
        line, column = end_position(program.source)
        raise ParseError(f"{what} is nested too deeply", line, column, program.source) from None
    finally:
        current.reset(token)


# --- declarations --------------------------------------------------------------------------------

def declare(shapes: Mapping[Any, Any], reserved: Iterable[str] = ()) -> dict[str, Expr]:
    """The symbols a ``shapes`` mapping declares ({"W": ("m", "n")} or {"W": "m,n"}; a third
    entry declares a structure: {"S": ("n", "n", "symmetric")})."""
    if not isinstance(shapes, Mapping):
        raise InputError(f"shapes must be a mapping from names to (rows, cols), "
                         f"got {type(shapes).__name__}")
    taken = set(reserved)
    out: dict[str, Expr] = {}
    for name, shape in shapes.items():
        if not isinstance(name, str):
            raise InputError(f"shapes: names must be strings, got {name!r}")
        if name in taken:
            raise InputError(f"shapes[{name!r}]: {name!r} is a function name; choose another")
        if isinstance(shape, str):
            shape = [part.strip() for part in shape.split(",")]
        if not isinstance(shape, (tuple, list)) or len(shape) not in (2, 3):
            raise InputError(f"shapes[{name!r}] must be a (rows, cols) pair, or (n, n, "
                             f"structure), got {shape!r}")
        try:
            out[name] = ops.Matrix(name, shape[0], shape[1], *shape[2:])
        except InputError as exc:
            raise InputError(f"shapes[{name!r}] = {shape!r}: {exc}") from None
    return out


_DECLARED: dict[tuple[Any, ...], dict[str, Expr]] = {}
_DECLARED_LIMIT = 64


def declared(shapes: Mapping[Any, Any]) -> dict[str, Expr]:
    """``declare(shapes)``, cached by the declarations (which repeat from parse to parse)."""
    if not isinstance(shapes, Mapping):
        return declare(shapes)  # raises the InputError
    try:
        key = tuple((name, shape if isinstance(shape, str) else tuple(shape))
                    for name, shape in shapes.items())
        hash(key)
    except TypeError:
        return declare(shapes)
    cached = _DECLARED.get(key)
    if cached is None:
        cached = declare(shapes)
        if len(_DECLARED) >= _DECLARED_LIMIT:
            _DECLARED.clear()
        _DECLARED[key] = cached
    return cached
