"""Decompositions and selections at their hard points: repeated eigenvalues, singular matrices,
ill-conditioned solves, ties in max, bounds of clip — what matcalc computes there, and that the
checker never passes a gradient it cannot test (a point it cannot use is SKIPPED, with a reason)."""

from __future__ import annotations

import numpy as np
import pytest
from optional import require

import matcalc as mc

S3 = mc.Matrix("S", 3, 3, structure="symmetric")
A3 = mc.Matrix("A", 3, 3)
b3 = mc.Vector("b", 3)


# --- repeated eigenvalues -------------------------------------------------------------------------

@pytest.mark.parametrize("value", [np.eye(3), np.diag([2.0, 2.0, -1.0])],
                         ids=["all-equal", "one-pair"])
def test_symmetric_functions_of_eigenvalues_stay_finite_where_they_repeat(value):
    """Σλ² = ‖S‖²: its gradient V diag(2λ) Vᵀ = 2S whatever eigenvectors eigh returns."""
    L = mc.sum(mc.eigvalsh(S3) ** 2)
    report = mc.check(L, "S", values={"S": value})
    assert report.passed is True, report
    np.testing.assert_allclose(report.gradients["S"], 2 * value, atol=1e-12)
    trace = mc.check(mc.sum(mc.eigvalsh(S3)), "S", values={"S": value})
    assert trace.passed is True
    np.testing.assert_allclose(trace.gradients["S"], np.eye(3), atol=1e-12)


def test_eigenvector_gradient_at_repeated_eigenvalues_is_skipped_not_passed():
    """The eigenvectors' gradient divides by eigenvalue gaps: at a repeated eigenvalue it is not
    finite, and the check says so instead of passing or failing."""
    G = mc.Matrix("G", 3, 3)
    report = mc.check(mc.sum(G * mc.eigvecsh(S3)), "S",
                      values={"S": np.diag([2.0, 2.0, -1.0]), "G": np.ones((3, 3))})
    assert report.passed is None
    assert all("not finite" in r.note for r in report)


def test_eigenvector_gradient_with_distinct_eigenvalues():
    G = mc.Matrix("G", 3, 3)
    rng = np.random.default_rng(3)
    m = rng.standard_normal((3, 3))
    report = mc.check(mc.sum(G * mc.eigvecsh(S3)), "S", values={"S": m + m.T, "G": m})
    assert report.passed is True, report


# --- singular and ill-conditioned matrices -------------------------------------------------------

SINGULAR = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]])


@pytest.mark.parametrize("loss", [mc.sum(mc.solve(A3, b3)), mc.logabsdet(A3),
                                  mc.sum(mc.inv(A3) @ b3)], ids=["solve", "logabsdet", "inv"])
def test_singular_matrices_are_skipped_with_a_reason(loss):
    values = {"A": SINGULAR, "b": np.ones((3, 1))}
    inputs = {n.name for n in mc.toposort([loss]) if n.op.name == "symbol"}
    report = mc.check(loss, "A", values={k: v for k, v in values.items() if k in inputs})
    assert report.passed is None
    assert report[0].note.startswith("skipped")


def _cofactors(a: np.ndarray) -> np.ndarray:
    """The cofactor matrix by minors (adj(A)ᵀ), independent of any inverse."""
    n = a.shape[0]
    minor = lambda i, j: np.delete(np.delete(a, i, 0), j, 1)
    return np.array([[(-1) ** (i + j) * np.linalg.det(minor(i, j)) for j in range(n)]
                     for i in range(n)])


@pytest.mark.parametrize("X", [A3, S3], ids=["general", "symmetric"])
def test_the_gradient_of_det_is_defined_at_a_singular_matrix(X):
    """∂det/∂X = adj(X)ᵀ exists where X⁻¹ does not: evaluated and compiled at a singular X, the
    gradient is the cofactor matrix (for a symmetric X the simplified form is det(X)·X⁻¹, with no
    transpose left, and it must still be computed through the adjugate)."""
    value = SINGULAR if X is A3 else SINGULAR @ SINGULAR.T
    g = mc.grad(mc.det(X), X)
    expected = _cofactors(value)
    np.testing.assert_allclose(mc.evaluate(g, {X.name: value}), expected, atol=1e-9)
    np.testing.assert_allclose(mc.compile(g)(**{X.name: value}), expected, atol=1e-9)


