"""Tests of the numerical gradient check (matcalc.verify)."""

import numpy as np
import pytest

import matcalc as mc
from matcalc.errors import MatcalcError, SizeLimitError
from matcalc.evaluate import symbols_of
from matcalc.expr import OPS
from matcalc.limits import limits
from matcalc.verify import CheckError, CheckReport, VariableCheck, check, substitute

W = mc.Matrix("W", "m", "n")
X = mc.Matrix("X", "n", "B")
G = mc.Matrix("G", "m", "B")
b = mc.Vector("b", "m")
x = mc.Vector("x", "n")
y = mc.Vector("y", "m")
S = mc.Matrix("S", "n", "n")


def rows_of(report, variable=None, method=None):
    return [r for r in report if (variable is None or r.variable == variable)
            and (method is None or r.method == method)]


def assert_all_pass(report):
    assert isinstance(report, CheckReport)
    assert report.passed is True, str(report)
    assert all(isinstance(r, VariableCheck) and r.passed is True for r in report)


# --- correct gradients pass ---------------------------------------------------------------------

def test_bilinear_passes_with_both_methods():
    report = check(mc.sum(G * (W @ X)), ["W", "X"])
    assert_all_pass(report)
    assert {(r.variable, r.method) for r in report} == {
        ("W", "directional"), ("W", "full"), ("X", "directional"), ("X", "full")}
    w = rows_of(report, "W", "full")[0]
    assert w.shape == (3, 4) and w.seed == 0 and w.step > 0 and w.tolerance == pytest.approx(1e-6)
    assert w.evaluations == 6 * 12  # the stencil at h, 2h, 4h along each coordinate
    assert w.max_rel_error < 1e-8 and w.uncertainty < 1e-8


def test_relu_with_broadcast_bias_passes():
    assert_all_pass(check(mc.sum(mc.relu(W @ X + b)), ["W", "b"]))


@pytest.mark.parametrize("L", [mc.logdet(S), mc.trace(mc.inv(S)), mc.det(S), mc.sum(mc.log(X)),
                               mc.sum(mc.sqrt(X * X + 1)), mc.sum(mc.log(W @ X)),
                               mc.sum(X / mc.norm(X)), mc.sum(mc.abs(X) ** 0.5)],
                         ids=str)
def test_domain_ops_pass(L):
    wrt = sorted(symbols_of(L))
    assert_all_pass(check(L, wrt))


def test_least_squares_passes():
    assert_all_pass(check(mc.norm(W @ x - y) ** 2, ["W", "x", "y"]))


def test_named_intermediate():
    Y = mc.named("Y", W @ X)
    L = mc.sum(mc.tanh(Y) * G)
    report = check(L, ["Y", "W"])
    assert_all_pass(report)
    assert rows_of(report, "Y")[0].shape == (3, 5)
    # the gradient with respect to Y is tanh'(Y) ⊙ G at Y = W X
    v = report.values
    expected = (1 - np.tanh(v["W"] @ v["X"]) ** 2) * v["G"]
    np.testing.assert_allclose(report.gradients["Y"], expected)


def test_named_intermediate_with_a_domain_inside_and_outside():
    Z = mc.named("Z", mc.log(X))
    assert_all_pass(check(mc.sum(mc.sqrt(Z * Z + 1) / mc.norm(Z)), [Z, X]))


def test_named_root():
    L = mc.named("L", mc.sum(W * W))
    assert_all_pass(check(L, ["L", "W"]))


# --- wrong gradients fail -----------------------------------------------------------------------

@pytest.mark.parametrize("wrong", [
    lambda g, out: (g * (1 - out),),  # a wrong rule
    lambda g, out: (2 * g * (1 - out ** 2),),  # off by a factor of 2
])
def test_wrong_rules_are_caught(monkeypatch, wrong):
    monkeypatch.setattr(OPS["tanh"], "vjp", wrong)
    report = check(mc.sum(mc.tanh(W @ x)), ["W", "x"])
    assert report.passed is False
    for method in ("directional", "full"):
        assert rows_of(report, method=method)
        assert all(r.passed is False for r in rows_of(report, method=method)), str(report)
    assert "FAIL" in str(report)


def test_wrong_rule_caught_on_a_large_variable(monkeypatch):
    monkeypatch.setattr(OPS["tanh"], "vjp", lambda g, out: (g * (1 - out ** 2) * 1.001,))
    report = check(mc.sum(mc.tanh(W @ x)), "W", dims={"m": 60, "n": 50})
    assert [r.method for r in report] == ["directional"]
    assert report.passed is False


# --- cost ---------------------------------------------------------------------------------------

