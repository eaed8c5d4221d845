"""Derivation documents: the reference post's cases with their (corrected) shapes, Korean and
English Markdown for each publisher, LaTeX output, worked numbers, figures, exercises, and KaTeX
rendering of every block. (Rendering through kramdown and MathJax in a browser: test_publish.py.)"""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET

import numpy as np
import pytest
import yaml

import matcalc as mc
from matcalc.cli import main
from matcalc.dims import dim
from matcalc.explain import Figure, derive, explain, render
from matcalc.figure import FigureError, draw, graph_dot, min_text_px
from matcalc.figure import render as draw_dot

SHAPES = {"W": ("m", "n"), "X": ("n", "B"), "x": ("n", 1), "w": ("n", 1), "Z": ("m", "B")}
MLP = "Y = W @ X + b; H = relu(Y); L = sum(H) / size(B)"
MLP_SHAPES = {**SHAPES, "b": ("m", 1)}
CS231N = "q = x + y; f = q * z"
SCALARS = {k: (1, 1) for k in "xyz"}


def _shape(e):
    return tuple(str(d) for d in e.shape)


def _local(d, input_name):
    for s in d.steps:
        for loc in s.locals:
            if loc.input.get("name") == input_name:
                return s, loc
    raise AssertionError(input_name)


def _display_math(text: str) -> list[str]:
    return re.findall(r"^\$\$\n(.*?)\n\$\$$", text, flags=re.DOTALL | re.MULTILINE)


def _inline_math(text: str, target: str = "jekyll") -> list[str]:
    body = re.sub(r"^\$\$\n.*?\n\$\$$", "", text, flags=re.DOTALL | re.MULTILINE)
    body = re.sub(r"```.*?```", "", body, flags=re.DOTALL)
    pattern = {"jekyll": r"\$\$(.+?)\$\$", "hugo": r"\\\((.+?)\\\)",
               "plain": r"(?<!\$)\$([^$\n]+)\$(?!\$)"}[target]
    return re.findall(pattern, body)


# --- the facts ---------------------------------------------------------------------------------------

def test_scalar_to_scalar():
    d = derive(mc.parse("y = w * x", {"w": (1, 1), "x": (1, 1)}), node=True)
    _, lw = _local(d, "w")
    assert lw.kind == "scalar" and str(lw.jacobian) == "x" and str(lw.downstream) == "dL_dy * x"
    _, lx = _local(d, "x")
    assert str(lx.downstream) == "dL_dy * w"


def test_vector_to_scalar():
    d = derive(mc.parse("y = w.T @ x", SHAPES), node=True)
    _, lx = _local(d, "x")
    assert lx.kind == "row" and str(lx.jacobian) == "w.T" and _shape(lx.jacobian) == ("1", "n")
    assert str(lx.downstream) == "dL_dy * w" and _shape(lx.downstream) == ("n", "1")


def test_vector_to_vector():
    d = derive(mc.parse("y = W @ x", SHAPES), node=True)
    _, lx = _local(d, "x")
    assert lx.kind == "jacobian" and lx.jacobian is mc.Matrix("W", "m", "n")
    assert str(lx.downstream) == "W.T @ dL_dy" and _shape(lx.downstream) == ("n", "1")
    _, lW = _local(d, "W")
    assert lW.kind == "kron" and str(lW.jacobian) == "kron(x.T, eye(m))"
    assert str(lW.downstream) == "dL_dy @ x.T" and _shape(lW.downstream) == ("m", "n")


def test_batched_matrices_have_the_corrected_shapes():
    # The reference post calls W a 4-D tensor and gives ∂L/∂X ∈ ℝⁿ, ∂L/∂Y ∈ ℝᵐ. In truth:
    d = derive(mc.parse("Y = W @ X", SHAPES), node=True)
    (step,) = d.steps
    assert _shape(step.node) == ("m", "B")  # Y, and so ∂L/∂Y, is m×B
    _, lW = _local(d, "W")
    assert _shape(lW.input) == ("m", "n")  # W is an m×n matrix, not a 4-D tensor
    assert _shape(lW.downstream) == ("m", "n") and str(lW.downstream) == "dL_dY @ X.T"
    assert lW.jacobian.shape == (dim("m*B"), dim("m*n"))  # ∂Y/∂W: (m·B)×(m·n) in vec form
    assert str(lW.jacobian) == "kron(X.T, eye(m))"  # Xᵀ ⊗ I_m
    _, lX = _local(d, "X")
    assert _shape(lX.downstream) == ("n", "B") and str(lX.downstream) == "W.T @ dL_dY"
    text = render(d)
    assert r"\frac{\partial L}{\partial Y} \in \mathbb{R}^{m \times B}" in text
    assert (r"\frac{\partial L}{\partial W} = \frac{\partial L}{\partial Y} X^\top \in "
            r"\mathbb{R}^{m \times n}") in text
    assert (r"\frac{\partial L}{\partial X} = W^\top \frac{\partial L}{\partial Y} \in "
            r"\mathbb{R}^{n \times B}") in text
    assert r"X^\top \otimes I_{m} \in \mathbb{R}^{m B \times m n}" in text
    assert r"\mathbb{R}^{m \times B \times m \times n}" in text  # the 4-D local gradient


