"""matcalc expressions to SymPy matrix expressions and back: ``to_sympy(e)``, ``from_sympy(s)``.

``to_sympy`` writes each node with SymPy's matrix-expression classes:

* a symbol of shape m×n is ``MatrixSymbol(name, m, n)`` with dimensions as SymPy integers or
  positive integer ``Symbol``s (a product dimension m·n as their product); a 1×1 symbol is a
  real scalar ``Symbol(name)``; a constant is an Integer or Float; ``size(n)`` is the symbol n;
* ``MatMul``, ``MatAdd``, ``Transpose``, ``HadamardProduct``, ``HadamardPower``, ``Trace``,
  ``Inverse``, ``Determinant``, ``log(Determinant(X))`` for logdet, ``KroneckerProduct``,
  ``Identity``, ``OneMatrix``, ``ZeroMatrix``, ``DiagMatrix`` (diag of a column) and
  ``DiagonalOf`` (diag of a square matrix);
* elementwise functions as ``ElementwiseApplyFunction(Lambda(x, f(x)), X)`` with each op's own
  scalar formula (so user-defined elementwise functions convert too), or f applied to a scalar;
* the Frobenius norm as ``sqrt(Trace(Xᵀ X))``; sums as products with ones: ``1ᵀ Z 1``
  (``OneMatrix(1, m) Z OneMatrix(n, 1)``), ``1ᵀ Z`` and ``Z 1``; a mean as a sum over a size;
* broadcasting spelled out with ones: b (m×1) added to an m×n matrix is ``b OneMatrix(1, n)``,
  a scalar c is ``c OneMatrix(m, n)``;
* 1×1 values are SymPy scalars wherever SymPy has one (symbols, trace, det, norms, scalar
  arithmetic); a 1×1 matrix product (xᵀ A x) stays a 1×1 matrix expression and becomes a scalar,
  where one is needed, as its ``Trace``.

softmax, log_softmax, logsumexp, vec, unvec, the commutation matrix and the Kronecker
contractions have no SymPy matrix-expression counterpart: they raise :class:`InteropError`.

``from_sympy`` reads those forms back (and ordinary SymPy scalar arithmetic: Add, Mul, Pow, exp,
log, tanh, Abs, sign, Max(x, 0), Heaviside). Matrix names and dimensions come from the
``MatrixSymbol`` shapes, or from ``shapes`` when given; a SymPy ``Symbol`` that occurs in a matrix
shape is a dimension (its value, ``size(n)``), any other is a 1×1 symbol. An
``ElementwiseApplyFunction`` whose formula is not one of matcalc's functions is rebuilt from its
formula (x ↦ the matrix), since matcalc's arithmetic is elementwise. No text is ever sympified.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import sympy
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
from sympy.matrices.expressions.diagonal import DiagMatrix, DiagonalOf

from . import ops
from .dims import Dim, dim
from .errors import InputError, InteropError, ShapeError
from .expr import OPS, Expr, Op, toposort
from .ops._sympy import is_mat as _is_mat

__all__ = ["InteropError", "from_sympy", "to_sympy"]


_X = sympy.Symbol("x", real=True)  # the variable of every elementwise op's scalar formula

# SymPy ships no type information: its expressions are typed Any here.


def _elementwise_fn(op: Op, arg: Any) -> Any:
    formula = op.scalar
    if formula is None:
        raise InteropError(f"to_sympy: {op.name} has no scalar formula")
    free = formula.free_symbols
    var = next(iter(free)) if free else _X
    if not _is_mat(arg):
        try:
            return formula.subs(var, arg)
        except (TypeError, ValueError):  # e.g. Max of a 1×1 product SymPy cannot compare
            arg = sympy.MatMul(arg, sympy.OneMatrix(1, 1))
    fn = sympy.Lambda(var, formula)
    try:
        return ElementwiseApplyFunction(fn, arg)
    except (TypeError, ValueError):
        # SymPy evaluates f on a 1×1 argument and may refuse (Max of a non-comparable product);
        # the unevaluated node is the same function applied to the same matrix
        return sympy.Basic.__new__(ElementwiseApplyFunction, fn, arg)


def _convert_node(node: Expr, a: list[Any]) -> Any:
    """One node's SymPy counterpart, from its op record (elementwise ops: their scalar formula)."""
    op = node.op
    if op.sympy is not None:
        return op.sympy(node, a)
    if op.kind == "elementwise" and op.arity == 1:
        return _elementwise_fn(op, a[0])
    raise InteropError(f"to_sympy: SymPy has no matrix expression for {op.name} (in {node})")


