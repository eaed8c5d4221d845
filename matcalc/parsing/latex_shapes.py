r"""Placeholders sized by context: ``\mathbf{1}``, ``I`` and ``\mathbf{0}`` written without a size.

A placeholder's unknown dimensions are variables joined by union-find as the formula is read: in a
product a placeholder takes its neighbour's inner dimension, in a sum or a Hadamard product the
other side's shape. A value built on a placeholder (:class:`Poly`) is made once every variable is
known; a variable nothing fixes is an error at the placeholder, unless it belongs to a ones vector
scaled by a 1×1 value (then it is 1). A ones vector on the summing side of a product is a sum:
``\mathbf{1}^\top Z`` is sum(Z, axis=0), ``Z \mathbf{1}`` is sum(Z, axis=1).
"""

from __future__ import annotations

from collections.abc import Callable

from ..dims import Dim, shape_str
from ..errors import InternalError, ParseError, ShapeError
from ..expr import Expr
from ..render import short
from .common import Positioned, Program
from .latex_commands import EYE, INV, ONES, SUM, ZEROS
from .tables import operator_builder

__all__ = ["Operand", "Placeholders", "Poly", "Var", "describe", "eye_maker", "is_scalar_expr",
           "ones_maker", "operator", "zeros_maker"]


class Var:
    """The unknown size of a placeholder (union-find: ``parent`` links, ``dim`` once known)."""

    __slots__ = ("column", "dim", "fallback", "line", "parent", "what")

    def __init__(self, what: str, at: Positioned):
        self.parent: Var | None = None
        self.dim: Dim | None = None
        self.what, self.line, self.column = what, at.line, at.column
        self.fallback = False  # 1 long if nothing else fixes it (a ones vector beside a scalar)

    def root(self) -> Var:
        """The representative of this variable's class."""
        v = self
        while v.parent is not None:
            v = v.parent
        return v


Size = Dim | Var


def spec(s: Size) -> Size:
    """A dimension as known now: a Dim, or the root variable standing for it."""
    if isinstance(s, Var):
        r = s.root()
        return r if r.dim is None else r.dim
    return s


Maker = Callable[[Dim, Dim], Expr]


class Poly:
    """A value of shape-polymorphic size: a placeholder, or an expression built on one."""

    __slots__ = ("cols", "maker", "rows", "thunk", "vars")

    def __init__(self, rows: Size, cols: Size, vars_: tuple[Var, ...], maker: Maker | None = None,
                 thunk: Callable[[], Expr] | None = None):
        self.rows, self.cols, self.vars = rows, cols, vars_
        self.maker = maker  # for a bare placeholder: maker(rows, cols) -> Expr
        self.thunk = thunk  # otherwise: () -> Expr, once every variable is known

    def make(self) -> Expr:
        """The expression, once every variable is known."""
        if self.maker is not None:
            rows, cols = spec(self.rows), spec(self.cols)
            if not (isinstance(rows, Dim) and isinstance(cols, Dim)):
                raise InternalError("a placeholder was built before its size was known")
            return self.maker(rows, cols)
        assert self.thunk is not None
        return self.thunk()

    def open_vars(self) -> list[Var]:
        """The distinct variables still unknown."""
        out: list[Var] = []
        for v in self.vars:
            r = v.root()
            if r.dim is None and r not in out:
                out.append(r)
        return out

    def describe(self) -> str:
        """An operand as error messages name it: W (m×n), I (?×?)."""
        shown = [str(s) if isinstance(s, Dim) else "?" for s in (spec(self.rows), spec(self.cols))]
        return f"{self.vars[0].what} ({shown[0]}×{shown[1]})"


Operand = Expr | Poly


def ones_maker(r: Dim, c: Dim) -> Expr:
    """The ones matrix of a placeholder, once sized."""
    return ONES(r, c)


def zeros_maker(r: Dim, c: Dim) -> Expr:
    """The zero matrix of a placeholder, once sized."""
    return ZEROS(r, c)


def eye_maker(r: Dim, c: Dim) -> Expr:
    """The identity of a placeholder, once sized."""
    return EYE(r)


def operator(symbol: str) -> Callable[..., Expr]:
    """The builder of the op that declares a Python operator (the same notation in LaTeX)."""
    build = operator_builder(symbol)
    if build is None:
        raise InternalError(f"no op implements the operator {symbol!r}")
    return build


