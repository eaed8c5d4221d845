"""The expression DAG and the op record.

An :class:`Expr` node is immutable and hash-consed: building the same node twice returns the same
object, so memo tables keyed by node identity are exact and every shared subexpression is one node.
Everything matcalc knows about an operation lives in its :class:`Op` record: its shape rule,
value, VJP and Jacobian rules, spellings (builder signature, names in the input language, operator,
LaTeX), templates for printing and code, domain and a sample for the catalogue. The engines walk
the graph and consult the record, and never name an op.

This module is the bottom of the package with :mod:`matcalc.dims`, :mod:`matcalc.errors` and the
printer engine :mod:`matcalc.render`: it imports nothing above them. Python's operators on an Expr
(``+``, ``@``, ``.T``, …) go to whichever registered op declares that operator.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self

from .dims import Dim, Shape, shape_str
from .errors import InputError, InternalError
from .render import short, to_latex, to_text

__all__ = [
    "LOWERINGS",
    "OPERATORS",
    "OPS",
    "PREC_ADD",
    "PREC_ATOM",
    "PREC_HAD",
    "PREC_MUL",
    "PREC_NEG",
    "PREC_POW",
    "REQUIRED",
    "Expr",
    "Op",
    "Param",
    "count_nodes",
    "lowering",
    "register",
    "registry_version",
    "toposort",
    "unregister",
]

# Precedence levels shared by the text and LaTeX printers (higher binds tighter).
PREC_ADD = 10  # + and -
# the Hadamard product in LaTeX: looser than juxtaposition, so A (B ⊙ C) keeps parentheses
PREC_HAD = 15
PREC_MUL = 20  # @, * and /
PREC_NEG = 30  # unary minus
PREC_POW = 40  # **
PREC_ATOM = 50  # names, calls, postfix .T

# Python's operators, as an op record declares them (``operator=``), and the methods they fill.
OPERATOR_METHODS = {"+": "add", "-": "sub", "*": "mul", "/": "truediv", "@": "matmul",
                    "**": "pow", "-x": "neg", ".T": "T", "[]": "getitem", ">": "gt",
                    ">=": "ge", "<": "lt", "<=": "le"}


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()  # the default of a parameter that must be given


@dataclass(frozen=True)
class Param:
    """One parameter of an op's builder, as Python and the input languages see it.

    kind: ``expr`` (an operand), ``dim`` (a dimension: n, 3, m*n), ``axis`` (None, 0 or 1),
    ``axis01`` (0 or 1), ``number`` (a real constant), and the other kinds of
    ``matcalc.ops._base.PARAM_KINDS``. ``many``: one or more operands (``hstack(A, B, C)``).
    """

    name: str
    kind: str = "expr"
    default: Any = REQUIRED
    keyword: bool = False  # may be given by keyword in the input language, as in axis=0
    many: bool = False  # a variable number of operands (the first parameter only)
    positional: bool = True  # False: by keyword only (max(Z, axis=0); max(Z, 0) is refused)

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


Template = Callable[["Expr"], list[Any]]


@dataclass(eq=False)
class Op:
    """Everything matcalc knows about one operation."""

    name: str
    arity: int
    shape: Callable[..., Shape]  # shape(args, **params) -> (rows, cols); raises ShapeError
    # numpy(ctx, node, *arrays) -> 2-D ndarray; None (the rule): evaluate runs the NumPy template
    numpy: Callable[..., Any] | None = None
    text: Template | None = None  # the input-language spelling (default: a call by its name)
    vjp: Callable[..., tuple[Any, ...]] | None = None  # vjp(g, out) -> a cotangent or None per arg
    # jac(out, dargs) -> ∂vec(out)/∂vec(x) from the arguments' (None where zero); see ops/structure
    jac: Callable[..., Expr | None] | None = None
    latex: Template | None = None
    prec: int | Callable[[Expr], int] = PREC_ATOM
    latex_prec: int | Callable[[Expr], int] | None = None
    kind: str = "other"  # leaf, elementwise, binary, linalg, reduction, structural
    doc: str = ""
    scalar: Any = None  # for elementwise ops: a SymPy function of one variable (docs, derivatives)
    # Where the op is defined and smooth, per argument index, for samplers and checks:
    # "positive" (log, sqrt), "nonzero" (a divisor), "kink" (keep away from 0: relu, abs, step),
    # "invertible" (well-conditioned square: inv, det), "spd" (symmetric positive definite: logdet).
    # a dict, or a function of the node giving one; a key may also be an expression of the
    # arguments that must meet the kind (1 − x² positive for arcsin; A − B away from 0 at a kink)
    domain: dict[Any, str] | Callable[[Expr], dict[Any, str]] = field(default_factory=dict)
    # How a domain carries through the op to its arguments, for samplers: "all" (the value is a
    # rearrangement of the argument: transpose, named), "positive" (positive arguments give a
    # positive value: products, sums, relu, sqrt, …), or "" (nothing is known).
    domain_through: str = ""
    # sympy(node, args) -> the SymPy counterpart, given the arguments' (see matcalc/interop.py);
    # None: SymPy has no matrix expression for the op (elementwise ops use their scalar formula)
    sympy: Callable[..., Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    # Code generation, per backend ("numpy", "jax", "torch", or "all" for plain Python operators):
    # a template "np.tanh({0})" or a function (node, args, env) -> one expression; see codegen.py.
    code: dict[str, Any] = field(default_factory=dict)
    # backend -> the helper functions the templates call; their source goes into generated code
    code_helpers: dict[str, list[Callable[..., Any]]] = field(default_factory=dict)
    # --- how the op is written ---
    params: tuple[Param, ...] = ()  # the builder's signature (default: ``arity`` operands)
    spell: tuple[str, ...] = ()  # its function names in the input language: sum(Z, axis=0)
    # more function names, each fixing some parameters: {"hstack": {"axis": 1}} for concat
    aliases: dict[str, dict[str, Any]] = field(default_factory=dict)
    operator: str | None = None  # its operator in Python and the input language (OPERATOR_METHODS)
    # its spellings for parse_latex: "\\tanh" is a command, "ReLU" a word in \operatorname{…}
    latex_in: tuple[str, ...] = ()
    # a use of the op for the catalogue: sample(S) with S the standard symbols (W, X, A, Z, x, s …)
    sample: Callable[..., Expr] | None = None
    # the same value in a form that is cheaper to compute, or None (compile and evaluate use it)
    lower: Callable[[Expr], Expr | None] | None = None
    build: Callable[..., Expr] | None = None  # the public builder (declared with the record)

    def __post_init__(self) -> None:
        if not self.params:
            self.params = tuple(Param(f"x{i}" if self.arity > 1 else "x")
                                for i in range(self.arity))
        if self.text is None:
            self.text = call_template(self.spell[0] if self.spell else self.name, self.params)

    def __repr__(self) -> str:
        return f"<op {self.name}>"

    def domain_of(self, node: Expr) -> dict[Any, str]:
        """{argument index: domain kind} for this node (the domain may depend on params)."""
        return self.domain(node) if callable(self.domain) else self.domain

    def precedence(self, node: Expr, latex: bool = False) -> int:
        p = self.latex_prec if (latex and self.latex_prec is not None) else self.prec
        return p(node) if callable(p) else p


def spell_param(value: Any) -> str:
    """A parameter's value in the input language: a dimension as m*n, a number as itself."""
    if isinstance(value, Dim):
        return value.text
    return repr(value) if isinstance(value, float) else str(value)


