"""LaTeX names are injective and read back: distinct names never print alike, and parse_latex of
the printed LaTeX gives back the same names (matcalc.latexnames, matcalc.parsing.latex_names)."""

from __future__ import annotations

import keyword
import string

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import matcalc as mc
from matcalc.errors import InputError
from matcalc.evaluate import symbols_of
from matcalc.figure import html_name
from matcalc.latexnames import GREEK, latex_name
from matcalc.latexstyle import make_style

# the spellings that once collided, with what each prints now
GOLDEN = {
    "W1": "W1", "W_1": "W_1", "W12": "W12", "W_12": "W_{12}", "x_1_2": "x_{1,2}",
    "Wx": r"\mathrm{Wx}", "W_x": "W_x", "W_hh": "W_{hh}", "Whh": r"\mathrm{Whh}",
    "lam": r"\lambda", "lambda_": r"\mathrm{lambda\_}", "lmbda": r"\mathrm{lmbda}",
    "lambda_1": r"\lambda_1", "lam_1": r"\mathrm{lam}_1", "lambda1": r"\lambda1",
    "alpha": r"\alpha", "alpha1": r"\alpha1", "alpha_1": r"\alpha_1", "W_alpha": r"W_{\alpha}",
    "W_lam": "W_{lam}", "W_lambda": r"W_{\lambda}", "foo_bar": r"\mathrm{foo}_{bar}",
    "x_": r"\mathrm{x\_}", "_x": r"\mathrm{\_x}", "a__b": r"\mathrm{a\_\_b}", "W1_a": "W1_a",
    "W_1a": "W_{1a}", "x_t1": "x_{t1}", "x_t_1": "x_{t,1}",
}


def _declared(names: list[str], cols: str = "n") -> dict[str, tuple[str, str]]:
    return {n: ("n", cols) for n in names}


def _weighted_sum(names: list[str], cols: str = "n") -> mc.Expr:
    """2 a + 3 b + …: each name once, with a coefficient of its own."""
    terms = [(i + 2) * mc.Matrix(n, "n", cols) for i, n in enumerate(names)]
    out = terms[0]
    for t in terms[1:]:
        out = out + t
    return out


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden_spelling(name: str) -> None:
    assert latex_name(name) == GOLDEN[name]


def test_golden_spellings_are_distinct_and_read_back() -> None:
    names = sorted(GOLDEN)
    assert len(set(GOLDEN.values())) == len(names)
    shapes = _declared(names)
    for name in names:
        assert mc.parse_latex(latex_name(name), shapes).get("name") == name
    expr = _weighted_sum(names)
    back = mc.parse_latex(mc.latex(expr), shapes)
    assert mc.to_text(back) == mc.to_text(expr)


def test_the_issue_case() -> None:
    """latex(W1 + 2 * W_1) used to read back as 3 W_1."""
    W1, W_1 = mc.Matrix("W1", "n", "n"), mc.Matrix("W_1", "n", "n")
    tex = mc.latex(W1 + 2 * W_1)
    assert tex == "W1 + 2 W_1"
    back = mc.parse_latex(tex, _declared(["W1", "W_1"]))
    assert mc.to_text(back) == "W1 + 2 * W_1"


def test_lambda_itself_is_not_a_name() -> None:
    """lambda is a Python keyword: never a name, so \\lambda is free for lam."""
    with pytest.raises(InputError):
        mc.Matrix("lambda", 1, 1)


def test_lambda_spellings_stay_apart() -> None:
    names = ["lam", "lambda_", "lmbda", "lambda_1", "lam_1"]
    back = mc.parse_latex(mc.latex(_weighted_sum(names)), _declared(names))
    assert sorted(symbols_of(back)) == sorted(names)
    # λ alone is lam; when only another spelling is declared, \lambda still finds it
    assert mc.parse_latex(r"\lambda", _declared(["lambda_"])).get("name") == "lambda_"


def test_hand_written_forms_still_read() -> None:
    """Forms people type keep working: W_1 for a declared W1, \\mathrm{my\\_name}."""
    assert mc.parse_latex("W_1", _declared(["W1"])).get("name") == "W1"
    assert mc.parse_latex(r"\mathrm{my\_name}", _declared(["my_name"])).get("name") == "my_name"
    assert mc.parse_latex(r"\mathbf{x}_1", _declared(["x_1"])).get("name") == "x_1"
    # digits after an undeclared name are a number, as before: x2 is x times 2
    assert mc.to_text(mc.parse_latex("x2", _declared(["x"]))) == "x * 2"


@pytest.mark.parametrize("bad", ["ｆｏｏ", "W\n", "\\input{x}", "", "x y", "W²", 3, None])
def test_names_that_are_not_identifiers_are_refused(bad: object) -> None:
    with pytest.raises(InputError):
        latex_name(bad)  # type: ignore[arg-type]
    if bad is not None:  # wrt=None: no gradient symbol
        with pytest.raises(InputError):
            mc.latex(mc.Matrix("W", "n", "n"), wrt=bad)  # type: ignore[arg-type]
    with pytest.raises(InputError):
        mc.latex(mc.Matrix("W", "n", "n"), wrt="W", loss=bad)  # type: ignore[arg-type]


