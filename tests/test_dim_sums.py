"""Dimensions as polynomials: sums for stacked blocks (m + n), differences for slices (m − 1),
equal only when provably equal, refused when never positive, bound and checked at run time."""

from __future__ import annotations

import numpy as np
import pytest

import matcalc as mc
from matcalc.binding import bind_shapes
from matcalc.dims import Dim, dim


def test_sums_are_equal_when_provably_equal():
    m, n = dim("m"), dim("n")
    assert m + n == n + m == dim("n + m") == dim("m+n")
    assert m + m == 2 * m == dim("2*m")
    assert (m + n) - n == m
    assert m + n != m + 1 and m != n
    assert dim("m*n + 2") == m * n + 2 and str(dim("m*n + 2")) == "m·n + 2"
    assert (m + 1) * (n + 1) == m * n + m + n + 1
    assert str(m - 1) == "m - 1" and (m - 1).text == "m - 1"
    assert mc.Matrix("X", "m + n", "k").shape == (m + n, dim("k"))


@pytest.mark.parametrize("text", ["1 - m", "0", "-m", "m - m"])
def test_dimensions_that_are_never_positive_are_refused(text):
    with pytest.raises(mc.InputError):
        dim(text)


def test_stacked_shapes_add_up_and_mismatches_name_both():
    W, V, X = mc.Matrix("W", "m", "n"), mc.Matrix("V", "m", "k"), mc.Matrix("X", "n", "B")
    H = mc.hstack(W, V)
    assert H.shape == (dim("m"), dim("n + k"))
    assert (H + mc.Matrix("H2", "m", "k + n")).shape == H.shape
    with pytest.raises(mc.ShapeError, match=r"cannot multiply .* \(m×\(k \+ n\)\)"):
        H @ X
    assert (H @ mc.vstack(X, mc.Matrix("Y", "k", "B"))).shape == (dim("m"), dim("B"))


def test_a_sum_binds_its_last_unknown_name_and_is_checked():
    declared = {"A": ("m", "n"), "S": ("m + k", "n")}
    assert bind_shapes(declared, {"A": (3, 4), "S": (5, 4)}) == {"m": 3, "n": 4, "k": 2}
    with pytest.raises(mc.DimensionBindingError, match=r"S has 1 rows but m - 1 = 2"):
        bind_shapes({"A": ("m", "n"), "S": ("m - 1", "n")}, {"A": (3, 4), "S": (1, 4)})


def test_sizes_that_do_not_fit_are_errors_not_shorter_slices():
    W = mc.Matrix("W", "m", "n")
    with pytest.raises(mc.EvaluationError, match="does not fit"):
        mc.evaluate(W[0:3, :], {"W": np.ones((2, 4))})
    with pytest.raises(mc.EvaluationError):
        mc.evaluate(W[1:, :], {"W": np.ones((1, 4))})
    np.testing.assert_array_equal(mc.evaluate(W[1:, :], {"W": np.eye(3, 4)}), np.eye(3, 4)[1:])


def test_text_generated_code_and_sympy_speak_sums():
    shapes = {"W": ("m", "n"), "V": ("m", "k")}
    e = mc.parse("hstack(W, V) @ ones(n + k, 1)", shapes)
    assert e.shape == (dim("m"), Dim(1))
    values = {"W": np.ones((2, 3)), "V": np.ones((2, 4))}
    np.testing.assert_allclose(mc.compile([e])(**values)[0], mc.evaluate(e, values))
    back = mc.from_sympy(mc.to_sympy(mc.Matrix("X", "m + k", "n - 1")))
    assert back.shape == (dim("m + k"), dim("n - 1"))
