"""Wrong arguments to the Python API are MatcalcErrors that say what is expected, never a
traceback from deep inside, and never a silent wrong answer."""

import sys

import numpy as np
import pytest
from optional import require

import matcalc as mc
from matcalc.errors import (
    DifferentiationError,
    DimensionBindingError,
    EvaluationError,
    InputError,
    InteropError,
    MatcalcError,
)
from matcalc.evaluate import symbols_of
from matcalc.interop import to_sympy

W = mc.Matrix("W", "m", "n")
x = mc.Vector("x", "n")
L = mc.sum(mc.tanh(W @ x))
VALUES = {"W": np.full((2, 3), 0.1), "x": np.ones((3, 1))}


DIMS_CALLS = {
    "evaluate": lambda dims: mc.evaluate(L, VALUES, dims=dims),
    "compiled": lambda dims: mc.compile([L], dims=dims)(**VALUES),
    "check": lambda dims: mc.check(L, "W", dims=dims),
}


@pytest.mark.parametrize("call", list(DIMS_CALLS))
@pytest.mark.parametrize("dims, error, message", [
    ([("m", 2)], InputError, "dims must be a mapping from dimension names to sizes"),
    ("m=2", InputError, "dims must be a mapping"),
    (3, InputError, "got int"),
    ({3: 2}, InputError, "a dimension name must be a plain ASCII identifier, got 3"),
    ({"ｍ": 2}, InputError, "plain ASCII identifier"),
    ({"m": "2"}, DimensionBindingError, "dimension m must be a positive integer, got '2'"),
    ({"m": 2.5}, DimensionBindingError, "positive integer"),
    ({"m": -1}, DimensionBindingError, "positive integer"),
    ({"m": True}, DimensionBindingError, "positive integer"),
])
def test_dims_of_the_wrong_kind_are_refused_alike(call, dims, error, message):
    """evaluate, compiled code and check read dims through one function: the same refusals."""
    with pytest.raises(error, match=message):
        DIMS_CALLS[call](dims)


def test_numpy_integer_dims_are_accepted():
    assert mc.evaluate(L, VALUES, dims={"m": np.int64(2), "n": 3}).shape == (1, 1)


@pytest.mark.parametrize("v", [None, np.ones((3, 1)), 1.0, "V"])
def test_hvp_needs_an_expression_of_the_variables_shape(v):
    with pytest.raises(InputError, match=r"hvp: v must be a matcalc expression of the "
                                         r"variable's shape n×1"):
        mc.hvp(L, "x", v)


def test_hvp_refuses_an_expression_of_another_shape():
    with pytest.raises(DifferentiationError, match="shape n×1"):
        mc.hvp(L, "x", mc.Vector("v", "m"))


@pytest.mark.parametrize("upstream", [np.ones((2, 1)), 1.0, [1.0, 2.0]])
def test_vjp_upstream_must_be_an_expression(upstream):
    with pytest.raises(InputError, match=r"vjp: upstream must be a matcalc expression of the "
                                         r"output's shape m×1"):
        mc.vjp(W @ x, "W", upstream=upstream)


def test_vjp_upstream_of_another_shape_is_refused():
    with pytest.raises(DifferentiationError, match="shape m×1"):
        mc.vjp(W @ x, "W", upstream=mc.Vector("G", "n"))


def test_a_variable_of_the_right_name_but_the_wrong_shape_is_refused_not_zero():
    # the expression's W is m×n: a W declared n×m is another symbol, and its gradient is not zeros
    with pytest.raises(DifferentiationError, match="W is m×n, not the n×m"):
        mc.grad(L, mc.Matrix("W", "n", "m"))
    with pytest.raises(DifferentiationError, match="W is m×n"):
        mc.vjp(W @ x, mc.Matrix("W", "n", "m"))
    with pytest.raises(DifferentiationError, match="W is m×n"):
        mc.check(L, mc.Matrix("W", "n", "m"))
    assert mc.grad(L, W) is mc.grad(L, "W")  # the expression's own node still works


def test_to_sympy_of_a_deep_chain_is_an_error_not_a_recursion_error():
    deep = x
    for _ in range(20_000):
        deep = mc.tanh(deep)
    limit = sys.getrecursionlimit()
    with pytest.raises(InteropError, match="20,002 operations deep"):
        to_sympy(mc.sum(deep))
    assert sys.getrecursionlimit() == limit
    # a shallow part of it converts
    shallow = x
    for _ in range(3):
        shallow = mc.tanh(shallow)
    assert str(to_sympy(mc.sum(shallow))).count("tanh") == 3


def test_to_sympy_refuses_what_is_not_an_expression():
    with pytest.raises(InputError, match="to_sympy expects a matcalc expression"):
        to_sympy(np.ones((2, 2)))


def test_torch_backend_errors_are_evaluation_errors():
    torch = require("torch")

    A = mc.Matrix("A", "n", "n")
    f = mc.compile([mc.inv(A)], backend="torch")
    with pytest.raises(EvaluationError, match=r"compiled function \(torch\) failed.*singular"):
        f(A=torch.ones(3, 3, dtype=torch.float64))
    g = mc.compile([mc.inv(A)], backend="numpy")
    with pytest.raises(EvaluationError, match=r"compiled function \(numpy\) failed"):
        g(A=np.ones((3, 3)))
    with pytest.raises(EvaluationError, match="inv"):
        mc.evaluate(mc.inv(A), {"A": np.ones((3, 3))})


def test_torch_kronecker_jacobians_run_and_equal_numpy():
    torch = require("torch")

    B = mc.Matrix("B", "k", "k")
    C = mc.Matrix("C", "k", "k")
    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    c = np.array([[0.5, -1.0], [2.0, 0.25]])
    # transposed (non-contiguous) arguments of kron: torch.kron refuses those views
    for y in (mc.kron(B.T, B), B.T @ C @ B, mc.kron(B, C.T) @ mc.kron(C, B.T)):
        for wrt in sorted(symbols_of(y)):
            J = mc.jacobian(y, wrt)
            want = mc.evaluate(J, {"B": a, "C": c})
            (got,) = mc.compile([J], backend="torch")(B=torch.tensor(a), C=torch.tensor(c))
            np.testing.assert_allclose(got.numpy(), want, rtol=1e-12, atol=1e-12)


def test_every_refusal_is_a_matcalc_error():
    for call in (lambda: mc.evaluate(L, VALUES, dims=[1]), lambda: mc.hvp(L, "x", None),
                 lambda: mc.vjp(W @ x, "W", upstream=np.ones(2))):
        with pytest.raises(MatcalcError):
            call()
