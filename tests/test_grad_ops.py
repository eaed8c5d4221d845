"""Every registered op's gradient, checked numerically: one row per op in ``matcalc.OPS``.

Each row builds a small scalar loss that exercises its op (usually ``sum(G * op(A))`` with a fixed
upstream symbol G) and names the variables to differentiate by. The loss is checked by directional
and full finite differences at two size sets, one of them with a size-1 dimension, and again with
the gradient read off the forward Jacobian (the ops' jac rules instead of their VJPs). Ops with a
domain get inputs in that domain from the checker's domain-aware sampler; a skipped check is a
failure here. Leaves (symbol, const, eye, ones, zeros, size, commutation) have no gradient of their
own and are covered by appearing in an expression.

A test fails when an op is registered without a row, so every new op arrives with a gradient check.
User-defined elementwise functions (``mc.elementwise``) are made at run time and are checked in
tests/test_second_order.py.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from ops_util import builtin_ops

import matcalc as mc
import matcalc.verify
from matcalc.ops import (
    commutation,
    kron_contract_left,
    kron_contract_right,
    named,
    size,
    unvec,
)

SIZES = [
    pytest.param({"m": 3, "n": 4, "B": 5}, id="m3-n4-B5"),
    pytest.param({"m": 2, "n": 6, "B": 1}, id="m2-n6-B1"),
]

# --- symbols -----------------------------------------------------------------------------------

A = mc.Matrix("A", "m", "B")  # the generic argument
C = mc.Matrix("C", "m", "B")  # a second one of the same shape
G = mc.Matrix("G", "m", "B")  # the fixed upstream gradient
Gt = mc.Matrix("Gt", "B", "m")  # upstream for transposed results
W = mc.Matrix("W", "m", "n")
X = mc.Matrix("X", "n", "B")
S = mc.Matrix("S", "n", "n")  # square
T = mc.Matrix("T", "n", "n")  # a second square
Gs = mc.Matrix("Gs", "n", "n")  # upstream for n×n results
col = mc.Vector("c", "m")  # m×1: broadcast along the columns
row = mc.Matrix("r", 1, "B")  # 1×B: broadcast down the rows
s = mc.Scalar("s")  # 1×1
v = mc.Vector("v", "n")
gv = mc.Vector("gv", "n")
g0 = mc.Matrix("g0", 1, "B")  # upstream of a reduction down the columns
g1 = mc.Vector("g1", "m")  # upstream of a reduction along the rows
gvec = mc.Vector("gvec", "m*B")  # the shape of vec(A)
P = mc.Matrix("P", "n", "n")  # the right factor of a Kronecker product
K = mc.Matrix("K", "m*n", "B*n")  # the shape of kron(A, P)
Gk = mc.Matrix("Gk", "m", "B")  # upstream of a contraction giving A's shape
Gp = mc.Matrix("Gp", "n", "n")  # upstream of a contraction giving P's shape


def up(e: mc.Expr, g: mc.Expr = G) -> mc.Expr:
    """⟨G, e⟩: the scalar loss whose gradient is the VJP of e with upstream G."""
    return mc.sum(g * e)


# --- the table: op name → (loss, variables) ------------------------------------------------------

Row = Callable[[], "tuple[mc.Expr, list[str]]"]

ROWS: dict[str, Row] = {
    # leaves, each inside an expression
    "symbol": lambda: (up(A), ["A"]),
    "const": lambda: (up(2.5 * A - 3), ["A"]),
    "eye": lambda: (up(S * mc.eye("n") + S @ S, Gs), ["S"]),
    "ones": lambda: (up(A * (mc.ones("m", "B") + A)), ["A"]),
    "zeros": lambda: (up(mc.tanh(A) + mc.zeros("m", "B")), ["A"]),
    "size": lambda: (up(A * A) / size("m") + mc.sum(A) * size("B"), ["A"]),
    "commutation": lambda: (mc.sum(gvec * (commutation(mc.dim("B"), mc.dim("m"))
                                           @ mc.vec(mc.tanh(A).T))), ["A"]),
    "named": lambda: (up(named("Y", mc.tanh(A)) * C), ["A", "C", "Y"]),
    # linear algebra
    "trace": lambda: (mc.trace(S @ T) + mc.trace(S) ** 2, ["S", "T"]),
    "det": lambda: (mc.det(S), ["S"]),
    "logdet": lambda: (mc.logdet(S), ["S"]),
    "inv": lambda: (up(mc.inv(S), Gs), ["S"]),
    "adj": lambda: (up(mc.adj(S), Gs), ["S"]),
    "restrict": lambda: (up(mc.restrict(mc.tanh(A), mc.logdet(S))), ["A"]),
    "norm": lambda: (mc.norm(A) + mc.norm(v), ["A", "v"]),
    "diag": lambda: (up(mc.diag(v), Gs) + mc.sum(gv * mc.diag(S)), ["v", "S"]),
    "kron": lambda: (up(mc.kron(A, P), K), ["A", "P"]),
    "kron_contract_left": lambda: (up(kron_contract_left(K, P, A.shape), Gk), ["K", "P"]),
    "kron_contract_right": lambda: (up(kron_contract_right(K, A, P.shape), Gp), ["K", "A"]),
    "vec": lambda: (mc.sum(gvec * mc.vec(A)), ["A"]),
    "unvec": lambda: (up(unvec(mc.tanh(gvec), "m", "B")), ["gvec"]),
    # arithmetic, with every broadcast
    "add": lambda: (up(A + col + row + s + C), ["A", "c", "r", "s", "C"]),
    "sub": lambda: (up(A - col - row - s - C), ["A", "c", "r", "s", "C"]),
    "mul": lambda: (up(A * col * row * s * C), ["A", "c", "r", "s", "C"]),
    "div": lambda: (up(A / C + A / col + A / row + A / s), ["A", "C", "c", "r", "s"]),
    "pow": lambda: (up(A ** 3 + A ** 2 + C ** -2) + mc.sum(mc.power(mc.exp(A), 0.5)), ["A", "C"]),
    "neg": lambda: (up(-A), ["A"]),
    "matmul": lambda: (up(W @ X), ["W", "X"]),
    "transpose": lambda: (up(A.T, Gt), ["A"]),
    # elementwise functions
    "step": lambda: (up(mc.step(A) * C), ["A", "C"]),
    "sign": lambda: (up(mc.sign(A) * C), ["A", "C"]),
    "relu": lambda: (up(mc.relu(A)), ["A"]),
    "sigmoid": lambda: (up(mc.sigmoid(A)), ["A"]),
    "tanh": lambda: (up(mc.tanh(A)), ["A"]),
    "exp": lambda: (up(mc.exp(A)), ["A"]),
    "log": lambda: (up(mc.log(A)), ["A"]),
    "sqrt": lambda: (up(mc.sqrt(A)), ["A"]),
    "abs": lambda: (up(mc.abs(A)), ["A"]),
    "softplus": lambda: (up(mc.softplus(A)), ["A"]),
    # reductions and normalisers, along every axis
    "sum": lambda: (mc.sum(mc.tanh(A)) + up(mc.sum(A, axis=0), g0) + up(mc.sum(A, axis=1), g1),
                    ["A"]),
    "mean": lambda: (mc.mean(mc.tanh(A)) + up(mc.mean(A, axis=0), g0)
                     + up(mc.mean(A, axis=1), g1), ["A"]),
    "logsumexp": lambda: (mc.logsumexp(A) + up(mc.logsumexp(A, axis=0), g0)
                          + up(mc.logsumexp(A, axis=1), g1), ["A"]),
    "softmax": lambda: (up(mc.softmax(A, axis=0)) + up(mc.softmax(A, axis=1), C), ["A"]),
    "log_softmax": lambda: (up(mc.log_softmax(A, axis=0)) + up(mc.log_softmax(A, axis=1), C),
                            ["A"]),
    # parts and blocks
    "slice": lambda: (mc.sum(mc.tanh(A[1:, :] - A[:-1, :]) ** 2) + up(W[:, 0:1] @ X[0:1, :]),
                      ["A", "W", "X"]),
    "embed": lambda: (mc.sum(mc.tanh(mc.embed(A, "m + 1", "B + 2", 1, 2))), ["A"]),
    "concat": lambda: (mc.sum(mc.tanh(mc.vstack(mc.hstack(A, C), mc.hstack(C, A)))
                              * mc.Matrix("Gc", "2*m", "2*B")), ["A", "C"]),
    "triu": lambda: (up(mc.triu(S, k=1), Gs) + mc.sum(mc.triu(S) * T), ["S", "T"]),
    "tril": lambda: (up(mc.tril(S, k=-1), Gs) + mc.sum(mc.tril(S @ T)), ["S", "T"]),
    "flip": lambda: (up(mc.flip(A, axis=0)) + up(mc.flip(A, axis=1), C) + up(mc.flip(A)),
                     ["A"]),
    # trigonometric, hyperbolic and smooth activations
    **{name: (lambda name=name: (up(getattr(mc, name)(A)), ["A"]))
       for name in ("sin", "cos", "tan", "arctan", "sinh", "cosh", "arcsinh", "erf", "gelu",
                    "silu", "expm1")},
    **{name: (lambda name=name: (up(getattr(mc, name)(0.8 * mc.tanh(A))), ["A"]))
       for name in ("arcsin", "arccos", "arctanh")},
    "log1p": lambda: (up(mc.log1p(A * A)), ["A"]),
    "leaky_relu": lambda: (up(mc.leaky_relu(A) + mc.leaky_relu(A, 0.3)), ["A"]),
    "elu": lambda: (up(mc.elu(A) + mc.elu(A, 2.0)), ["A"]),
    "pow_var": lambda: (up(mc.exp(A) ** C + mc.exp(C) ** s), ["A", "C", "s"]),
    # selections
    "greater": lambda: (up((A > C) * A), ["A", "C"]),
    "greater_equal": lambda: (up((A >= col) * C), ["A", "C", "c"]),
    "less": lambda: (up((A < row) * A), ["A", "r"]),
    "less_equal": lambda: (up((A <= s) * C), ["A", "C", "s"]),
    "equal": lambda: (up(mc.equal(A, C) + A), ["A", "C"]),
    "not_equal": lambda: (up(mc.not_equal(A, C) * A), ["A", "C"]),
    "where": lambda: (up(mc.where(A > C, A * A, C) + mc.where(mc.tril(mc.ones("m", "B")), A, -3)),
                      ["A", "C"]),
    "maximum": lambda: (up(mc.maximum(A, C) + mc.maximum(A, col) + mc.maximum(s, A)),
                        ["A", "C", "c", "s"]),
    "minimum": lambda: (up(mc.minimum(A, C) + mc.minimum(row, A)), ["A", "C", "r"]),
    "clip": lambda: (up(mc.clip(A, -0.3, 0.4) + mc.clip(A, s - 1, col)), ["A", "s", "c"]),
    "max": lambda: (mc.max(A) + up(mc.max(A, axis=0), g0) + up(mc.max(A, axis=1), g1), ["A"]),
    "min": lambda: (mc.min(A) + up(mc.min(A, axis=0), g0) + up(mc.min(A, axis=1), g1), ["A"]),
    "prod": lambda: (mc.prod(A) + up(mc.prod(A, axis=0), g0) + up(mc.prod(A, axis=1), g1),
                     ["A"]),
    "var": lambda: (mc.var(A) + up(mc.var(A, axis=0, ddof=1), g0) + up(mc.var(A, axis=1), g1),
                    ["A"]),
    "std": lambda: (mc.std(A) + up(mc.std(A, axis=0, ddof=1), g0) + up(mc.std(W, axis=1), g1),
                    ["A", "W"]),
    "cumsum": lambda: (up(mc.cumsum(A, axis=0)) + up(mc.tanh(mc.cumsum(A, axis=1)), C), ["A"]),
    # solves and decompositions
    "solve": lambda: (up(mc.solve(S, W.T), mc.Matrix("Gsn", "n", "m")), ["S", "W"]),
    "solve_triangular": lambda: (up(mc.solve_triangular(S, W.T), mc.Matrix("Gsn", "n", "m"))
                                 + mc.sum(gv * mc.solve_triangular(S, v, lower=False)),
                                 ["S", "W", "v"]),
    "cholesky": lambda: (up(mc.cholesky(S @ S.T + mc.eye("n")), Gs), ["S"]),
    "eigvalsh": lambda: (mc.sum(gv * mc.eigvalsh(S)), ["S"]),
    "eigvecsh": lambda: (up(mc.eigvecsh(S), Gs), ["S"]),
    "svdvals": lambda: (mc.sum(gv * mc.svdvals(S)), ["S"]),
    "pinv": lambda: (up(mc.pinv(W), mc.Matrix("Gsn", "n", "m")), ["W"]),
    "expm": lambda: (up(mc.expm(S), Gs), ["S"]),
    "matrix_power": lambda: (up(mc.matrix_power(S, 3) + mc.matrix_power(S, -1), Gs), ["S"]),
    "logabsdet": lambda: (mc.logabsdet(S), ["S"]),
    "vector_norm": lambda: (mc.norm(v, ord=1) + mc.norm(v, ord=3) + up(mc.norm(A, axis=0), g0)
                            + up(mc.norm(A, ord=float("inf"), axis=1), g1), ["v", "A"]),
    "matrix_norm": lambda: (mc.norm(S, ord="nuc") + mc.norm(S, ord=2) + mc.norm(S, ord=1)
                            + mc.norm(S, ord=float("inf")), ["S"]),
}


def test_every_registered_op_has_a_row():
    missing = sorted(builtin_ops() - set(ROWS))
    assert not missing, f"ops without a gradient row: {missing}"


def test_no_stale_rows():
    stale = sorted(set(ROWS) - set(mc.OPS))
    assert not stale, f"rows for ops that are not registered: {stale}"


@pytest.mark.parametrize("opname", sorted(ROWS))
def test_row_exercises_its_op(opname):
    L, _ = ROWS[opname]()
    assert L.is_scalar
    assert any(node.op.name == opname for node in mc.toposort([L])), \
        f"the row for {opname} does not use it"


@pytest.mark.parametrize("dims", SIZES)
@pytest.mark.parametrize("opname", sorted(ROWS))
def test_gradient_passes_both_checks(opname, dims):
    L, wrt = ROWS[opname]()
    report = mc.check(L, wrt, dims=dims, seed=7, method="both")
    assert report.passed is True, f"{opname}: {L}\n{report}"
    methods = {(r.variable, r.method) for r in report}
    assert methods == {(w, m) for w in wrt for m in ("directional", "full")}, str(report)
    assert all(r.passed is True for r in report)


def grad_via_jacobian(L: mc.Expr, targets: list[mc.Expr], **kw: object) -> list[mc.Expr]:
    """The gradient of a scalar L read off its Jacobian (the ops' forward jac rules, not their
    VJPs): ∂L/∂vec(X) is 1×|X|, its transpose unvec'd to X's shape."""
    return [unvec(mc.jacobian(L, t).T, t.rows, t.cols) for t in targets]


@pytest.mark.parametrize("dims", SIZES)
@pytest.mark.parametrize("opname", sorted(ROWS))
def test_jacobian_rules_pass_both_checks(opname, dims, monkeypatch):
    """The same rows with the gradient taken from the Jacobian: each op's jac rule is checked
    against finite differences too, not only as a formula."""
    monkeypatch.setattr(matcalc.verify, "grad", grad_via_jacobian)
    L, wrt = ROWS[opname]()
    report = mc.check(L, wrt, dims=dims, seed=7, method="both")
    assert report.passed is True, f"{opname} (Jacobian): {L}\n{report}"


@pytest.mark.parametrize("opname", sorted(ROWS))
def test_gradient_has_the_variables_shape(opname):
    L, wrt = ROWS[opname]()
    grads = mc.grad(L, wrt)
    variables = {n.name: n for n in mc.toposort([L]) if n.op.name in ("symbol", "named")}
    for name, g in zip(wrt, grads):
        assert g.shape == variables[name].shape, f"{opname}: d/d{name} is {g!r}"
        str(g)  # printable
