"""Every registered op: its shape rule, its rejections and its NumPy value.

The table below has one row per op in ``matcalc.OPS``; a test fails when an op is registered
without a row, so every new op arrives with its shape, error and value checks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import scipy.linalg
import scipy.special
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st
from ops_util import builtin_ops

import matcalc as mc
from matcalc import Dim, InputError, ShapeError, dim, evaluate
from matcalc.ops import (
    cotangent,
    kron_contract_left,
    kron_contract_right,
    neg,
    size,
    unvec,
)

try:
    from matcalc.ops import commutation
except ImportError:  # the helper lives beside the Jacobian rules
    from matcalc.ops import commutation

# --- symbols and their values at concrete sizes ------------------------------------------------

DIMS = {"m": 3, "n": 4, "B": 5, "k": 6, "p": 2, "q": 3}

W = mc.Matrix("W", "m", "n")  # m×n
V = mc.Matrix("V", "n", "m")  # n×m (the transpose shape of W)
X = mc.Matrix("X", "n", "B")  # n×B
Y = mc.Matrix("Y", "k", "B")  # k×B, does not fit W @ Y
U = mc.Matrix("U", "m", "n")  # a second m×n
Pos = mc.Matrix("Pos", "m", "n")  # positive entries (log, sqrt, divisors)
Unit = mc.Matrix("Unit", "m", "n")  # entries inside (-1, 1): arcsin, arccos, arctanh
b = mc.Vector("b", "m")  # m×1
r = mc.Matrix("r", 1, "n")  # 1×n
v = mc.Vector("v", "n")  # n×1
s = mc.Scalar("s")  # 1×1
S = mc.Matrix("S", "n", "n")  # well-conditioned square
Spd = mc.Matrix("Spd", "n", "n")  # symmetric positive definite
P = mc.Matrix("P", "p", "q")  # p×q
G = mc.Matrix("G", "m*p", "n*q")  # the shape of kron(W, P)
u = mc.Vector("u", "m*n")  # the shape of vec(W)

_rng = np.random.default_rng(20240601)


def _away_from_zero(shape):
    x = _rng.normal(size=shape)
    return np.where(np.abs(x) < 0.1, 0.1 * np.sign(x) + x, x)


_spd_root = _rng.normal(size=(4, 4))
VALUES: dict[str, np.ndarray] = {
    "W": _away_from_zero((3, 4)),
    "V": _rng.normal(size=(4, 3)),
    "X": _rng.normal(size=(4, 5)),
    "Y": _rng.normal(size=(6, 5)),
    "U": _rng.normal(size=(3, 4)),
    "Pos": _rng.uniform(0.5, 2.0, size=(3, 4)),
    "Unit": _rng.uniform(-0.9, 0.9, size=(3, 4)),
    "b": _rng.normal(size=(3, 1)),
    "r": _rng.normal(size=(1, 4)),
    "rB": _rng.normal(size=(1, 5)),
    "v": _rng.normal(size=(4, 1)),
    "s": np.array([[1.7]]),
    "S": _rng.normal(size=(4, 4)) + 4 * np.eye(4),
    "Spd": _spd_root @ _spd_root.T + 4 * np.eye(4),
    "P": _rng.normal(size=(2, 3)),
    "G": _rng.normal(size=(6, 12)),
    "W34": _rng.normal(size=(3, 4)),
    "u": _rng.normal(size=(12, 1)),
}


def ev(expr: mc.Expr) -> np.ndarray:
    return evaluate(expr, VALUES, dims=DIMS)


def shape_of(*dims) -> tuple[Dim, Dim]:
    return (dim(dims[0]), dim(dims[1]))


# --- direct NumPy references -------------------------------------------------------------------

def _signed_eigenvectors(a):
    """numpy's eigenvectors, each signed so that its largest entry is positive."""
    v = np.linalg.eigh(a)[1]
    return v * np.sign(v[np.argmax(np.abs(v), axis=0), np.arange(v.shape[1])])


def np_logsumexp(a, axis=None):
    ax = (0, 1) if axis is None else axis
    m = np.max(a, axis=ax, keepdims=True)
    return m + np.log(np.sum(np.exp(a - m), axis=ax, keepdims=True))


