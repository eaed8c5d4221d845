"""staging.split cuts a graph that is linear in some symbols: the residuals read inputs and no
linear symbol, each feeds a node that reads one, and the rewritten graph fed the residuals' values
has the original's value."""

from __future__ import annotations

import numpy as np
import pytest
from export_cases import close, layer_norm, sample
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from optional import require
from strategies import SIZES, expressions

import matcalc as mc
from matcalc.evaluate import symbols_of
from matcalc.staging import split


def _check(exprs, linear, inputs, values, dims=None):
    cut = split(exprs, linear, inputs)
    linear_ids = {id(s) for s in linear}
    reads_linear = set()
    for node in mc.toposort(list(exprs)):
        if id(node) in linear_ids or any(id(a) in reads_linear for a in node.args):
            reads_linear.add(id(node))
    users = {id(a) for n in mc.toposort(list(exprs)) if id(n) in reads_linear for a in n.args}
    for r in cut.residuals:
        assert id(r) not in reads_linear and symbols_of(r), r
        assert id(r) in users or r in exprs
    kept = mc.evaluate_many(list(cut.residuals), values, dims) if cut.residuals else []
    fed = {**values, **{s.name: v for s, v in zip(cut.symbols, kept)}}
    for got, want in zip(mc.evaluate_many(list(cut.exprs), fed, dims),
                         mc.evaluate_many(list(exprs), values, dims)):
        close(got, want, rtol=1e-12)
    return cut


def test_layer_norm_backward_keeps_the_forward_values():
    Y, names = layer_norm()
    G = mc.cotangent("Y", "B", "d")
    grads = mc.vjp(Y, names, G)
    inputs = list(symbols_of(Y).values())
    rng = np.random.default_rng(0)
    values = {"X": rng.normal(size=(4, 3)), "gamma": rng.normal(size=(1, 3)),
              "beta": rng.normal(size=(1, 3)), "dL_dY": rng.normal(size=(4, 3))}
    cut = _check(grads, [G], inputs, values)
    shown = {str(r) for r in cut.residuals}
    assert "gamma" in shown and "X - mean(X, axis=1)" in shown
    # what reads no input (ones(1, d), the size d) is left to the second stage
    assert all(symbols_of(r) for r in cut.residuals)
    assert "ones(1, d)" in str(cut.exprs[0]) and "beta" not in shown


@settings(max_examples=60, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(expressions(max_depth=4), SIZES, st.integers(0, 2**16))
def test_random_backward_passes_split_without_changing_their_value(e, sizes, seed):
    symbols = symbols_of(e)
    if not symbols:
        return
    G = mc.Matrix("G_upstream", *e.shape)
    grads = mc.vjp(e, list(symbols.values()), G)
    values = sample([e], sizes, seed)
    values["G_upstream"] = np.random.default_rng(seed).uniform(
        -1, 1, size=tuple(d.value(sizes) for d in e.shape))
    _check(grads, [G], list(symbols.values()), values, dims=sizes)


def test_a_sum_of_dimensions_binds_nothing_by_itself():
    """An axis of size m + 1 gives generated code no value of m: bound_dims leaves it out (it
    raised InternalError), and export asks for m, then works with dims={'m': …}."""
    from matcalc.staging import bound_dims

    S, W = mc.Matrix("S", "m + 1", 2), mc.Matrix("W", 2, "n")
    assert bound_dims([S, W]) == {"n"}
    require("torch")
    L = mc.sum(mc.tanh(S @ W))
    with pytest.raises(mc.DimensionBindingError, match="dimension m"):
        mc.export(L, [S, W], backend="torch")
    mc.export(L, [S, W], backend="torch", dims={"m": 3})