def test_singular_solve_is_an_evaluation_error():
    with pytest.raises(mc.EvaluationError, match="solve"):
        mc.evaluate(mc.solve(A3, b3), {"A": SINGULAR, "b": np.ones((3, 1))})


def test_pseudo_inverse_of_a_rank_deficient_matrix_of_fixed_rank():
    """pinv(XᵀX) for a 5×7 X: rank 5 of 7, and it stays 5 nearby."""
    X = mc.Matrix("X", 5, 7)
    G = mc.Matrix("G", 7, 7)
    rng = np.random.default_rng(0)
    report = mc.check(mc.sum(G * mc.pinv(X.T @ X)), "X",
                      values={"X": rng.standard_normal((5, 7)), "G": rng.standard_normal((7, 7))})
    assert report.passed is True, report


HILBERT = 1 / (np.arange(1, 6)[:, None] + np.arange(5)[None, :])  # condition number 4.8e5


def test_ill_conditioned_solve_needs_a_small_step_and_then_passes():
    A, b = mc.Matrix("A", 5, 5), mc.Vector("b", 5)
    L = mc.sum(mc.solve(A, b) ** 2)
    values = {"A": HILBERT, "b": np.ones((5, 1))}
    coarse = mc.check(L, ["A", "b"], values=values)
    assert coarse.passed is None  # the default stencil would leave the domain's safe side
    fine = mc.check(L, ["A", "b"], values=values, rel_step=1e-7, rtol=1e-5)
    assert fine.passed is True, fine


def test_ill_conditioned_solve_agrees_with_torch():
    torch = require("torch")
    A, b = mc.Matrix("A", 5, 5), mc.Vector("b", 5)
    gA, gb = mc.evaluate_many(mc.grad(mc.sum(mc.solve(A, b) ** 2), ["A", "b"]),
                              {"A": HILBERT, "b": np.ones((5, 1))})
    ta = torch.tensor(HILBERT, requires_grad=True)
    tb = torch.ones((5, 1), dtype=torch.float64, requires_grad=True)
    (torch.linalg.solve(ta, tb) ** 2).sum().backward()
    scale = np.abs(gA).max()
    np.testing.assert_allclose(gA, ta.grad.numpy(), rtol=1e-8, atol=1e-10 * scale)
    np.testing.assert_allclose(gb, tb.grad.numpy(), rtol=1e-8, atol=1e-10 * scale)


# --- ties and bounds -----------------------------------------------------------------------------

def test_ties_in_max_share_the_gradient():
    x = mc.Scalar("x")
    assert mc.evaluate(mc.grad(mc.max(mc.vstack(x, x)), "x"), {"x": 1.0})[0, 0] == 1.0
    A = mc.Matrix("A", 2, 2)
    g = mc.evaluate(mc.grad(mc.sum(mc.max(A, axis=0)), "A"), {"A": np.array([[1.0, 0], [1, 2]])})
    np.testing.assert_array_equal(g, [[0.5, 0.0], [0.5, 1.0]])
    g = mc.evaluate(mc.grad(mc.min(A), "A"), {"A": np.array([[1.0, 1.0], [1.0, 2.0]])})
    np.testing.assert_allclose(g, [[1 / 3, 1 / 3], [1 / 3, 0.0]])


def test_a_tie_between_distinct_entries_is_not_differentiable_and_check_says_so():
    A = mc.Matrix("A", 2, 2)
    report = mc.check(mc.sum(mc.max(A, axis=0)), "A", values={"A": np.array([[1.0, 0], [1, 2]])})
    assert report.passed is None and "kink" in report[0].note


def test_maximum_and_clip_at_ties_and_bounds():
    x, y = mc.Scalar("x"), mc.Scalar("y")
    gx, gy = mc.evaluate_many(mc.grad(mc.maximum(x, y), ["x", "y"]), {"x": 1.0, "y": 1.0})
    assert (gx[0, 0], gy[0, 0]) == (0.5, 0.5)
    g = mc.evaluate(mc.grad(mc.clip(x, 0, 1), "x"), {"x": 1.0})
    assert g[0, 0] == 0.0  # no gradient at a bound, as autograd and NumPy's clip take it
    assert mc.evaluate(mc.grad(mc.clip(x, 0, 1), "x"), {"x": 0.5})[0, 0] == 1.0
