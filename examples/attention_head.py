"""One attention head over a sequence of T tokens (columns), with a squared-error loss."""

from _post import write_post

PROGRAM = """
Q = W_q @ X
K = W_k @ X
V = W_v @ X
S = K.T @ Q / sqrt(size(d))
A = softmax(S, axis=0)
O = V @ A
L = sum((O - T) ** 2)
"""
SHAPES = {"X": ("e", "n"), "W_q": ("d", "e"), "W_k": ("d", "e"), "W_v": ("d", "e"), "T": ("d", "n")}
write_post("attention_head", PROGRAM, SHAPES, wrt=["W_q", "W_k", "W_v"],
           title={"en": "An attention head", "ko": "어텐션 헤드의 역전파"})