def test_relu_of_a_matrix_is_elementwise_with_a_diagonal_jacobian():
    d = derive(mc.parse("Y = relu(Z)", SHAPES), node=True)
    _, lZ = _local(d, "Z")
    assert lZ.kind == "elementwise" and str(lZ.entrywise) == "step(Z)"
    assert str(lZ.jacobian) == "diag(vec(step(Z)))"
    assert str(lZ.downstream) == "dL_dY * step(Z)" and _shape(lZ.downstream) == ("m", "B")
    text = render(d)
    assert "every entry of" not in text  # the old sentence contradicted the diagonal Jacobian
    assert "elementwise" in text and "diagonal matrix" in text
    assert r"\frac{\partial Y_{ij}}{\partial Z_{ij}} = \left(\mathbb{I}[Z > 0]\right)_{ij}" in text
    assert r"\frac{\partial L}{\partial Y} \odot \mathbb{I}[Z > 0]" in text
    assert "entrywise product (⊙)" in text


def test_relu_of_a_vector_has_a_diagonal_jacobian():
    d = derive(mc.parse("y = relu(x)", SHAPES), node=True)
    _, lx = _local(d, "x")
    assert lx.kind == "diagonal" and str(lx.jacobian) == "diag(step(x))"
    text = render(d)
    assert r"\frac{\partial y_{i}}{\partial x_{i}} = \left(\mathbb{I}[x > 0]\right)_{i}" in text


def test_a_scalar_of_a_matrix_has_its_local_gradient_arranged_like_the_matrix():
    d = derive(mc.parse("Y = W @ X; H = relu(Y); L = sum(H)", SHAPES))
    _, lH = _local(d, "H")
    assert lH.kind == "gradient" and _shape(lH.jacobian) == ("m", "B")
    text = render(d)
    # the sentence says "arranged like H" and the formula is indeed m×B (not 𝟏ᵀ ∈ ℝ^{1×mB})
    assert "arranged like $$H$$, in $$\\mathbb{R}^{m \\times B}$$" in text
    assert r"\frac{\partial L}{\partial H} = \mathbf{1}_{m \times B} \in \mathbb{R}^{m \times B}" in text
    assert r"\mathbf{1}_{m B}^\top" not in text


def test_chain_of_named_steps_and_final_gradients():
    d = derive(mc.parse("Y = W @ X; H = relu(Y); L = sum(H)", SHAPES))
    assert [s.name for s in d.steps] == ["Y", "H", "L"]
    ups = {s.name: s.upstream for s in d.steps}
    assert ups["L"] is None and str(ups["H"]) == "ones(m, B)" and str(ups["Y"]) == "step(Y)"
    gW, gX = d.gradients
    assert str(gW) == "step(Y) @ X.T" and str(gX) == "W.T @ step(Y)"


def test_shapes_are_spoken_of_one_way():
    for program, shapes in [("y = w * x", {"w": (1, 1), "x": (1, 1)}), (CS231N, SCALARS),
                            (MLP, MLP_SHAPES)]:
        for lang in ("en", "ko"):
            text = explain(program, shapes=shapes, lang=lang, node=program == "y = w * x")
            assert "1 \\times 1" not in text and "1×1" not in text and "1\\times 1" not in text
    text = explain("y = w * x", shapes={"w": (1, 1), "x": (1, 1)}, node=True)
    assert "It lies in $$\\mathbb{R}$$, like $$w$$" in text


