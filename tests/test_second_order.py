"""Second order: Hessians, Hessian-vector products, gradients of gradients, and Jacobians.

Hessians are compared with central differences of the gradient's value (the gradient expression
is evaluated at x ± h·eⱼ); Jacobians with central differences of vec(y). Gradients of gradients
go through the ordinary finite-difference check.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy

import matcalc as mc
from matcalc.errors import DifferentiationError

DIMS = {"m": 3, "n": 4, "B": 5}
H_STEP = 1e-5

A = mc.Matrix("A", "n", "n")
W = mc.Matrix("W", "m", "n")
X = mc.Matrix("X", "n", "B")
G = mc.Matrix("G", "m", "B")
x = mc.Vector("x", "n")
v = mc.Vector("v", "n")
w = mc.Vector("w", "n")
y = mc.Vector("y", "B")
g = mc.Vector("g", "m")


def rng(seed=0):
    return np.random.default_rng(seed)


def vec_np(a: np.ndarray) -> np.ndarray:
    return a.reshape(-1, 1, order="F")


def unvec_np(a: np.ndarray, shape) -> np.ndarray:
    return a.reshape(shape, order="F")


def numeric_jacobian(y_expr: mc.Expr, var: str, values: dict, h: float = H_STEP) -> np.ndarray:
    """∂vec(y)/∂vec(var) by central differences (numerator layout, column-major vec)."""
    x0 = np.asarray(values[var], dtype=float)
    cols = []
    for j in range(x0.size):
        e = np.zeros(x0.size)
        e[j] = h
        e = unvec_np(e, x0.shape)
        plus = mc.evaluate(y_expr, {**values, var: x0 + e}, DIMS)
        minus = mc.evaluate(y_expr, {**values, var: x0 - e}, DIMS)
        cols.append(vec_np(plus - minus)[:, 0] / (2 * h))
    return np.stack(cols, axis=1)


def numeric_hessian(L: mc.Expr, var: str, values: dict) -> np.ndarray:
    """Central differences of the symbolic gradient's value."""
    return numeric_jacobian(mc.grad(L, var), var, values)


def assert_close(a, b, rtol=1e-5, atol=1e-6):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape, (a.shape, b.shape)
    assert np.allclose(a, b, rtol=rtol, atol=atol), f"max diff {np.max(np.abs(a - b)):.3e}"


def sigmoid_np(z):
    return 1 / (1 + np.exp(-z))


# --- Hessians -----------------------------------------------------------------------------------

def quad_values(seed=0):
    r = rng(seed)
    return {"A": r.normal(size=(4, 4)), "x": r.normal(size=(4, 1)), "v": r.normal(size=(4, 1))}


def test_hessian_of_quadratic_form_is_exactly_A_plus_AT():
    L = x.T @ A @ x
    H = mc.hessian(L, "x")
    assert H is A.T + A or H is A + A.T, str(H)
    vals = quad_values()
    assert_close(mc.evaluate(H, vals, DIMS), numeric_hessian(L, "x", vals))
    assert_close(mc.evaluate(H, vals, DIMS), vals["A"] + vals["A"].T)


def logistic():
    return mc.sum(mc.log(1 + mc.exp(-y * (X.T @ w))))


def logistic_values(seed=1):
    r = rng(seed)
    return {"X": r.normal(size=(4, 5)), "y": r.choice([-1.0, 1.0], (5, 1)),
            "w": r.normal(size=(4, 1)), "v": r.normal(size=(4, 1))}


def _strip_neg(e):
    return e.args[0] if e.op.name == "neg" else e


def test_logistic_hessian_is_X_diag_XT():
    H = mc.hessian(logistic(), "w")
    core = _strip_neg(H)
    # X @ diag(d) @ X.T, associated to the left
    assert core.op.name == "matmul", str(H)
    left, right = core.args
    assert right is X.T, str(H)
    assert left.op.name == "matmul" and left.args[0] is X, str(H)
    assert left.args[1].op.name == "diag" and left.args[1].args[0].shape == y.shape, str(H)
    vals = logistic_values()
    margins = vals["y"] * (vals["X"].T @ vals["w"])
    s = sigmoid_np(margins)[:, 0]
    expected = vals["X"] @ np.diag(s * (1 - s)) @ vals["X"].T
    assert_close(mc.evaluate(H, vals, DIMS), expected)
    assert_close(mc.evaluate(H, vals, DIMS), numeric_hessian(logistic(), "w", vals))


