"""Compiled gradients of matrix chains against torch.autograd, side by side in one run.

    python benchmarks/chains.py [--n 1200] [--repeats 7] [--quick]

For each case, matcalc's compiled function (NumPy backend) returns the loss and its gradients;
PyTorch computes the same loss and calls backward() (CPU, float64). Both run on one thread (BLAS
and torch), take turns in shuffled order, and report the median time of their turns. Each case is
timed at n and at 2n: a product order that is asymptotically worse than autograd's shows as a
ratio that grows with n. Prints a Markdown table (the one in docs/performance.md).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from run import optional, take_turns, timed_calls

import matcalc as mc

RANK = 8  # the rank of the low-rank case
WIDTH = 4  # columns of the matrix variants (a few right-hand sides)


def cases() -> list[tuple[str, str, dict[str, Any], list[str], Callable[..., Any]]]:
    """(name, program, shapes, variables, torch loss of the named tensors)."""
    return [
        ("∂/∂x of xᵀAᵀABx", "L = x.T @ A.T @ A @ B @ x",
         {"x": ("n", 1), "A": ("n", "n"), "B": ("n", "n")}, ["x"],
         lambda t: t["x"].T @ t["A"].T @ t["A"] @ t["B"] @ t["x"]),
        ("all gradients of uᵀABv", "L = u.T @ A @ B @ v",
         {"u": ("n", 1), "A": ("n", "n"), "B": ("n", "n"), "v": ("n", 1)}, ["u", "A", "B", "v"],
         lambda t: t["u"].T @ t["A"] @ t["B"] @ t["v"]),
        ("∂/∂x of ‖UVᵀx‖², rank 8", "L = sum((U @ V.T @ x) ** 2)",
         {"U": ("n", "r"), "V": ("n", "r"), "x": ("n", 1)}, ["x"],
         lambda t: ((t["U"] @ t["V"].T @ t["x"]) ** 2).sum()),
        ("∂/∂x of ‖Ax‖²", "L = sum((A @ x) ** 2)", {"A": ("n", "n"), "x": ("n", 1)}, ["x"],
         lambda t: ((t["A"] @ t["x"]) ** 2).sum()),
        ("∂/∂X of tr(XᵀAᵀABX), X n×4", "L = trace(X.T @ A.T @ A @ B @ X)",
         {"X": ("n", "k"), "A": ("n", "n"), "B": ("n", "n")}, ["X"],
         lambda t: torch_trace(t["X"].T @ t["A"].T @ t["A"] @ t["B"] @ t["X"])),
        ("∂/∂A of ‖ABC − Y‖², C n×4", "R = A @ B @ C - Y; L = sum(R * R)",
         {"A": ("n", "n"), "B": ("n", "n"), "C": ("n", "k"), "Y": ("n", "k")}, ["A"],
         lambda t: ((t["A"] @ t["B"] @ t["C"] - t["Y"]) ** 2).sum()),
        ("all gradients of 1ᵀ tanh(W₂ tanh(W₁x))", "L = sum(tanh(W2 @ tanh(W1 @ x)))",
         {"W1": ("n", "n"), "W2": ("n", "n"), "x": ("n", 1)}, ["W1", "W2", "x"],
         lambda t: __import__("torch").tanh(t["W2"] @ __import__("torch").tanh(t["W1"] @ t["x"]))
         .sum()),
    ]


def torch_trace(m: Any) -> Any:
    return m.diagonal().sum()


def values(shapes: dict[str, Any], sizes: dict[str, int], seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    out = {}
    for name, shape in shapes.items():
        dims = tuple(sizes.get(str(d), d) for d in shape)
        out[name] = rng.normal(size=dims) / np.sqrt(dims[0])
    return out


def race(program: str, shapes: dict[str, Any], wrt: list[str], loss: Callable[..., Any],
         sizes: dict[str, int], repeats: int) -> tuple[float, float, float]:
    """(matcalc seconds, torch seconds, largest relative difference of the gradients)."""
    import torch

    L = mc.parse(program, shapes)
    f = mc.compile([L] + list(mc.grad(L, wrt)))
    vals = values(shapes, sizes, seed=1)
    tensors = {k: torch.tensor(v, requires_grad=k in wrt) for k, v in vals.items()}

    def torch_step() -> list[Any]:
        for k in wrt:
            tensors[k].grad = None
        out = loss(tensors)
        out.backward()
        return [tensors[k].grad for k in wrt]

    ours = f(**vals)
    theirs = torch_step()
    diff = max(float(np.max(np.abs(o - t.numpy())) / (np.max(np.abs(t.numpy())) + 1e-300))
               for o, t in zip(ours[1:], theirs))
    number = max(1, int(2e8 / max(1, sizes["n"] ** 2 * 4)))
    times = take_turns({"matcalc": timed_calls(lambda: f(**vals), number),
                        "torch": timed_calls(torch_step, number)}, repeats)
    return times["matcalc"], times["torch"], diff


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1200)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="n = 300, 3 repeats")
    opt = parser.parse_args()
    n, repeats = (300, 3) if opt.quick else (opt.n, opt.repeats)
    torch, tpc = optional("torch"), optional("threadpoolctl")
    if torch is None:
        sys.exit("torch is not installed: pip install torch==2.13.0")
    torch.set_num_threads(1)
    torch.set_default_dtype(torch.float64)
    if tpc is not None:
        tpc.threadpool_limits(limits=1)
    print("| case | n | matcalc | torch | matcalc / torch | at 2n | agree to |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, program, shapes, wrt, loss in cases():
        ratios, cells = [], []
        for size in (n, 2 * n):
            sizes = {"n": size, "r": RANK, "k": WIDTH}
            ours, theirs, diff = race(program, shapes, wrt, loss, sizes, repeats)
            ratios.append(ours / theirs)
            cells.append((ours, theirs, diff))
            print(f"  {name} n={size}: {ours * 1e3:.3f} ms vs {theirs * 1e3:.3f} ms",
                  file=sys.stderr, flush=True)
        (ours, theirs, diff) = cells[0]
        print(f"| {name} | {n} | {ours * 1e3:.3f} ms | {theirs * 1e3:.3f} ms | "
              f"{ratios[0]:.2f} | {ratios[1]:.2f} | {max(c[2] for c in cells):.0e} |")


if __name__ == "__main__":
    main()
