"""Case 2 of the reference post: y = wᵀx with w, x ∈ ℝⁿ."""

from _post import write_post

write_post("vector_to_scalar", "y = w.T @ x", {"w": ("n", 1), "x": ("n", 1)}, node=True,
           title={"en": "Vector to scalar: y = wᵀx", "ko": "벡터 입력과 스칼라 출력: y = wᵀx"})