def test_softplus_logistic_hessian_has_the_same_structure():
    L = mc.sum(mc.softplus(-y * (X.T @ w)))
    H = mc.hessian(L, "w")
    core = _strip_neg(H)
    assert core.op.name == "matmul" and core.args[1] is X.T
    assert core.args[0].op.name == "matmul" and core.args[0].args[0] is X
    assert core.args[0].args[1].op.name == "diag"
    vals = logistic_values(2)
    assert_close(mc.evaluate(H, vals, DIMS), mc.evaluate(mc.hessian(logistic(), "w"), vals, DIMS))
    assert_close(mc.evaluate(H, vals, DIMS), numeric_hessian(L, "w", vals))


@pytest.mark.parametrize("axis", [None, 0])
def test_logsumexp_hessian_is_diag_s_minus_ssT(axis):
    L = mc.logsumexp(x, axis=axis)
    H = mc.hessian(L, "x")
    vals = quad_values(3)
    xv = vals["x"][:, 0]
    s = np.exp(xv - xv.max())
    s /= s.sum()
    assert_close(mc.evaluate(H, vals, DIMS), np.diag(s) - np.outer(s, s))
    assert_close(mc.evaluate(H, vals, DIMS), numeric_hessian(L, "x", vals))
    if axis == 0:
        sm = mc.softmax(x, axis=0)
        assert H is mc.diag(sm) - sm @ sm.T, str(H)


def test_softmax_cross_entropy_hessian():
    p = mc.Vector("p", "n")
    L = -mc.sum(p * mc.log_softmax(x, axis=0))
    H = mc.hessian(L, "x")
    r = rng(4)
    pv = r.uniform(0.1, 1, (4, 1))
    vals = {"x": r.normal(size=(4, 1)), "p": pv / pv.sum()}
    xv = vals["x"][:, 0]
    s = np.exp(xv - xv.max())
    s /= s.sum()
    assert_close(mc.evaluate(H, vals, DIMS), np.diag(s) - np.outer(s, s))
    assert_close(mc.evaluate(H, vals, DIMS), numeric_hessian(L, "x", vals))


def tanh_layer():
    return mc.sum(g * mc.tanh(W @ x))


def tanh_values(seed=5):
    r = rng(seed)
    return {"W": r.normal(size=(3, 4)), "x": r.normal(size=(4, 1)), "g": r.normal(size=(3, 1)),
            "v": r.normal(size=(4, 1))}


def test_tanh_layer_hessian():
    H = mc.hessian(tanh_layer(), "x")
    vals = tanh_values()
    t = np.tanh(vals["W"] @ vals["x"])[:, 0]
    expected = vals["W"].T @ np.diag(vals["g"][:, 0] * -2 * t * (1 - t ** 2)) @ vals["W"]
    assert_close(mc.evaluate(H, vals, DIMS), expected)
    assert_close(mc.evaluate(H, vals, DIMS), numeric_hessian(tanh_layer(), "x", vals))


HVP_CASES = {
    "quadratic": (lambda: x.T @ A @ x, "x", quad_values),
    "logistic": (logistic, "w", logistic_values),
    "logsumexp": (lambda: mc.logsumexp(x), "x", lambda: quad_values(6)),
    "tanh_layer": (tanh_layer, "x", tanh_values),
}


@pytest.mark.parametrize("name", sorted(HVP_CASES))
def test_hvp_equals_hessian_times_v(name):
    build, var, values = HVP_CASES[name]
    L = build()
    vals = values()
    hv = mc.hvp(L, var, v)
    assert hv.shape == v.shape
    H = mc.evaluate(mc.hessian(L, var), vals, DIMS)
    assert_close(mc.evaluate(hv, vals, DIMS), H @ vals["v"])
    assert_close(mc.evaluate(hv, vals, DIMS), numeric_hessian(L, var, vals) @ vals["v"])


def test_hvp_with_a_matrix_variable():
    L = mc.sum(G * mc.tanh(W @ X))
    V = mc.Matrix("V", "m", "n")
    hv = mc.hvp(L, "W", V)
    assert hv.shape == W.shape
    r = rng(7)
    vals = {"W": r.normal(size=(3, 4)), "X": r.normal(size=(4, 5)), "G": r.normal(size=(3, 5)),
            "V": r.normal(size=(3, 4))}
    Hn = numeric_hessian(L, "W", vals)  # (m·n)×(m·n) in vec order
    assert_close(vec_np(mc.evaluate(hv, vals, DIMS)), Hn @ vec_np(vals["V"]))


def test_hessian_of_a_matrix_variable_is_refused():
    with pytest.raises(DifferentiationError, match="column"):
        mc.hessian(mc.sum(mc.tanh(W @ X)), "W")


