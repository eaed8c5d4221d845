"""Bad programs and bad declarations: each is a MatcalcError with a useful, positioned message."""

from __future__ import annotations

import builtins
import os
import pathlib
import re
import subprocess

import pytest

from matcalc import InputError, MatcalcError, ParseError, ShapeError, UnknownNameError
from matcalc.parsing.text import parse, parse_program

SHAPES = {"W": ("m", "n"), "X": ("n", "B"), "b": ("m", 1), "A": ("n", "n"), "x": ("n", 1)}

# (source, error class, substrings the message must contain)
BAD = [
    # empty programs
    ("", ParseError, ["empty program"]),
    ("# just a comment\n# and another", ParseError, ["empty program"]),
    ("  \n\t\n ;; \n", ParseError, ["empty program"]),
    # syntax: operators without operands, stray and missing parentheses
    ("W +", ParseError, ["unexpected end of input", "expected an expression", "line 1, column 4"]),
    ("W @", ParseError, ["expected an expression", "column 4"]),
    ("@ W", ParseError, ["unexpected '@'", "line 1, column 1"]),
    ("W + 1 +", ParseError, ["end of input", "column 8"]),
    ("W * * X", ParseError, ["unexpected '*'", "column 5"]),
    ("= W", ParseError, ["unexpected '='", "column 1"]),
    ("Y = ", ParseError, ["expected an expression"]),
    ("(W", ParseError, ["missing ')'", "column 3"]),
    ("W)", ParseError, ["unexpected ')'", "no '(' to close", "column 2"]),
    ("((W + W)", ParseError, ["missing ')'"]),
    ("(" * 500 + "W", ParseError, ["missing ')'", "column 502"]),
    ("(" * 500, ParseError, ["expected an expression", "column 501"]),
    ("relu(W", ParseError, ["missing ')'"]),
    ("(W; W)", ParseError, ["unexpected ';'", "missing ')'"]),
    ("sum(W,, axis=0)", ParseError, ["unexpected ','", "column 7"]),
    ("W..T", ParseError, ["unexpected '.'", "column 3"]),
    ("W.", ParseError, ["expected T"]),
    ("1W", ParseError, ["unexpected name 'W'", "operator missing", "column 2"]),
    ("W == X", ShapeError, ["compare", "W (m×n)", "X (n×B)"]),
    ("W = = X", ParseError, ["unexpected '='", "column 5"]),
    ("exp(A) = A", ParseError, ["only a plain name can be assigned", "column 8"]),
    ("2 = W", ParseError, ["only a plain name"]),
    ("W @ X # comment\n@ W", ParseError, ["unexpected '@'", "line 2, column 1"]),
    ("Y = W @\n X", ParseError, ["unexpected end of line", "line 1, column 8"]),
    ("W @ X\n\n   @ W", ParseError, ["unexpected '@'", "line 3, column 4"]),
    ("W; X", ParseError, ["unused", "line 1, column 1"]),
    ("W @ X\n  + b", ParseError, ["unused", "parentheses"]),
    # characters and constructs that are not part of the language
    ("!W", ParseError, ["unexpected character '!'", "column 1"]),
    ("W[0.5]", ParseError, ["index must be an integer", "column 3"]),
    ("W[0:2:1]", ParseError, ["unexpected ':'"]),
    ("[W, X]", ShapeError, ["hstack", "rows m ≠ n"]),
    ("W[0:5, W]", ParseError, ["index", "got W"]),
    ("{W}", ParseError, ["'{'"]),
    ("'W'", ParseError, ["strings"]),
    ('"W"', ParseError, ["strings"]),
    ("W ^ 2", ParseError, ["'^'", "**"]),
    ("W ⊙ X", ParseError, ["'⊙'", "column 3"]),
    ("W − W", ParseError, ["ASCII minus"]),
    ("W\x00", ParseError, ["unexpected character", "column 2"]),
    ("é", ParseError, ["unexpected character 'é'"]),
    ("W + " * 5000 + "@", ParseError, ["unexpected '@'", "line 1, column 20001"]),
    ("W\t@\tW", ShapeError, ["cannot multiply", "line 1, column 3"]),
    # Python that must not run
    ("__import__('os')", ParseError, ["strings", "column 12"]),
    ("__import__(os)", UnknownNameError, ["unknown function '__import__'"]),
    ("os.system('x')", ParseError, ["'.system'", "not allowed", "column 3"]),
    ("exec(\"print(1)\")", ParseError, ["strings"]),
    ("eval(W)", UnknownNameError, ["unknown function 'eval'"]),
    ("getattr(W, T)", UnknownNameError, ["unknown function 'getattr'"]),
    ("W.shape", ParseError, ["'.shape'", "only .T", "column 2"]),
    ("x.__class__", ParseError, ["'.__class__'"]),
    ("W.T.T.x", ParseError, ["'.x'", "column 6"]),
    ("W.T(X)", ParseError, ["only a function name can be called"]),
    ("lambda x: x", ParseError, ["'lambda'", "keyword", "column 1"]),
    ("import os", ParseError, ["'import'", "keyword"]),
    ("W if W else X", ParseError, ["'if'", "keyword", "column 3"]),
    ("[x for x in W]", ParseError, ["'for' is a Python keyword"]),
    ("True * W", ParseError, ["'True'", "keyword"]),
    # names and functions
    ("W @ XX", UnknownNameError, ["undeclared name 'XX'", "did you mean 'X'", "column 5"]),
    ("Y = W\nsum(Yy)", UnknownNameError, ["'Yy'", "did you mean 'Y'", "line 2, column 5"]),
    ("T", UnknownNameError, ["undeclared name 'T'"]),
    ("m @ W", UnknownNameError, ["'m' is a dimension"]),
    ("rleu(W)", UnknownNameError, ["unknown function 'rleu'", "did you mean 'relu'", "column 1"]),
    ("sigmod(W)", UnknownNameError, ["'sigmod'", "did you mean 'sigmoid'"]),
    ("relu(W) + tahn(W)", UnknownNameError, ["'tahn'", "did you mean", "column 11"]),
    ("W(X)", ParseError, ["'W' is a matrix, not a function"]),
    ("relu", ParseError, ["'relu' is a function"]),
    ("None", ParseError, ["None", "axis=None"]),
    ("Y = W; Y = W", ParseError, ["'Y' is already assigned", "line 1, column 8"]),
    ("W = X", ParseError, ["cannot assign to 'W'", "declared input"]),
    ("relu = W", ParseError, ["cannot assign to 'relu'", "function"]),
    # exponents
    ("W ** X", ShapeError, ["raise to a power", "W (m×n)", "X (n×B)", "column 3"]),
    ("W ** (X + 1)", ShapeError, ["raise to a power"]),
    ("max(W, 0)", ParseError, ["axis by name", "maximum(Z, 0)", "relu", "column 8"]),
    ("power(W, X)", ParseError, ["power", "exponent"]),
    ("x ** 1e999", ParseError, ["out of range", "column 6"]),
    ("9" * 5000 + " * W", ParseError, ["out of range", "column 1"]),
    # arguments
    ("sum()", ParseError, ["sum()", "1 to 2 arguments", "column 1"]),
    ("sum(axis=0)", ParseError, ["sum()", "argument 1 is missing"]),
    ("relu(W, X)", ParseError, ["relu()", "1 argument", "got 2"]),
    ("kron(W)", ParseError, ["kron()", "2 arguments"]),
    ("kron(W, X, A)", ParseError, ["kron()", "got 3"]),
    ("ones(m, n, 1)", ParseError, ["ones()", "got 3"]),
    ("sum(W, axs=0)", ParseError, ["'axs'", "did you mean 'axis'", "column 8"]),
    ("relu(W, axis=0)", ParseError, ["relu()", "unexpected keyword argument 'axis'"]),
    ("sum(W, 0, axis=0)", ParseError, ["'axis' twice"]),
    ("sum(W, axis=2)", ParseError, ["sum", "axis must be None, 0 or 1", "got 2", "column 8"]),
    ("sum(W, axis=x)", ParseError, ["axis", "got x"]),
    ("mean(W, -1)", ParseError, ["mean", "got -1"]),
    ("logsumexp(W, axis=W @ X)", ParseError, ["logsumexp", "axis"]),
    ("softmax(W, axis=None)", ParseError, ["softmax", "axis must be 0 or 1", "got None"]),
    ("log_softmax(W, axis=0.0)", ParseError, ["log_softmax", "got 0.0"]),
    ("eye(2.5)", ParseError, ["eye", "dimension", "2.5", "column 5"]),
    ("eye(0)", ParseError, ["eye", "positive integer", "got 0"]),
    ("eye(-3)", ParseError, ["eye", "got -3"]),
    ("eye(W @ X)", ParseError, ["eye", "dimension"]),
    ("ones(m, None)", ParseError, ["ones", "dimension"]),
    ("m * n", UnknownNameError, ["'m' is a dimension", "column 1"]),
    ("W * m * n", UnknownNameError, ["'m'", "column 5"]),
    # shapes
    ("W @ W", ShapeError, ["cannot multiply", "m×n", "line 1, column 3"]),
    ("W + X", ShapeError, ["cannot add", "column 3"]),
    ("Y = W @ X\nL = Y * b.T", ShapeError, ["multiply elementwise", "line 2, column 7"]),
    ("inv(W)", ShapeError, ["inv", "square", "column 1"]),
    ("trace(W)", ShapeError, ["trace", "square"]),
    ("det(X)", ShapeError, ["det", "square"]),
    ("logdet(b)", ShapeError, ["logdet", "square"]),
    ("sum(relu(W @ X) @ b)", ShapeError, ["cannot multiply", "column 17"]),
    ("diag(W)", ShapeError, ["diag"]),
]


