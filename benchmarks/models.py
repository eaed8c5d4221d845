"""The benchmark's problems, written once for each library.

* An L-layer tanh MLP with biases: H_0 = X, H_i = tanh(W_i H_{i-1} + b_i), loss = sum(H_L),
  differentiated by every W_i and b_i (2L gradients).
* The Hessian of xᵀAx and of the logistic loss sum(log(1 + exp(-y ⊙ (Xᵀw)))).

Run as ``python benchmarks/models.py sympy L`` it differentiates the MLP with SymPy in this
process and prints one JSON line (run.py calls it in a subprocess, with a timeout).
"""

from __future__ import annotations

import json
import statistics
import sys
import time

import numpy as np

# --- matcalc --------------------------------------------------------------------------------------

def matcalc_mlp(depth: int):
    import matcalc as mc

    H = mc.Matrix("X", "n", "B")
    params = []
    for i in range(depth):
        W, b = mc.Matrix(f"W{i}", "n", "n"), mc.Vector(f"b{i}", "n")
        H = mc.tanh(W @ H + b)
        params += [W, b]
    return mc.sum(H), params


def matcalc_quadratic():
    import matcalc as mc

    x, A = mc.Vector("x", "n"), mc.Matrix("A", "n", "n")
    return x.T @ A @ x, x


def matcalc_logistic():
    import matcalc as mc

    w, X, y = mc.Vector("w", "n"), mc.Matrix("X", "n", "m"), mc.Vector("y", "m")
    return mc.sum(mc.log(1 + mc.exp(-y * (X.T @ w)))), w


# --- values --------------------------------------------------------------------------------------

def mlp_values(depth: int, width: int, batch: int, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    vals = {"X": rng.normal(size=(width, batch))}
    for i in range(depth):
        vals[f"W{i}"] = rng.normal(size=(width, width)) / np.sqrt(width)
        vals[f"b{i}"] = rng.normal(size=(width, 1)) * 0.1
    return vals


def hessian_values(n: int, m: int, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {"A": rng.normal(size=(n, n)), "x": rng.normal(size=(n, 1)),
            "X": rng.normal(size=(n, m)) / np.sqrt(n), "y": np.sign(rng.normal(size=(m, 1))),
            "w": rng.normal(size=(n, 1))}


# --- hand-written NumPy: the practical limit ------------------------------------------------------

def numpy_mlp(vals: dict, depth: int) -> list:
    """The loss and [∂W0, ∂b0, ∂W1, …], by hand: forward activations kept, one backward sweep."""
    Ws = [vals[f"W{i}"] for i in range(depth)]
    hs = [vals["X"]]
    for i, W in enumerate(Ws):
        hs.append(np.tanh(W @ hs[-1] + vals[f"b{i}"]))
    loss = hs[-1].sum()
    grads: list = [None] * (2 * depth)
    up = None  # ∂L/∂H_i; the loss's own is all ones, so the first layer skips the product
    for i in reversed(range(depth)):
        local = 1.0 - hs[i + 1] ** 2
        dz = local if up is None else up * local
        grads[2 * i] = dz @ hs[i].T
        grads[2 * i + 1] = dz.sum(axis=1, keepdims=True)
        if i:
            up = Ws[i].T @ dz
    return [loss] + grads


# --- PyTorch -------------------------------------------------------------------------------------

def torch_mlp(vals: dict, depth: int):
    """A function computing the loss and its 2L gradients by autograd, and its inputs."""
    import torch

    X = torch.from_numpy(vals["X"])
    params = []
    for i in range(depth):
        params += [torch.from_numpy(vals[f"W{i}"]).requires_grad_(),
                   torch.from_numpy(vals[f"b{i}"]).requires_grad_()]

    def run():
        H = X
        for W, b in zip(params[::2], params[1::2]):
            H = torch.tanh(W @ H + b)
        loss = H.sum()
        return [loss, *torch.autograd.grad(loss, params)]

    return run


def torch_quadratic(A):
    return lambda x: x @ A @ x


def torch_logistic(X, y):
    import torch

    return lambda w: torch.sum(torch.log(1 + torch.exp(-y * (X.T @ w))))


# --- PyTensor ------------------------------------------------------------------------------------

def pytensor_mlp(depth: int):
    import pytensor.tensor as pt

    X = pt.matrix("X", dtype="float64")
    H, params = X, []
    for i in range(depth):
        W, b = pt.matrix(f"W{i}", dtype="float64"), pt.col(f"b{i}", dtype="float64")
        H = pt.tanh(W @ H + b)
        params += [W, b]
    return pt.sum(H), params, X


def pytensor_size(grads) -> int:
    """Distinct variables the gradients depend on (inputs and constants included)."""
    try:
        from pytensor.graph.traversal import ancestors
    except ImportError:  # older releases
        from pytensor.graph.basic import ancestors
    return len(set(ancestors(grads)))


# --- SymPy ---------------------------------------------------------------------------------------

def sympy_mlp(depth: int):
    import sympy
    from sympy import MatrixSymbol, OneMatrix

    n = sympy.Symbol("n", integer=True, positive=True)
    B = sympy.Symbol("B", integer=True, positive=True)
    H = MatrixSymbol("X", n, B)
    params = []
    for i in range(depth):
        W, b = MatrixSymbol(f"W{i}", n, n), MatrixSymbol(f"b{i}", n, 1)
        H = (W * H + b * OneMatrix(1, B)).applyfunc(sympy.tanh)  # b broadcast as b 1ᵀ
        params += [W, b]
    return OneMatrix(1, n) * H * OneMatrix(B, 1), params


def sympy_child(depth: int, repeats: int = 3) -> dict:
    """Differentiate the SymPy MLP by every parameter; time, tree size, or the error raised."""
    import sympy

    times, size = [], 0
    for _ in range(repeats):
        loss, params = sympy_mlp(depth)
        grads = []
        start = time.perf_counter()
        for p in params:
            try:
                grads.append(loss.diff(p))
            except Exception as exc:  # noqa: BLE001 - the benchmark reports whatever SymPy raises
                return {"error": f"{type(exc).__name__} at ∂/∂{p}: {str(exc)[:60]}"}
        times.append(time.perf_counter() - start)
        if not size:  # expression-tree nodes, counted outside the timing
            size = sum(sum(1 for _ in sympy.preorder_traversal(g)) for g in grads)
        if times[-1] > 5:
            break
    return {"time": statistics.median(times), "size": size}


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "sympy":
        print(json.dumps(sympy_child(int(sys.argv[2]))), flush=True)
    else:
        sys.exit("usage: python benchmarks/models.py sympy DEPTH")
