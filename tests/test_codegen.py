"""Generated code: every op has a template, compiled functions equal the evaluator (one row per op,
Hypothesis-built programs, an MLP's loss and gradients), the source is valid, deterministic Python
with each shared node computed once, and wrong input shapes are reported by name."""

from __future__ import annotations

import ast
import re

import numpy as np
import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ops_util import builtin_ops
from optional import require
from strategies import tanh_mlp

import matcalc as mc
from matcalc.codegen import (
    CodegenError,
    NoCodeTemplateError,
    compile,
    numpy_source,
    source,
    template_of,
)
from matcalc.evaluate import symbols_of
from matcalc.expr import Expr, Op
from matcalc.ops import commutation, kron_contract_left, kron_contract_right, size, unvec

M, N = 2, 3
DIMS = {"m": M, "n": N}

A = mc.Matrix("A", "m", "n")
B = mc.Matrix("B", "m", "n")
C = mc.Matrix("C", "n", "n")  # well conditioned
S = mc.Matrix("S", "n", "n")  # symmetric positive definite
P = mc.Matrix("P", "m", "n")  # positive
v = mc.Vector("v", "n")
s = mc.Scalar("s")

_rng = np.random.default_rng(7)
_root = _rng.normal(size=(N, N))
VALUES = {
    "A": _rng.normal(size=(M, N)),
    "B": _rng.normal(size=(M, N)),
    "C": _rng.normal(size=(N, N)) + 3 * np.eye(N),
    "S": _root @ _root.T + np.eye(N),
    "P": _rng.uniform(0.5, 2.0, size=(M, N)),
    "v": _rng.normal(size=(N, 1)),
    "s": np.array([[0.7]]),
}

# --- one row per op: (op name, expression using it) -------------------------------------------