def _id(row) -> str:
    text = row[0] if len(row[0]) <= 30 else row[0][:27] + "..."
    return repr(text)


def test_table_is_large_and_distinct():
    sources = [row[0] for row in BAD]
    assert len(sources) >= 45 and len(set(sources)) == len(sources)


@pytest.mark.parametrize("source, cls, needles", BAD, ids=[_id(r) for r in BAD])
def test_bad_program(source, cls, needles):
    with pytest.raises(MatcalcError) as info:
        parse(source, SHAPES)
    err = info.value
    assert isinstance(err, cls), f"{type(err).__name__}: {err}"
    message = str(err)
    for needle in needles:
        assert needle in message, f"{needle!r} not in {message!r}"
    if "line " in message:  # a positioned error carries its position and shows a caret
        assert isinstance(err.line, int) and isinstance(err.column, int)
        assert "^" in message


BAD_SHAPES = [
    ({"W": ("m", 0)}, ["'W'", "0"]),
    ({"W": ("m", -1)}, ["'W'", "-1"]),
    ({"W": ("m n", 1)}, ["'W'", "m n"]),
    ({"W": ("m",)}, ["'W'", "(rows, cols)"]),
    ({"W": ("m", "n", "p")}, ["'W'"]),
    ({"W": 3}, ["'W'"]),
    ({"W": (True, 1)}, ["'W'", "True"]),
    ({"W": (2.5, 1)}, ["'W'", "2.5"]),
    ({"W": (None, 1)}, ["'W'", "None"]),
    ({"W x": (1, 1)}, ["'W x'"]),
    ({"lambda": (1, 1)}, ["'lambda'"]),
    ({"relu": (1, 1)}, ["'relu'", "function"]),
    ({1: (1, 1)}, ["1"]),
    ([("W", (1, 1))], ["mapping"]),
]


