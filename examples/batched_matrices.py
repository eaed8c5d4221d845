"""Case 4 of the reference post: a batch, Y = W X with W ∈ ℝ^{m×n}, X ∈ ℝ^{n×B}.

The post calls W a 4-D tensor and gives ∂L/∂X ∈ ℝⁿ and ∂L/∂Y ∈ ℝᵐ. The derivation here shows
the true shapes: W is m×n, Y and ∂L/∂Y are m×B, ∂L/∂X is n×B, ∂L/∂W is m×n, and the local
gradient ∂Y/∂W is 4-D (m×B×m×n): Xᵀ ⊗ I_m, an (m·B)×(m·n) matrix in vec form."""

from _post import write_post

write_post("batched_matrices", "Y = W @ X", {"W": ("m", "n"), "X": ("n", "B")}, node=True,
           title={"en": "Batched matrices: Y = W X", "ko": "배치 입력: Y = W X"})