def np_softmax(a, axis):
    e = np.exp(a - np.max(a, axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def np_kron_contract_left(g, bm, rows, cols):
    """C_ij = Σ_kl G[i·rb + k, j·cb + l] B_kl, by loops."""
    rb, cb = bm.shape
    out = np.zeros((rows, cols))
    for i in range(rows):
        for j in range(cols):
            out[i, j] = np.sum(g[i * rb:(i + 1) * rb, j * cb:(j + 1) * cb] * bm)
    return out


def np_kron_contract_right(g, am, rows, cols):
    """C_kl = Σ_ij G[i·rows + k, j·cols + l] A_ij, by loops."""
    ra, ca = am.shape
    out = np.zeros((rows, cols))
    for i in range(ra):
        for j in range(ca):
            out += am[i, j] * g[i * rows:(i + 1) * rows, j * cols:(j + 1) * cols]
    return out


# --- the table ---------------------------------------------------------------------------------

Reject = tuple[Callable[[], Any], type, tuple[str, ...]]


@dataclass
class Row:
    build: Callable[[], mc.Expr]  # an accepted case
    shape: tuple[Any, Any]  # its expected symbolic shape (user spelling)
    rejects: list[Reject]  # (call, error type, substrings of the message)
    ref: Callable[[dict], np.ndarray]  # the NumPy value of build() at VALUES, DIMS
    reject_bug: str | None = None  # a known defect in the rejection (test marked xfail)


def _not_square(opname):
    fn = getattr(mc, opname)
    return [(lambda: fn(W), ShapeError, (opname, "W (m×n)", "m ≠ n"))]


def _bad_operand(opname, fn):
    return [
        (lambda: fn(np.ones((2, 2))), InputError, (opname, "ndarray")),
        (lambda: fn("W"), InputError, (opname, "str")),
        (lambda: fn(None), InputError, (opname, "NoneType")),
    ]


def _elementwise(opname, ref, arg=None):
    fn = getattr(mc, opname)
    arg = W if arg is None else arg
    return Row(build=lambda: fn(arg), shape=("m", "n"), rejects=_bad_operand(opname, fn),
               ref=lambda V_: ref(V_[arg.name]))


TABLE: dict[str, Row] = {
    # leaves
    "symbol": Row(
        build=lambda: mc.Matrix("W", "m", "n"), shape=("m", "n"),
        rejects=[(lambda: mc.Matrix("W", 0, "n"), InputError, ("dimension", "0")),
                 (lambda: mc.Matrix("1W", "m", "n"), InputError, ("'1W'",))],
        ref=lambda V_: V_["W"]),
    "const": Row(
        build=lambda: mc.const(2.5), shape=(1, 1),
        rejects=[(lambda: mc.const(float("nan")), InputError, ("constant", "finite", "nan")),
                 (lambda: mc.const("2"), InputError, ("constant", "'2'"))],
        ref=lambda V_: np.array([[2.5]])),
    "eye": Row(
        build=lambda: mc.eye("n"), shape=("n", "n"),
        rejects=[(lambda: mc.eye(0), InputError, ("dimension", "0"))],
        ref=lambda V_: np.eye(4)),
    "ones": Row(
        build=lambda: mc.ones("m", "n"), shape=("m", "n"),
        rejects=[(lambda: mc.ones("m", -1), InputError, ("dimension", "-1"))],
        ref=lambda V_: np.ones((3, 4))),
    "zeros": Row(
        build=lambda: mc.zeros("m", "n"), shape=("m", "n"),
        rejects=[(lambda: mc.zeros("m n", 1), InputError, ("dimension", "'m n'"))],
        ref=lambda V_: np.zeros((3, 4))),
    "commutation": Row(
        build=lambda: commutation(dim("m"), dim("n")), shape=("m*n", "m*n"),
        rejects=[(lambda: commutation("m n", "n"), InputError, ("dimension", "'m n'")),
                 (lambda: commutation(0, 3), InputError, ("dimension", "0"))],
        ref=lambda V_: np.array([[1.0 if (j % 3) * 4 + j // 3 == i else 0.0 for j in range(12)]
                                 for i in range(12)])),
    "size": Row(
        build=lambda: size("m*n"), shape=(1, 1),
        rejects=[(lambda: size(0), InputError, ("dimension", "0"))],
        ref=lambda V_: np.array([[12.0]])),
    "named": Row(
        build=lambda: mc.named("H", W @ X), shape=("m", "B"),
        rejects=[(lambda: mc.named("1H", W), InputError, ("intermediate", "'1H'")),
                 (lambda: mc.named("H", np.ones(2)), InputError, ("named", "ndarray"))],
        ref=lambda V_: V_["W"] @ V_["X"]),
    # arithmetic
    "add": Row(
        build=lambda: W + U, shape=("m", "n"),
        rejects=[(lambda: W + V, ShapeError, ("add", "W (m×n)", "V (n×m)", "m ≠ n")),
                 (lambda: W + np.ones((3, 4)), InputError, ("add", "ndarray"))],
        ref=lambda V_: V_["W"] + V_["U"]),
    "sub": Row(
        build=lambda: W - U, shape=("m", "n"),
        rejects=[(lambda: W - V, ShapeError, ("subtract", "W (m×n)", "V (n×m)", "m ≠ n")),
                 (lambda: W - "U", InputError, ("subtract", "str"))],
        ref=lambda V_: V_["W"] - V_["U"]),
    "mul": Row(
        build=lambda: W * U, shape=("m", "n"),
        rejects=[(lambda: W * V, ShapeError, ("multiply", "W (m×n)", "V (n×m)", "m ≠ n")),
                 (lambda: W * None, InputError, ("multiply", "NoneType"))],
        ref=lambda V_: V_["W"] * V_["U"]),
    "div": Row(
        build=lambda: W / Pos, shape=("m", "n"),
        rejects=[(lambda: W / V, ShapeError, ("divide", "W (m×n)", "V (n×m)", "m ≠ n")),
                 (lambda: W / True, InputError, ("divide", "True"))],
        ref=lambda V_: V_["W"] / V_["Pos"]),
    "pow": Row(
        build=lambda: W ** 3, shape=("m", "n"),
        rejects=[(lambda: W ** "2", InputError, ("power", "exponent", "'2'")),
                 (lambda: W ** float("nan"), InputError, ("power", "finite"))],
        ref=lambda V_: V_["W"] ** 3),
    "neg": Row(
        build=lambda: -W, shape=("m", "n"),
        rejects=[(lambda: neg("W"), InputError, ("negate", "str"))],
        ref=lambda V_: -V_["W"]),
    "matmul": Row(
        build=lambda: W @ X, shape=("m", "B"),
        rejects=[(lambda: W @ Y, ShapeError,
                  ("cannot multiply W (m×n) by Y (k×B): n ≠ k",)),
                 (lambda: W @ np.ones((4, 2)), InputError, ("matmul", "ndarray"))],
        ref=lambda V_: V_["W"] @ V_["X"]),
    "transpose": Row(
        build=lambda: W.T, shape=("n", "m"),
        rejects=[(lambda: mc.transpose(None), InputError, ("transpose", "NoneType"))],
        ref=lambda V_: V_["W"].T),
    # elementwise functions
    "relu": _elementwise("relu", lambda a: np.maximum(a, 0.0)),
    "sigmoid": _elementwise("sigmoid", lambda a: 1.0 / (1.0 + np.exp(-a))),
    "tanh": _elementwise("tanh", np.tanh),
    "exp": _elementwise("exp", np.exp),
    "log": _elementwise("log", np.log, Pos),
    "sqrt": _elementwise("sqrt", np.sqrt, Pos),
    "abs": _elementwise("abs", np.abs),
    "softplus": _elementwise("softplus", lambda a: np.log1p(np.exp(a))),
    "step": _elementwise("step", lambda a: (a > 0).astype(float)),
    "sign": _elementwise("sign", np.sign),
    # linear algebra
    "trace": Row(build=lambda: mc.trace(S), shape=(1, 1), rejects=_not_square("trace"),
                 ref=lambda V_: np.array([[np.trace(V_["S"])]])),
    "det": Row(build=lambda: mc.det(S), shape=(1, 1), rejects=_not_square("det"),
               ref=lambda V_: np.array([[np.linalg.det(V_["S"])]])),
    "logdet": Row(build=lambda: mc.logdet(Spd), shape=(1, 1), rejects=_not_square("logdet"),
                  ref=lambda V_: np.array([[np.linalg.slogdet(V_["Spd"])[1]]])),
    "inv": Row(build=lambda: mc.inv(S), shape=("n", "n"), rejects=_not_square("inv"),
               ref=lambda V_: np.linalg.inv(V_["S"])),
    "restrict": Row(build=lambda: mc.restrict(W, mc.logdet(Spd)), shape=("m", "n"),
                    rejects=_bad_operand("restrict", lambda a: mc.restrict(a, W)),
                    ref=lambda V_: V_["W"]),
    "adj": Row(build=lambda: mc.adj(S), shape=("n", "n"), rejects=_not_square("adj"),
               ref=lambda V_: np.linalg.det(V_["S"]) * np.linalg.inv(V_["S"])),
    "norm": Row(build=lambda: mc.norm(W), shape=(1, 1), rejects=_bad_operand("norm", mc.norm),
                ref=lambda V_: np.array([[np.sqrt(np.sum(V_["W"] ** 2))]])),
    "diag": Row(
        build=lambda: mc.diag(v), shape=("n", "n"),
        rejects=[(lambda: mc.diag(W), ShapeError, ("diag", "W (m×n)")),
                 (lambda: mc.diag(r), ShapeError, ("diag", "r (1×n)"))],
        ref=lambda V_: np.diag(V_["v"][:, 0])),
    "kron": Row(
        build=lambda: mc.kron(W, P), shape=("m*p", "n*q"),
        rejects=_bad_operand("kron", lambda a: mc.kron(W, a)),
        ref=lambda V_: np.kron(V_["W"], V_["P"])),
    "kron_contract_left": Row(
        build=lambda: kron_contract_left(G, P, W.shape), shape=("m", "n"),
        rejects=[(lambda: kron_contract_left(W, P, W.shape), ShapeError,
                  ("kron_contract_left", "W (m×n)", "P (p×q)"))],
        ref=lambda V_: np_kron_contract_left(V_["G"], V_["P"], 3, 4)),
    "kron_contract_right": Row(
        build=lambda: kron_contract_right(G, W, P.shape), shape=("p", "q"),
        rejects=[(lambda: kron_contract_right(X, W, P.shape), ShapeError,
                  ("kron_contract_right", "X (n×B)", "W (m×n)"))],
        ref=lambda V_: np_kron_contract_right(V_["G"], V_["W"], 2, 3)),
    "vec": Row(
        build=lambda: mc.vec(W), shape=("m*n", 1),
        rejects=_bad_operand("vec", mc.vec),
        ref=lambda V_: V_["W"].reshape(-1, 1, order="F")),
    "unvec": Row(
        build=lambda: unvec(u, "m", "n"), shape=("m", "n"),
        rejects=[(lambda: unvec(W, "m", "n"), ShapeError, ("unvec", "W (m×n)")),
                 (lambda: unvec(u, "n", "k"), ShapeError, ("unvec", "u (", "m·n", "n·k"))],
        ref=lambda V_: V_["u"].reshape(3, 4, order="F")),
    # reductions and normalisers
    "sum": Row(build=lambda: mc.sum(W), shape=(1, 1),
               rejects=[(lambda: mc.sum(W, axis=2), InputError, ("sum", "axis", "2"))],
               ref=lambda V_: np.array([[V_["W"].sum()]])),
    "mean": Row(build=lambda: mc.mean(W), shape=(1, 1),
                rejects=[(lambda: mc.mean(W, axis=-1), InputError, ("mean", "axis", "-1"))],
                ref=lambda V_: np.array([[V_["W"].mean()]])),
    "logsumexp": Row(build=lambda: mc.logsumexp(W), shape=(1, 1),
                     rejects=[(lambda: mc.logsumexp(W, axis="0"), InputError,
                               ("logsumexp", "axis", "'0'"))],
                     ref=lambda V_: np.array([[np.log(np.sum(np.exp(V_["W"])))]])),
    "softmax": Row(build=lambda: mc.softmax(W), shape=("m", "n"),
                   rejects=[(lambda: mc.softmax(W, axis=None), InputError,
                             ("softmax", "axis", "None"))],
                   ref=lambda V_: np.exp(V_["W"]) / np.exp(V_["W"]).sum(axis=0, keepdims=True)),
    "log_softmax": Row(build=lambda: mc.log_softmax(W, axis=1), shape=("m", "n"),
                       rejects=[(lambda: mc.log_softmax(W, axis=None), InputError,
                                 ("log_softmax", "axis", "None"))],
                       ref=lambda V_: V_["W"] - np.log(np.exp(V_["W"]).sum(axis=1, keepdims=True))),
    # parts and blocks
    "slice": Row(
        build=lambda: W[1:, 0:2], shape=("m - 1", 2),
        rejects=[(lambda: W[2:2, :], ShapeError, ("rows 2:2", "W (m×n)")),
                 (lambda: W[0:3:2, :], InputError, ("steps",)),
                 (lambda: W[1.5, :], InputError, ("index", "1.5"))],
        ref=lambda V_: V_["W"][1:, 0:2]),
    "embed": Row(
        build=lambda: mc.embed(W, "m + 2", "n + 1", 1, 1), shape=("m + 2", "n + 1"),
        rejects=[(lambda: mc.embed(W, "m", "n", 1, 0), ShapeError, ("embed", "W (m×n)")),
                 (lambda: mc.embed(W, "m", "n", -1, 0), InputError, ("embed", "r0"))],
        ref=lambda V_: np.pad(V_["W"], ((1, 1), (1, 0)))),
    "concat": Row(
        build=lambda: mc.vstack(mc.hstack(W, b), mc.hstack(U, b)), shape=("2*m", "n + 1"),
        rejects=[(lambda: mc.hstack(W, X), ShapeError, ("hstack", "W (m×n)", "X (n×B)", "m ≠ n")),
                 (lambda: mc.vstack(W, X), ShapeError, ("vstack", "columns n ≠ B")),
                 (lambda: mc.concat(W, U, axis=2), InputError, ("concat", "axis"))],
        ref=lambda V_: np.block([[V_["W"], V_["b"]], [V_["U"], V_["b"]]])),
    "triu": Row(build=lambda: mc.triu(W, k=1), shape=("m", "n"),
                rejects=[(lambda: mc.triu(W, k=0.5), InputError, ("triu", "integer"))],
                ref=lambda V_: np.triu(V_["W"], 1)),
    "tril": Row(build=lambda: mc.tril(S), shape=("n", "n"),
                rejects=[(lambda: mc.tril(W, k="1"), InputError, ("tril", "integer"))],
                ref=lambda V_: np.tril(V_["S"])),
    "flip": Row(build=lambda: mc.flip(W, axis=1), shape=("m", "n"),
                rejects=[(lambda: mc.flip(W, axis=2), InputError, ("flip", "axis"))],
                ref=lambda V_: V_["W"][:, ::-1]),
    # trigonometric, hyperbolic and smooth activations
    "sin": _elementwise("sin", np.sin),
    "cos": _elementwise("cos", np.cos),
    "tan": _elementwise("tan", np.tan),
    "arcsin": _elementwise("arcsin", np.arcsin, Unit),
    "arccos": _elementwise("arccos", np.arccos, Unit),
    "arctan": _elementwise("arctan", np.arctan),
    "sinh": _elementwise("sinh", np.sinh),
    "cosh": _elementwise("cosh", np.cosh),
    "arcsinh": _elementwise("arcsinh", np.arcsinh),
    "arctanh": _elementwise("arctanh", np.arctanh, Unit),
    "erf": _elementwise("erf", scipy.special.erf),
    "gelu": _elementwise("gelu", lambda a: a * scipy.stats.norm.cdf(a)),
    "silu": _elementwise("silu", lambda a: a / (1 + np.exp(-a))),
    "log1p": _elementwise("log1p", np.log1p, Pos),
    "expm1": _elementwise("expm1", np.expm1),
    "leaky_relu": Row(build=lambda: mc.leaky_relu(W, 0.2), shape=("m", "n"),
                      rejects=[(lambda: mc.leaky_relu(W, "a"), InputError, ("alpha", "'a'"))],
                      ref=lambda V_: np.where(V_["W"] > 0, V_["W"], 0.2 * V_["W"])),
    "elu": Row(build=lambda: mc.elu(W), shape=("m", "n"),
               rejects=[(lambda: mc.elu(W, None), InputError, ("alpha", "None"))],
               ref=lambda V_: np.where(V_["W"] > 0, V_["W"], np.expm1(V_["W"]))),
    "pow_var": Row(build=lambda: Pos ** W, shape=("m", "n"),
                   rejects=[(lambda: Pos ** V, ShapeError, ("raise to a power", "m ≠ n"))],
                   ref=lambda V_: V_["Pos"] ** V_["W"]),
    # selections
    "greater": Row(build=lambda: W > U, shape=("m", "n"),
                   rejects=[(lambda: W > V, ShapeError, ("compare", "W (m×n)", "V (n×m)"))],
                   ref=lambda V_: (V_["W"] > V_["U"]).astype(float)),
    "greater_equal": Row(build=lambda: W >= b, shape=("m", "n"),
                         rejects=[(lambda: W >= v, ShapeError, ("compare",))],
                         ref=lambda V_: (V_["W"] >= V_["b"]).astype(float)),
    "less": Row(build=lambda: W < 0.5, shape=("m", "n"),
                rejects=[(lambda: W < "x", InputError, ("less", "str"))],
                ref=lambda V_: (V_["W"] < 0.5).astype(float)),
    "less_equal": Row(build=lambda: W <= U, shape=("m", "n"),
                      rejects=[(lambda: W <= X, ShapeError, ("compare",))],
                      ref=lambda V_: (V_["W"] <= V_["U"]).astype(float)),
    # W ties with its clip only where |W| <= 0.5: a kernel computing >= or <= gives other masks
    "equal": Row(build=lambda: mc.equal(W, mc.clip(W, -0.5, 0.5)), shape=("m", "n"),
                 rejects=[(lambda: mc.equal(W, X), ShapeError, ("compare",))],
                 ref=lambda V_: (np.abs(V_["W"]) <= 0.5).astype(float)),
    "not_equal": Row(build=lambda: mc.not_equal(W, mc.clip(W, -0.5, 0.5)), shape=("m", "n"),
                     rejects=[(lambda: mc.not_equal(W, None), InputError, ("not_equal",))],
                     ref=lambda V_: (np.abs(V_["W"]) > 0.5).astype(float)),
    "where": Row(build=lambda: mc.where(W > 0, W, r), shape=("m", "n"),
                 rejects=[(lambda: mc.where(W > 0, W, X), ShapeError, ("where",))],
                 ref=lambda V_: np.where(V_["W"] > 0, V_["W"], V_["r"])),
    "maximum": Row(build=lambda: mc.maximum(W, b), shape=("m", "n"),
                   rejects=[(lambda: mc.maximum(W, v), ShapeError, ("maximum", "W (m×n)"))],
                   ref=lambda V_: np.maximum(V_["W"], V_["b"])),
    "minimum": Row(build=lambda: mc.minimum(W, 0), shape=("m", "n"),
                   rejects=[(lambda: mc.minimum(W, X), ShapeError, ("minimum",))],
                   ref=lambda V_: np.minimum(V_["W"], 0)),
    "clip": Row(build=lambda: mc.clip(W, -0.5, s), shape=("m", "n"),
                rejects=[(lambda: mc.clip(s, W, 1), ShapeError, ("clip", "larger"))],
                ref=lambda V_: np.clip(V_["W"], -0.5, 1.7)),
    "max": Row(build=lambda: mc.max(W, axis=0), shape=(1, "n"),
               rejects=[(lambda: mc.max(W, axis=2), InputError, ("max", "axis"))],
               ref=lambda V_: V_["W"].max(axis=0, keepdims=True)),
    "min": Row(build=lambda: mc.min(W, axis=1), shape=("m", 1),
               rejects=[(lambda: mc.min(W, axis="0"), InputError, ("min", "axis"))],
               ref=lambda V_: V_["W"].min(axis=1, keepdims=True)),
    "prod": Row(build=lambda: mc.prod(W), shape=(1, 1),
                rejects=[(lambda: mc.prod(W, axis=-1), InputError, ("prod", "axis"))],
                ref=lambda V_: np.array([[V_["W"].prod()]])),
    "var": Row(build=lambda: mc.var(W, axis=1, ddof=1), shape=("m", 1),
               rejects=[(lambda: mc.var(mc.Matrix("one", 1, 1), ddof=1), ShapeError,
                         ("var", "ddof=1", "degrees of freedom"))],
               ref=lambda V_: V_["W"].var(axis=1, ddof=1, keepdims=True)),
    "std": Row(build=lambda: mc.std(W), shape=(1, 1),
               rejects=[(lambda: mc.std(W, ddof=0.5), InputError, ("std", "ddof"))],
               ref=lambda V_: np.array([[V_["W"].std()]])),
    "cumsum": Row(build=lambda: mc.cumsum(W, axis=1), shape=("m", "n"),
                  rejects=[(lambda: mc.cumsum(W, axis=None), InputError, ("cumsum", "axis"))],
                  ref=lambda V_: np.cumsum(V_["W"], axis=1)),
    # solves and decompositions
    "solve": Row(build=lambda: mc.solve(S, X), shape=("n", "B"), rejects=[
        (lambda: mc.solve(W, X), ShapeError, ("solve", "square", "W (m×n)")),
        (lambda: mc.solve(S, W), ShapeError, ("solve", "S (n×n)", "W (m×n)", "n ≠ m"))],
        ref=lambda V_: np.linalg.solve(V_["S"], V_["X"])),
    "solve_triangular": Row(
        build=lambda: mc.solve_triangular(S, v, lower=False), shape=("n", 1),
        rejects=[(lambda: mc.solve_triangular(S, v, lower="yes"), InputError, ("lower",))],
        ref=lambda V_: np.linalg.solve(np.triu(V_["S"]), V_["v"])),
    "cholesky": Row(build=lambda: mc.cholesky(Spd), shape=("n", "n"),
                    rejects=_not_square("cholesky"),
                    ref=lambda V_: np.linalg.cholesky(V_["Spd"])),
    "eigvalsh": Row(build=lambda: mc.eigvalsh(Spd), shape=("n", 1),
                    rejects=_not_square("eigvalsh"),
                    ref=lambda V_: np.linalg.eigvalsh(V_["Spd"]).reshape(-1, 1)),
    "eigvecsh": Row(build=lambda: mc.eigvecsh(Spd), shape=("n", "n"),
                    rejects=_not_square("eigvecsh"),
                    ref=lambda V_: _signed_eigenvectors(V_["Spd"])),
    "svdvals": Row(build=lambda: mc.svdvals(mc.Matrix("W34", 3, 4)), shape=(3, 1),
                   rejects=[(lambda: mc.svdvals(W), ShapeError, ("svdvals", "min(m, n)"))],
                   ref=lambda V_: np.linalg.svd(V_["W34"], compute_uv=False).reshape(-1, 1)),
    "pinv": Row(build=lambda: mc.pinv(W), shape=("n", "m"),
                rejects=_bad_operand("pinv", mc.pinv),
                ref=lambda V_: np.linalg.pinv(V_["W"])),
    "expm": Row(build=lambda: mc.expm(S), shape=("n", "n"), rejects=_not_square("expm"),
                ref=lambda V_: scipy.linalg.expm(V_["S"])),
    "matrix_power": Row(build=lambda: mc.matrix_power(S, 3), shape=("n", "n"),
                        rejects=[(lambda: mc.matrix_power(S, 1.5), InputError,
                                  ("matrix_power", "integer")),
                                 (lambda: mc.matrix_power(W, 2), ShapeError,
                                  ("matrix_power", "square", "W (m×n)"))],
                        ref=lambda V_: np.linalg.matrix_power(V_["S"], 3)),
    "logabsdet": Row(build=lambda: mc.logabsdet(S), shape=(1, 1), rejects=_not_square("logabsdet"),
                     ref=lambda V_: np.array([[np.linalg.slogdet(V_["S"])[1]]])),
    "vector_norm": Row(build=lambda: mc.norm(W, ord=1, axis=0), shape=(1, "n"),
                       rejects=[(lambda: mc.norm(v, ord="nuc"), InputError, ("norm", "matrices")),
                                (lambda: mc.norm(v, ord=0.5), InputError, ("norm", "ord"))],
                       ref=lambda V_: np.abs(V_["W"]).sum(axis=0, keepdims=True)),
    "matrix_norm": Row(build=lambda: mc.norm(S, ord="nuc"), shape=(1, 1),
                       rejects=[(lambda: mc.norm(W, ord=3), InputError, ("norm", "not supported")),
                                (lambda: mc.norm(W, ord=2), ShapeError, ("svdvals", "min(m, n)"))],
                       ref=lambda V_: np.array([[np.linalg.norm(V_["S"], "nuc")]])),
}


def test_every_registered_op_has_a_row():
    missing = sorted(builtin_ops() - set(TABLE))
    assert not missing, f"registered ops without a row in TABLE: {missing}"


def test_every_row_is_a_registered_op():
    stale = sorted(set(TABLE) - set(mc.OPS))
    assert not stale, f"rows for ops that are not registered: {stale}"


@pytest.mark.parametrize("opname", sorted(TABLE))
def test_accepted_shape(opname):
    row = TABLE[opname]
    e = row.build()
    assert isinstance(e, mc.Expr)
    assert e.op is mc.OPS[opname]
    assert e.shape == shape_of(*row.shape)


@pytest.mark.parametrize("opname", [
    pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=row.reject_bug))
    if row.reject_bug else name
    for name, row in sorted(TABLE.items())
])
def test_rejected(opname):
    row = TABLE[opname]
    assert row.rejects, f"{opname} needs at least one rejected case"
    for call, err, substrings in row.rejects:
        with pytest.raises(err) as info:
            call()
        message = str(info.value)
        for sub in substrings:
            assert sub in message, f"{opname}: {sub!r} not in {message!r}"


@pytest.mark.parametrize("opname", sorted(TABLE))
def test_value_matches_numpy(opname):
    row = TABLE[opname]
    e = row.build()
    got = ev(e)
    expected = np.asarray(row.ref(VALUES), dtype=float)
    assert isinstance(got, np.ndarray) and got.dtype == np.float64 and got.ndim == 2
    rows, cols = (d.value(DIMS) for d in e.shape)
    assert got.shape == (rows, cols) == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


def test_cotangent_is_a_symbol():
    g = cotangent("Y", "m", "B")
    assert g.op is mc.OPS["symbol"] and g.name == "dL_dY" and g.shape == shape_of("m", "B")
    got = evaluate(g, {"dL_dY": np.arange(15.0).reshape(3, 5)})
    np.testing.assert_array_equal(got, np.arange(15.0).reshape(3, 5))


def test_kron_contractions_are_the_kron_vjps():
    """<G, A ⊗ B> = <kron_contract_left(G, B), A> = <kron_contract_right(G, A), B>."""
    a, bm, g = VALUES["W"], VALUES["P"], VALUES["G"]
    inner = np.sum(g * np.kron(a, bm))
    assert np.isclose(np.sum(ev(kron_contract_left(G, P, W.shape)) * a), inner)
    assert np.isclose(np.sum(ev(kron_contract_right(G, W, P.shape)) * bm), inner)


# --- broadcasting ------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "build, shape, ref",
    [
        (lambda: W @ X + b, ("m", "B"), lambda V_: V_["W"] @ V_["X"] + V_["b"]),
        (lambda: b + W @ X, ("m", "B"), lambda V_: V_["b"] + V_["W"] @ V_["X"]),
        (lambda: W @ X + mc.Matrix("rB", 1, "B"), ("m", "B"),
         lambda V_: V_["W"] @ V_["X"] + V_["rB"]),
        (lambda: W + r.T.T, ("m", "n"), lambda V_: V_["W"] + V_["r"]),
        (lambda: W - r, ("m", "n"), lambda V_: V_["W"] - V_["r"]),
        (lambda: r * W, ("m", "n"), lambda V_: V_["r"] * V_["W"]),
        (lambda: W / b, ("m", "n"), lambda V_: V_["W"] / V_["b"]),
        (lambda: b + r, ("m", "n"), lambda V_: V_["b"] + V_["r"]),
        (lambda: W + s, ("m", "n"), lambda V_: V_["W"] + V_["s"]),
        (lambda: s * W, ("m", "n"), lambda V_: V_["s"] * V_["W"]),
        (lambda: s - b, ("m", 1), lambda V_: V_["s"] - V_["b"]),
        (lambda: s + s, (1, 1), lambda V_: 2 * V_["s"]),
        (lambda: 2 * W, ("m", "n"), lambda V_: 2 * V_["W"]),
        (lambda: W * 2, ("m", "n"), lambda V_: V_["W"] * 2),
        (lambda: W / 2, ("m", "n"), lambda V_: V_["W"] / 2),
        (lambda: 1 / Pos, ("m", "n"), lambda V_: 1 / V_["Pos"]),
        (lambda: W + 1.5, ("m", "n"), lambda V_: V_["W"] + 1.5),
        (lambda: 3 - W, ("m", "n"), lambda V_: 3 - V_["W"]),
        (lambda: W ** 2, ("m", "n"), lambda V_: V_["W"] ** 2),
        (lambda: Pos ** 0.5, ("m", "n"), lambda V_: np.sqrt(V_["Pos"])),
        (lambda: W ** -1, ("m", "n"), lambda V_: 1 / V_["W"]),
        (lambda: W ** 0, ("m", "n"), lambda V_: np.ones((3, 4))),
        (lambda: -W, ("m", "n"), lambda V_: -V_["W"]),
        (lambda: W.T, ("n", "m"), lambda V_: V_["W"].T),
        (lambda: (W @ X).T @ b, ("B", 1), lambda V_: (V_["W"] @ V_["X"]).T @ V_["b"]),
        (lambda: s @ r, (1, "n"), lambda V_: V_["s"] @ V_["r"]),
    ],
)
def test_broadcasting_and_scaling(build, shape, ref):
    e = build()
    assert e.shape == shape_of(*shape)
    np.testing.assert_allclose(ev(e), ref(VALUES), rtol=1e-12)


