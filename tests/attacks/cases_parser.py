"""The parsers: injection strings, deep nesting, long literals and deep chains — all refused with
a ParseError (or parsed right), never executed, never a RecursionError."""

from __future__ import annotations

import math

from .framework import Case, Equal, Raises, Value

CLS = "parsers"

SHAPES = "{'W': ('m', 'n'), 'X': ('n', 'B'), 'x': (1, 1)}"

INJECTIONS = {
    "import-call": "__import__('os').system('touch ' + CANARY)",
    "exec": "exec('import os')",
    "eval": "eval('1')",
    "open": "open(CANARY, 'w')",
    "dunder-class": "W.__class__.__base__.__subclasses__()",
    "getattr": "getattr(W, 'T')",
    "lambda": "lambda: 1",
    "semicolon-import": "W; import os",
    "newline-import": "L = sum(W)\nimport os",
    "backtick": "`id`",
    "fstring": "f'{W}'",
    "dollar": "$(touch x)",
    "globals": "globals()",
    "compile": "compile('1', 'x', 'eval')",
    "breakpoint": "breakpoint()",
    "attribute": "np.linalg.inv(W)",
    "subscript-string": "W['a']",
    "walrus": "(y := W)",
    "null-byte": "sum(W)\x00import os",
    "unicode-escape": "\\u0065val('1')",
}

LATEX_INJECTIONS = {
    "input": r"\input{/etc/passwd}",
    "write18": r"\immediate\write18{touch x}",
    "def": r"\def\x{1}\x",
    "newcommand": r"\newcommand{\W}{1} \W",
    "catcode": r"\catcode`\@=11",
    "python-in-text": r"\text{__import__('os')}",
    "operatorname-call": r"\operatorname{__import__}(x)",
    "operatorname-eval": r"\operatorname{eval}(x)",
    "mathrm-dunder": r"\mathrm{__class__}",
    "include": r"\include{x}",
    "href": r"\href{javascript:alert(1)}{x}",
    "unbalanced": r"\frac{x}{",
}


TANH_CHAIN = 0.5
for _ in range(100_000):
    TANH_CHAIN = math.tanh(TANH_CHAIN)


def _parse(fn: str, text: str) -> str:
    return (f"text = {text!r}.replace('CANARY', repr(CANARY))\n"
            f"result = mc.{fn}(text, {SHAPES})\n")


