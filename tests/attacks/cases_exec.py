"""Code execution: SymPy names, printed formulas and generated-code names never become code.

Every injected command would create the canary file (``CANARY``); the case fails if it exists.
"""

from __future__ import annotations

from .framework import Case, Equal, Raises, Value

CLS = "code execution"
TOUCH = "__import__('os').system('touch ' + CANARY)"

_PRELUDE = "import sympy\nx = sympy.Symbol('x')\n"

# names of undefined SymPy functions: each is the caller's text, printed as code by lambdify
EVIL_FUNCTION_NAMES = {
    "system": f"{TOUCH} or float",
    "open": "open(CANARY, 'w').close() or float",
    "exec": "exec(\"open(CANARY, 'w')\") or float",
    "eval": "eval(\"open(CANARY, 'w')\") or float",
    "getattr": "getattr(__import__('os'), 'system')('touch ' + CANARY) or float",
    "lambda": "(lambda: open(CANARY, 'w'))() or float",
    "dunder": "().__class__.__base__.__subclasses__",
    "plain": "myfunc",
    "np_attr": "np.lib",
    "breakpoint": "breakpoint",
}


def _function_case(key: str, text: str) -> Case:
    code = (_PRELUDE + f"name = {text!r}.replace('CANARY', repr(CANARY))\n"
            f"f = mc.elementwise('evil_{key}', sympy.Function(name)(x))\n"
            "result = mc.evaluate(f(mc.Matrix('A', 2, 2)), {'A': np.ones((2, 2))})\n")
    return Case(f"exec-function-{key}", CLS, Raises("InputError", "elementwise"), code)


_SUBCLASS = _PRELUDE + """
class Evil(sympy.exp):
    def _numpycode(self, printer):
        return "__import__('os').system('touch ' + %r) or 1.0" % CANARY
    _pythoncode = _numpycode
    def _sympystr(self, printer):
        return self._numpycode(printer)
f = mc.elementwise('evil_subclass', Evil(x))
result = mc.evaluate(f(mc.Matrix('A', 2, 2)), {'A': np.ones((2, 2))})
"""

_SYMBOL_SUBCLASS = _PRELUDE + """
class EvilSymbol(sympy.Symbol):
    def _numpycode(self, printer):
        return "__import__('os').system('touch ' + %r)" % CANARY
s = EvilSymbol('s')
f = mc.elementwise('evil_symbol_class', s ** 2 + 1)
result = mc.evaluate(f(mc.Matrix('A', 2, 2)), {'A': np.ones((2, 2))})
"""

_EVIL_VARIABLE = _PRELUDE + """
s = sympy.Symbol("__import__('os').system('touch ' + %r)" % CANARY)
f = mc.elementwise('evil_variable', s ** 2 + 1)
result = mc.evaluate(f(mc.Matrix('A', 1, 2)), {'A': np.array([[1.0, 3.0]])})
"""

_EVIL_CONSTANT_SYMBOL = _PRELUDE + """
c = sympy.Symbol("__import__('os').system('touch ' + %r)" % CANARY)
f = mc.elementwise('evil_constant', x * c)
result = mc.evaluate(f(mc.Matrix('A', 2, 2)), {'A': np.ones((2, 2))})
"""

_EVIL_DERIVATIVE = _PRELUDE + """
g = sympy.Function("%s or float" % ("__import__('os').system('touch ' + %r)" % CANARY))
f = mc.elementwise('evil_derivative', sympy.Integral(g(x), x))
A = mc.Matrix('A', 2, 2)
result = mc.evaluate(mc.grad(mc.sum(f(A)), A), {'A': np.ones((2, 2))})
"""

_EVIL_LAMBDA = _PRELUDE + """
f = mc.elementwise('evil_lambda', sympy.Lambda(x, sympy.Function("%s or float" % (
    "__import__('os').system('touch ' + %r)" % CANARY))(x))(x))
result = mc.evaluate(f(mc.Matrix('A', 2, 2)), {'A': np.ones((2, 2))})
"""

_UNKNOWN_ATTRIBUTE_NAME = _PRELUDE + """
f = mc.elementwise('evil_undefined', sympy.Function('os.system')(x))
result = 0
"""

_STRING_FORMULA = """
f = mc.elementwise('evil_text', "__import__('os').system('touch ' + %r)" % CANARY)
result = 0
"""

_INJECTED_OP_NAME = """
import sympy
f = mc.elementwise("f(x): pass\\nimport os; os.system('touch ' + %r)\\ndef g" % CANARY,
                   sympy.Symbol('x') ** 2)
result = 0
"""