def call_template(fname: str, params: tuple[Param, ...]) -> Template:
    """The text template ``fname(A, B, n, axis=1)`` of an op written as a call: operands in order,
    other parameters positionally, keyword parameters by name when they are not None."""

    def template(node: Expr) -> list[Any]:
        pieces: list[Any] = []
        operand = 0
        for p in params:
            if p.kind == "expr" and p.many:
                pieces += [(i, 0) for i in range(operand, len(node.args))]
                operand = len(node.args)
                continue
            if p.kind == "expr":
                pieces.append((operand, 0))
                operand += 1
                continue
            value = node.get(p.name)
            if p.keyword:
                if value is not None:
                    pieces.append(f"{p.name}={spell_param(value)}")
            else:
                pieces.append(spell_param(value))
        out: list[Any] = [fname + "("]
        for i, piece in enumerate(pieces):
            out += ([", "] if i else []) + [piece]
        return out + [")"]

    return template


OPS: dict[str, Op] = {}
OPERATORS: dict[str, Op] = {}
_VERSION = [0]  # bumped on every change to the registry, so tables built from it can be cached


def registry_version() -> int:
    """A number that changes whenever an op is registered or removed."""
    return _VERSION[0]


def register(op: Op) -> Op:
    """Add an op record to the registry (its name, and its operator if it has one)."""
    if op.name in OPS:
        raise InputError(f"an op named {op.name!r} is already registered")
    if op.operator is not None:
        if op.operator not in OPERATOR_METHODS:
            raise InputError(f"{op.name}: unknown operator {op.operator!r}; operators are "
                             f"{', '.join(OPERATOR_METHODS)}")
        if op.operator in OPERATORS:
            raise InputError(f"{op.name}: the operator {op.operator!r} belongs to "
                             f"{OPERATORS[op.operator].name}")
        OPERATORS[op.operator] = op
    OPS[op.name] = op
    _VERSION[0] += 1
    return op


Lowering = Callable[["Expr"], "Expr | None"]
# cheaper forms that an identity between other ops gives a node of this op (inv(A) @ B is a
# solve; det(A)·A⁻¹ the adjugate): declared with those ops, tried after the record's own lower
LOWERINGS: dict[str, list[Lowering]] = {}


def lowering(head: str) -> Callable[[Lowering], Lowering]:
    """Register a cheaper form for nodes whose op is ``head``, declared where the ops it relates
    are (the record of ``head`` stays as it is)."""

    def add(fn: Lowering) -> Lowering:
        LOWERINGS.setdefault(head, []).append(fn)
        return fn

    return add