def test_unicode_names_never_meet_their_folded_form() -> None:
    """ｆｏｏ folds to foo under NFKC: it is refused wherever a name is made."""
    with pytest.raises(InputError):
        mc.Matrix("ｆｏｏ", "n", "n")
    with pytest.raises(mc.ParseError):
        mc.parse_latex("ｆｏｏ + foo", _declared(["foo"]))
    with pytest.raises(mc.ParseError):
        mc.parse("ｆｏｏ + foo", _declared(["foo"]))
    with pytest.raises(InputError):
        mc.parse("foo + foo", _declared(["ｆｏｏ"]))
    with pytest.raises(InputError):
        mc.Matrix("foo", "ｎ", "n")  # dimension names too
    with pytest.raises(InputError):
        mc.latex_gradients({"ｆｏｏ": mc.Matrix("foo", "n", "n")})


def test_figure_labels_follow_the_same_spelling() -> None:
    labels = {n: html_name(n) for n in GOLDEN}
    assert len(set(labels.values())) == len(labels)
    assert labels["W1"] == "W1" and labels["lam"] == "λ" and labels["alpha1"] == "α1"
    assert labels["W_1"].startswith("W<SUB>")


# --- generated identifiers --------------------------------------------------------------------

_WORDS = sorted(GREEK - {"lambda"}) + ["lam", "lambda", "lmbda", "W", "x", "Wx", "hh"]
_PIECE = st.one_of(st.sampled_from(_WORDS),
                   st.text(string.ascii_letters, min_size=1, max_size=3),
                   st.text(string.digits, min_size=1, max_size=2))


@st.composite
def identifiers(draw: st.DrawFn) -> str:
    """Names with digits, underscores (single, doubled, leading, trailing) and Greek words."""
    pieces = draw(st.lists(_PIECE, min_size=1, max_size=4))
    seps = draw(st.lists(st.sampled_from(["", "_", "_", "__"]), min_size=len(pieces) - 1,
                         max_size=len(pieces) - 1))
    name = pieces[0] + "".join(s + p for s, p in zip(seps, pieces[1:]))
    name = draw(st.sampled_from(["", "_"])) + name + draw(st.sampled_from(["", "", "_"]))
    if name[0].isdigit():
        name = "v" + name
    if keyword.iskeyword(name) or name in ("I", "e", "pi", "sigma", "n"):
        name += "_v"  # I, e, π, σ and the dimension n have readings of their own when undeclared
    return name


@settings(max_examples=400, deadline=None)
@given(st.lists(identifiers(), min_size=2, max_size=5, unique=True))
def test_printing_is_injective(names: list[str]) -> None:
    spelled = [latex_name(n) for n in names]
    assert len(set(spelled)) == len(names), dict(zip(names, spelled))
    bold = [latex_name(n, bold=True) for n in names]
    assert len(set(bold) | set(spelled)) == len(set(bold)) + len(set(spelled)) - sum(
        b == s for b, s in zip(bold, spelled))  # a bold name never looks like another name


@settings(max_examples=300, deadline=None)
@given(st.lists(identifiers(), min_size=1, max_size=4, unique=True), st.booleans())
def test_print_then_parse_gives_back_the_names(names: list[str], vectors: bool) -> None:
    cols = "1" if vectors else "n"
    expr = _weighted_sum(names, cols)
    with_style = make_style(bold_vectors=vectors)
    tex = mc.latex(expr, style=with_style)
    back = mc.parse_latex(tex, _declared(names, cols))
    assert sorted(symbols_of(back)) == sorted(names), tex
    assert mc.to_text(back) == mc.to_text(expr), tex


def test_names_read_back_inside_products_powers_and_functions():
    shapes = {"W1": ("n", "n"), "W_1": ("n", "n"), "x1": ("n", 1), "x_1": ("n", 1),
              "alpha1": (1, 1), "sigma_1": ("n", "n"), "lambda_": (1, 1), "lam": (1, 1)}
    s = {k: mc.Matrix(k, *v) for k, v in shapes.items()}
    expr = (s["alpha1"] * (s["W1"] @ s["x1"]) + s["lam"] * (s["W_1"].T @ s["x_1"])
            + s["lambda_"] * mc.tanh(s["sigma_1"] @ s["x1"]) + mc.sigmoid(s["W1"]) @ s["x_1"])
    rng = np.random.default_rng(0)
    values = {k: rng.standard_normal((3 if v[0] == "n" else 1, 3 if v[1] == "n" else 1))
              for k, v in shapes.items()}
    want = mc.evaluate(expr, values)
    for bold in (False, True):
        tex = mc.latex(expr, bold_vectors=bold)
        back = mc.parse_latex(tex, shapes)  # the same names, grouped as LaTeX groups them
        assert sorted(symbols_of(back)) == sorted(shapes), tex
        np.testing.assert_allclose(mc.evaluate(back, values), want, rtol=1e-12)


def test_the_loss_name_of_a_style_is_an_identifier_too():
    with pytest.raises(InputError, match="loss must be an ASCII identifier"):
        make_style(loss=r"\input{x}")
    assert make_style(loss="J").loss == "J"
