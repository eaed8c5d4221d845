"""The op records and their builders. Each module declares its ops' records next to their builders.

The modules import one way: _base, leaves, structure, elementwise, reductions, arith, linalg,
custom (a record's rules may use the builders of the modules before it, and reach every op through
Python's operators on expressions).
"""

from ._base import const
from .arith import add, div, hadamard, matmul, mul, neg, power, sub, transpose, unbroadcast
from .custom import elementwise
from .elementwise import abs, exp, log, relu, sigmoid, sign, softplus, sqrt, step, tanh
from .leaves import Matrix, Scalar, Vector, cotangent, eye, named, ones, size, zeros
from .linalg import adj, det, inv, logdet, norm, restrict, trace
from .reductions import log_softmax, logsumexp, mean, softmax, sum
from .structure import commutation, diag, kron, kron_contract_left, kron_contract_right, unvec, vec

__all__ = [
    "Matrix", "Scalar", "Vector", "abs", "add", "adj", "commutation", "const", "cotangent", "det",
    "diag", "div", "elementwise", "exp", "eye", "hadamard", "inv", "kron", "kron_contract_left",
    "kron_contract_right", "log", "log_softmax", "logdet", "logsumexp", "matmul", "mean", "mul",
    "named", "neg", "norm", "ones", "power", "relu", "restrict", "sigmoid", "sign", "size",
    "softmax", "softplus", "sqrt", "step", "sub", "sum", "tanh", "trace", "transpose",
    "unbroadcast", "unvec", "vec", "zeros",
]
