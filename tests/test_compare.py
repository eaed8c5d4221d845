"""Check my derivation: mc.compare catches wrong hand-derived gradients — shapes first, naming the
factor that does not fit; then equality after simplification; then numbers at random points —
and accepts right ones however they are written."""

from __future__ import annotations

import json

import pytest

import matcalc as mc
from matcalc.cli import main

AFFINE = "Y = W @ X + b; H = relu(Y); L = sum(H) / size(B)"
AFFINE_SHAPES = {"W": ("m", "n"), "X": ("n", "B"), "b": ("m", 1)}
NODE = "Y = W @ X"  # the reference post's batched case: one node, ∂L/∂Y given
NODE_SHAPES = {"W": ("m", "n"), "X": ("n", "B")}
PROGRAMS = {
    "affine": (AFFINE, AFFINE_SHAPES),
    "node": (NODE, NODE_SHAPES),
    "vector": ("y = W @ x", {"W": ("m", "n"), "x": ("n", 1)}),
    "dot": ("y = w.T @ x", {"w": ("n", 1), "x": ("n", 1)}),
    "softmax_ce": ("P = softmax(Z, axis=0); L = -sum(T * log(P)) / size(B)",
                   {"Z": ("k", "B"), "T": ("k", "B")}),
    "logdet": ("L = logdet(S)", {"S": ("n", "n")}),
    "quadratic": ("L = x.T @ A @ x", {"x": ("n", 1), "A": ("n", "n")}),
    "sigmoid": ("L = sum(sigmoid(Z))", {"Z": ("m", "B")}),
    "tanh": ("L = sum(tanh(Z))", {"Z": ("m", "B")}),
    "squared": ("L = sum((W @ X - T) ** 2) / size(B)",
                {"W": ("m", "n"), "X": ("n", "B"), "T": ("m", "B")}),
}


def program(key: str):
    source, shapes = PROGRAMS[key]
    return mc.parse(source, shapes)


