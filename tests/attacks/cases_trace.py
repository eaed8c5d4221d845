"""Tracebacks: wrong arguments, odd inputs and backend errors end in a MatcalcError that names
what is wrong (the argument, the input, the operation), never another exception."""

from __future__ import annotations

from .framework import Case, Raises, Value

CLS = "tracebacks"

_SETUP = ("A = mc.Matrix('A', 'n', 'n'); B = mc.Matrix('B', 2, 2); x = mc.Vector('x', 'n')\n"
          "L = mc.sum(mc.tanh(A @ x))\n")

# (id, code, error class, word): each argument given a value of the wrong type or out of range
WRONG_ARGUMENTS = [
    ("evaluate-dims-list", "mc.evaluate(L, {}, dims=[('n', 2)])", "MatcalcError", "dims"),
    ("evaluate-dims-negative", "mc.evaluate(L, {}, dims={'n': -2})", "MatcalcError", "n"),
    ("evaluate-dims-float", "mc.evaluate(L, {}, dims={'n': 2.5})", "MatcalcError", "n"),
    ("evaluate-dims-text", "mc.evaluate(L, {}, dims={'n': '2'})", "MatcalcError", "n"),
    ("evaluate-dims-bool", "mc.evaluate(L, {}, dims={'n': True})", "MatcalcError", "n"),
    ("evaluate-values-list", "mc.evaluate(L, [np.ones((2, 2))])", "MatcalcError", "values"),
    ("evaluate-values-none", "mc.evaluate(L, None)", "MatcalcError", "values"),
    ("evaluate-not-expression", "mc.evaluate('sum(A)', {})", "MatcalcError", "expression"),
    ("evaluate-missing-input", "mc.evaluate(L, {'A': np.eye(2)})", "MatcalcError", "x"),
    ("hvp-v-none", "mc.hvp(L, 'x', None)", "MatcalcError", "v"),
    ("hvp-v-array", "mc.hvp(L, 'x', np.ones((2, 1)))", "MatcalcError", "v"),
    ("hvp-v-wrong-shape", "mc.hvp(L, 'x', mc.Vector('u', 'm'))", "MatcalcError", "v"),
    ("vjp-upstream-array", "mc.vjp(A @ x, 'x', upstream=np.ones((2, 1)))", "MatcalcError",
     "upstream"),
    ("vjp-upstream-text", "mc.vjp(A @ x, 'x', upstream='g')", "MatcalcError", "upstream"),
    ("latex-gradients-none", "mc.latex_gradients(None)", "MatcalcError", "grad"),
    ("latex-gradients-list", "mc.latex_gradients([1, 2])", "MatcalcError", "grad"),
    ("explain-values-list", "mc.explain(L, values=[1.0])", "MatcalcError", "values"),
    ("explain-shapes-missing", "mc.explain('f = x * y')", "MatcalcError", "shapes"),
    ("explain-lang", "mc.explain(L, lang='xx')", "MatcalcError", "xx"),
    ("explain-format", "mc.explain(L, fmt='html')", "MatcalcError", "html"),
    ("check-rel-step-zero", "mc.check(L, 'x', rel_step=0)", "MatcalcError", "rel_step"),
    ("check-rel-step-nan", "mc.check(L, 'x', rel_step=float('nan'))", "MatcalcError", "rel_step"),
    ("check-full-limit-text", "mc.check(L, 'x', full_limit='a')", "MatcalcError", "full_limit"),
    ("check-rtol-negative", "mc.check(L, 'x', rtol=-1.0)", "MatcalcError", "rtol"),
    ("check-tries-zero", "mc.check(L, 'x', tries=0)", "MatcalcError", "tries"),
    ("check-seed-negative", "mc.check(L, 'x', seed=-1)", "MatcalcError", "seed"),
    ("check-method", "mc.check(L, 'x', method='magic')", "MatcalcError", "method"),
    ("check-wrt-unknown", "mc.check(L, 'nope')", "MatcalcError", "nope"),
    ("check-dims-list", "mc.check(L, 'x', dims=[3])", "MatcalcError", "dims"),
    ("check-not-scalar", "mc.check(A @ x, 'x')", "MatcalcError", "scalar"),
    ("grad-wrt-number", "mc.grad(L, 3)", "MatcalcError", "wrt"),
    ("grad-wrt-none", "mc.grad(L, None)", "MatcalcError", "None"),
    ("grad-of-number", "mc.grad(3.0, 'x')", "MatcalcError", "expression"),
    ("grad-not-scalar", "mc.grad(A @ x, 'x')", "MatcalcError", "scalar"),
    ("jacobian-wrt-text-unknown", "mc.jacobian(A @ x, 'y')", "MatcalcError", "y"),
    ("matrix-dim-float", "mc.Matrix('C', 2.5, 1)", "MatcalcError", "2.5"),
    ("matrix-dim-negative", "mc.Matrix('C', -1, 1)", "MatcalcError", "-1"),
    ("matrix-dim-zero", "mc.Matrix('C', 0, 1)", "MatcalcError", "0"),
    ("matrix-dim-none", "mc.Matrix('C', None, 1)", "MatcalcError", "None"),
    ("matrix-name-number", "mc.Matrix(5, 2, 2)", "MatcalcError", "name"),
    ("matmul-text", "A @ 'x'", "MatcalcError", "str"),
    ("add-list", "A + [1, 2]", "MatcalcError", "list"),
    ("kron-text", "mc.kron('a', A)", "MatcalcError", "str"),
    ("sum-axis", "mc.sum(A, axis=5)", "MatcalcError", "axis"),
    ("power-text", "mc.power(A, '2')", "MatcalcError", "exponent"),
    ("const-text", "mc.const('1')", "MatcalcError", "real number"),
    ("const-array-3d", "mc.const(np.ones((2, 2, 2)))", "MatcalcError", "constant"),
    ("compile-none", "mc.compile(None)", "MatcalcError", "None"),
    ("compile-backend", "mc.compile(L, backend='tensorflow')", "MatcalcError", "backend"),
    ("compile-dims-text", "mc.compile(L, dims={'n': 'two'})", "MatcalcError", "n"),
    ("compiled-positional", "mc.compile(L)(np.eye(2), np.ones((2, 1)))", "MatcalcError", "A"),
    ("compiled-missing", "mc.compile(L)(A=np.eye(2))", "MatcalcError", "x"),
    ("parse-none", "mc.parse(None, {})", "MatcalcError", "str"),
    ("parse-shapes-list", "mc.parse('A', [('A', 2, 2)])", "MatcalcError", "shapes"),
    ("parse-shape-bad", "mc.parse('A', {'A': (2, 2, 2)})", "MatcalcError", "A"),
    ("parse-latex-bytes", "mc.parse_latex(b'A', {'A': (2, 2)})", "MatcalcError", "bytes"),
    ("elementwise-name-none", "mc.elementwise(None, __import__('sympy').Symbol('x'))",
     "MatcalcError", "name"),
    ("to-sympy-none", "mc.to_sympy(None)", "MatcalcError", "None"),
    ("from-sympy-text", "mc.from_sympy('X + 1')", "MatcalcError", "text"),
    ("numpy-source-dims", "mc.numpy_source(L, dims=['n'])", "MatcalcError", "dims"),
    ("export-backend", "mc.export(L, ['A', 'x'], backend='keras')", "MatcalcError", "keras"),
    ("export-inputs", "mc.export(L, 'A', backend='jax')", "MatcalcError", "x"),
]

