"""matcalc: symbolic matrix calculus with shape checking, closed-form gradients and verification."""

from typing import Any

from .codegen import compile, numpy_source  # compile shadows the builtin: it builds a function
from .compare import Comparison, compare
from .diff import grad, hessian, hvp, jacobian, vjp
from .dims import Dim, dim
from .errors import (
    DifferentiationError,
    DimensionBindingError,
    InputError,
    MatcalcError,
    ParseError,
    ShapeError,
    UnknownNameError,
)
from .evaluate import EvaluationError, evaluate, evaluate_many
from .explain import explain
from .expr import OPS, Expr, Op, count_nodes, toposort
from .interop import InteropError, from_sympy, to_sympy
from .ops import (
    Matrix,
    Scalar,
    Vector,
    abs,
    adj,
    const,
    cotangent,
    det,
    diag,
    elementwise,
    exp,
    eye,
    hadamard,
    inv,
    kron,
    log,
    log_softmax,
    logdet,
    logsumexp,
    matmul,
    mean,
    named,
    norm,
    ones,
    power,
    relu,
    restrict,
    sigmoid,
    sign,
    softmax,
    softplus,
    sqrt,
    step,
    sum,
    tanh,
    trace,
    transpose,
    vec,
    zeros,
)
from .printing import latex, latex_gradients, program_text, to_latex, to_text
from .simplify import simplify
from .verify import CheckReport, check, substitute

__version__ = "0.1.0"

# The parsers are loaded on first use: building, differentiating, checking and printing
# expressions need only NumPy and SymPy, and the grammars (Lark) load when text is parsed.
_PARSERS = {"parse": "parsing", "parse_program": "parsing", "parse_latex": "parsing"}


def __getattr__(name: str) -> Any:
    if name in _PARSERS:
        import importlib

        value = getattr(importlib.import_module(f".{_PARSERS[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'matcalc' has no attribute {name!r}")


__all__ = [
    "OPS",
    "CheckReport",
    "Comparison",
    "DifferentiationError",
    "Dim",
    "DimensionBindingError",
    "EvaluationError",
    "Expr",
    "InputError",
    "InteropError",
    "MatcalcError",
    "Matrix",
    "Op",
    "ParseError",
    "Scalar",
    "ShapeError",
    "UnknownNameError",
    "Vector",
    "abs",
    "adj",
    "check",
    "compare",
    "compile",
    "const",
    "cotangent",
    "count_nodes",
    "det",
    "diag",
    "dim",
    "elementwise",
    "evaluate",
    "evaluate_many",
    "exp",
    "explain",
    "eye",
    "from_sympy",
    "grad",
    "hadamard",
    "hessian",
    "hvp",
    "inv",
    "jacobian",
    "kron",
    "latex",
    "latex_gradients",
    "log",
    "log_softmax",
    "logdet",
    "logsumexp",
    "matmul",
    "mean",
    "named",
    "norm",
    "numpy_source",
    "ones",
    "parse",
    "parse_latex",
    "parse_program",
    "power",
    "program_text",
    "relu",
    "restrict",
    "sigmoid",
    "sign",
    "simplify",
    "softmax",
    "softplus",
    "sqrt",
    "step",
    "substitute",
    "sum",
    "tanh",
    "to_latex",
    "to_sympy",
    "to_text",
    "toposort",
    "trace",
    "transpose",
    "vec",
    "vjp",
    "zeros",
]