# (program, variable, candidate, stage, words the report must contain)
WRONG = [
    # the bias of an affine layer: the batch must be summed over, and 1/B kept
    ("affine", "b", r"\frac{1}{B} \mathbb{I}[Y > 0]", "shape", ["m×B", "m×1", "sum over the batch"]),
    ("affine", "b", r"\mathbb{I}[Y > 0] \mathbf{1}", "numeric", ["factor 1/B missing"]),
    ("affine", "b", "sum(step(Y), axis=0) / size(B)", "shape", ["1×B", "m×1"]),
    # the weight: a missing 1/B, factors swapped, a transpose in the wrong place, no mask
    ("affine", "W", r"\mathbb{I}[Y > 0] X^\top", "numeric", ["factor 1/B missing", "entry"]),
    ("affine", "W", "step(Y) @ X.T", "numeric", ["factor 1/B missing"]),
    ("affine", "W", r"\frac{1}{B} X \mathbb{I}[Y > 0]^\top", "shape", ["n×m", "transpose"]),
    ("affine", "W", r"\frac{1}{B} X^\top \mathbb{I}[Y > 0]", "shape",
     ["cannot multiply", "B×n", "m×B"]),
    ("affine", "W", r"\frac{1}{B} \mathbf{1}_{m \times B} X^\top", "numeric", ["entry"]),
    ("affine", "W", r"\frac{\partial L}{\partial Y} W^\top", "shape", ["cannot multiply"]),
    ("affine", "X", r"\frac{1}{B} W \mathbb{I}[Y > 0]", "shape", ["cannot multiply", "m×n"]),
    ("affine", "X", r"\frac{1}{B} \mathbb{I}[Y > 0]^\top W", "shape", ["B×n", "transpose"]),
    # the reference post's batched case and its shape slips
    ("node", "W", r"X^\top \frac{\partial L}{\partial Y}", "shape", ["cannot multiply", "B×n"]),
    ("node", "W", r"\frac{\partial L}{\partial Y} X", "shape", ["cannot multiply", "n×B"]),
    ("node", "W", r"X^\top \otimes I_{m}", "shape", ["(m·B)×(m·n)", "m×n", "Jacobian"]),
    ("node", "X", r"W \frac{\partial L}{\partial Y}", "shape", ["cannot multiply"]),
    ("node", "X", r"\frac{\partial L}{\partial Y}^\top W", "shape", ["B×n", "transpose"]),
    ("node", "X", "W.T @ sum(dL_dY, axis=1)", "shape", ["n×1", "n×B", "columns"]),
    # vectors
    ("vector", "W", r"x \frac{\partial L}{\partial y}^\top", "shape", ["n×m", "transpose"]),
    ("dot", "x", r"\frac{\partial L}{\partial y} w^\top", "shape", ["1×n", "transpose"]),
    # softmax cross-entropy, log-determinant, a quadratic form, elementwise derivatives
    ("softmax_ce", "Z", "P * sum(T, axis=0) - T", "numeric", ["factor 1/B missing"]),
    ("softmax_ce", "Z", "(T - P * sum(T, axis=0)) / size(B)", "numeric", ["opposite sign"]),
    # P − T holds only when every column of T sums to 1 (one-hot targets)
    ("softmax_ce", "Z", r"\frac{1}{B} (P - T)", "numeric", ["entry"]),
    ("logdet", "S", r"S^{-1}", "numeric", ["transpose"]),
    ("quadratic", "x", "2 A x", "numeric", ["entry"]),
    ("quadratic", "x", r"x^\top (A + A^\top)", "shape", ["1×n", "transpose"]),
    ("sigmoid", "Z", r"\sigma(Z) (1 - \sigma(Z))", "shape", ["cannot multiply"]),
    ("tanh", "Z", r"1 - \tanh(Z)", "numeric", ["entry"]),
    ("squared", "W", r"\frac{2}{B} X^\top (W X - T)", "shape", ["cannot multiply"]),
    ("squared", "W", r"\frac{1}{B} (W X - T) X^\top", "numeric", ["half of matcalc's", "factor 2 missing"]),
]


@pytest.mark.parametrize("key, var, candidate, stage, words", WRONG,
                         ids=[f"{k}-{v}-{i}" for i, (k, v, *_) in enumerate(WRONG)])
def test_wrong_derivations_are_caught(key, var, candidate, stage, words):
    report = mc.compare(candidate, program(key), var)
    assert report.equal is False and not report
    assert report.stage == stage, str(report)
    text = str(report)
    for word in words:
        assert word in text, (word, text)
    assert report.expected_text in text  # the report shows matcalc's form


def test_at_least_twenty_wrong_derivations():
    assert len(WRONG) >= 20


RIGHT = [
    ("affine", "W", r"\frac{1}{B} \mathbb{I}[Y > 0] X^\top"),
    ("affine", "W", r"\frac{1}{B}\mathbb{1}[W X + b > 0] X^{T}"),
    ("affine", "W", r"\frac{\partial L}{\partial Y} X^\top"),
    ("affine", "W", "step(Y) @ X.T / size(B)"),
    ("affine", "b", r"\frac{1}{B} \mathbb{I}[Y > 0] \mathbf{1}"),
    ("affine", "b", "mean(step(Y), axis=1)"),
    ("affine", "b", "sum(dL_dY, axis=1)"),
    ("affine", "X", r"W^\top \frac{\partial L}{\partial Y}"),
    ("node", "W", r"\frac{\partial L}{\partial Y} X^\top"),
    ("node", "X", "W.T @ dL_dY"),
    ("vector", "W", r"\frac{\partial L}{\partial y} x^\top"),
    ("dot", "x", r"w \frac{\partial L}{\partial y}"),
    ("softmax_ce", "Z", r"\frac{1}{B}(P \odot (\mathbf{1} \mathbf{1}^\top T) - T)"),
    ("softmax_ce", "Z", "(P * sum(T, axis=0) - T) / size(B)"),
    ("logdet", "S", r"S^{-\top}"),
    ("logdet", "S", r"(S^\top)^{-1}"),
    ("quadratic", "x", r"(A + A^\top) x"),
    ("quadratic", "x", r"A x + A^\top x"),
    ("sigmoid", "Z", r"\sigma(Z) \odot (1 - \sigma(Z))"),
    ("tanh", "Z", r"1 - \tanh(Z) \odot \tanh(Z)"),
    ("squared", "W", r"\frac{2}{B} (W X - T) X^\top"),
]


