r"""LaTeX input: matrix semantics and product order, notation variants, placeholders sized by
context, positioned errors, round trips through the LaTeX printer, speed, and random junk."""

from __future__ import annotations

import functools
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import matcalc
from matcalc import MatcalcError, ParseError, ShapeError, UnknownNameError, evaluate, ops, to_latex
from matcalc.parsing.latex import parse_latex

# m, n, k are dimensions; B is a symbol here, so dimensions never share its name
SHAPES = {
    "W": ("m", "n"), "V": ("m", "n"), "X": ("n", "k"), "Y": ("m", "k"), "Z": ("m", "k"),
    "b": ("m", 1), "x": ("n", 1), "y": ("m", 1), "A": ("n", "n"), "B": ("k", "n"),
    "C": ("n", "n"), "r": (1, "k"), "alpha": (1, 1), "lam": (1, 1), "c": (1, 1),
    "W_1": ("m", "n"), "W2": ("n", "n"), "W_hh": ("m", "m"), "h": ("m", 1), "dL_dY": ("m", "k"),
    "hidden": ("m", 1), "S": ("m", "m"),
}
DIMS = {"m": 3, "n": 4, "k": 5}


def _values(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    out = {}
    for name, (r, c) in SHAPES.items():
        shape = (DIMS.get(r, r), DIMS.get(c, c))
        out[name] = rng.normal(size=shape)
    a = rng.normal(size=(4, 4))
    out["A"] = a @ a.T + 4 * np.eye(4)  # symmetric positive definite: inv, det, logdet
    c = rng.normal(size=(4, 4))
    out["C"] = c @ c.T + 4 * np.eye(4)
    out["alpha"], out["lam"], out["c"] = np.array([[0.7]]), np.array([[1.3]]), np.array([[-0.4]])
    return out


VAL = _values()
V = VAL


def _ev(source: str, shapes=SHAPES, values=VAL) -> np.ndarray:
    return evaluate(parse_latex(source, shapes), values, DIMS if shapes is SHAPES else None)


def _sig(a):
    return 1 / (1 + np.exp(-a))


def _logdet(a):
    return np.linalg.slogdet(a)[1]


def _s(x) -> np.ndarray:
    return np.full((1, 1), float(x))


# --- the acceptance cases -----------------------------------------------------------------------

ACCEPTANCE = [
    (r"W X", lambda: V["W"] @ V["X"]),
    (r"W^\top Y", lambda: V["W"].T @ V["Y"]),
    (r"W^T Y", lambda: V["W"].T @ V["Y"]),
    (r"\mathrm{ReLU}(W X + b)", lambda: np.maximum(V["W"] @ V["X"] + V["b"], 0)),
    (r"\sigma(W x)", lambda: _sig(V["W"] @ V["x"])),
    (r"\operatorname{tr}(A^\top C)", lambda: _s(np.trace(V["A"].T @ V["C"]))),
    (r"\mathrm{tr}(AXB)", lambda: _s(np.trace(V["A"] @ V["X"] @ V["B"]))),
    (r"W \odot V", lambda: V["W"] * V["V"]),
    (r"\|W x - y\|_2^2", lambda: _s(np.sum((V["W"] @ V["x"] - V["y"]) ** 2))),
    (r"\log\det(A)", lambda: _s(_logdet(V["A"]))),
    (r"\log|A|", lambda: _s(_logdet(V["A"]))),
    (r"A^{-1} x", lambda: np.linalg.inv(V["A"]) @ V["x"]),
    (r"x^\top A x", lambda: V["x"].T @ V["A"] @ V["x"]),
    (r"\exp(x)", lambda: np.exp(V["x"])),
    (r"\mathbf{W}\mathbf{x}", lambda: V["W"] @ V["x"]),
    (r"\frac{1}{2}\|Y - W X\|_F^2", lambda: _s(0.5 * np.sum((V["Y"] - V["W"] @ V["X"]) ** 2))),
    (r"\mathbf{1}^\top \mathrm{ReLU}(W X) \mathbf{1}",
     lambda: _s(np.sum(np.maximum(V["W"] @ V["X"], 0)))),
]


@pytest.mark.parametrize("source, reference", ACCEPTANCE, ids=[s for s, _ in ACCEPTANCE])
def test_acceptance(source, reference):
    np.testing.assert_allclose(_ev(source), reference(), rtol=1e-10, atol=1e-12)


def test_juxtaposition_is_the_matrix_product_in_order():
    shapes = {"W": ("n", "n"), "X": ("n", "n")}
    rng = np.random.default_rng(1)
    values = {"W": rng.normal(size=(3, 3)), "X": rng.normal(size=(3, 3))}
    wx, xw = _ev("W X", shapes, values), _ev("X W", shapes, values)
    np.testing.assert_allclose(wx, values["W"] @ values["X"])
    np.testing.assert_allclose(xw, values["X"] @ values["W"])
    assert not np.allclose(wx, xw)
    assert parse_latex("W X", shapes).op.name == "matmul"
    assert parse_latex(r"W \cdot X", shapes) is parse_latex("W X", shapes)
    assert parse_latex(r"W * X", shapes) is parse_latex("W X", shapes)


def test_structure_of_common_forms():
    p = lambda s: parse_latex(s, SHAPES)
    W, X, b, A = (ops.Matrix(n, *SHAPES[n]) for n in ("W", "X", "b", "A"))
    Z = ops.Matrix("Z", *SHAPES["Z"])
    assert p(r"\mathrm{ReLU}(W X + b)") is ops.relu(W @ X + b)
    assert p(r"\mathbf{1}^\top Z \mathbf{1}") is ops.sum(Z)
    assert p(r"\mathbf{1}^\top Z") is ops.sum(Z, 0)
    assert p(r"Z \mathbf{1}") is ops.sum(Z, 1)
    assert p(r"\log\det(A)") is ops.logdet(A)
    assert p(r"\log|A|") is ops.logdet(A)
    assert p(r"I - A") is ops.eye("n") - A
    assert p(r"A^{-\top}") is ops.inv(A).T
    assert p(r"\frac{1}{2} W") is 0.5 * W
    assert p(r"2 W") is 2 * W


# --- notation variants --------------------------------------------------------------------------

EQUIVALENT = [
    # transposes
    (r"W^\top", [r"W^T", r"W^{T}", r"W^{\top}", r"W^{\mathsf T}", r"W^{\mathsf{T}}",
                 r"W^\mathsf{T}", r"W'", r"W^\intercal", r"{W}^{\top}", r"W ^ \top"]),
    (r"A^{-1}", [r"A^{-1}", r"\left(A\right)^{-1}"]),
    (r"\left(A^{-1}\right)^\top", [r"A^{-\top}", r"A^{-T}", r"A^{-\mathsf{T}}"]),
    # products and scaling
    (r"\alpha W", [r"\alpha \cdot W", r"\alpha * W", r"W \alpha", r"\alpha\,W", r"(\alpha) W"]),
    (r"W \odot V", [r"W \circ V", r"\left(W\right) \odot \left(V\right)"]),
    (r"A \otimes W", [r"{A} \otimes {W}"]),
    (r"\frac{W}{2}", [r"\tfrac{W}{2}", r"\dfrac{W}{2}", r"W / 2", r"0.5 W", r"\frac{1}{2} W"]),
    # traces, determinants, logs
    (r"\operatorname{tr}(A)", [r"\mathrm{tr}(A)", r"\operatorname{Tr}(A)", r"\text{tr}(A)",
                               r"\mathrm{Tr}(A)", r"\operatorname{trace}(A)",
                               r"\operatorname{tr} A", r"\operatorname{tr}\left(A\right)",
                               r"\operatorname{tr}\left[A\right]"]),
    (r"\det(A)", [r"\det A", r"\det\left(A\right)", r"\operatorname{det}(A)"]),
    (r"\log\det(A)", [r"\log \det A", r"\log\left|A\right|", r"\ln\det(A)", r"\log|A|",
                      r"\operatorname{logdet}(A)", r"\log \, \det \left( A \right)"]),
    (r"\log(Z \odot Z)", [r"\ln(Z \odot Z)", r"\log\left(Z \odot Z\right)"]),
    # norms
    (r"\|x\|", [r"\|x\|_2", r"\lVert x\rVert", r"\left\lVert x \right\rVert", r"\left\| x \right\|",
                r"\lVert x \rVert_2", r"\Vert x \Vert"]),
    (r"\|x\|^2", [r"\|x\|_2^2", r"\|x\|^2_2", r"\left\lVert x \right\rVert_2^{2}",
                  r"x^\top x"]),
    (r"\|W\|_F^2", [r"\|W\|^2_F", r"\left\lVert W \right\rVert_F^{2}", r"\|W\|^2",
                    r"\operatorname{tr}(W^\top W)", r"\|W\|_{\mathrm{F}}^{2}"]),
    # functions
    (r"\mathrm{ReLU}(Z)", [r"\operatorname{ReLU}(Z)", r"\max(0, Z)", r"\max(Z, 0)",
                           r"\max\left(0, Z\right)", r"\max\{0, Z\}", r"\operatorname{relu}(Z)"]),
    (r"\sigma(Z)", [r"\operatorname{sigmoid}(Z)", r"\frac{1}{1 + \exp(-Z)}",
                    r"\frac{1}{1 + e^{-Z}}"]),
    (r"\exp(x)", [r"e^{x}", r"\exp x", r"\exp\left(x\right)", r"\exp\bigl(x\bigr)",
                  r"\exp\Big(x\Big)", r"\exp\left[x\right]", r"\exp{x}"]),
    (r"\sqrt{A \odot A}", [r"\left|A\right|", r"|A|", r"\operatorname{abs}(A)"]),
    (r"\mathbb{1}[Z > 0]", [r"\mathbb{1}\left[Z > 0\right]", r"\mathbf{1}[Z > 0]",
                            r"\mathbb{1}[0 < Z]", r"\operatorname{step}(Z)"]),
    (r"\operatorname{softmax}(Z)", [r"\mathrm{softmax}(Z)",
                                    r"\frac{\exp(Z)}{\mathbf{1}\mathbf{1}^\top \exp(Z)}"]),
    (r"\log\operatorname{softmax}(Z)", [r"\log \operatorname{softmax}\left(Z\right)",
                                        r"\log\left(\operatorname{softmax}(Z)\right)"]),
    (r"\operatorname{logsumexp}(Z)", [r"\log\left(\mathbf{1}^\top \exp(Z) \mathbf{1}\right)"]),
    (r"\operatorname{mean}(Z)", [r"\frac{1}{m k} \mathbf{1}^\top Z \mathbf{1}",
                                 r"\frac{\operatorname{sum}(Z)}{m k}"]),
    (r"\operatorname{diag}(x)", [r"\mathrm{diag}(x)", r"\operatorname{diag}\left(x\right)"]),
    (r"\operatorname{vec}(W)", [r"\operatorname{vec}\left(W\right)"]),
    (r"\tanh(Z)", [r"\tanh Z", r"\operatorname{tanh}(Z)"]),
    (r"\operatorname{softplus}(Z)", [r"\log(1 + \exp(Z))"]),
    # names
    (r"W_1", [r"W_{1}", r"\mathbf{W}_1", r"\mathbf{W_1}", r"\boldsymbol{W}_{1}"]),
    (r"W_2", [r"W_{2}", r"\mathbf{W}_2"]),  # declared as W2
    (r"W_{hh} h", [r"\mathbf{W}_{hh} \mathbf{h}", r"W_{\mathrm{hh}} \vec{h}"]),
    (r"\mathrm{hidden}", [r"\text{hidden}", r"\operatorname{hidden}"]),
    (r"\lambda x", [r"\lambda\mathbf{x}", r"\lambda \bm{x}", r"\mathit{x} \lambda"]),
    (r"\frac{\partial L}{\partial Y}", [r"\mathrm{dL}_{dY}",
                                        r"\frac{\partial L}{\partial \mathbf{Y}}"]),
    # placeholders
    (r"W \mathbf{1}", [r"W \mathbb{1}", r"W \boldsymbol{1}", r"W \mathbf{1}_{n}",
                       r"W \mathbf{1}_n"]),
    (r"A + \lambda I", [r"A + \lambda I_n", r"A + \lambda \mathbf{I}", r"\lambda I + A",
                        r"A + \lambda I_{n}"]),
    (r"W + \mathbf{0}", [r"W", r"W + \mathbf{0}_{m \times n}"]),
    # grouping and spacing
    (r"W (X + X)", [r"W \left(X + X\right)", r"W [X + X]", r"W \left[X + X\right]", r"W {X + X}",
                    r"W\bigl(X+X\bigr)", r"W \Bigl( X + X \Bigr)", r"W\;(X\,+\!X)",
                    r"W \quad (X + X)", r"$W (X + X)$", r"W~(X + X)", "W\n(X +\tX)"]),
]


@pytest.mark.parametrize("canonical, variants", EQUIVALENT, ids=[c for c, _ in EQUIVALENT])
def test_notation_variants(canonical, variants):
    want = _ev(canonical)
    for source in variants:
        np.testing.assert_allclose(_ev(source), want, rtol=1e-9, atol=1e-12, err_msg=source)


def test_runs_of_letters_split_into_declared_names():
    shapes = {"A": ("p", "q"), "X": ("q", "r"), "B": ("r", "p"), "AXB": ("p", "p")}
    A, X, B = (ops.Matrix(n, *shapes[n]) for n in "AXB")
    assert parse_latex("XBA", shapes) is X @ B @ A
    assert parse_latex("AXB", shapes) is ops.Matrix("AXB", "p", "p")  # a declared run is one name
    assert parse_latex("XB", shapes) is X @ B
    assert parse_latex(r"XB^\top", {**shapes, "B": ("p", "r")}) is X @ ops.Matrix("B", "p", "r").T
    with pytest.raises(UnknownNameError, match="undeclared name 'XQ'"):
        parse_latex("XQ", shapes)


def test_subscripted_names_prefer_the_declared_spelling():
    assert parse_latex("W_1", {"W_1": (2, 2), "W1": (3, 3)}).name == "W_1"
    assert parse_latex("W_1", {"W1": (3, 3)}).name == "W1"
    assert parse_latex("W_{hh}", {"W_hh": (2, 2)}).name == "W_hh"
    assert parse_latex(r"\alpha_1", {"alpha1": (1, 1)}).name == "alpha1"
    assert parse_latex(r"x_{t,1}", {"x_t_1": (2, 1)}).name == "x_t_1"
    assert parse_latex(r"\mathrm{dL}_{dY}", {"dL_dY": (2, 2)}).name == "dL_dY"


def test_gradient_symbols_are_cotangents():
    e = parse_latex(r"W^\top \frac{\partial L}{\partial Y}", SHAPES)
    g = e.args[1]
    assert g.name == "dL_dY" and g is ops.cotangent("Y", "m", "k")
    assert parse_latex(r"\frac{\partial L}{\partial W_1}", {"dL_dW1": (2, 2)}).name == "dL_dW1"
    with pytest.raises(UnknownNameError, match="dL_dQ"):
        parse_latex(r"\frac{\partial L}{\partial Q}", SHAPES)


def test_dimension_names_are_sizes():
    np.testing.assert_allclose(_ev(r"\frac{1}{n} \mathbf{1}^\top x"), _s(np.mean(V["x"])))
    np.testing.assert_allclose(_ev(r"\frac{\mathbf{1}^\top Z \mathbf{1}}{m k}"),
                               _s(np.mean(V["Z"])))
    np.testing.assert_allclose(_ev(r"2 n"), _s(8))


def test_pi_and_e():
    np.testing.assert_allclose(_ev(r"\pi"), _s(np.pi))
    np.testing.assert_allclose(_ev(r"e^{-x^\top x}"), np.exp(-V["x"].T @ V["x"]))
    # a declared e is a symbol
    assert parse_latex("e^2", {"e": (1, 1)}).args[0].name == "e"


def test_sigma_is_sigmoid_unless_declared():
    assert parse_latex(r"\sigma(Z)", SHAPES).op.name == "sigmoid"
    e = parse_latex(r"\sigma^2 I + A", {**SHAPES, "sigma": (1, 1)})
    np.testing.assert_allclose(evaluate(e, {**VAL, "sigma": 0.5}), 0.25 * np.eye(4) + V["A"])


def test_functions_apply_to_a_group_or_to_the_next_atom():
    np.testing.assert_allclose(_ev(r"\exp(x)^2"), np.exp(V["x"]) ** 2)
    np.testing.assert_allclose(_ev(r"\exp x^2"), np.exp(V["x"] ** 2))
    np.testing.assert_allclose(_ev(r"\det(A)^2"), _s(np.linalg.det(V["A"]) ** 2))
    np.testing.assert_allclose(_ev(r"\det A^{-1}"), _s(1 / np.linalg.det(V["A"])))
    np.testing.assert_allclose(_ev(r"\log \exp x"), V["x"])
    np.testing.assert_allclose(_ev(r"\tanh x'"), np.tanh(V["x"].T))


def test_precedence():
    np.testing.assert_allclose(_ev(r"-W X"), -(V["W"] @ V["X"]))
    np.testing.assert_allclose(_ev(r"W - -V"), V["W"] + V["V"])
    np.testing.assert_allclose(_ev(r"W + V \odot W"), V["W"] + V["V"] * V["W"])
    np.testing.assert_allclose(_ev(r"W \odot V X"), (V["W"] * V["V"]) @ V["X"])  # left to right
    np.testing.assert_allclose(_ev(r"2 W X"), 2 * V["W"] @ V["X"])
    np.testing.assert_allclose(_ev(r"x^\top x^2"), V["x"].T @ V["x"] ** 2)
    np.testing.assert_allclose(_ev(r"1.5 \times 10^{-3} W"), 1.5e-3 * V["W"])


# --- powers -------------------------------------------------------------------------------------

def test_powers():
    np.testing.assert_allclose(_ev(r"x^{2}"), V["x"] ** 2)  # a column: elementwise
    np.testing.assert_allclose(_ev(r"W^2"), V["W"] ** 2)  # not square: elementwise
    np.testing.assert_allclose(_ev(r"A^{\circ 2}"), V["A"] ** 2)
    np.testing.assert_allclose(_ev(r"(x^\top x)^{0.5}"), np.sqrt(V["x"].T @ V["x"]))
    np.testing.assert_allclose(_ev(r"\alpha^{-1}"), 1 / V["alpha"])
    np.testing.assert_allclose(_ev(r"\|x\|^{\frac{1}{2}}"),
                               _s(np.sqrt(np.linalg.norm(V["x"]))))
    np.testing.assert_allclose(_ev(r"2^{3}"), _s(8))
    # a square matrix to an integer power is the matrix power A A (the printer writes the
    # elementwise one A^{\circ 2}); a placeholder's or a fraction's power stays ambiguous
    np.testing.assert_allclose(_ev(r"A^2"), V["A"] @ V["A"])
    with pytest.raises(ParseError, match="ambiguous"):
        parse_latex(r"I^{2} + A", SHAPES)
    with pytest.raises(ParseError, match=r"ambiguous.*X X.*\\odot"):
        parse_latex(r"A^{0.5}", SHAPES)
    with pytest.raises(ShapeError, match="inv needs a square matrix"):
        parse_latex(r"W^{-1}", SHAPES)


def test_bars():
    np.testing.assert_allclose(_ev(r"|Z|"), np.abs(V["Z"]))
    np.testing.assert_allclose(_ev(r"\log|Z|"), np.log(np.abs(V["Z"])))  # not square
    np.testing.assert_allclose(_ev(r"\log|\alpha|"), np.log(np.abs(V["alpha"])))
    np.testing.assert_allclose(_ev(r"|x|^\top A |x|"), np.abs(V["x"]).T @ V["A"] @ np.abs(V["x"]))
    np.testing.assert_allclose(_ev(r"\left|x\right|^\top \left|x\right|"),
                               np.abs(V["x"]).T @ np.abs(V["x"]))
    # the spectral norm of a matrix needs its number of singular values, min(m, n)
    with pytest.raises(ShapeError, match="svdvals"):
        parse_latex(r"\|W\|_2", SHAPES)
    np.testing.assert_allclose(_ev(r"\|A\|_2"), _s(np.linalg.norm(V["A"], 2)))


# --- placeholders sized by context ---------------------------------------------------------------

def test_placeholders_take_sizes_from_context():
    np.testing.assert_allclose(_ev(r"I - A"), np.eye(4) - V["A"])
    np.testing.assert_allclose(_ev(r"A + \lambda I"), V["A"] + 1.3 * np.eye(4))
    np.testing.assert_allclose(_ev(r"(I - A)^{-1} x"), np.linalg.inv(np.eye(4) - V["A"]) @ V["x"])
    np.testing.assert_allclose(_ev(r"W I"), V["W"])
    np.testing.assert_allclose(_ev(r"I W"), V["W"])
    np.testing.assert_allclose(_ev(r"W + \mathbf{1}\mathbf{1}^\top"), V["W"] + 1)
    np.testing.assert_allclose(_ev(r"Z + \mathbf{1} r"), V["Z"] + V["r"])
    np.testing.assert_allclose(_ev(r"\mathbf{1}^\top x"), _s(np.sum(V["x"])))
    np.testing.assert_allclose(_ev(r"x^\top \mathbf{1}"), _s(np.sum(V["x"])))
    np.testing.assert_allclose(_ev(r"\mathbf{1}^\top c \mathbf{1}"), V["c"])
    np.testing.assert_allclose(_ev(r"\mathbf{1}^\top (Z \mathbf{1})"), _s(np.sum(V["Z"])))
    np.testing.assert_allclose(_ev(r"W (\alpha \mathbf{1}) + y"), V["W"] @ (0.7 * np.ones((4, 1)))
                               + V["y"])
    np.testing.assert_allclose(_ev(r"-I \odot A + \exp(\mathbf{0}) \odot A"),
                               -np.eye(4) * V["A"] + V["A"])
    np.testing.assert_allclose(_ev(r"I_{n} - A"), np.eye(4) - V["A"])
    np.testing.assert_allclose(_ev(r"\mathbf{1}_{m \times k} + Z"), 1 + V["Z"])
    np.testing.assert_allclose(_ev(r"I_{m k}"), np.eye(15))
    np.testing.assert_allclose(_ev(r"I_{3} \otimes A"), np.kron(np.eye(3), V["A"]))
    # a declared I is a symbol
    assert parse_latex("I", {"I": (2, 2)}).op.name == "symbol"


@pytest.mark.parametrize("source", [
    r"\mathbf{1}", r"I", r"\mathbf{0}", r"\operatorname{tr}(I)", r"\mathbf{1}^\top \mathbf{1}",
    r"\mathbf{1} \otimes A", r"\|\mathbf{1}\|", r"\lambda I", r"\exp(I)", r"2 \mathbf{0}^\top",
])
def test_placeholders_without_a_size_are_errors(source):
    with pytest.raises(ParseError, match="cannot infer the size") as info:
        parse_latex(source, SHAPES)
    assert info.value.column is not None


def test_placeholder_shape_mismatch():
    with pytest.raises(ShapeError) as info:
        parse_latex(r"W + I", SHAPES)  # W is not square
    assert info.value.column == 3


# --- errors --------------------------------------------------------------------------------------

# (source, error class, substrings of the message, column)
BAD = [
    ("", ParseError, ["empty formula"], 1),
    ("   ", ParseError, ["empty formula"], 1),
    ("W +", ParseError, ["end of input", "expected an expression"], 4),
    (r"\foo X", ParseError, [r"unknown command \foo"], 1),
    (r"W + \foo", ParseError, [r"unknown command \foo"], 5),
    (r"\frac{1}{2", ParseError, ["missing '}'"], 9),
    (r"\left( W", ParseError, [r"missing '\\right)'", "never closed"], 1),
    (r"W \right)", ParseError, ["unmatched", "no opening"], 3),
    (r"\left( W )", ParseError, [r"must be closed by \right)"], 10),
    (r"( W \right)", ParseError, [r"no matching \left"], 5),
    (r"\left( W \right]", ParseError, ["does not match"], 10),
    (r"\left. W \right|", ParseError, ["not supported"], 6),
    (r"\left W", ParseError, ["followed by a delimiter"], 1),
    (r"(W", ParseError, ["missing ')'"], 1),
    (r"W)", ParseError, ["unmatched"], 2),
    (r"{W", ParseError, ["missing '}'"], 1),
    (r"W}", ParseError, ["unmatched"], 2),
    (r"\|W", ParseError, ["never closed"], 1),
    (r"|x", ParseError, ["never closed"], 1),
    (r"\left\| x \right|", ParseError, ["does not match"], 11),
    ("X W", ShapeError, ["cannot multiply", "k ≠ m"], 3),
    ("W + X", ShapeError, ["cannot add"], 3),
    (r"\operatorname{tr}(W)", ShapeError, ["trace needs a square matrix"], 1),
    (r"\det W", ShapeError, ["det needs a square matrix"], 1),
    (r"\mathrm{ReLU}(W X + x)", ShapeError, ["cannot add"], 19),
    (r"A^{1.5}", ParseError, ["ambiguous"], 2),
    (r"W_", ParseError, ["needs a subscript"], 2),
    (r"W^", ParseError, ["needs a superscript"], 2),
    (r"x^{2", ParseError, ["missing '}'"], 2),
    (r"\frac12", ParseError, ["braced or parenthesised"], 6),
    (r"\frac{a}{b}", UnknownNameError, ["undeclared name 'a'"], 7),
    (r"\operatorname{foo}(x)", UnknownNameError, [r"unknown operator \operatorname{foo}"], 1),
    (r"\max_{q}(Z)", ParseError, [r"_{\text{col}}"], 5),
    (r"\max(Z, W)", ShapeError, ["maximum", "k ≠ n"], 1),
    (r"L = W", ParseError, ["'=' is not part of a formula"], 3),
    (r"W & X", ParseError, ["alignment"], 3),
    (r"W \\ X", ParseError, ["line breaks"], 3),
    (r"\sqrt[3]{x}", ParseError, [r"\sqrt[n]"], 6),
    (r"\mathbb{1}[Z]", ParseError, ["expected a comparison"], 13),
    (r"\mathbb{1}[Z \geq W]", ShapeError, ["compare", "k ≠ n"], 14),
    (r"Z > 0", ParseError, ["comparisons appear only"], 3),
    (r"\|x\|_q", ParseError, ["unsupported norm"], 6),
    (r"W^*", ParseError, ["unsupported superscript"], 2),
    (r"W^{q}", UnknownNameError, ["undeclared name 'q'"], 4),
    (r"x, y", ParseError, ["comma"], 2),
    (r"\partial L", ParseError, [r"\partial appears only"], 1),
    (r"_2 W", ParseError, ["unexpected subscript"], 1),
    (r"^\top W", ParseError, ["needs something before it"], 1),
    (r"\top", ParseError, ["must be a superscript"], 1),
    (r"\beta W", UnknownNameError, [r"undeclared name \beta"], 1),
    (r"\exp", ParseError, ["end of input"], 5),
    (r"\exp()", ParseError, ["expected an expression"], 6),
    (r"W @ X", ParseError, ["unexpected character '@'"], 3),
    (r"W ⊙ V", ParseError, [r"\odot"], 3),
    (r"I_q", UnknownNameError, ["unknown dimension 'q'"], 1),
    (r"\mathbf{1}_{m \times q}", UnknownNameError, ["unknown dimension 'q'"], 11),
    (r"\frac{1}{0} W", ParseError, ["division by zero"], 9),
    (r"tr(A)", UnknownNameError, [r"\operatorname{tr}"], 1),
    (r"\tanh(x", ParseError, ["missing ')'"], 6),
    (r"\mathbf{}", ParseError, ["empty"], 1),
    (r"\mathbf", ParseError, ["needs an argument"], 1),
    (r"W \otimes \mathbf{1}", ParseError, ["cannot infer the size"], 11),
    ("W +\n  \\foo", ParseError, [r"unknown command \foo", "line 2"], 3),
    ("9" * 400 + "W", ParseError, ["out of range"], 1),
]


@pytest.mark.parametrize("source, cls, parts, column", BAD, ids=[b[0][:30] for b in BAD])
def test_malformed_latex(source, cls, parts, column):
    with pytest.raises(MatcalcError) as info:
        parse_latex(source, SHAPES)
    err = info.value
    assert type(err) is cls, (type(err), str(err))
    text = str(err)
    for part in parts:
        assert part in text, (part, text)
    assert err.column == column, text
    assert "^" in text.splitlines()[-1]  # a caret under the offending spot


def test_bad_arguments_are_input_errors():
    with pytest.raises(matcalc.InputError):
        parse_latex(b"W", SHAPES)  # type: ignore[arg-type]
    with pytest.raises(matcalc.InputError):
        parse_latex("W", [("W", (2, 2))])  # type: ignore[arg-type]
    with pytest.raises(matcalc.InputError):
        parse_latex("W", {"W": (0, 2)})


# --- round trips through the printer -------------------------------------------------------

def _sym(name):
    return ops.Matrix(name, *SHAPES[name])


W, X, Y, Z, b, x, y, A, Bm, C, r = (_sym(n) for n in
                                    ("W", "X", "Y", "Z", "b", "x", "y", "A", "B", "C", "r"))
alpha, lam, c, W1, W2, Whh, h = (_sym(n) for n in ("alpha", "lam", "c", "W_1", "W2", "W_hh",
                                                   "h"))
G = ops.cotangent("Y", "m", "k")

ROUND_TRIP = [
    W @ X + b, ops.relu(W @ X + b), ops.sigmoid(Z), ops.tanh(Z), ops.exp(-Z), ops.log(A * A),
    ops.sqrt(A * A), ops.abs(Z), ops.softplus(Z), ops.step(Z), ops.sign(Z), 2 * W, W / 2,
    alpha * W, W1.T @ W, Whh @ h, W2 @ x, ops.inv(A) @ x, ops.inv(A).T, ops.inv(A.T), x.T @ A @ x,
    ops.norm(W @ X - Z) ** 2, 0.5 * ops.norm(Y - W @ X) ** 2, ops.norm(x), ops.sum(Z),
    ops.sum(Z, 0), ops.sum(Z, 1), ops.sum(Z * Z), ops.sum(x), ops.mean(Z), ops.mean(Z, 0),
    ops.mean(Z, 1), ops.logsumexp(Z), ops.logsumexp(Z, 0), ops.logsumexp(Z, 1), ops.softmax(Z),
    ops.softmax(Z, 1), ops.log_softmax(Z), ops.log_softmax(Z, 1), ops.kron(A, W),
    ops.kron(A, W) @ ops.vec(C), ops.vec(W), ops.diag(x), ops.diag(A), ops.trace(A), ops.det(A),
    ops.logdet(A), ops.trace(A @ C), Z ** 2, Z ** 0.5, x ** 3, -Z, ops.eye("n") - A, G * Z,
    W.T @ G, W @ (X + X), (W @ X).T, ops.tanh(Z) * ops.sigmoid(Z), 1 - ops.sigmoid(Z),
    Z / (1 + Z * Z), 0.5 * Z, -2 * Z, W * -2, W @ (-X), ops.det(A) ** 2, lam * ops.eye("n") + A,
    Z + ops.ones("m", "k"), ops.sum(Z) / ops.size("m"), Bm @ A @ X, r @ Bm, x @ r,
    ops.diag(x) @ A, 1.5e-8 * W, -ops.sum(Z * Z), ops.relu(-Z) - ops.relu(Z),
    (x.T @ x) * W, c * x, x * c, ops.sum(alpha), ops.softmax(r), ops.logsumexp(x),
    ops.mul(Z, ops.sigmoid(Z) * Z), ops.matmul(W, ops.mul(alpha, X)), ops.inv(A) @ ops.inv(C),
    matcalc.jacobian(W.T, W), matcalc.jacobian(W @ x, W), matcalc.jacobian(ops.inv(A) @ x, A),
    matcalc.hessian(ops.sum(ops.tanh(W @ x)), x),
]

# Printed forms that once could not be read back, now printed with their sizes or as Hadamard
# powers: they round-trip like the rest.
ROUND_TRIP += [ops.power(Z, -1), ops.power(A, 2), ops.ones("m", 1), ops.ones("m", "k"),
               ops.zeros("m", "k"), ops.kron(ops.ones("n", 1), ops.eye("n"))]

# Printed forms that cannot be read back unambiguously:
AMBIGUOUS = [
    (ops.unvec(ops.vec(W), "m", "n"), r"unvec prints as \operatorname{vec}^{-1}(…): no shape"),
]


def _values_for(e):
    return {name: VAL[name] for name in _names(e)}


def _names(e):
    return {n.get("name") for n in matcalc.toposort([e]) if n.op.name == "symbol"}


def _assert_same_value(e, source):
    parsed = parse_latex(source, SHAPES)
    values = _values_for(e)
    got, want = evaluate(parsed, values, DIMS), evaluate(e, values, DIMS)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12, equal_nan=True,
                               err_msg=f"{source} read as {parsed}")