CASES = [
    ("symbol", lambda: A),
    ("const", lambda: mc.const(2.5)),
    ("const", lambda: 2.5 * A - 1),
    ("eye", lambda: C + mc.eye("n")),
    ("ones", lambda: A + mc.ones("m", "n")),
    ("zeros", lambda: A + mc.zeros("m", "n")),
    ("size", lambda: size("n") * A),
    ("named", lambda: mc.named("h", A + B) * A),
    ("add", lambda: A + v.T),
    ("sub", lambda: A - s),
    ("mul", lambda: A * B),
    ("div", lambda: A / P),
    ("pow", lambda: A ** 2 + P ** -1.5 + P ** 0.5),
    ("neg", lambda: -A),
    ("matmul", lambda: A @ C),
    ("matmul", lambda: A @ mc.diag(v) @ C),
    ("matmul", lambda: mc.diag(v) @ C.T),
    ("transpose", lambda: A.T),
    ("step", lambda: mc.step(A)),
    ("sign", lambda: mc.sign(A)),
    ("relu", lambda: mc.relu(A)),
    ("sigmoid", lambda: mc.sigmoid(A)),
    ("tanh", lambda: mc.tanh(A)),
    ("exp", lambda: mc.exp(A)),
    ("log", lambda: mc.log(P)),
    ("sqrt", lambda: mc.sqrt(P)),
    ("abs", lambda: mc.abs(A)),
    ("softplus", lambda: mc.softplus(A)),
    ("trace", lambda: mc.trace(C)),
    ("det", lambda: mc.det(C)),
    ("logdet", lambda: mc.logdet(S)),
    ("inv", lambda: mc.inv(C)),
    ("adj", lambda: mc.adj(C)),
    ("restrict", lambda: mc.restrict(A, mc.logdet(S))),
    ("norm", lambda: mc.norm(A)),
    ("diag", lambda: mc.diag(v)),
    ("diag", lambda: mc.diag(C)),
    ("kron", lambda: mc.kron(A, v)),
    ("kron_contract_left", lambda: kron_contract_left(mc.kron(A, C), C, ("m", "n"))),
    ("kron_contract_right", lambda: kron_contract_right(mc.kron(A, C), A, ("n", "n"))),
    ("vec", lambda: mc.vec(A)),
    ("unvec", lambda: unvec(mc.vec(A) * 2, "m", "n")),
    ("sum", lambda: mc.sum(A)),
    ("sum", lambda: mc.sum(A, axis=0)),
    ("sum", lambda: mc.sum(A, axis=1)),
    ("mean", lambda: mc.mean(A) + mc.mean(A, axis=0).T @ mc.mean(A, axis=1).T),
    ("logsumexp", lambda: mc.logsumexp(A)),
    ("logsumexp", lambda: mc.logsumexp(A, axis=0)),
    ("logsumexp", lambda: mc.logsumexp(A, axis=1)),
    ("softmax", lambda: mc.softmax(A, axis=0) + mc.softmax(A, axis=1)),
    ("log_softmax", lambda: mc.log_softmax(A, axis=0) + mc.log_softmax(A, axis=1)),
    ("commutation", lambda: commutation("m", "n") @ mc.vec(A)),
    ("slice", lambda: A[1:, 0:2] + A[0, -2:]),
    ("embed", lambda: mc.embed(A, "m + 1", "n + 2", 1, 1)),
    ("concat", lambda: mc.vstack(mc.hstack(A, B), mc.hstack(B, A))),
    ("triu", lambda: mc.triu(A, k=1)),
    ("tril", lambda: mc.tril(C)),
    ("flip", lambda: mc.flip(A, axis=0) + mc.flip(A)),
    *[(name, lambda name=name: getattr(mc, name)(A)) for name in (
        "sin", "cos", "tan", "arctan", "sinh", "cosh", "arcsinh", "erf", "gelu", "silu", "expm1",
        "leaky_relu", "elu")],
    *[(name, lambda name=name: getattr(mc, name)(0.5 * mc.tanh(A))) for name in (
        "arcsin", "arccos", "arctanh")],
    ("log1p", lambda: mc.log1p(P)),
    ("pow_var", lambda: P ** A),
    ("greater", lambda: A > B),
    ("greater_equal", lambda: A >= v.T),
    ("less", lambda: A < s),
    ("less_equal", lambda: A <= B),
    ("equal", lambda: mc.equal(A, mc.clip(A, -0.4, 0.4)) * B),  # A ties with its clip in places
    ("not_equal", lambda: mc.not_equal(A, mc.clip(A, -0.4, 0.4)) * B),  # and differs elsewhere
    ("where", lambda: mc.where(A > B, A, s)),
    ("maximum", lambda: mc.maximum(A, B) + mc.minimum(A, v.T)),
    ("minimum", lambda: mc.minimum(A, 0.2)),
    ("clip", lambda: mc.clip(A, -0.2, B)),
    ("max", lambda: mc.max(A) + mc.max(A, axis=0).T @ mc.max(A, axis=1).T),
    ("min", lambda: mc.min(A) + mc.min(A, axis=0).T @ mc.min(A, axis=1).T),
    ("prod", lambda: mc.prod(P) + mc.prod(P, axis=0).T @ mc.prod(P, axis=1).T),
    ("var", lambda: mc.var(A) + mc.var(A, axis=0, ddof=1).T @ mc.var(A, axis=1).T),
    ("std", lambda: mc.std(A) + mc.std(A, axis=0, ddof=1).T @ mc.std(A, axis=1).T),
    ("cumsum", lambda: mc.cumsum(A) + mc.cumsum(A, axis=1)),
    ("solve", lambda: mc.solve(C, A.T)),
    ("matmul", lambda: mc.inv(C) @ A.T),
    ("solve_triangular", lambda: mc.solve_triangular(C, A.T) + mc.solve_triangular(C, v, False)),
    ("cholesky", lambda: mc.cholesky(S)),
    ("eigvalsh", lambda: mc.eigvalsh(S)),
    ("eigvecsh", lambda: mc.eigvecsh(S)),
    ("svdvals", lambda: mc.svdvals(C)),
    ("pinv", lambda: mc.pinv(A)),
    ("expm", lambda: mc.expm(C)),
    ("matrix_power", lambda: mc.matrix_power(C, 3)),
    ("logabsdet", lambda: mc.logabsdet(C)),
    ("vector_norm", lambda: mc.norm(v, ord=1) + mc.norm(A, ord=float("inf"), axis=0).T
     @ mc.norm(A, axis=1).T),
    ("matrix_norm", lambda: mc.norm(C, ord="nuc") + mc.norm(C, ord=2) + mc.norm(A, ord=1)),
]