NON_ASCII_DIGITS = {"superscript-two": "²", "arabic-three": "٣", "fullwidth-three": "３",
                    "devanagari-four": "४", "roman-numeral": "Ⅻ", "circled": "③",
                    "fraction": "½", "mixed": "1٣", "thin-space": "1\u20092"}

_TORCH = "import torch\nA = mc.Matrix('A', 2, 3); B = mc.Matrix('B', 3, 2)\n" \
    "rng = np.random.default_rng(0)\nvals = {'A': rng.normal(size=(2, 3)), 'B': rng.normal(size=(3, 2))}\n"

TORCH_KRON = {
    "jacobian-wrt-A": "mc.jacobian(mc.kron(A, B), A)",
    "jacobian-wrt-B": "mc.jacobian(mc.kron(A, B), B)",
    "jacobian-transposed": "mc.jacobian(mc.kron(A.T, B), A)",
    "jacobian-both-transposed": "mc.jacobian(mc.kron(A.T, B.T), B)",
    "jacobian-product": "mc.jacobian(mc.kron(A @ B, B.T @ A.T), A)",
    "grad": "mc.grad(mc.sum(mc.kron(A, B) * mc.kron(A, B)), A)",
    "jacobian-of-vec": "mc.jacobian(mc.vec(mc.kron(A, B.T)), B)",
    "second-order": "mc.jacobian(mc.vec(mc.grad(mc.sum(mc.kron(A @ B, A @ B)), A)), A)",
}


