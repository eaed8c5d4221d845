"""The textbook suite: gradients and Jacobians as textbooks and the Matrix Cookbook print them.

Each item is a program in matcalc's input language, the variable, and the textbook's form of the
derivative written in the same language over the program's named intermediates. The derived form
must equal the textbook's (tests/test_textbook.py checks it numerically) and print at most
``LIMIT`` times as long. ``python tests/textbook.py`` prints the table of docs/readability.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import matcalc as mc

LIMIT = 1.2

BATCH_NORM = ("mu = mean(X, axis=1); D = X - mu; v = mean(D * D, axis=1); s = sqrt(v + eps); "
              "Xh = D / s; L = sum(G * (gamma * Xh + beta))")
BN_SHAPES = {"X": ("m", "B"), "G": ("m", "B"), "gamma": ("m", 1), "beta": ("m", 1),
             "eps": (1, 1)}
ATTENTION = "A = softmax(Q.T @ K, axis=0); O = V @ A; L = sum(G * O)"
ATT_SHAPES = {"Q": ("d", "T"), "K": ("d", "T"), "V": ("d", "T"), "G": ("d", "T")}
RNN = "h = tanh(W @ h0 + U @ x + b); L = sum(G * h)"
RNN_SHAPES = {"W": ("m", "m"), "U": ("m", "n"), "h0": ("m", 1), "x": ("n", 1), "G": ("m", 1),
              "b": ("m", 1)}
GAUSS = "r = x - mu; L = 0.5 * logdet(S) + 0.5 * r.T @ inv(S) @ r"
GAUSS_SHAPES = {"x": ("d", 1), "mu": ("d", 1), "S": ("d", "d")}


@dataclass(frozen=True)
class Item:
    name: str
    program: str
    shapes: dict[str, tuple[Any, Any]]
    wrt: str
    textbook: str


ITEMS = [
    Item("softmax cross-entropy", "P = softmax(S, axis=0); L = -sum(Y * log(P))",
         {"S": ("k", "B"), "Y": ("k", "B")}, "S", "P * sum(Y, axis=0) - Y"),
    Item("softmax cross-entropy by logsumexp", "L = sum(logsumexp(S, axis=0)) - sum(Y * S)",
         {"S": ("k", "B"), "Y": ("k", "B")}, "S", "softmax(S, axis=0) - Y"),
    Item("log-softmax cross-entropy", "Z = log_softmax(S, axis=0); L = -sum(Y * Z)",
         {"S": ("k", "B"), "Y": ("k", "B")}, "S", "softmax(S, axis=0) * sum(Y, axis=0) - Y"),
    Item("batch norm", BATCH_NORM, BN_SHAPES, "X",
         "gamma / s * (G - mean(G, axis=1) - Xh * mean(G * Xh, axis=1))"),
    Item("batch norm, scale", BATCH_NORM, BN_SHAPES, "gamma", "sum(G * Xh, axis=1)"),
    Item("layer norm", "mu = mean(X, axis=0); D = X - mu; v = mean(D * D, axis=0); "
         "s = sqrt(v + eps); Xh = D / s; L = sum(G * Xh)",
         {"X": ("d", "B"), "G": ("d", "B"), "eps": (1, 1)}, "X",
         "(G - mean(G, axis=0) - Xh * mean(G * Xh, axis=0)) / s"),
    Item("sigmoid layer", "s = sigmoid(W @ x + b); L = sum(G * s)",
         {"W": ("m", "n"), "x": ("n", 1), "G": ("m", 1), "b": ("m", 1)}, "W",
         "(G * s * (1 - s)) @ x.T"),
    Item("tanh layer", "h = tanh(W @ x + b); L = sum(G * h)",
         {"W": ("m", "n"), "x": ("n", 1), "G": ("m", 1), "b": ("m", 1)}, "W",
         "(G * (1 - h ** 2)) @ x.T"),
    Item("tanh layer, bias over a batch", "h = tanh(W @ X + b); L = sum(G * h)",
         {"W": ("m", "n"), "X": ("n", "B"), "G": ("m", "B"), "b": ("m", 1)}, "b",
         "sum(G * (1 - h ** 2), axis=1)"),
    Item("ReLU layer", "H = relu(W @ X + b); L = sum(G * H)",
         {"W": ("m", "n"), "X": ("n", "B"), "G": ("m", "B"), "b": ("m", 1)}, "W",
         "(G * step(W @ X + b)) @ X.T"),
    Item("attention, values", ATTENTION, ATT_SHAPES, "V", "G @ A.T"),
    Item("attention, queries", ATTENTION, ATT_SHAPES, "Q",
         "K @ (A * (V.T @ G - sum(A * (V.T @ G), axis=0))).T"),
    Item("RNN step, weights", RNN, RNN_SHAPES, "W", "(G * (1 - h ** 2)) @ h0.T"),
    Item("RNN step, previous state", RNN, RNN_SHAPES, "h0", "W.T @ (G * (1 - h ** 2))"),
    Item("Gaussian NLL, mean", GAUSS, GAUSS_SHAPES, "mu", "-(inv(S) + inv(S).T) @ r / 2"),
    Item("Gaussian NLL, covariance", GAUSS, GAUSS_SHAPES, "S",
         "(inv(S).T - inv(S).T @ r @ r.T @ inv(S).T) / 2"),
    Item("logistic regression", "L = sum(softplus(-y * (X.T @ w)))",
         {"X": ("n", "B"), "y": ("B", 1), "w": ("n", 1)}, "w",
         "-X @ (y * sigmoid(-y * (X.T @ w)))"),
    Item("ridge regression", "r = X @ w - y; L = sum(r ** 2) + lam * sum(w ** 2)",
         {"X": ("B", "n"), "y": ("B", 1), "w": ("n", 1), "lam": (1, 1)}, "w",
         "2 * (X.T @ r + lam * w)"),
    Item("mean squared error", "L = mean((Y - T) ** 2)", {"Y": ("m", "B"), "T": ("m", "B")},
         "Y", "2 * (Y - T) / size(m * B)"),
    Item("normalisation x / ‖x‖", "u = x / norm(x); L = sum(G * u)",
         {"x": ("n", 1), "G": ("n", 1)}, "x", "(G - u * (u.T @ G)) / norm(x)"),
    Item("Cookbook (70): aᵀXb", "L = a.T @ X @ b",
         {"a": ("m", 1), "X": ("m", "n"), "b": ("n", 1)}, "X", "a @ b.T"),
    Item("Cookbook (81): xᵀAx", "L = x.T @ A @ x", {"x": ("n", 1), "A": ("n", "n")}, "x",
         "(A + A.T) @ x"),
    Item("Cookbook (102): tr(AXB)", "L = trace(A @ X @ B)",
         {"A": ("p", "m"), "X": ("m", "n"), "B": ("n", "p")}, "X", "A.T @ B.T"),
    Item("Cookbook (57): log det X", "L = logdet(X)", {"X": ("n", "n")}, "X", "inv(X).T"),
    Item("Cookbook (49): det X", "L = det(X)", {"X": ("n", "n")}, "X", "det(X) * inv(X).T"),
    Item("Cookbook (124): tr(X⁻¹A)", "L = trace(inv(X) @ A)",
         {"X": ("n", "n"), "A": ("n", "n")}, "X", "-(inv(X) @ A @ inv(X)).T"),
    Item("Cookbook (103): ‖X‖²_F", "L = norm(X) ** 2", {"X": ("m", "n")}, "X", "2 * X"),
    Item("Cookbook (111): tr(XᵀAX)", "L = trace(X.T @ A @ X)",
         {"X": ("n", "m"), "A": ("n", "n")}, "X", "(A + A.T) @ X"),
    Item("Cookbook (84): ‖Ax − b‖²", "L = norm(A @ x - b) ** 2",
         {"A": ("m", "n"), "x": ("n", 1), "b": ("m", 1)}, "x", "2 * A.T @ (A @ x - b)"),
    Item("Jacobian of AXB by X", "Y = A @ X @ B",
         {"A": ("k", "m"), "X": ("m", "n"), "B": ("n", "p")}, "X", "kron(B.T, A)"),
    Item("Jacobian of Wx by x", "y = W @ x", {"W": ("m", "n"), "x": ("n", 1)}, "x", "W"),
    Item("Jacobian of WX by W", "Y = W @ X", {"W": ("m", "n"), "X": ("n", "B")}, "W",
         "kron(X.T, eye(m))"),
    Item("Jacobian of sA by s", "Y = s * A", {"s": (1, 1), "A": ("m", "n")}, "s", "vec(A)"),
    Item("Jacobian of softmax", "p = softmax(z, axis=0)", {"z": ("n", 1)}, "z",
         "diag(p) - p @ p.T"),
]


def derive(item: Item) -> tuple[mc.Expr, mc.Expr, mc.Expr]:
    """(program, matcalc's derivative, the textbook's) — a Jacobian for a non-scalar program."""
    program = mc.parse(item.program, item.shapes)
    got = mc.grad(program, item.wrt) if program.is_scalar else mc.jacobian(program, item.wrt)
    textbook = mc.parse(item.program + "; " + item.textbook, item.shapes)
    return program, got, textbook


def ratio(got: mc.Expr, textbook: mc.Expr) -> float:
    """Printed length of matcalc's form over the textbook's, with matcalc's printer."""
    return len(str(got)) / len(str(textbook))


def report() -> str:
    """The table of docs/readability.md."""
    lines = ["| item | matcalc prints | textbook | ratio |", "| --- | --- | --- | --- |"]
    ratios = []
    for item in ITEMS:
        _, got, textbook = derive(item)
        r = ratio(got, textbook)
        ratios.append(r)
        lines.append(f"| {item.name}, ∂/∂{item.wrt} | `{got}` | `{textbook}` | {r:.2f} |")
    mean = math.exp(sum(map(math.log, ratios)) / len(ratios))
    lines += ["", f"{len(ratios)} items; geometric mean {mean:.2f}, worst {max(ratios):.2f}."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(report(), end="")
