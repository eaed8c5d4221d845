"""The input language's syntax for the newer ops: indexing, block lists, comparisons, several
values (w, V = eigh(A)), keyword-only and boolean parameters, norm orders; each prints back as
it reads."""

from __future__ import annotations

import pytest

import matcalc as mc

SHAPES = {"W": ("m", "n"), "V": ("m", "k"), "A": ("n", "n"), "x": ("n", 1)}


@pytest.mark.parametrize("source, shape", [
    ("W[0:3, :]", (3, "n")), ("W[:, 1]", ("m", 1)), ("W[-1, -1]", (1, 1)), ("W[:k, :]", ("k", "n")),
    ("x[1:n-1]", ("n - 2", 1)), ("[W, V]", ("m", "k + n")), ("[[A], [W]]", ("m + n", "n")),
    ("W > 0", ("m", "n")), ("(W >= V[:, :n]) * W", ("m", "n")), ("W == W", ("m", "n")),
    ("where(W != 0, W, 1)", ("m", "n")), ("max(W, axis=0)", (1, "n")),
    ("solve_triangular(A, x, lower=False)", ("n", 1)), ("norm(x, ord=inf)", (1, 1)),
    ("norm(A, ord=nuc)", (1, 1)), ("x ** (1/3)", ("n", 1)), ("x ** x", ("n", 1)),
    ("hstack(W, V, W)", ("m", "k + 2*n")), ("concat(A, W, axis=0)", ("m + n", "n")),
    ("fliplr(W) + flipud(W) + flip(W)", ("m", "n")), ("square(W) + reciprocal(W)", ("m", "n")),
])
def test_reads_and_prints_back(source, shape):
    e = mc.parse(source, SHAPES)
    assert e.shape == (mc.dim(shape[0]), mc.dim(shape[1]))
    assert mc.parse(mc.program_text(e), SHAPES) is e


def test_several_values_are_named():
    L = mc.parse("w, Q = eigh(A); s, l = slogdet(A); sum(w) + l + Q[0, 0]", SHAPES)
    names = {n.name for n in mc.toposort([L]) if n.op.name == "named"}
    assert names == {"w", "Q", "l"}
    assert mc.check(L, "A").passed is True


@pytest.mark.parametrize("source, needle", [
    ("eigh(A) + A", "name them"), ("w, V = A", "2 names"), ("a, b, c = eigh(A)", "3 names"),
    ("max(W, 0)", "maximum(Z, 0)"), ("True * W", "keyword"), ("W[0:3:1]", "unexpected ':'"),
    ("norm(x, ord=half)", "ord"),
])
def test_refusals(source, needle):
    with pytest.raises(mc.MatcalcError) as info:
        mc.parse(source, SHAPES)
    assert needle in str(info.value)
