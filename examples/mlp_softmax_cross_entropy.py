"""A two-layer MLP with softmax cross-entropy over a batch of B columns."""

from _post import write_post

PROGRAM = """
Z1 = W1 @ X + b1
H = relu(Z1)
Z2 = W2 @ H + b2
P = log_softmax(Z2, axis=0)
L = -sum(Y * P) / size(B)
"""
SHAPES = {"W1": ("h", "d"), "b1": ("h", 1), "X": ("d", "B"), "W2": ("k", "h"), "b2": ("k", 1),
          "Y": ("k", "B")}
write_post("mlp_softmax_cross_entropy", PROGRAM, SHAPES, wrt=["W1", "b1", "W2", "b2"],
           title={"en": "A two-layer MLP with softmax cross-entropy",
                  "ko": "2층 MLP와 소프트맥스 교차 엔트로피"})
