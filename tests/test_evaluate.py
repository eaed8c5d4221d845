"""NumPy evaluation: composite programs, shared nodes computed once, dimension binding, errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import matcalc as mc
from matcalc import (
    DimensionBindingError,
    EvaluationError,
    InputError,
    MatcalcError,
    evaluate,
    evaluate_many,
)
from matcalc.ops import unvec

W = mc.Matrix("W", "m", "n")
X = mc.Matrix("X", "n", "B")
b = mc.Vector("b", "m")


def _rng(seed=0):
    return np.random.default_rng(seed)


# --- composite programs ------------------------------------------------------------------------

@settings(max_examples=30, deadline=None)
@given(m=st.integers(1, 5), n=st.integers(1, 5), batch=st.integers(1, 5), seed=st.integers(0, 999))
def test_mlp_layer(m, n, batch, seed):
    rng = _rng(seed)
    w, x, bias = rng.normal(size=(m, n)), rng.normal(size=(n, batch)), rng.normal(size=(m, 1))
    e = mc.relu(W @ X + b)
    got = evaluate(e, {"W": w, "X": x, "b": bias})
    assert got.shape == (m, batch) and got.dtype == np.float64
    np.testing.assert_allclose(got, np.maximum(w @ x + bias, 0.0), rtol=1e-12, atol=1e-12)


def test_mlp_layer_with_1d_bias():
    rng = _rng(1)
    w, x, bias = rng.normal(size=(3, 4)), rng.normal(size=(4, 5)), rng.normal(size=3)
    got = evaluate(mc.relu(W @ X + b), {"W": w, "X": x, "b": bias})
    np.testing.assert_allclose(got, np.maximum(w @ x + bias[:, None], 0.0))


def test_softmax_cross_entropy():
    rng = _rng(2)
    k, n, batch = 4, 3, 6
    w, x = rng.normal(size=(k, n)), rng.normal(size=(n, batch))
    labels = rng.integers(0, k, size=batch)
    y = np.eye(k)[:, labels]  # one-hot columns, k×B
    Wc, Y = mc.Matrix("W", "k", "n"), mc.Matrix("Y", "k", "B")
    Z = Wc @ X
    loss = -mc.sum(Y * mc.log_softmax(Z, axis=0)) / mc.ops.size("B")
    got = evaluate(loss, {"W": w, "X": x, "Y": y})
    z = w @ x
    logp = z - np.log(np.sum(np.exp(z), axis=0, keepdims=True))
    expected = -np.mean(logp[labels, np.arange(batch)])
    assert got.shape == (1, 1)
    np.testing.assert_allclose(got[0, 0], expected, rtol=1e-12)
    # the same through softmax and log, and through mean
    alt = -mc.mean(mc.sum(Y * mc.log(mc.softmax(Z, axis=0)), axis=0))
    np.testing.assert_allclose(evaluate(alt, {"W": w, "X": x, "Y": y})[0, 0], expected, rtol=1e-10)


def test_quadratic_form():
    rng = _rng(3)
    a = rng.normal(size=(4, 4))
    xv, bv = rng.normal(size=(4, 1)), rng.normal(size=(4, 1))
    A, x, bb = mc.Matrix("A", "n", "n"), mc.Vector("x", "n"), mc.Vector("c", "n")
    q = 0.5 * x.T @ A @ x - bb.T @ x + 3
    got = evaluate(q, {"A": a, "x": xv, "c": bv})
    expected = 0.5 * xv.T @ a @ xv - bv.T @ xv + 3
    assert got.shape == (1, 1)
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    # xᵀAx = tr(A x xᵀ) = vec(xxᵀ)ᵀ vec(A)
    np.testing.assert_allclose(evaluate(mc.trace(A @ x @ x.T), {"A": a, "x": xv}),
                               xv.T @ a @ xv, rtol=1e-12)
    np.testing.assert_allclose(evaluate(mc.vec(x @ x.T).T @ mc.vec(A), {"A": a, "x": xv}),
                               xv.T @ a @ xv, rtol=1e-12)


def test_gaussian_log_likelihood_program():
    rng = _rng(4)
    root = rng.normal(size=(3, 3))
    sigma = root @ root.T + 3 * np.eye(3)
    xv, mu = rng.normal(size=(3, 1)), rng.normal(size=(3, 1))
    S, x, m = mc.Matrix("S", "d", "d"), mc.Vector("x", "d"), mc.Vector("mu", "d")
    r = mc.named("r", x - m)
    ll = -0.5 * (mc.logdet(S) + r.T @ mc.inv(S) @ r)
    got = evaluate(ll, {"S": sigma, "x": xv, "mu": mu})
    d = xv - mu
    expected = -0.5 * (np.linalg.slogdet(sigma)[1] + d.T @ np.linalg.solve(sigma, d))
    np.testing.assert_allclose(got, expected, rtol=1e-10)


def test_result_is_float64_2d_from_int_inputs():
    got = evaluate(W @ X, {"W": np.ones((2, 3), dtype=np.int32), "X": [[1, 2], [3, 4], [5, 6]]})
    assert got.dtype == np.float64 and got.shape == (2, 2)
    np.testing.assert_array_equal(got, [[9.0, 12.0], [9.0, 12.0]])


def test_inputs_are_not_modified():
    w = np.arange(6.0).reshape(2, 3)
    out = evaluate(W, {"W": w})
    out[0, 0] = 100.0
    assert w[0, 0] == 0.0
    evaluate(W * 2 + 1, {"W": w})
    np.testing.assert_array_equal(w, np.arange(6.0).reshape(2, 3))


def test_evaluate_many_shares_bindings():
    rng = _rng(5)
    w, x = rng.normal(size=(2, 3)), rng.normal(size=(3, 4))
    outs = evaluate_many([W @ X, mc.sum(W), X.T], {"W": w, "X": x})
    np.testing.assert_allclose(outs[0], w @ x)
    np.testing.assert_allclose(outs[1], [[w.sum()]])
    np.testing.assert_allclose(outs[2], x.T)


# --- each shared node is computed once --------------------------------------------------------

@pytest.fixture
def count_calls(monkeypatch):
    """Wrap an op's numpy function with a counter (monkeypatch restores it afterwards)."""
    counts: dict[str, int] = {}

    def wrap(opname: str):
        op = mc.OPS[opname]
        original = op.numpy
        counts[opname] = 0

        def counting(*args, **kwargs):
            counts[opname] += 1
            return original(*args, **kwargs)

        monkeypatch.setattr(op, "numpy", counting)
        return counts

    return wrap