def test_the_indicator_is_not_the_ones_vector():
    text = explain(MLP, shapes=MLP_SHAPES)
    assert r"\mathbb{I}[Y > 0]" in text and r"\mathbb{1}" not in text


def test_cs231n_worked_numbers():
    values = {"x": -2, "y": 5, "z": -4}
    d = derive(mc.parse(CS231N, SCALARS), values=values)
    fv = {s.name: float(d.forward_values[s.node][0, 0]) for s in d.steps}
    assert fv == {"q": 3.0, "f": -12.0}
    gv = {n.get("name"): float(v[0, 0]) for n, v in d.gradient_values.items()}
    assert gv == {"q": -4.0, "x": -4.0, "y": -4.0, "z": 3.0}
    text = render(d)
    assert "<details>" in text and "-12" in text and r"\frac{\partial f}{\partial x} &= -4" in text


def test_worked_matrices_are_display_math_with_row_breaks_and_never_inline():
    values = {"W": [[1, -2], [3, 4]], "x": [[1], [2]]}
    for target in ("jekyll", "hugo", "plain"):
        text = explain("Y = W @ x; L = sum(relu(Y))", shapes={"W": (2, 2), "x": (2, 1)},
                       values=values, target=target)
        blocks = _display_math(text)
        assert any(r"W &= \begin{bmatrix}1 & -2 \\ 3 & 4\end{bmatrix}" in b for b in blocks)
        assert any(r"x &= \begin{bmatrix}1 \\ 2\end{bmatrix}" in b for b in blocks)
        inline = _inline_math(text, target)
        assert inline and not [m for m in inline if "\\\\" in m or "bmatrix" in m]


@pytest.mark.parametrize("target, left, right", [("jekyll", "$$", "$$"), ("hugo", r"\(", r"\)"),
                                                  ("plain", "$", "$")])
def test_targets_delimit_inline_math_their_way(target, left, right):
    text = explain("Y = W @ X", shapes=SHAPES, target=target)
    assert f"Inputs: {left}W \\in \\mathbb{{R}}^{{m \\times n}}" in text
    assert "\n$$\n\\begin{aligned}\n" in text  # display blocks are $$ … $$ everywhere
    if target == "plain":
        assert "$$W" not in text


def test_unknown_target_is_an_error():
    with pytest.raises(mc.MatcalcError, match="target must be one of jekyll, hugo, plain"):
        explain("Y = W @ X", shapes=SHAPES, target="wordpress")


def test_korean_uses_the_reference_vocabulary():
    text = explain("Y = W @ X", shapes=SHAPES, lang="ko")
    for word in ["순전파", "역전파", "연쇄 법칙", "Upstream Gradient", "Local Gradient",
                 "Downstream Gradient", "4차원 텐서"]:
        assert word in text
    assert "$$W$$가 변하면" in text and "$$Y$$의 모든 원소가" in text  # particles follow the sound
    relu = explain("Y = relu(Z)", shapes=SHAPES, lang="ko")
    assert "원소별(elementwise) 연산" in relu and "대각 행렬" in relu and "원소별 곱(⊙)" in relu


def test_korean_particles_follow_the_final_sound():
    text = explain("H = relu(Z); L = sum(H)", shapes=SHAPES, lang="ko")
    assert "$$L$$은 손실 함수 자체" in text  # 엘 ends in a consonant: 은, not 는


# --- front matter, titles, links ---------------------------------------------------------------------

def _front(text: str) -> dict:
    assert text.startswith("---\n")
    return yaml.safe_load(text[4:text.index("\n---\n", 4)])


def test_front_matter_is_yaml_with_categories_and_tags_and_no_repeated_title():
    title = 'Backprop: "quotes", colons: and # hashes'
    text = explain("Y = W @ X; L = sum(Y)", shapes=SHAPES,
                   front_matter={"title": title, "categories": ["ML", "Math"],
                                 "tags": ["a,b", "c"]})
    fm = _front(text)
    assert fm["title"] == title and fm["categories"] == ["ML", "Math"]
    assert fm["tags"] == ["a", "b", "c"] and fm["math"] is True
    body = text[text.index("\n---\n", 4) + 5:]
    assert title not in body and not re.search(r"^## ", body, flags=re.MULTILINE)  # the theme shows it


