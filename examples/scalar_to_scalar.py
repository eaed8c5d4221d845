"""Case 1 of the reference post: a single scalar neuron y = w x, and CS231n's f = (x + y) z with
worked numbers at x = −2, y = 5, z = −4."""

from _post import write_post

write_post("scalar_to_scalar", "y = w * x", {"w": (1, 1), "x": (1, 1)}, node=True,
           title={"en": "Scalar to scalar: y = w x", "ko": "스칼라 입력과 스칼라 출력: y = w x"})
write_post("cs231n_example", "q = x + y; f = q * z", {"x": (1, 1), "y": (1, 1), "z": (1, 1)},
           values={"x": -2, "y": 5, "z": -4},
           title={"en": "Backpropagation by hand: f = (x + y) z",
                  "ko": "역전파 계산 예시: f = (x + y) z"})