@pytest.mark.parametrize("expr", ROUND_TRIP, ids=[str(e)[:40] for e in ROUND_TRIP])
def test_printer_round_trip(expr):
    _assert_same_value(expr, to_latex(expr))


@pytest.mark.parametrize("expr, reason", AMBIGUOUS, ids=[str(e)[:40] for e, _ in AMBIGUOUS])
def test_printer_outputs_that_do_not_round_trip(expr, reason):
    """Documented gaps: each printed form is rejected (never misread as another value)."""
    source = to_latex(expr)
    try:
        parsed = parse_latex(source, SHAPES)
    except MatcalcError:
        return
    values = _values_for(expr)
    if np.allclose(evaluate(parsed, values, DIMS), evaluate(expr, values, DIMS)):
        pytest.skip(f"now round-trips: {source}")  # the printer changed; move it to ROUND_TRIP
    pytest.fail(f"{source} was read as {parsed} ({reason})")


STYLES = [{"transpose": "T"}, {"transpose": "mathsf"}, {"hadamard": r"\circ"},
          {"bold_vectors": True}, {"inverse_transpose": False}]


@pytest.mark.parametrize("options", STYLES, ids=[str(o) for o in STYLES])
def test_printer_round_trip_in_other_styles(options):
    try:
        to_latex(W, **options)
    except (TypeError, MatcalcError):
        pytest.skip("the printer has no such style option")
    for e in ROUND_TRIP:
        _assert_same_value(e, to_latex(e, **options))


