"""export(…, backend="jax"): a jax.custom_vjp function whose values and gradients equal JAX's own
autodiff of the same forward code, under jax.jit, jax.grad and jax.vmap over a leading batch axis;
its backward reads the residuals the forward saved instead of running the forward again."""

from __future__ import annotations

import re

import numpy as np
import pytest
from export_cases import close, dense_tanh, layer_norm, sample
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from optional import require
from strategies import SIZES, expressions

import matcalc as mc
from matcalc.evaluate import symbols_of
from matcalc.staging import unbound_dims


@pytest.fixture(scope="module")
def jax():
    jax = require("jax")
    old = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    yield jax
    jax.config.update("jax_enable_x64", old)


def reference(expr, names, dims=None):
    """The same forward code with no custom rule: JAX differentiates it itself."""
    fn = mc.compile(expr, backend="jax", dims=dims)._fn
    scalar = isinstance(expr, mc.Expr) and expr.is_scalar

    def f(*args):
        (out,) = fn(**dict(zip(names, args)))
        return out.reshape(()) if scalar else out

    return f


def _layer_norm_values(B=5, d=4, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(B, d)), rng.normal(size=(1, d)), rng.normal(size=(1, d))]


def test_layer_norm_values_and_gradients_equal_jax_autodiff(jax):
    Y, names = layer_norm()
    f, ref = mc.export(Y, names), reference(Y, names)
    args = _layer_norm_values()
    close(f(*args), ref(*args))
    x = args[0]
    want = (x - x.mean(1, keepdims=True)) / np.sqrt(x.var(1, keepdims=True) + 1e-5)
    close(f(*args), want * args[1] + args[2])

    def loss(g):  # a nonlinear loss of the output, so the upstream gradient varies
        return lambda *a: jax.numpy.sum(g(*a) ** 3)

    got = jax.grad(loss(f), argnums=(0, 1, 2))(*args)
    for g, w in zip(got, jax.grad(loss(ref), argnums=(0, 1, 2))(*args)):
        close(g, w)


def test_jit_grad_and_vmap_over_a_leading_batch_axis(jax):
    jnp = jax.numpy
    Y, names = dense_tanh()
    f, ref = mc.export(Y, names), reference(Y, names)
    rng = np.random.default_rng(1)
    W, b = rng.normal(size=(3, 4)), rng.normal(size=(3, 1))
    Xs = rng.normal(size=(6, 4, 2))  # six batches of X, each 4×2

    def loss(g):
        return lambda W, X, b: jnp.sum(jnp.sin(g(W, X, b)))

    # the function itself, batched over X with W and b shared
    close(jax.jit(jax.vmap(f, in_axes=(None, 0, None)))(W, Xs, b),
          np.stack([np.tanh(W @ X + b) for X in Xs]))
    # per-batch gradients: vmap of grad, under jit
    per = jax.jit(jax.vmap(jax.grad(loss(f), argnums=(0, 1, 2)), in_axes=(None, 0, None)))
    want = jax.vmap(jax.grad(loss(ref), argnums=(0, 1, 2)), in_axes=(None, 0, None))(W, Xs, b)
    for g, w in zip(per(W, Xs, b), want):
        assert g.shape[0] == 6
        close(g, w)

    # the gradient of a sum over the batch: shared inputs get the sum of the batch's cotangents
    def total(g):
        return lambda W, Xs, b: jnp.sum(jax.vmap(loss(g), in_axes=(None, 0, None))(W, Xs, b))

    got = jax.jit(jax.grad(total(f), argnums=(0, 1, 2)))(W, Xs, b)
    for g, w in zip(got, jax.grad(total(ref), argnums=(0, 1, 2))(W, Xs, b)):
        close(g, w)


def test_backward_reads_the_residuals_instead_of_the_forward(jax):
    Y, names = dense_tanh()
    text = mc.export(Y, names).sources()
    # the forward computes tanh(W X + b) once and hands it over; the backward never recomputes it
    assert text["forward"].count("np.tanh(") == 1
    assert "np.tanh(" not in text["backward"] and not re.search(r"W @ X", text["backward"])
    assert re.search(r"def f\(\*, dL_dY, r0, r1, r2\):", text["backward"])
    Y, names = layer_norm()
    text = mc.export(Y, names).sources()
    # the backward reads only the upstream gradient and residuals: σ is one of them
    assert re.search(r"def f\(\*, dL_dY(, r\d+)+\):", text["backward"])
    assert "np.sqrt(" not in text["backward"] and text["forward"].count("np.sqrt(") == 1


