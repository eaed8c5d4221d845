"""Random expressions (tests/strategies.py): every gradient passes the numeric check.

For each drawn loss: the gradients by every input and named intermediate pass the directional
finite-difference check (and the full one when the expression is small); a skipped check is
counted, never taken for a pass, and skips must stay rare; simplification keeps the value of the
loss and of the gradients; printing never raises, and the printed program parses back to the same
expression.

The number of examples is 300; set MATCALC_HYPOTHESIS_EXAMPLES (e.g. 5000) for a larger run. The
run is derandomized, so it is the same on every machine.
"""

from __future__ import annotations

import os
import time
from collections import Counter

import numpy as np
from hypothesis import HealthCheck, given, settings

import matcalc as mc
from matcalc.evaluate import symbols_of
from strategies import Case, expressions, losses

EXAMPLES = int(os.environ.get("MATCALC_HYPOTHESIS_EXAMPLES", "300"))
FULL_CHECK_NODES = 30  # expressions up to this many nodes also get full differences
MAX_SKIP_FRACTION = 0.10


def _variables(L: mc.Expr) -> list[str]:
    names = sorted(symbols_of(L))
    named = sorted({n.name for n in mc.toposort([L]) if n.op.name == "named"})
    return names + named


def _close(a: np.ndarray, b: np.ndarray) -> bool:
    scale = max(1.0, float(np.max(np.abs(a), initial=0.0)), float(np.max(np.abs(b), initial=0.0)))
    return a.shape == b.shape and bool(np.all(np.abs(a - b) <= 1e-7 * scale))


def _shapes(L: mc.Expr) -> dict:
    return {name: (s.rows.as_user(), s.cols.as_user()) for name, s in symbols_of(L).items()}


def check_case(case: Case, stats: Counter) -> None:
    L = case.loss
    stats["examples"] += 1
    # printing never raises, and the printed program reads back as the same expression
    text = mc.program_text(L)
    assert str(L) and repr(L)
    assert mc.parse(text, _shapes(L)) is L, text

    wrt = _variables(L)
    method = "both" if mc.count_nodes(L) <= FULL_CHECK_NODES else "directional"
    report = mc.check(L, wrt, dims=case.sizes, seed=case.seed, method=method)
    assert report.passed is not False, f"{text}\n{report}"
    assert all(r.passed is not False for r in report)
    if report.passed is None:
        stats["skipped"] += 1
        assert not report.values, "a skipped check must not report a point"
        return
    assert all(r.passed is True for r in report)
    stats["passed"] += 1
    stats["full"] += any(r.method == "full" for r in report)

    # simplification keeps the value of the loss and of the gradients
    values = report.values
    simple = mc.simplify(L)
    raw = mc.grad(L, wrt, simplify=False)
    grads = mc.grad(L, wrt)
    out = mc.evaluate_many([L, simple] + raw + grads, values, case.sizes)
    assert _close(out[0], out[1]), f"simplify changed the value of {text}: {simple}"
    k = len(wrt)
    for name, r, g, ge in zip(wrt, out[2:2 + k], out[2 + k:], grads):
        assert _close(r, g), f"simplify changed d/d{name} of {text}: {ge}"
        assert np.allclose(g, report.gradients[name], rtol=1e-12, atol=1e-12)
    for g in grads:
        assert str(g)
    assert str(simple)


def test_random_losses_pass_the_gradient_check():
    stats: Counter = Counter()
    start = time.perf_counter()

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(losses())
    def run(case: Case):
        check_case(case, stats)

    run()
    elapsed = time.perf_counter() - start
    assert stats["examples"] >= min(EXAMPLES, 100)
    skip_fraction = stats["skipped"] / stats["examples"]
    assert skip_fraction < MAX_SKIP_FRACTION, dict(stats)
    if os.environ.get("MATCALC_HYPOTHESIS_EXAMPLES"):
        print(f"\nrandom losses: {dict(stats)}; skipped {skip_fraction:.1%}; {elapsed:.1f} s")


@settings(max_examples=100, deadline=None, derandomize=True, database=None)
@given(expressions(max_depth=4))
def test_random_expressions_evaluate_print_and_simplify(e):
    """Any shape (not only scalars): value kept by simplify, text parses back."""
    shapes = {name: (s.rows.as_user(), s.cols.as_user()) for name, s in symbols_of(e).items()}
    assert mc.parse(mc.program_text(e), shapes) is e
    s = mc.simplify(e)
    assert s.shape == e.shape
    str(s)


def test_the_strategy_uses_every_op_kind():
    """Over a fixed run, the drawn losses use every op that the strategy is meant to cover."""
    seen: set = set()

    @settings(max_examples=300, deadline=None, derandomize=True, database=None)
    @given(losses())
    def collect(case: Case):
        seen.update(n.op.name for n in mc.toposort([case.loss]))

    collect()
    wanted = {"symbol", "const", "eye", "ones", "named", "trace", "det", "logdet", "inv", "norm",
              "diag", "kron", "vec", "add", "sub", "mul", "div", "pow", "neg", "matmul",
              "transpose", "step", "sign", "relu", "sigmoid", "tanh", "exp", "log", "sqrt", "abs",
              "softplus", "sum", "mean", "logsumexp", "softmax", "log_softmax"}
    assert wanted <= seen, sorted(wanted - seen)