def unregister(name: str) -> None:
    """Remove an op record (for tests that declare an op of their own)."""
    op = OPS.pop(name)
    _VERSION[0] += 1
    if op.operator is not None and OPERATORS.get(op.operator) is op:
        del OPERATORS[op.operator]


def _apply(operator: str, *args: Any) -> Expr:
    op = OPERATORS.get(operator)
    if op is None or op.build is None:
        raise InternalError(f"no op implements the operator {operator!r}")
    return op.build(*args)


_LOCK = threading.Lock()  # hash-consing: one node per key, whatever the threads


class Expr:
    """A node of the expression DAG: an op applied to argument nodes, with hashable params."""

    __slots__ = ("__weakref__", "_hash", "args", "op", "params", "shape")
    _table: ClassVar[weakref.WeakValueDictionary[tuple[Any, ...], Expr]] = \
        weakref.WeakValueDictionary()
    __array_ufunc__ = None  # NumPy defers to our reflected operators

    op: Op
    args: tuple[Expr, ...]
    params: tuple[tuple[str, Any], ...]
    shape: Shape
    _hash: int

    def __new__(cls, *a: Any, **k: Any) -> Self:  # pragma: no cover - use Expr.make
        raise TypeError("build expressions with matcalc's functions, not Expr(...)")

    @staticmethod
    def make(op: Op, args: Iterable[Expr] = (), **params: Any) -> Expr:
        """The unique node for ``op(args, params)``; checks shapes the first time it is built."""
        args = tuple(args)
        ptuple = tuple(sorted(params.items())) if params else ()
        key = (op.name, args, ptuple)
        try:
            node = Expr._table.get(key)
        except TypeError as exc:  # unhashable parameter
            raise InputError(f"{op.name}: parameters must be hashable ({exc})") from None
        if node is not None:
            return node
        shape = op.shape(args, **params)
        fresh = object.__new__(Expr)
        for attr, value in (("op", op), ("args", args), ("params", ptuple), ("shape", shape),
                            ("_hash", hash(key))):
            object.__setattr__(fresh, attr, value)
        with _LOCK:  # another thread may have built the same node meanwhile: keep the first
            node = Expr._table.get(key)
            if node is None:
                Expr._table[key] = node = fresh
        return node

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("matcalc expressions are immutable (nodes are shared)")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("matcalc expressions are immutable (nodes are shared)")

    # identity semantics: hash-consing makes structural equality identity
    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        return self is other

    def __ne__(self, other: object) -> bool:
        return self is not other

    def __reduce__(self) -> Any:
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
        name: str | None = self.get("name")
        return name

    @property
    def is_scalar(self) -> bool:
        return self.shape[0].is_one and self.shape[1].is_one

    # --- Python's operators, as the registered ops declare them ---
    def __matmul__(self, other: Any) -> Expr:
        return _apply("@", self, other)

    def __rmatmul__(self, other: Any) -> Expr:
        return _apply("@", other, self)

    def __mul__(self, other: Any) -> Expr:
        return _apply("*", self, other)

    def __rmul__(self, other: Any) -> Expr:
        return _apply("*", other, self)

    def __add__(self, other: Any) -> Expr:
        return _apply("+", self, other)

    def __radd__(self, other: Any) -> Expr:
        return _apply("+", other, self)

    def __sub__(self, other: Any) -> Expr:
        return _apply("-", self, other)

    def __rsub__(self, other: Any) -> Expr:
        return _apply("-", other, self)

    def __truediv__(self, other: Any) -> Expr:
        return _apply("/", self, other)

    def __rtruediv__(self, other: Any) -> Expr:
        return _apply("/", other, self)

    def __pow__(self, other: Any) -> Expr:
        return _apply("**", self, other)

    def __neg__(self) -> Expr:
        return _apply("-x", self)

    def __pos__(self) -> Expr:
        return self

    @property
    def T(self) -> Expr:
        return _apply(".T", self)

    def __getitem__(self, key: Any) -> Expr:
        return _apply("[]", self, key)

    # comparisons give 0/1 masks; == and != keep their identity meaning (nodes are hash-consed):
    # write matcalc.equal(A, B) for the mask
    def __gt__(self, other: Any) -> Expr:
        return _apply(">", self, other)

    def __ge__(self, other: Any) -> Expr:
        return _apply(">=", self, other)

    def __lt__(self, other: Any) -> Expr:
        return _apply("<", self, other)

    def __le__(self, other: Any) -> Expr:
        return _apply("<=", self, other)

    def __bool__(self) -> bool:
        return True

    def __iter__(self) -> Iterator[Any]:
        raise TypeError("a matcalc expression is not iterable")

    def __str__(self) -> str:
        return to_text(self)

    def __repr__(self) -> str:
        return f"<{short(self, 60)} : {shape_str(self.shape)}>"

    def _repr_latex_(self) -> str:
        """Jupyter shows expressions typeset; a program, every statement of it."""
        named = [n for n in toposort([self]) if n.op.name == "named"]
        if not named:
            return "$" + to_latex(self) + "$"
        rows = [to_latex(n) + " &= " + to_latex(n.args[0]) for n in named]
        if self.op.name != "named":
            rows.append("&= " + to_latex(self))
        return "$$\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}$$"


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
