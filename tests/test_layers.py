"""Network layers and losses: every parameter's gradient passes the finite-difference check.

Each row of the table builds a scalar loss from a layer (or a small network) and lists all its
parameters; the check runs both methods (directional and, for the small variables, full
differences). Inputs that a loss needs in a particular form (class probabilities, ±1 labels) are
given as values; everything else is sampled by the checker.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pytest

import matcalc as mc
from matcalc.ops import size

DIMS = {"m": 3, "n": 4, "B": 5}
EPS = 1e-5

W = mc.Matrix("W", "m", "n")
W1 = mc.Matrix("W1", "m", "n")
W2 = mc.Matrix("W2", "m", "m")
W3 = mc.Matrix("W3", "m", "m")
X = mc.Matrix("X", "n", "B")
G = mc.Matrix("G", "m", "B")
Y = mc.Matrix("Y", "m", "B")
b = mc.Vector("b", "m")
b1 = mc.Vector("b1", "m")
b2 = mc.Vector("b2", "m")
b3 = mc.Vector("b3", "m")
gamma = mc.Vector("gamma", "m")
beta = mc.Vector("beta", "m")
w = mc.Vector("w", "n")
y = mc.Vector("y", "B")
lam = mc.Scalar("lam")
x = mc.Vector("x", "n")
Sq = mc.Matrix("W", "n", "n")


def _rng(seed=1):
    return np.random.default_rng(seed)


def probabilities(shape=(3, 5), seed=1) -> np.ndarray:
    """Positive columns summing to one (soft labels)."""
    p = _rng(seed).uniform(0.1, 1.0, shape)
    return p / p.sum(axis=0, keepdims=True)


def labels(n=5, seed=2) -> np.ndarray:
    return _rng(seed).choice([-1.0, 1.0], (n, 1))


# --- layers ------------------------------------------------------------------------------------

def affine():
    return mc.sum(G * (W @ X + b)), ["W", "X", "b"]


def relu_mlp():
    H = mc.relu(W1 @ X + b1)
    return mc.sum(G * (W2 @ H + b2)), ["W1", "b1", "W2", "b2"]


def sigmoid_mlp():
    H1 = mc.sigmoid(W1 @ X + b1)
    H2 = mc.sigmoid(W2 @ H1 + b2)
    return mc.sum(G * mc.sigmoid(W3 @ H2 + b3)), ["W1", "b1", "W2", "b2", "W3", "b3"]


def tanh_mlp():
    H1 = mc.tanh(W1 @ X + b1)
    H2 = mc.tanh(W2 @ H1 + b2)
    return mc.sum(G * (W3 @ H2 + b3)), ["W1", "b1", "W2", "b2", "W3", "b3", "X"]


def softmax_cross_entropy():
    Z = W @ X + b
    return -mc.sum(Y * mc.log_softmax(Z, axis=0)) / size("B"), ["W", "b", "X"]


def softmax_then_log_cross_entropy():
    Z = W @ X + b
    return -mc.mean(mc.sum(Y * mc.log(mc.softmax(Z, axis=0)), axis=0)), ["W", "b"]


def batch_norm():
    Z = W @ X
    mu = mc.mean(Z, axis=1)  # m×1: over the batch
    var = mc.mean((Z - mu) ** 2, axis=1)
    Zhat = (Z - mu) / mc.sqrt(var + EPS)
    return mc.sum(G * (gamma * Zhat + beta)), ["W", "X", "gamma", "beta"]


def layer_norm():
    Z = W @ X
    mu = mc.mean(Z, axis=0)  # 1×B: over the features
    var = mc.mean((Z - mu) ** 2, axis=0)
    Zhat = (Z - mu) / mc.sqrt(var + EPS)
    return mc.sum(G * mc.tanh(gamma * Zhat + beta)), ["W", "X", "gamma", "beta"]


def attention_head():
    Wq, Wk, Wv = (mc.Matrix(n, "m", "n") for n in ("Wq", "Wk", "Wv"))
    Q, K, V = Wq @ X, Wk @ X, Wv @ X  # m×B each: m features, B tokens
    A = mc.softmax(Q.T @ K / mc.sqrt(size("m")), axis=1)  # B×B, each query's row sums to 1
    out = V @ A.T  # m×B
    return mc.sum(G * out), ["Wq", "Wk", "Wv", "X"]


def logistic_loss():
    return mc.sum(mc.log(1 + mc.exp(-y * (X.T @ w)))), ["w", "X"]


def hinge_loss():
    return mc.sum(mc.relu(1 - y * (X.T @ w))) + 0.1 * mc.norm(w) ** 2, ["w", "X"]


def ridge():
    return mc.norm(X.T @ w - y) ** 2 + lam * mc.norm(w) ** 2, ["w", "lam", "X", "y"]


def weight_used_twice():
    return mc.sum(mc.tanh(Sq @ mc.relu(Sq @ x))), ["W", "x"]


def softplus_layer():
    return mc.sum(G * mc.softplus(W @ X + b)), ["W", "X", "b"]


def logsumexp_layer():
    return mc.sum(mc.logsumexp(W @ X + b, axis=0)) + mc.logsumexp(W), ["W", "X", "b"]


def mean_squared_error():
    return mc.mean((W @ X + b - Y) ** 2), ["W", "X", "b", "Y"]


def residual_block():
    Sq2 = mc.Matrix("V", "n", "n")
    return mc.sum(mc.tanh(X + Sq2 @ mc.relu(Sq @ X))), ["W", "V", "X"]


def tied_autoencoder():
    return mc.norm(X - W.T @ mc.sigmoid(W @ X + b)) ** 2, ["W", "b", "X"]


def rnn_two_steps():
    Wx = mc.Matrix("Wx", "m", "n")
    Wh = mc.Matrix("Wh", "m", "m")
    h0 = mc.Vector("h0", "m")
    x1, x2 = mc.Vector("x1", "n"), mc.Vector("x2", "n")
    h1 = mc.tanh(Wx @ x1 + Wh @ h0 + b)
    h2 = mc.tanh(Wx @ x2 + Wh @ h1 + b)
    return mc.sum(h2 * h2), ["Wx", "Wh", "b", "h0", "x1"]


def gaussian_nll():
    S = mc.Matrix("S", "n", "n")
    mu = mc.Vector("mu", "n")
    Dx = X - mu
    return (0.5 * size("B") * mc.logdet(S) + 0.5 * mc.trace(mc.inv(S) @ Dx @ Dx.T)), ["S", "mu"]


def cosine_similarity():
    a, c = mc.Vector("a", "n"), mc.Vector("c", "n")
    return (a.T @ c) / (mc.norm(a) * mc.norm(c)), ["a", "c"]


@dataclass(frozen=True)
class Layer:
    build: Callable
    values: Callable[[], dict] = field(default=dict)


LAYERS = {
    "affine": Layer(affine),
    "relu_mlp": Layer(relu_mlp),
    "sigmoid_mlp": Layer(sigmoid_mlp),
    "tanh_mlp": Layer(tanh_mlp),
    "softmax_cross_entropy": Layer(softmax_cross_entropy, lambda: {"Y": probabilities()}),
    "log_of_softmax_cross_entropy": Layer(softmax_then_log_cross_entropy,
                                          lambda: {"Y": probabilities()}),
    "batch_norm": Layer(batch_norm),
    "layer_norm": Layer(layer_norm),
    "attention_head": Layer(attention_head),
    "logistic_loss": Layer(logistic_loss, lambda: {"y": labels()}),
    "hinge_loss": Layer(hinge_loss, lambda: {"y": labels()}),
    "ridge": Layer(ridge),
    "weight_used_twice": Layer(weight_used_twice),
    "softplus": Layer(softplus_layer),
    "logsumexp": Layer(logsumexp_layer),
    "mean_squared_error": Layer(mean_squared_error),
    "residual_block": Layer(residual_block),
    "tied_autoencoder": Layer(tied_autoencoder),
    "rnn_two_steps": Layer(rnn_two_steps),
    "gaussian_nll": Layer(gaussian_nll),
    "cosine_similarity": Layer(cosine_similarity),
}


def test_at_least_fifteen_layers():
    assert len(LAYERS) >= 15


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("name", sorted(LAYERS))
def test_every_parameter_passes_the_check(name, seed):
    layer = LAYERS[name]
    L, params = layer.build()
    assert L.is_scalar
    report = mc.check(L, params, dims=DIMS, seed=seed, values=layer.values())
    assert report.passed is True, f"{name}: {L}\n{report}"
    assert {r.variable for r in report} == set(params)


# --- specific closed forms ----------------------------------------------------------------------

def test_bias_gradient_sums_over_the_batch():
    L, _ = affine()
    gb = mc.grad(L, "b")
    assert gb is mc.sum(G, axis=1)
    Gv = _rng(3).normal(size=(3, 5))
    assert np.allclose(mc.evaluate(gb, {"G": Gv}), Gv.sum(axis=1, keepdims=True))


def test_bias_gradient_at_a_size_one_batch():
    L, params = affine()
    report = mc.check(L, params, dims={"m": 3, "n": 4, "B": 1})
    assert report.passed is True, str(report)


def test_softmax_cross_entropy_gradient_is_softmax_minus_labels():
    L, _ = softmax_cross_entropy()
    report = mc.check(L, ["W", "b"], dims=DIMS, values={"Y": probabilities()})
    v = report.values
    Z = v["W"] @ v["X"] + v["b"]
    P = np.exp(Z - Z.max(axis=0))
    P /= P.sum(axis=0)
    dZ = (P - v["Y"]) / 5
    gW, gb = mc.grad(L, ["W", "b"])
    assert np.allclose(mc.evaluate(gW, v), dZ @ v["X"].T)
    assert np.allclose(mc.evaluate(gb, v), dZ.sum(axis=1, keepdims=True))


def test_ridge_gradient_by_its_penalty():
    L, _ = ridge()
    g_lam, g_w = mc.grad(L, ["lam", "w"])
    assert g_lam.shape == lam.shape
    assert g_lam is mc.norm(w) ** 2
    report = mc.check(L, ["lam"], dims=DIMS)
    assert report.passed is True
    v = report.values
    assert np.allclose(mc.evaluate(g_w, v),
                       2 * v["X"] @ (v["X"].T @ v["w"] - v["y"]) + 2 * v["lam"] * v["w"])


def test_logistic_loss_gradient_closed_form():
    L, _ = logistic_loss()
    report = mc.check(L, ["w"], dims=DIMS, values={"y": labels()})
    v = report.values
    margins = v["y"] * (v["X"].T @ v["w"])
    expected = v["X"] @ (-v["y"] / (1 + np.exp(margins)))
    assert np.allclose(mc.evaluate(mc.grad(L, "w"), v), expected)


def test_weight_used_twice_accumulates_both_uses():
    L, _ = weight_used_twice()
    report = mc.check(L, ["W"], dims=DIMS)
    v = report.values
    Wv, xv = v["W"], v["x"]
    h = np.maximum(Wv @ xv, 0)
    d_out = 1 - np.tanh(Wv @ h) ** 2
    d_h = (Wv.T @ d_out) * (Wv @ xv > 0)
    expected = d_out @ h.T + d_h @ xv.T
    assert np.allclose(mc.evaluate(mc.grad(L, "W"), v), expected)


def test_gradient_by_a_named_intermediate():
    L = mc.parse("Y = W @ X; L = sum(tanh(Y))", {"W": ("m", "n"), "X": ("n", "B")})
    gY, gW = mc.grad(L, ["Y", "W"])
    assert gY.shape == (mc.dim("m"), mc.dim("B"))
    report = mc.check(L, ["Y", "W"], dims=DIMS)
    assert report.passed is True, str(report)
    v = report.values
    Yv = v["W"] @ v["X"]
    assert np.allclose(mc.evaluate(gY, v), 1 - np.tanh(Yv) ** 2)
    assert np.allclose(mc.evaluate(gW, v), (1 - np.tanh(Yv) ** 2) @ v["X"].T)


def test_batch_norm_gradient_sums_to_zero_over_the_batch():
    # shifting every example's pre-activation by the same amount does not change batch norm
    Z = mc.Matrix("Z", "m", "B")
    mu = mc.mean(Z, axis=1)
    var = mc.mean((Z - mu) ** 2, axis=1)
    L = mc.sum(G * (gamma * (Z - mu) / mc.sqrt(var + EPS) + beta))
    report = mc.check(L, ["Z", "gamma", "beta"], dims=DIMS)
    assert report.passed is True, str(report)
    gZ = mc.evaluate(mc.grad(L, "Z"), report.values)
    assert np.allclose(gZ.sum(axis=1), 0, atol=1e-8)