def _inputs(exprs):
    return {k: VALUES[k] for k in symbols_of(list(exprs))}


def _close(got, want):
    assert len(got) == len(want)
    for g, w in zip(got, want):
        g = np.asarray(g)
        assert g.ndim == 2 and g.shape == w.shape, (g.shape, w.shape)
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12, equal_nan=True)


def _check(exprs, backend="numpy", to_numpy=np.asarray, dims=None):
    f = compile(list(exprs), backend=backend, dims=dims)
    got = [to_numpy(x) for x in f(**_inputs(exprs))]
    _close(got, mc.evaluate_many(list(exprs), _inputs(exprs), dims))
    return f


@pytest.mark.parametrize("name", sorted(builtin_ops()))
def test_every_op_has_a_numpy_template_and_a_row(name):
    template_of(mc.OPS[name], "numpy")  # raises NoCodeTemplateError if missing
    assert name in {row[0] for row in CASES}, f"add a row for {name!r} to CASES"


@pytest.mark.parametrize("name,build", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_op_compiles_to_its_value(name, build):
    e = build()
    assert name in {n.op.name for n in mc.toposort([e])}
    _check([e])


@pytest.mark.parametrize("name,build", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_op_gradients_compile_to_their_values(name, build):
    e = build()
    L = mc.sum(e * e)
    wrt = sorted(symbols_of(e))
    if not wrt:
        return
    grads = mc.grad(L, wrt)
    _check([L] + grads)


# --- Hypothesis programs over every op --------------------------------------------------------

_SHAPES = [("m", "n"), ("n", "m"), ("n", "n"), ("n", 1), (1, "n"), (1, 1)]
_D = {"m": mc.dim("m"), "n": mc.dim("n"), 1: mc.dim(1)}


def _sym(shape):
    r, c = shape
    return mc.Matrix(f"X{r}{c}", r, c)


def _positive(e):
    return mc.sigmoid(e) + 0.5


def _well_conditioned(e):
    """A square matrix near 2I: diagonally dominant at the sizes used here."""
    return 2 * mc.eye(e.rows) + 0.2 * mc.tanh(e)


@st.composite
def programs(draw, shape=None, depth=3):
    """A well-shaped expression of the given shape (random if None) using any op."""
    if shape is None:
        shape = draw(st.sampled_from(_SHAPES))
    r, c = shape
    rd, cd = _D[r], _D[c]
    if depth == 0:
        leaf = draw(st.sampled_from(["symbol", "symbol", "symbol", "ones", "const"]))
        if leaf == "ones":
            return mc.ones(r, c)
        if leaf == "const" and rd.is_one and cd.is_one:
            return mc.const(draw(st.sampled_from([0.5, 2, -1.25])))
        return _sym(shape)

    def sub(sh=shape):
        return draw(programs(sh, depth - 1))

    kinds = ["unary", "binary", "matmul", "transpose", "pow", "neg", "named", "kron",
             "vecfold", "commute", "reduce", "norm_like", "softmax", "leaf"]
    if rd == cd:
        kinds += ["square"]
    kind = draw(st.sampled_from(kinds))
    if kind == "leaf":
        return draw(programs(shape, 0))
    if kind == "unary":
        fn = draw(st.sampled_from(["step", "sign", "relu", "sigmoid", "tanh", "exp", "log",
                                   "sqrt", "abs", "softplus"]))
        x = sub()
        if fn == "exp":
            return mc.exp(mc.tanh(x))
        if fn in ("log", "sqrt"):
            return getattr(mc, fn)(_positive(x))
        return getattr(mc, fn)(x)
    if kind == "binary":
        op = draw(st.sampled_from(["add", "sub", "mul", "div"]))
        other = draw(st.sampled_from([shape, (1, 1), (r, 1), (1, c)]))
        a, b = sub(), sub(other)
        if draw(st.booleans()):
            a, b = b, a
            if op == "div":
                a, b = b, a  # keep the divisor's shape broadcastable
        if op == "div":
            return a / _positive(b)
        return {"add": mc.ops.add, "sub": mc.ops.sub, "mul": mc.ops.mul}[op](a, b)
    if kind == "matmul":
        k = draw(st.sampled_from(["m", "n", 1]))
        if draw(st.booleans()) and k != 1:
            return mc.diag(sub((r, 1))) @ sub((r, c))
        return sub((r, k)) @ sub((k, c))
    if kind == "transpose":
        return sub((c, r)).T
    if kind == "pow":
        p = draw(st.sampled_from([2, 3, -1, 0.5, -1.5]))
        x = sub()
        return (x ** p) if p in (2, 3) else _positive(x) ** p
    if kind == "neg":
        return -sub()
    if kind == "named":
        return mc.named(draw(st.sampled_from(["h", "g"])), sub())
    if kind == "kron":  # an outer product as kron(column, row), or scaling by a 1×1 kron
        if draw(st.booleans()):
            return mc.kron(sub((r, 1)), sub((1, c)))
        return mc.kron(sub((1, 1)), sub())
    if kind == "vecfold":
        return unvec(mc.vec(sub()), r, c)
    if kind == "commute":  # K vec(Y) = vec(Yᵀ)
        return unvec(commutation(c, r) @ mc.vec(sub((c, r))), r, c)
    if kind == "reduce":
        fn = draw(st.sampled_from(["sum", "mean", "logsumexp"]))
        if rd.is_one and cd.is_one:
            return getattr(mc, fn)(sub(draw(st.sampled_from(_SHAPES))))
        if cd.is_one:
            return getattr(mc, fn)(sub((r, draw(st.sampled_from(["m", "n"])))), axis=1)
        if rd.is_one:
            return getattr(mc, fn)(sub((draw(st.sampled_from(["m", "n"])), c)), axis=0)
        return sub() * getattr(mc, fn)(sub())
    if kind == "norm_like":
        if not (rd.is_one and cd.is_one):
            return sub() + mc.kron(sub((1, 1)), mc.ones(r, c))
        k = draw(st.sampled_from(["m", "n"]))
        fn = draw(st.sampled_from(["norm", "trace", "det", "logdet", "diag", "size", "kcl", "kcr"]))
        sq = sub((k, k))
        if fn == "norm":
            return mc.norm(sub(draw(st.sampled_from(_SHAPES))))
        if fn == "trace":
            return mc.trace(sq)
        if fn == "det":
            return mc.det(_well_conditioned(sq))
        if fn == "logdet":
            return mc.logdet(_well_conditioned(sq))
        if fn == "size":
            return size(k) * sub()
        if fn == "kcl":  # the A-shaped contraction of a 1×1 ⊗ k×k product
            return kron_contract_left(mc.kron(sub((1, 1)), sq), sub((k, k)), (1, 1))
        if fn == "kcr":
            return kron_contract_right(mc.kron(sq, sub((1, 1))), sub((k, k)), (1, 1))
        return mc.sum(mc.diag(sq))
    if kind == "softmax":
        fn = draw(st.sampled_from([mc.softmax, mc.log_softmax]))
        return fn(sub(), axis=draw(st.sampled_from([0, 1])))
    # square
    fn = draw(st.sampled_from(["inv", "diag", "eye", "zeros"]))
    if fn == "inv":
        return mc.inv(_well_conditioned(sub()))
    if fn == "diag":
        return mc.diag(sub((r, 1)))
    if fn == "eye":
        return sub() + mc.eye(r)
    return sub() + mc.zeros(r, c)


def _values_for(exprs, seed):
    rng = np.random.default_rng(seed)
    out = {}
    for name, sym in symbols_of(list(exprs)).items():
        shape = tuple(d.value(DIMS) for d in sym.shape)
        out[name] = rng.uniform(-1, 1, size=shape)
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs(), st.integers(0, 2**16))
def test_hypothesis_programs_compile_to_their_values(e, seed):
    vals = _values_for([e], seed)
    f = compile([e], dims=DIMS)
    _close(f(**vals), mc.evaluate_many([e], vals, DIMS))
    text = numpy_source([e], dims=DIMS)
    ast.parse(text)
    assert text == numpy_source([e], dims=DIMS)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs(depth=2), st.integers(0, 2**16))
