"""LaTeX export: golden strings for every op and every closed form, styles, equations, and
rendering in KaTeX (and only commands MathJax 3 also knows)."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ops_util import builtin_ops

import matcalc as mc
from matcalc.ops import commutation, cotangent, kron_contract_left, kron_contract_right, size, unvec

W = mc.Matrix("W", "m", "n")
X = mc.Matrix("X", "n", "B")
Z = mc.Matrix("Z", "m", "B")
A = mc.Matrix("A", "n", "n")
B_ = mc.Matrix("B", "n", "n")
S = mc.Matrix("S", "n", "n")
x = mc.Vector("x", "n")
y = mc.Vector("y", "m")
a = mc.Vector("a", "n")
b = mc.Vector("b", "n")
G = mc.Matrix("G", "m", "B")
alpha = mc.Scalar("alpha")

# One golden string per registered op (a test fails when an op has no row).
GOLDEN_OPS = {
    "symbol": (W, "W"),
    "const": (mc.const(2) * W, "2 W"),
    "eye": (mc.eye("n") - A, r"I_{n} - A"),
    "ones": (mc.ones("m", 1), r"\mathbf{1}_{m}"),
    "zeros": (mc.zeros("m", "n"), r"\mathbf{0}_{m \times n}"),
    "size": (Z / size("B"), r"\frac{Z}{B}"),
    "named": (mc.sum(mc.relu(mc.named("Y", W @ X))), r"\mathbf{1}^\top \operatorname{ReLU}\left(Y\right) \mathbf{1}"),
    "add": (W @ X + y, "W X + y"),
    "sub": (A - (A - B_), r"A - \left(A - B\right)"),
    "mul": (G * (W @ X), r"G \odot \left(W X\right)"),
    "div": ((A + B_) / 2, r"\frac{A + B}{2}"),
    "pow": (mc.norm(x) ** 2, r"\left\lVert x \right\rVert^{2}"),
    "neg": (-(A @ B_), "-A B"),
    "matmul": (x.T @ A @ x, r"x^\top A x"),
    "transpose": ((W @ X).T, r"\left(W X\right)^\top"),
    "relu": (mc.relu(Z), r"\operatorname{ReLU}\left(Z\right)"),
    "sigmoid": (mc.sigmoid(W @ x), r"\sigma\left(W x\right)"),
    "tanh": (mc.tanh(Z), r"\tanh\left(Z\right)"),
    "exp": (mc.exp(x), r"\exp\left(x\right)"),
    "log": (mc.log(x), r"\log\left(x\right)"),
    "sqrt": (mc.sqrt(x), r"\sqrt{x}"),
    "abs": (mc.abs(x), r"\left|x\right|"),
    "softplus": (mc.softplus(x), r"\operatorname{softplus}\left(x\right)"),
    "step": (mc.step(W @ X), r"\mathbb{I}[W X > 0]"),
    "sign": (mc.sign(x), r"\operatorname{sign}\left(x\right)"),
    "sum": (mc.sum(Z, axis=1), r"Z \mathbf{1}"),
    "mean": (mc.mean(Z, axis=0), r"\frac{1}{m} \mathbf{1}^\top Z"),
    "logsumexp": (mc.logsumexp(x), r"\operatorname{logsumexp}\left(x\right)"),
    "softmax": (mc.softmax(Z, axis=0), r"\operatorname{softmax}\left(Z\right)"),
    "log_softmax": (mc.log_softmax(Z, axis=1), r"\log\operatorname{softmax}\left(Z^\top\right)^\top"),
    "trace": (mc.trace(A @ S @ B_), r"\operatorname{tr}\left(A S B\right)"),
    "det": (mc.det(S), r"\det\left(S\right)"),
    "logdet": (mc.logdet(S), r"\log\det\left(S\right)"),
    "inv": (mc.inv(S) @ b, r"S^{-1} b"),
    "restrict": (mc.restrict(mc.inv(S).T, mc.logdet(S)) @ b, r"S^{-\top} b"),
    "adj": (mc.adj(S).T, r"\operatorname{adj}\left(S\right)^\top"),
    "norm": (mc.norm(W), r"\left\lVert W \right\rVert_F"),
    "diag": (mc.diag(x), r"\operatorname{diag}\left(x\right)"),
    "kron": (mc.kron(X.T, mc.eye("m")), r"X^\top \otimes I_{m}"),
    "vec": (mc.vec(W), r"\operatorname{vec}\left(W\right)"),
    "unvec": (unvec(mc.vec(W), "m", "n"), r"\operatorname{vec}^{-1}\left(\operatorname{vec}\left(W\right)\right)"),
    "kron_contract_left": (kron_contract_left(mc.kron(A, W), W, ("n", "n")),
                           r"\operatorname{unkron}_{1}\left(A \otimes W, W\right)"),
    "kron_contract_right": (kron_contract_right(mc.kron(A, W), A, ("m", "n")),
                            r"\operatorname{unkron}_{2}\left(A \otimes W, A\right)"),
    "commutation": (commutation("m", "n") @ mc.vec(W), r"K_{m,n} \operatorname{vec}\left(W\right)"),
    "slice": (W[1:, 0:2], r"W_{2:m, 1:2}"),
    "embed": (mc.embed(W, "m + 1", "n", 1, 0), r"\begin{bmatrix} \mathbf{0}_{1 \times n} \\ W \end{bmatrix}"),
    "concat": (mc.hstack(W, y), r"\begin{bmatrix} W & y \end{bmatrix}"),
    "triu": (mc.triu(A, k=1), r"\operatorname{triu}_{1}\left(A\right)"),
    "tril": (mc.tril(A), r"\operatorname{tril}\left(A\right)"),
    "flip": (mc.flip(W, axis=0), r"\operatorname{flipud}\left(W\right)"),
    "sin": (mc.sin(x), r"\sin\left(x\right)"),
    "cos": (mc.cos(x), r"\cos\left(x\right)"),
    "tan": (mc.tan(x), r"\tan\left(x\right)"),
    "arcsin": (mc.arcsin(x), r"\arcsin\left(x\right)"),
    "arccos": (mc.arccos(x), r"\arccos\left(x\right)"),
    "arctan": (mc.arctan(x), r"\arctan\left(x\right)"),
    "sinh": (mc.sinh(x), r"\sinh\left(x\right)"),
    "cosh": (mc.cosh(x), r"\cosh\left(x\right)"),
    "arcsinh": (mc.arcsinh(x), r"\operatorname{arsinh}\left(x\right)"),
    "arctanh": (mc.arctanh(x), r"\operatorname{artanh}\left(x\right)"),
    "erf": (mc.erf(x), r"\operatorname{erf}\left(x\right)"),
    "gelu": (mc.gelu(Z), r"\operatorname{GELU}\left(Z\right)"),
    "silu": (mc.silu(Z), r"\operatorname{SiLU}\left(Z\right)"),
    "log1p": (mc.log1p(x), r"\operatorname{log1p}\left(x\right)"),
    "expm1": (mc.expm1(x), r"\operatorname{expm1}\left(x\right)"),
    "leaky_relu": (mc.leaky_relu(Z, 0.2), r"\operatorname{LeakyReLU}\left(Z, 0.2\right)"),
    "elu": (mc.elu(Z), r"\operatorname{ELU}\left(Z\right)"),
    "pow_var": (x ** a, r"x^{\circ a}"),
    "greater": (W > 0.5, r"\mathbb{I}[W > 0.5]"),
    "greater_equal": (W >= 0.5, r"\mathbb{I}[W \geq 0.5]"),
    "less": (W < 0.5, r"\mathbb{I}[W < 0.5]"),
    "less_equal": (W <= 0.5, r"\mathbb{I}[W \leq 0.5]"),
    "equal": (mc.equal(x, a), r"\mathbb{I}[x = a]"),
    "not_equal": (mc.not_equal(x, a), r"\mathbb{I}[x \neq a]"),
    "where": (mc.where(x > a, x, a), r"\operatorname{where}\left(\mathbb{I}[x > a], x, a\right)"),
    "maximum": (mc.maximum(x, a), r"\max\left(x, a\right)"),
    "minimum": (mc.minimum(x, a), r"\min\left(x, a\right)"),
    "clip": (mc.clip(x, -1, 1), r"\operatorname{clip}\left(x, -1, 1\right)"),
    "max": (mc.max(Z, axis=0), r"\max_{\text{col}}\left(Z\right)"),
    "min": (mc.min(Z), r"\min\left(Z\right)"),
    "prod": (mc.prod(Z, axis=1), r"\prod_{\text{row}}\left(Z\right)"),
    "var": (mc.var(Z, axis=0, ddof=1), r"\operatorname{var}_{\text{col}}\left(Z, 1\right)"),
    "std": (mc.std(x), r"\operatorname{std}\left(x\right)"),
    "cumsum": (mc.cumsum(Z), r"\operatorname{cumsum}_{\text{col}}\left(Z\right)"),
    "solve": (mc.solve(A, b), r"A^{-1} b"),
    "solve_triangular": (mc.solve_triangular(A, b), r"\operatorname{tril}\left(A\right)^{-1} b"),
    "cholesky": (mc.cholesky(S), r"\operatorname{chol}\left(S\right)"),
    "eigvalsh": (mc.eigvalsh(S), r"\lambda\left(S\right)"),
    "eigvecsh": (mc.eigvecsh(S), r"\operatorname{eigvecsh}\left(S\right)"),
    "svdvals": (mc.svdvals(A), r"\operatorname{svdvals}\left(A\right)"),
    "pinv": (mc.pinv(W), r"W^{+}"),
    "expm": (mc.expm(A), r"\operatorname{expm}\left(A\right)"),
    "matrix_power": (mc.matrix_power(A, 3), r"A^{3}"),
    "logabsdet": (mc.logabsdet(A), r"\log\left|\det\left(A\right)\right|"),
    "vector_norm": (mc.norm(x, ord=1), r"\left\lVert x \right\rVert_{1}"),
    "matrix_norm": (mc.norm(A, ord="nuc"), r"\left\lVert A \right\rVert_{*}"),
}

# The closed forms of the derivation spec, as LaTeX.
CLOSED_FORMS = [
    (mc.trace(A @ S @ B_), S, r"A^\top B^\top"),
    (a.T @ S @ b, S, r"a b^\top"),
    (mc.norm(S) ** 2, S, "2 S"),
    (mc.logdet(S), S, r"S^{-\top}"),
    (mc.det(S), S, r"\det\left(S\right) S^{-\top}"),
    (a.T @ mc.inv(S) @ b, S, r"-S^{-\top} a b^\top S^{-\top}"),
    (mc.sum(G * (W @ X)), W, r"G X^\top"),
    (mc.sum(mc.relu(W @ X)), W, r"\mathbb{I}[W X > 0] X^\top"),
    (mc.norm(W @ x - y) ** 2, W, r"2 \left(W x - y\right) x^\top"),
]


def test_every_op_has_a_golden_row():
    missing = sorted(builtin_ops() - set(GOLDEN_OPS))
    assert not missing, f"ops without a golden LaTeX row: {missing}"


@pytest.mark.parametrize("name", sorted(GOLDEN_OPS))
def test_golden_op(name):
    expr, expected = GOLDEN_OPS[name]
    assert mc.latex(expr) == expected


@pytest.mark.parametrize("loss,var,expected", CLOSED_FORMS, ids=[c[2] for c in CLOSED_FORMS])
def test_golden_closed_form(loss, var, expected):
    assert mc.latex(mc.grad(loss, var)) == expected


def test_quadratic_form_either_order():
    assert mc.latex(mc.grad(x.T @ A @ x, x)) in (r"\left(A + A^\top\right) x",
                                                 r"\left(A^\top + A\right) x")


def test_vjp_reads_as_upstream_times_local():
    assert mc.latex(mc.vjp(W @ X, "W")) == r"\frac{\partial L}{\partial Y} X^\top"
    assert mc.latex(mc.vjp(W @ X, "X")) == r"W^\top \frac{\partial L}{\partial Y}"
    assert mc.latex(mc.vjp(mc.relu(Z), "Z")) == r"\frac{\partial L}{\partial Y} \odot \mathbb{I}[Z > 0]"
    assert mc.latex(cotangent("Y", "m", "B").T) == r"\left(\frac{\partial L}{\partial Y}\right)^\top"


def test_names():
    # an underscore makes a subscript; digits without one stay on the line (W1 is not W_1)
    assert mc.latex(mc.Matrix("W1", "m", "n")) == "W1"
    assert mc.latex(mc.Matrix("W_1", "m", "n")) == "W_1"
    assert mc.latex(mc.Matrix("W12", "m", "n")) == "W12"
    assert mc.latex(mc.Matrix("W_hh", "m", "n")) == "W_{hh}"
    assert mc.latex(mc.Scalar("alpha") * W) == r"\alpha W"
    assert mc.latex(mc.Scalar("lambda_1")) == r"\lambda_1"
    assert mc.latex(mc.Matrix("Wout", "m", "n")) == r"\mathrm{Wout}"


def test_styles():
    e = x.T @ A @ x
    assert mc.latex(e, transpose="T") == "x^T A x"
    assert mc.latex(e, transpose="mathsf") == r"x^\mathsf{T} A x"
    assert mc.latex(e, bold_vectors=True) == r"\mathbf{x}^\top A \mathbf{x}"
    assert mc.latex(mc.inv(S).T, transpose="T") == "S^{-T}"
    assert mc.latex(mc.inv(S).T, inverse_transpose=False) == r"\left(S^{-1}\right)^\top"
    assert mc.latex(G * Z, hadamard=r"\circ") == r"G \circ Z"
    with pytest.raises(mc.MatcalcError, match="unknown style option"):
        mc.latex(e, colour="red")
    with pytest.raises(mc.MatcalcError, match="transpose"):
        mc.latex(e, transpose="t")


def test_parentheses_only_where_needed():
    assert mc.latex(A @ (B_ @ S)) == "A B S"  # associative: no parentheses needed
    assert mc.latex((A + B_) @ S) == r"\left(A + B\right) S"
    assert mc.latex(A - (B_ + S)) == r"A - \left(B + S\right)"
    assert mc.latex((A - B_) + S) == "A - B + S"
    assert mc.latex(A @ (B_ * S)) == r"A \left(B \odot S\right)"
    assert mc.latex((A * B_) * S) == r"A \odot B \odot S"
    assert mc.latex(A * (B_ * S)) == r"A \odot \left(B \odot S\right)"
    assert mc.latex((A @ B_).T) == r"\left(A B\right)^\top"
    assert mc.latex(mc.inv(A.T)) == r"\left(A^\top\right)^{-1}"
    assert mc.latex((-A) @ B_) == r"\left(-A\right) B"
    assert mc.latex(A + (-B_)) == r"A + \left(-B\right)"
    assert mc.latex((x ** 2).T) == r"\left(x^{\circ 2}\right)^\top"
    assert mc.latex(mc.norm(x) ** 2) == r"\left\lVert x \right\rVert^{2}"  # 1×1: a plain power
    assert mc.latex(mc.const(-2) * A) == r"\left(-2\right) A"
    assert mc.latex(mc.const(2) * mc.const(3)) == r"2 \cdot 3"
    assert mc.latex(A * 3) == "3 A"
    assert mc.latex(mc.const(1e-8) * A) == r"10^{-8} A"
    assert mc.latex(mc.const(2.5e-8) * A) == r"2.5 \times 10^{-8} A"
    assert mc.latex(((A + B_) / 2).T) == r"\left(\frac{A + B}{2}\right)^\top"


def test_equations():
    gW, gb = mc.grad(mc.sum(mc.relu(W @ X + y)), ["W", "y"])
    assert mc.latex(gW, wrt="W") == (r"\frac{\partial L}{\partial W} = \mathbb{I}[W X + y > 0] "
                                     r"X^\top \in \mathbb{R}^{m \times n}")
    assert mc.latex(gb, wrt="y", loss="J").startswith(r"\frac{\partial J}{\partial y} = ")
    assert mc.latex(gb, wrt="y").endswith(r"\in \mathbb{R}^{m}")
    block = mc.latex_gradients({"W": gW, "y": gb})
    assert block.startswith("\\begin{aligned}\n") and block.endswith("\n\\end{aligned}")
    assert block.count("&=") == 2
    assert mc.latex(mc.grad(alpha * mc.sum(W), alpha), wrt="alpha").endswith(r"\in \mathbb{R}")


def test_repr_latex_for_jupyter():
    assert (W @ X)._repr_latex_() == "$W X$"


def test_latex_rejects_non_expressions():
    with pytest.raises(mc.MatcalcError):
        mc.latex("W @ X")


def test_deep_expression_prints():
    e = x
    for _ in range(10_000):
        e = mc.tanh(e)
    out = mc.latex(e)
    assert out.count(r"\tanh") == 10_000


# --- rendering ------------------------------------------------------------------------------------

# Commands that both KaTeX and MathJax 3 (its default TeX packages: base, ams, ...) define.
MATHJAX3_COMMANDS = {
    "alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta", "vartheta",
    "iota", "kappa", "lambda", "mu", "nu", "xi", "pi", "rho", "sigma", "tau", "upsilon", "phi",
    "varphi", "chi", "psi", "omega", "Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma",
    "Upsilon", "Phi", "Psi", "Omega", "top", "mathsf", "odot", "circ", "otimes", "operatorname",
    "det", "log", "exp", "tanh", "sqrt", "left", "right", "sin", "cos", "tan", "arcsin", "arccos",
    "arctan", "sinh", "cosh", "max", "min", "prod", "geq", "leq", "neq", "lVert", "rVert", "mathbb", "mathbf",
    "mathrm", "frac", "partial", "cdot", "times", "in", "begin", "end", "sum", "quad", "text",
}


def _commands(source: str) -> set[str]:
    return set(re.findall(r"\\([A-Za-z]+)", source))


def _all_golden() -> list[str]:
    out = [expected for _, expected in GOLDEN_OPS.values()]
    out += [expected for *_, expected in CLOSED_FORMS]
    gW, gb = mc.grad(mc.sum(mc.relu(W @ X + y)), ["W", "y"])
    out += [mc.latex(gW, wrt="W"), mc.latex_gradients({"W": gW, "y": gb}),
            mc.latex(x.T @ A @ x, transpose="mathsf", bold_vectors=True),
            mc.latex(mc.inv(S).T, transpose="T")]
    return out


def test_golden_strings_use_only_mathjax3_commands():
    unknown = set()
    for source in _all_golden():
        unknown |= _commands(source) - MATHJAX3_COMMANDS
    assert not unknown, f"commands MathJax 3 may not know: {sorted(unknown)}"


def test_golden_strings_render_in_katex(katex):
    for source in _all_golden():
        assert katex.render(source) is None, (source, katex.render(source))


def test_katex_rejects_bad_latex(katex):
    assert katex.render(r"\frac{1}{") is not None  # the harness really reports errors
    assert katex.render(r"\nosuchcommand x") is not None


# Random well-shaped expressions: every printed string renders and uses known commands.
_SQUARE = [A, B_, S]
_UNARY = [mc.relu, mc.sigmoid, mc.tanh, mc.exp, mc.log, mc.sqrt, mc.abs, mc.softplus, mc.step,
          mc.sign, lambda e: -e, lambda e: e.T, lambda e: e ** 2, lambda e: e ** 0.5,
          lambda e: mc.sum(e), lambda e: mc.sum(e, axis=0), lambda e: mc.sum(e, axis=1),
          lambda e: mc.mean(e), lambda e: mc.mean(e, axis=1), lambda e: mc.logsumexp(e),
          lambda e: mc.logsumexp(e, axis=0), lambda e: mc.softmax(e, axis=0),
          lambda e: mc.softmax(e, axis=1), lambda e: mc.log_softmax(e, axis=1), mc.norm, mc.vec,
          lambda e: 2 * e, lambda e: e / 3, lambda e: mc.Scalar("alpha") * e,
          mc.sin, mc.erf, mc.gelu, mc.cumsum, mc.flipud, lambda e: mc.max(e, axis=0),
          lambda e: mc.maximum(e, 0.5), lambda e: mc.clip(e, -1, 1), lambda e: e > 0.5,
          lambda e: mc.where(e > 0, e, 0), lambda e: e[1:, :], lambda e: mc.hstack(e, e),
          lambda e: mc.norm(e, ord="nuc"), lambda e: mc.var(e, axis=1, ddof=1),
          lambda e: mc.leaky_relu(e, 0.2), lambda e: e ** (1 / 3)]
_SQUARE_ONLY = [mc.trace, mc.det, mc.logdet, mc.inv, mc.diag, mc.triu, mc.expm, mc.cholesky,
                mc.pinv, mc.eigvalsh, mc.eigvecsh, lambda e: mc.matrix_power(e, 2),
                lambda e: mc.solve(e, e), mc.logabsdet]


@st.composite
def square_exprs(draw, depth=0):
    """Random n×n expressions (square keeps every op applicable)."""
    if depth >= 4 or draw(st.booleans()):
        return draw(st.sampled_from(_SQUARE))
    kind = draw(st.integers(0, 5))
    left = draw(square_exprs(depth + 1))
    if kind == 0:
        right = draw(square_exprs(depth + 1))
        return draw(st.sampled_from([
            lambda p, q: p @ q, lambda p, q: p * q, lambda p, q: p + q, lambda p, q: p - q,
            lambda p, q: p / (mc.sum(q) + 2)]))(left, right)
    if kind == 5:  # a Kronecker product of n×n matrices, folded back to n×n by a trace
        return mc.trace(mc.kron(left, draw(st.sampled_from(_SQUARE)))) * left
    if kind == 1:
        e = draw(st.sampled_from(_SQUARE_ONLY))(left)
        return e if e.shape == left.shape else e * mc.eye("n") if e.is_scalar else mc.diag(e)
    f = draw(st.sampled_from(_UNARY))
    out = f(left)
    if out.shape != left.shape:  # bring it back to n×n so that nesting continues
        if out.is_scalar:
            out = out * left
        elif out.cols.is_one and out.rows == left.rows:
            out = mc.diag(out)
        elif out.rows.is_one and out.cols == left.cols:
            out = mc.diag(out.T)
        else:
            out = left
    return out


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(square_exprs(), st.sampled_from(["top", "T", "mathsf"]), st.booleans())
def test_random_expressions_render(katex, e, transpose, bold):
    source = mc.latex(e, transpose=transpose, bold_vectors=bold)
    assert _commands(source) <= MATHJAX3_COMMANDS | {"unkron"}, source
    error = katex.render(source)
    assert error is None, (str(e), source, error)


def test_cli_grad_latex_and_latex_input(capsys):
    from matcalc.cli import main

    argv = ["grad", "--latex-input", r"\frac{1}{2}\|W X - Y\|_F^2", "--shape", "W=m,n",
            "--shape", "X=n,B", "--shape", "Y=m,B", "--wrt", "W"]
    assert main(argv) == 0
    assert "dL/dW = (W @ X - Y) @ X.T    (m×n)" in capsys.readouterr().out
    assert main(argv + ["--latex"]) == 0
    assert capsys.readouterr().out.strip() == (
        r"\frac{\partial L}{\partial W} = \left(W X - Y\right) X^\top \in \mathbb{R}^{m \times n}")
    assert main(["grad", "--latex-input", r"\foo{W}", "--shape", "W=m,n"]) == 2
    assert "unknown command \\foo" in capsys.readouterr().err
    assert main(["grad", "L = sum(W)", "--latex-input", "W", "--shape", "W=m,n"]) == 2
    assert main(["grad", "--shape", "W=m,n"]) == 2


# Every op's golden LaTeX reads back (parse_latex) as the same value, but for the printed forms
# that cannot: unvec and the Kronecker contractions print without their target shape, the
# commutation matrix as K, and a named intermediate by its name.
NOT_READ_BACK = {"unvec", "kron_contract_left", "kron_contract_right", "commutation", "named"}


@pytest.mark.parametrize("name", sorted(set(GOLDEN_OPS) - NOT_READ_BACK))
def test_golden_latex_reads_back(name):
    import numpy as np

    from matcalc.parsing.latex import parse_latex

    expr, source = GOLDEN_OPS[name]
    symbols = {n.name: n for n in mc.toposort([expr]) if n.op.name == "symbol"}
    shapes = {k: (str(v.rows), str(v.cols)) for k, v in symbols.items()}
    shapes["_sizes"] = ("m", "n")  # every dimension is declared, whichever symbols appear
    dims = {"m": 3, "n": 4, "B": 5}
    rng = np.random.default_rng(0)
    values = {}
    for k, v in symbols.items():
        r, c = (d.value(dims) for d in v.shape)
        values[k] = rng.uniform(0.2, 0.9, (r, c))
        if r == c and r > 1:  # well conditioned and positive definite
            values[k] = values[k] @ values[k].T + r * np.eye(r)
    parsed = parse_latex(source, shapes)
    np.testing.assert_allclose(mc.evaluate(parsed, values, dims), mc.evaluate(expr, values, dims),
                               rtol=1e-10, err_msg=f"{source} read as {parsed}")
