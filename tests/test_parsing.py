r"""The parsing package: grammar files shipped and loaded, tables built from the op registry (an op
registered later is parseable at once), positioned errors with carets from both front ends, and
input nested 10^5 deep."""

from __future__ import annotations

import importlib.resources
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import sympy

import matcalc as mc
from matcalc import InputError, MatcalcError, ParseError, ShapeError, UnknownNameError
from matcalc.expr import OPS, Param, unregister
from matcalc.ops._base import broadcast_shape, defop
from matcalc.parsing import common
from matcalc.parsing.latex import parse_latex
from matcalc.parsing.latex_commands import latex_tables
from matcalc.parsing.tables import text_functions
from matcalc.parsing.text import FUNCTIONS, parse, parse_program

ROOT = Path(__file__).resolve().parent.parent
SHAPES = {"W": ("m", "n"), "V": ("m", "n"), "X": ("n", "B"), "A": ("n", "n"), "x": ("n", 1),
          "c": (1, 1)}


# --- grammar files --------------------------------------------------------------------------------

def test_grammar_files_are_package_data():
    package = importlib.resources.files("matcalc.parsing")
    for name in ("text.lark", "latex.lark"):
        text = package.joinpath(name).read_text(encoding="utf-8")
        assert "%ignore" in text and "start:" in text, name


def test_grammars_are_read_from_their_files():
    from matcalc.parsing import latex, text

    for module, filename in ((text, "text.lark"), (latex, "latex.lark")):
        grammar = module._GRAMMAR
        assert grammar.filename == filename
        source = grammar.parser().source_path  # where Lark read the grammar from
        assert (source.pkg_name, source.path) == ("matcalc.parsing", filename)


def test_missing_grammar_file_is_an_internal_error():
    grammar = common.GrammarFile("no_such_grammar.lark", dict)
    with pytest.raises(mc.MatcalcError, match="no_such_grammar.lark is missing"):
        grammar.parser()


def test_installed_package_ships_and_parses(tmp_path):
    """pip install (not -e) of a copy of the project: the grammars are in it and both parse."""
    src = tmp_path / "src"
    shutil.copytree(ROOT / "matcalc", src / "matcalc",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    target = tmp_path / "site"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target",
         str(target), str(src)], capture_output=True, text=True, timeout=600, check=False)
    assert install.returncode == 0, install.stderr
    assert (target / "matcalc" / "parsing" / "text.lark").is_file()
    assert (target / "matcalc" / "parsing" / "latex.lark").is_file()
    script = ("import matcalc, sys\n"
              "assert matcalc.__file__.startswith(sys.argv[1]), matcalc.__file__\n"
              "print(matcalc.parse('relu(W @ x).T', {'W': ('m', 'n'), 'x': ('n', 1)}))\n"
              "print(matcalc.parse_latex(r'\\mathbf{1}^\\top W', {'W': ('m', 'n')}))\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(target)] + sys.path)}
    run = subprocess.run([sys.executable, "-c", script, str(target)], capture_output=True,
                         text=True, cwd=tmp_path, env=env, timeout=300, check=False)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == ["relu(W @ x).T", "sum(W, axis=0)"]


def test_import_matcalc_does_not_load_the_parsers():
    script = ("import sys, matcalc\n"
              "assert 'lark' not in sys.modules and 'matcalc.parsing' not in sys.modules\n"
              "matcalc.parse('W', {'W': (2, 2)})\n"
              "assert 'lark' in sys.modules\n")
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         cwd=ROOT, timeout=300, check=False)
    assert run.returncode == 0, run.stderr


# --- tables from the registry ---------------------------------------------------------------------

def test_every_spelled_op_is_callable_in_text():
    table = text_functions()
    for op in OPS.values():
        for name in op.spell:
            fn = table[name]
            assert fn.op is op and fn.build is op.build and fn.params == op.params
    assert set(FUNCTIONS) == set(table)
    assert FUNCTIONS["sum"].keywords == ("axis",) and FUNCTIONS["power"].kinds == ("expr",
                                                                                     "number")
    spelled = {name for op in OPS.values() for name in op.spell + tuple(op.aliases)}
    assert spelled == set(table)  # every parameter of a built-in op can be written in text
    assert table["hstack"].op is OPS["concat"] and "axis" not in table["hstack"].names