# --- random expressions through the printer -------------------------------------------------------

# shapes by key; every key's transpose is a key too
_SHAPE_OF = {"mn": ("m", "n"), "nm": ("n", "m"), "nk": ("n", "k"), "kn": ("k", "n"),
             "mk": ("m", "k"), "km": ("k", "m"), "nn": ("n", "n"), "m1": ("m", 1),
             "1m": (1, "m"), "n1": ("n", 1), "1n": (1, "n"), "11": (1, 1)}
_LEAVES = {"mn": [W, W1], "nm": [W.T], "nk": [X], "kn": [Bm], "mk": [Z, Y], "km": [Z.T],
           "nn": [A, C], "m1": [b, y], "1m": [y.T], "n1": [x], "1n": [x.T], "11": [alpha, c]}
_PRODUCTS = {"mn": [("mn", "nn"), ("mk", "kn")], "nk": [("nn", "nk"), ("nm", "mk")],
             "mk": [("mn", "nk")], "nn": [("nk", "kn"), ("nm", "mn")], "m1": [("mn", "n1")],
             "n1": [("nn", "n1"), ("nm", "m1")], "11": [("1n", "n1"), ("1m", "m1")],
             "kn": [("km", "mn")], "nm": [("nn", "nm")], "km": [("kn", "nm")],
             "1m": [("1n", "nm")], "1n": [("1m", "mn")]}
