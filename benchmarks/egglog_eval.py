"""Equality saturation with egglog on matcalc's two hardest readability cases, measured.

    pip install egglog && python benchmarks/egglog_eval.py

The elementwise fragment (+, −, ⊙, /, with named atoms) is encoded as an egglog datatype with the
rules a normal form needs — commutativity, associativity, distributivity both ways, x/x = 1, unit
and zero laws — and saturated for a growing number of iterations. For each iteration count the
script prints the e-graph's size, the time, and the length of the term extracted with egglog's
default (AST size) cost, for:

* softmax cross-entropy, ∂L/∂S = P ⊙ (Σ(Y ⊙ P⁻¹ ⊙ P) − Y ⊙ P⁻¹) (the textbook form: P ΣY − Y);
* batch norm's ∂L/∂X as matcalc's reverse sweep produces it (about 40 operations).

docs/design.md reports the results; matcalc itself does not depend on egglog.
"""

from __future__ import annotations

import time

from egglog import EGraph, Expr, StringLike, i64, i64Like, rewrite, vars_


class M(Expr):
    """An elementwise expression over named atoms."""

    def __init__(self, name: StringLike) -> None: ...

    @classmethod
    def num(cls, v: i64Like) -> M: ...

    def __add__(self, other: M) -> M: ...

    def __mul__(self, other: M) -> M: ...

    def __neg__(self) -> M: ...

    def inv(self) -> M: ...

    def mean(self) -> M: ...  # a reduction along an axis (linear)


def rules() -> list:
    x, y, z = vars_("x y z", M)
    a, b = vars_("a b", i64)
    return [
        rewrite(x + y).to(y + x),
        rewrite(x * y).to(y * x),
        rewrite(x + (y + z)).to((x + y) + z),
        rewrite(x * (y * z)).to((x * y) * z),
        rewrite(x * (y + z)).to(x * y + x * z),
        rewrite(x * y + x * z).to(x * (y + z)),
        rewrite(x * x.inv()).to(M.num(1)),
        rewrite(x * M.num(1)).to(x),
        rewrite(x + M.num(0)).to(x),
        rewrite(x + -x).to(M.num(0)),
        rewrite(-(x * y)).to((-x) * y),
        rewrite(-(x + y)).to(-x + -y),
        rewrite((x + y).mean()).to(x.mean() + y.mean()),
        rewrite(M.num(a) * M.num(b)).to(M.num(a * b)),
        rewrite(M.num(a) + M.num(b)).to(M.num(a + b)),
    ]


def softmax_gradient() -> M:
    P, Y = M("P"), M("Y")
    g = -(Y * P.inv())
    return P * ((g * P).mean() * M.num(-1) + g)


def batch_norm_gradient() -> M:
    G, gamma, s, D, B = M("G"), M("gamma"), M("s"), M("D"), M("B")
    dxh = G * gamma
    ds = (-(dxh * D) * (s * s).inv()).mean() * B
    dv = ds * (M.num(2) * s).inv()
    dD = dxh * s.inv() + dv * M.num(2) * D * B.inv()
    return dD + -(dD.mean())


def measure(name: str, build, iterations: tuple[int, ...]) -> None:
    for n in iterations:
        egraph = EGraph()
        egraph.register(*rules())
        e = egraph.let("e", build())
        start = time.perf_counter()
        egraph.run(n)
        ran = time.perf_counter() - start
        size = sum(count for _, count in egraph.all_function_sizes())
        start = time.perf_counter()
        best = egraph.extract(e)
        extracted = time.perf_counter() - start
        shown = " ".join(str(best).split())
        shown = shown if len(shown) <= 70 else shown[:69] + "…"
        print(f"| {name} | {n} | {size} | {ran:.2f} s | {extracted:.2f} s | `{shown}` |",
              flush=True)
        if ran > 60:
            break


def main() -> None:
    print("| case | iterations | e-graph nodes | saturation | extraction | extracted |")
    print("| --- | --- | --- | --- | --- | --- |")
    measure("softmax cross-entropy", softmax_gradient, (6, 10, 12, 14))
    measure("batch norm", batch_norm_gradient, (6, 10, 12, 14))


if __name__ == "__main__":
    main()
