r"""LaTeX formulas to matcalc expressions: ``parse_latex(r"\mathrm{ReLU}(W x + b)", shapes)``.

The grammar is Lark LALR with an inline transformer (as in :mod:`matcalc.parse`), so each node is
built at its reduction, in the order written, with shapes checked as it goes. A post-lexer between
the two reads LaTeX's commands: it drops spacing, turns font wrappers (``\mathbf{x}``,
``\operatorname{tr}``) into names and functions, pairs delimiters (``\left( … \right)``), tells an
opening ``|`` from a closing one and splits a run of letters into names. The text is only ever
tokenised, never evaluated. Every rejection is a :class:`~matcalc.errors.MatcalcError` with a
line and column: a :class:`ParseError` (:class:`UnknownNameError` for undeclared names) or a
:class:`ShapeError`.

How formulas read
-----------------
* **Products.** Juxtaposition, ``\cdot``, ``\times`` and ``*`` are the matrix product, or scaling
  when either side is 1×1 (``2 X``, ``\alpha W``, ``x^\top y \, z``). ``\odot`` and ``\circ`` are
  the Hadamard product, ``\otimes`` the Kronecker product, ``/`` and ``\frac{a}{b}`` (also
  ``\tfrac``, ``\dfrac``) elementwise division (b 1×1 or broadcastable). All of these bind equally
  tightly and group left to right, so ``A \odot B C`` is ``(A ⊙ B) C``; a unary minus binds
  less tightly (``-W X`` is ``−(W X)``); ``+`` and ``-`` least. ``\frac{1}{2}`` of two numbers is
  the constant 0.5.
* **Names.** ``shapes`` maps names to (rows, cols) as in :func:`matcalc.parse.parse`. ``W_1``
  reads the declared ``W_1``, else ``W1``; ``W_{hh}`` reads ``W_hh``; ``x_{t,1}`` reads ``x_t_1``;
  ``\alpha`` reads ``alpha`` (``\lambda``, a Python keyword, reads ``lam``, ``lambda_`` or
  ``lmbda``); ``\mathbf{x}``, ``\boldsymbol{x}``, ``\bm{x}``, ``\vec{x}``,
  ``\mathit{x}``, ``\mathrm{x}`` read ``x``; ``\mathrm{dL}_{dY}`` reads ``dL_dY``. A run of letters
  that is not itself declared is split into single-letter names when each letter is declared (or
  is ``I``): with A, X, B declared, ``AXB`` is ``A X B``, and ``AXB^\top`` is ``A X Bᵀ``.
  ``\frac{\partial L}{\partial Y}`` is the upstream gradient, the symbol ``dL_dY`` (declare it).
  An undeclared name that is a dimension of a declared symbol is that size as a 1×1 value
  (``\frac{1}{n}``); ``\pi`` is π unless declared; ``e^{…}`` is exp unless ``e`` is declared.
* **Placeholders sized by context.** ``\mathbf{1}`` (also ``\mathbb{1}``, ``\boldsymbol{1}``) is
  a ones column, ``I`` (``\mathbf{I}``) an identity and ``\mathbf{0}`` a zero matrix, when those
  names are not declared. Their sizes come from what they meet: in a product they take the
  neighbour's dimension, in a sum the other side's shape (``I - A``, ``X + \lambda I``). A ones
  vector on the summing side of a product is a sum: ``\mathbf{1}^\top Z`` is sum(Z, axis=0),
  ``Z \mathbf{1}`` is sum(Z, axis=1) and ``\mathbf{1}^\top Z \mathbf{1}`` is sum(Z). A 1×1
  value next to a ones vector scales it, since scalars commute (``\mathbf{1}^\top 2 W`` is
  2·1ᵀW, ``x + c \mathbf{1}``), and if nothing else fixes the vector's size it is 1 long
  (``\mathbf{1}^\top c \mathbf{1}`` is c). Any other placeholder whose size nothing fixes
  (``\mathbf{1}`` alone, ``\operatorname{tr}(I)``) is a ParseError; give its size as
  ``\mathbf{1}_{n}``, ``\mathbf{1}_{m \times n}``, ``I_{n}``. ``K_{m,n}`` (when ``K`` is not
  declared) is the commutation matrix, vec(Aᵀ) = K_{m,n} vec(A).
* **Superscripts.** ``^\top``, ``^T``, ``^{\mathsf T}``, ``^{\mathsf{T}}``, ``^{T}``,
  ``^{\top}``, ``^\intercal`` and a prime ``'`` transpose. ``^{-1}`` is the inverse (a plain
  reciprocal for 1×1 values), ``^{-\top}``/``^{-T}`` the inverse transpose. A numeric exponent
  ``^{2}``, ``^2``, ``^{0.5}`` is a plain power for a 1×1 value (``\|x\|_2^2``, ``(x^\top y)^2``)
  and an elementwise power for a matrix that is not square (a matrix power does not exist there:
  ``x^{2}`` for a column x is x ⊙ x). For a square matrix ``X^{2}`` is ambiguous and a
  ParseError asks for ``X X`` (matrix power) or ``X \odot X`` / ``X^{\circ 2}`` (elementwise);
  ``^{\circ p}`` is always the elementwise power.
* **Functions.** ``\exp``, ``\log``, ``\ln``, ``\tanh``, ``\sqrt{…}``, ``\sigma`` (sigmoid; unless
  ``sigma`` is declared, then it is that symbol), ``\det``, ``\log\det`` (logdet),
  ``\operatorname{tr}``/``\mathrm{tr}``/``\operatorname{Tr}``/``\text{tr}``/
  ``\operatorname{trace}``, ``\operatorname{ReLU}``/``\mathrm{ReLU}``, ``\max(0, Z)`` and
  ``\max(Z, 0)`` (ReLU), ``\operatorname{softmax}`` (along axis 0, each column),
  ``\log\operatorname{softmax}`` (log_softmax along axis 0), ``\operatorname{logsumexp}``,
  ``\operatorname{mean}`` and ``\operatorname{sum}`` (over all entries),
  ``\operatorname{diag}``, ``\operatorname{vec}``, ``\operatorname{sign}``,
  ``\operatorname{softplus}``, ``\mathbb{1}[Z > 0]`` (step), and any user-defined elementwise
  function as ``\operatorname{name}``. A function applies to a parenthesised group, after
  which a superscript applies to the result (``\exp(x)^2`` is (exp x)²), or to the single
  following atom with its superscripts (``\log x^2`` is log(x²), ``\log\det X``).
* **Bars.** ``|X|`` and ``\left| X \right|`` are the elementwise absolute value; ``\log|X|`` and
  ``\log\left|X\right|`` of a square (not 1×1) X are log-determinants. ``\|X\|``, ``\lVert X
  \rVert``, ``\left\| X \right\|`` and their ``_F`` forms are the Frobenius norm; ``_2`` is
  accepted for vectors only (the spectral norm of a matrix is not supported).
* **Grouping** by ``( )``, ``[ ]``, ``{ }``, ``\{ \}``, with ``\left``/``\right`` (which must pair,
  as in TeX) or ``\bigl``, ``\Bigr``, …; spacing (``\,``, ``\;``, ``\!``, ``\quad``, ``~``) and
  ``$`` are ignored.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken, VisitError

from . import ops
from .dims import Dim, dim, shape_str
from .errors import InputError, MatcalcError, ParseError, ShapeError, UnknownNameError
from .expr import OPS, Expr
from .latexnames import GREEK
from .printing import short
from .textparse import _end_position, declare

__all__ = ["parse_latex"]

# --- the grammar --------------------------------------------------------------------------------

# Braced groups nested up to four deep, for the bodies of superscripts and subscripts.
_NESTED = r"\{[^{}]*\}"
for _ in range(3):
    _NESTED = r"\{(?:[^{}]|" + _NESTED + r")*\}"
_FONTED = r"\\(?:mathsf|mathrm|text|textsf|textrm|mathbf|mathit|operatorname)\s*\{[^{}]*\}"

GRAMMAR = r"""
start: expr

?expr: term
     | expr PLUS term                               -> add
     | expr MINUS term                              -> sub