def test_hessian_of_a_linear_function_is_zero():
    H = mc.hessian(w.T @ v, "w")
    assert H.op.name == "zeros" and H.shape == (mc.dim("n"), mc.dim("n"))


# --- gradients of gradients ---------------------------------------------------------------------

_z = sympy.Symbol("z", real=True)
swish = mc.elementwise("swish", _z * (1 / (1 + sympy.exp(-_z))))

FUNCTIONS = {
    "relu": mc.relu,
    "sigmoid": mc.sigmoid,
    "tanh": mc.tanh,
    "softplus": mc.softplus,
    "exp": mc.exp,
    "log": mc.log,
    "sqrt": mc.sqrt,
    "abs": mc.abs,
    "swish": swish,
}


@pytest.mark.parametrize("fname", sorted(FUNCTIONS))
def test_gradient_of_gradient_passes_check(fname):
    f = FUNCTIONS[fname]
    L = mc.sum(G * f(W @ X))
    gW = mc.grad(L, "W")
    L2 = mc.sum(gW * gW)
    report = mc.check(L2, ["W", "X", "G"], dims=DIMS, seed=1)
    assert report.passed is True, f"{fname}: {L2}\n{report}"


@pytest.mark.parametrize("fname", sorted(FUNCTIONS))
def test_second_derivative_of_elementwise_function(fname):
    """The second derivative's value against the scalar formula's, through SymPy."""
    f = FUNCTIONS[fname]
    a = mc.Vector("a", "n")
    d2 = mc.grad(mc.sum(mc.grad(mc.sum(f(a)), "a")), "a")
    scalar = mc.OPS[f(a).op.name].scalar
    sym = next(iter(scalar.free_symbols))
    formula = sympy.diff(scalar, sym, 2).replace(sympy.DiracDelta, lambda *args: sympy.S.Zero)
    second = sympy.lambdify(sym, formula, "numpy")  # the sample points avoid the kinks
    av = np.array([[0.3], [0.7], [1.4], [2.1]])
    got = mc.evaluate(d2, {"a": av}, DIMS)
    want = np.broadcast_to(np.asarray(second(av), dtype=float), av.shape)
    assert_close(got, want, rtol=1e-9, atol=1e-12)


def test_swish_derivative_comes_from_sympy():
    a = mc.Vector("a", "n")
    d = mc.grad(mc.sum(swish(a)), "a")
    assert d.op.name == "swish_d" and d.args[0] is a, str(d)
    av = np.linspace(-2, 2, 4).reshape(-1, 1)
    s = sigmoid_np(av)
    assert_close(mc.evaluate(d, {"a": av}, DIMS), s + av * s * (1 - s), rtol=1e-12)
    report = mc.check(mc.sum(G * swish(W @ X)), ["W", "X"], dims=DIMS)
    assert report.passed is True


# --- Jacobians ----------------------------------------------------------------------------------

def jac_values(seed=8):
    r = rng(seed)
    S = r.normal(size=(4, 4)) * 0.2 + np.eye(4)
    return {"W": r.normal(size=(3, 4)), "X": r.normal(size=(4, 5)),
            "x": r.choice([-1, 1], (4, 1)) * r.uniform(0.2, 1, (4, 1)), "A": S}


def test_jacobian_of_linear_map_is_W():
    J = mc.jacobian(W @ x, "x")
    assert J is W
    vals = jac_values()
    assert_close(mc.evaluate(J, vals, DIMS), numeric_jacobian(W @ x, "x", vals))


def test_jacobian_of_relu_is_diag_step():
    J = mc.jacobian(mc.relu(x), "x")
    assert J is mc.diag(mc.step(x))
    vals = jac_values()
    assert_close(mc.evaluate(J, vals, DIMS), numeric_jacobian(mc.relu(x), "x", vals))


def test_jacobian_of_WX_by_W_is_kronecker():
    J = mc.jacobian(W @ X, "W")
    assert J is mc.kron(X.T, mc.eye("m"))
    assert J.shape == (mc.dim("m*B"), mc.dim("m*n"))
    assert mc.dims.shape_str(J.shape) == "(m·B)×(m·n)"
    vals = jac_values()
    Jv = mc.evaluate(J, vals, DIMS)
    assert Jv.shape == (15, 12)
    assert_close(Jv, numeric_jacobian(W @ X, "W", vals))
    assert_close(Jv, np.kron(vals["X"].T, np.eye(3)))


