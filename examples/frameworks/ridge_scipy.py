"""Ridge regression fitted with SciPy from its matcalc loss, checked against the closed form.

    python examples/frameworks/ridge_scipy.py          (needs: pip install '.[scipy]')

L(w) = ½‖Xw − y‖² + ½λ‖w‖². matcalc derives ∇L = Xᵀ(Xw − y) + λw and the Hessian XᵀX + λI;
mc.objective packs them for scipy.optimize.minimize, and every method lands on the closed-form
solution w* = (XᵀX + λI)⁻¹Xᵀy.
"""

from __future__ import annotations

import sys

import numpy as np

import matcalc as mc


def ridge_loss(lam: float):
    X, y, w = mc.Matrix("X", "m", "n"), mc.Vector("y", "m"), mc.Vector("w", "n")
    r = X @ w - y
    return 0.5 * (r.T @ r) + 0.5 * lam * (w.T @ w), w


def main() -> int:
    rng = np.random.default_rng(0)
    m, n, lam = 200, 12, 0.5
    X = rng.normal(size=(m, n))
    y = X @ rng.normal(size=(n, 1)) + 0.1 * rng.normal(size=(m, 1))
    L, w = ridge_loss(lam)
    print("L       =", L)
    print("∇L      =", mc.grad(L, w))
    print("∇²L     =", mc.hessian(L, w))
    closed = np.linalg.solve(X.T @ X + lam * np.eye(n), X.T @ y)
    obj = mc.objective(L, "w", values={"X": X, "y": y})
    worst = 0.0
    for method, options in (("L-BFGS-B", {"ftol": 1e-15, "gtol": 1e-10}),
                            ("Newton-CG", {"xtol": 1e-12}),
                            ("trust-ncg", {"gtol": 1e-10}),
                            ("trust-exact", {"gtol": 1e-10})):
        res = obj.minimize(method=method, options=options)
        error = float(np.max(np.abs(res.params["w"] - closed)))
        worst = max(worst, error)
        print(f"{method:12s} {res.nit:3d} iterations, {res.nfev:3d} loss evaluations, "
              f"max |w - w*| = {error:.1e}")
    if worst > 1e-6:
        print("the fits do not reach the closed-form solution", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