_TRANSPOSE = {"mn": "nm", "nm": "mn", "nk": "kn", "kn": "nk", "mk": "km", "km": "mk", "nn": "nn",
              "m1": "1m", "1m": "m1", "n1": "1n", "1n": "n1", "11": "11"}
_SMOOTH = [ops.relu, ops.sigmoid, ops.tanh, ops.abs, ops.softplus, ops.step, ops.sign, ops.neg,
           lambda e: ops.exp(ops.tanh(e)), lambda e: ops.log(1 + e * e),
           lambda e: ops.sqrt(1 + e * e)]


@functools.cache
def _expr_of(key: str, depth: int):
    leaves = st.sampled_from(_LEAVES[key])
    if depth == 0:
        return leaves
    sub = lambda k: _expr_of(k, depth - 1)
    options = [
        leaves,
        st.tuples(st.sampled_from(_SMOOTH), sub(key)).map(lambda t: t[0](t[1])),
        st.tuples(sub(key), sub(key), st.sampled_from(["add", "sub", "mul"])).map(
            lambda t: getattr(ops, t[2])(t[0], t[1])),
        st.tuples(sub(key), sub(key)).map(lambda t: t[0] / (2 + t[1] * t[1])),
        st.tuples(st.sampled_from([2, 0.5, -3, 1.5e-8]), sub(key)).map(lambda t: t[0] * t[1]),
        st.tuples(sub("11"), sub(key)).map(lambda t: t[0] * t[1]),
        sub(_TRANSPOSE[key]).map(ops.transpose),
        st.sampled_from(_PRODUCTS[key]).flatmap(
            lambda ab: st.tuples(sub(ab[0]), sub(ab[1]))).map(lambda t: t[0] @ t[1]),
    ]
    if key not in ("nn", "11"):
        options.append(sub(key).map(lambda e: ops.power(e, 2)))
    if key == "11":
        options += [sub("nn").map(ops.trace), sub("mk").map(ops.norm),
                    sub("mk").map(ops.sum), sub("n1").map(ops.sum), sub("11").map(ops.exp),
                    sub("11").map(lambda e: ops.power(e, 2)), st.just(ops.det(A)),
                    st.just(ops.logdet(C)), sub("mk").map(ops.logsumexp)]
    if key == "1n":
        options.append(sub("mn").map(lambda e: ops.sum(e, 0)))
    if key == "m1":
        options += [sub("mk").map(lambda e: ops.sum(e, 1)), sub("mk").map(lambda e: ops.mean(e, 1))]
    if key == "mk":
        options += [sub("mk").map(lambda e: ops.softmax(e, 0)),
                    sub("mk").map(lambda e: ops.log_softmax(e, 1)),
                    st.just(ops.softmax(Z, 1))]
    if key == "nn":
        options += [st.just(ops.inv(A)), st.just(ops.eye("n")), sub("n1").map(ops.diag),
                    st.just(ops.inv(C).T)]
    if key == "n1":
        options.append(sub("nn").map(ops.diag))
    return st.one_of(options)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(key=st.sampled_from(sorted(_SHAPE_OF)), data=st.data())