def test_shared_node_computed_once(count_calls):
    original = mc.OPS["tanh"].numpy
    counts = count_calls("tanh")
    count_calls("matmul")
    t = mc.tanh(W)
    # tanh(W) used three times, each spelled anew: hash-consing makes them one node
    e = t @ mc.tanh(W).T + mc.sum(mc.tanh(mc.Matrix("W", "m", "n")))
    assert mc.count_nodes(e) == 6  # W, tanh, transpose, matmul, sum, add
    w = _rng(6).normal(size=(3, 4))
    got = evaluate(e, {"W": w})
    assert counts["tanh"] == 1
    assert counts["matmul"] == 1
    np.testing.assert_allclose(got, np.tanh(w) @ np.tanh(w).T + np.tanh(w).sum())
    evaluate(e, {"W": w})
    assert counts["tanh"] == 2  # once per evaluation
    assert mc.OPS["tanh"].numpy is not original  # still patched inside the test


def test_counting_wrapper_is_restored():
    assert mc.OPS["tanh"].numpy.__name__ != "counting"


def test_shared_node_computed_once_across_evaluate_many(count_calls):
    counts = count_calls("tanh")
    t = mc.tanh(W)
    outs = evaluate_many([t, t * 2, mc.sum(t, axis=0)], {"W": np.ones((2, 2))})
    assert counts["tanh"] == 1
    np.testing.assert_allclose(outs[1], 2 * np.tanh(np.ones((2, 2))))


def test_diamond_dag_computed_once(count_calls):
    counts = count_calls("exp")
    x = mc.Scalar("x")
    e = x
    for _ in range(30):  # 2**30 paths, 30 exp nodes
        e = mc.exp(e * 0.01) + mc.exp(e * 0.01)
    got = evaluate(e, {"x": 0.5})
    assert counts["exp"] == 30
    expected = 0.5
    for _ in range(30):
        expected = 2 * np.exp(expected * 0.01)
    np.testing.assert_allclose(got, [[expected]])


# --- dimension binding -------------------------------------------------------------------------