?term: product
     | MINUS term                                   -> neg
     | PLUS term                                    -> pos

?product: postfix
        | product postfix                           -> juxt
        | product MULOP postfix                     -> mulop

?postfix: primary
        | postfix SUPERSCRIPT                       -> sup
        | postfix PRIME                             -> prime

?primary: group
        | bare

group: OPEN expr CLOSE

?bare: name_ref
     | NUMBER                                       -> number
     | ONES SUBSCRIPT?                              -> ones
     | ZEROS SUBSCRIPT?                             -> zeros
     | FUNC group                                   -> call
     | FUNC bare                                    -> barecall
     | FRAC group group                             -> frac
     | FRAC OPEN PARTIAL name_ref CLOSE OPEN PARTIAL name_ref CLOSE -> gradient
     | NORM_OPEN expr NORM_CLOSE SUBSCRIPT?         -> norm
     | MAX OPEN expr COMMA expr CLOSE               -> max
     | INDICATOR OPEN expr CMP expr CLOSE           -> indicator

name_ref: NAME SUBSCRIPT?
        | GREEK SUBSCRIPT?

NAME: /[A-Za-z]+/
NUMBER: /[0-9]+(\.[0-9]+)?|\.[0-9]+/
SUPERSCRIPT: /\^\s*(?:@NESTED@|@FONTED@|\\[A-Za-z]+|[A-Za-z0-9*+\-])/
SUBSCRIPT: /_\s*(?:@NESTED@|@FONTED@|\\[A-Za-z]+|[A-Za-z0-9])/
CMD: /\\(?:[A-Za-z]+|[^A-Za-z])/
LBRACE: "{"
RBRACE: "}"
LPAR: "("
RPAR: ")"
LSQB: "["
RSQB: "]"
BAR: "|"
PLUS: "+"
MINUS: "-"
STAR: "*"
SLASH: "/"
PRIME: "'"
COMMA: ","
GT: ">"
LT: "<"
EQUAL: "="
AMP: "&"
WS: /[ \t\f\r\n~$]+/
%ignore WS