def test_directional_cost_does_not_depend_on_size():
    L = mc.sum(mc.tanh(W @ x))
    small = check(L, "W", dims={"m": 3, "n": 3}, method="directional")
    large = check(L, "W", dims={"m": 300, "n": 300}, method="directional")
    assert_all_pass(small)
    assert_all_pass(large)
    # the step search and the stencils along the gradient's own direction and 3 random ones
    assert small[0].evaluations <= 6 * (4 + 8) and large[0].evaluations <= 6 * (4 + 8)


def test_large_variables_skip_full_differences():
    L = mc.sum(mc.tanh(W @ x))
    both = check(L, ["W", "x"], dims={"m": 30, "n": 20})
    assert [(r.variable, r.method) for r in both] == [("W", "directional"), ("x", "directional"),
                                                      ("x", "full")]
    assert "full differences skipped" in both[0].note
    full = check(L, "W", dims={"m": 30, "n": 20}, method="full")
    assert [r.method for r in full] == ["directional"] and "instead" in full[0].note
    assert_all_pass(full)


# --- domains ------------------------------------------------------------------------------------

def test_relu_never_fails_over_seeds():
    L = mc.sum(mc.relu(W @ X))
    for seed in range(30):
        report = check(L, ["W", "X"], dims={"m": 2, "n": 2, "B": 3}, seed=seed)
        assert report.passed is True, str(report)


def test_kinks_inside_a_wide_stencil_shorten_the_step_not_fail():
    L = mc.sum(mc.relu(W @ X))
    shortened = 0
    for seed in range(20):
        report = check(L, ["W", "X"], seed=seed, rel_step=0.02)
        assert report.passed is True, str(report)
        for r in report:
            if "step shortened" in r.note:
                h0 = 0.02 * max(1.0, np.max(np.abs(report.values[r.variable])))
                assert "relu crosses a kink" in r.note and r.step <= h0, str(report)
                shortened += 1
    assert shortened > 0  # a kink limited the step somewhere, and said so


def test_abs_and_step_never_fail_over_seeds():
    L = mc.sum(mc.abs(W @ x - y) * mc.step(W @ x))
    for seed in range(20):
        assert check(L, ["W", "x", "y"], dims={"m": 3, "n": 2}, seed=seed).passed is True


def test_logdet_passes_over_seeds():
    for seed in range(20):
        report = check(mc.logdet(S), "S", seed=seed)
        assert report.passed is True, str(report)


def test_logdet_of_a_product_passes_over_seeds():
    A = mc.Matrix("A", "n", "n")
    for seed in range(10):
        assert check(mc.logdet(A @ A.T + S @ S.T), ["A", "S"], seed=seed).passed is True


def test_unmeetable_domain_is_skipped():
    report = check(mc.sum(mc.log(-mc.exp(X))), "X")
    assert report.passed is None
    assert all(r.passed is None and r.status == "SKIPPED" for r in report)
    assert all("log" in r.note for r in report)
    assert "SKIPPED" in str(report)


def test_kink_inside_the_stencil_is_skipped_not_failed():
    v = mc.Vector("v", 3)
    report = check(mc.sum(mc.relu(v)), "v", values={"v": [1.0, 0.0, -1.0]})
    assert report.passed is None
    assert "relu" in report[0].note and "kink" in report[0].note


def test_a_step_shortens_to_stay_off_a_kink_or_an_edge():
    v = mc.Vector("v", 3)
    # 1e-5 from relu's kink: the step shortens until the stencil (±4h) no longer crosses it
    report = check(mc.sum(mc.relu(v)), "v", values={"v": [1.0, 1e-5, -1.0]})
    assert report.passed is True and all(4 * r.step < 1e-5 for r in report)
    report = check(mc.sum(mc.log(v)), "v", values={"v": [1.0, 0.01, 2.0]})
    assert report.passed is True and all(4 * r.step < 0.01 for r in report)
    report = check(mc.sum(mc.relu(v)), "v", values={"v": [1.0, 1e-3, -1.0]})
    assert report.passed is True


def test_singular_user_matrix_is_skipped():
    report = check(mc.trace(mc.inv(S)), "S", values={"S": np.ones((4, 4))})
    assert report.passed is None and "inv" in report[0].note


# --- user values --------------------------------------------------------------------------------

def test_user_values_are_used():
    rng = np.random.default_rng(123)
    Wv, Gv = rng.standard_normal((3, 4)), rng.standard_normal((3, 5))
    report = check(mc.sum(G * (W @ X)), ["X", "W"], values={"W": Wv, "G": Gv})
    assert_all_pass(report)
    np.testing.assert_array_equal(report.values["W"], Wv)
    np.testing.assert_allclose(report.gradients["X"], Wv.T @ Gv)
    np.testing.assert_allclose(report.gradients["W"], Gv @ report.values["X"].T)