def _raises_naming(exc_type, call, *names):
    with pytest.raises(exc_type) as info:
        call()
    for name in names:
        assert name in str(info.value), f"{name!r} not in {str(info.value)!r}"
    return info.value


def test_conflicting_dimension():
    err = _raises_naming(DimensionBindingError,
                         lambda: evaluate(W @ X, {"W": np.ones((2, 4)), "X": np.ones((5, 3))}),
                         "n", "4", "5")
    assert "dimension n" in str(err)


def test_conflicting_dimension_with_dims_argument():
    _raises_naming(DimensionBindingError,
                   lambda: evaluate(W, {"W": np.ones((2, 3))}, dims={"m": 3}), "m", "3", "2")


@pytest.mark.parametrize("bad", [0, -1, True, 2.0, "3", None])
def test_bad_dims_argument(bad):
    _raises_naming(DimensionBindingError,
                   lambda: evaluate(W, {"W": np.ones((2, 3))}, dims={"m": bad}), "m")


def test_missing_value_names_the_symbol():
    _raises_naming(DimensionBindingError, lambda: evaluate(W @ X, {"W": np.ones((2, 3))}), "X")
    _raises_naming(DimensionBindingError, lambda: evaluate(W, {}), "W")


@pytest.mark.parametrize(
    "value",
    [
        np.array([["a", "b"], ["c", "d"]]),
        [["a", "b"]],
        np.array([[1, 2]], dtype=object),
        np.array([[1 + 2j, 3]]),
        1j,
        "abc",
        None,
        True,
        np.True_,
        [[1, 2], [3]],
        {"a": 1},
    ],
    ids=["str array", "str list", "object array", "complex array", "complex", "str", "None",
         "bool", "numpy bool", "ragged", "dict"],
)
def test_non_numeric_value_names_the_symbol(value):
    err = _raises_naming(MatcalcError, lambda: evaluate(W, {"W": value}), "W")
    assert not isinstance(err, (TypeError, ValueError))


@pytest.mark.parametrize("shape", [(2, 2, 2), (1, 2, 3, 4)])
def test_high_dimensional_array_rejected(shape):
    _raises_naming(DimensionBindingError, lambda: evaluate(W, {"W": np.ones(shape)}), "W",
                   str(shape))


def test_one_dimensional_array_only_for_columns():
    v = mc.Vector("v", "n")
    np.testing.assert_array_equal(evaluate(v, {"v": np.arange(3.0)}), [[0.0], [1.0], [2.0]])
    _raises_naming(DimensionBindingError, lambda: evaluate(W, {"W": np.ones(3)}), "W")
    _raises_naming(DimensionBindingError,
                   lambda: evaluate(mc.Matrix("r", 1, "n"), {"r": np.ones(3)}), "r")


@pytest.mark.parametrize("value", [2, 2.5, np.float32(2.5), np.int64(2), np.array(2.5),
                                   [[2.5]], np.array([2.5])])
def test_number_for_a_scalar(value):
    s = mc.Scalar("s")
    got = evaluate(s * 2, {"s": value})
    assert got.shape == (1, 1) and got.dtype == np.float64
    np.testing.assert_allclose(got, [[2 * float(np.asarray(value).ravel()[0])]])


def test_number_for_a_scalar_in_a_program():
    s = mc.Scalar("alpha")
    got = evaluate(s * W + 1, {"alpha": 3, "W": np.ones((2, 2))})
    np.testing.assert_array_equal(got, np.full((2, 2), 4.0))


def test_eye_bound_by_another_array():
    v = mc.Vector("v", "n")
    got = evaluate(mc.eye("n") @ v + mc.ones("n", 1), {"v": np.arange(3.0)})
    np.testing.assert_array_equal(got, [[1.0], [2.0], [3.0]])
    A = mc.Matrix("A", "n", "n")
    np.testing.assert_array_equal(evaluate(A + mc.eye("n"), {"A": np.zeros((2, 2))}), np.eye(2))


def test_eye_unbound_needs_dims():
    _raises_naming(DimensionBindingError, lambda: evaluate(mc.eye("n"), {}), "n")
    _raises_naming(DimensionBindingError, lambda: evaluate(mc.ones("m", "n"), {}, dims={"m": 2}),
                   "n")
    np.testing.assert_array_equal(evaluate(mc.eye("n"), {}, dims={"n": 3}), np.eye(3))
    np.testing.assert_array_equal(evaluate(mc.zeros("m", "n"), {}, dims={"m": 2, "n": 3}),
                                  np.zeros((2, 3)))
    np.testing.assert_array_equal(evaluate(mc.eye(3), {}), np.eye(3))