def test_latex_spellings_come_from_the_records():
    tables = latex_tables()
    for op in OPS.values():
        for spelling in op.latex_in:
            if spelling in op.aliases:  # flipud: flip with axis 0
                assert tables.functions[tables.words[spelling]].op is op
            elif spelling in tables.calls:  # several operands: \operatorname{where}(M, A, B)
                assert tables.calls[spelling] is op
            elif spelling.startswith("\\operatorname{"):
                assert tables.words[spelling[len("\\operatorname{"):-1]] == op.name
            elif spelling.startswith("\\") and op.arity == 2:
                assert tables.infix[spelling[1:]].op is op
            elif spelling.startswith("\\"):
                assert tables.commands[spelling[1:]] == op.name
            else:
                assert tables.words[spelling] == op.name
    assert tables.infix["cdot"].how == "product"
    assert tables.infix["odot"].how == "elementwise" and tables.infix["div"].how == "elementwise"
    assert tables.infix["otimes"].how == "other"


KEEPING = {"relu", "sigmoid", "tanh", "exp", "log", "sqrt", "abs", "softplus", "step", "sign",
           "softmax", "log_softmax", "inv", "triu", "tril", "flip", "flipud", "fliplr", "cumsum",
           "sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "arcsinh", "arctanh",
           "erf", "gelu", "silu", "log1p", "expm1", "leaky_relu", "elu", "cholesky", "expm",
           "eigvecsh", "adj"}


def test_shape_keeping_functions_come_from_the_shape_rules():
    """The functions whose placeholder argument stays a placeholder, as the shape rules say."""
    tables = latex_tables()
    spelled = {name for name in tables.commands.values()} | set(tables.words.values())
    built_in = {name for name in spelled if not tables.functions[name].op.extra.get("user")}
    keeping = {name for name in built_in if tables.functions[name].keeps}
    assert keeping == KEEPING
    assert tables.functions["inv"].keeps == tables.functions["adj"].keeps == "square"
    assert tables.functions["tanh"].keeps == "all"
    assert tables.functions["trace"].keeps == "" and tables.functions["sum"].keeps == ""


def _leaky_record(name: str):
    return defop(
        name, 1,
        params=(Param("x"), Param("slope", "number", 0.1, keyword=True)),
        spell=(name,),
        latex_in=(r"\leakytest", "LeakyTest"),
        shape=lambda args, slope: args[0].shape,
        vjp=lambda g, out: (g * (mc.step(out.args[0]) + out.get("slope") * mc.step(
            -out.args[0])),),
        kind="elementwise",
        code={"numpy": lambda n, args, env:
              f"np.where({args[0]} > 0, {args[0]}, {n.get('slope')!r} * {args[0]})"},
    )


def _boxdot_record(name: str):
    return defop(
        name, 2,
        params=(Param("a"), Param("b")),
        latex_in=(r"\boxdottest",),
        shape=lambda args: broadcast_shape(name, "box-multiply", *args),
        vjp=lambda g, out: (g * out.args[1], g * out.args[0]),
        kind="binary",
        code={"numpy": "{0} * {1}"},
    )


