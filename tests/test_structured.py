"""Structured matrices: declarations, the gradient convention (the gradient in the structure's
subspace), the facts the simplifier uses, values checked against the declaration, sampling and
perturbing within the structure, and structure-aware generated code."""

from __future__ import annotations

import numpy as np
import pytest

import matcalc as mc

n = 4
A = mc.Matrix("A", n, n)
x = mc.Vector("x", n)
a = mc.Vector("a", n)
S = mc.Matrix("S", n, n, structure="symmetric")
P = mc.Matrix("P", n, n, structure="spd")
D = mc.Matrix("D", n, n, structure="diagonal")
Lo = mc.Matrix("L", n, n, structure="lower")
Up = mc.Matrix("U", n, n, structure="upper")


def test_declarations():
    assert S.get("structure") == "symmetric" and S.shape == A.shape
    assert mc.Matrix("S", n, n, "symmetric") is S
    with pytest.raises(mc.InputError, match="square"):
        mc.Matrix("Q", 3, 4, structure="symmetric")
    with pytest.raises(mc.InputError, match="structure must be one of"):
        mc.Matrix("Q", 3, 3, structure="hermitian")
    parsed = mc.parse("x.T @ S @ x", {"S": ("n", "n", "symmetric"), "x": ("n", 1)})
    (sym,) = [e for e in mc.toposort([parsed]) if e.name == "S"]
    assert sym.get("structure") == "symmetric"
    assert mc.parse("logdet(P)", {"P": "n,n,spd"}).args[0].get("structure") == "spd"


@pytest.mark.parametrize("loss, var, want", [
    (mc.logdet(P), "P", "inv(P)"),
    (x.T @ S @ x, "S", "x @ x.T"),
    (mc.trace(A @ S), "S", "(A.T + A) / 2"),
    (mc.sum(mc.eigvalsh(S)), "S", "eye(4)"),
], ids=["logdet", "quadratic", "trace", "eigenvalue-sum"])
def test_closed_forms_use_the_facts(loss, var, want):
    """Sᵀ = S and S⁻ᵀ = S⁻¹ for declared symmetric matrices: ∂ log det P / ∂P = P⁻¹."""
    assert str(mc.grad(loss, var)) == want
    assert mc.check(loss, var, seed=0).passed is True


def test_symmetric_gradient_is_the_projection_and_not_two_g_minus_diag():
    """f(S + E) − f(S) ≈ ⟨∇f, E⟩ for symmetric E holds for (G + Gᵀ)/2; the often quoted
    2G − diag(G) (derivatives by the free entries) doubles every off-diagonal pair."""
    rng = np.random.default_rng(0)
    m = rng.standard_normal((n, n))
    values = {"S": m + m.T, "A": rng.standard_normal((n, n))}
    f = mc.trace(A @ S @ S)
    g_sym = mc.evaluate(mc.grad(f, "S"), values)
    g_plain = mc.evaluate(mc.grad(mc.trace(A @ mc.Matrix("S", n, n) @ mc.Matrix("S", n, n)),
                                  "S"), values)
    np.testing.assert_allclose(g_sym, (g_plain + g_plain.T) / 2, rtol=1e-12)
    wrong = 2 * g_sym - np.diag(np.diag(g_sym))
    e = rng.standard_normal((n, n))
    e = (e + e.T) * 1e-6
    change = (mc.evaluate(f, {**values, "S": values["S"] + e})
              - mc.evaluate(f, values))[0, 0]
    assert abs(change - np.sum(g_sym * e)) < 1e-4 * abs(change)  # second order: ‖E‖²
    assert abs(change - np.sum(wrong * e)) > 0.1 * abs(change)