def test_random_expressions_round_trip_through_the_printer(key, data):
    e = data.draw(_expr_of(key, 4))
    source = to_latex(e)
    parsed = parse_latex(source, SHAPES)
    assert parsed.shape == e.shape, source
    values = _values_for(e)
    with np.errstate(all="ignore"):
        got, want = evaluate(parsed, values, DIMS), evaluate(e, values, DIMS)
    np.testing.assert_allclose(got, want, rtol=1e-7, atol=1e-9, equal_nan=True,
                               err_msg=f"{e}\n{source}\n{parsed}")


# --- speed ---------------------------------------------------------------------------------------

def test_parse_speed():
    formula = (r"\frac{1}{2}\left\lVert Y - \operatorname{ReLU}\left(W X + b \mathbf{1}^\top\right)"
               r" \right\rVert_F^{2}")
    parse_latex(formula, SHAPES)  # build the parser once
    n = 200
    start = time.perf_counter()
    for _ in range(n):
        parse_latex(formula, SHAPES)
    per_parse = (time.perf_counter() - start) / n
    print(f"\nparse_latex: {per_parse * 1e6:.0f} µs per parse "
          f"of a {len(formula)}-character formula")
    assert per_parse < 0.05


def test_long_input_does_not_recurse():
    source = " + ".join(["W X"] * 3000)
    assert parse_latex(source, SHAPES).shape == (W @ X).shape
    nested = r"\left(" * 300 + "W" + r"\right)" * 300
    assert parse_latex(nested, SHAPES) is W


