r"""The LaTeX front end's command tables.

Two kinds. LaTeX's own notation — spacing, fonts, delimiters and their sizes, fractions,
comparisons, Greek letters, ``\log\det`` — is written here. What names an op comes from the op
records (``Op.latex_in``): an entry starting with a backslash is a command (``\tanh``), any
other a word read inside ``\operatorname{…}``, ``\mathrm{…}`` or ``\text{…}`` (an entry
written ``\operatorname{vec}`` is that word too). A command of a one-operand op is a function;
a command of a two-operand op is an infix operator (``\odot``, ``\otimes``, ``\cdot``). When two
records claim a spelling, the one registered first keeps it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .. import ops
from ..expr import OPERATORS, OPS, Expr, Op
from ..latexnames import GREEK
from .common import builder
from .tables import RegistryCache, broadcasts, keeps_shape, one_operand

__all__ = [
    "ABS",
    "AXIS_WORDS",
    "CLOSING_TEXT",
    "CMPS",
    "COMPOSED",
    "DELIMS",
    "ENDS_OPERAND",
    "EXP",
    "EYE",
    "FONTS",
    "FRACS",
    "GREEK_ALIASES",
    "GREEK_NAMES",
    "INV",
    "LAMBDA_FUNCTION",
    "MATRIX_ENVIRONMENTS",
    "NORM",
    "OF_BARS",
    "ONES",
    "PAIRWISE",
    "RAW",
    "RELU",
    "SIGMA_FUNCTION",
    "SIZING",
    "SPACING",
    "STEP",
    "SUM",
    "SUPERSCRIPT_OPS",
    "WORD_FONTS",
    "ZEROS",
    "Infix",
    "LatexFunction",
    "LatexTables",
    "latex_tables",
]

# --- LaTeX's own notation -------------------------------------------------------------------------

# Terminals the lexer makes that only the post-lexer reads (kept by Lark through always_accept).
RAW = ("CMD", "LBRACE", "RBRACE", "LPAR", "RPAR", "LSQB", "RSQB", "BAR", "STAR", "SLASH", "GT",
       "LT", "EQUAL", "AMP")

SPACING = {",", ";", "!", ":", " ", ">", "\n", "\t", "quad", "qquad", "enspace", "thinspace",
           "medspace", "thickspace", "negthinspace", "negmedspace", "displaystyle",
           "textstyle", "scriptstyle", "limits", "nolimits", "nonumber", "notag"}
FONTS = {"mathbf", "boldsymbol", "bm", "vec", "mathit", "mathrm", "mathsf", "mathnormal",
         "mathbb", "mathcal", "mathbfit", "pmb", "mathtt", "text", "textrm", "textit", "textbf",
         "textsf", "texttt", "textnormal", "operatorname", "bold"}
# fonts whose multi-letter content is one upright word (a name or an operator), never split
WORD_FONTS = {"mathrm", "text", "textrm", "textnormal", "textit", "textbf", "textsf", "texttt",
              "mathsf", "mathtt", "mathit", "operatorname"}
# \left, \right and the fixed sizes: which side each one stands for (None: either)
SIZING: dict[str, str | None] = {
    "left": "left", "right": "right", "middle": "middle",
    **{s + "l": "open" for s in ("big", "Big", "bigg", "Bigg")},
    **{s + "r": "close" for s in ("big", "Big", "bigg", "Bigg")},
    **{s + "m": None for s in ("big", "Big", "bigg", "Bigg")},
    **{s: None for s in ("big", "Big", "bigg", "Bigg")}}
# delimiter spellings: (kind, natural side) — "|" is the absolute value, "‖" the norm
DELIMS: dict[str, tuple[str, str | None]] = {
    "(": ("(", "open"), ")": ("(", "close"), "[": ("[", "open"), "]": ("[", "close"),
    "{": ("{", "open"), "}": ("{", "close"), "|": ("|", None),
    r"\{": (r"\{", "open"), r"\}": (r"\{", "close"), r"\|": ("‖", None),
    r"\vert": ("|", None), r"\lvert": ("|", "open"), r"\rvert": ("|", "close"),
    r"\Vert": ("‖", None), r"\lVert": ("‖", "open"), r"\rVert": ("‖", "close"),
    r"\lbrack": ("[", "open"), r"\rbrack": ("[", "close"),
    r"\lbrace": (r"\{", "open"), r"\rbrace": (r"\{", "close")}
CLOSING_TEXT = {"(": ")", "[": "]", "{": "}", r"\{": r"\}", "|": "|", "‖": r"\|"}

GREEK_NAMES = set(GREEK) | {"ell", "varsigma", "varrho", "varpi", "varkappa", "digamma"}
# Greek names that are Python keywords cannot be declared: \lambda reads lam, lambda_ or lmbda
GREEK_ALIASES = {"lambda": ["lam", "lambda_", "lmbda"]}
FRACS = {"frac", "tfrac", "dfrac", "cfrac"}
CMPS = {"gt": ">", "lt": "<", "geq": ">=", "ge": ">=", "geqslant": ">=", "leq": "<=",
        "le": "<=", "leqslant": "<=", "neq": "!=", "ne": "!="}
# environments of a block matrix
MATRIX_ENVIRONMENTS = {"bmatrix", "pmatrix", "matrix"}
# \max(a, b) and \min(a, b) of two operands are elementwise; \max_{\text{col}} reduces
PAIRWISE = {"max": "maximum", "min": "minimum"}
# a subscript naming the axis of a reduction: \max_{\text{col}}(Z) is the max of each column
AXIS_WORDS = {"col": 0, "row": 1}
# a superscript naming an op: A^{+} is the pseudo-inverse
SUPERSCRIPT_OPS = {"+": "pinv", r"\dagger": "pinv"}
# \sigma(x) is the logistic sigmoid (unless sigma is declared)
SIGMA_FUNCTION = "sigmoid"
# \lambda(S) is the eigenvalues of S (unless lambda is declared)
LAMBDA_FUNCTION = "eigvalsh"
# \log followed by a function is one function: \log\det X, \log\operatorname{softmax}(Z)
COMPOSED = {("log", "det"): "logdet", ("log", "softmax"): "log_softmax"}
# a function of bars |X| that reads as another of X when X is square: \log|X| is log det X
OF_BARS = {"log": "logdet"}

# The ops LaTeX's own notation writes: e^{x}, |X|, \|X\|, \max(0, Z), \mathbb{1}[Z > 0],
# I and I_n, \mathbf{1}, \mathbf{0}, X^{-1}, \mathbf{1}^\top Z
EXP, ABS, NORM, RELU, STEP = (builder(f) for f in (ops.exp, ops.abs, ops.norm, ops.relu, ops.step))
EYE, ONES, ZEROS, INV, SUM = (builder(f) for f in (ops.eye, ops.ones, ops.zeros, ops.inv, ops.sum))

# the tokens after which an operand has ended (so a bar there closes rather than opens)
ENDS_OPERAND = {"NAME", "WORD", "GREEK", "NUMBER", "CLOSE", "NORM_CLOSE", "SUPERSCRIPT",
                "SUBSCRIPT", "PRIME", "ONES", "ZEROS", "MATRIX_CLOSE"}

# --- what the op records spell -------------------------------------------------------------------


@dataclass(frozen=True)
class LatexFunction:
    """An op applied to one operand (its other parameters at their defaults).

    ``keeps`` is what the op's shape rule says about its result: "all" (the argument's shape),
    "square" (that, for square arguments only) or "" (another shape). A placeholder argument of
    a function that keeps its shape stays a placeholder, sized later by its neighbours.
    """

    op: Op
    keeps: str
    fixed: tuple[tuple[str, Any], ...] = ()  # parameters an alias fixes: flipud is flip, axis 0

    def apply(self, x: Expr) -> Expr:
        """The op's node for the operand x."""
        assert self.op.build is not None  # one_operand() admits only ops with a builder
        return self.op.build(x, **dict(self.fixed))