def to_sympy(expr: Expr) -> Any:
    """The SymPy matrix expression (or scalar, for 1×1 values) of a matcalc expression."""
    if not isinstance(expr, Expr):
        raise InputError(f"to_sympy expects a matcalc expression, got {type(expr).__name__}")
    memo: dict[int, object] = {}
    depth: dict[int, int] = {}
    order = toposort([expr])  # iterative: deep chains convert without recursion here
    for node in order:
        depth[id(node)] = 1 + max((depth[id(x)] for x in node.args), default=0)
    for node in order:
        try:
            memo[id(node)] = _convert_node(node, [memo[id(x)] for x in node.args])
        except RecursionError:
            # SymPy's matrix expressions recurse on their depth (their shape, their printing)
            raise InteropError(
                f"to_sympy: the expression is {depth[id(expr)]:,} operations deep; SymPy's "
                f"matrix expressions recurse on depth and cannot hold more than about "
                f"{depth[id(node)] - 1:,} here (Python's recursion limit is "
                f"{sys.getrecursionlimit():,}); convert a shallower part of it") from None
    return memo[id(expr)]


# --- SymPy → matcalc ----------------------------------------------------------------------------

def _dim_of(d: Any, where: str) -> Dim:
    """A SymPy dimension (integer, symbol, or product of them) as a matcalc Dim."""
    d = sympy.sympify(d)
    if d.is_Integer:
        if int(d) <= 0:
            raise InteropError(f"from_sympy: {where} has a non-positive dimension {d}")
        return dim(int(d))
    if d.is_Symbol:
        return dim(d.name)
    if d.is_Add:
        total = Dim(terms=())
        for f in d.args:
            if f.is_Integer:
                total = total + int(f)
            elif f.could_extract_minus_sign():
                total = total - _dim_of(-f, where)
            else:
                total = total + _dim_of(f, where)
        if not total.maybe_positive:
            raise InteropError(f"from_sympy: {where} has dimension {d}, which is not a positive "
                               "integer and never positive")
        return total
    if d.is_Mul:
        out = Dim(1)
        for f in d.args:
            out = out * _dim_of(f, where)
        return out
    if d.is_Pow and d.exp.is_Integer and int(d.exp) > 0:
        base = _dim_of(d.base, where)
        out = Dim(1)
        for _ in range(int(d.exp)):
            out = out * base
        return out
    raise InteropError(f"from_sympy: {where} has dimension {d}, which is not a positive integer, "
                       "a symbol or a product of them")