def test_integer_declared_dims_checked():
    A = mc.Matrix("A", 2, 3)
    _raises_naming(DimensionBindingError, lambda: evaluate(A, {"A": np.ones((2, 4))}), "A", "2×3")
    _raises_naming(DimensionBindingError, lambda: evaluate(A, {"A": np.ones((3, 3))}), "A")
    np.testing.assert_array_equal(evaluate(A, {"A": np.ones((2, 3))}), np.ones((2, 3)))
    _raises_naming(DimensionBindingError,
                   lambda: evaluate(mc.Vector("c", 3), {"c": np.ones(4)}), "c")


def test_same_name_two_shapes():
    A1, A2 = mc.Matrix("A", "m", "n"), mc.Matrix("A", "n", "k")
    _raises_naming(DimensionBindingError,
                   lambda: evaluate(A1 @ A2, {"A": np.ones((2, 2))}), "A", "m×n", "n×k")
    # even when the array would fit both declarations
    both = mc.trace(mc.Matrix("Q", "n", "n")) + mc.trace(mc.Matrix("Q", 3, 3))
    _raises_naming(DimensionBindingError, lambda: evaluate(both, {"Q": np.ones((3, 3))}), "Q")
    # and across the expressions of one evaluate_many call
    _raises_naming(DimensionBindingError,
                   lambda: evaluate_many([mc.Matrix("Q", "n", "n"), mc.Matrix("Q", 3, 3)],
                                         {"Q": np.ones((3, 3))}), "Q")


def test_product_dims():
    M = mc.Vector("M", "m*n")
    vals = {"M": np.arange(6.0), "W": np.ones((2, 3))}
    np.testing.assert_array_equal(evaluate(M + mc.vec(W), vals), np.arange(6.0)[:, None] + 1)
    _raises_naming(DimensionBindingError,
                   lambda: evaluate(M + mc.vec(W), {"M": np.ones(5), "W": np.ones((2, 3))}),
                   "M", "m·n")
    _raises_naming(DimensionBindingError, lambda: evaluate(M, {"M": np.ones(6)}), "m")
    got = evaluate(unvec(M, "m", "n"), {"M": np.arange(6.0)}, dims={"m": 2, "n": 3})
    np.testing.assert_array_equal(got, np.arange(6.0).reshape(2, 3, order="F"))


def test_singular_inverse_is_an_evaluation_error():
    A = mc.Matrix("A", "n", "n")
    err = _raises_naming(EvaluationError, lambda: evaluate(mc.inv(A), {"A": np.zeros((3, 3))}),
                         "inv")
    assert isinstance(err, MatcalcError)
    # inv(A) @ B is computed as a solve, which names itself
    _raises_naming(EvaluationError, lambda: evaluate(mc.inv(A) @ A, {"A": np.zeros((3, 3))}),
                   "solve")
    # det and logdet of a singular matrix are values, not errors
    assert evaluate(mc.det(A), {"A": np.zeros((3, 3))})[0, 0] == 0.0
    assert np.isnan(evaluate(mc.logdet(A), {"A": -np.eye(3)})[0, 0])


def test_bad_arguments_to_evaluate():
    with pytest.raises(InputError):
        evaluate(np.ones((2, 2)), {})
    with pytest.raises(InputError):
        evaluate(W, [("W", np.ones((2, 2)))])
    with pytest.raises(InputError):
        evaluate_many([W, "W"], {"W": np.ones((2, 2))})


def test_extra_values_are_ignored():
    got = evaluate(W, {"W": np.ones((2, 2)), "unused": "anything"})
    np.testing.assert_array_equal(got, np.ones((2, 2)))


@pytest.mark.parametrize("value", [np.ones((0, 3)), np.ones((2, 0)), np.ones(0)],
                         ids=["no rows", "no columns", "empty 1-D"])
def test_zero_length_axis_rejected(value):
    with pytest.raises(DimensionBindingError):
        evaluate(W if value.ndim == 2 else mc.Vector("v", "n"), {"W": value, "v": value})


def test_huge_python_int_value():
    with pytest.raises(MatcalcError, match="s"):
        evaluate(mc.Scalar("s"), {"s": 10**400})
