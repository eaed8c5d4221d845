"""The op registry's builders. Each module declares its ops' records next to their builders."""

from .arith import add, div, hadamard, matmul, mul, neg, power, sub, transpose, unbroadcast
from .elementwise import abs, exp, log, relu, sigmoid, sign, softplus, sqrt, step, tanh
from .leaves import Matrix, Scalar, Vector, const, cotangent, eye, named, ones, size, zeros
from .linalg import (
    det, diag, inv, kron, kron_contract_left, kron_contract_right, logdet, norm, trace, unvec, vec,
)
from .reductions import log_softmax, logsumexp, mean, softmax, sum

__all__ = [
    "Matrix", "Scalar", "Vector", "abs", "add", "const", "cotangent", "det", "diag", "div", "exp", "eye",
    "hadamard", "inv", "kron", "kron_contract_left", "kron_contract_right", "log", "log_softmax",
    "logdet", "logsumexp", "matmul", "mean", "mul", "named", "neg", "norm", "ones", "power",
    "relu", "sigmoid", "sign", "size", "softmax", "softplus", "sqrt", "step", "sub", "sum",
    "tanh", "trace", "transpose", "unbroadcast", "unvec", "vec", "zeros",
]

from .custom import elementwise  # noqa: E402

__all__ += ["elementwise"]
