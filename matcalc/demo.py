"""``matcalc demo``: the reference post's cases, derived step by step and verified numerically."""

from __future__ import annotations

from typing import TextIO

# The cases of the reference post: title, program, shapes, and its (corrected) shapes.
CASES: list[tuple[str, str, dict[str, tuple[int | str, int | str]]]] = [
    ("Scalar to scalar", "y = w * x", {"w": (1, 1), "x": (1, 1)}),
    ("Vector to scalar", "y = w.T @ x", {"w": ("n", 1), "x": ("n", 1)}),
    ("Vector to vector", "y = W @ x", {"W": ("m", "n"), "x": ("n", 1)}),
    ("Batched matrices", "Y = W @ X", {"W": ("m", "n"), "X": ("n", "B")}),
    ("ReLU", "Y = relu(Z)", {"Z": ("m", "B")}),
]

DIMS = {"m": 3, "n": 4, "B": 5}


def run_demo(out: TextIO, lang: str = "en") -> int:
    from .evaluate import symbols_of
    from .explain import explain
    from .ops import cotangent
    from .ops import sum as sum_
    from .parsing import parse
    from .verify import check

    w = out.write
    w("# matcalc demo: backpropagation, case by case\n\n")
    w("Downstream gradient = upstream gradient × local gradient. Each case is one node of a "
      "network, its upstream gradient ∂L/∂Y a symbol; every result below is then verified "
      f"numerically at {', '.join(f'{k} = {v}' for k, v in DIMS.items())}.\n\n")
    failures = 0
    for i, (title, program, shapes) in enumerate(CASES, 1):
        Y = parse(program, shapes)
        w(explain(Y, lang=lang, node=True, title=f"{i}. {title}: `{program}`") + "\n")
        # the downstream gradients are those of the scalar L = sum(∂L/∂Y ⊙ Y): verify them
        name = Y.get("name")
        assert sum_ is not None  # the record's builder, declared with it
        L = sum_(cotangent(name, *Y.shape) * Y)
        names = sorted(symbols_of(Y))
        report = check(L, names, dims=DIMS, seed=i)
        w(f"Numerical check of {', '.join(f'∂L/∂{n}' for n in names)}: {report.summary()}\n\n")
        failures += report.passed is not True
    w("All gradients verified.\n" if not failures else f"{failures} case(s) failed.\n")
    return 0 if not failures else 1