@pytest.mark.parametrize(
    "call, substrings",
    [
        (lambda: W + V, ("add", "W (m×n)", "V (n×m)", "rows m ≠ n")),
        (lambda: W + X, ("add", "W (m×n)", "X (n×B)")),
        (lambda: W + r.T, ("add", "W (m×n)", "(n×1)")),
        (lambda: W + v, ("add", "W (m×n)", "v (n×1)", "rows m ≠ n")),
        (lambda: W * mc.Matrix("Z", "m", "k"),
         ("multiply", "W (m×n)", "Z (m×k)", "columns n ≠ k")),
        (lambda: W @ X + mc.Vector("c", "k"), ("add", "c (k×1)", "(m×B)", "m ≠ k")),
        (lambda: W @ W, ("cannot multiply W (m×n) by W (m×n): n ≠ m",)),
        (lambda: 2 @ W, ("multiply", "2 (1×1)", "W (m×n)", "1 ≠ m")),
    ],
)
def test_broadcasting_rejections(call, substrings):
    with pytest.raises(ShapeError) as info:
        call()
    for sub in substrings:
        assert sub in str(info.value)


@settings(max_examples=60, deadline=None)
@given(
    a=st.tuples(st.sampled_from(["m", 1, 3]), st.sampled_from(["n", 1, 4])),
    c=st.tuples(st.sampled_from(["m", 1, 3]), st.sampled_from(["n", 1, 4])),
    opname=st.sampled_from(["add", "sub", "mul", "div"]),
    seed=st.integers(0, 2**16),
)
def test_broadcasting_agrees_with_numpy(a, c, opname, seed):
    """Broadcasting is accepted exactly when each dim is equal or literally 1, and matches NumPy."""
    A = mc.Matrix("Ab", *a)
    C = mc.Matrix("Cb", *c)
    fn = getattr(mc.ops, opname)
    ok = all(dim(x) == dim(y) or dim(x).is_one or dim(y).is_one for x, y in zip(a, c))
    if not ok:
        with pytest.raises(ShapeError):
            fn(A, C)
        return
    e = fn(A, C)
    sizes = {"m": 3, "n": 4}
    conc = lambda d: sizes[d] if isinstance(d, str) else d
    rng = np.random.default_rng(seed)
    av = rng.uniform(0.5, 2.0, size=(conc(a[0]), conc(a[1])))
    cv = rng.uniform(0.5, 2.0, size=(conc(c[0]), conc(c[1])))
    npfn = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide}[opname]
    expected = npfn(av, cv)
    got = evaluate(e, {"Ab": av, "Cb": cv}, dims=sizes)
    np.testing.assert_allclose(got, expected)
    assert got.shape == tuple(d.value(sizes) for d in e.shape)