def _torch_case(key: str, expr: str) -> Case:
    code = (_TORCH + f"e = {expr}\n"
            "want = mc.evaluate(e, vals)\n"
            "got = mc.compile(e, backend='torch')(**{k: torch.tensor(v) for k, v in vals.items()})\n"
            "got = got.numpy()\n"
            "result = float(np.max(np.abs(got - want))) if got.shape == want.shape else -1.0\n")
    return Case(f"trace-torch-kron-{key}", CLS, Value(0.0, atol=1e-9), code)


def cases() -> list[Case]:
    out = [Case(f"trace-args-{k}", CLS, Raises(err, word), _SETUP + f"result = {code}\n")
           for k, code, err, word in WRONG_ARGUMENTS]
    out += [Case(f"trace-dim-digit-{k}", CLS, Raises("InputError", "dimension"),
                 f"result = mc.Matrix('C', {v!r}, 1)") for k, v in NON_ASCII_DIGITS.items()]
    out += [Case(f"trace-dims-value-digit-{k}", CLS, Raises("MatcalcError", "n"),
                 _SETUP + f"result = mc.evaluate(L, {{}}, dims={{'n': {v!r}}})")
            for k, v in list(NON_ASCII_DIGITS.items())[:3]]
    out += [_torch_case(k, v) for k, v in TORCH_KRON.items()]
    out += [
        Case("trace-torch-inv-singular", CLS, Raises("EvaluationError", "singular"),
             "import torch\nA = mc.Matrix('A', 2, 2)\n"
             "result = mc.compile(mc.inv(A), backend='torch')(A=torch.zeros(2, 2, dtype=torch.float64))"),
        Case("trace-torch-solve-singular", CLS, Raises("EvaluationError", "singular"),
             "import torch\nA = mc.Matrix('A', 2, 2); b = mc.Vector('b', 2)\n"
             "result = mc.compile(mc.solve(A, b), backend='torch')("
             "A=torch.ones(2, 2, dtype=torch.float64), b=torch.ones(2, 1, dtype=torch.float64))"),
        Case("trace-torch-cholesky-indefinite", CLS, Raises("EvaluationError", "cholesky"),
             "import torch\nA = mc.Matrix('A', 2, 2)\n"
             "result = mc.compile(mc.cholesky(A), backend='torch')("
             "A=-torch.eye(2, dtype=torch.float64))"),
        Case("trace-numpy-inv-singular", CLS, Raises("EvaluationError", "singular"),
             "A = mc.Matrix('A', 2, 2)\n"
             "result = mc.evaluate(mc.inv(A), {'A': np.zeros((2, 2))})"),
        Case("trace-compiled-inv-singular", CLS, Raises("EvaluationError", "singular"),
             "A = mc.Matrix('A', 2, 2)\nresult = mc.compile(mc.inv(A))(A=np.zeros((2, 2)))"),
        Case("trace-torch-non-numeric", CLS, Raises("DimensionBindingError", "numeric"),
             "A = mc.Matrix('A', 2, 2)\n"
             "result = mc.compile(mc.sum(A), backend='torch')(A='1.5')"),
        Case("trace-torch-complex", CLS, Raises("DimensionBindingError", "real"),
             "import torch\nA = mc.Matrix('A', 2, 2)\n"
             "result = mc.compile(mc.sum(A), backend='torch')(A=torch.ones(2, 2, dtype=torch.complex128))"),
        Case("trace-to-sympy-deep", CLS, Raises("InteropError", "deep"),
             "x = mc.Matrix('x', 1, 1)\ne = x\nfor _ in range(20000):\n    e = mc.tanh(e)\n"
             "result = mc.to_sympy(e)"),
        Case("trace-compiled-extra-input-as-evaluate", CLS, Value([[2.0]]),
             "A = mc.Matrix('A', 2, 2)\n"
             "a = mc.evaluate(mc.sum(A), {'A': np.eye(2), 'z': 1.0})\n"
             "b = mc.compile(mc.sum(A))(A=np.eye(2), z=1.0)\n"
             "result = a if np.array_equal(a, b) else None"),
    ]
    return out