def test_user_values_set_the_dimensions():
    Wv = np.ones((6, 2)) * 0.3
    report = check(mc.sum(mc.tanh(W @ X)), "X", values={"W": Wv})
    assert report[0].shape == (2, 5)
    assert report.dims == {"m": 6, "n": 2, "B": 5}


# --- reports ------------------------------------------------------------------------------------

def test_report_text():
    text = str(check(mc.sum(G * (W @ X)), ["W", "X"]))
    for word in ("W", "X", "directional", "full", "PASS", "max abs err", "max rel err", "rtol"):
        assert word in text
    assert "e-1" in text  # errors in scientific notation


def test_seed_is_reproducible():
    a = check(mc.sum(mc.tanh(W @ X)), "W", seed=7)
    c = check(mc.sum(mc.tanh(W @ X)), "W", seed=7)
    assert [r.max_abs_error for r in a] == [r.max_abs_error for r in c]
    np.testing.assert_array_equal(a.values["W"], c.values["W"])


# --- bad arguments ------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, message", [
    ({"expr": mc.sum(W), "wrt": "Q"}, "Q"),
    ({"expr": W @ X, "wrt": "W"}, "scalar"),
    ({"expr": mc.sum(W), "wrt": "W", "dims": {"m": 3}}, "dimension n"),
    ({"expr": mc.sum(W), "wrt": "W", "dims": {"m": 0, "n": 2}}, "positive"),
    ({"expr": mc.sum(W), "wrt": "W", "method": "exact"}, "method"),
    ({"expr": mc.sum(W), "wrt": x}, "does not occur"),
    ({"expr": mc.sum(W), "wrt": "W", "values": {"Z": 1.0}}, "Z"),
    ({"expr": mc.sum(W), "wrt": "W", "values": {"W": np.ones((2, 2))}, "dims": {"m": 3, "n": 4}}, "W"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(MatcalcError, match=message):
        check(**kwargs)


@pytest.mark.parametrize("kwargs, message", [
    ({"directions": 0}, "directions must be a positive integer"),
    ({"directions": 2.5}, "directions must be a positive integer"),
    ({"directions": "3"}, "directions must be a positive integer"),
    ({"rel_step": 0}, "rel_step must be a positive finite number"),
    ({"rel_step": -1e-4}, "rel_step must be a positive"),
    ({"rel_step": float("nan")}, "rel_step must be a positive"),
    ({"rel_step": 2.0}, "below 1"),
    ({"rel_step": "1e-4"}, "rel_step"),
    ({"full_limit": "a"}, "full_limit must be a non-negative integer, got 'a'"),
    ({"full_limit": -1}, "full_limit"),
    ({"rtol": None}, "rtol must be a non-negative finite number"),
    ({"atol": -1.0}, "atol"),
    ({"atol": float("inf")}, "atol"),
    ({"tries": 0}, "tries must be a positive integer"),
    ({"seed": -1}, "seed"),
    ({"seed": 1.5}, "seed"),
    ({"method": ["both"]}, "method must be one of"),
])
def test_bad_option_types_are_refused_before_any_work(kwargs, message):
    with pytest.raises(CheckError, match=message):
        check(mc.sum(W), "W", **kwargs)


@pytest.mark.parametrize("kwargs", [{"directions": 10**12}, {"tries": 10**9}])
def test_counts_above_the_limits_are_refused(kwargs):
    with pytest.raises(SizeLimitError, match="limit"):
        check(mc.sum(W), "W", **kwargs)


def test_the_directions_cap_is_configurable():
    with limits(max_directions=4):
        with pytest.raises(SizeLimitError, match="directions=5 is more"):
            check(mc.sum(W * W), "W", directions=5)
        assert check(mc.sum(W * W), "W", directions=4, method="directional").passed is True
        # full differences need one stencil per coordinate: 12 > 4 is refused for them
        report = check(mc.sum(W * W), "W", method="full")
        assert [r.method for r in report] == ["directional"]
        assert "max_directions=4" in report[0].note


def test_check_error_is_a_matcalc_error():
    assert issubclass(CheckError, MatcalcError)


# --- substitute ---------------------------------------------------------------------------------

def test_substitute():
    Y = mc.named("Y", W @ X)
    L = mc.sum(mc.relu(Y) + Y)
    Z = mc.Matrix("Z", "m", "B")
    out = substitute(L, {Y: Z})
    assert out is mc.sum(mc.relu(Z) + Z)
    assert substitute(L, {}) is L
    assert substitute([L, Y], {Y: Z}) == [out, Z]
    with pytest.raises(MatcalcError):
        substitute(L, {Y: W})
