"""Case 3 of the reference post: y = W x with W ∈ ℝ^{m×n}, x ∈ ℝⁿ."""

from _post import write_post

write_post("vector_to_vector", "y = W @ x", {"W": ("m", "n"), "x": ("n", 1)}, node=True,
           title={"en": "Vector to vector: y = W x", "ko": "입출력이 모두 벡터인 경우: y = W x"})
