"""``matcalc demo``: the reference post's cases, derived by the rules and verified numerically."""

from __future__ import annotations

from typing import TextIO

from .dims import shape_str

# Each case: title, program, shapes, variables, the symbol the upstream gradient is taken for,
# and the local Jacobians worth showing.
CASES = [
    ("Scalar to scalar: y = w x", "y = w * x", {"w": (1, 1), "x": (1, 1)}, ["w", "x"], []),
    ("Vector to scalar: y = wᵀx", "y = w.T @ x", {"w": ("n", 1), "x": ("n", 1)}, ["w", "x"],
     ["x"]),
    ("Vector to vector: y = W x", "y = W @ x", {"W": ("m", "n"), "x": ("n", 1)}, ["W", "x"],
     ["x", "W"]),
    ("Batched matrices: Y = W X", "Y = W @ X", {"W": ("m", "n"), "X": ("n", "B")}, ["W", "X"],
     ["W", "X"]),
    ("ReLU: Y = relu(Z)", "Y = relu(Z)", {"Z": ("m", "B")}, ["Z"], []),
]

DIMS = {"m": 3, "n": 4, "B": 5}


def run_demo(out: TextIO) -> int:
    from .diff import grad, jacobian, vjp
    from .ops import cotangent, sum as sum_
    from .parse import parse
    from .verify import check

    w = out.write
    w("matcalc demo: downstream gradient = upstream gradient × local gradient, case by case\n")
    w(f"(checked numerically at {', '.join(f'{k} = {v}' for k, v in DIMS.items())})\n")
    failures = 0
    for i, (title, program, shapes, names, jac_wrt) in enumerate(CASES, 1):
        Y = parse(program, shapes)
        yname = Y.get("name")
        G = cotangent(yname, *Y.shape)
        w(f"\n{i}. {title}\n")
        w(f"   forward     {program:<28} {shape_str(Y.shape)}\n")
        w(f"   upstream    {'dL/d' + yname:<28} {shape_str(G.shape)}\n")
        for name in jac_wrt:
            J = jacobian(Y, name)
            w(f"   local       {'d' + ('vec ' if not Y.cols.is_one else '') + yname + '/d' + name:<12}"
              f" = {str(J):<14} {shape_str(J.shape)}\n")
        downs = vjp(Y, names, upstream=G)
        # The same gradients as grad of the scalar L = sum(dL/dY ⊙ Y): verify those numerically.
        L = sum_(G * Y)
        same = grad(L, names)
        for name, d, s in zip(names, downs, same):
            tag = "" if d is s else "   (differs from grad!)"
            w(f"   downstream  dL/d{name:<4} = {str(d):<20} {shape_str(d.shape)}{tag}\n")
            failures += d is not s
        report = check(L, names, dims=DIMS, seed=i)
        w("   check       " + report.summary() + "\n")
        failures += not report.passed
    status = "all gradients verified" if not failures else f"{failures} problem(s)"
    w(f"\n{status}\n")
    return 0 if not failures else 1