# --- reductions --------------------------------------------------------------------------------

_REDUCE_REF = {
    "sum": lambda a, axis: np.sum(a, axis=(0, 1) if axis is None else axis, keepdims=True),
    "mean": lambda a, axis: np.mean(a, axis=(0, 1) if axis is None else axis, keepdims=True),
    "logsumexp": np_logsumexp,
}


@pytest.mark.parametrize("opname", ["sum", "mean", "logsumexp"])
@pytest.mark.parametrize("axis, shape", [(None, (1, 1)), (0, (1, "n")), (1, ("m", 1))])
def test_reductions_keep_2d_shapes(opname, axis, shape):
    fn = getattr(mc, opname)
    e = fn(W, axis=axis)
    assert e.shape == shape_of(*shape)
    assert e.get("axis") == axis
    got = ev(e)
    np.testing.assert_allclose(got, _REDUCE_REF[opname](VALUES["W"], axis), rtol=1e-12)


@pytest.mark.parametrize("opname", ["sum", "mean", "logsumexp"])
def test_reduction_default_axis_is_none(opname):
    fn = getattr(mc, opname)
    assert fn(W) is fn(W, axis=None)


@pytest.mark.parametrize("opname", ["sum", "mean", "logsumexp", "softmax", "log_softmax"])
@pytest.mark.parametrize("axis", [2, -1, "0", True, False, [0], (0,), 0.5])
def test_bad_axis_rejected(opname, axis):
    with pytest.raises(InputError) as info:
        getattr(mc, opname)(W, axis=axis)
    assert opname in str(info.value) and "axis" in str(info.value)