# --- random junk ---------------------------------------------------------------------------------

_TOKENS = [
    "W", "X", "Z", "x", "b", "A", "AX", "I", "e", "n", "m", "W_1", "_1", "_{F}", "^\\top", "^{-1}",
    "^2", "^{\\circ 2}", "^{", "}", "{", "'", "\\alpha", "\\sigma", "\\mathbf{1}", "\\mathbb{1}",
    "\\mathbf{0}", "\\mathbf{x}", "\\mathbf", "\\operatorname{tr}", "\\operatorname{softmax}",
    "\\mathrm", "\\operatorname", "\\log", "\\det", "\\exp", "\\sqrt", "\\frac", "\\partial",
    "\\max", "\\left(", "\\right)", "\\left[", "\\right]", "\\left|", "\\right|", "\\|",
    "\\lVert", "\\rVert", "|", "(", ")", "[", "]", "+", "-", "*", "/", "\\cdot", "\\odot",
    "\\otimes", ",", ">", "<", "0", "1", "2", "0.5", "\\,", "\\foo", "\\\\", "=", "&", "$", "~",
    "\\left", "\\right", "\\bigl(", "\\bigr)", "\\{", "\\}", "\\top", "\\_", "\\", "^", "_",
    "e^{x}", "I_{n}", "\\mathbf{1}_{m \\times k}", "\\text{tr}", "\\frac{\\partial L}{\\partial Y}",
    "\\circ", "\\times", "10^{-3}",
]


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.sampled_from(_TOKENS), min_size=1, max_size=12),
       st.sampled_from(["", " ", "\n"]))
def test_token_soup_raises_only_matcalc_errors(tokens, joiner):
    try:
        parse_latex(joiner.join(tokens), SHAPES)
    except MatcalcError:
        pass


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40))
def test_arbitrary_text_raises_only_matcalc_errors(text):
    try:
        parse_latex(text, SHAPES)
    except MatcalcError:
        pass


def test_concurrent_parses_do_not_mix_state():
    import threading

    errors = []

    def work(source, shapes, expected_shape):
        try:
            for _ in range(50):
                assert parse_latex(source, shapes).shape == expected_shape
        except Exception as exc:  # noqa: BLE001 - a thread's failure, re-raised below
            errors.append(exc)

    t1 = threading.Thread(target=work, args=(r"W X", SHAPES, (W @ X).shape))
    t2 = threading.Thread(target=work, args=(r"\mathbf{1}^\top P", {"P": (2, 3)},
                                             ops.sum(ops.Matrix("P", 2, 3), 0).shape))
    t1.start(), t2.start()
    t1.join(), t2.join()
    assert not errors
