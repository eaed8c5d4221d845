"""Adding an op is one record: declared inside this test, it is parsed (text and LaTeX), evaluated,
differentiated (VJP and Jacobian), printed, compiled for every backend and listed in the catalogue,
with no other edit anywhere."""

from __future__ import annotations

import numpy as np
import pytest
from optional import require

import matcalc as mc
from matcalc.catalogue import catalogue_markdown
from matcalc.expr import PREC_ATOM, unregister
from matcalc.ops._base import defop
from matcalc.ops.structure import dvec


@pytest.fixture
def cube():
    """cube(A) = A ⊙ A ⊙ A, declared in one record."""
    op = defop(
        "cube", 1,
        spell=("cube",),
        latex_in=("cube",),
        shape=lambda args: args[0].shape,
        vjp=lambda g, out: (g * (3 * out.args[0] ** 2),),
        jac=lambda out, d: None if d[0] is None else dvec(3 * out.args[0] ** 2) @ d[0],
        latex=lambda n: [r"\operatorname{cube}\left(", (0, 0), r"\right)"],
        prec=PREC_ATOM,
        kind="elementwise",
        doc="A ⊙ A ⊙ A; ∂/∂A = 3 G ⊙ A².",
        code={"numpy": "np.power({0}, 3)", "torch": "torch.pow({0}, 3)"},
        sample=lambda S: Expr_cube(S.Z),
    )
    yield op
    unregister("cube")


def Expr_cube(a):
    return mc.OPS["cube"].build(a)


SHAPES = {"W": ("m", "n"), "x": ("n", 1)}
VALUES = {"W": np.array([[0.5, -1.0], [2.0, 0.25], [-0.5, 1.5]]), "x": np.array([[1.0], [-2.0]])}


def test_parse_and_parse_latex_know_it(cube):
    a = mc.parse("L = sum(cube(W @ x))", SHAPES)
    b = mc.parse_latex(r"\mathbf{1}^\top \operatorname{cube}(W x)", SHAPES)
    assert a.op.name == "named" and a.args[0].args[0].op is cube
    np.testing.assert_allclose(mc.evaluate(a, VALUES), mc.evaluate(b, VALUES))


def test_evaluate_grad_and_jacobian(cube):
    L = mc.parse("L = sum(cube(W @ x))", SHAPES)
    w, xv = VALUES["W"], VALUES["x"]
    np.testing.assert_allclose(mc.evaluate(L, VALUES), [[np.sum((w @ xv) ** 3)]])
    gW = mc.evaluate(mc.grad(L, "W"), VALUES)
    np.testing.assert_allclose(gW, 3 * (w @ xv) ** 2 @ xv.T)
    assert mc.check(L, ["W", "x"], dims={"m": 3, "n": 2}).passed
    J = mc.evaluate(mc.jacobian(mc.OPS["cube"].build(mc.Matrix("W", "m", "n") @
                                                     mc.Matrix("x", "n", 1)), "x"), VALUES)
    np.testing.assert_allclose(J, np.diag((3 * (w @ xv) ** 2)[:, 0]) @ w)


def test_latex_and_text(cube):
    e = mc.OPS["cube"].build(mc.Matrix("W", "m", "n"))
    assert str(e) == "cube(W)"
    assert mc.latex(e) == r"\operatorname{cube}\left(W\right)"
    assert mc.parse_latex(mc.latex(e), SHAPES) is e


@pytest.mark.parametrize("backend", ["numpy", "torch", "jax"])
def test_compile_on_every_backend(cube, backend):
    L = mc.parse("L = sum(cube(W @ x))", SHAPES)
    outs = [L, mc.grad(L, "W")]
    want = mc.evaluate_many(outs, VALUES)
    if backend != "numpy":
        require(backend)
    if backend == "jax":
        import jax

        jax.config.update("jax_enable_x64", True)
    got = mc.compile(outs, backend=backend)(**VALUES)
    for g, w in zip(got, want):
        np.testing.assert_allclose(np.asarray(g), w, rtol=1e-12)


def test_catalogue_lists_it(cube):
    text = catalogue_markdown()
    assert "## `cube`" in text and "A ⊙ A ⊙ A" in text
    assert "cube(Z)" in text
