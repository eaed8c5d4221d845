"""Derivation documents: the reference post's cases with their (corrected) shapes, Korean and
English Markdown, LaTeX output, worked numbers, figures, and KaTeX rendering of every block."""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import matcalc as mc
from matcalc.cli import main
from matcalc.dims import dim
from matcalc.explain import derive, explain, render
from matcalc.figure import FigureError, graph_dot, render as draw

SHAPES = {"W": ("m", "n"), "X": ("n", "B"), "x": ("n", 1), "w": ("n", 1), "Z": ("m", "B")}


def _shape(e):
    return tuple(str(d) for d in e.shape)


def _local(d, input_name):
    for s in d.steps:
        for loc in s.locals:
            if loc.input.get("name") == input_name:
                return s, loc
    raise AssertionError(input_name)


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
    assert r"\frac{\partial L}{\partial W} = \frac{\partial L}{\partial Y} X^\top \in \mathbb{R}^{m \times n}" in text
    assert r"\frac{\partial L}{\partial X} = W^\top \frac{\partial L}{\partial Y} \in \mathbb{R}^{n \times B}" in text
    assert r"X^\top \otimes I_{m} \in \mathbb{R}^{m B \times m n}" in text
    assert r"m \times B \times m \times n" in text  # the 4-D local gradient, named as such


def test_relu():
    d = derive(mc.parse("Y = relu(Z)", SHAPES), node=True)
    _, lZ = _local(d, "Z")
    assert str(lZ.downstream) == "dL_dY * step(Z)" and _shape(lZ.downstream) == ("m", "B")
    assert r"\frac{\partial L}{\partial Y} \odot \mathbb{1}[Z > 0]" in render(d)


def test_relu_of_a_vector_has_a_diagonal_jacobian():
    d = derive(mc.parse("y = relu(x)", SHAPES), node=True)
    _, lx = _local(d, "x")
    assert lx.kind == "diagonal" and str(lx.jacobian) == "diag(step(x))"


def test_chain_of_named_steps_and_final_gradients():
    src = "Y = W @ X; H = relu(Y); L = sum(H)"
    d = derive(mc.parse(src, SHAPES))
    assert [s.name for s in d.steps] == ["Y", "H", "L"]
    ups = {s.name: s.upstream for s in d.steps}
    assert ups["L"] is None and str(ups["H"]) == "ones(m, B)" and str(ups["Y"]) == "step(Y)"
    gW, gX = d.gradients
    assert str(gW) == "step(Y) @ X.T" and str(gX) == "W.T @ step(Y)"


def test_cs231n_worked_numbers():
    values = {"x": -2, "y": 5, "z": -4}
    shapes = {k: (1, 1) for k in values}
    d = derive(mc.parse("q = x + y; f = q * z", shapes), values=values)
    fv = {s.name: float(d.forward_values[s.node][0, 0]) for s in d.steps}
    assert fv == {"q": 3.0, "f": -12.0}
    gv = {n.get("name"): float(v[0, 0]) for n, v in d.gradient_values.items()}
    assert gv == {"q": -4.0, "x": -4.0, "y": -4.0, "z": 3.0}
    text = render(d)
    assert "<details>" in text and "-12" in text and r"\frac{\partial f}{\partial x} &= -4" in text


def test_korean_uses_the_reference_vocabulary():
    text = explain("Y = W @ X", shapes=SHAPES, lang="ko")
    for word in ["순전파", "역전파", "연쇄 법칙", "Upstream Gradient", "Local Gradient",
                 "Downstream Gradient", "4차원 텐서"]:
        assert word in text
    assert "$W$가 변하면" in text and "$Y$의 모든 원소가" in text  # particles follow the sound


def test_korean_particles_follow_the_final_sound():
    text = explain("H = relu(Z); L = sum(H)", shapes=SHAPES, lang="ko")
    assert "$L$은 손실 함수 자체" in text  # 엘 ends in a consonant: 은, not 는


def test_front_matter_and_latex_format():
    text = explain("Y = W @ X; L = sum(Y)", shapes=SHAPES, front_matter={"title": "Backprop"})
    assert text.startswith('---\ntitle: "Backprop"\n') and "math: true" in text
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


def _display_math(text: str) -> list[str]:
    return re.findall(r"\$\$\n(.*?)\n\$\$", text, flags=re.S)


