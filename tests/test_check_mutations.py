"""check catches a wrong gradient of every op: a mutation test of the verifier.

For every op in the registry that has a VJP — read from ``mc.OPS`` when the test runs, so an op
added later (a user-defined elementwise function included) is covered without a new row — a
deliberately wrong VJP is injected and ``check`` must say FAIL:

* at the guarantee's threshold (docs/testing.md: no PASS for a relative gradient error ≥ 1e-4):
  every cotangent the op gives is scaled by 1 + 1e-4; an op whose cotangent is zero (step, sign)
  instead gets one of 1e-4 everywhere. FAIL is required for the loss as it is, scaled by 1e-12
  and scaled by 1e12 (scales cancel);
* under a constant offset of 1e12 (rounding relative to |f|): a cotangent off by a factor of 2
  must FAIL, and one off by 1e-4 must not PASS (float64 cannot always resolve it under such an
  offset: FAIL or SKIPPED);
* a dropped cotangent (the argument gets none) must FAIL.

The loss of each built-in op is its row in tests/test_grad_ops.py (which exercises every
broadcast); an op without a row is taken on its catalogue sample, or, for an elementwise
function, on a matrix.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sympy
from test_grad_ops import ROWS

import matcalc as mc
from matcalc.catalogue import SampleSymbols
from matcalc.evaluate import symbols_of
from matcalc.expr import Expr

DIMS = {"m": 2, "n": 3, "B": 2}
THRESHOLD = 1e-4

_z = sympy.Symbol("z")
# an op registered at run time, as a user's would be: the registry, not a list, is what is tested
SOFTSIGN = mc.elementwise("mutation_softsign", _z / (1 + sympy.Abs(_z)))


def loss_of(name: str) -> tuple[Expr, list[str]]:
    """A scalar loss that exercises the op, and the variables to check."""
    if name in ROWS:
        return ROWS[name]()
    op = mc.OPS[name]
    symbols = SampleSymbols()
    if op.sample is not None:
        e = op.sample(symbols)
    elif op.kind == "elementwise" and op.arity == 1:
        e = Expr.make(op, (symbols.Z,))
    else:
        raise AssertionError(f"no loss to mutate {name} in: give it a row in test_grad_ops.py "
                             f"or a catalogue sample")
    upstream = mc.Matrix("G_up", e.rows, e.cols)
    return mc.sum(upstream * e), sorted(symbols_of(e))


def mutable_ops() -> list[str]:
    """Every op with a VJP; of a user function's derivatives (made by SymPy on first use, each a
    registered op whose own derivative is made when it is differentiated) the first only, so
    that the chain ends."""
    return sorted(name for name, op in mc.OPS.items()
                  if op.vjp is not None and op.extra.get("order", 0) <= 1)


Mutation = Callable[["Expr | None", Expr, Expr], "Expr | None"]  # (cotangent, argument, g)


def scaled(factor: float) -> Mutation:
    return lambda cot, arg, g: None if cot is None else cot * factor


def shifted(amount: float) -> Mutation:
    """``amount`` times the upstream gradient added to the cotangent (for ops whose own
    cotangent is zero, step and sign: relative to the upstream, so that scales cancel)."""

    def mutation(cot: Expr | None, arg: Expr, g: Expr) -> Expr:
        extra = amount * (g if g.shape == arg.shape else mc.ones(*arg.shape) * mc.sum(g))
        return extra if cot is None else cot + extra

    return mutation


def dropped(cot: Expr | None, arg: Expr, g: Expr) -> Expr | None:
    return None


def inject(monkeypatch: pytest.MonkeyPatch, name: str, mutation: Mutation) -> None:
    op = mc.OPS[name]
    right = op.vjp
    assert right is not None

    def wrong(g: Expr, out: Expr) -> tuple[Expr | None, ...]:
        return tuple(mutation(c, a, g) for c, a in zip(right(g, out), out.args))

    monkeypatch.setattr(op, "vjp", wrong)


def gradient_is_zero(name: str, L: Expr) -> bool:
    """Whether the op's own cotangents are zero (step, sign): scaling them changes nothing."""
    op = mc.OPS[name]
    assert op.vjp is not None
    for node in mc.toposort([L]):
        if node.op is op:
            cots = op.vjp(mc.ones(*node.shape), node)
            if any(c is not None and c.op.name != "zeros" for c in cots):
                return False
    return True