def test_hypothesis_gradients_compile_to_their_values(e, seed):
    L = mc.sum(e * e)
    wrt = list(symbols_of(e).values())  # nodes, not names: two intermediates may share a name
    if not wrt:
        return
    outs = [L] + mc.grad(L, wrt)
    vals = _values_for(outs, seed)
    _close(compile(outs, dims=DIMS)(**vals), mc.evaluate_many(outs, vals, DIMS))


# --- the MLP: the loss and all its gradients in one pass ---------------------------------------



def _mlp_values(depth, n=5, batch=4, seed=0):
    rng = np.random.default_rng(seed)
    vals = {"X": rng.normal(size=(n, batch))}
    for i in range(depth):
        vals[f"W{i}"] = rng.normal(size=(n, n)) / np.sqrt(n)
        vals[f"b{i}"] = rng.normal(size=(n, 1)) * 0.1
    return vals


def test_mlp_loss_and_gradients_equal_evaluate():
    L, params = tanh_mlp(4)
    outs = [L] + mc.grad(L, params)
    vals = _mlp_values(4)
    _close(compile(outs)(**vals), mc.evaluate_many(outs, vals))


def test_each_shared_node_is_computed_once():
    depth = 4
    L, params = tanh_mlp(depth)
    outs = [L] + mc.grad(L, params)
    text = numpy_source(outs)
    lines = [ln.split(" = ", 1)[1] for ln in text.splitlines() if re.match(r"    t\d+ = ", ln)]
    assert len(lines) == len(set(lines)), "a line computes what another already did"
    # the backward pass reuses the forward activations: one tanh and one W @ H per layer
    assert sum("np.tanh(" in ln for ln in lines) == depth
    assert sum(re.fullmatch(r"W\d+ @ \w+", ln) is not None for ln in lines) == depth
    # one line per DAG node that is not an input or a constant
    computed = [n for n in mc.toposort(outs) if n.op.name not in ("symbol", "const", "named")]
    assert len(lines) == len(computed)