def test_default_title_is_plain_text():
    text = explain(MLP, shapes=MLP_SHAPES, front_matter=True)
    assert _front(text)["title"] == "Backpropagation through L = sum(H) / size(B)"
    text = explain(MLP, shapes=MLP_SHAPES)
    assert text.startswith("## Backpropagation through L = sum(H) / size(B)\n")


def test_hugo_front_matter_says_what_the_math_needs():
    text = explain("Y = W @ X", shapes=SHAPES, target="hugo", front_matter=True)
    assert "passthrough" in text.split("\n---\n")[0]
    assert _front(text)["math"] is True


def test_latex_format():
    tex = explain("Y = W @ X; L = sum(Y)", shapes=SHAPES, fmt="latex")
    assert r"\subsection*{Forward pass}" in tex and r"\[" in tex and "$$" not in tex


def test_bad_arguments():
    with pytest.raises(mc.MatcalcError, match="lang"):
        explain("Y = W @ X", shapes=SHAPES, lang="fr")
    with pytest.raises(mc.MatcalcError, match="format"):
        explain("Y = W @ X", shapes=SHAPES, fmt="html")
    with pytest.raises(mc.MatcalcError, match="name the program"):
        explain("W @ X", shapes=SHAPES)
    with pytest.raises(mc.MatcalcError):
        explain("Y = W @ W", shapes=SHAPES)


def test_exercise_leaves_a_gradient_to_the_reader():
    text = explain(MLP, shapes=MLP_SHAPES, exercise=["b"])
    result = text[text.index("### Result"):text.index("### Exercise")]
    assert r"\partial b}" not in result and r"\partial W}" in result
    exercise = text[text.index("### Exercise"):]
    assert "matcalc compare 'Y = W @ X + b; H = relu(Y); L = sum(H) / size(B)'" in exercise
    assert "--shape b=m,1" in exercise and "--wrt b" in exercise
    assert r"\frac{\partial L}{\partial b} = \frac{1}{B} \mathbb{I}[Y > 0] \mathbf{1}" in exercise
    assert "<details>" in exercise  # the answer is folded away
    ko = explain(MLP, shapes=MLP_SHAPES, exercise=["b"], lang="ko")
    assert "연습 문제" in ko and "정답 보기" in ko


def test_the_exercise_command_checks_the_answer(capsys):
    import shlex

    text = explain(MLP, shapes=MLP_SHAPES, exercise=["b"])
    cmd = re.search(r"```sh\n(matcalc compare .*)\n```", text).group(1)
    argv = shlex.split(cmd.replace("'YOUR ANSWER'", shlex.quote(r"\frac{1}{B}\mathbb{I}[Y>0]\mathbf{1}")))
    assert main(argv[1:]) == 0
    assert "equal" in capsys.readouterr().out


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_every_math_block_renders_in_katex(katex, lang):
    from matcalc.demo import CASES

    docs = [explain(mc.parse(p, s), lang=lang, node=True) for _, _, p, s in CASES]
    docs.append(explain(CS231N, shapes=SCALARS, lang=lang, values={"x": -2, "y": 5, "z": -4}))
    docs.append(explain(MLP, shapes=MLP_SHAPES, lang=lang, exercise=["b"]))
    docs.append(explain("Y = W @ x; L = sum(relu(Y))", shapes={"W": (2, 2), "x": (2, 1)},
                        values={"W": [[1, -2], [3, 4]], "x": [[1], [2]]}, lang=lang))
    blocks = [b for doc in docs for b in _display_math(doc) + _inline_math(doc)]
    assert len(blocks) > 50
    for b in blocks:
        assert katex.render(b) is None, (b, katex.render(b))


def test_explain_values_match_numpy():
    rng = np.random.default_rng(0)
    vals = {"W": rng.normal(size=(3, 4)), "X": rng.normal(size=(4, 5))}
    d = derive(mc.parse("Y = W @ X; L = sum(Y * Y)", SHAPES), values=vals)
    Y = vals["W"] @ vals["X"]
    gW = d.gradient_values[mc.Matrix("W", "m", "n")]
    assert np.allclose(gW, 2 * Y @ vals["X"].T)


# --- figures -----------------------------------------------------------------------------------------

def test_figure_dot_source_has_values_and_gradients():
    f = mc.parse(CS231N, SCALARS)
    src = graph_dot(f, {"x": -2, "y": 5, "z": -4})
    for text in ["x", "y", "z", "+", "×", "-12", "-4", "#1a7f37", "#cf222e"]:
        assert text in src


