"""Silent wrong answers: every case computes a number (or a verdict) and compares it with the
right one; a refusal counts only where refusing is the right answer."""

from __future__ import annotations

from .framework import Case, Equal, Raises, Value

CLS = "silent wrong answers"

_THREADS = """
import threading, sys
sys.setswitchinterval(1e-6)  # switch threads as often as possible
nodes = []
barrier = threading.Barrier(8)
def build():
    barrier.wait()
    mine = []
    for i in range(400):
        {build}
    nodes.append(mine)
threads = [threading.Thread(target=build) for _ in range(8)]
for t in threads: t.start()
for t in threads: t.join()
distinct = [len({{id(n) for n in column}}) for column in zip(*nodes)]
result = max(distinct)
"""

_THREAD_BUILDS = {
    "symbols": "mine.append(mc.Matrix(f'V{i}', 'm', 'n'))",
    "products": "mine.append(mc.Matrix(f'A{i}', 'm', 'n') @ mc.Matrix(f'B{i}', 'n', 'k'))",
    "activations": "mine.append(mc.tanh(mc.Matrix(f'C{i % 7}', 3, 3) * (i + 1)))",
    "constants": "mine.append(mc.const(float(i)) + mc.Matrix('c', 1, 1))",
}

_THREADS_GRADIENT = """
import threading, sys
sys.setswitchinterval(1e-6)
made = []
barrier = threading.Barrier(8)
def build():
    barrier.wait()
    for i in range(300):
        made.append(mc.Matrix('V', 'm', 'n'))
threads = [threading.Thread(target=build) for _ in range(8)]
for t in threads: t.start()
for t in threads: t.join()
V1, V2 = made[0], made[-1]
g = mc.grad(mc.sum(V1 * V2), V1)
result = mc.evaluate(g, {'V': np.full((2, 2), 3.0)})
"""

# a wrong VJP injected into an op, then checked under offsets and scales
_MUTATED = """
op = mc.OPS[{op!r}]
right = op.vjp
op.vjp = lambda g, out: tuple(None if c is None else c * {factor} for c in right(g, out))
X = mc.Matrix('X', 'm', 'n')
L = {loss}
report = mc.check({wrap}, 'X', dims={{'m': 2, 'n': 3}}, seed=1)
result = report.passed
"""

_MUTATIONS = [  # (op, loss, factor)
    ("tanh", "mc.sum(mc.tanh(X))", 2.0),
    ("tanh", "mc.sum(mc.tanh(X))", 1.001),
    ("exp", "mc.sum(mc.exp(X))", 1.001),
    ("matmul", "mc.sum(X @ X.T)", 1.01),
    ("log", "mc.sum(mc.log(X * X + 1))", 1.001),
    ("sigmoid", "mc.sum(mc.sigmoid(X))", 0.999),
]
_WRAPS = {"offset": "L + 1e12", "scale-small": "1e-12 * L", "scale-large": "1e12 * L",
          "offset-and-scale": "1e-12 * L + 1e3"}

_RIGHT_UNDER = """
X = mc.Matrix('X', 'm', 'n')
L = {loss}
result = mc.check({wrap}, 'X', dims={{'m': 2, 'n': 3}}, seed=2).passed is not False
"""

_EXP3000 = """
x = mc.Matrix('x', 'n', 1)
result = mc.check(mc.sum(mc.exp({k} * x)), 'x', dims={{'n': 3}}, seed={seed}).passed is not False
"""

_KINK = """
import sympy
z = sympy.Symbol('z')
user = mc.elementwise('user_{name}', {formula})
A = mc.Matrix('A', 2, 2)
values = {{'A': np.array([[0.0, 1.0], [-1.0, {kink}]])}}
result = (mc.check(mc.sum(user(A)), 'A', values=values).passed,
          mc.check(mc.sum(mc.{builtin}(A)), 'A', values=values).passed)
"""

_DISAGREE = """
A = mc.Matrix('A', 2, 2)
fn = mc.compile(mc.sum(A))
messages = []
for run in (lambda: mc.evaluate(mc.sum(A), {'A': value}), lambda: fn(A=value)):
    try:
        run()
        messages.append(None)
    except mc.MatcalcError as exc:
        messages.append((type(exc).__name__, str(exc)))
"""  # after a line `value = …`