%declare GREEK OPEN CLOSE NORM_OPEN NORM_CLOSE FUNC FRAC PARTIAL MAX INDICATOR CMP MULOP ONES ZEROS
""".replace("@NESTED@", _NESTED).replace("@FONTED@", _FONTED)

# Terminals the lexer makes that only the post-lexer reads (kept by Lark through always_accept).
_RAW = ("CMD", "LBRACE", "RBRACE", "LPAR", "RPAR", "LSQB", "RSQB", "BAR", "STAR", "SLASH", "GT",
        "LT", "EQUAL", "AMP")

# --- the command tables -------------------------------------------------------------------------

_SPACING = {",", ";", "!", ":", " ", ">", "\n", "\t", "quad", "qquad", "enspace", "thinspace",
            "medspace", "thickspace", "negthinspace", "negmedspace", "displaystyle",
            "textstyle", "scriptstyle", "limits", "nolimits", "nonumber", "notag"}
_FONTS = {"mathbf", "boldsymbol", "bm", "vec", "mathit", "mathrm", "mathsf", "mathnormal",
          "mathbb", "mathcal", "mathbfit", "pmb", "mathtt", "text", "textrm", "textit", "textbf",
          "textsf", "texttt", "textnormal", "operatorname", "bold"}
# fonts whose multi-letter content is one upright word (a name or an operator), never split
_WORD_FONTS = {"mathrm", "text", "textrm", "textnormal", "textit", "textbf", "textsf", "texttt",
               "mathsf", "mathtt", "mathit", "operatorname"}
# \left, \right and the fixed sizes: which side each one stands for (None: either)
_SIZING = {"left": "left", "right": "right", "middle": "middle",
           **{s + "l": "open" for s in ("big", "Big", "bigg", "Bigg")},
           **{s + "r": "close" for s in ("big", "Big", "bigg", "Bigg")},
           **{s + "m": None for s in ("big", "Big", "bigg", "Bigg")},
           **{s: None for s in ("big", "Big", "bigg", "Bigg")}}
# delimiter spellings: (kind, natural side) — "|" is the absolute value, "‖" the norm
_DELIMS = {"(": ("(", "open"), ")": ("(", "close"), "[": ("[", "open"), "]": ("[", "close"),
           "{": ("{", "open"), "}": ("{", "close"), "|": ("|", None),
           r"\{": (r"\{", "open"), r"\}": (r"\{", "close"), r"\|": ("‖", None),
           r"\vert": ("|", None), r"\lvert": ("|", "open"), r"\rvert": ("|", "close"),
           r"\Vert": ("‖", None), r"\lVert": ("‖", "open"), r"\rVert": ("‖", "close"),
           r"\lbrack": ("[", "open"), r"\rbrack": ("[", "close"),
           r"\lbrace": (r"\{", "open"), r"\rbrace": (r"\{", "close")}
_CLOSING_TEXT = {"(": ")", "[": "]", "{": "}", r"\{": r"\}", "|": "|", "‖": r"\|"}

_GREEK = set(GREEK) | {"ell", "varsigma", "varrho", "varpi", "varkappa", "digamma"}
# Greek names that are Python keywords cannot be declared: \lambda reads lam, lambda_ or lmbda
_GREEK_ALIASES = {"lambda": ["lam", "lambda_", "lmbda"]}
_FUNC_CMDS = {"exp": "exp", "log": "log", "ln": "log", "tanh": "tanh", "det": "det",
              "sqrt": "sqrt", "tr": "trace", "Tr": "trace", "trace": "trace", "diag": "diag",
              "sgn": "sign", "relu": "relu", "ReLU": "relu", "softmax": "softmax"}
# words inside \operatorname{…}, \mathrm{…} or \text{…} that name a function
_WORDS = {
    "tr": "trace", "Tr": "trace", "trace": "trace", "Trace": "trace", "det": "det",
    "logdet": "logdet", "ReLU": "relu", "relu": "relu", "ReLu": "relu", "Relu": "relu",
    "RELU": "relu", "softmax": "softmax", "Softmax": "softmax", "log_softmax": "log_softmax",
    "logsoftmax": "log_softmax", "logsumexp": "logsumexp", "LSE": "logsumexp",
    "lse": "logsumexp", "mean": "mean", "sum": "sum", "diag": "diag", "Diag": "diag",
    "vec": "vec", "sign": "sign", "sgn": "sign", "softplus": "softplus", "sigmoid": "sigmoid",
    "tanh": "tanh", "exp": "exp", "log": "log", "ln": "log", "sqrt": "sqrt", "abs": "abs",
    "step": "step", "inv": "inv",
}
_FRACS = {"frac", "tfrac", "dfrac", "cfrac"}
_MULOPS = {"cdot": "dot", "times": "dot", "ast": "dot", "odot": "odot", "circ": "odot",
           "otimes": "otimes", "div": "/"}
_CMPS = {"gt": ">", "lt": "<", "geq": ">=", "ge": ">=", "geqslant": ">=", "leq": "<=",
         "le": "<=", "leqslant": "<="}

_AXIS0 = {"softmax": lambda a: ops.softmax(a, 0), "log_softmax": lambda a: ops.log_softmax(a, 0)}
_BUILDERS: dict[str, Callable[[Expr], Expr]] = {
    **{name: getattr(ops, name) for name in (
        "relu", "sigmoid", "tanh", "exp", "log", "sqrt", "abs", "softplus", "step", "sign",
        "trace", "det", "logdet", "inv", "diag", "vec", "sum", "mean", "logsumexp", "norm")},
    **_AXIS0,
}
# functions whose result has their argument's shape (so a placeholder argument stays one)
_PRESERVING = {"relu", "sigmoid", "tanh", "exp", "log", "sqrt", "abs", "softplus", "step", "sign",
               "softmax", "log_softmax", "inv"}

_ENDS_OPERAND = {"NAME", "WORD", "GREEK", "NUMBER", "CLOSE", "NORM_CLOSE", "SUPERSCRIPT",
                 "SUBSCRIPT", "PRIME", "ONES", "ZEROS"}


def _function_word(word: str) -> str | None:
    """The op a word names inside \\operatorname{…}: a built-in, or a user elementwise op."""
    if word in _WORDS:
        return _WORDS[word]
    op = OPS.get(word)
    if op is not None and op.extra.get("user") and op.arity == 1:
        return word
    return None


# --- values on the parser's stack ---------------------------------------------------------------

class _Var:
    """The unknown size of a placeholder (union-find: ``parent`` links, ``dim`` once known)."""

    __slots__ = ("column", "dim", "fallback", "line", "parent", "what")

    def __init__(self, what: str, at):
        self.parent: _Var | None = None
        self.dim: Dim | None = None
        self.what, self.line, self.column = what, at.line, at.column
        self.fallback = False  # 1 long if nothing else fixes it (a ones vector beside a scalar)

    def root(self) -> _Var:
        v = self
        while v.parent is not None:
            v = v.parent
        return v


def _spec(s):
    """A dimension as known now: a Dim, or the root variable standing for it."""
    if isinstance(s, _Var):
        r = s.root()
        return r if r.dim is None else r.dim
    return s


class _Poly:
    """A value of shape-polymorphic size: a placeholder, or an expression built on one."""

    __slots__ = ("cols", "maker", "rows", "thunk", "vars")

    def __init__(self, rows, cols, vars_, maker=None, thunk=None):
        self.rows, self.cols, self.vars = rows, cols, vars_
        self.maker = maker  # for a bare placeholder: maker(rows, cols) -> Expr
        self.thunk = thunk  # otherwise: () -> Expr, once every variable is known

    def make(self) -> Expr:
        if self.maker is not None:
            return self.maker(_spec(self.rows), _spec(self.cols))
        return self.thunk()

    def open_vars(self) -> list[_Var]:
        out: list[_Var] = []
        for v in self.vars:
            r = v.root()
            if r.dim is None and r not in out:
                out.append(r)
        return out

    def describe(self) -> str:
        shown = [str(s) if isinstance(s, Dim) else "?"
                 for s in (_spec(self.rows), _spec(self.cols))]
        return f"{self.vars[0].what} ({shown[0]}×{shown[1]})"


def _ones_maker(r, c):
    return ops.ones(r, c)


def _zeros_maker(r, c):
    return ops.zeros(r, c)


def _eye_maker(r, c):
    return ops.eye(r)


@dataclass(frozen=True, slots=True)
class _Name:
    base: str
    sub: str | None  # the subscript's text, normalised (hh, 1, t_1), or None
    sub_raw: str | None  # the subscript's body as written (for dimensions: I_{m B})
    greek: bool
    text: str  # as written, for messages


@dataclass(slots=True)
class _Val:
    """A reduced value: kind is expr, poly, num, name or barecall; with where it starts."""

    kind: str
    value: Any
    line: int
    column: int
    extra: Any = None  # ("bars", inner) for |X|, ("delim", kind) for other groups


def _shape(x) -> tuple:
    if isinstance(x, Expr):
        return x.shape
    return (_spec(x.rows), _spec(x.cols))


def _raw_shape(x) -> tuple:
    return x.shape if isinstance(x, Expr) else (x.rows, x.cols)


def _vars(x) -> tuple:
    return x.vars if isinstance(x, _Poly) else ()


def _make(x) -> Expr:
    return x if isinstance(x, Expr) else x.make()


def _describe(x) -> str:
    if isinstance(x, Expr):
        return f"{short(x, 40)} ({shape_str(x.shape)})"
    return x.describe()


def _is_square(x) -> bool:
    r, c = _shape(x)
    return r is c or (isinstance(r, Dim) and r == c)


def _is_scalar_expr(x) -> bool:
    return isinstance(x, Expr) and x.is_scalar


def _ones_vector(x, side: str) -> bool:
    """Whether x is a bare ones placeholder lying as a row (side 'row') or column of open size."""
    if not isinstance(x, _Poly) or x.maker is not _ones_maker:
        return False
    r, c = _shape(x)
    if side == "row":
        return isinstance(r, Dim) and r.is_one and isinstance(c, _Var)
    return isinstance(c, Dim) and c.is_one and isinstance(r, _Var)


# --- per-parse state ----------------------------------------------------------------------------

_SCRIPT_FONT = re.compile(
    r"\\(?:mathsf|mathrm|text|textsf|textrm|mathit|mathbf|operatorname)\s*\{([^{}]*)\}")
_SCRIPT_FONT_BARE = re.compile(r"\\(?:mathsf|mathrm|text|textsf|textrm|mathit|mathbf)(?![A-Za-z])")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_HPOW = re.compile(r"\\(?:circ|odot)\{?([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))\}?")
_TRANSPOSE = {"T", r"\top", r"\intercal", r"\prime", "'"}
_INV_TRANSPOSE = {"-T", r"-\top", r"-\intercal"}


def _script_body(raw: str) -> tuple[str, int]:
    """A superscript's or subscript's body (without ^ or _ and one pair of braces), and offset."""
    i = 1
    while i < len(raw) and raw[i].isspace():
        i += 1
    if raw[i:i + 1] == "{" and raw.endswith("}"):
        return raw[i + 1:-1], i + 1
    return raw[i:], i


def _sub_text(raw: str) -> str:
    """A subscript as part of a name: _1 → 1, _{hh} → hh, _{t,1} → t_1, _{\\alpha} → alpha."""
    body, _ = _script_body(raw)
    body = _SCRIPT_FONT.sub(r"\1", body).replace("\\_", "_")
    body = re.sub(r"\\([A-Za-z]+)", r"\1", body)
    return re.sub(r"\s+", "", body).replace(",", "_")


class _Program:
    """Per-parse state: the source, the declared symbols, and the helpers the actions share."""

    def __init__(self, source: str, symbols: dict[str, Expr]):
        self.source, self.symbols = source, symbols
        self.dims = {n for s in symbols.values() for d in s.shape for n in d.names}

    # --- errors ---------------------------------------------------------------------------------

    def error(self, cls, message: str, at) -> MatcalcError:
        return cls(message, at.line, at.column, self.source)

    def shape_error(self, message: str, at) -> ShapeError:
        text = str(ParseError(message, at.line, at.column, self.source))
        err = ShapeError(text)
        err.line, err.column = at.line, at.column
        return err

    def text_of(self, tok) -> str:
        start, end = getattr(tok, "start_pos", None), getattr(tok, "end_pos", None)
        if start is not None and end is not None and 0 <= start < end <= len(self.source):
            return self.source[start:end]
        return str(tok)

    def build(self, at, fn: Callable[..., Expr], *args) -> Expr:
        """Call a builder; its ShapeError or InputError comes back with the position ``at``."""
        try:
            return fn(*args)
        except ShapeError as exc:
            raise self.shape_error(str(exc), at) from None
        except InputError as exc:
            raise self.error(ParseError, str(exc), at) from None

    def dangling(self, var: _Var) -> ParseError:
        return ParseError(
            f"cannot infer the size of {var.what}: nothing next to it fixes it (use it beside a "
            r"matrix, as in \mathbf{1}^\top Z \mathbf{1} or I - A, or give its size, as in "
            r"\mathbf{1}_{n} or I_{n})", var.line, var.column, self.source)

    # --- values ---------------------------------------------------------------------------------

    def operand(self, v: _Val):
        """The Expr (or placeholder) a value stands for."""
        kind = v.kind
        if kind in ("expr", "poly"):
            return v.value
        if kind == "num":
            return self.build(v, ops.const, v.value)
        if kind == "name":
            return self.resolve(v)
        f, arg = v.value  # barecall
        return self.apply(f, arg)

    def wrap(self, x, at, extra=None) -> _Val:
        return _Val("poly" if isinstance(x, _Poly) else "expr", x, at.line, at.column, extra)

    def settle(self, v: _Var) -> None:
        """A size nothing fixes: 1 for a ones vector that met a scalar, else an error."""
        if not v.fallback:
            raise self.dangling(v)
        v.dim = Dim(1)

    def resolved(self, x, at=None) -> Expr:
        """x as an Expr; a placeholder whose size is still open is an error."""
        if isinstance(x, Expr):
            return x
        for v in x.open_vars():
            self.settle(v)
        return x.make()

    def finish(self, p: _Poly):
        """Check that no size was lost inside p; build it once every size is known."""
        open_ = p.open_vars()
        if open_:
            kept = {id(s) for s in (_spec(p.rows), _spec(p.cols)) if isinstance(s, _Var)}
            for v in open_:
                if id(v) not in kept:
                    self.settle(v)
            if p.open_vars():
                return p
        return p.make()

    # --- names ----------------------------------------------------------------------------------

    def dim_text(self, text: str, at) -> Dim:
        """A dimension written in a subscript: 3, n, m B, 2 n, m \\cdot n, m·n, mn."""
        cleaned = _SCRIPT_FONT.sub(r"\1", text)
        cleaned = re.sub(r"\\cdot|\\times|\\[,;!: ]|[*·{}]", " ", cleaned)
        factors = re.findall(r"[0-9]+|[A-Za-z][A-Za-z_0-9]*|\S", cleaned)
        if not factors:
            raise self.error(ParseError, "an empty subscript is not a dimension", at)
        out = Dim(1)
        for f in factors:
            if f.isdigit() and int(f) > 0:
                out = out * Dim(int(f))
                continue
            known = [n for n in (f, f.replace("_", "")) if n in self.dims]
            if known:
                out = out * Dim(1, (known[0],))
            elif f.isalpha() and all(c in self.dims for c in f):  # mn: m times n
                for c in f:
                    out = out * Dim(1, (c,))
            elif re.fullmatch(r"[A-Za-z][A-Za-z_0-9]*", f):
                raise self.error(UnknownNameError, f"unknown dimension {f!r}: no declared shape "
                                 "uses it" + _suggest(f, self.dims), at)
            else:
                raise self.error(ParseError, f"{text.strip()} is not a dimension (use a positive "
                                 "integer or a dimension name like n)", at)
        return out

    def lookup(self, base: str, sub: str | None, greek: bool, at=None, probe: bool = False):
        """What a name stands for, or None; with probe, only whether it stands for something."""
        bases = [base] + (_GREEK_ALIASES.get(base, []) if greek else [])
        candidates = []
        for b in bases:
            if sub is None:
                candidates.append(b)
            else:
                candidates += [f"{b}_{sub}"] + ([b + sub] if sub.isalnum() else [])
        for c in candidates:
            if c in self.symbols:
                return self.symbols[c]
        if not greek and base == "I":
            if sub is None:
                if probe:
                    return True
                v = _Var("I", at)
                return _Poly(v, v, (v,), maker=_eye_maker)
            if re.fullmatch(r"[0-9]+|[A-Za-z_][A-Za-z_0-9]*", sub) and (
                    sub.isdigit() or sub in self.dims):
                return True if probe else self.build(at, ops.eye, dim(sub))
            return None
        if sub is None and not probe:
            if not greek and base in self.dims:
                return ops.size(base)
            if greek and base == "pi":
                return ops.const(math.pi)
        return None

    def resolve(self, v: _Val):
        name: _Name = v.value
        found = self.lookup(name.base, name.sub, name.greek, v)
        if found is not None:
            return found
        shown = name.text
        if name.base == "I" and name.sub is not None and not name.greek:
            # I_{m·n} and friends: an identity with a dimension that is not a plain name
            return self.build(v, ops.eye, self.dim_text(name.sub_raw, v))
        if name.base == "K" and not name.greek and name.sub_raw and name.sub_raw.count(",") == 1:
            # K_{m,n}: the commutation matrix, vec(Aᵀ) = K vec(A) for an m×n A
            rows, cols = (self.dim_text(part, v) for part in name.sub_raw.split(","))
            from .ops import commutation

            return self.build(v, commutation, rows, cols)
        if name.greek:
            wanted = name.base if name.sub is None else f"{name.base}_{name.sub}"
            if name.base == "sigma" and name.sub is None:
                message = (r"\sigma here is a name (sigmoid needs an argument, as in "
                           r"\sigma(W x)); declare 'sigma' to use it as a symbol")
            else:
                message = f"undeclared name {shown} (declare {wanted!r} in shapes)"
            raise self.error(UnknownNameError, message + _suggest(wanted, self.symbols), v)
        word = name.base
        hint = ""
        if _function_word(word) is not None or word in _FUNC_CMDS:
            hint = f"; for the function write \\operatorname{{{word}}}(…)"
        elif word == "e":
            hint = r"; write e^{x} or \exp(x) for the exponential"
        wanted = word if name.sub is None else f"{word}_{name.sub}"
        raise self.error(UnknownNameError, f"undeclared name {shown!r}" + hint
                         + _suggest(wanted, self.symbols), v)

    def letter_ok(self, letter: str, sub: str | None) -> bool:
        return self.lookup(letter, sub, False, probe=True) is not None

    def split(self, tok: Token, sub_tok: Token | None) -> list[Token]:
        """A run of letters as one name or, when that is not declared, one name per letter."""
        run = str(tok)
        if len(run) == 1:
            return [tok]
        sub = _sub_text(sub_tok) if sub_tok is not None else None
        if (self.lookup(run, sub, False, probe=True) is not None
                or self.lookup(run, None, False, probe=True) is not None or run in self.dims):
            return [tok]
        letters = list(run)
        if not all(self.letter_ok(c, None) for c in letters[:-1]) or not self.letter_ok(
                letters[-1], sub):
            return [tok]  # not a product of declared letters: resolving reports the whole run
        return [Token("NAME", c, tok.start_pos + i, tok.line, tok.column + i, tok.line,
                      tok.column + i + 1, tok.start_pos + i + 1) for i, c in enumerate(letters)]

    # --- building, aware of placeholders --------------------------------------------------------

    def unify(self, a, b) -> bool:
        a, b = _spec(a), _spec(b)
        if isinstance(a, _Var):
            if isinstance(b, _Var):
                if a is not b:
                    a.parent = b
                    b.fallback = b.fallback or a.fallback
            else:
                a.dim = b
            return True
        if isinstance(b, _Var):
            b.dim = a
            return True
        return a == b

    def unary(self, at, fn: Callable[[Expr], Expr], x):
        """A shape-preserving function of x (a placeholder stays one)."""
        if isinstance(x, Expr):
            return self.build(at, fn, x)
        return self.finish(_Poly(x.rows, x.cols, x.vars,
                                 thunk=lambda: self.build(at, fn, x.make())))

    def transpose(self, at, x):
        if isinstance(x, Expr):
            return self.build(at, ops.transpose, x)
        if x.maker is not None:  # a placeholder transposed is the placeholder of the other shape
            return _Poly(x.cols, x.rows, x.vars, maker=x.maker)
        return self.finish(_Poly(x.cols, x.rows, x.vars,
                                 thunk=lambda: self.build(at, ops.transpose, x.make())))

    def inverse(self, at, x):
        if _is_scalar_expr(x):
            return self.build(at, ops.power, x, -1)
        if isinstance(x, _Poly) and not self.unify(x.rows, x.cols):
            raise self.shape_error(f"inv needs a square matrix, got {_describe(x)}", at)
        return self.unary(at, ops.inv, x)

    def matmul(self, at, a, b):
        if isinstance(a, Expr) and isinstance(b, Expr):
            return self.build(at, ops.matmul, a, b)
        (ar, ac), (br, bc) = _raw_shape(a), _raw_shape(b)
        if not self.unify(ac, br):
            raise self.shape_error(f"cannot multiply {_describe(a)} by {_describe(b)}: "
                                   f"{_spec(ac)} ≠ {_spec(br)}", at)
        return self.finish(_Poly(ar, bc, _vars(a) + _vars(b),
                                 thunk=lambda: self.build(at, ops.matmul, _make(a), _make(b))))

    def elementwise(self, at, fn, a, b, verb: str):
        """add, sub, Hadamard product, division or scaling, with placeholders sized by the other."""
        if isinstance(a, Expr) and isinstance(b, Expr):
            return self.build(at, fn, a, b)
        if _is_scalar_expr(a):
            rows, cols = b.rows, b.cols
        elif _is_scalar_expr(b):
            rows, cols = a.rows, a.cols
        else:
            out = []
            for axis, (sa, sb) in enumerate(zip(_raw_shape(a), _raw_shape(b))):
                da, db = _spec(sa), _spec(sb)
                if isinstance(da, _Var) or isinstance(db, _Var):
                    self.unify(da, db)
                    out.append(sa)
                elif da == db or db.is_one:
                    out.append(da)
                elif da.is_one:
                    out.append(db)
                else:
                    which = "rows" if axis == 0 else "columns"
                    raise self.shape_error(f"cannot {verb} {_describe(a)} and {_describe(b)}: "
                                           f"{which} {da} ≠ {db}", at)
            rows, cols = out
        return self.finish(_Poly(rows, cols, _vars(a) + _vars(b),
                                 thunk=lambda: self.build(at, fn, _make(a), _make(b))))

    def product(self, at, a, b):
        """Juxtaposition, \\cdot, *: the matrix product, or scaling when one side is 1×1."""
        if _is_scalar_expr(b) and _ones_vector(a, "row") or _is_scalar_expr(a) and _ones_vector(
                b, "col"):  # 1ᵀ c or c 1: c scales the vector, whose size stays open (else 1)
            (a if isinstance(a, _Poly) else b).vars[0].root().fallback = True
            return self.elementwise(at, ops.mul, a, b, "scale")
        if isinstance(b, Expr) and _ones_vector(a, "row"):  # 1ᵀ Z: the column sums
            self.unify(a.cols, b.rows)
            if b.op.name == "sum" and b.get("axis") == 1:
                return self.build(at, ops.sum, b.args[0])
            return self.build(at, ops.sum, b, 0)
        if isinstance(a, Expr) and _ones_vector(b, "col"):  # Z 1: the row sums
            self.unify(b.rows, a.cols)
            if a.op.name == "sum" and a.get("axis") == 0:
                return self.build(at, ops.sum, a.args[0])
            return self.build(at, ops.sum, a, 1)
        if _is_scalar_expr(a) or _is_scalar_expr(b):
            return self.elementwise(at, ops.mul, a, b, "scale")
        return self.matmul(at, a, b)

    def power(self, at, x, p, elementwise: bool):
        if not elementwise and not _is_scalar_expr(x) and _is_square(x):
            raise self.error(
                ParseError, f"^{{{_number_text(p)}}} of the square matrix {_describe(x)} is "
                "ambiguous: write X X for the matrix product, or X \\odot X or X^{\\circ "
                f"{_number_text(p)}}} for the elementwise power", at)
        return self.unary(at, lambda a: ops.power(a, p), x)

    def apply(self, f: Token, v: _Val):
        """A function token applied to a value."""
        name = str(f.value)
        if name == "log" and v.extra is not None and v.extra[0] == "bars":
            inner = v.extra[1]
            if isinstance(inner, Expr) and inner.rows == inner.cols and not inner.is_scalar:
                return self.build(f, ops.logdet, inner)  # log|X| of a square X
        x = self.operand(v)
        if name in _BUILDERS:
            fn = _BUILDERS[name]
        else:  # a user-defined elementwise op
            op = OPS[name]
            fn = lambda a, op=op: Expr.make(op, (a,))
            return self.unary(f, fn, x)
        if name == "inv":
            return self.inverse(f, x)
        if name in _PRESERVING:
            return self.unary(f, fn, x)
        return self.build(f, fn, self.resolved(x))

    def subparse(self, body: str, pos: int) -> Expr:
        """Parse a superscript's body as a formula of its own, keeping its source positions."""
        padded = re.sub(r"[^\n]", " ", self.source[:pos]) + body
        try:
            return _get_parser().parse(padded)
        except UnexpectedInput as exc:
            raise _from_lark(exc, self) from None


