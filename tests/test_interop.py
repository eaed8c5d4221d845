"""SymPy interop: to_sympy / from_sympy round trips, SymPy's own numeric value of to_sympy's
output, hand-written SymPy input, and the ops SymPy has no matrix expression for."""

from __future__ import annotations

import functools

import numpy as np
import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
from sympy.matrices.expressions.diagonal import DiagonalOf

import matcalc
from matcalc import InputError, MatcalcError, evaluate, ops
from matcalc.interop import InteropError, from_sympy, to_sympy

SHAPES = {
    "W": ("m", "n"), "V": ("m", "n"), "X": ("n", "k"), "Z": ("m", "k"), "b": ("m", 1),
    "x": ("n", 1), "A": ("n", "n"), "C": ("n", "n"), "r": (1, "k"), "alpha": (1, 1),
    "c": (1, 1), "P": (2, 3),
}
DIMS = {"m": 3, "n": 4, "k": 5}


def _values(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    out = {name: rng.normal(size=(DIMS.get(r, r), DIMS.get(c, c)))
           for name, (r, c) in SHAPES.items()}
    for name in ("A", "C"):
        a = rng.normal(size=(4, 4))
        out[name] = a @ a.T + 4 * np.eye(4)
    out["alpha"], out["c"] = np.array([[0.7]]), np.array([[-1.3]])
    return out


VAL = _values()
W, V, X, Z, b, x, A, C, r, alpha, c, P = (ops.Matrix(n, *s) for n, s in SHAPES.items())

EXPRESSIONS = [
    W @ X + b, ops.relu(W @ X + b), ops.sigmoid(Z), ops.tanh(Z), ops.exp(-Z), ops.abs(Z),
    ops.softplus(Z), ops.step(Z), ops.sign(Z), ops.sqrt(A * A), ops.log(A * A + 1), 2 * W, W / 2,
    alpha * W, W.T @ V, ops.inv(A) @ x, ops.inv(A).T, x.T @ A @ x, ops.norm(W @ X - Z) ** 2,
    ops.norm(x), ops.norm(alpha), ops.sum(Z), ops.sum(Z, 0), ops.sum(Z, 1), ops.mean(Z),
    ops.mean(Z, 1), ops.kron(A, W), ops.diag(x), ops.diag(A), ops.trace(A), ops.det(A),
    ops.logdet(A), Z ** 2, Z ** 0.5, -Z, ops.eye("n") - A, ops.ones("m", "k") + Z,
    ops.zeros("m", "n") + W, W * V, Z / (1 + Z * Z), 1 / Z, Z + r, b * Z, alpha + Z,
    alpha * alpha + 1, ops.trace(W.T @ W) * alpha, ops.exp(alpha), (x.T @ x) * W, ops.relu(alpha),
    W - b, ops.size("n") * W, alpha / c, ops.inv(alpha), ops.det(c), ops.logdet(c * c),
    ops.trace(alpha), ops.kron(alpha, W), ops.diag(alpha), alpha @ r, ops.sum(alpha),
    ops.named("H", W @ X), P @ P.T, ops.transpose(alpha), ops.sum(x.T @ x), ops.mean(alpha),
    ops.inv(A) @ ops.inv(C) @ x, ops.kron(A, C) @ ops.kron(C, A), ops.power(A * A + 1, -1.5),
]


@pytest.mark.parametrize("expr", EXPRESSIONS, ids=[str(e)[:40] for e in EXPRESSIONS])
def test_round_trip(expr):
    back = from_sympy(to_sympy(expr))
    assert back.shape == expr.shape
    np.testing.assert_allclose(evaluate(back, VAL, DIMS), evaluate(expr, VAL, DIMS),
                               rtol=1e-10, atol=1e-12)


# --- SymPy's own value of to_sympy's output -------------------------------------------------

def _dim(d):
    return sympy.Symbol(d, integer=True, positive=True) if isinstance(d, str) else d


def _sympy_value(s) -> np.ndarray:
    """Substitute explicit matrices and dimension values, then let SymPy compute."""
    rep: dict = {_dim(d): v for d, v in DIMS.items()}
    for name, (rows, cols) in SHAPES.items():
        if (rows, cols) == (1, 1):
            rep[sympy.Symbol(name, real=True)] = sympy.Float(VAL[name][0, 0])
        else:
            rep[sympy.MatrixSymbol(name, _dim(rows), _dim(cols))] = sympy.ImmutableMatrix(VAL[name])
    out = s.xreplace(rep)
    # SymPy cannot take the shape of DiagonalOf an explicit matrix: spell it out first
    out = out.replace(lambda e: isinstance(e, DiagonalOf) and isinstance(e.arg, sympy.MatrixBase),
                      lambda e: sympy.ImmutableMatrix([e.arg[i, i] for i in range(e.arg.rows)]))
    out = out.doit()
    if getattr(out, "is_Matrix", False):
        out = out.as_explicit()
        return np.array(out.tolist(), dtype=float)
    return np.array([[float(out)]])


SYMPY_NUMERIC = [
    W @ X + b, ops.relu(W @ X + b), ops.sigmoid(Z), ops.exp(-Z), ops.step(Z), alpha * W,
    ops.inv(A) @ x, x.T @ A @ x, ops.norm(W @ X - Z) ** 2, ops.norm(x), ops.sum(Z), ops.sum(Z, 0),
    ops.sum(Z, 1), ops.mean(Z), ops.kron(A, W), ops.diag(x), ops.diag(A), ops.trace(A),
    ops.det(A), ops.logdet(A), Z ** 2, ops.eye("n") - A, W * V, 1 / Z, Z + r, alpha + Z,
    ops.trace(W.T @ W) * alpha, ops.tanh(Z) * ops.softplus(Z),
]


@pytest.mark.parametrize("expr", SYMPY_NUMERIC, ids=[str(e)[:40] for e in SYMPY_NUMERIC])
def test_sympy_evaluates_to_the_same_value(expr):
    np.testing.assert_allclose(_sympy_value(to_sympy(expr)), evaluate(expr, VAL, DIMS),
                               rtol=1e-8, atol=1e-10)


# --- the SymPy forms ---------------------------------------------------------------------------

m, n, k = (_dim(d) for d in "mnk")
sW, sX, sA, sx = (sympy.MatrixSymbol("W", m, n), sympy.MatrixSymbol("X", n, k),
                  sympy.MatrixSymbol("A", n, n), sympy.MatrixSymbol("x", n, 1))


def test_to_sympy_forms():
    assert to_sympy(W) == sW
    assert to_sympy(alpha) == sympy.Symbol("alpha", real=True)
    assert to_sympy(W @ X) == sympy.MatMul(sW, sX)
    assert to_sympy(W.T) == sympy.Transpose(sW)
    assert to_sympy(ops.trace(A)) == sympy.Trace(sA)
    assert to_sympy(ops.det(A)) == sympy.Determinant(sA)
    assert to_sympy(ops.logdet(A)) == sympy.log(sympy.Determinant(sA))
    assert to_sympy(ops.inv(A)) == sympy.Inverse(sA)
    assert to_sympy(W * V) == sympy.HadamardProduct(sW, sympy.MatrixSymbol("V", m, n))
    assert to_sympy(W ** 2) == sympy.HadamardPower(sW, 2)
    assert to_sympy(ops.kron(A, W)) == sympy.KroneckerProduct(sA, sW)
    assert to_sympy(ops.eye("n")) == sympy.Identity(n)
    assert to_sympy(ops.ones("m", "n")) == sympy.OneMatrix(m, n)
    assert to_sympy(ops.zeros("m", "n")) == sympy.ZeroMatrix(m, n)
    assert to_sympy(ops.sum(W)) == sympy.MatMul(sympy.OneMatrix(1, m), sW, sympy.OneMatrix(n, 1))
    assert to_sympy(2 * W) == sympy.MatMul(2, sW)
    assert to_sympy(ops.size("n")) == n
    f = to_sympy(ops.exp(W))
    assert isinstance(f, ElementwiseApplyFunction) and f.expr == sW
    assert to_sympy(ops.Matrix("K", "m*n", 2)).shape == (m * n, 2)
    assert to_sympy(P).shape == (2, 3)


def test_user_defined_elementwise_functions_convert():
    t = sympy.Symbol("t")
    swish = matcalc.elementwise("swish_interop", t / (1 + sympy.exp(-t)))
    e = swish(W @ X)
    s = to_sympy(e)
    assert isinstance(s, ElementwiseApplyFunction)
    back = from_sympy(s)
    # the op with this formula (built in: silu; or another test's declaration of it)
    assert sympy.simplify(back.op.scalar - swish(W).op.scalar) == 0
    np.testing.assert_allclose(evaluate(back, VAL, DIMS), evaluate(e, VAL, DIMS))


def test_from_sympy_reads_hand_written_expressions():
    B = sympy.MatrixSymbol("C", n, n)
    cases = [
        (sympy.Trace(sA.T * B), ops.trace(A.T @ C)),
        (sympy.log(sympy.Determinant(sA)), ops.logdet(A)),
        (sx.T * sA * sx, x.T @ A @ x),
        (sympy.Trace(sx.T * sA * sx), x.T @ A @ x),
        (sA ** -1 * sx, ops.inv(A) @ x),
        (sA ** 2, A @ A),
        (sW.applyfunc(sympy.exp), ops.exp(W)),
        (sW.applyfunc(sympy.Lambda(sympy.Symbol("u"), sympy.Max(sympy.Symbol("u"), 0))),
         ops.relu(W)),
        (sW.applyfunc(sympy.Lambda(sympy.Symbol("u"), sympy.Symbol("u") ** 2 + 1)), W * W + 1),
        (sympy.Symbol("alpha") * sW - sW, alpha * W - W),
        (sympy.sqrt(sympy.Trace(sW.T * sW)), ops.norm(W)),
        (sympy.Identity(n) - sA, ops.eye("n") - A),
        (sympy.HadamardProduct(sW, sW), W * W),
        (sympy.exp(sympy.Symbol("alpha")) + sympy.pi, ops.exp(alpha) + np.pi),
        (sympy.Rational(1, 2) * sW, 0.5 * W),
        (sympy.Heaviside(sympy.Symbol("alpha")), ops.step(alpha)),
        (sympy.tanh(sympy.Symbol("c")) / sympy.Symbol("alpha") ** 2, ops.tanh(c) / alpha ** 2),
        (n * sW, ops.size("n") * W),
    ]
    for s, want in cases:
        got = from_sympy(s)
        assert got.shape == want.shape, s
        np.testing.assert_allclose(evaluate(got, VAL, DIMS), evaluate(want, VAL, DIMS),
                                   rtol=1e-10, err_msg=str(s))


def test_from_sympy_structure():
    assert from_sympy(sW) is W
    assert from_sympy(sympy.Symbol("alpha")) is alpha
    assert from_sympy(sympy.MatMul(sW, sX)) is W @ X
    assert from_sympy(sympy.MatMul(sympy.OneMatrix(1, m), sW, sympy.OneMatrix(n, 1))) is ops.sum(W)
    assert from_sympy(to_sympy(W @ X + b)) is W @ X + b  # the broadcast is left to matcalc
    assert from_sympy(to_sympy(b * Z)) is b * Z
    assert from_sympy(to_sympy(ops.norm(x))) is ops.norm(x)
    assert from_sympy(to_sympy(ops.logdet(A))) is ops.logdet(A)


def test_a_scalar_named_like_a_dimension_stays_a_scalar():
    mm = ops.Scalar("m")
    e = mm * W + ops.size("m") * W
    back = from_sympy(to_sympy(e))
    values = {**VAL, "m": np.array([[0.25]])}
    np.testing.assert_allclose(evaluate(back, values, DIMS), evaluate(e, values, DIMS))


def test_from_sympy_shapes():
    concrete = sympy.MatrixSymbol("W", 3, 4)
    assert from_sympy(concrete).shape == (matcalc.dim(3), matcalc.dim(4))
    assert from_sympy(concrete, {"W": ("m", "n")}) is W
    assert from_sympy(sympy.Symbol("alpha"), {"alpha": (1, 1)}) is alpha
    kron = from_sympy(sympy.MatrixSymbol("K", m * n, n ** 2))
    assert kron.shape == (matcalc.dim("m*n"), matcalc.dim("n*n"))


@pytest.mark.parametrize("expr, name", [
    (ops.softmax(Z), "softmax"), (ops.log_softmax(Z), "log_softmax"),
    (ops.logsumexp(Z), "logsumexp"), (ops.vec(W), "vec"),
    (ops.unvec(ops.Matrix("v", "m*n", 1), "m", "n"), "unvec"), (W @ X + ops.softmax(Z), "softmax"),
])
def test_unsupported_ops_name_themselves(expr, name):
    with pytest.raises(InteropError, match=name):
        to_sympy(expr)


@pytest.mark.parametrize("fn", [sympy.Max, sympy.Min])
def test_a_log_of_a_pair_with_one_is_not_read_as_softplus(fn):
    """log(max(1, x)) has two arguments, one of them 1, but is no 1 + eˣ: refused by name."""
    with pytest.raises(InteropError, match=fn.__name__):
        from_sympy(sympy.log(fn(1, sympy.Symbol("x"))))


def test_bad_input():
    with pytest.raises(InputError):
        to_sympy("W @ X")  # type: ignore[arg-type]
    with pytest.raises(InputError):
        from_sympy("W*X")  # text is never sympified
    with pytest.raises(InputError):
        from_sympy(3.0)  # type: ignore[arg-type]
    with pytest.raises(InteropError, match="MatrixElement"):
        from_sympy(sW[0, 1])
    with pytest.raises(InteropError):
        from_sympy(sympy.Symbol("alpha") ** sympy.Symbol("c"))
    with pytest.raises(InteropError, match="not a positive integer"):
        from_sympy(sympy.MatrixSymbol("Q", 1 - m, n))
    with pytest.raises(InteropError):
        from_sympy(sympy.zoo)
    with pytest.raises(MatcalcError):
        from_sympy(sympy.MatAdd(sW, sympy.MatrixSymbol("W2", m, k)), {})


def test_deep_chains_convert_without_recursion():
    e = W
    for _ in range(2000):
        e = -e
    s = to_sympy(e)
    assert s.shape == (m, n)


# --- random expressions ----------------------------------------------------------------------

_LEAVES = {"mn": [W, V], "nm": [W.T], "nk": [X], "mk": [Z], "km": [Z.T], "nn": [A, C],
           "m1": [b], "1m": [b.T], "n1": [x], "1n": [x.T], "11": [alpha, c]}
_PRODUCTS = {"mn": [("mn", "nn")], "nk": [("nn", "nk")], "mk": [("mn", "nk")],
             "nn": [("nm", "mn")], "m1": [("mn", "n1")], "n1": [("nn", "n1")],
             "11": [("1n", "n1")], "nm": [("nn", "nm")], "1m": [("1n", "nm")],
             "1n": [("1m", "mn")]}
_TRANSPOSED = {"mn": "nm", "nm": "mn", "mk": "km", "km": "mk", "nn": "nn", "m1": "1m",
               "1m": "m1", "n1": "1n", "1n": "n1", "11": "11"}
_UNARY = [ops.relu, ops.sigmoid, ops.tanh, ops.abs, ops.softplus, ops.step, ops.sign, ops.neg,
          lambda e: ops.exp(ops.tanh(e)), lambda e: ops.log(1 + e * e),
          lambda e: ops.sqrt(1 + e * e), lambda e: ops.power(e, 2), lambda e: ops.power(e, 3)]


@functools.cache
def _expr_of(key: str, depth: int):
    leaves = st.sampled_from(_LEAVES[key])
    if depth == 0:
        return leaves
    sub = lambda k: _expr_of(k, depth - 1)
    options = [
        leaves,
        st.tuples(st.sampled_from(_UNARY), sub(key)).map(lambda t: t[0](t[1])),
        st.tuples(sub(key), sub(key), st.sampled_from(["add", "sub", "mul"])).map(
            lambda t: getattr(ops, t[2])(t[0], t[1])),
        st.tuples(sub(key), sub(key)).map(lambda t: t[0] / (2 + t[1] * t[1])),
        st.tuples(st.sampled_from([2, 0.5, -3]), sub(key)).map(lambda t: t[0] * t[1]),
        st.tuples(sub("11"), sub(key)).map(lambda t: t[0] * t[1]),
    ]
    if _PRODUCTS.get(key):
        options.append(st.sampled_from(_PRODUCTS[key]).flatmap(
            lambda ab: st.tuples(sub(ab[0]), sub(ab[1]))).map(lambda t: t[0] @ t[1]))
    if key in _TRANSPOSED:
        options.append(sub(_TRANSPOSED[key]).map(ops.transpose))
    if key == "mk":
        options.append(sub("mk").map(lambda e: e + r))
    if key == "mn":
        options += [st.tuples(sub("m1"), sub("mn")).map(lambda t: t[0] + t[1]),
                    st.tuples(sub("mn"), sub("1n")).map(lambda t: t[0] * t[1])]
    if key == "11":
        options += [sub("nn").map(ops.trace), sub("mn").map(ops.norm), sub("mk").map(ops.sum),
                    st.just(ops.det(A)), st.just(ops.logdet(C)), sub("mn").map(ops.mean),
                    sub("11").map(ops.exp)]
    if key == "1n":
        options.append(sub("mn").map(lambda e: ops.sum(e, 0)))
    if key == "m1":
        options.append(sub("mk").map(lambda e: ops.sum(e, 1)))
    if key == "nn":
        options += [st.just(ops.inv(A)), st.just(ops.eye("n")), sub("n1").map(ops.diag),
                    st.just(ops.kron(alpha, C))]
    if key == "n1":
        options.append(sub("nn").map(ops.diag))
    return st.one_of(options)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(key=st.sampled_from(sorted(_TRANSPOSED)), data=st.data())
def test_random_round_trips(key, data):
    e = data.draw(_expr_of(key, 3))
    back = from_sympy(to_sympy(e))
    assert back.shape == e.shape
    with np.errstate(all="ignore"):
        got, want = evaluate(back, VAL, DIMS), evaluate(e, VAL, DIMS)
    np.testing.assert_allclose(got, want, rtol=1e-7, atol=1e-9, equal_nan=True, err_msg=str(e))
