"""The expression DAG and the op record.

An :class:`Expr` node is immutable and hash-consed: building the same node twice returns the same
object, so memo tables keyed by node identity are exact and every shared subexpression is one node.
Everything matcalc knows about an operation lives in its :class:`Op` record (shape rule, NumPy
evaluation, VJP rule, text and LaTeX templates, precedence); the engines in this package walk the
graph and consult the record, and never name an op.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator

from .dims import Dim, Shape, shape_str
from .errors import InputError

# Precedence levels shared by the text and LaTeX printers (higher binds tighter).
PREC_ADD = 10  # + and -
PREC_HAD = 15  # the Hadamard product in LaTeX: looser than juxtaposition, so A (B ⊙ C) keeps parentheses
PREC_MUL = 20  # @, * and /
PREC_NEG = 30  # unary minus
PREC_POW = 40  # **
PREC_ATOM = 50  # names, calls, postfix .T

# A template is a function of the node returning pieces: a str is printed as is, a pair
# (argument index, minimum precedence) prints that argument, in parentheses when it binds less
# tightly than the minimum.
Piece = "str | tuple[int, int]"


@dataclass(eq=False)
class Op:
    """Everything matcalc knows about one operation."""

    name: str
    arity: int
    shape: Callable[..., Shape]  # shape(args, **params) -> (rows, cols); raises ShapeError
    numpy: Callable[..., Any]  # numpy(ctx, node, *arrays) -> 2-D ndarray
    text: Callable[["Expr"], list]  # the input-language spelling, as pieces
    vjp: Callable[..., tuple] | None = None  # vjp(g, out) -> one cotangent (or None) per argument
    # jac(out, dargs) -> ∂vec(out)/∂vec(x) from the arguments' (None where zero); see ops/_jac.py
    jac: Callable[..., "Expr | None"] | None = None
    latex: Callable[["Expr"], list] | None = None
    prec: int | Callable[["Expr"], int] = PREC_ATOM
    latex_prec: int | Callable[["Expr"], int] | None = None
    kind: str = "other"  # leaf, elementwise, binary, linalg, reduction, structural
    doc: str = ""
    scalar: Any = None  # for elementwise ops: a SymPy function of one variable (docs, derivatives)
    # Where the op is defined and smooth, per argument index, for samplers and checks:
    # "positive" (log, sqrt), "nonzero" (a divisor), "kink" (keep away from 0: relu, abs, step),
    # "invertible" (well-conditioned square: inv, det), "spd" (symmetric positive definite: logdet).
    domain: Any = field(default_factory=dict)  # a dict, or a function of the node giving one
    # How a domain carries through the op to its arguments, for samplers: "all" (the value is a
    # rearrangement of the argument: transpose, named), "positive" (positive arguments give a
    # positive value: products, sums, relu, sqrt, …), or "" (nothing is known).
    domain_through: str = ""
    # sympy(node, args) -> the SymPy counterpart, given the arguments' (see matcalc/interop.py);
    # None: SymPy has no matrix expression for the op (elementwise ops use their scalar formula)
    sympy: Callable[..., Any] | None = None
    extra: dict = field(default_factory=dict)
    # Code generation, per backend ("numpy", "jax", "torch", or "all" for plain Python operators):
    # a template "np.tanh({0})" or a function (node, args, env) -> one expression; see codegen.py.
    code: dict = field(default_factory=dict)
    code_helpers: dict = field(default_factory=dict)  # backend -> {helper name: its source}

    def __repr__(self) -> str:
        return f"<op {self.name}>"

    def domain_of(self, node: "Expr") -> dict:
        """{argument index: domain kind} for this node (the domain may depend on params)."""
        return self.domain(node) if callable(self.domain) else self.domain

    def precedence(self, node: "Expr", latex: bool = False) -> int:
        p = self.latex_prec if (latex and self.latex_prec is not None) else self.prec
        return p(node) if callable(p) else p


OPS: dict[str, Op] = {}


def register(op: Op) -> Op:
    if op.name in OPS:
        raise InputError(f"an op named {op.name!r} is already registered")
    OPS[op.name] = op
    return op


class Expr:
    """A node of the expression DAG: an op applied to argument nodes, with hashable params."""

    __slots__ = ("op", "args", "params", "shape", "_hash", "__weakref__")
    _table: "weakref.WeakValueDictionary[tuple, Expr]" = weakref.WeakValueDictionary()
    __array_ufunc__ = None  # NumPy defers to our reflected operators

    op: Op
    args: tuple["Expr", ...]
    params: tuple[tuple[str, Any], ...]
    shape: Shape

    def __new__(cls, *a, **k):  # pragma: no cover - construction goes through Expr.make
        raise TypeError("build expressions with matcalc's functions, not Expr(...)")

    @staticmethod
    def make(op: Op, args: Iterable["Expr"] = (), **params: Any) -> "Expr":
        """The unique node for ``op(args, params)``; checks shapes the first time it is built."""
        args = tuple(args)
        ptuple = tuple(sorted(params.items()))
        key = (op.name, args, ptuple)
        try:
            node = Expr._table.get(key)
        except TypeError as exc:  # unhashable parameter
            raise InputError(f"{op.name}: parameters must be hashable ({exc})") from None
        if node is not None:
            return node
        shape = op.shape(args, **params)
        node = object.__new__(Expr)
        for attr, value in (("op", op), ("args", args), ("params", ptuple), ("shape", shape),
                            ("_hash", hash(key))):
            object.__setattr__(node, attr, value)
        Expr._table[key] = node
        return node

    def __setattr__(self, name, value):
        raise AttributeError("matcalc expressions are immutable (nodes are shared)")

    def __delattr__(self, name):
        raise AttributeError("matcalc expressions are immutable (nodes are shared)")

    # identity semantics: hash-consing makes structural equality identity
    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        return self is other

    def __ne__(self, other: object) -> bool:
        return self is not other

    def __reduce__(self):
        raise TypeError("matcalc expressions are not picklable; save their text with str()")

    def get(self, key: str, default: Any = None) -> Any:
        for k, v in self.params:
            if k == key:
                return v
        return default

    @property
    def rows(self) -> Dim:
        return self.shape[0]

    @property
    def cols(self) -> Dim:
        return self.shape[1]

    @property
    def name(self) -> str | None:
        """The name of a symbol or of a named intermediate, else None."""
        return self.get("name")

    @property
    def is_scalar(self) -> bool:
        return self.shape[0].is_one and self.shape[1].is_one

    # --- operators with NumPy meaning (the builders live in matcalc.ops) ---
    def __matmul__(self, other):
        return _api.matmul(self, other)

    def __rmatmul__(self, other):
        return _api.matmul(other, self)

    def __mul__(self, other):
        return _api.mul(self, other)

    def __rmul__(self, other):
        return _api.mul(other, self)

    def __add__(self, other):
        return _api.add(self, other)

    def __radd__(self, other):
        return _api.add(other, self)

    def __sub__(self, other):
        return _api.sub(self, other)

    def __rsub__(self, other):
        return _api.sub(other, self)

    def __truediv__(self, other):
        return _api.div(self, other)

    def __rtruediv__(self, other):
        return _api.div(other, self)

    def __pow__(self, other):
        return _api.power(self, other)

    def __neg__(self):
        return _api.neg(self)

    def __pos__(self):
        return self

    @property
    def T(self) -> "Expr":
        return _api.transpose(self)

    def __bool__(self) -> bool:
        return True

    def __iter__(self) -> Iterator:
        raise TypeError("a matcalc expression is not iterable")

    def __str__(self) -> str:
        from .printing import to_text

        return to_text(self)

    def __repr__(self) -> str:
        from .printing import short

        return f"<{short(self, 60)} : {shape_str(self.shape)}>"

    def _repr_latex_(self) -> str:
        """Jupyter shows expressions typeset."""
        from .printing import to_latex

        return "$" + to_latex(self) + "$"


class _Api:
    """Late-bound builders so that Expr's operators can call matcalc.ops without an import cycle."""

    def __getattr__(self, name: str):
        from . import ops

        value = getattr(ops, name)
        setattr(self, name, value)
        return value


_api = _Api()


def toposort(roots: Iterable[Expr]) -> list[Expr]:
    """Every node reachable from roots, arguments before users, each once (iterative)."""
    order: list[Expr] = []
    seen: set[int] = set()
    for root in roots:
        if id(root) in seen:
            continue
        stack: list[tuple[Expr, int]] = [(root, 0)]
        seen.add(id(root))
        while stack:
            node, i = stack[-1]
            if i < len(node.args):
                stack[-1] = (node, i + 1)
                child = node.args[i]
                if id(child) not in seen:
                    seen.add(id(child))
                    stack.append((child, 0))
            else:
                stack.pop()
                order.append(node)
    return order


def count_nodes(*roots: Expr) -> int:
    """Number of distinct DAG nodes reachable from roots."""
    return len(toposort(roots))