def _inline_math(text: str) -> list[str]:
    return [m for m in re.findall(r"(?<!\$)\$([^$\n]+)\$(?!\$)", text)]


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_every_math_block_renders_in_katex(katex, lang):
    from matcalc.demo import CASES

    docs = [explain(mc.parse(p, s), lang=lang, node=True) for _, p, s in CASES]
    docs.append(explain("q = x + y; f = q * z", shapes={k: (1, 1) for k in "xyz"}, lang=lang,
                        values={"x": -2, "y": 5, "z": -4}))
    docs.append(explain("Y = W @ X + b; H = relu(Y); L = sum(H) / size(B)",
                        shapes={**SHAPES, "b": ("m", 1)}, lang=lang))
    blocks = [b for doc in docs for b in _display_math(doc) + _inline_math(doc)]
    assert len(blocks) > 50
    for b in blocks:
        assert katex.render(b) is None, (b, katex.render(b))


def test_figure_dot_source_has_values_and_gradients():
    shapes = {k: (1, 1) for k in "xyz"}
    f = mc.parse("q = x + y; f = q * z", shapes)
    src = graph_dot(f, {"x": -2, "y": 5, "z": -4})
    for text in ["x", "y", "z", "+", "×", "-12", "-4", "#1a7f37", "#cf222e"]:
        assert text in src


def test_figure_matrix_graph_shows_shapes():
    src = graph_dot(mc.parse("Y = W @ X; L = sum(relu(Y))", SHAPES))
    assert "m×B" in src and "n×B" in src and "@" in src


needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")


@needs_dot
def test_svg_and_png_figures(tmp_path):
    f = mc.parse("q = x + y; f = q * z", {k: (1, 1) for k in "xyz"})
    svg = tmp_path / "g.svg"
    draw(graph_dot(f, {"x": -2, "y": 5, "z": -4}), svg)
    root = ET.parse(svg).getroot()  # valid XML
    texts = {t.text for t in root.iter() if t.tag.endswith("text") and t.text}
    assert {"x", "y", "z", "+", "×", "q", "f", "3", "-12", "-4", "5", "-2"} <= texts
    png = tmp_path / "g.png"
    draw(graph_dot(f), png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_figure_without_dot_writes_the_source(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    f = mc.parse("q = x + y; f = q * z", {k: (1, 1) for k in "xyz"})
    with pytest.raises(FigureError, match="dot"):
        draw(graph_dot(f), tmp_path / "g.svg")
    assert (tmp_path / "g.dot").read_text().startswith("digraph")


@needs_dot
def test_cli_explain(tmp_path, capsys):
    out = tmp_path / "post.md"
    fig = tmp_path / "graph.svg"
    code = main(["explain", "q = x + y; f = q * z", "--values", "x=-2,y=5,z=-4", "--lang", "ko",
                 "--front-matter", "--figure", str(fig), "--output", str(out)])
    assert code == 0
    text = out.read_text()
    assert text.startswith("---") and "역전파" in text and "](graph.svg)" in text
    assert fig.exists()


def test_cli_explain_to_stdout_and_errors(capsys):
    assert main(["explain", "Y = W @ X", "--shape", "W=m,n", "--shape", "X=n,B"]) == 0
    assert r"X^\top \otimes I_{m}" in capsys.readouterr().out
    assert main(["explain", "Y = W @ X", "--shape", "W=m,n", "--shape", "X=k,B"]) == 2
    assert capsys.readouterr().err.startswith("error: cannot multiply")
    assert main(["explain", "f = x * y", "--values", "x=1,y=oops"]) == 2
    assert main(["explain", "f = x * W", "--values", "x=1", "--value", "W=[[1,2]"]) == 2


def test_demo_prints_the_reference_cases(capsys):
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    for program in ["y = w * x", "y = w.T @ x", "y = W @ x", "Y = W @ X", "Y = relu(Z)"]:
        assert program in out
    assert out.count("PASS") == 5 and "All gradients verified." in out


def test_explain_values_match_numpy():
    rng = np.random.default_rng(0)
    vals = {"W": rng.normal(size=(3, 4)), "X": rng.normal(size=(4, 5))}
    d = derive(mc.parse("Y = W @ X; L = sum(Y * Y)", SHAPES), values=vals)
    Y = vals["W"] @ vals["X"]
    gW = d.gradient_values[mc.Matrix("W", "m", "n")]
    assert np.allclose(gW, 2 * Y @ vals["X"].T)
