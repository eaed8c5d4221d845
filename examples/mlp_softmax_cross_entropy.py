"""A two-layer MLP with softmax cross-entropy over a batch of B columns (W_1 prints as W_1, with
its subscript; W1 would print as W1)."""

from _post import write_post

PROGRAM = """
Z_1 = W_1 @ X + b_1
H = relu(Z_1)
Z_2 = W_2 @ H + b_2
P = log_softmax(Z_2, axis=0)
L = -sum(Y * P) / size(B)
"""
SHAPES = {"W_1": ("h", "d"), "b_1": ("h", 1), "X": ("d", "B"), "W_2": ("k", "h"),
          "b_2": ("k", 1), "Y": ("k", "B")}
write_post("mlp_softmax_cross_entropy", PROGRAM, SHAPES, wrt=["W_1", "b_1", "W_2", "b_2"],
           title={"en": "A two-layer MLP with softmax cross-entropy",
                  "ko": "2층 MLP와 소프트맥스 교차 엔트로피"})