@pytest.mark.parametrize("shapes, needles", BAD_SHAPES, ids=[repr(s) for s, _ in BAD_SHAPES])
def test_bad_shapes(shapes, needles):
    with pytest.raises(MatcalcError) as info:
        parse("W", shapes)
    for needle in needles:
        assert needle in str(info.value)


@pytest.mark.parametrize("source", [None, b"W", 42, ["W"]])
def test_source_must_be_text(source):
    with pytest.raises(InputError, match="source must be a str"):
        parse_program(source, SHAPES)


HOSTILE = [
    "__import__('os').system('touch /tmp/matcalc_pwned')",
    "__import__(os).system(x)",
    "os.system('echo hi')",
    "eval('1')",
    "exec('import os')",
    "import os; os.system('x')",
    "open('/etc/passwd').read()",
    "W.__class__.__bases__[0].__subclasses__()",
    "(lambda: __import__('os'))()",
    "subprocess.Popen(['ls'])",
    "globals()['os']",
    "sum(W, axis=__import__('os'))",
]


@pytest.mark.parametrize("source", HOSTILE)
def test_hostile_input_runs_nothing(source, monkeypatch):
    parse("W", SHAPES)  # build the parser before the traps are set
    calls: list[str] = []

    def trap(name):
        def fail(*args, **kwargs):
            calls.append(name)
            raise AssertionError(f"{name} was called while parsing {source!r}")
        return fail

    real_import = builtins.__import__

    def guarded_import(name, *args, **kwargs):
        if name.split(".")[0] in ("os", "subprocess", "shutil"):
            calls.append(f"import {name}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(os, "system", trap("os.system"))
    monkeypatch.setattr(os, "popen", trap("os.popen"))
    monkeypatch.setattr(subprocess, "Popen", trap("subprocess.Popen"))
    monkeypatch.setattr(builtins, "eval", trap("eval"))
    monkeypatch.setattr(builtins, "exec", trap("exec"))
    monkeypatch.setattr(builtins, "open", trap("open"))
    monkeypatch.setattr(builtins, "__import__", guarded_import)
    with pytest.raises(MatcalcError):
        parse(source, SHAPES)
    monkeypatch.undo()
    assert calls == []
    assert not pathlib.Path("/tmp/matcalc_pwned").exists()


def test_parser_source_has_no_evaluation_hooks():
    package = pathlib.Path(__file__).resolve().parents[1].joinpath("matcalc", "parsing")
    sources = sorted(package.glob("*.py")) + sorted(package.glob("*.lark"))
    assert sources
    calls = re.compile(r"(?<![\w.])(eval|exec|literal_eval|compile|__import__)\s*\(")
    for path in sources:
        text = path.read_text()
        assert not calls.search(text), (path.name, calls.search(text))
        assert "sympify" not in text and "__import__" not in text, path.name