def test_an_op_registered_later_is_parseable_at_once():
    assert "leaky_test" not in FUNCTIONS and "leakytest" not in latex_tables().commands
    leaky, boxdot = _leaky_record("leaky_test"), _boxdot_record("boxdot_test")
    try:
        W = mc.Matrix("W", "m", "n")
        e = parse("leaky_test(W, slope=0.25) + leaky_test(W)", SHAPES)
        assert e.args[0].op is leaky and e.args[0].get("slope") == 0.25
        assert e.args[1].get("slope") == 0.1
        w = np.array([[-2.0, 3.0], [1.0, -1.0]])
        np.testing.assert_allclose(mc.evaluate(e.args[0], {"W": w}),
                                   np.where(w > 0, w, 0.25 * w))
        with pytest.raises(ParseError, match="slope must be a number"):
            parse("leaky_test(W, slope=W)", SHAPES)
        with pytest.raises(ParseError, match="leaky_test: slope must be finite|out of range"):
            parse("leaky_test(W, slope=1e999)", SHAPES)
        assert parse_latex(r"\leakytest(W)", SHAPES) is leaky.build(W)
        assert parse_latex(r"\operatorname{LeakyTest}(W)", SHAPES) is leaky.build(W)
        # its shape rule keeps the shape: a placeholder argument is sized by its neighbour
        assert parse_latex(r"\leakytest(I) - A", SHAPES).args[0].args[0] is mc.eye("n")
        product = parse_latex(r"W \boxdottest V", SHAPES)
        assert product.op is boxdot and product.shape == W.shape
        ones = parse_latex(r"W \boxdottest (\mathbf{1}\mathbf{1}^\top)", SHAPES).args[1]
        assert ones is mc.ones("m", 1) @ mc.ones(1, "n")
    finally:
        unregister("leaky_test")
        unregister("boxdot_test")
    with pytest.raises(UnknownNameError, match="unknown function 'leaky_test'"):
        parse("leaky_test(W)", SHAPES)
    with pytest.raises(ParseError, match=r"unknown command \\leakytest"):
        parse_latex(r"\leakytest(W)", SHAPES)
    with pytest.raises(ParseError, match=r"unknown command \\boxdottest"):
        parse_latex(r"W \boxdottest V", SHAPES)


@pytest.fixture
def user_functions():
    """Names of user functions made in a test; removed afterwards (with their derivatives)."""
    from matcalc.ops import custom

    made: list[str] = []
    yield made
    for name in made:
        for op_name in [n for n in OPS if n == name or n.startswith(name + "_d")]:
            unregister(op_name)
            custom._CUSTOM.pop(op_name, None)


def test_user_function_with_parse_true_is_callable_from_parse(user_functions):
    z = sympy.Symbol("z")
    user_functions.append("mcsoftsign")
    softsign = mc.elementwise("mcsoftsign", z / (1 + sympy.Abs(z)), parse=True)
    e = parse("mcsoftsign(W @ X)", SHAPES)
    assert e is softsign(mc.Matrix("W", "m", "n") @ mc.Matrix("X", "n", "B"))
    assert parse_latex(r"\operatorname{mcsoftsign}(W X)", SHAPES) is e
    with pytest.raises(InputError, match="function name"):
        parse("W", {"mcsoftsign": (1, 1)})


def test_user_function_without_parse_is_invisible_to_parse(user_functions):
    z = sympy.Symbol("z")
    user_functions.append("mchidden")
    hidden = mc.elementwise("mchidden", z ** 3 + z)
    with pytest.raises(UnknownNameError, match="unknown function 'mchidden'"):
        parse("mchidden(W)", SHAPES)
    # parse_latex reads it as \operatorname{mchidden}, as before
    assert parse_latex(r"\operatorname{mchidden}(W)", SHAPES) is hidden(mc.Matrix("W", "m", "n"))
    # declared again with parse=True, it becomes visible (its spelling changes, not the registry)
    mc.elementwise("mchidden", z ** 3 + z, parse=True)
    assert parse("mchidden(W)", SHAPES) is hidden(mc.Matrix("W", "m", "n"))


# --- positioned errors and carets -----------------------------------------------------------------

def _caret_lines(err: MatcalcError) -> list[str]:
    return str(err).splitlines()[-2:]


