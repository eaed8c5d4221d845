"""Size limits (matcalc.limits): refused with SizeLimitError before anything is allocated."""

import numpy as np
import pytest
from optional import require

import matcalc as mc
from matcalc.errors import InputError, SizeLimitError
from matcalc.limits import LIMITS, configure, limits

W = mc.Matrix("W", "m", "n")
x = mc.Vector("x", "n")
L = mc.sum(mc.tanh(W @ x))


def kron_chain(factors: int) -> tuple[mc.Expr, mc.Expr]:
    A = mc.Matrix("A", 2, 2)
    e = A
    for _ in range(factors - 1):
        e = mc.kron(e, A)
    return e, A


def test_the_jacobian_of_an_8_fold_kron_chain_is_refused_before_allocation():
    y, _ = kron_chain(8)
    J = mc.jacobian(y, "A")
    assert (J.rows.value({}), J.cols.value({})) == (2**16, 4)  # 2 MB of result ...
    # ... whose Kronecker-form intermediates would hold gigabytes: refused, not allocated
    with pytest.raises(SizeLimitError, match="entries per array"):
        mc.evaluate(J, {"A": np.eye(2)})
    # with a dimension left open it compiles, and the call is refused before allocating
    B = mc.Matrix("B", "k", "k")
    e = B
    for _ in range(7):
        e = mc.kron(e, B)
    f = mc.compile([mc.jacobian(e, "B")])
    with pytest.raises(SizeLimitError, match="entries per array"):
        f(B=np.eye(2))


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_the_jacobian_of_an_8_fold_kron_chain_is_refused_when_compiled(backend):
    """Its sizes are all known: refused when compiled, on every backend."""
    if backend != "numpy":
        require(backend)
    y, _ = kron_chain(8)
    with pytest.raises(SizeLimitError, match="32768×32768"):
        mc.compile([mc.jacobian(y, "A")], backend=backend)


def test_a_small_kron_jacobian_is_computed_and_right():
    y, _ = kron_chain(3)
    J = mc.jacobian(y, "A")
    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    got = mc.evaluate(J, {"A": a})
    # column k of J is vec(∂y/∂a_k), here by central differences
    vec = lambda m: m.reshape(-1, order="F")
    y_of = lambda v: np.kron(np.kron(v, v), v)
    h = 1e-6
    for k in range(4):
        e = np.zeros(4)
        e[k] = 1.0
        d = vec(e).reshape(2, 2, order="F")
        fd = (vec(y_of(a + h * d)) - vec(y_of(a - h * d))) / (2 * h)
        np.testing.assert_allclose(got[:, k], fd, rtol=1e-6, atol=1e-6)


def test_evaluate_refuses_a_huge_dimension_before_allocating():
    with pytest.raises(SizeLimitError, match="limit"):
        mc.evaluate(mc.sum(mc.ones("k", "m") @ W), {"W": np.ones((2, 2))}, dims={"k": 10**9})
    with pytest.raises(SizeLimitError, match="limit"):
        mc.evaluate(mc.sum(mc.ones("k", 1)), {}, dims={"k": 10**9})


def test_check_refuses_a_huge_dimension():
    with pytest.raises(SizeLimitError):
        mc.check(L, "W", dims={"m": 10**6, "n": 10**6})


def test_the_total_of_one_evaluation_is_capped():
    big = mc.Matrix("B", "m", "m")
    chain = big
    for _ in range(5):
        chain = mc.tanh(chain) @ big
    value = np.full((100, 100), 0.01)
    with limits(max_elements=20_000, max_total_elements=30_000), \
            pytest.raises(SizeLimitError, match="together"):
        mc.evaluate(mc.sum(chain), {"B": value})
    assert np.isfinite(mc.evaluate(mc.sum(chain), {"B": value})[0, 0])  # the limits are restored


def test_limits_are_configurable_and_restored():
    before = LIMITS.max_elements
    value = np.ones((30, 30))
    with limits(max_elements=800):
        with pytest.raises(SizeLimitError, match="30×30"):
            mc.evaluate(mc.sum(W), {"W": value})
        f = mc.compile([mc.sum(W)])
        with pytest.raises(SizeLimitError):
            f(W=value)
    assert LIMITS.max_elements == before
    assert mc.evaluate(mc.sum(W), {"W": value})[0, 0] == 900.0
    old = configure(max_elements=10**6)
    try:
        assert LIMITS.max_elements == 10**6
    finally:
        configure(max_elements=old.max_elements)


@pytest.mark.parametrize("changes", [{"max_elements": 0}, {"max_elements": "10"},
                                     {"max_elements": True}, {"no_such_limit": 3}])
def test_bad_limits_are_refused(changes):
    with pytest.raises(InputError, match="limits"):
        configure(**changes)


def test_a_product_of_too_many_dimension_names_is_refused():
    names = "*".join(f"d{i}" for i in range(LIMITS.max_dim_factors + 1))
    with pytest.raises(SizeLimitError, match="dimension"):
        mc.Matrix("P", names, 1)
    # a product built up one factor at a time is refused when it passes the limit, too
    with pytest.raises(SizeLimitError, match="dimension names"):
        A = mc.Matrix("A", "a0", "a0")
        e = A
        for i in range(1, LIMITS.max_dim_factors + 1):
            e = mc.kron(e, mc.Matrix(f"A{i}", f"a{i}", f"a{i}"))
    with limits(max_dim_factors=3):
        with pytest.raises(SizeLimitError):
            mc.Matrix("P", "a*b*c*d", 1)
        assert mc.Matrix("P", "a*b*c", 1).rows.names == ("a", "b", "c")