def shape_of(x: Operand) -> tuple[Size, Size]:
    """An operand's shape as known now."""
    if isinstance(x, Expr):
        return x.shape
    return (spec(x.rows), spec(x.cols))


def raw_shape(x: Operand) -> tuple[Size, Size]:
    """An operand's shape, variables unresolved."""
    return x.shape if isinstance(x, Expr) else (x.rows, x.cols)


def vars_of(x: Operand) -> tuple[Var, ...]:
    """The size variables an operand depends on."""
    return x.vars if isinstance(x, Poly) else ()


def make(x: Operand) -> Expr:
    """The operand as an Expr (every size known)."""
    return x if isinstance(x, Expr) else x.make()


def describe(x: Operand) -> str:
    """An operand as error messages name it: W (m×n), I (?×?)."""
    if isinstance(x, Expr):
        return f"{short(x, 40)} ({shape_str(x.shape)})"
    return x.describe()


def is_square(x: Operand) -> bool:
    """Whether an operand is known to be square."""
    r, c = shape_of(x)
    return r is c or (isinstance(r, Dim) and r == c)


def is_scalar_expr(x: Operand) -> bool:
    """Whether an operand is a 1×1 expression."""
    return isinstance(x, Expr) and x.is_scalar


def ones_vector(x: Operand, side: str) -> bool:
    """Whether x is a bare ones placeholder lying as a row (side 'row') or column of open size."""
    if not isinstance(x, Poly) or x.maker is not ones_maker:
        return False
    r, c = shape_of(x)
    if side == "row":
        return isinstance(r, Dim) and r.is_one and isinstance(c, Var)
    return isinstance(c, Dim) and c.is_one and isinstance(r, Var)