@pytest.mark.parametrize("opname", ["sum", "mean", "logsumexp"])
@pytest.mark.parametrize("axis", [0.0, 1.0])
def test_float_axis_rejected(opname, axis):
    """A float axis would reach np.sum(axis=1.0) at evaluation; it is rejected when built."""
    with pytest.raises(InputError):
        getattr(mc, opname)(mc.Matrix("Wf", 2, 3), axis=axis)


@pytest.mark.parametrize("opname", ["softmax", "log_softmax"])
def test_normalisers_reject_axis_none(opname):
    with pytest.raises(InputError) as info:
        getattr(mc, opname)(W, axis=None)
    assert opname in str(info.value) and "None" in str(info.value)


@pytest.mark.parametrize("axis", [0, 1])
def test_normalisers_match_numpy(axis):
    a = VALUES["W"]
    sm = mc.softmax(W, axis=axis)
    lsm = mc.log_softmax(W, axis=axis)
    assert sm.shape == lsm.shape == W.shape
    np.testing.assert_allclose(ev(sm), np_softmax(a, axis), rtol=1e-12)
    np.testing.assert_allclose(ev(lsm), np.log(np_softmax(a, axis)), rtol=1e-10)
    np.testing.assert_allclose(ev(sm).sum(axis=axis), 1.0)