def test_source_is_valid_deterministic_python():
    L1, p1 = tanh_mlp(3)
    text = numpy_source([L1] + mc.grad(L1, p1))
    ast.parse(text)
    assert text.startswith("import numpy as np\n")
    assert "def f(*, W0, W1, W2, X, b0, b1, b2):" in text
    assert text == numpy_source([L1] + mc.grad(L1, p1))
    # built again from scratch (with the first graph gone) gives the same text
    del L1, p1
    import gc

    gc.collect()
    L2, p2 = tanh_mlp(3)
    assert text == numpy_source([L2] + mc.grad(L2, p2))


def test_helpers_appear_only_when_used():
    plain = numpy_source([mc.sum(A * B)])
    assert "_logsumexp" not in plain and "_logdet" not in plain and "_softmax" not in plain
    text = numpy_source([mc.log_softmax(A, axis=0)])
    assert "def _logsumexp(" in text and "def _softmax(" not in text
    assert "def _logdet(" in numpy_source([mc.logdet(S)])


def test_constants_are_hoisted_and_returned_as_copies():
    text = numpy_source([3 * A + 1])
    body = text.split("def f(")[1]
    assert "np.full" not in body  # computed once, at load time
    f = compile(mc.const(2.5))
    out = f()
    assert out.shape == (1, 1) and out[0, 0] == 2.5
    out[0, 0] = 0
    assert f()[0, 0] == 2.5