def mutation_of(name: str, size: float) -> Mutation:
    """A relative error of ``size`` in the op's VJP: its cotangents scaled by 1 + size, or, where
    they are zero (step, sign), size times the upstream gradient added."""
    L, _ = loss_of(name)
    return shifted(size) if gradient_is_zero(name, L) else scaled(1 + size)


def verdicts(monkeypatch: pytest.MonkeyPatch, name: str, mutation: Mutation,
             wrap: Callable[[Expr], Expr]) -> mc.CheckReport:
    L, wrt = loss_of(name)
    with monkeypatch.context() as m:
        inject(m, name, mutation)
        return mc.check(wrap(L), wrt, dims=DIMS, seed=3)


def test_every_op_with_a_vjp_is_covered():
    names = mutable_ops()
    assert "mutation_softsign" in names and {"matmul", "logdet", "kron", "adj"} <= set(names)
    for name in names:
        L, _ = loss_of(name)
        assert any(n.op.name == name for n in mc.toposort([L])), name


SCALES = {"as it is": lambda L: L, "scaled by 1e-12": lambda L: 1e-12 * L,
          "scaled by 1e12": lambda L: 1e12 * L}


@pytest.mark.parametrize("scale", list(SCALES))
def test_an_error_at_the_threshold_fails_for_every_op(monkeypatch, scale):
    escaped = []
    for name in mutable_ops():
        report = verdicts(monkeypatch, name, mutation_of(name, THRESHOLD), SCALES[scale])
        if report.passed is not False:
            escaped.append(f"{name}: {report.summary()}")
    assert not escaped, "wrong VJPs not caught:\n" + "\n".join(escaped)


def test_a_gross_error_fails_under_a_large_offset(monkeypatch):
    escaped = []
    for name in mutable_ops():
        report = verdicts(monkeypatch, name, mutation_of(name, 1.0), lambda L: L + 1e12)
        if report.passed is not False:
            escaped.append(f"{name}: {report.summary()}")
    assert not escaped, "wrong VJPs not caught under +1e12:\n" + "\n".join(escaped)


def test_an_error_at_the_threshold_never_passes_under_a_large_offset(monkeypatch):
    passed = []
    for name in mutable_ops():
        report = verdicts(monkeypatch, name, mutation_of(name, THRESHOLD), lambda L: L + 1e12)
        if report.passed is True:
            passed.append(f"{name}: {report.summary()}")
    assert not passed, "wrong VJPs passed under +1e12:\n" + "\n".join(passed)


def test_a_dropped_cotangent_fails(monkeypatch):
    escaped = []
    for name in mutable_ops():
        L, _ = loss_of(name)
        if gradient_is_zero(name, L):
            continue  # nothing to drop
        report = verdicts(monkeypatch, name, dropped, lambda L: L)
        if report.passed is not False:
            escaped.append(f"{name}: {report.summary()}")
    assert not escaped, "dropped cotangents not caught:\n" + "\n".join(escaped)


def test_the_right_vjps_pass_under_scales():
    """The mutations, not the losses, are what fail: each loss passes with its right VJP."""
    failed = []
    for name in mutable_ops():
        L, wrt = loss_of(name)
        for wrap in SCALES.values():
            report = mc.check(wrap(L), wrt, dims=DIMS, seed=3)
            if report.passed is not True:
                failed.append(f"{name}: {report.summary()}")
    assert not failed, "right VJPs that did not pass:\n" + "\n".join(failed)


def test_the_right_vjps_never_fail_under_a_large_offset():
    """Under +1e12 float64 may not resolve a gradient (SKIPPED), but a right one never fails."""
    failed = []
    for name in mutable_ops():
        L, wrt = loss_of(name)
        report = mc.check(L + 1e12, wrt, dims=DIMS, seed=3)
        if report.passed is False:
            failed.append(f"{name}: {report.summary()}")
    assert not failed, "right VJPs that failed under +1e12:\n" + "\n".join(failed)
