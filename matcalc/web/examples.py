"""The programs offered by the playground's example picker: every case of the reference post
(each one node of a network, its upstream gradient a symbol), CS231n's worked example, a two-layer
MLP with softmax cross-entropy and an attention head — the same as the scripts in examples/."""

from __future__ import annotations

from typing import Any

EXAMPLES: list[dict[str, Any]] = [
    {"id": "scalar", "title": "Scalar to scalar: y = w x", "program": "y = w * x",
     "shapes": "w: 1, 1\nx: 1, 1", "node": True},
    {"id": "vector-scalar", "title": "Vector to scalar: y = wᵀx", "program": "y = w.T @ x",
     "shapes": "w: n, 1\nx: n, 1", "node": True},
    {"id": "vector-vector", "title": "Vector to vector: y = W x", "program": "y = W @ x",
     "shapes": "W: m, n\nx: n, 1", "node": True},
    {"id": "batched", "title": "Batched matrices: Y = W X", "program": "Y = W @ X",
     "shapes": "W: m, n\nX: n, B", "node": True},
    {"id": "relu", "title": "ReLU: Y = relu(Z)", "program": "Y = relu(Z)", "shapes": "Z: m, B",
     "node": True},
    {"id": "cs231n", "title": "Backpropagation by hand: f = (x + y) z",
     "program": "q = x + y\nf = q * z", "shapes": "x: 1, 1\ny: 1, 1\nz: 1, 1",
     "values": "x=-2, y=5, z=-4", "worked": True},
    {"id": "mlp", "title": "A two-layer MLP with softmax cross-entropy",
     "program": "Z1 = W1 @ X + b1\nH = relu(Z1)\nZ2 = W2 @ H + b2\nP = log_softmax(Z2, axis=0)\n"
                "L = -sum(Y * P) / size(B)",
     "shapes": "W1: h, d\nb1: h, 1\nX: d, B\nW2: k, h\nb2: k, 1\nY: k, B",
     "wrt": "W1, b1, W2, b2"},
    {"id": "attention", "title": "An attention head",
     "program": "Q = W_q @ X\nK = W_k @ X\nV = W_v @ X\nS = K.T @ Q / sqrt(size(d))\n"
                "A = softmax(S, axis=0)\nO = V @ A\nL = sum((O - T) ** 2)",
     "shapes": "X: e, n\nW_q: d, e\nW_k: d, e\nW_v: d, e\nT: d, n", "wrt": "W_q, W_k, W_v"},
]
