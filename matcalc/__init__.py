"""matcalc: symbolic matrix calculus with shape checking, closed-form gradients and verification."""

from .dims import Dim, dim
from .errors import (
    DifferentiationError, DimensionBindingError, InputError, MatcalcError, ParseError, ShapeError,
    UnknownNameError,
)
from .evaluate import EvaluationError, evaluate, evaluate_many
from .expr import OPS, Expr, Op, count_nodes, toposort
from .ops import (
    Matrix, Scalar, Vector, abs, const, det, diag, exp, eye, hadamard, inv, kron, log,
    log_softmax, logdet, logsumexp, matmul, mean, named, norm, ones, power, relu, sigmoid,
    softmax, softplus, sqrt, step, sign, sum, tanh, trace, transpose, vec, zeros,
)
from .printing import latex, latex_gradients, program_text, to_latex, to_text
from .diff import grad, hessian, hvp, jacobian, vjp
from .ops import cotangent, elementwise
from .simplify import simplify
from .verify import CheckReport, check, substitute
from .interop import InteropError, from_sympy, to_sympy
from .explain import explain
from .codegen import compile, numpy_source  # noqa: A004 - compile(outputs) builds a function
from .export import export
from .objective import objective

__version__ = "0.1.0"

# The parsers are loaded on first use: building, differentiating, checking and printing
# expressions need only NumPy and SymPy, and the grammars (Lark) load when text is parsed.
_PARSERS = {"parse": "textparse", "parse_program": "textparse", "parse_latex": "latex_parse"}


def __getattr__(name: str):
    if name in _PARSERS:
        import importlib

        value = getattr(importlib.import_module(f".{_PARSERS[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'matcalc' has no attribute {name!r}")

__all__ = [
    "Dim", "DifferentiationError", "DimensionBindingError", "EvaluationError", "Expr",
    "InputError", "MatcalcError", "Matrix", "OPS", "Op", "ParseError", "Scalar", "ShapeError",
    "UnknownNameError", "Vector", "abs", "const", "count_nodes", "det", "diag", "dim", "evaluate",
    "evaluate_many", "exp", "eye", "hadamard", "inv", "kron", "log", "log_softmax", "logdet",
    "logsumexp", "matmul", "mean", "named", "norm", "ones", "power", "program_text", "relu",
    "sigmoid", "sign", "softmax", "softplus", "sqrt", "step", "sum", "tanh", "to_latex",
    "to_text", "toposort", "trace", "transpose", "vec", "zeros",
    "latex", "latex_gradients", "parse", "parse_program", "parse_latex", "to_sympy",
    "from_sympy", "InteropError", "explain", "compile", "numpy_source", "CheckReport", "check", "substitute", "grad", "hessian", "hvp", "jacobian", "vjp", "cotangent", "elementwise", "simplify",
    "export", "objective",
]