BAD_VALUES = {
    "complex": "np.ones((2, 2)) * (1 + 1j)",
    "complex-zero-imag": "np.ones((2, 2), dtype=complex)",
    "none": "None",
    "object": "np.array([[1, None], [2, 3]], dtype=object)",
    "text": "'1.5'",
    "text-array": "np.array([['1', '2'], ['3', '4']])",
    "bytes": "b'1234'",
    "ragged": "[[1.0, 2.0], [3.0]]",
    "dict": "{'a': 1}",
    "set": "{1.0, 2.0}",
    "datetime": "np.array([['2020-01-01'] * 2] * 2, dtype='datetime64[D]')",
    "wrong-shape": "np.ones((3, 2))",
    "three-axes": "np.ones((2, 2, 1))",
}

BAD_VALUE_WORDS = {"complex": "real", "complex-zero-imag": "real", "none": "numeric",
                   "object": "numeric", "text": "numeric", "text-array": "numeric",
                   "bytes": "numeric", "ragged": "numeric", "dict": "numeric", "set": "numeric",
                   "datetime": "numeric", "wrong-shape": "rows", "three-axes": "2-D"}


def _refusal_cases() -> list[Case]:
    out = []
    for key, value in BAD_VALUES.items():
        code = f"value = {value}\n" + _DISAGREE
        expect = Raises("DimensionBindingError", "A", BAD_VALUE_WORDS[key])
        out.append(Case(f"wrong-evaluate-refuses-{key}", CLS, expect,
                        code + "mc.evaluate(mc.sum(A), {'A': value})\n"))
        out.append(Case(f"wrong-compiled-refuses-{key}", CLS, expect, code + "fn(A=value)\n"))
        out.append(Case(f"wrong-same-refusal-{key}", CLS, Equal(True),
                        code + "result = messages[0] is not None and messages[0] == messages[1]\n"))
    return out


_LATEX_ROUND_TRIP = """
a = mc.Matrix({a!r}, 1, 1)
b = mc.Matrix({b!r}, 1, 1)
text = mc.latex(a + 2 * b)
back = mc.parse_latex(text, {{{a!r}: (1, 1), {b!r}: (1, 1)}})
result = float(mc.evaluate(back, {{{a!r}: np.array([[1.0]]), {b!r}: np.array([[10.0]])}})[0, 0])
"""

LATEX_PAIRS = [("W1", "W_1"), ("lam", "lambda_"), ("x1", "x_1"), ("alpha", "alpha_"),
               ("W_hh", "Whh"), ("beta1", "beta_1"), ("Sigma", "sigma"), ("x_12", "x1_2"),
               ("theta", "Theta")]

_NFKC = """
foo = mc.Matrix('foo', 2, 2)
other = mc.Matrix({name!r}, 2, 2)
L = mc.sum(foo) + 2 * mc.sum(other)
vals = {{'foo': np.ones((2, 2)), {name!r}: 10 * np.ones((2, 2))}}
result = float(mc.compile(L)(**vals)), float(mc.evaluate(L, vals)[0, 0])
"""

_NFKC_PARSE = """
L = mc.parse({text!r}, {{'foo': (2, 2), {name!r}: (2, 2)}})
vals = {{'foo': np.ones((2, 2)), {name!r}: 10 * np.ones((2, 2))}}
result = float(mc.compile(L)(**vals)), float(mc.evaluate(L, vals)[0, 0])
"""