@pytest.mark.parametrize("loss, var", [
    (mc.logdet(P) + mc.sum(x * mc.solve(P, x)), "P"),
    (a.T @ S @ x + mc.sum(mc.tanh(S @ A)), "S"),
    (mc.sum(mc.exp(D @ A)), "D"),
    (mc.sum(mc.tanh(Lo @ A)) + mc.logabsdet(Lo), "L"),
    (mc.sum(mc.solve(Up, A)), "U"),
    (mc.sum(mc.eigvalsh(S) ** 3) + mc.sum(mc.cholesky(P)), "S"),
], ids=["spd", "symmetric", "diagonal", "lower", "upper", "eigh"])
def test_check_samples_and_perturbs_within_the_structure(loss, var):
    report = mc.check(loss, var, seed=2)
    assert report.passed is True, report
    value = report.values[var]
    structure = {"P": "spd", "S": "symmetric", "D": "diagonal", "L": "lower", "U": "upper"}[var]
    projected = {"spd": (value + value.T) / 2, "symmetric": (value + value.T) / 2,
                 "diagonal": np.diag(np.diag(value)), "lower": np.tril(value),
                 "upper": np.triu(value)}[structure]
    np.testing.assert_array_equal(value, projected)
    g = report.gradients[var]
    np.testing.assert_allclose(g, {"spd": (g + g.T) / 2, "symmetric": (g + g.T) / 2,
                                   "diagonal": np.diag(np.diag(g)), "lower": np.tril(g),
                                   "upper": np.triu(g)}[structure], atol=1e-12)
    full = [r for r in report if r.method == "full"]
    entries = {"spd": 10, "symmetric": 10, "diagonal": 4, "lower": 10, "upper": 10}[structure]
    # one stencil per basis element of the structure (6 evaluations: at ±h, ±2h, ±4h)
    assert full[0].evaluations == 6 * entries


@pytest.mark.parametrize("var", ["S", "D", "L", "U"])
def test_a_structured_variable_with_a_zero_gradient_is_checked_within_its_structure(var):
    """A zero gradient gives no direction to choose the step along: the even direction taken
    instead stays inside the structure (outside it the value would be refused), and the rows
    read as they do for an unstructured variable with a zero gradient."""
    X = {"S": S, "D": D, "L": Lo, "U": Up}[var]
    report = mc.check(mc.sum(x ** 2) + mc.sum(X - X), [var, "x"])
    assert report.passed is True, report
    plain = mc.check(mc.sum(x ** 2) + mc.sum(A - A), ["A", "x"])
    assert [r.passed for r in report] == [r.passed for r in plain]


def test_jacobian_of_a_structured_variable_is_projected():
    J = mc.evaluate(mc.jacobian(mc.vec(S @ A), "S"), {"S": np.eye(n), "A": np.eye(n)})
    K = np.eye(n * n)[np.arange(n * n).reshape(n, n).T.reshape(-1)]
    np.testing.assert_allclose(J, (np.eye(n * n) + K) / 2)


@pytest.mark.parametrize("symbol, value, message", [
    (S, np.arange(16.0).reshape(4, 4), "symmetric"),
    (P, -np.eye(4), "positive definite"),
    (D, np.ones((4, 4)), "diagonal"),
    (Lo, np.ones((4, 4)), "lower"),
])
def test_values_must_have_the_declared_structure(symbol, value, message):
    with pytest.raises(mc.MatcalcError, match=message):
        mc.evaluate(symbol, {symbol.name: value})


def test_generated_code_uses_structure_aware_solvers():
    B = mc.Matrix("B", n, 2)
    source = mc.numpy_source([mc.logdet(P), mc.inv(P) @ B, mc.solve(Lo, B), mc.inv(A) @ B])
    assert "_cho_logdet(P)" in source and "_cho_solve(P, B)" in source
    assert "_solve_triangular(L, B, True)" in source and "np.linalg.solve(A, B)" in source
    rng = np.random.default_rng(1)
    m = rng.standard_normal((n, n))
    values = {"P": m @ m.T + np.eye(n), "B": rng.standard_normal((n, 2)),
              "L": np.tril(m) + 3 * np.eye(n), "A": m + 3 * np.eye(n)}
    f = mc.compile([mc.logdet(P), mc.inv(P) @ B, mc.solve(Lo, B)])
    got = f(**{k: values[k] for k in ("P", "B", "L")})
    want = mc.evaluate_many([mc.logdet(mc.Matrix("P", n, n)), mc.solve(mc.Matrix("P", n, n), B),
                             mc.solve(mc.Matrix("L", n, n), B)], values)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-10)