def _number_text(p) -> str:
    return str(p) if isinstance(p, int) else repr(p)


_current: ContextVar[_Program] = ContextVar("matcalc_latex_program")


def _suggest(name: str, known) -> str:
    close = difflib.get_close_matches(name, sorted(set(known)), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


# --- the post-lexer -----------------------------------------------------------------------------

class _Buffer:
    """A token stream with look-ahead and push-back."""

    __slots__ = ("_ahead", "_it")

    def __init__(self, it):
        self._it, self._ahead = iter(it), []

    def next(self):
        if self._ahead:
            return self._ahead.pop()
        return next(self._it, None)

    def peek(self):
        if not self._ahead:
            tok = next(self._it, None)
            if tok is None:
                return None
            self._ahead.append(tok)
        return self._ahead[-1]

    def push(self, toks) -> None:
        self._ahead.extend(reversed(toks))


def _retype(type_: str, value: str, tok: Token) -> Token:
    return Token.new_borrow_pos(type_, value, tok)


def _span(type_: str, value: str, first: Token, last: Token) -> Token:
    return Token(type_, value, first.start_pos, first.line, first.column, last.end_line,
                 last.end_column, last.end_pos)


class _PostLexer:
    """Reads LaTeX's commands into the grammar's tokens (see the module docstring)."""

    always_accept = _RAW

    def process(self, stream):
        prog = _current.get()
        return _merge(prog, _classify(prog, stream))


def _classify(prog: _Program, stream):
    """Stage 1: commands, fonts and delimiters."""
    buf = _Buffer(stream)
    stack: list[tuple] = []  # open delimiters: kind, \left-paired, token, text
    last: str | None = None
    seen = False

    def delimiter(d: Token, sizing: str | None, sizer: Token | None) -> Token:
        text = str(d)
        first = sizer if sizer is not None else d
        kind, natural = _DELIMS[text]
        shown = prog.text_of(d) if sizer is None else prog.text_of(sizer) + text
        if sizing == "middle":
            raise prog.error(ParseError, r"\middle is not supported", first)
        if sizer is not None and kind == "{":
            raise prog.error(ParseError, f"{shown} is not a delimiter; write "
                             f"{prog.text_of(sizer)}\\{text}", first)
        if sizing in ("left", "open"):
            side = "open"
        elif sizing in ("right", "close"):
            side = "close"
        else:
            side = natural
        if sizing in ("left", "right") and natural is not None and natural != side:
            raise prog.error(ParseError, f"{shown} faces the wrong way: \\left takes an opening "
                             "delimiter and \\right a closing one", first)
        if side is None:  # a bar: it closes the innermost open bar of its kind after an operand
            side = "close" if (stack and stack[-1][0] == kind and last in _ENDS_OPERAND) else "open"
        paired = sizing in ("left", "right")
        norm = kind == "‖"
        if side == "open":
            stack.append((kind, paired, first, shown))
            return _span("NORM_OPEN" if norm else "OPEN", kind, first, d)
        if not stack:
            raise prog.error(ParseError, f"unmatched {shown}: there is no opening delimiter for "
                             "it to close", first)
        okind, opaired, otok, opened = stack[-1]
        if okind != kind:
            raise prog.error(ParseError, f"{shown} does not match the {opened} at column "
                             f"{otok.column}", first)
        if opaired and not paired:
            raise prog.error(ParseError, f"the {opened} at column {otok.column} must be closed "
                             f"by \\right{_CLOSING_TEXT[kind]}, not {shown}", first)
        if paired and not opaired:
            raise prog.error(ParseError, f"{shown} has no matching \\left (the {opened} at "
                             f"column {otok.column} it would close has none)", first)
        stack.pop()
        return _span("NORM_CLOSE" if norm else "CLOSE", kind, first, d)

    def font(tok: Token, name: str) -> Token | None:
        """A font wrapper: a function word, a placeholder, or its content (pushed back)."""
        nxt = buf.next()
        if nxt is None:
            raise prog.error(ParseError, f"\\{name} needs an argument, as in \\{name}{{x}}", tok)
        if nxt.type == "LBRACE":
            content, depth = [], 1
            while True:
                c = buf.next()
                if c is None:
                    raise prog.error(ParseError, f"missing '}}': the '{{' of \\{name} at column "
                                     f"{nxt.column} is never closed", nxt)
                if c.type == "LBRACE":
                    depth += 1
                elif c.type == "RBRACE":
                    depth -= 1
                    if depth == 0:
                        close = c
                        break
                content.append(c)
            text = prog.source[nxt.end_pos:close.start_pos]
        else:
            content, close, text = [nxt], nxt, prog.text_of(nxt)
        word = re.sub(r"\s+|\\[,;!: ]", "", text.replace("\\_", "_"))
        if not word:
            raise prog.error(ParseError, f"empty \\{name}{{}}", tok)
        if name in _WORD_FONTS and len(word) > 1:
            op = _function_word(word)
            declared = word in prog.symbols
            if op is not None and (name == "operatorname" or not declared):
                return _span("FUNC", op, tok, close)
            if name == "operatorname" and not declared:
                raise prog.error(UnknownNameError, f"unknown operator \\operatorname{{{word}}}"
                                 + _suggest(word, list(_WORDS) + [
                                     k for k, o in OPS.items() if o.extra.get("user")]), tok)
        if word in ("1", "0"):
            return _span("ONES" if word == "1" else "ZEROS", word, tok, close)
        if name == "mathbb" and word == "I" and "I" not in prog.symbols:
            after = buf.peek()  # \mathbb{I}[Z > 0], the indicator matcalc writes
            if after is not None and after.type == "LSQB":
                return _span("ONES", word, tok, close)
        simple = (len(content) in (1, 2) and content[0].type in ("NAME", "CMD")
                  and (len(content) == 1 or content[1].type == "SUBSCRIPT"))
        if simple and content[0].type == "NAME":
            if name in _WORD_FONTS:
                content = [_retype("WORD", str(content[0]), content[0])] + content[1:]
            buf.push(content)
        elif simple and str(content[0])[1:] in _GREEK | {"sigma"}:
            buf.push(content)
        elif nxt.type == "LBRACE":
            buf.push([nxt] + content + [close])  # read it as a braced group
        else:
            buf.push(content)
        return None

    while True:
        tok = buf.next()
        if tok is None:
            break
        t = tok.type
        out: Token | None
        if t in ("NAME", "WORD", "NUMBER", "SUPERSCRIPT", "SUBSCRIPT", "PLUS", "MINUS", "PRIME",
                 "COMMA"):
            out = tok
        elif t in ("LPAR", "RPAR", "LSQB", "RSQB", "LBRACE", "RBRACE", "BAR"):
            out = delimiter(tok, "", None)
        elif t == "STAR":
            out = _retype("MULOP", "dot", tok)
        elif t == "SLASH":
            out = _retype("MULOP", "/", tok)
        elif t in ("GT", "LT"):
            out = _retype("CMP", str(tok), tok)
        elif t == "EQUAL":
            raise prog.error(ParseError, "'=' is not part of a formula: give only the "
                             "right-hand side", tok)
        elif t == "AMP":
            raise prog.error(ParseError, "alignment '&' is not supported: give one formula", tok)
        else:  # CMD
            text = str(tok)
            name = text[1:]
            if name in _SPACING:
                continue
            if name in _SIZING:
                d = buf.next()
                dtext = None if d is None else str(d)
                if dtext == ".":
                    raise prog.error(ParseError, f"{text}. (an invisible delimiter) is not "
                                     "supported", tok)
                if dtext not in _DELIMS:
                    raise prog.error(ParseError, f"{text} must be followed by a delimiter such "
                                     r"as ( [ | \| \{", tok)
                out = delimiter(d, _SIZING[name], tok)
            elif text in _DELIMS:
                out = delimiter(tok, "", None)
            elif name in _FONTS:
                out = font(tok, name)
                if out is None:
                    continue
            elif name == "sigma" and "sigma" not in prog.symbols:
                out = _retype("FUNC", "sigmoid", tok)
            elif name in _GREEK:
                out = _retype("GREEK", name, tok)
            elif name in _FUNC_CMDS:
                out = _retype("FUNC", _FUNC_CMDS[name], tok)
            elif name in _FRACS:
                out = _retype("FRAC", name, tok)
            elif name == "partial":
                out = _retype("PARTIAL", name, tok)
            elif name == "max":
                out = _retype("MAX", name, tok)
            elif name in _MULOPS:
                out = _retype("MULOP", _MULOPS[name], tok)
            elif name in _CMPS:
                out = _retype("CMP", _CMPS[name], tok)
            elif name in ("top", "intercal", "prime"):
                raise prog.error(ParseError, f"{text} must be a superscript, as in W^{text}", tok)
            elif name == "\\":
                raise prog.error(ParseError, r"line breaks (\\) are not supported: give one "
                                 "formula", tok)
            elif name == "_":
                raise prog.error(ParseError, r"\_ may appear only inside a name such as "
                                 r"\mathrm{my\_name}", tok)
            else:
                raise prog.error(ParseError, f"unknown command {text}", tok)
        seen = True
        last = out.type
        yield out
    if stack:
        kind, paired, otok, shown = stack[-1]
        closer = ("\\right" if paired else "") + _CLOSING_TEXT[kind]
        raise prog.error(ParseError, f"missing {closer!r}: the {shown!r} at column {otok.column} "
                         "is never closed", otok)
    if not seen:
        raise ParseError("empty formula: write a LaTeX expression such as W x + b", 1, 1,
                         prog.source)


def _merge(prog: _Program, stream):
    """Stage 2: names split into letters, \\log\\det, indicators, sqrt roots, norm scripts."""
    buf = _Buffer(stream)
    while True:
        tok = buf.next()
        if tok is None:
            return
        t = tok.type
        if t == "NAME":
            nxt = buf.peek()
            yield from prog.split(tok, nxt if nxt is not None and nxt.type == "SUBSCRIPT" else None)
            continue
        if t == "WORD":
            yield _retype("NAME", str(tok), tok)
            continue
        if t == "FUNC":
            nxt = buf.peek()
            if tok.value == "log" and nxt is not None and nxt.type == "FUNC" and nxt.value in (
                    "det", "softmax"):
                buf.next()
                yield _span("FUNC", "logdet" if nxt.value == "det" else "log_softmax", tok, nxt)
                continue
            if tok.value == "sqrt" and nxt is not None and nxt.type == "OPEN" and nxt.value == "[":
                raise prog.error(ParseError, r"\sqrt[n]{…} roots are not supported; use "
                                 r"\sqrt{…} or a power such as x^{1/3}", nxt)
        elif t == "ONES":
            nxt = buf.peek()
            if nxt is not None and nxt.type == "OPEN" and nxt.value == "[":
                tok = _retype("INDICATOR", str(tok), tok)
        elif t == "NORM_CLOSE":
            nxt = buf.peek()
            if nxt is not None and nxt.type == "SUPERSCRIPT":
                sup = buf.next()
                after = buf.peek()
                if after is not None and after.type == "SUBSCRIPT":  # \|x\|^2_2 = \|x\|_2^2
                    yield tok
                    yield buf.next()
                    yield sup
                    continue
                buf.push([sup])
        yield tok


# --- the inline transformer ---------------------------------------------------------------------

def _script_kind(prog: _Program, tok: Token):
    """What a superscript means: ("T",), ("inv",), ("invT",), ("pow", p), ("hpow", p), ("expr",)."""
    raw = str(tok)
    body, offset = _script_body(raw)
    norm = _SCRIPT_FONT.sub(r"\1", body)
    norm = _SCRIPT_FONT_BARE.sub("", norm)
    compact = re.sub(r"\s+", "", norm)
    if compact in _TRANSPOSE:
        return ("T",), body, offset
    if compact == "-1":
        return ("inv",), body, offset
    if compact in _INV_TRANSPOSE:
        return ("invT",), body, offset
    m = _HPOW.fullmatch(compact)
    if m:
        return ("hpow", _number(m.group(1), prog, tok)), body, offset
    if _NUMBER.fullmatch(compact):
        return ("pow", _number(compact, prog, tok)), body, offset
    if compact in ("*", "H", r"\dagger", r"\ast", "+", "-", r"\star"):
        raise prog.error(ParseError, f"unsupported superscript {raw}: use ^\\top, ^{{-1}}, "
                         "^{-\\top} or a numeric exponent such as ^{2}", tok)
    if not compact:
        raise prog.error(ParseError, "empty superscript", tok)
    return ("expr",), body, offset


def _number(text: str, prog: _Program, at) -> int | float:
    try:
        value: int | float = int(text) if re.fullmatch(r"[+-]?[0-9]+", text) else float(text)
        if not math.isfinite(float(value)):
            raise OverflowError
    except (ValueError, OverflowError):
        raise prog.error(ParseError, f"number {text[:30]} is out of range", at) from None
    return value


def _is_zero(v: _Val) -> bool:
    if v.kind == "num":
        return v.value == 0
    return v.kind == "expr" and v.value.op.name == "const" and v.value.get("value") == 0


@v_args(inline=True)
class _Actions(Transformer):
    """Builds Expr nodes as the LALR parser reduces (no tree, no recursion)."""

    def start(self, v: _Val) -> Expr:
        prog = _current.get()
        return prog.resolved(prog.operand(v))

    def add(self, a: _Val, op: Token, b: _Val) -> _Val:
        prog = _current.get()
        return prog.wrap(prog.elementwise(op, ops.add, prog.operand(a), prog.operand(b), "add"),
                         a)

    def sub(self, a: _Val, op: Token, b: _Val) -> _Val:
        prog = _current.get()
        return prog.wrap(prog.elementwise(op, ops.sub, prog.operand(a), prog.operand(b),
                                          "subtract"), a)

    def neg(self, op: Token, v: _Val) -> _Val:
        if v.kind == "num":
            return _Val("num", -v.value, op.line, op.column)
        prog = _current.get()
        return prog.wrap(prog.unary(op, ops.neg, prog.operand(v)), op)

    def pos(self, op: Token, v: _Val) -> _Val:
        if v.kind == "num":
            return _Val("num", v.value, op.line, op.column)
        prog = _current.get()
        return prog.wrap(prog.operand(v), op)

    def juxt(self, a: _Val, b: _Val) -> _Val:
        prog = _current.get()
        return prog.wrap(prog.product(b, prog.operand(a), prog.operand(b)), a)

    def mulop(self, a: _Val, op: Token, b: _Val) -> _Val:
        prog = _current.get()
        x, y = prog.operand(a), prog.operand(b)
        kind = op.value
        if kind == "dot":
            out = prog.product(op, x, y)
        elif kind == "odot":
            out = prog.elementwise(op, ops.mul, x, y, "multiply elementwise")
        elif kind == "/":
            out = prog.elementwise(op, ops.div, x, y, "divide")
        else:  # otimes
            out = prog.build(op, ops.kron, prog.resolved(x), prog.resolved(y))
        return prog.wrap(out, a)

    def sup(self, base: _Val, tok: Token) -> _Val:
        prog = _current.get()
        if base.kind == "barecall":  # \log x^2 is log(x²): the superscript binds to the argument
            f, arg = base.value
            return _Val("barecall", (f, self.sup(arg, tok)), base.line, base.column)
        kind, body, offset = _script_kind(prog, tok)
        name = base.value if base.kind == "name" else None
        if (name is not None and name.base == "e" and name.sub is None and not name.greek
                and "e" not in prog.symbols):  # e^{x}
            power = prog.subparse(body, tok.start_pos + offset)
            return prog.wrap(prog.build(tok, ops.exp, power), base)
        x = prog.operand(base)
        if kind[0] == "T":
            out = prog.transpose(tok, x)
        elif kind[0] == "inv":
            out = prog.inverse(tok, x)
        elif kind[0] == "invT":
            out = prog.transpose(tok, prog.inverse(tok, x))
        else:
            if kind[0] == "expr":
                e = prog.subparse(body, tok.start_pos + offset)
                if e.op.name != "const":
                    raise prog.error(ParseError, f"the exponent {body.strip()} must be a number "
                                     r"(or T, \top, -1, -\top)", tok)
                kind = ("pow", e.get("value"))
            if base.kind == "num" and kind[0] == "pow":
                out = prog.build(tok, ops.power, x, kind[1])
            else:
                out = prog.power(tok, x, kind[1], kind[0] == "hpow")
        return prog.wrap(out, base)

    def prime(self, base: _Val, tok: Token) -> _Val:
        prog = _current.get()
        if base.kind == "barecall":
            f, arg = base.value
            return _Val("barecall", (f, self.prime(arg, tok)), base.line, base.column)
        return prog.wrap(prog.transpose(tok, prog.operand(base)), base)

    def group(self, open_: Token, v: _Val, close: Token) -> _Val:
        prog = _current.get()
        if open_.value == "|":
            inner = prog.operand(v)
            return prog.wrap(prog.unary(open_, ops.abs, inner), open_, ("bars", inner))
        if v.kind == "num":
            return _Val("num", v.value, open_.line, open_.column, ("delim", open_.value))
        return prog.wrap(prog.operand(v), open_, ("delim", open_.value))

    def number(self, tok: Token) -> _Val:
        return _Val("num", _number(str(tok), _current.get(), tok), tok.line, tok.column)

    def _placeholder_sizes(self, prog: _Program, tok: Token, sub: Token | None):
        body, _ = _script_body(str(sub))
        parts = re.split(r"\\times|×|,", body)
        if len(parts) > 2:
            raise prog.error(ParseError, f"{prog.text_of(sub)}: give rows \\times cols", sub)
        dims = [prog.dim_text(p, sub) for p in parts]
        return dims[0], (dims[1] if len(dims) == 2 else None)

    def ones(self, tok: Token, sub: Token | None = None) -> _Val:
        prog = _current.get()
        if sub is None:
            v = _Var(prog.text_of(tok), tok)
            return prog.wrap(_Poly(v, Dim(1), (v,), maker=_ones_maker), tok)
        rows, cols = self._placeholder_sizes(prog, tok, sub)
        return prog.wrap(prog.build(tok, ops.ones, rows, cols if cols is not None else 1), tok)

    def zeros(self, tok: Token, sub: Token | None = None) -> _Val:
        prog = _current.get()
        if sub is None:
            r, c = _Var(prog.text_of(tok), tok), _Var(prog.text_of(tok), tok)
            return prog.wrap(_Poly(r, c, (r, c), maker=_zeros_maker), tok)
        rows, cols = self._placeholder_sizes(prog, tok, sub)
        return prog.wrap(prog.build(tok, ops.zeros, rows, cols if cols is not None else 1), tok)

    def call(self, f: Token, arg: _Val) -> _Val:
        prog = _current.get()
        return prog.wrap(prog.apply(f, arg), f)

    def barecall(self, f: Token, arg: _Val) -> _Val:
        return _Val("barecall", (f, arg), f.line, f.column)

    def frac(self, f: Token, a: _Val, b: _Val) -> _Val:
        prog = _current.get()
        for part in (a, b):
            if part.extra is None or part.extra != ("delim", "{"):
                raise prog.error(ParseError, f"{prog.text_of(f)} takes braced arguments, as in "
                                 r"\frac{a}{b}", part)
        if a.kind == "num" and b.kind == "num":
            if b.value == 0:
                raise prog.error(ParseError, "division by zero", b)
            try:
                value = a.value / b.value
            except OverflowError:
                raise prog.error(ParseError, "number out of range", a) from None
            if isinstance(a.value, int) and isinstance(b.value, int) and a.value % b.value == 0:
                value = a.value // b.value
            return _Val("num", value, f.line, f.column)
        return prog.wrap(prog.elementwise(f, ops.div, prog.operand(a), prog.operand(b),
                                          "divide"), f)

    def gradient(self, f, o1, p1, loss: _Val, c1, o2, p2, of: _Val, c2) -> _Val:
        prog = _current.get()
        if o1.value != "{" or o2.value != "{":
            raise prog.error(ParseError, r"write the gradient as \frac{\partial L}{\partial Y}", f)
        ln, on = loss.value, of.value
        losses = [ln.base] if ln.sub is None else [f"{ln.base}_{ln.sub}", ln.base + ln.sub]
        ofs = [on.base] if on.sub is None else [f"{on.base}_{on.sub}", on.base + on.sub]
        tried = []
        for lname in losses:
            for oname in ofs:
                key = f"d{lname}_d{oname}"
                tried.append(key)
                sym = prog.symbols.get(key)
                if sym is not None:
                    out = prog.build(f, ops.cotangent, oname, sym.rows, sym.cols, lname)
                    return prog.wrap(out, f)
        raise prog.error(UnknownNameError, f"the gradient ∂{ln.text}/∂{on.text} is the symbol "
                         f"{tried[0]!r}; declare it in shapes" + _suggest(tried[0], prog.symbols),
                         f)

    def norm(self, open_: Token, v: _Val, close: Token, sub: Token | None = None) -> _Val:
        prog = _current.get()
        x = prog.resolved(prog.operand(v))
        if sub is not None:
            which = _sub_text(sub)
            if which == "2":
                if not (x.rows.is_one or x.cols.is_one):
                    raise prog.error(ParseError, "the spectral norm ‖X‖_2 of a matrix is not "
                                     "supported; use the Frobenius norm ‖X‖_F", sub)
            elif which not in ("F", "Fro", "fro", "Frobenius"):
                raise prog.error(ParseError, f"unsupported norm {prog.text_of(sub)}: use _2 "
                                 "(vectors) or _F", sub)
        return prog.wrap(prog.build(open_, ops.norm, x), open_)

    def max(self, m: Token, open_: Token, a: _Val, comma: Token, b: _Val, close: Token) -> _Val:
        prog = _current.get()
        if _is_zero(a):
            x = prog.operand(b)
        elif _is_zero(b):
            x = prog.operand(a)
        else:
            raise prog.error(ParseError, r"only \max(0, Z) (ReLU) is supported", m)
        return prog.wrap(prog.unary(m, ops.relu, x), m)

    def indicator(self, ind: Token, open_: Token, a: _Val, cmp: Token, b: _Val, close) -> _Val:
        prog = _current.get()
        if cmp.value not in (">", "<"):
            raise prog.error(ParseError, "only strict comparisons are supported in an indicator: "
                             r"\mathbb{1}[Z > 0]", cmp)
        big, small = (a, b) if cmp.value == ">" else (b, a)
        x = prog.operand(big)
        if not _is_zero(small):
            x = prog.elementwise(cmp, ops.sub, x, prog.operand(small), "compare")
        return prog.wrap(prog.unary(ind, ops.step, x), ind)

    def name_ref(self, tok: Token, sub: Token | None = None) -> _Val:
        prog = _current.get()
        greek = tok.type == "GREEK"
        text = prog.text_of(tok) + ("" if sub is None else prog.text_of(sub))
        name = _Name(str(tok.value), None if sub is None else _sub_text(sub),
                     None if sub is None else _script_body(str(sub))[0], greek, text)
        return _Val("name", name, tok.line, tok.column)


_parser: Lark | None = None


def _get_parser() -> Lark:
    global _parser
    if _parser is None:
        _parser = Lark(GRAMMAR, parser="lalr", lexer="basic", transformer=_Actions(),
                       postlex=_PostLexer())
    return _parser


# --- turning Lark's errors into ParseError ------------------------------------------------------

_CHAR_HINTS = {
    "⊙": r"write \odot", "−": "use the ASCII minus '-'", "×": r"write \times or \cdot",
    "·": r"write \cdot", "‖": r"write \|", "ᵀ": r"write ^\top", "@": "juxtapose: W X",
    "\\": "a backslash must start a command such as \\alpha",
}


def _from_lark(exc: UnexpectedInput, prog: _Program) -> ParseError:
    source = prog.source
    if isinstance(exc, UnexpectedCharacters):
        pos = exc.pos_in_stream
        char = source[pos] if 0 <= pos < len(source) else "?"
        if char == "." and source[:pos].rstrip().endswith(("\\left", "\\right")):
            message = r"\left. and \right. (invisible delimiters) are not supported"
        elif char in "^_":
            rest = source[pos + 1:].lstrip()
            what = "superscript" if char == "^" else "subscript"
            if rest.startswith("{"):
                message = f"missing '}}' in the {what} {char}{{…}} (or it is nested too deeply)"
            else:
                message = f"'{char}' needs a {what}: a letter, a digit, a command or {{…}}"
        else:
            hint = _CHAR_HINTS.get(char)
            message = f"unexpected character {char!r}" + (f": {hint}" if hint else "")
        return ParseError(message, exc.line, exc.column, source)
    if isinstance(exc, UnexpectedToken):
        tok = exc.token
        expected = set(exc.expected)
        if tok.type == "$END":
            line, column = _end_position(source)
            text = "end of input"
        else:
            line, column = tok.line, tok.column
            text = repr(prog.text_of(tok))
        operand = "NAME" in expected
        if "COMMA" in expected and tok.type in ("CLOSE", "$END"):
            message = f"unexpected {text}: \\max takes two arguments, as in \\max(0, Z)"
        elif "CMP" in expected and tok.type in ("CLOSE", "$END"):
            message = f"unexpected {text}: expected a comparison, as in \\mathbb{{1}}[Z > 0]"
        elif expected == {"OPEN"}:
            message = (f"unexpected {text}: expected a braced or parenthesised argument, as in "
                       r"\frac{a}{b} or \max(0, Z)")
        elif tok.type == "CMP":
            message = (f"unexpected {text}: comparisons appear only in an indicator "
                       r"\mathbb{1}[Z > 0]")
        elif tok.type == "COMMA":
            message = r"unexpected ',': a comma appears only in \max(0, Z)"
        elif tok.type == "PARTIAL":
            message = (r"\partial appears only in a gradient symbol such as "
                       r"\frac{\partial L}{\partial Y}")
        elif tok.type == "SUBSCRIPT":
            message = (f"unexpected subscript {text}: a subscript follows a name (W_1), a norm "
                       r"(\|x\|_2), I or \mathbf{1}")
        elif tok.type in ("SUPERSCRIPT", "PRIME"):
            message = f"unexpected {text}: it needs something before it to apply to"
        elif tok.type == "$END":
            message = "unexpected end of input" + ("; expected an expression" if operand else "")
        elif operand:
            message = f"unexpected {text}; expected an expression"
        else:
            message = f"unexpected {text}"
        return ParseError(message, line, column, source)
    line, column = _end_position(source)
    return ParseError(f"syntax error ({exc.__class__.__name__})", line, column, source)


# --- the public API -----------------------------------------------------------------------------

_SYMBOL_CACHE: dict[tuple, dict[str, Expr]] = {}


def _symbols(shapes: Mapping) -> dict[str, Expr]:
    """The declared symbols (cached by the declarations, which repeat from parse to parse)."""
    if not isinstance(shapes, Mapping):
        raise InputError(f"shapes must be a mapping from names to (rows, cols), "
                         f"got {type(shapes).__name__}")
    try:
        key = tuple((name, shape if isinstance(shape, str) else tuple(shape))
                    for name, shape in shapes.items())
        hash(key)
    except TypeError:
        key = None
    cached = _SYMBOL_CACHE.get(key) if key is not None else None
    if cached is not None:
        return cached
    out = declare(shapes)
    if key is not None:
        if len(_SYMBOL_CACHE) >= 64:
            _SYMBOL_CACHE.clear()
        _SYMBOL_CACHE[key] = out
    return out


def parse_latex(source: str, shapes: Mapping) -> Expr:
    r"""Parse a LaTeX formula into an expression; ``shapes`` maps names to (rows, cols).

    >>> parse_latex(r"\frac{1}{2}\|Y - W X\|_F^2", {"W": ("m", "n"), "X": ("n", "B"),
    ...                                            "Y": ("m", "B")})  # doctest: +SKIP
    """
    if not isinstance(source, str):
        raise InputError(f"source must be a str, got {type(source).__name__}")
    program = _Program(source, _symbols(shapes))
    token = _current.set(program)
    try:
        return _get_parser().parse(source)
    except UnexpectedInput as exc:
        raise _from_lark(exc, program) from None
    except VisitError as exc:  # callbacks' errors arrive unwrapped today; stay safe if wrapped
        if isinstance(exc.orig_exc, MatcalcError):
            raise exc.orig_exc from None
        raise
    except RecursionError:
        line, column = _end_position(source)
        raise ParseError("formula is nested too deeply", line, column, source) from None
    finally:
        _current.reset(token)