def _numbers() -> list[Case]:
    A = "A = mc.Matrix('A', 2, 2)\n"
    return [
        Case("wrong-logdet-negative-det", CLS, Value([[float("nan")]]),
             A + "result = mc.evaluate(mc.logdet(A), {'A': np.array([[0.0, 1.0], [1.0, 0.0]])})"),
        Case("wrong-logdet-gradient-negative-det", CLS, Value([[float("nan")] * 2] * 2),
             A + "result = mc.evaluate(mc.grad(mc.logdet(A), A), "
                 "{'A': np.array([[0.0, 1.0], [1.0, 0.0]])})"),
        Case("wrong-logdet-gradient-positive-det", CLS, Value([[0.6, -0.2], [-0.2, 0.4]]),
             A + "result = mc.evaluate(mc.grad(mc.logdet(A), A), "
                 "{'A': np.array([[2.0, 1.0], [1.0, 3.0]])})"),
        Case("wrong-norm-overflow", CLS, Value([[2e200]]),
             A + "result = mc.evaluate(mc.norm(A), {'A': np.full((2, 2), 1e200)})"),
        Case("wrong-norm-underflow", CLS, Value([[2e-200]]),
             A + "result = mc.evaluate(mc.norm(A), {'A': np.full((2, 2), 1e-200)})"),
        Case("wrong-norm-gradient-overflow", CLS, Value([[0.5, 0.5], [0.5, 0.5]]),
             A + "result = mc.evaluate(mc.grad(mc.norm(A), A), {'A': np.full((2, 2), 1e200)})"),
        Case("wrong-norm-compiled-overflow", CLS, Value([[2e200]]),
             A + "result = mc.compile(mc.norm(A))(A=np.full((2, 2), 1e200))"),
        Case("wrong-det-gradient-singular", CLS, Value([[4.0, -2.0], [-2.0, 1.0]]),
             A + "result = mc.evaluate(mc.grad(mc.det(A), A), "
                 "{'A': np.array([[1.0, 2.0], [2.0, 4.0]])})"),
        Case("wrong-det-gradient-singular-compiled", CLS, Value([[4.0, -2.0], [-2.0, 1.0]]),
             A + "result = mc.compile(mc.grad(mc.det(A), A))(A=np.array([[1.0, 2.0], [2.0, 4.0]]))"),
        Case("wrong-det-gradient-zero-3x3", CLS, Value(__import__("numpy").zeros((3, 3)).tolist()),
             "A = mc.Matrix('A', 3, 3)\n"
             "result = mc.evaluate(mc.grad(mc.det(A), A), {'A': np.zeros((3, 3))})"),
        Case("wrong-det-gradient-rank-one-3x3", CLS,
             Value([[0.0] * 3] * 3, atol=1e-12),
             "A = mc.Matrix('A', 3, 3)\n"
             "result = mc.evaluate(mc.grad(mc.det(A), A), {'A': np.outer([1.0, 2, 3], [4.0, 5, 6])})"),
        Case("wrong-grad-transposed-symbol", CLS, Raises("DifferentiationError", "W"),
             "W = mc.Matrix('W', 'm', 'n'); v = mc.Vector('v', 'n')\n"
             "result = mc.grad(mc.sum(W @ v), mc.Matrix('W', 'n', 'm'))"),
        Case("wrong-grad-other-dims-symbol", CLS, Raises("DifferentiationError", "W"),
             "W = mc.Matrix('W', 'm', 'n')\n"
             "result = mc.grad(mc.sum(W * W), mc.Matrix('W', 'm', 'k'))"),
        Case("wrong-derived-binds-dims", CLS, Value([[0.0, 1.0, 2.0], [0.0, 1.0, 2.0]]),
             "L = mc.parse('L = sum(sum(X, axis=0) @ v)', {'X': ('m', 'n'), 'v': ('n', 1)})\n"
             "result = mc.evaluate(mc.grad(L, 'X'), "
             "{'X': np.ones((2, 3)), 'v': np.arange(3.0).reshape(3, 1)})"),
        Case("wrong-derived-binds-dims-compiled", CLS, Value([[0.0, 1.0, 2.0], [0.0, 1.0, 2.0]]),
             "L = mc.parse('L = sum(sum(X, axis=0) @ v)', {'X': ('m', 'n'), 'v': ('n', 1)})\n"
             "result = mc.compile(mc.grad(L, 'X'))("
             "X=np.ones((2, 3)), v=np.arange(3.0).reshape(3, 1))"),
        Case("wrong-derived-binds-dims-api", CLS, Value([[1.0, 1.0], [1.0, 1.0], [1.0, 1.0]]),
             "X = mc.Matrix('X', 'm', 'n')\n"
             "result = mc.evaluate(mc.grad(mc.sum(X.T), X), {'X': np.ones((3, 2))})"),
    ]