@dataclass(frozen=True)
class Infix:
    """A two-operand op written as an infix command: ``how`` it treats its operands is
    "product" (the matrix product: juxtaposition's meaning, scaling for a 1×1 side),
    "elementwise" (broadcasting: a placeholder takes the other side's shape) or "other"."""

    op: Op
    how: str


@dataclass(frozen=True)
class LatexTables:
    """The LaTeX spellings of the registered ops."""

    functions: dict[str, LatexFunction]  # op name → the op as a function of one operand
    commands: dict[str, str]  # command name (without its backslash) → op name of a function
    words: dict[str, str]  # word inside \operatorname{…} → op name of a function
    infix: dict[str, Infix]  # command name → infix operator
    calls: dict[str, Op]  # word of an op of several operands: \operatorname{where}(M, A, B)


_WRAPPED = re.compile(r"\\(?:operatorname|mathrm|text)\s*\{([^{}]+)\}")
_COMMAND = re.compile(r"\\([A-Za-z]+)")


def _infix(op: Op) -> Infix | None:
    operands = [p for p in op.params if p.kind == "expr"]
    if op.arity != 2 or len(operands) != 2 or op.build is None:
        return None
    if op is OPERATORS.get("@"):
        return Infix(op, "product")
    return Infix(op, "elementwise" if broadcasts(op) else "other")


def _build_tables() -> LatexTables:
    registered = list(OPS.values())
    functions = {op.name: LatexFunction(op, keeps_shape(op)) for op in registered
                 if one_operand(op)}
    for op in registered:  # an alias that fixes parameters is a function of its own
        for alias, fixed in op.aliases.items():
            if op.name in functions:
                functions.setdefault(alias, LatexFunction(op, functions[op.name].keeps,
                                                          tuple(fixed.items())))
    commands: dict[str, str] = {}
    words: dict[str, str] = {}
    infix: dict[str, Infix] = {}
    calls: dict[str, Op] = {}
    for op in registered:
        for spelling in op.latex_in:
            wrapped, command = _WRAPPED.fullmatch(spelling), _COMMAND.fullmatch(spelling)
            if wrapped is not None or not spelling.startswith("\\"):
                word = wrapped.group(1) if wrapped else spelling
                if word in op.aliases and word in functions:
                    words.setdefault(word, word)
                elif op.name in functions:
                    words.setdefault(word, op.name)
                elif op.build is not None:
                    calls.setdefault(word, op)
            elif command is not None and op.name in functions:
                commands.setdefault(command.group(1), op.name)
            elif command is not None:
                as_infix = _infix(op)
                if as_infix is not None:
                    infix.setdefault(command.group(1), as_infix)
    return LatexTables(functions, commands, words, infix, calls)


_TABLES = RegistryCache(_build_tables)


def latex_tables() -> LatexTables:
    """The LaTeX tables for the registry as it is now."""
    return _TABLES.get()
