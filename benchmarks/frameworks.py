"""matcalc's derived gradients inside SciPy, PyTorch and JAX, measured side by side in one run.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/frameworks.py [--quick]

a. time to optimum: L2-regularised logistic regression (n = 2048 features, m = 2048 samples)
   fitted by scipy.optimize.minimize (L-BFGS-B, trust-ncg, Newton-CG) with matcalc's
   objective (fun, jac, hessp) against the same optimizer fed by jax.jit(jax.value_and_grad)
   with a jitted forward-over-reverse Hessian-vector product, and by torch autograd with
   torch.func's Hessian-vector product;
b. the exported layer: a layer norm (B = 2048 rows of d = 1024, float64) as a
   torch.autograd.Function from mc.export, its backward pass against torch autograd of the same
   formula in torch ops and against PyTorch's fused F.layer_norm; and the same layer under
   jax.jit(jax.grad) against JAX's autodiff of the same formula.

The turns, medians and ratios (their time ÷ matcalc's) are those of benchmarks/run.py, whose
helpers this script uses; times are never asserted.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run  # the shared harness: turns, medians, the table
from run import fmt_time, optional, progress, row, take_turns, timed_calls

import matcalc as mc

LAMBDA = 1.0
EPS = 1e-5


# --- a. time to optimum ------------------------------------------------------------------------

def logistic_problem(n: int, m: int, seed: int = 0):
    """The matcalc loss and its data: L(w) = Σ softplus(−y ⊙ Xᵀw) + ½λ‖w‖², X n×m."""
    w, X, y = mc.Vector("w", "n"), mc.Matrix("X", "n", "m"), mc.Vector("y", "m")
    L = mc.sum(mc.softplus(-y * (X.T @ w))) + 0.5 * LAMBDA * (w.T @ w)
    rng = np.random.default_rng(seed)
    Xv = rng.normal(size=(n, m)) / np.sqrt(n)
    yv = np.where(Xv.T @ rng.normal(size=n) + 0.3 * rng.normal(size=m) > 0, 1.0, -1.0)
    return L, {"X": Xv, "y": yv.reshape(-1, 1)}


def jax_objective(data: dict):
    """fun-and-jac and hessp for SciPy from jax.jit(jax.value_and_grad) and jvp of grad."""
    import jax
    import jax.numpy as jnp

    X, y = jnp.asarray(data["X"]), jnp.asarray(data["y"][:, 0])

    def loss(w):
        return jnp.sum(jnp.logaddexp(0.0, -y * (X.T @ w))) + 0.5 * LAMBDA * (w @ w)

    value_and_grad = jax.jit(jax.value_and_grad(loss))
    hvp = jax.jit(lambda w, p: jax.jvp(jax.grad(loss), (w,), (p,))[1])

    def fun(x):
        v, g = value_and_grad(x)
        return float(v), np.asarray(g, dtype=np.float64)

    return fun, lambda x, p: np.asarray(hvp(x, p), dtype=np.float64)


def torch_objective(data: dict):
    """fun-and-jac by torch autograd, hessp by torch.func (forward over reverse)."""
    import torch

    X, y = torch.from_numpy(data["X"]), torch.from_numpy(data["y"][:, 0])

    def loss(w):
        return torch.nn.functional.softplus(-y * (X.T @ w)).sum() + 0.5 * LAMBDA * (w @ w)

    def fun(x):
        w = torch.from_numpy(np.array(x, dtype=np.float64)).requires_grad_()
        value = loss(w)
        (g,) = torch.autograd.grad(value, w)
        return value.item(), g.numpy()

    grad = torch.func.grad(loss)

    def hessp(x, p):
        _, hv = torch.func.jvp(grad, (torch.from_numpy(np.asarray(x, dtype=np.float64)),),
                               (torch.from_numpy(np.asarray(p, dtype=np.float64)),))
        return hv.numpy()

    return fun, hessp


def section_optimum(quick: bool) -> None:
    from scipy.optimize import minimize

    n = m = 512 if quick else 2048
    L, data = logistic_problem(n, m)
    progress(f"a. logistic regression, n = m = {n}: deriving and compiling the objective")
    start = time.perf_counter()
    obj = mc.objective(L, "w", values=data)
    built = time.perf_counter() - start
    x0 = np.zeros(n)
    fitters = {"matcalc": lambda method: obj.minimize(x0, method=method)}
    for key, make in (("jax", jax_objective), ("torch", torch_objective)):
        if optional(key) is not None:
            fun, hessp = make(data)
            fitters[key] = (lambda method, fun=fun, hessp=hessp: minimize(
                fun, x0, jac=True, method=method,
                **({"hessp": hessp} if method != "L-BFGS-B" else {})))
    labels = {"jax": "jax.jit(jax.value_and_grad), jvp-of-grad hessp",
              "torch": "torch autograd, torch.func hessp"}
    for method in ("L-BFGS-B", "trust-ncg", "Newton-CG"):
        progress(f"a. {method}: fitting once with each ({', '.join(fitters)}), then timing")
        results = {k: fit(method) for k, fit in fitters.items()}  # warms up the jitted code too
        for res in results.values():  # every contestant reaches the same optimum
            np.testing.assert_allclose(res.x, results["matcalc"].x, rtol=1e-3, atol=1e-4)
        med = take_turns({k: timed_calls(lambda fit=fit, method=method: fit(method), 1,
                                         warm=False) for k, fit in fitters.items()},
                         3 if quick else 7)
        ours = results["matcalc"]
        ours_text = (f"{fmt_time(med['matcalc'])} ({ours.nit} iterations, "
                     f"{ours.nfev} fun, {ours.get('nhev', 0)} hessp)")
        for key in ("jax", "torch"):
            size = f"n = m = {n}, {method}"
            task = "logistic regression: time to optimum (scipy.optimize.minimize)"
            if key in med:
                theirs = results[key]
                row(task, size, ours_text, labels[key],
                    f"{fmt_time(med[key])} ({theirs.nit} iterations, {theirs.nfev} fun, "
                    f"{theirs.get('nhev', 0)} hessp)", med[key] / med["matcalc"])
            else:
                row(task, size, ours_text, labels[key], "not installed here")
    row("logistic regression: mc.objective (derive + compile), once", f"n = m = {n}",
        fmt_time(built))
    per_call(obj, data, n, quick)


def per_call(obj, data: dict, n: int, quick: bool) -> None:
    """One loss-and-gradient, and one Hessian-vector product, at points that change each call
    (a value kept for the last x would otherwise answer); hessp also at a fixed x, as the
    conjugate-gradient steps of Newton-CG and trust-ncg call it."""
    rng = np.random.default_rng(1)
    xs, ps = rng.normal(size=(4, n)) * 0.1, rng.normal(size=(4, n))
    funs = {"matcalc": (obj.value_and_grad, obj.hessp)}
    for key, make in (("jax", jax_objective), ("torch", torch_objective)):
        if optional(key) is not None:
            funs[key] = make(data)

    def cycling(fn, mode: str):
        """fn(x_k) ("x"), fn(x_k, p_k) ("xp") or fn(x_0, p_k) ("p"), k cycling over 4 points."""
        state = {"k": 0}

        def call():
            k = state["k"] = (state["k"] + 1) % 4
            return fn(xs[k]) if mode == "x" else fn(xs[k if mode == "xp" else 0], ps[k])

        return call

    size = f"n = m = {n}"
    for task, pick, mode in (("one loss + gradient (x changes every call)", 0, "x"),
                             ("one Hessian-vector product, x and p change", 1, "xp"),
                             ("one Hessian-vector product, same x, p changes", 1, "p")):
        for pair in funs.values():  # a warm-up call: the jitted code is compiled here
            cycling(pair[pick], mode)()
        med = take_turns({k: timed_calls(cycling(pair[pick], mode), 20)
                          for k, pair in funs.items()}, 5 if quick else 11)
        for key in ("jax", "torch"):
            label = {"jax": "jax.jit(value_and_grad) / jit(jvp of grad)",
                     "torch": "torch autograd / torch.func jvp of grad"}[key]
            if key in med:
                row(f"logistic regression: {task}", size, fmt_time(med["matcalc"]), label,
                    fmt_time(med[key]), med[key] / med["matcalc"])


# --- b. the exported layer ---------------------------------------------------------------------

def layer_norm_expression():
    X, gamma, beta = mc.Matrix("X", "B", "d"), mc.Matrix("gamma", 1, "d"), mc.Matrix("beta", 1, "d")
    centred = X - mc.mean(X, axis=1)
    var = mc.mean(centred * centred, axis=1)
    return centred / mc.sqrt(var + EPS) * gamma + beta


def torch_layer_norm(x, gamma, beta):
    centred = x - x.mean(dim=1, keepdim=True)
    var = (centred * centred).mean(dim=1, keepdim=True)
    return centred / (var + EPS).sqrt() * gamma + beta


def section_torch_layer(quick: bool) -> None:
    torch = optional("torch")
    B, d = (512, 256) if quick else (2048, 1024)
    size = f"B = {B}, d = {d}, float64"
    if torch is None:
        row("layer norm backward (torch)", size, "", "torch", "not installed here")
        return
    progress("b. layer norm in torch: exporting")
    start = time.perf_counter()
    LN = mc.export(layer_norm_expression(), ["X", "gamma", "beta"], backend="torch")
    built = time.perf_counter() - start
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(B, d, generator=gen, dtype=torch.float64, requires_grad=True)
    g = torch.randn(d, generator=gen, dtype=torch.float64, requires_grad=True)
    b = torch.randn(d, generator=gen, dtype=torch.float64, requires_grad=True)
    up = torch.randn(B, d, generator=gen, dtype=torch.float64)
    forwards = {"matcalc": lambda: LN.apply(x, g, b),
                "formula": lambda: torch_layer_norm(x, g, b),
                "fused": lambda: torch.nn.functional.layer_norm(x, (d,), g, b, eps=EPS)}
    outs = {k: f() for k, f in forwards.items()}
    want = torch.autograd.grad(outs["fused"], (x, g, b), up, retain_graph=True)
    for y in outs.values():
        for got, ref in zip(torch.autograd.grad(y, (x, g, b), up, retain_graph=True), want):
            np.testing.assert_allclose(got.numpy(), ref.numpy(), rtol=1e-8, atol=1e-8)

    def backward(y):
        return timed_calls(lambda: torch.autograd.grad(y, (x, g, b), up, retain_graph=True), 5)

    def both(f):
        return timed_calls(lambda: torch.autograd.grad(f(), (x, g, b), up), 5)

    progress("b. layer norm in torch: timing the backward, then forward + backward")
    med = take_turns({k: backward(y) for k, y in outs.items()}, 5 if quick else 15)
    full = take_turns({k: both(f) for k, f in forwards.items()}, 5 if quick else 15)
    labels = {"formula": "torch autograd, same formula in torch ops",
              "fused": "torch autograd, F.layer_norm (fused kernel)"}
    for task, times in (("layer norm backward: mc.export torch.autograd.Function", med),
                        ("layer norm forward + backward: mc.export torch.autograd.Function",
                         full)):
        for key in ("formula", "fused"):
            row(task, size, fmt_time(times["matcalc"]), labels[key], fmt_time(times[key]),
                times[key] / times["matcalc"])
    row("layer norm: mc.export to torch (derive + 8 plans), once", "any size", fmt_time(built))


def section_jax_layer(quick: bool) -> None:
    jax = optional("jax")
    B, d = (512, 256) if quick else (2048, 1024)
    size = f"B = {B}, d = {d}, float64"
    if jax is None:
        row("layer norm under jax.jit(jax.grad)", size, "", "jax", "not installed here")
        return
    import jax.numpy as jnp

    progress("b. layer norm in JAX: exporting and compiling")
    f = mc.export(layer_norm_expression(), ["X", "gamma", "beta"], backend="jax")

    def formula(x, gamma, beta):
        centred = x - jnp.mean(x, axis=1, keepdims=True)
        var = jnp.mean(centred * centred, axis=1, keepdims=True)
        return centred / jnp.sqrt(var + EPS) * gamma + beta

    rng = np.random.default_rng(0)
    args = [jnp.asarray(rng.normal(size=s)) for s in ((B, d), (1, d), (1, d))]
    up = jnp.asarray(rng.normal(size=(B, d)))
    grads = {k: jax.jit(jax.grad(lambda x, g, b, fn=fn: jnp.sum(fn(x, g, b) * up),
                                 argnums=(0, 1, 2)))
             for k, fn in (("matcalc", f), ("jax", formula))}
    for got, ref in zip(grads["matcalc"](*args), grads["jax"](*args)):
        np.testing.assert_allclose(np.asarray(got), np.asarray(ref), rtol=1e-8, atol=1e-8)
    progress("b. layer norm in JAX: timing")
    med = take_turns({k: timed_calls(lambda gr=gr: jax.block_until_ready(gr(*args)), 5)
                      for k, gr in grads.items()}, 5 if quick else 15)
    row("layer norm forward + backward: mc.export jax.custom_vjp under jax.jit(jax.grad)", size,
        fmt_time(med["matcalc"]), "jax.jit(jax.grad) of the same formula in jax.numpy",
        fmt_time(med["jax"]), med["jax"] / med["matcalc"])


def main() -> None:
    opt = run.setup(__doc__)
    info = run.machine()
    scipy = optional("scipy")
    info[-1] += f", scipy {getattr(scipy, '__version__', 'not installed')}"
    for line in info:
        progress(line)
    load_before = run.load()
    section_optimum(opt.quick)
    section_torch_layer(opt.quick)
    section_jax_layer(opt.quick)
    progress("done")
    print("\n".join(info))
    print(f"load average (1, 5, 15 min) before: {load_before}; after: {run.load()}")
    print(f"command: python benchmarks/frameworks.py{' '.join([''] + sys.argv[1:])}; "
          f"total {time.perf_counter() - run.START:.0f} s; each time is the median of "
          f"interleaved turns")
    print()
    run.print_table()


if __name__ == "__main__":
    main()