@pytest.mark.parametrize("key, var, candidate", RIGHT,
                         ids=[f"{k}-{v}-{i}" for i, (k, v, _) in enumerate(RIGHT)])
def test_right_derivations_written_differently_are_accepted(key, var, candidate):
    report = mc.compare(candidate, program(key), var)
    assert report.equal is True, str(report)
    assert report.stage in ("symbolic", "numeric")


def test_a_derivation_proved_only_numerically_reports_its_points():
    report = mc.compare(r"A x + A^\top x", program("quadratic"), "x")
    if report.stage == "numeric":
        assert len(report.points) == 3 and all(p.agree for p in report.points)


def test_the_report_is_json_and_a_table():
    report = mc.compare(r"\mathbb{I}[Y > 0] X^\top", program("affine"), "W")
    data = json.loads(report.to_json())
    assert data["equal"] is False and data["stage"] == "numeric"
    assert data["expected_latex"] == r"\frac{\mathbb{I}[Y > 0] X^\top}{B}"
    assert data["expected_shape"] == "m×n" and data["candidate_shape"] == "m×n"
    point = data["points"][0]
    assert not point["agree"] and len(point["candidate_value"]) == 3  # m = 3 rows
    assert len(point["candidate_value"][0]) == 4  # n = 4 columns
    rows = dict(report.rows())
    assert rows["verdict"].startswith("not equal") and "1/B" in rows["hint"]
    assert "| verdict |" in report._repr_markdown_()


def test_a_shape_error_names_the_factor_and_its_column():
    report = mc.compare(r"X^\top \frac{\partial L}{\partial Y}", program("node"), "W")
    assert report.where is not None and "column 8" in report.where
    assert "X.T (B×n)" in report.where


def test_bad_input_is_an_error_not_a_verdict():
    with pytest.raises(mc.MatcalcError, match="undeclared name 'V'"):
        mc.compare("V @ X.T", program("node"), "W")
    with pytest.raises(mc.MatcalcError, match="no variable named 'Q'"):
        mc.compare("W", program("node"), "Q")
    with pytest.raises(mc.MatcalcError):
        mc.compare("", program("node"), "W")


# --- the command line ----------------------------------------------------------------------------

def test_cli_compare_right_and_wrong(capsys):
    args = ["compare", AFFINE, "--shape", "W=m,n", "--shape", "X=n,B", "--shape", "b=m,1",
            "--wrt", "b"]
    assert main([*args, "--candidate", r"\frac{1}{B}\mathbb{I}[Y > 0]\mathbf{1}"]) == 0
    first = capsys.readouterr().out.splitlines()[0].split()
    assert first[:2] == ["verdict", "equal"]
    assert main([*args, "--candidate", r"\frac{1}{B}\mathbb{I}[Y > 0]"]) == 1
    out = capsys.readouterr().out
    assert "not equal" in out and "sum over the batch" in out
    assert main([*args, "--candidate", r"\mathbb{I}[Y > 0]\mathbf{1}", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["stage"] == "numeric" and "1/B" in data["hint"]


def test_cli_compare_errors(capsys):
    code = main(["compare", NODE, "--shape", "W=m,n", "--shape", "X=n,B", "--wrt", "W",
                 "--candidate", r"\frac{\partial L}{\partial Z}"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error:") and "Traceback" not in err