def test_stable_at_extreme_values():
    Z = mc.Matrix("Z", 1, 2)
    big = {"Z": np.array([[1000.0, -1000.0]])}
    np.testing.assert_allclose(evaluate(mc.softmax(Z, axis=1), big), [[1.0, 0.0]])
    np.testing.assert_allclose(evaluate(mc.log_softmax(Z, axis=1), big), [[0.0, -2000.0]])
    np.testing.assert_allclose(evaluate(mc.logsumexp(Z), big), [[1000.0]])
    np.testing.assert_allclose(evaluate(mc.sigmoid(Z), big), [[1.0, 0.0]])
    np.testing.assert_allclose(evaluate(mc.softplus(Z), big), [[1000.0, 0.0]])
    assert np.all(np.isfinite(evaluate(mc.softmax(Z, axis=1), big)))


# --- square-only ops, diag, kron, vec ---------------------------------------------------------

@pytest.mark.parametrize("opname", ["trace", "det", "logdet", "inv"])
def test_square_required(opname):
    fn = getattr(mc, opname)
    with pytest.raises(ShapeError) as info:
        fn(W)  # m and n are different names, even if equal at runtime
    assert opname in str(info.value) and "m×n" in str(info.value)
    with pytest.raises(ShapeError):
        fn(mc.Matrix("A23", 2, 3))
    assert fn(S).shape == (shape_of("n", "n") if opname == "inv" else shape_of(1, 1))
    assert fn(mc.Matrix("A33", 3, 3)).shape[0] == (dim(3) if opname == "inv" else dim(1))
    assert fn(mc.Matrix("Amm", "m*n", "n*m")).shape[1] in (dim("m*n"), dim(1))