def cases() -> list[Case]:
    out = [Case(f"parser-text-{k}", CLS, Raises("ParseError"), _parse("parse", v))
           for k, v in INJECTIONS.items()]
    out += [Case(f"parser-latex-{k}", CLS, Raises("ParseError"), _parse("parse_latex", v))
            for k, v in LATEX_INJECTIONS.items()]
    out += [Case(f"parser-latex-from-text-{k}", CLS, Raises("ParseError"),
                 _parse("parse_latex", v)) for k, v in list(INJECTIONS.items())[:6]]
    deep = 100_000
    prelude = "X = {'x': np.full((1, 1), 0.5)}\n"
    out += [
        Case("parser-text-deep-nesting", CLS, Value([[0.5]]),
             prelude + f"result = mc.evaluate(mc.parse('(' * {deep} + 'x' + ')' * {deep}, {SHAPES}), X)"),
        Case("parser-text-deep-unclosed", CLS, Raises("ParseError"),
             f"result = mc.parse('(' * {deep} + 'x', {SHAPES})"),
        Case("parser-text-deep-calls", CLS, Value([[TANH_CHAIN]], rtol=1e-6),
             prelude + f"result = mc.evaluate(mc.parse('tanh(' * {deep} + 'x' + ')' * {deep}, {SHAPES}), X)"),
        Case("parser-text-deep-unary", CLS, Value([[0.5]]),
             prelude + f"result = mc.evaluate(mc.parse('-' * {deep} + 'x', {SHAPES}), X)"),
        Case("parser-latex-deep-braces", CLS, Value([[0.5]]),
             prelude + f"result = mc.evaluate(mc.parse_latex('{{' * {deep} + 'x' + '}}' * {deep}, {SHAPES}), X)"),
        Case("parser-latex-deep-frac", CLS, Value([[0.5]]),
             prelude + f"result = mc.evaluate(mc.parse_latex('\\\\frac{{1}}{{' * {deep} + 'x' + '}}' * {deep}, {SHAPES}), X)"),
        Case("parser-latex-deep-parens", CLS, Value([[0.5]]),
             prelude + f"result = mc.evaluate(mc.parse_latex('\\\\left(' * {deep} + 'x' + '\\\\right)' * {deep}, {SHAPES}), X)"),
        Case("parser-text-5000-digits", CLS, Raises("ParseError", "out of range"),
             f"result = mc.parse('x * ' + '9' * 5000, {SHAPES})"),
        Case("parser-text-5000-digit-exponent", CLS, Raises("ParseError"),
             f"result = mc.parse('x * 1e' + '9' * 5000, {SHAPES})"),
        Case("parser-latex-5000-digits", CLS, Raises("ParseError", "out of range"),
             f"result = mc.parse_latex('x \\\\cdot ' + '9' * 5000, {SHAPES})"),
        Case("parser-text-huge-float", CLS, Raises("ParseError"),
             f"result = mc.parse('x * 1e400', {SHAPES})"),
        Case("parser-text-long-program", CLS, Value([[2.0 ** 200]]),
             "lines = ['y0 = x'] + [f'y{i + 1} = y{i} + y{i}' for i in range(200)]\n"
             "L = mc.parse('\\n'.join(lines), {'x': (1, 1)})\n"
             "result = mc.evaluate(L, {'x': np.ones((1, 1))})"),
        Case("parser-text-tanh-chain-20000", CLS, Equal(True),
             "text = 'y0 = x\\n' + '\\n'.join(f'y{i + 1} = tanh(y{i})' for i in range(20000))\n"
             "L = mc.parse(text, {'x': (1, 1)})\n"
             "g = mc.grad(mc.sum(L), 'x')\n"
             "v = mc.compile(g)(x=np.full((1, 1), 0.1))\n"
             "src = mc.numpy_source(g)\n"
             "result = bool(np.isfinite(v).all() and len(src) > 20000 and len(str(g)) > 0)",
             timeout=150),
        Case("parser-text-tanh-chain-20000-vector", CLS, Equal(True),
             "text = 'y0 = v\\n' + '\\n'.join(f'y{i + 1} = tanh(y{i})' for i in range(20000))\n"
             "L = mc.parse(text, {'v': ('n', 1)})\n"
             "g = mc.grad(mc.sum(L), 'v')\n"
             "val = mc.compile(g)(v=np.full((3, 1), 0.1))\n"
             "src = mc.numpy_source(g)\n"
             "result = bool(np.isfinite(val).all() and len(src) > 20000 and len(mc.latex(g)) > 0)",
             timeout=150),
        # its gradient shares each tanh with the next factor: written out as a tree it would be
        # ~7·10⁹ characters, refused before printing (matcalc.limits.max_print_chars)
        Case("parser-api-tanh-chain-20000-latex", CLS, Raises("SizeLimitError", "print"),
             "x = mc.Matrix('x', 1, 1)\ne = x\nfor _ in range(20000):\n    e = mc.tanh(e)\n"
             "result = mc.latex(mc.grad(mc.sum(e), x))", timeout=150),
        Case("parser-api-tanh-chain-1000-latex", CLS, Equal(True),
             "x = mc.Matrix('x', 1, 1)\ne = x\nfor _ in range(1000):\n    e = mc.tanh(e)\n"
             "result = len(mc.latex(mc.grad(mc.sum(e), x))) > 1000", timeout=150),
        Case("parser-text-unicode-name", CLS, Raises("ParseError"),
             f"result = mc.parse('ｗ + W', {SHAPES})"),
        Case("parser-text-round-trip", CLS, Equal(True),
             "L = mc.parse('L = sum(relu(W @ X))', " + SHAPES + ")\n"
             "back = mc.parse(mc.program_text(L), " + SHAPES + ")\n"
             "vals = {'W': np.arange(6.0).reshape(2, 3) - 2, 'X': np.ones((3, 4))}\n"
             "result = bool(np.allclose(mc.evaluate(L, vals), mc.evaluate(back, vals)))"),
    ]
    return out
