"""What the export tests share: the layers they export, values for random expressions, and the
comparison of arrays."""

from __future__ import annotations

import numpy as np

import matcalc as mc
from matcalc.evaluate import symbols_of

EPS = 1e-5


def layer_norm():
    """Y = (X - mean) / sqrt(var + eps) * gamma + beta over the rows of a B×d X (PyTorch's
    layout: one example per row); gamma and beta are 1×d rows."""
    X, gamma, beta = mc.Matrix("X", "B", "d"), mc.Matrix("gamma", 1, "d"), mc.Matrix("beta", 1, "d")
    centred = X - mc.mean(X, axis=1)
    var = mc.mean(centred * centred, axis=1)
    return centred / mc.sqrt(var + EPS) * gamma + beta, ["X", "gamma", "beta"]


def dense_tanh():
    """Y = tanh(W X + b): W n×k, X k×B, b n×1."""
    W, X, b = mc.Matrix("W", "n", "k"), mc.Matrix("X", "k", "B"), mc.Vector("b", "n")
    return mc.tanh(W @ X + b), ["W", "X", "b"]


def sample(exprs, sizes: dict, seed: int) -> dict[str, np.ndarray]:
    """Values for the symbols of random expressions (tests/strategies.py): uniform in [-1, 1],
    and symmetric positive definite for the S… symbols that det, logdet and inv take."""
    rng = np.random.default_rng(seed)
    out = {}
    for name, sym in sorted(symbols_of(list(exprs)).items()):
        rows, cols = (d.value(sizes) for d in sym.shape)
        if name.startswith("S"):
            a = rng.uniform(-1, 1, size=(rows, rows))
            out[name] = a @ a.T + rows * np.eye(rows)
        else:
            out[name] = rng.uniform(-1, 1, size=(rows, cols))
    return out


def close(got, want, rtol: float = 1e-8) -> None:
    """Equal shapes, and equal values up to rtol of the larger magnitude (NaN matches NaN)."""
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    assert got.shape == want.shape, (got.shape, want.shape)
    finite = np.concatenate([np.abs(got[np.isfinite(got)]), np.abs(want[np.isfinite(want)])])
    scale = max(1.0, float(np.max(finite, initial=0.0)))
    np.testing.assert_allclose(got, want, rtol=0, atol=rtol * scale, equal_nan=True)
