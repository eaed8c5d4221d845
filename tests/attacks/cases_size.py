"""Unbounded time or memory: sizes beyond the limits are refused before anything is allocated
(SizeLimitError naming what is too big), and big-but-legal work finishes in bounded time."""

from __future__ import annotations

from .framework import Case, Equal, Raises

CLS = "unbounded time or memory"

_X = "x = mc.Vector('x', 'n'); A = mc.Matrix('A', 'n', 'n')\n"

_KRON_CHAIN = """
Ks = [mc.Matrix(f'K{{i}}', 2, 2) for i in range({k})]
K = Ks[0]
for other in Ks[1:]:
    K = mc.kron(K, other)
vals = {{f'K{{i}}': np.full((2, 2), 0.5 + i) for i in range({k})}}
result = mc.{how}
"""

_DOUBLING = """
lines = ['x1 = x0 + x0'] + [f'x{{i + 1}} = x{{i}} + x{{i}}' for i in range(1, {n})]
doc = mc.explain('\\n'.join(lines), shapes={{'x0': (1, 1)}}{extra})
result = len(doc) < 1_000_000
"""

_NAMES = "names = [f'a{i}' for i in range(16000)]\n"


def cases() -> list[Case]:
    size = Raises("SizeLimitError", "entries")
    out = [
        Case("size-evaluate-dims-1e9", CLS, size,
             "result = mc.evaluate(mc.sum(mc.ones('k', 'k')), {}, dims={'k': 10**9})"),
        Case("size-evaluate-dims-30000", CLS, size,
             "result = mc.evaluate(mc.sum(mc.ones('k', 'k')), {}, dims={'k': 30000})"),
        Case("size-evaluate-dims-10-to-40", CLS, size,
             "result = mc.evaluate(mc.sum(mc.ones('k', 1)), {}, dims={'k': 10**40})"),
        Case("size-evaluate-outer-product", CLS, size,
             _X + "result = mc.evaluate(mc.sum(x @ x.T), {'x': np.ones((10**5, 1))})"),
        Case("size-compiled-outer-product", CLS, size,
             _X + "result = mc.compile(mc.sum(x @ x.T))(x=np.ones((10**5, 1)))"),
        Case("size-compiled-dims-1e9", CLS, size,
             "result = mc.compile(mc.sum(mc.ones('k', 'k')), dims={'k': 10**9})()"),
        Case("size-evaluate-total", CLS, Raises("SizeLimitError", "total"),
             _X + "e = x @ x.T\nfor _ in range(8):\n    e = mc.tanh(e) + e\n"
                  "result = mc.evaluate(mc.sum(e), {'x': np.ones((6000, 1))})"),
        Case("size-kron-values", CLS, size,
             "A = mc.Matrix('A', 'n', 'n')\n"
             "result = mc.evaluate(mc.sum(mc.kron(A, A)), {'A': np.ones((300, 300))})"),
        Case("size-jacobian-dims", CLS, size,
             "W = mc.Matrix('W', 'm', 'n'); x = mc.Vector('x', 'n')\n"
             "result = mc.evaluate(mc.jacobian(W @ x, W), {'W': np.ones((1000, 1000)), "
             "'x': np.ones((1000, 1))})"),
        Case("size-hessian-dims", CLS, size,
             _X + "result = mc.evaluate(mc.hessian(mc.sum(mc.tanh(x) ** 3), x), {'x': np.ones((10**5, 1))})"),
        Case("size-kron-jacobian-8-fold", CLS, size, _KRON_CHAIN.format(
            k=8, how="evaluate(mc.jacobian(K, 'K0'), vals)"), timeout=30),
        Case("size-kron-jacobian-8-fold-compiled", CLS, size, _KRON_CHAIN.format(
            k=8, how="compile(mc.jacobian(K, 'K0'))(**vals)"), timeout=30),
        Case("size-kron-jacobian-4-fold-value", CLS, Equal((256, 4)), _KRON_CHAIN.format(
            k=4, how="evaluate(mc.jacobian(K, 'K0'), vals).shape")),
        Case("size-check-directions-1e12", CLS, Raises("SizeLimitError", "directions"),
             _X + "result = mc.check(mc.sum(x * x), 'x', dims={'n': 3}, directions=10**12)"),
        Case("size-check-directions-1e6", CLS, Raises("SizeLimitError", "directions"),
             _X + "result = mc.check(mc.sum(x * x), 'x', dims={'n': 3}, directions=10**6)"),
        Case("size-check-dims-1e6", CLS, size,
             _X + "result = mc.check(mc.sum(A * A), 'A', dims={'n': 10**6})"),
        # full differences of 90,000 coordinates: beyond max_directions, so the report says
        # it checked by directions instead
        Case("size-check-full-coordinates", CLS, Equal((True, False)),
             _X + "report = mc.check(mc.sum(A * A), 'A', dims={'n': 300}, full_limit=10**12, "
                  "method='full')\nresult = (report.passed, 'full' in report.summary())"),
        Case("size-check-tries-1e12", CLS, Raises("SizeLimitError", "tries"),
             _X + "result = mc.check(mc.sum(mc.log(x)), 'x', dims={'n': 3}, tries=10**12)"),
        Case("size-dim-product-16000-names", CLS, Raises("SizeLimitError", "dimension"),
             _NAMES + "result = mc.Matrix('A', '*'.join(names), 1)", timeout=20),
        Case("size-dim-product-loop", CLS, Raises("SizeLimitError", "dimension"),
             _NAMES + "d = mc.dim('a0')\nfor n in names[1:]:\n    d = d * mc.dim(n)\nresult = d",
             timeout=20),
        Case("size-dim-sum-16000-names", CLS, Raises("SizeLimitError", "dimension"),
             _NAMES + "result = mc.Matrix('A', ' + '.join(names), 1)", timeout=20),
        Case("size-dim-sum-loop", CLS, Raises("SizeLimitError", "dimension"),
             _NAMES + "d = mc.dim('a0')\nfor n in names[1:]:\n    d = d + mc.dim(n)\nresult = d",
             timeout=20),
        Case("size-dim-product-parse", CLS, Raises("MatcalcError", "dimension"),
             _NAMES + "result = mc.parse('sum(A)', {'A': ('*'.join(names), 1)})", timeout=20),
        Case("size-dim-power-text", CLS, Raises("MatcalcError", "dimension"),
             "result = mc.Matrix('A', 'n' + '*n' * 20000, 1)", timeout=20),
        # an 80-step program is refused (matcalc.limits: steps of a derivation) ...
        Case("size-explain-doubling-80", CLS, Raises("SizeLimitError", "steps"),
             _DOUBLING.format(n=80, extra="")),
        Case("size-explain-doubling-80-values", CLS, Raises("SizeLimitError", "steps"),
             _DOUBLING.format(n=80, extra=", values={'x0': 1.0}")),
        Case("size-explain-doubling-80-latex", CLS, Raises("SizeLimitError", "steps"),
             _DOUBLING.format(n=80, extra=", fmt='latex'")),
        # ... and the longest one explained stays small and quick
        Case("size-explain-doubling-30", CLS, Equal(True), _DOUBLING.format(n=30, extra="")),
        Case("size-explain-doubling-30-values", CLS, Equal(True),
             _DOUBLING.format(n=30, extra=", values={'x0': 1.0}")),
        Case("size-explain-doubling-30-latex", CLS, Equal(True),
             _DOUBLING.format(n=30, extra=", fmt='latex', values={'x0': 1e300}")),
        Case("size-matrix-power-huge-exponent", CLS, Raises("MatcalcError", "power"),
             "A = mc.Matrix('A', 2, 2)\n"
             "result = mc.evaluate(mc.grad(mc.sum(mc.matrix_power(A, 10**12)), A), "
             "{'A': np.eye(2) * 0.5})", timeout=30),
        Case("size-formula-huge", CLS, Raises("InputError", "formula"),
             "import sympy\nx = sympy.Symbol('x')\n"
             "result = mc.elementwise('bigpoly', sympy.Add(*[x ** i / (i + 1) for i in range(5000)]))",
             timeout=30),
    ]
    out += [Case("size-limits-configured", CLS, Raises("SizeLimitError", "entries"),
                 "mc.limits.configure(max_elements=100)\nA = mc.Matrix('A', 'n', 'n')\n"
                 "result = mc.evaluate(mc.sum(A), {'A': np.ones((20, 20))})", isolated=True),
            Case("size-limits-context", CLS, Equal(True),
                 "from matcalc.limits import limits\nA = mc.Matrix('A', 'n', 'n')\n"
                 "with limits(max_elements=100):\n"
                 "    try:\n        mc.evaluate(mc.sum(A), {'A': np.ones((20, 20))})\n"
                 "        refused = False\n    except mc.MatcalcError:\n        refused = True\n"
                 "result = refused and float(mc.evaluate(mc.sum(A), {'A': np.ones((20, 20))})[0, 0]) == 400.0",
                 isolated=True),
            Case("size-limits-bad-value", CLS, Raises("InputError", "max_elements"),
                 "result = mc.limits.configure(max_elements=-1)", isolated=True),
            Case("size-limits-environment", CLS, Raises("SizeLimitError", "entries"),
                 "A = mc.Matrix('A', 'n', 'n')\n"
                 "result = mc.evaluate(mc.sum(A), {'A': np.ones((20, 20))})",
                 isolated=True, env=(("MATCALC_MAX_ELEMENTS", "100"),))]
    return out