def test_diagonal_factor_becomes_a_broadcast():
    X = mc.Matrix("X", "n", "m")
    e = X @ mc.diag(mc.sigmoid(X.T @ v)) @ X.T
    text = numpy_source([e])
    assert "np.diag(" not in text
    vals = {"X": _rng.normal(size=(N, M)), "v": VALUES["v"]}
    _close(compile([e])(**vals), mc.evaluate_many([e], vals))


# --- inputs: shapes, names, dims ---------------------------------------------------------------

def test_wrong_shapes_name_the_input_and_the_dimension():
    f = compile([mc.sum(A @ C) + mc.sum(v)])
    good = _inputs([A, C, v])
    f(**good)
    with pytest.raises(mc.DimensionBindingError, match=r"dimension n is 3 from A but 4 from C"):
        f(**{**good, "C": np.ones((4, 4))})
    with pytest.raises(mc.DimensionBindingError, match=r"v must be a 2-D array"):
        f(**{**good, "v": np.ones((3, 1, 1))})
    # a 1-D array is taken for a declared column, as evaluate takes it
    assert np.allclose(f(**{**good, "v": np.ones(N)})[0], f(**{**good, "v": np.ones((N, 1))})[0])
    with pytest.raises(mc.DimensionBindingError, match=r"dimension n .* from v"):
        f(**{**good, "v": np.ones((4, 1))})
    with pytest.raises(mc.DimensionBindingError, match=r"missing v"):
        f(A=good["A"], C=good["C"])
    f1 = compile([s * A])
    with pytest.raises(mc.DimensionBindingError, match=r"s is declared 1×1 but its value has 2"):
        f1(A=good["A"], s=np.ones((1, 2)))
    assert f1(A=good["A"], s=0.5)[0].shape == (M, N)  # a number is taken for a 1×1 input


def test_compound_dimensions_are_checked():
    u = mc.Vector("u", "m*n")
    f = compile([unvec(u, "m", "n") + A])
    f(u=np.ones((M * N, 1)), A=VALUES["A"])
    with pytest.raises(mc.DimensionBindingError, match=r"u has 7 rows but m\*n = 6"):
        f(u=np.ones((7, 1)), A=VALUES["A"])


def test_dimensions_no_input_binds_come_from_dims():
    e = mc.sum(mc.eye("k")) * s
    with pytest.raises(mc.DimensionBindingError, match="dimension k"):
        compile([e])
    f = compile([e], dims={"k": 4})
    assert f(s=np.ones((1, 1)))[0][0, 0] == 4.0


def test_reserved_and_colliding_names():
    with pytest.raises(CodegenError, match="'np'"):
        numpy_source([mc.Matrix("np", 2, 2) * 2])
    # an input may share a dimension's name: the dimension's variable steps aside
    n_sym = mc.Matrix("n", "n", "n")
    f = compile([mc.sum(n_sym @ n_sym)])
    x = _rng.normal(size=(3, 3))
    assert np.isclose(f(n=x)[0][0, 0], np.sum(x @ x))