@pytest.mark.parametrize(
    "arg, shape",
    [(v, ("n", "n")), (S, ("n", 1)), (s, (1, 1)), (mc.Matrix("C3", 3, 1), (3, 3))],
)
def test_diag_shapes(arg, shape):
    assert mc.diag(arg).shape == shape_of(*shape)


@pytest.mark.parametrize("arg", [W, r, mc.Matrix("R2", 1, 3), mc.Matrix("A23", 2, 3)])
def test_diag_rejects(arg):
    with pytest.raises(ShapeError) as info:
        mc.diag(arg)
    assert "diag" in str(info.value) and arg.name in str(info.value)


def test_diag_values():
    np.testing.assert_array_equal(ev(mc.diag(S)), np.diag(VALUES["S"]).reshape(-1, 1))
    np.testing.assert_array_equal(ev(mc.diag(mc.diag(S))), np.diag(np.diag(VALUES["S"])))


def test_product_dims_are_order_free():
    m, n = Dim(1, ("m",)), Dim(1, ("n",))
    assert m * n == n * m
    assert hash(m * n) == hash(n * m)
    assert dim("m*n") == dim("n*m") == dim("n·m") == m * n
    assert dim("2*m") == Dim(2) * m == m * Dim(2)
    assert m * n != m * m
    assert dim("m") != dim("n")
    assert dim(1) * m == m


