"""Fuzzing the two parsers: whatever the text, ``parse`` and ``parse_latex`` return an expression
or raise a MatcalcError — never another exception — and programs built from the grammar parse,
round-trip through the text printer to the very same (hash-consed) node, and through the LaTeX
printer to the same values.

The text is drawn four ways: arbitrary Unicode; soups of each language's own tokens (its names,
operators, brackets and every spelling of every op in the registry, so an op added later is
fuzzed too); and random well-shaped expressions built from the registry's builders. Examples are
derandomized (the same every run): 2,400 in all.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import matcalc as mc
from matcalc.errors import MatcalcError
from matcalc.expr import Expr
from matcalc.printing import program_text, to_text

SHAPES = {"A": ("n", "n"), "B": ("n", "n"), "W": ("m", "n"), "x": ("n", 1), "c": (1, 1)}
DIMS = {"m": 2, "n": 3}
FUZZ = settings(deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

# --- the languages' own tokens, read from the registry ---------------------------------------------

_spelled = sorted(mc.OPS.items())
TEXT_TOKENS = sorted({s for _, op in _spelled for s in op.spell} | {
    "A", "B", "W", "x", "c", "m", "n", "y", "L", "0", "1", "2.5", "1e3", "-", "+", "*", "/",
    "@", "**", ".T", "(", ")", "[", "]", ",", ";", ":", "=", "\n", "axis=0", "axis=1", "#",
    ">", "<", ">=", "==", " ", "..", "'", "\\", "1e999", "9" * 40})
LATEX_TOKENS = sorted({s for _, op in _spelled for s in op.latex_in} | {
    "A", "B", "W", "x", "c", "n", "1", "2", "0.5", "{", "}", "^", "_", "(", ")", "[", "]",
    "\\left(", "\\right)", "\\left\\|", "\\right\\|", "\\|", "|", "\\frac", "\\top", "T",
    "\\cdot", "\\odot", "\\otimes", "\\circ", "+", "-", "=", "\\sum", "\\mathbf{1}", "\\mathrm{",
    "\\operatorname{", "\\mathbb{I}", ">", ",", ";", "\\\\", "&", "\\begin{aligned}",
    "\\end{aligned}", "-1", "\\text{", "\\,", "~", "%", "\\input{x}", "\\def"})


def token_soup(tokens: list[str]) -> st.SearchStrategy[str]:
    """Sequences of tokens, glued with nothing or a space."""
    return st.lists(st.tuples(st.sampled_from(tokens), st.sampled_from(["", " "])),
                    max_size=30).map(lambda pairs: "".join(t + s for t, s in pairs))


def parse_or_refuse(parse: Any, text: str) -> Expr | None:
    """The parse, or None when the parser refused with a MatcalcError; anything else escapes."""
    try:
        result = parse(text, SHAPES)
    except MatcalcError as exc:
        assert str(exc).strip(), "an error must say what is wrong"
        return None
    assert isinstance(result, Expr)
    return result


@settings(FUZZ, max_examples=400)
@given(st.text(max_size=120))
def test_text_parser_on_random_text(text):
    parse_or_refuse(mc.parse, text)


@settings(FUZZ, max_examples=400)
@given(st.text(max_size=120))
def test_latex_parser_on_random_text(text):
    parse_or_refuse(mc.parse_latex, text)


@settings(FUZZ, max_examples=400)
@given(token_soup(TEXT_TOKENS))
def test_text_parser_on_its_own_tokens(text):
    parse_or_refuse(mc.parse, text)


@settings(FUZZ, max_examples=400)
@given(token_soup(LATEX_TOKENS))
def test_latex_parser_on_its_own_tokens(text):
    parse_or_refuse(mc.parse_latex, text)


@settings(FUZZ, max_examples=200)
@given(token_soup(TEXT_TOKENS))
def test_latex_parser_on_text_tokens(text):
    parse_or_refuse(mc.parse_latex, text)


# --- grammar-valid programs, built from the registry -----------------------------------------------

def _builders() -> list[tuple[str, Any, int]]:
    """Ops that the text language spells and whose builder takes expressions only (optional
    parameters left at their defaults): (name, builder, number of expression arguments)."""
    out = []
    for name, op in _spelled:
        if not op.spell or op.build is None or not op.params:
            continue
        required = [p for p in op.params if p.required]
        if required and all(p.kind == "expr" and not p.many for p in required):
            out.append((name, op.build, len(required)))
    return out


BUILDERS = _builders()
SYMBOLS = [mc.Matrix(k, *v) for k, v in SHAPES.items()]
OPERATORS = ["+", "-", "*", "/", "@", "T", "neg", "scale"]


def _combine(how: str, args: list[Expr], number: float) -> Expr:
    a, b = args[0], args[-1]
    table = {"+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b, "/": lambda: a / b,
             "@": lambda: a @ b, "T": lambda: a.T, "neg": lambda: -a, "scale": lambda: number * a}
    return table[how]()


@st.composite
def programs(draw: Any, depth: int = 4, names: bool = True) -> Expr:
    """A well-shaped expression: random ops applied to earlier results (an op whose shapes do
    not fit is drawn again), with named intermediates if ``names`` (a LaTeX formula is one
    expression: the printer writes a named intermediate as its name)."""
    pool = list(SYMBOLS)
    for step in range(draw(st.integers(2, depth * 3))):
        for _ in range(12):  # a few tries to find an op the pool's shapes fit
            # the latest result first, so that the ops nest; the others from anywhere
            first = pool[-1] if draw(st.integers(0, 3)) else draw(st.sampled_from(pool))
            args = [first, draw(st.sampled_from(pool)), draw(st.sampled_from(pool))]
            use_op = draw(st.booleans())
            _, build, arity = draw(st.sampled_from(BUILDERS))
            how = draw(st.sampled_from(OPERATORS))
            number = draw(st.sampled_from([2.0, 0.5, -3.0, 1e-3]))
            try:
                made = build(*args[:arity]) if use_op else _combine(how, args, number)
            except MatcalcError:
                continue
            if names and draw(st.integers(0, 3)) == 0:
                made = mc.named(f"y{step}", made)
            pool.append(made)
            break
    return pool[-1]


def _values() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    sizes = {"m": 2, "n": 3, 1: 1}
    return {k: rng.uniform(0.2, 0.9, size=(sizes[r], sizes[c])) for k, (r, c) in SHAPES.items()}


@settings(FUZZ, max_examples=300)
@given(programs())
def test_valid_programs_round_trip_through_text(e):
    text = program_text(e)
    again = mc.parse(text, SHAPES)
    assert again is e, (text, program_text(again))


@settings(FUZZ, max_examples=300)
@given(programs(names=False))
def test_valid_programs_round_trip_through_latex(e):
    source = mc.to_latex(e)
    try:
        parsed = mc.parse_latex(source, SHAPES)
    except MatcalcError as exc:
        pytest.fail(f"the printer's LaTeX does not parse: {source!r}: {exc}")
    assert parsed.shape == e.shape, source
    got, want = _value_or_error(parsed), _value_or_error(e)
    if isinstance(want, str):  # outside the domain (cholesky of a matrix that is not SPD)
        assert got == want, (source, got, want)
        return
    np.testing.assert_allclose(got, want, rtol=1e-7, atol=1e-9, equal_nan=True,
                               err_msg=f"{to_text(e)}\n{source}")


def _value_or_error(e: Expr) -> np.ndarray | str:
    """The value at fixed inputs, or the class of the EvaluationError that refused them."""
    with np.errstate(all="ignore"):
        try:
            return mc.evaluate(e, _values(), DIMS)
        except mc.EvaluationError as exc:
            return type(exc).__name__


def test_the_programs_draw_on_the_registry():
    assert len(BUILDERS) >= 40, "the programs draw on the registry's ops"