class Placeholders(Program):
    """Building with placeholders: each operation sizes the placeholders it meets."""

    def dangling(self, var: Var) -> ParseError:
        """The error for a placeholder whose size nothing fixes."""
        return ParseError(
            f"cannot infer the size of {var.what}: nothing next to it fixes it (use it beside a "
            r"matrix, as in \mathbf{1}^\top Z \mathbf{1} or I - A, or give its size, as in "
            r"\mathbf{1}_{n} or I_{n})", var.line, var.column, self.source)

    def settle(self, v: Var) -> None:
        """A size nothing fixes: 1 for a ones vector that met a scalar, else an error."""
        if not v.fallback:
            raise self.dangling(v)
        v.dim = Dim(1)

    def resolved(self, x: Operand) -> Expr:
        """x as an Expr; a placeholder whose size is still open is an error."""
        if isinstance(x, Expr):
            return x
        for v in x.open_vars():
            self.settle(v)
        return x.make()

    def finish(self, p: Poly) -> Operand:
        """Check that no size was lost inside p; build it once every size is known."""
        open_ = p.open_vars()
        if open_:
            kept = {id(s) for s in (spec(p.rows), spec(p.cols)) if isinstance(s, Var)}
            for v in open_:
                if id(v) not in kept:
                    self.settle(v)
            if p.open_vars():
                return p
        return p.make()

    def unify(self, a: Size, b: Size) -> bool:
        """Make two sizes one; False when both are known and differ."""
        a, b = spec(a), spec(b)
        if isinstance(a, Var):
            if isinstance(b, Var):
                if a is not b:
                    a.parent = b
                    b.fallback = b.fallback or a.fallback
            else:
                a.dim = b
            return True
        if isinstance(b, Var):
            b.dim = a
            return True
        return a == b

    def unary(self, at: Positioned, fn: Callable[[Expr], Expr], x: Operand) -> Operand:
        """A shape-preserving function of x (a placeholder stays one)."""
        if isinstance(x, Expr):
            return self.build(at, fn, x)
        return self.finish(Poly(x.rows, x.cols, x.vars,
                                thunk=lambda: self.build(at, fn, x.make())))

    def square_unary(self, at: Positioned, name: str, fn: Callable[[Expr], Expr],
                     x: Operand) -> Operand:
        """A function that keeps the shape of square arguments: a placeholder becomes square."""
        if isinstance(x, Poly) and not self.unify(x.rows, x.cols):
            raise ShapeError(f"{name} needs a square matrix, got {describe(x)}", at.line,
                             at.column, self.source)
        return self.unary(at, fn, x)

    def transpose(self, at: Positioned, x: Operand) -> Operand:
        """xᵀ; a placeholder transposed is the placeholder of the other shape."""
        if isinstance(x, Expr):
            return self.build(at, operator(".T"), x)
        if x.maker is not None:  # a placeholder transposed is the placeholder of the other shape
            return Poly(x.cols, x.rows, x.vars, maker=x.maker)
        return self.finish(Poly(x.cols, x.rows, x.vars,
                                thunk=lambda: self.build(at, operator(".T"), x.make())))

    def inverse(self, at: Positioned, x: Operand) -> Operand:
        """X^{-1}: the inverse, or the reciprocal of a 1×1 value."""
        if is_scalar_expr(x):
            return self.build(at, operator("**"), x, -1)
        return self.square_unary(at, "inv", INV, x)

    def matmul(self, at: Positioned, a: Operand, b: Operand) -> Operand:
        """a b, a placeholder's inner dimension taken from its neighbour."""
        if isinstance(a, Expr) and isinstance(b, Expr):
            return self.build(at, operator("@"), a, b)
        (ar, ac), (br, bc) = raw_shape(a), raw_shape(b)
        if not self.unify(ac, br):
            raise ShapeError(f"cannot multiply {describe(a)} by {describe(b)}: "
                             f"{spec(ac)} ≠ {spec(br)}", at.line, at.column, self.source)
        return self.finish(Poly(ar, bc, vars_of(a) + vars_of(b),
                                thunk=lambda: self.build(at, operator("@"), make(a), make(b))))

    def broadcast(self, at: Positioned, a: Operand, b: Operand, verb: str) -> tuple[Size, Size]:
        """The shape of an elementwise result, placeholders sized by the other side."""
        if is_scalar_expr(a):
            return raw_shape(b)
        if is_scalar_expr(b):
            return raw_shape(a)
        out: list[Size] = []
        for axis, (sa, sb) in enumerate(zip(raw_shape(a), raw_shape(b), strict=True)):
            da, db = spec(sa), spec(sb)
            if isinstance(da, Var) or isinstance(db, Var):
                self.unify(da, db)
                out.append(sa)
            elif da == db or db.is_one:
                out.append(da)
            elif da.is_one:
                out.append(db)
            else:
                which = "rows" if axis == 0 else "columns"
                raise ShapeError(f"cannot {verb} {describe(a)} and {describe(b)}: {which} {da} ≠ "
                                 f"{db}", at.line, at.column, self.source)
        return out[0], out[1]

    def elementwise(self, at: Positioned, fn: Callable[[Expr, Expr], Expr], a: Operand,
                    b: Operand, verb: str) -> Operand:
        """add, sub, Hadamard product, division or scaling, with placeholders sized by the other."""
        if isinstance(a, Expr) and isinstance(b, Expr):
            return self.build(at, fn, a, b)
        rows, cols = self.broadcast(at, a, b, verb)
        return self.finish(Poly(rows, cols, vars_of(a) + vars_of(b),
                                thunk=lambda: self.build(at, fn, make(a), make(b))))

    def product(self, at: Positioned, a: Operand, b: Operand) -> Operand:
        """Juxtaposition, \\cdot, *: the matrix product, or scaling when one side is 1×1."""
        if is_scalar_expr(b) and ones_vector(a, "row") or is_scalar_expr(a) and ones_vector(
                b, "col"):  # 1ᵀ c or c 1: c scales the vector, whose size stays open (else 1)
            for v in vars_of(a) + vars_of(b):
                v.root().fallback = True
            return self.elementwise(at, operator("*"), a, b, "scale")
        if isinstance(b, Expr) and isinstance(a, Poly) and ones_vector(a, "row"):  # 1ᵀ Z
            self.unify(a.cols, b.rows)
            if b.op.build is SUM and b.get("axis") == 1:  # 1ᵀ (Z 1)
                return self.build(at, SUM, b.args[0])
            return self.build(at, SUM, b, 0)
        if isinstance(a, Expr) and isinstance(b, Poly) and ones_vector(b, "col"):  # Z 1
            self.unify(b.rows, a.cols)
            if a.op.build is SUM and a.get("axis") == 0:  # (1ᵀ Z) 1
                return self.build(at, SUM, a.args[0])
            return self.build(at, SUM, a, 1)
        if is_scalar_expr(a) or is_scalar_expr(b):
            return self.elementwise(at, operator("*"), a, b, "scale")
        return self.matmul(at, a, b)