def test_figure_matrix_graph_shows_shapes_and_subscripts():
    src = graph_dot(mc.parse("Y = W_v @ X; L = sum(relu(Y))", {"W_v": ("m", "n"), "X": ("n", "B")}))
    assert "m×B" in src and "n×B" in src and "@" in src
    assert "W<SUB>" in src and "W_v" not in src  # the underscore is a subscript, not shown


def test_figure_caption_follows_what_the_figure_shows():
    with_values = explain(CS231N, shapes=SCALARS, values={"x": -2, "y": 5, "z": -4},
                          figure="g.svg")
    assert "green" in with_values
    for program, shapes in [(CS231N, SCALARS), ("Y = W @ X", SHAPES)]:
        text = explain(program, shapes=shapes, figure="g.svg")
        assert "green" not in text and "red" not in text and "](g.svg)" in text


def _drawers():
    """The ways a figure can be drawn here: the dot program and pygraphviz's bundled Graphviz."""
    out = []
    if shutil.which("dot"):
        out.append("dot")
    try:
        import pygraphviz  # noqa: F401

        out.append("pygraphviz")
    except ImportError:
        pass
    return out


@pytest.fixture(params=["dot", "pygraphviz"])
def drawer(request, monkeypatch):
    """Draw with the dot program, or with pygraphviz alone (as after a pip install)."""
    import os

    if request.param not in _drawers():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{request.param} is required in CI")
        pytest.skip(f"{request.param} is not installed")
    if request.param == "pygraphviz":
        real = shutil.which
        monkeypatch.setattr(shutil, "which", lambda name: None if name == "dot" else real(name))
    return request.param


def test_svg_and_png_figures(tmp_path, drawer):
    f = mc.parse(CS231N, SCALARS)
    svg = tmp_path / "g.svg"
    draw(f, svg, {"x": -2, "y": 5, "z": -4})
    root = ET.parse(svg).getroot()  # valid XML
    texts = {t.text for t in root.iter() if t.tag.endswith("text") and t.text}
    assert {"x", "y", "z", "+", "×", "q", "f", "3", "-12", "-4", "5", "-2"} <= texts
    png = tmp_path / "g.png"
    draw(f, png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(tmp_path.glob("*.dot"))  # no DOT source beside a drawn figure


ATTENTION = ("Q = W_q @ X; K = W_k @ X; V = W_v @ X; S = K.T @ Q / sqrt(size(d)); "
             "A = softmax(S, axis=0); O = V @ A; L = sum((O - T) ** 2)")
ATTENTION_SHAPES = {"X": ("e", "n"), "W_q": ("d", "e"), "W_k": ("d", "e"), "W_v": ("d", "e"),
                    "T": ("d", "n")}


@pytest.mark.parametrize("column", [700, 860])
def test_figures_are_readable_in_a_blog_column(tmp_path, drawer, column):
    for name, program, shapes in [("attention", ATTENTION, ATTENTION_SHAPES),
                                  ("mlp", MLP, MLP_SHAPES), ("cs231n", CS231N, SCALARS)]:
        path = draw(mc.parse(program, shapes), tmp_path / f"{name}.svg", column_px=column)
        svg = path.read_text()
        assert min_text_px(svg, column) >= 11, (name, min_text_px(svg, column))
    svg = (tmp_path / "attention.svg").read_text()
    assert 'baseline-shift="sub"' in svg and ">W_v<" not in svg  # W_v has a real subscript


def test_figure_without_graphviz_writes_the_source_and_says_how(tmp_path, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_pygraphviz(name, *args, **kwargs):
        if name == "pygraphviz":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setattr(builtins, "__import__", no_pygraphviz)
    f = mc.parse(CS231N, SCALARS)
    with pytest.raises(FigureError, match=r"matcalc-symbolic\[figures\]") as info:
        draw(f, tmp_path / "g.svg")
    assert "dot -Tsvg" in str(info.value)
    assert (tmp_path / "g.dot").read_text().startswith("digraph")
    with pytest.raises(FigureError):
        draw_dot(graph_dot(f), tmp_path / "h.svg")
    # the post still links the figure, and a comment tells its author how to draw it
    text = render(derive(f), figure=Figure("g.svg", missing=str(info.value)))
    assert "![Computational graph" in text and "](g.svg)" in text
    assert re.search(r"<!-- .*dot -Tsvg .* -->", text)