# (parser, source, error class, line, column)
POSITIONED = [
    (parse, "W @ W", ShapeError, 1, 3),
    (parse, "Y = W @ X\nL = Y + W", ShapeError, 2, 7),
    (parse, "relu(W) + tahn(W)", UnknownNameError, 1, 11),
    (parse, "sum(W, axis=2)", ParseError, 1, 8),
    (parse, "eye(0)", ParseError, 1, 5),
    (parse, "W +", ParseError, 1, 4),
    (parse, "inv(W)", ShapeError, 1, 1),
    (parse_latex, r"X W", ShapeError, 1, 3),
    (parse_latex, "W +\n  \\foo", ParseError, 2, 3),
    (parse_latex, r"\operatorname{tr}(W)", ShapeError, 1, 1),
    (parse_latex, r"W + I", ShapeError, 1, 3),
    (parse_latex, r"\mathbf{1}_{m \times q}", UnknownNameError, 1, 11),
    (parse_latex, r"\left( W", ParseError, 1, 1),
    (parse_latex, r"W \otimes \mathbf{1}", ParseError, 1, 11),
]


@pytest.mark.parametrize("parser, source, cls, line, column", POSITIONED,
                         ids=[f"{p.__name__}:{s!r}" for p, s, *_ in POSITIONED])
def test_errors_carry_position_and_caret(parser, source, cls, line, column):
    with pytest.raises(MatcalcError) as info:
        parser(source, SHAPES)
    err = info.value
    assert type(err) is cls, (type(err), str(err))
    assert (err.line, err.column, err.source) == (line, column, source)
    assert f"(line {line}, column {column})" in str(err)
    assert "(line " not in err.message  # the bare message, positioned once
    text_line = source.split("\n")[line - 1]
    assert _caret_lines(err) == ["  " + text_line, "  " + " " * (column - 1) + "^"]


def test_builder_errors_are_new_positioned_errors():
    with pytest.raises(ShapeError) as info:
        parse("W @ W", SHAPES)
    err = info.value
    assert err.__cause__ is None and err.__suppress_context__
    assert err.message.startswith("cannot multiply W (m×n) by W (m×n)")
    with pytest.raises(ParseError) as info2:
        parse("power(W, 1e308 * 10)", SHAPES)
    assert info2.value.line == 1


# --- deep input -----------------------------------------------------------------------------------

DEEP = 10 ** 5


@pytest.fixture
def low_recursion_limit():
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)
    try:
        yield
    finally:
        sys.setrecursionlimit(old)


def test_deep_text_input(low_recursion_limit):
    with pytest.raises(ParseError) as info:
        parse("(" * DEEP + "W", SHAPES)
    assert "missing ')'" in str(info.value) and info.value.column == DEEP + 2
    with pytest.raises(ParseError, match="expected an expression"):
        parse("(" * DEEP, SHAPES)
    assert parse("(" * DEEP + "W" + ")" * DEEP, SHAPES) is mc.Matrix("W", "m", "n")


def test_deep_latex_input(low_recursion_limit):
    with pytest.raises(ParseError) as info:
        parse_latex("(" * DEEP + "W", SHAPES)
    assert "never closed" in str(info.value) and info.value.column == DEEP
    with pytest.raises(ParseError, match="unmatched"):
        parse_latex("W" + ")" * DEEP, SHAPES)
    assert parse_latex("(" * DEEP + "W" + ")" * DEEP, SHAPES) is mc.Matrix("W", "m", "n")


class _Exploding:
    def __init__(self, exc: BaseException):
        self.exc = exc

    def parse(self, source: str):
        raise self.exc


def test_entry_wrapper_turns_recursion_into_a_parse_error(monkeypatch):
    from matcalc.parsing import text

    monkeypatch.setattr(text._GRAMMAR, "parser", lambda: _Exploding(RecursionError()))
    with pytest.raises(ParseError, match="program is nested too deeply") as info:
        parse_program("W +\n W", SHAPES)
    assert (info.value.line, info.value.column) == (2, 3)


def test_entry_wrapper_unwraps_visit_errors(monkeypatch):
    from lark.exceptions import VisitError

    from matcalc.parsing import latex

    inner = ShapeError("cannot do that", 1, 1, "W")
    monkeypatch.setattr(latex._GRAMMAR, "parser",
                        lambda: _Exploding(VisitError("rule", None, inner)))
    with pytest.raises(ShapeError) as info:
        parse_latex("W", SHAPES)
    assert info.value is inner