# a user op named like something the generated module uses: compiled code must agree with evaluate
SHADOW_NAMES = ("np", "f", "getattr", "len", "import", "lambda", "print", "float", "torch",
                "x", "out", "helper", "__builtins__", "result")

_SHADOW = _PRELUDE + """
op = mc.elementwise({name!r}, x ** 3 + 1)
A = mc.Matrix('A', 2, 3)
L = mc.sum(op(A) * A)
a = np.arange(6.0).reshape(2, 3) / 7
fn = mc.compile([L, mc.grad(L, A)])
value, gradient = fn(A=a)
want = (np.sum((a ** 3 + 1) * a), 4 * a ** 3 + 1)
result = bool(np.allclose(value, want[0]) and np.allclose(gradient, want[1]))
"""

_SOURCE_NAME = """
W = mc.Matrix('W', 'm', 'n')
result = mc.numpy_source(mc.sum(W), name={name!r})
"""

_SOURCE_RUNS = """
W = mc.Matrix('W', 'm', 'n')
namespace = {{}}
exec(mc.numpy_source(mc.sum(2 * W), name={name!r}), namespace)
result = float(np.ravel(namespace[{name!r}](W=np.ones((1, 5))))[0])
"""

# symbol names that could escape into generated code
EVIL_SYMBOL_NAMES = {
    "call": "__import__('os').system('touch x')",
    "newline": "W\nimport os",
    "semicolon": "W; import os",
    "space": "W W",
    "dot": "np.linalg",
    "keyword": "lambda",
    "digit": "1W",
    "empty": "",
    "quote": "W'",
}

_EVIL_DIMS = {
    "call": "__import__('os')",
    "newline": "m\nimport os",
    "attribute": "m.__class__",
    "quote": "m'",
}


def cases() -> list[Case]:
    out = [_function_case(k, v) for k, v in EVIL_FUNCTION_NAMES.items()]
    out += [
        Case("exec-sympy-subclass", CLS, Raises("InputError", "elementwise"), _SUBCLASS),
        Case("exec-symbol-subclass", CLS, Raises("InputError", "elementwise"), _SYMBOL_SUBCLASS),
        Case("exec-variable-name", CLS, Value([[2.0, 10.0]]), _EVIL_VARIABLE),
        Case("exec-constant-symbol", CLS, Raises("InputError", "free symbol"),
             _EVIL_CONSTANT_SYMBOL),
        Case("exec-derivative-integral", CLS, Raises("InputError", "elementwise"),
             _EVIL_DERIVATIVE),
        Case("exec-sympy-lambda", CLS, Raises("InputError", "elementwise"), _EVIL_LAMBDA),
        Case("exec-attribute-name", CLS, Raises("InputError", "elementwise"),
             _UNKNOWN_ATTRIBUTE_NAME),
        Case("exec-text-formula", CLS, Raises("InputError", "not text"), _STRING_FORMULA),
        Case("exec-op-name-code", CLS, Raises("InputError", "identifier"), _INJECTED_OP_NAME),
    ]
    out += [Case(f"exec-op-named-{n.strip('_')}", CLS, Equal(True), _SHADOW.format(name=n),
                 isolated=True) for n in SHADOW_NAMES]
    out += [Case(f"exec-source-name-{n}", CLS, Raises("MatcalcError", "name"),
                 _SOURCE_NAME.format(name=n))
            for n in ("class", "np", "import", "__import__('os')", "f g", "", "LIMITS")]
    out += [Case(f"exec-source-name-runs-{n}", CLS, Value(10.0), _SOURCE_RUNS.format(name=n))
            for n in ("numpy", "g", "grad_W", "F")]
    out += [Case(f"exec-symbol-name-{k}", CLS, Raises("InputError", "identifier"),
                 f"result = mc.Matrix({v!r}, 2, 2)") for k, v in EVIL_SYMBOL_NAMES.items()]
    out += [Case(f"exec-dim-name-{k}", CLS, Raises("InputError", "dimension"),
                 f"result = mc.Matrix('W', {v!r}, 2)") for k, v in _EVIL_DIMS.items()]
    out.append(Case("exec-from-sympy-function", CLS, Raises("InteropError"), _PRELUDE + (
        "X = sympy.MatrixSymbol('X', 2, 2)\n"
        "e = sympy.Function(\"__import__('os').system('touch ' + %r)\" % CANARY)(X)\n"
        "result = mc.from_sympy(e, {'X': (2, 2)})\n")))
    out.append(Case("exec-compile-dims-key", CLS, Raises("MatcalcError", "dimension"), (
        "W = mc.Matrix('W', 'm', 'n')\n"
        "fn = mc.compile(mc.sum(W), dims={\"__import__('os').system('touch x')\": 2})\n"
        "result = fn(W=np.ones((2, 2)))\n")))
    return out