JACOBIANS = {
    "W @ x by x": (lambda: W @ x, "x"),
    "relu(x)": (lambda: mc.relu(x), "x"),
    "W @ X by W": (lambda: W @ X, "W"),
    "W @ X by X": (lambda: W @ X, "X"),
    "transpose": (lambda: (W @ X).T, "W"),
    "tanh(W @ X)": (lambda: mc.tanh(W @ X), "W"),
    "softmax(x)": (lambda: mc.softmax(x, axis=0), "x"),
    "softmax(WX, 0)": (lambda: mc.softmax(W @ X, axis=0), "W"),
    "softmax(WX, 1)": (lambda: mc.softmax(W @ X, axis=1), "X"),
    "log_softmax(x)": (lambda: mc.log_softmax(x, axis=0), "x"),
    "log_softmax(WX, 1)": (lambda: mc.log_softmax(W @ X, axis=1), "W"),
    "logsumexp(WX, 0)": (lambda: mc.logsumexp(W @ X, axis=0), "W"),
    "logsumexp(WX)": (lambda: mc.logsumexp(W @ X), "X"),
    "sum(WX, 1)": (lambda: mc.sum(W @ X, axis=1), "W"),
    "mean(WX, 0)": (lambda: mc.mean(W @ X, axis=0), "X"),
    "inv(A)": (lambda: mc.inv(A), "A"),
    "det(A)": (lambda: mc.det(A), "A"),
    "logdet(A A^T + I)": (lambda: mc.logdet(A @ A.T + mc.eye("n")), "A"),
    "trace(A A)": (lambda: mc.trace(A @ A), "A"),
    "norm(W)": (lambda: mc.norm(W), "W"),
    "diag(x)": (lambda: mc.diag(x), "x"),
    "diag(A)": (lambda: mc.diag(A), "A"),
    "vec(W)": (lambda: mc.vec(W), "W"),
    "W * W / (1 + W**2)": (lambda: W * W / (1 + W ** 2), "W"),
    "broadcast x + x.T": (lambda: x + x.T - mc.Scalar("s") * x, "x"),
    "sigmoid(x) * exp(x) - softplus(x) * |x|": (lambda: mc.sigmoid(x) * mc.exp(x) - mc.softplus(x) * mc.abs(x), "x"),
    "sqrt(x*x+1), log": (lambda: mc.sqrt(x * x + 1) + mc.log(x * x + 1), "x"),
}


@pytest.mark.parametrize("name", sorted(JACOBIANS))
def test_jacobian_equals_finite_differences(name):
    build, var = JACOBIANS[name]
    y_expr = build()
    J = mc.jacobian(y_expr, var)
    target = {n.name: n for n in mc.toposort([y_expr]) if n.op.name == "symbol"}[var]
    assert J.shape == (y_expr.rows * y_expr.cols, target.rows * target.cols)
    vals = {**jac_values(), "s": np.array([[0.7]])}
    vals = {k: vals[k] for k in {n.name for n in mc.toposort([y_expr]) if n.op.name == "symbol"}}
    assert_close(mc.evaluate(J, vals, DIMS), numeric_jacobian(y_expr, var, vals))


def test_jacobian_of_kron():
    """kron has no Kronecker-form Jacobian rule yet: a clear error; with one, the right value."""
    y_expr = mc.kron(W, x)
    if mc.OPS["kron"].jac is None:
        with pytest.raises(DifferentiationError, match="kron"):
            mc.jacobian(y_expr, "W")
        return
    vals = jac_values()
    assert_close(mc.evaluate(mc.jacobian(y_expr, "W"), vals, DIMS),
                 numeric_jacobian(y_expr, "W", vals))


KINKED_SECOND_DERIVATIVE = (
    "the second derivative of a user-defined elementwise function with a kink, "
    "elementwise('kinked_relu', sympy.Max(z, 0)), is the record kinked_relu_d_d = DiracDelta(z), "
    "whose NumPy function raises NameError: name 'DiracDelta' is not defined when evaluated (from "
    "evaluate and check), instead of being 0 away from the kink as the built-in step's derivative is")


def test_second_derivative_of_a_user_function_with_a_kink():
    kinked = mc.elementwise("kinked_relu", sympy.Max(_z, 0))
    a = mc.Vector("a", "n")
    g = mc.grad(mc.sum(kinked(a)), "a")  # Heaviside(a)
    av = np.array([[-1.0], [0.5], [2.0], [-0.3]])
    assert_close(mc.evaluate(g, {"a": av}, DIMS), (av > 0).astype(float))
    g2 = mc.grad(mc.sum(g * g * a), "a")  # H(a)² + 2 a H(a) δ(a) = H(a) away from 0
    assert_close(mc.evaluate(g2, {"a": av}, DIMS), (av > 0).astype(float))