def test_an_op_without_a_template_is_named():
    mystery = Op(name="mystery", arity=1, shape=lambda args: args[0].shape,
                 numpy=lambda ctx, node, a: a, text=lambda n: ["mystery(", (0, 0), ")"])
    e = Expr.make(mystery, (A,))
    with pytest.raises(NoCodeTemplateError, match=r"'mystery'.*numpy"):
        compile([e])
    with pytest.raises(NoCodeTemplateError, match=r"'mystery'.*torch"):
        source([e], backend="torch")
    with pytest.raises(CodegenError, match="unknown backend"):
        source([A], backend="fortran")


def test_user_defined_elementwise_function():
    x = sympy.Symbol("x")
    swish = mc.elementwise("swish_cg", x / (1 + sympy.exp(-x)))
    e = swish(A)
    L = mc.sum(e * B)
    outs = [L, e] + mc.grad(L, ["A", "B"])
    text = numpy_source(outs)
    assert "def _user_swish_cg(x):" in text and "def _user_swish_cg_d(x):" in text
    _close(compile(outs)(**_inputs(outs)), mc.evaluate_many(outs, _inputs(outs)))


def test_single_expression_gives_one_array():
    f = compile(mc.sum(A))
    out = f(A=VALUES["A"])
    assert isinstance(out, np.ndarray) and out.shape == (1, 1)
    assert "import numpy as np" in f.source


# --- other engines -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def torch():
    return require("torch")


@pytest.fixture(scope="module")
def jax():
    jax = require("jax")
    old = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    yield jax
    jax.config.update("jax_enable_x64", old)


def _skip_without_templates(e, backend):
    """Only NumPy templates are required of an op; the other engines' are optional."""
    for node in mc.toposort([e]):
        try:
            template_of(node.op, backend)
        except NoCodeTemplateError:
            pytest.skip(f"{node.op.name} has no {backend} template")


@pytest.mark.parametrize("name,build", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_torch_backend_equals_evaluate(torch, name, build):
    e = build()
    _skip_without_templates(e, "torch")
    _check([e], backend="torch", to_numpy=lambda t: t.detach().numpy())


@pytest.mark.parametrize("name,build", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_jax_backend_equals_evaluate(jax, name, build):
    e = build()
    _skip_without_templates(e, "jax")
    _check([e], backend="jax", to_numpy=np.asarray)


@pytest.mark.parametrize("name,build", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_jax_backend_under_jit_equals_evaluate(jax, name, build):
    """Value and gradients traced by jax.jit: a kernel that calls SciPy (erf, expm, the
    solvers) would fail here on JAX's tracers, so such ops bring JAX kernels."""
    e = build()
    _skip_without_templates(e, "jax")
    L = mc.sum(e * e)
    wrt = sorted(symbols_of(e))
    outs = [e, L] + (mc.grad(L, wrt) if wrt else [])
    f = compile(outs, backend="jax")
    got = jax.jit(lambda **kw: f(**kw))(**_inputs(outs))
    _close([np.asarray(x) for x in got], mc.evaluate_many(outs, _inputs(outs)))


def test_mlp_gradients_on_torch_and_jax(torch, jax):
    L, params = tanh_mlp(3)
    outs = [L] + mc.grad(L, params)
    vals = _mlp_values(3)
    want = mc.evaluate_many(outs, vals)
    _close([t.numpy() for t in compile(outs, backend="torch")(**vals)], want)
    _close([np.asarray(a) for a in compile(outs, backend="jax")(**vals)], want)
    jitted = jax.jit(compile(outs, backend="jax")._fn)
    _close([np.asarray(a) for a in jitted(**vals)], want)


def test_user_function_on_torch(torch):
    x = sympy.Symbol("x")
    cube = mc.elementwise("cube_cg", x ** 3 + x)
    e = cube(A)
    _check([e, mc.grad(mc.sum(e), "A")], backend="torch", to_numpy=lambda t: t.numpy())
