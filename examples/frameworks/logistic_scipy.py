"""L2-regularised logistic regression fitted with SciPy from its matcalc loss.

    python examples/frameworks/logistic_scipy.py       (needs: pip install '.[scipy]')

L(w, b) = Σᵢ softplus(−yᵢ(xᵢᵀw + b)) + ½λ‖w‖², with labels yᵢ = ±1. mc.objective gives fun, jac
and hessp over the packed vector [w; b]. A Newton method (trust-ncg) needs a handful of
iterations; its Hessian-vector products reuse the sample weights σ′ computed once per iterate.
Where scikit-learn is installed, its LogisticRegression (C = 1/λ) is the reference.
"""

from __future__ import annotations

import sys

import numpy as np

import matcalc as mc


def logistic_loss(lam: float):
    X, y = mc.Matrix("X", "m", "n"), mc.Vector("y", "m")
    w, b = mc.Vector("w", "n"), mc.Scalar("b")
    return mc.sum(mc.softplus(-y * (X @ w + b))) + 0.5 * lam * (w.T @ w)


def main() -> int:
    rng = np.random.default_rng(1)
    m, n, lam = 2000, 20, 1.0
    X = rng.normal(size=(m, n))
    y = np.where(X @ rng.normal(size=n) - 0.3 + rng.normal(size=m) > 0, 1.0, -1.0)
    L = logistic_loss(lam)
    print("L      =", L)
    print("∂L/∂w  =", mc.grad(L, "w"))
    obj = mc.objective(L, ["w", "b"], values={"X": X, "y": y})
    print(obj)
    fits = {}
    for method in ("trust-ncg", "Newton-CG", "L-BFGS-B"):
        res = obj.minimize(method=method)
        fits[method] = res.params
        print(f"{method:10s} {res.nit:3d} iterations, L = {res.fun:.6f}, "
              f"max |∇L| = {np.max(np.abs(obj.jac(res.x))):.1e}")
    best = fits["trust-ncg"]
    try:
        from sklearn.linear_model import LogisticRegression
    except ImportError:
        print("scikit-learn is not installed: no reference fit")
        return 0
    ref = LogisticRegression(C=1 / lam, tol=1e-10, max_iter=10_000).fit(X, y)
    error = max(float(np.max(np.abs(best["w"][:, 0] - ref.coef_[0]))),
                abs(float(best["b"][0, 0] - ref.intercept_[0])))
    print(f"scikit-learn LogisticRegression(C=1/λ): max |(w, b) - reference| = {error:.1e}")
    if error > 1e-5:
        print("the fit does not match scikit-learn's", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