def cases() -> list[Case]:
    out = [Case(f"wrong-threads-{k}", CLS, Equal(1), _THREADS.format(build=v), isolated=True)
           for k, v in _THREAD_BUILDS.items()]
    out.append(Case("wrong-threads-gradient", CLS, Value([[6.0, 6.0], [6.0, 6.0]]),
                    _THREADS_GRADIENT, isolated=True))
    for op, loss, factor in _MUTATIONS:
        for wrap_name, wrap in _WRAPS.items():
            code = _MUTATED.format(op=op, loss=loss, factor=factor, wrap=wrap)
            expect = Equal(False)
            if wrap_name == "offset-and-scale" or ("offset" in wrap_name and factor < 1.5):
                # float64 may not resolve a small error under a large offset, nor any error
                # when the offset is 10^15 times the gradient: never PASS
                code += "result = result is not True\n"
                expect = Equal(True)
            out.append(Case(f"wrong-check-mutated-{op}-{factor}-{wrap_name}", CLS, expect, code,
                            isolated=True))
    for i, (_op, loss, _f) in enumerate(_MUTATIONS[::2]):
        for wrap_name, wrap in _WRAPS.items():
            out.append(Case(f"wrong-check-right-{i}-{wrap_name}", CLS, Equal(True),
                            _RIGHT_UNDER.format(loss=loss, wrap=wrap)))
    out += [Case(f"wrong-check-exp{k}-seed{s}", CLS, Equal(True), _EXP3000.format(k=k, seed=s))
            for k, s in ((3000, 0), (3000, 1), (300, 0), (-3000, 0))]
    out.append(Case("wrong-check-user-max-kink", CLS, Equal((None, None)),
                    _KINK.format(name="max", formula="sympy.Max(0, z)", kink="2.0",
                                 builtin="relu")))
    out.append(Case("wrong-check-user-abs-kink", CLS, Equal((None, None)),
                    _KINK.format(name="abs", formula="sympy.Abs(z)", kink="2.0", builtin="abs")))
    out.append(Case("wrong-check-user-max-smooth", CLS, Equal((True, True)),
                    _KINK.format(name="max2", formula="sympy.Max(0, z)", kink="2.0",
                                 builtin="relu").replace("[0.0, 1.0]", "[0.5, 1.0]")))
    out += _refusal_cases()
    out += [Case(f"wrong-latex-names-{a}-{b}", CLS, Value(21.0), _LATEX_ROUND_TRIP.format(a=a, b=b))
            for a, b in LATEX_PAIRS]
    for name in ("ｆｏｏ", "ﬀoo", "foⅰ", "foo\u200b"):
        out.append(Case(f"wrong-nfkc-symbol-{name.encode('unicode_escape').decode()[:14]}",
                        CLS, Raises("InputError", "identifier"), _NFKC.format(name=name)))
        out.append(Case(f"wrong-nfkc-parse-{name.encode('unicode_escape').decode()[:14]}",
                        CLS, Raises("MatcalcError"),
                        _NFKC_PARSE.format(text=f"foo + 2 * {name}", name=name)))
    out += [
        Case("wrong-nfkc-op-name", CLS, Raises("InputError", "name"),
             "import sympy\nresult = mc.elementwise('ｓｑ', sympy.Symbol('x') ** 2)"),
        Case("wrong-nfkc-dimension", CLS, Raises("InputError", "dimension"),
             "result = mc.Matrix('W', 'ｍ', 2)"),
        Case("wrong-nfkc-latex-name", CLS, Raises("MatcalcError"),
             "L = mc.parse_latex('x + \\\\mathrm{ｘ}', {'x': (1, 1), 'ｘ': (1, 1)})\n"
             "result = float(mc.evaluate(L, {'x': np.ones((1, 1)), 'ｘ': 10 * np.ones((1, 1))})[0, 0])"),
    ]
    out += _numbers()
    return out
