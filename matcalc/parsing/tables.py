"""Tables the front ends build from the op registry, never write out: which names call which
builder with which parameters, which operator builds which op, how a function treats the shape of
its argument.

A table is rebuilt when the registry changes (its version) or a record's spellings change (a user
function made visible to ``parse`` later), so an op registered after import is parseable at once.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from .. import ops
from ..dims import Dim, Shape
from ..errors import MatcalcError
from ..expr import OPERATORS, OPS, Expr, Op, Param, registry_version
from ..ops._base import PARAM_KINDS

__all__ = ["Function", "RegistryCache", "fingerprint", "keeps_shape", "one_operand",
           "operator_builder", "text_functions"]

T = TypeVar("T")


def fingerprint() -> tuple[Any, ...]:
    """What the tables depend on: the registry's version and every record's spellings."""
    return (registry_version(),
            tuple((op.name, op.spell, op.latex_in, tuple(op.aliases))
                  for op in list(OPS.values())))


class RegistryCache(Generic[T]):
    """A value computed from the registry, recomputed when :func:`fingerprint` changes."""

    def __init__(self, build: Callable[[], T]):
        self._build = build
        self._cell: tuple[tuple[Any, ...], T] | None = None
        self._lock = threading.Lock()

    def get(self) -> T:
        """The value for the registry as it is now."""
        key = fingerprint()
        cell = self._cell
        if cell is not None and cell[0] == key:
            return cell[1]
        with self._lock:
            value = self._build()
            self._cell = (key, value)
        return value


# --- the text language's functions -----------------------------------------------------------

# the parameter kinds the text language can write: operands, and what PARAM_KINDS validates
SPELLABLE_KINDS = frozenset({"expr"} | set(PARAM_KINDS))


@dataclass(frozen=True)
class Function:
    """A function of the text language: an op's builder, called by one of its spellings."""

    name: str
    op: Op
    build: Callable[..., Expr]
    params: tuple[Param, ...]

    @property
    def names(self) -> tuple[str, ...]:
        """The parameters' names, in order."""
        return tuple(p.name for p in self.params)

    @property
    def kinds(self) -> tuple[str, ...]:
        """The parameters' kinds, in order."""
        return tuple(p.kind for p in self.params)

    @property
    def required(self) -> int:
        """How many leading parameters must be given."""
        return sum(p.required for p in self.params)

    @property
    def keywords(self) -> tuple[str, ...]:
        """The parameters that may be given as ``name=value``."""
        return tuple(p.name for p in self.params if p.keyword)


def _text_functions() -> dict[str, Function]:
    """Every spelling of every op whose parameters the language can write; the first op
    registered with a spelling keeps it."""
    out: dict[str, Function] = {}
    for op in list(OPS.values()):
        if op.build is None or not all(p.kind in SPELLABLE_KINDS for p in op.params):
            continue
        for name in op.spell:
            out.setdefault(name, Function(name, op, op.build, op.params))
        for name, fixed in op.aliases.items():  # hstack: concat with axis=1
            params = tuple(p for p in op.params if p.name not in fixed)
            out.setdefault(name, Function(name, op, functools.partial(op.build, **fixed), params))
    return out


_TEXT_FUNCTIONS = RegistryCache(_text_functions)


def text_functions() -> dict[str, Function]:
    """The text language's functions by name, for the registry as it is now."""
    return _TEXT_FUNCTIONS.get()


def operator_builder(symbol: str) -> Callable[..., Expr] | None:
    """The builder of the op that declares a Python operator ("+", "@", "-x", ".T", …)."""
    op = OPERATORS.get(symbol)
    return None if op is None else op.build


# --- what a shape rule says, asked with probes ------------------------------------------------

_P, _Q = Dim(1, ("_p",)), Dim(1, ("_q",))  # fresh dimensions no user shape mentions


def one_operand(op: Op) -> bool:
    """Whether the op can be applied to a single operand (its other parameters have defaults)."""
    operands = [p for p in op.params if p.kind == "expr"]
    return (op.build is not None and len(operands) == 1 and op.params[0].kind == "expr"
            and not op.params[0].many
            and all(not p.required for p in op.params[1:]))


def _shape_of(op: Op, shapes: list[Shape]) -> Shape | None:
    """What the op's shape rule gives for operands of these shapes (defaults for the rest), or
    None when it refuses them."""
    args = tuple(ops.Matrix(f"_probe{i}", r, c) for i, (r, c) in enumerate(shapes))
    params = {p.name: p.default for p in op.params if p.kind != "expr" and not p.required}
    try:
        return op.shape(args, **params)
    except (MatcalcError, TypeError):
        return None


def keeps_shape(op: Op) -> str:
    """How a one-operand op's result is shaped: "all" when it has its argument's shape (p×q →
    p×q), "square" when that holds for square arguments only (and others are refused: inv),
    "" otherwise. A placeholder argument of such a function can stay one."""
    if _shape_of(op, [(_P, _Q)]) == (_P, _Q):
        return "all"
    if _shape_of(op, [(_P, _Q)]) is None and _shape_of(op, [(_P, _P)]) == (_P, _P):
        return "square"
    return ""


def broadcasts(op: Op) -> bool:
    """Whether a two-operand op is elementwise with broadcasting (p×q with p×q, or with 1×1,
    gives p×q): its placeholders take their sizes from the other operand."""
    one = Dim(1)
    return (_shape_of(op, [(_P, _Q), (_P, _Q)]) == (_P, _Q)
            and _shape_of(op, [(_P, _Q), (one, one)]) == (_P, _Q)
            and _shape_of(op, [(one, one), (_P, _Q)]) == (_P, _Q))