def test_shapes_dtypes_and_keywords(jax):
    jnp = jax.numpy
    w, X, s = mc.Vector("w", "n"), mc.Matrix("X", "n", "m"), mc.Scalar("s")
    L = mc.sum(mc.softplus(s * (X.T @ w)))
    f = mc.export(L, ["w", "X", "s"])
    rng = np.random.default_rng(2)
    wv, Xv = rng.normal(size=3), rng.normal(size=(3, 5))  # w as a 1-D vector
    value = f(wv, Xv, 0.5)
    assert value.shape == ()  # a 1×1 output is a scalar, as jax.grad wants
    close(value, np.sum(np.logaddexp(0, 0.5 * (Xv.T @ wv))))
    gw, gX, gs = jax.grad(f, argnums=(0, 1, 2))(wv, Xv, 0.5)
    assert gw.shape == (3,) and gX.shape == (3, 5) and gs.shape == ()
    sig = 1 / (1 + np.exp(-0.5 * (Xv.T @ wv)))
    close(gw, Xv @ (0.5 * sig))
    close(f(X=Xv, s=0.5, w=wv), value)
    # float32 inputs give float32 outputs and gradients, whatever JAX computes inside
    g32 = jax.grad(f)(jnp.asarray(wv, jnp.float32), jnp.asarray(Xv, jnp.float32),
                      jnp.float32(0.5))
    assert f(wv.astype(np.float32), Xv.astype(np.float32), np.float32(0.5)).dtype == jnp.float32
    assert g32.dtype == jnp.float32
    close(g32, gw, rtol=1e-5)


def test_several_outputs(jax):
    jnp = jax.numpy
    A, B = mc.Matrix("A", "m", "n"), mc.Matrix("B", "n", "m")
    outs = [A @ B, mc.sum(mc.exp(A) * B.T)]
    f, names = mc.export(outs, ["A", "B"]), ["A", "B"]
    refs = [reference(e, names) for e in outs]
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(2, 3)), rng.normal(size=(3, 2))
    got = f(a, b)
    assert isinstance(got, tuple) and got[0].shape == (2, 2) and got[1].shape == ()

    def loss(y):
        return jnp.sum(jnp.cos(y[0])) * y[1]

    want = jax.grad(lambda a, b: loss([r(a, b) for r in refs]), argnums=(0, 1))(a, b)
    for g, w in zip(jax.grad(lambda a, b: loss(f(a, b)), argnums=(0, 1))(a, b), want):
        close(g, w)


def test_reverse_over_reverse_gives_the_hessian(jax):
    w, X = mc.Vector("w", "n"), mc.Matrix("X", "n", "m")
    L = mc.sum(mc.softplus(X.T @ w)) + mc.sum(w * w * w)
    f = mc.export(L, ["w", "X"])
    rng = np.random.default_rng(4)
    wv, Xv = rng.normal(size=(3, 1)), rng.normal(size=(3, 6))
    H = jax.jacrev(jax.grad(f))(wv, Xv).reshape(3, 3)
    close(H, mc.evaluate(mc.hessian(L, w), {"w": wv, "X": Xv}))


@settings(max_examples=40, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(expressions(max_depth=4), SIZES, st.integers(0, 2**16))
def test_random_expressions_match_jax_autodiff(jax, e, sizes, seed):
    symbols = symbols_of(e)
    if not symbols:
        return
    names = sorted(symbols)
    dims = {d: sizes[d] for d in unbound_dims([e])}  # eye(k) alone, say
    values = sample([e], sizes, seed)
    args = [values[n] for n in names]
    f, ref = mc.export(e, names, dims=dims), reference(e, names, dims)
    shape = tuple(d.value(sizes) for d in e.shape) if not e.is_scalar else ()
    upstream = np.random.default_rng(seed + 1).uniform(-1, 1, size=shape)

    @jax.jit  # one compilation per example, instead of one per primitive and shape
    def both(args, upstream):
        (y, pull), (y_ref, pull_ref) = jax.vjp(f, *args), jax.vjp(ref, *args)
        return y, y_ref, pull(upstream), pull_ref(upstream)

    y, y_ref, grads, want = both(args, upstream)
    close(y, y_ref)
    for g, w in zip(grads, want):
        close(g, w, rtol=1e-7)


def test_errors_name_what_is_wrong(jax):
    Y, names = dense_tanh()
    with pytest.raises(mc.InputError, match=r"also reads X \(k×B\), b \(n×1\)"):
        mc.export(Y, ["W"])
    with pytest.raises(mc.InputError, match="reads no input named 'Z'"):
        mc.export(Y, ["W", "X", "b", "Z"])
    with pytest.raises(mc.InputError, match="listed twice"):
        mc.export(Y, ["W", "X", "b", "W"])
    with pytest.raises(mc.MatcalcError, match="unknown backend 'tensorflow'"):
        mc.export(Y, names, backend="tensorflow")
    f = mc.export(Y, names)
    rng = np.random.default_rng(5)
    W, X, b = rng.normal(size=(3, 4)), rng.normal(size=(4, 2)), rng.normal(size=(3, 1))
    with pytest.raises(mc.DimensionBindingError, match=r"dimension k is 4 from W but 5 from X"):
        jax.jit(f)(W, rng.normal(size=(5, 2)), b)
    with pytest.raises(mc.InputError, match="missing b"):
        f(W, X)
    with pytest.raises(mc.InputError, match="no input named 'V'"):
        f(W, X, V=b)