def test_kron_and_vec_shapes():
    assert mc.kron(W, P).shape == (dim("m*p"), dim("n*q"))
    assert mc.kron(P, W).shape == mc.kron(W, P).shape  # products compare equal in any order
    assert mc.vec(W).shape == (dim("m*n"), dim(1))
    assert mc.vec(V).shape == mc.vec(W).shape  # n·m == m·n
    assert mc.kron(mc.Matrix("A2", 2, 3), mc.Matrix("B4", 4, 5)).shape == (dim(8), dim(15))
    assert mc.kron(mc.Matrix("A2", 2, 3), P).shape == (dim("2*p"), dim("3*q"))
    # a declared product dim fits a computed one, whichever order it was written in
    assert (mc.vec(W) + mc.Vector("w", "n*m")).shape == (dim("m*n"), dim(1))
    assert (mc.kron(W, P) + mc.Matrix("K", "p*m", "q*n")).shape == mc.kron(W, P).shape
    with pytest.raises(ShapeError):
        mc.vec(W) + mc.Vector("w2", "m*k")


def test_kron_and_vec_values():
    a, pm = VALUES["W"], VALUES["P"]
    np.testing.assert_array_equal(ev(mc.kron(W, P)), np.kron(a, pm))
    np.testing.assert_array_equal(ev(mc.vec(W)), a.reshape(-1, 1, order="F"))
    np.testing.assert_array_equal(ev(mc.vec(W))[:3, 0], a[:, 0])  # column stacking
    np.testing.assert_array_equal(ev(unvec(mc.vec(W), "m", "n")), a)
    # vec(A X B) = (Bᵀ ⊗ A) vec(X)
    lhs = ev(mc.vec(W @ S @ X))
    rhs = ev(mc.kron(X.T, W) @ mc.vec(S))
    np.testing.assert_allclose(lhs, rhs, rtol=1e-10)
    # the commutation matrix: K vec(A) = vec(Aᵀ)
    k = commutation(dim("m"), dim("n"))
    np.testing.assert_array_equal(ev(k @ mc.vec(W)), ev(mc.vec(W.T)))


def test_kron_contract_accepts_plain_int_shape():
    g = mc.Matrix("G6", 6, 12)
    p = mc.Matrix("P23", 2, 3)
    assert kron_contract_left(g, p, (3, 4)).shape == (dim(3), dim(4))
    assert kron_contract_right(g, mc.Matrix("A34", 3, 4), (2, 3)).shape == (dim(2), dim(3))