class _Reader:
    def __init__(self, root: Any, shapes: Mapping[str, Any] | None) -> None:
        self.shapes = dict(shapes or {})
        self.memo: dict[Any, Expr] = {}
        self.dims: set[Any] = set()  # the SymPy symbols used in shapes (with their assumptions)
        for node in sympy.preorder_traversal(root):
            if _is_mat(node):
                for d in node.shape:
                    self.dims |= sympy.sympify(d).free_symbols
        self.env: dict[Any, Expr] = {}  # a formula's variable -> the matrix it stands for

    def declared(self, name: str, rows: Any, cols: Any) -> Expr:
        if name in self.shapes:
            shape = self.shapes[name]
            if isinstance(shape, str):
                shape = shape.split(",")
            if not isinstance(shape, (tuple, list)) or len(shape) != 2:
                raise InputError(f"shapes[{name!r}] must be a (rows, cols) pair, got {shape!r}")
            return ops.Matrix(name, shape[0], shape[1])
        return ops.Matrix(name, rows, cols)

    def read(self, s: Any) -> Expr:
        key = s
        if key in self.env:
            return self.env[key]
        hit = self.memo.get(key)
        if hit is None:
            hit = self._read(s)
            self.memo[key] = hit
        return hit

    def fold(self, fn: Callable[[Expr, Expr], Expr], items: list[Expr]) -> Expr:
        out = items[0]
        for x in items[1:]:
            out = fn(out, x)
        return out

    def _read(self, s: Any) -> Expr:
        # --- leaves ---
        if isinstance(s, sympy.MatrixSymbol):
            name = s.name
            return self.declared(name, _dim_of(s.shape[0], name), _dim_of(s.shape[1], name))
        if isinstance(s, sympy.Identity):
            return ops.eye(_dim_of(s.shape[0], "Identity"))
        if isinstance(s, sympy.OneMatrix):
            return ops.ones(_dim_of(s.shape[0], "OneMatrix"), _dim_of(s.shape[1], "OneMatrix"))
        if isinstance(s, sympy.ZeroMatrix):
            return ops.zeros(_dim_of(s.shape[0], "ZeroMatrix"), _dim_of(s.shape[1], "ZeroMatrix"))
        if isinstance(s, sympy.Symbol):
            if s in self.dims:
                return ops.size(s.name)
            if s.name in self.shapes:
                return self.declared(s.name, 1, 1)
            return ops.Scalar(s.name)
        if s.is_Number or isinstance(s, sympy.NumberSymbol):
            if s.is_Integer:
                return ops.const(int(s))
            if not s.is_finite or not s.is_real:
                raise InteropError(f"from_sympy: {s} is not a finite real number")
            return ops.const(float(s))
        # --- matrix expressions ---
        if isinstance(s, sympy.MatAdd):
            return self.sum_of(s.args, s)
        if isinstance(s, sympy.MatMul):
            return self.matmul(s)
        if isinstance(s, sympy.Transpose):
            return ops.transpose(self.read(s.arg))
        if isinstance(s, sympy.Inverse):
            return ops.inv(self.read(s.arg))
        if isinstance(s, sympy.MatPow):
            p = s.exp
            if p == -1:
                return ops.inv(self.read(s.base))
            if p.is_Integer and int(p) > 0:
                base = self.read(s.base)
                return self.fold(ops.matmul, [base] * int(p))
            raise InteropError(f"from_sympy: matrix power {s} is not supported (only integer "
                               "powers and -1)")
        if isinstance(s, sympy.HadamardProduct):
            return self.compact(self.hadamard, s.args, s)
        if isinstance(s, sympy.HadamardPower):
            return ops.power(self.read(s.base), self.number(s.exp, s))
        if isinstance(s, sympy.KroneckerProduct):
            return self.fold(ops.kron, [self.read(x) for x in s.args])
        if isinstance(s, DiagMatrix):  # SymPy allows a row here too (DiagMatrix(x.T))
            v = self.read(s.args[0])
            return ops.diag(v.T if v.rows.is_one and not v.cols.is_one else v)
        if isinstance(s, DiagonalOf):
            return ops.diag(self.read(s.args[0]))
        if isinstance(s, ElementwiseApplyFunction):
            return self.applyfunc(s)
        if isinstance(s, sympy.Trace):
            inner = self.read(s.arg)
            return inner if inner.is_scalar else ops.trace(inner)
        if isinstance(s, sympy.Determinant):
            return ops.det(self.read(s.arg))
        # --- scalar arithmetic (elementwise when a matrix is substituted for the variable) ---
        if isinstance(s, sympy.Add):
            return self.sum_of(s.args, None)
        if isinstance(s, sympy.Mul):
            return self.product(s.args)
        if isinstance(s, sympy.Pow):
            return self.power(s)
        if isinstance(s, sympy.exp):
            return ops.exp(self.read(s.args[0]))
        if isinstance(s, sympy.log):
            (arg,) = s.args
            if isinstance(arg, sympy.Determinant):
                return ops.logdet(self.read(arg.arg))
            one_plus = [a for a in arg.args if a != 1] if isinstance(arg, sympy.Add) else []
            if len(one_plus) == 1 and len(arg.args) == 2 and isinstance(one_plus[0], sympy.exp):
                return ops.softplus(self.read(one_plus[0].args[0]))  # stable for large values
            return ops.log(self.read(arg))
        if isinstance(s, sympy.tanh):
            return ops.tanh(self.read(s.args[0]))
        if isinstance(s, sympy.Abs):
            return ops.abs(self.read(s.args[0]))
        if isinstance(s, sympy.sign):
            return ops.sign(self.read(s.args[0]))
        if isinstance(s, sympy.Heaviside):
            return ops.step(self.read(s.args[0]))
        if isinstance(s, sympy.Max) and len(s.args) == 2 and sympy.Integer(0) in s.args:
            other = s.args[0] if s.args[1] == 0 else s.args[1]
            return ops.relu(self.read(other))
        if isinstance(s, sympy.Function) and len(s.args) == 1:
            op = self.match_function(s.func(_X))
            if op is not None:
                return Expr.make(op, (self.read(s.args[0]),))
        raise InteropError(f"from_sympy: cannot convert {type(s).__name__} {s}")

    def number(self, p: Any, where: Any) -> int | float:
        p = sympy.sympify(p)
        if p.is_Integer:
            return int(p)
        if p.is_Number and p.is_real:
            return float(p)
        raise InteropError(f"from_sympy: the exponent of {where} must be a number")

    def negated(self, term: Any) -> Any:
        """The term without a leading −1 coefficient, or None when it has none."""
        if isinstance(term, (sympy.Mul, sympy.MatMul)) and term.args and term.args[0] == -1:
            rest = term.args[1:]
            if not rest:
                return None
            if len(rest) == 1:
                return rest[0]
            return type(term)(*rest)
        return None

    def unspread(self, t: Any) -> Any:
        """t without its spelled-out broadcast (b 1ᵀ → b, 1 r → r, c 1 1ᵀ → c), or None."""
        if isinstance(t, sympy.OneMatrix):
            return sympy.Integer(1)
        if not isinstance(t, sympy.MatMul):
            return None
        scalars = [a for a in t.args if not _is_mat(a)]
        mats = [a for a in t.args if _is_mat(a)]
        if len(mats) == 1 and isinstance(mats[0], sympy.OneMatrix):
            return sympy.Mul(*scalars)
        if len(mats) != 2:
            return None
        if isinstance(mats[1], sympy.OneMatrix) and mats[1].shape[0] == 1 \
                and mats[0].shape[1] == 1:
            core = mats[0]
        elif isinstance(mats[0], sympy.OneMatrix) and mats[0].shape[1] == 1 \
                and mats[1].shape[0] == 1:
            core = mats[1]
        else:
            return None
        return sympy.MatMul(*scalars, core) if scalars else core

    def compact(self, build: Callable[[list[Any]], Expr], items: Sequence[Any], s: Any) -> Expr:
        """build(items) with broadcasts left to matcalc, when that keeps s's shape."""
        short = [self.unspread(t) for t in items]
        if any(x is not None for x in short):
            try:
                out = build([x if x is not None else t for x, t in zip(short, items)])
            except ShapeError:
                out = None
            if out is not None and out.shape == (_dim_of(s.shape[0], "a sum"),
                                                 _dim_of(s.shape[1], "a sum")):
                return out
        return build(list(items))

    def sum_of(self, terms: Sequence[Any], s: Any) -> Expr:
        if s is not None:
            return self.compact(lambda items: self.sum_of(items, None), terms, s)
        out: Expr | None = None
        for t in terms:
            neg = self.negated(t)
            x = self.read(neg if neg is not None else t)
            if out is None:
                out = ops.neg(x) if neg is not None else x
            else:
                out = ops.sub(out, x) if neg is not None else ops.add(out, x)
        if out is None:
            raise InteropError("from_sympy: a sum without terms")
        return out

    def product(self, factors: Sequence[Any]) -> Expr:
        """A scalar (or elementwise) product: −1 becomes negation, x^-1 a divisor."""
        sign = 1
        nums: list[Expr] = []
        dens: list[Expr] = []
        for f in factors:
            if f == -1:
                sign = -sign
            elif isinstance(f, sympy.Pow) and f.exp == -1:
                dens.append(self.read(f.base))
            else:
                nums.append(self.read(f))
        num = self.fold(ops.mul, nums) if nums else ops.const(1)
        out = ops.div(num, self.fold(ops.mul, dens)) if dens else num
        return ops.neg(out) if sign < 0 else out

    def matmul(self, s: Any) -> Expr:
        scalars = [a for a in s.args if not _is_mat(a)]
        mats = [a for a in s.args if _is_mat(a)]
        axis_left = axis_right = False
        if len(mats) > 1 and isinstance(mats[0], sympy.OneMatrix) and mats[0].shape[0] == 1:
            axis_left, mats = True, mats[1:]
        if len(mats) > 1 and isinstance(mats[-1], sympy.OneMatrix) and mats[-1].shape[1] == 1:
            axis_right, mats = True, mats[:-1]
        m = self.fold(ops.matmul, [self.read(x) for x in mats])
        if axis_left and axis_right:
            m = ops.sum(m)
        elif axis_left:
            m = ops.sum(m, 0)
        elif axis_right:
            m = ops.sum(m, 1)
        scalars = [c for c in scalars if c != 1]
        if scalars:
            if len(scalars) == 1 and scalars[0] == -1:
                return ops.neg(m)
            c = self.product(scalars)
            if c.op.name == "neg" and c.args[0].op.name == "const" and c.args[0].get("value") == 1:
                return ops.neg(m)
            m = ops.mul(c, m)
        return m

    def hadamard(self, factors: Sequence[Any]) -> Expr:
        nums: list[Expr] = []
        dens: list[Expr] = []
        for f in factors:
            if isinstance(f, sympy.HadamardPower) and f.exp == -1:
                dens.append(self.read(f.base))
            else:
                nums.append(self.read(f))
        if not dens:
            return self.fold(ops.mul, nums)
        num = self.fold(ops.mul, nums) if nums else ops.const(1)
        return ops.div(num, self.fold(ops.mul, dens))

    def power(self, s: Any) -> Expr:
        base, p = s.base, s.exp
        if base == sympy.E:
            return ops.exp(self.read(p))
        if p == sympy.Rational(1, 2):
            if isinstance(base, sympy.Trace) and isinstance(base.arg, sympy.MatMul):
                f = base.arg.args
                if len(f) == 2 and isinstance(f[0], sympy.Transpose) and f[0].arg == f[1]:
                    return ops.norm(self.read(f[1]))
            return ops.sqrt(self.read(base))
        if p == -1:
            return ops.div(ops.const(1), self.read(base))
        return ops.power(self.read(base), self.number(p, s))

    def match_function(self, body: Any) -> Op | None:
        """The matcalc elementwise op whose scalar formula is body (a function of x), if any."""
        for op in OPS.values():
            if op.kind == "elementwise" and op.arity == 1 and op.scalar is not None:
                free = op.scalar.free_symbols
                formula = op.scalar.subs(next(iter(free)), _X) if free else op.scalar
                if formula == body:
                    return op
        return None

    def applyfunc(self, s: Any) -> Expr:
        arg = self.read(s.expr)
        f = s.function
        if isinstance(f, sympy.Lambda) and len(f.variables) == 1:
            var, body = f.variables[0], f.expr
        else:
            var = sympy.Dummy("x")
            body = f(var)
        op = self.match_function(body.subs(var, _X))
        if op is not None:
            return Expr.make(op, (arg,))
        if isinstance(body, sympy.Max) and len(body.args) == 2 and sympy.Integer(0) in body.args:
            other = body.args[0] if body.args[1] == 0 else body.args[1]
            if other == var:
                return ops.relu(arg)
        # rebuild the formula with the matrix for its variable: matcalc's arithmetic is elementwise
        saved = dict(self.env), dict(self.memo)
        self.env[var] = arg
        self.memo = {}
        try:
            out = self.read(body)
        finally:
            self.env, self.memo = saved
        if out.shape != arg.shape:
            out = ops.mul(out, ops.ones(*arg.shape))  # a constant formula, stretched
        return out


def from_sympy(e: Any, shapes: Mapping[str, Any] | None = None) -> Expr:
    """The matcalc expression of a SymPy matrix expression or scalar (see the module docstring)."""
    if isinstance(e, str):
        raise InputError("from_sympy expects a SymPy expression, not text")
    if not isinstance(e, sympy.Basic):
        raise InputError(f"from_sympy expects a SymPy expression, got {type(e).__name__}")
    if shapes is not None and not isinstance(shapes, Mapping):
        raise InputError(f"shapes must be a mapping from names to (rows, cols), "
                         f"got {type(shapes).__name__}")
    reader = _Reader(e, shapes)
    try:
        return reader.read(e)
    except ShapeError as exc:
        raise ShapeError(f"from_sympy: {exc}") from None
    except RecursionError:
        raise InteropError("from_sympy: the expression is nested too deeply") from None
