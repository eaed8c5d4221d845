"""matcalc's performance, measured side by side with other engines in one run.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/run.py [--quick]

(Unsetting the two variables lets OpenBLAS pick its kernel for this CPU; the machine header
names the kernel it runs.) Prints progress to stderr and one table to stdout:

a. derivation: deriving and simplifying the 2L gradients of an L-layer tanh MLP with biases,
   time and result size, against SymPy's MatrixSymbol .diff (in a subprocess with a timeout)
   and pytensor.grad (graph construction only);
b. evaluation: the compiled loss and gradients of a 4-layer MLP (width 256, batch 64, float64)
   against hand-written NumPy, PyTorch CPU autograd and PyTensor's compiled gradient;
c. Hessians at n = 2048: the compiled closed form against torch.func.hessian and jax.hessian;
d. verification: the directional check of a 1000×1000 weight's gradient.

Every comparison is timed in the same loop: the contestants take turns (the order rotates),
and each reports the median of its turns. Ratios are the other engine's time over matcalc's.
Optional engines (torch, pytensor, jax) that are not installed are reported as such.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import models

import matcalc as mc
from matcalc.printing import short

START = time.perf_counter()
ROWS: list[dict] = []


def progress(message: str) -> None:
    print(f"[{time.perf_counter() - START:6.1f} s] {message}", file=sys.stderr, flush=True)


def optional(name: str):
    try:
        return __import__(name)
    except Exception:  # noqa: BLE001 - a broken install may raise anything: count it as absent
        return None


def fmt_time(t: float | None) -> str:
    if t is None:
        return "—"
    if t < 1e-3:
        return f"{t * 1e6:.0f} µs"
    if t < 1:
        return f"{t * 1e3:.1f} ms" if t < 0.1 else f"{t * 1e3:.0f} ms"
    return f"{t:.2f} s"


def row(task, size, ours, other="", theirs="", ratio=None, target="", status=""):
    ROWS.append({"task": task, "size": size, "ours": ours, "other": other, "theirs": theirs,
                 "ratio": "" if ratio is None else f"{ratio:.2f}×", "target": target,
                 "status": status})


def verdict(ok: bool | None) -> str:
    return {True: "met", False: "MISSED", None: "n/a"}[ok]


def take_turns(contestants: dict, repeats: int) -> dict[str, float]:
    """Median seconds per contestant; each contestant() returns the seconds of one timed turn.

    The order of the turns is shuffled in every round (seeded), so no contestant always follows
    the same one, and a short pause before each turn lets the previous engine's worker threads
    go idle (an engine whose threads still spin would slow the next one down)."""
    samples: dict[str, list[float]] = {k: [] for k in contestants}
    names = list(contestants)
    rng = np.random.default_rng(0)
    for _ in range(repeats):
        for i in rng.permutation(len(names)):
            gc.collect()
            time.sleep(0.02)
            samples[names[i]].append(contestants[names[i]]())
    return {k: statistics.median(v) for k, v in samples.items()}


def timed_calls(fn, number: int, warm: bool = True):
    """A contestant: a call to warm up (if warm), then ``number`` timed calls; seconds per call."""

    def turn() -> float:
        if warm:
            fn()
        start = time.perf_counter()
        for _ in range(number):
            fn()
        return (time.perf_counter() - start) / number

    return turn


# --- a. derivation -------------------------------------------------------------------------------

@contextlib.contextmanager
def frozen_heap():
    """The objects alive now (the imported engines' modules and data) are left out of garbage
    collection while the block runs, so that a derivation pays for collecting its own objects
    only, not for scanning the heaps of every engine loaded in this process."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def derive_matcalc(depth: int, weights_only: bool = False):
    holder = {}

    def turn() -> float:
        holder.clear()
        gc.collect()  # the previous turn's nodes are gone: nothing is found already built
        loss, params = models.matcalc_mlp(depth)
        params = params[::2] if weights_only else params
        with frozen_heap():
            start = time.perf_counter()
            grads = mc.grad(loss, params)
            elapsed = time.perf_counter() - start
        holder["size"] = mc.count_nodes(*grads)
        return elapsed

    return turn, holder


def on_deep_stack(fn):
    """fn() on a thread with a 512 MB stack and a raised recursion limit, for recursive walks."""
    result: dict = {}

    def work():
        old = sys.getrecursionlimit()
        sys.setrecursionlimit(200_000)
        try:
            result["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller, who re-raises it
            result["error"] = exc
        finally:
            sys.setrecursionlimit(old)

    old_size = threading.stack_size(512 * 1024 * 1024)
    try:
        t = threading.Thread(target=work)
        t.start()
        t.join()
    finally:
        threading.stack_size(old_size)
    if "error" in result:
        raise result["error"]
    return result["value"]


def derive_pytensor(depth: int, weights_only: bool = False):
    """PyTensor's graph walks recurse: deep graphs run on a deep stack (see recursion_probe)."""
    import pytensor

    holder = {}

    def timed() -> float:
        loss, params, _ = models.pytensor_mlp(depth)
        params = params[::2] if weights_only else params
        with frozen_heap():
            start = time.perf_counter()
            grads = pytensor.grad(loss, params)
            elapsed = time.perf_counter() - start
        holder["size"] = models.pytensor_size(grads)
        return elapsed

    return (lambda: on_deep_stack(timed)), holder


def recursion_probe(depth: int) -> str:
    """Whether pytensor.grad works at Python's default recursion limit."""
    import pytensor

    loss, params, _ = models.pytensor_mlp(depth)
    try:
        pytensor.grad(loss, params)
    except RecursionError:
        return " (at Python's default recursion limit it raises RecursionError)"
    return ""


def derive_sympy(depth: int, timeout: float) -> dict:
    cmd = [sys.executable, str(HERE / "models.py"), "sympy", str(depth)]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"error": f"no result within {timeout:.0f} s"}
    try:
        return json.loads(out.stdout.strip().splitlines()[-1])
    except (json.JSONDecodeError, IndexError):
        return {"error": f"failed: {out.stderr.strip().splitlines()[-1:]}"}


DEEP_LIMIT = 0.5  # seconds: the derivation at L = 1000 should take at most this long
DEEP_TARGET = f"at most {DEEP_LIMIT:g} s"


def section_derivation(depths, quick: bool) -> None:
    have_pt = optional("pytensor") is not None
    sympy_failed: list[int] = []
    sympy_skipped: list[int] = []
    times, sizes = {}, {}
    for depth in depths:
        progress(f"a. derivation, L = {depth}")
        repeats = 3 if quick else (9 if depth <= 16 else 5 if depth <= 256 else 3)
        ours, ours_size = derive_matcalc(depth)
        contestants = {"matcalc": ours}
        if have_pt:
            theirs, their_size = derive_pytensor(depth)
            contestants["pytensor"] = theirs
        med = take_turns(contestants, repeats)
        times[depth], sizes[depth] = med["matcalc"], ours_size["size"]
        ours_text = f"{fmt_time(med['matcalc'])} ({ours_size['size']:,} nodes)"
        task = "derive + simplify 2L gradients, tanh MLP"
        if have_pt:
            ratio = med["pytensor"] / med["matcalc"]
            target, status = "", ""
            if depth == 64:
                target, status = "≥ 2× faster than pytensor.grad", verdict(ratio >= 2)
            elif depth == 1000:
                target, status = DEEP_TARGET, verdict(med["matcalc"] <= DEEP_LIMIT)
            note = recursion_probe(depth) if depth == depths[-1] else ""
            row(task, f"L = {depth}", ours_text, "pytensor.grad (graph only)",
                f"{fmt_time(med['pytensor'])} ({their_size['size']:,} vars){note}", ratio, target,
                status)
        elif depth == 64:
            row(task, f"L = {depth}", ours_text, "pytensor.grad", "not installed here", None,
                "≥ 2× faster than pytensor.grad", "n/a")
        elif depth == 1000:
            row(task, f"L = {depth}", ours_text, target=DEEP_TARGET,
                status=verdict(med["matcalc"] <= DEEP_LIMIT))
        if len(sympy_failed) < 2:  # after two depths that raise, larger ones are not tried
            progress(f"a. derivation, L = {depth}: SymPy (subprocess)")
            res = derive_sympy(depth, timeout=20 if quick else 60)
            if "error" in res:
                sympy_failed.append(depth)
                theirs_text, ratio = f"raises: {res['error']}", None
            else:
                theirs_text = f"{fmt_time(res['time'])} ({res['size']:,} tree nodes)"
                ratio = res["time"] / med["matcalc"]
            row(task, f"L = {depth}", ours_text, "SymPy MatrixSymbol .diff", theirs_text, ratio)
        else:
            sympy_skipped.append(depth)
    if sympy_skipped:
        row("derive + simplify 2L gradients, tanh MLP",
            "L = " + ", ".join(map(str, sympy_skipped)), "(above)", "SymPy MatrixSymbol .diff",
            f"not tried: it raised at L = {', '.join(map(str, sympy_failed))}")
    if have_pt and 64 in depths:
        progress("a. derivation, L = 64, weights only")
        ours, ours_size = derive_matcalc(64, weights_only=True)
        theirs, their_size = derive_pytensor(64, weights_only=True)
        med = take_turns({"matcalc": ours, "pytensor": theirs}, 3 if quick else 7)
        row("derive + simplify L weight gradients only", "L = 64",
            f"{fmt_time(med['matcalc'])} ({ours_size['size']:,} nodes)",
            "pytensor.grad (graph only)",
            f"{fmt_time(med['pytensor'])} ({their_size['size']:,} vars)",
            med["pytensor"] / med["matcalc"])
    small, big = depths[-3], depths[-1]
    per_layer = [times[d] / d for d in (small, big)]
    nodes = [(sizes[d] - sizes[depths[0]]) / (d - depths[0]) for d in (small, big)]
    linear = per_layer[1] <= 1.5 * per_layer[0] and abs(nodes[1] - nodes[0]) <= 0.01 * nodes[0]
    row("derivation cost per layer", f"L = {small} → {big}",
        f"{fmt_time(per_layer[0])} → {fmt_time(per_layer[1])} per layer; "
        f"{nodes[0]:.1f} → {nodes[1]:.1f} nodes per layer", "", "", None,
        "linear in L (per-layer time within 1.5×)", verdict(linear))


# --- b. evaluation -------------------------------------------------------------------------------

def section_evaluation(quick: bool) -> None:
    depth, width, batch = 4, 256, 64
    size = f"L = {depth}, {width}×{width}, batch {batch}"
    progress("b. evaluation: deriving and compiling")
    loss, params = models.matcalc_mlp(depth)
    outs = [loss] + mc.grad(loss, params)
    start = time.perf_counter()
    f = mc.compile(outs)
    compile_time = time.perf_counter() - start
    vals = models.mlp_values(depth, width, batch)
    want = f(**vals)

    def agree(got) -> None:
        for g, w in zip(got, want):
            np.testing.assert_allclose(np.asarray(g, dtype=float).reshape(w.shape), w,
                                       rtol=1e-9, atol=1e-9)

    contestants = {"matcalc": timed_calls(lambda: f(**vals), 20)}
    agree(models.numpy_mlp(vals, depth))
    contestants["numpy"] = timed_calls(lambda: models.numpy_mlp(vals, depth), 20)
    torch = optional("torch")
    if torch is not None:
        run_torch = models.torch_mlp(vals, depth)
        agree([t.detach().numpy() for t in run_torch()])
        contestants["torch"] = timed_calls(run_torch, 20)
        ft = mc.compile(outs, backend="torch")
        tvals = {k: torch.from_numpy(v) for k, v in vals.items()}
        agree([t.numpy() for t in ft(**tvals)])
        contestants["matcalc→torch"] = timed_calls(lambda: ft(**tvals), 20)
    pytensor = optional("pytensor")
    if pytensor is not None:
        progress("b. evaluation: compiling the PyTensor gradient (default mode and NUMBA)")
        for key, mode in (("pytensor", None), ("pytensor-numba", "NUMBA")):
            ploss, pparams, X = models.pytensor_mlp(depth)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the warning that no BLAS is linked to its C code
                pf = pytensor.function([X] + pparams, [ploss] + pytensor.grad(ploss, pparams),
                                       mode=mode)
            pf.trust_input = True  # its fastest call: no input conversion
            pargs = [vals["X"]] + [vals[p.name] for p in pparams]
            agree(pf(*pargs))
            contestants[key] = timed_calls(lambda pf=pf, pargs=pargs: pf(*pargs), 20)
    jax = optional("jax")
    if jax is not None:
        import jax.numpy as jnp

        jx = jax.jit(mc.compile(outs, backend="jax")._fn)
        jvals = {k: jnp.asarray(v) for k, v in vals.items()}
        agree(jx(**jvals))
        contestants["matcalc→jax.jit"] = timed_calls(
            lambda: jax.block_until_ready(jx(**jvals)), 20)
    progress(f"b. evaluation: timing {', '.join(contestants)}")
    med = take_turns(contestants, 7 if quick else 25)
    ours = fmt_time(med["matcalc"])
    task = "compiled loss + 8 gradients (float64)"
    r = med["numpy"] / med["matcalc"]
    row(task, size, ours, "hand-written NumPy backward", fmt_time(med["numpy"]), r,
        "within 1.1× of NumPy", verdict(med["matcalc"] <= 1.1 * med["numpy"]))
    if "pytensor" in med:  # compared with the faster of its two modes
        fast = min(("pytensor", "pytensor-numba"), key=med.get)
        med["pytensor-best"] = med[fast]
        pytensor_label = "PyTensor compiled gradient, " + (
            "default mode (C; pip build links no BLAS)" if fast == "pytensor" else "mode=NUMBA")
    for key, label, target in (("torch", "PyTorch CPU autograd", "faster than PyTorch"),
                               ("pytensor-best",
                                pytensor_label if "pytensor" in med else "PyTensor",
                                "faster than PyTensor")):
        if key in med:
            r = med[key] / med["matcalc"]
            row(task, size, ours, label, fmt_time(med[key]), r, target, verdict(r > 1))
        else:
            row(task, size, ours, label, "not installed here", None, target, "n/a")
    if "pytensor" in med:
        slow = "pytensor-numba" if fast == "pytensor" else "pytensor"
        row(task, size, ours, "PyTensor, its other mode" + (
            " (NUMBA)" if slow == "pytensor-numba" else " (default, C)"), fmt_time(med[slow]),
            med[slow] / med["matcalc"])
    for key, label in (("matcalc→torch", "same code, torch backend"),
                       ("matcalc→jax.jit", "same code, jax backend under jax.jit")):
        if key in med:
            row(task, size, ours, label, fmt_time(med[key]), med[key] / med["matcalc"])
    row("compile (source + exec), once", size, fmt_time(compile_time))


# --- c. Hessians ---------------------------------------------------------------------------------

def section_hessians(quick: bool) -> None:
    n, m = (512, 512) if quick else (2048, 2048)
    vals = models.hessian_values(n, m)
    torch, jax = optional("torch"), optional("jax")
    problems = {
        "xᵀAx": (models.matcalc_quadratic, ("x", "A"),
                 lambda v: models.torch_quadratic(v["A"]), lambda v: (lambda x: x @ v["A"] @ x),
                 "x"),
        "logistic loss": (models.matcalc_logistic, ("w", "X", "y"),
                          lambda v: models.torch_logistic(v["X"], v["y"]),
                          lambda v: (lambda w: jnp_logistic(w, v["X"], v["y"])), "w"),
    }
    for title, (build, names, torch_fn, jax_fn, var) in problems.items():
        progress(f"c. Hessian of {title}: deriving and compiling")
        L, x = build()
        start = time.perf_counter()
        H = mc.hessian(L, x)
        derive = time.perf_counter() - start
        f = mc.compile(H)
        args = {k: vals[k] for k in names}
        want = f(**args)
        contestants = {"matcalc": timed_calls(lambda f=f, args=args: f(**args), 1, warm=False)}
        if torch is not None:
            tv = {k: torch.from_numpy(v[:, 0] if k in ("x", "w", "y") else v)
                  for k, v in args.items()}
            th = torch.func.hessian(torch_fn(tv))
            np.testing.assert_allclose(th(tv[var]).numpy(), want, rtol=1e-8, atol=1e-8)
            contestants["torch"] = timed_calls(lambda th=th, x=tv[var]: th(x), 1, warm=False)
        if jax is not None:
            import jax.numpy as jnp

            jv = {k: jnp.asarray(v[:, 0] if k in ("x", "w", "y") else v) for k, v in args.items()}
            jh = jax.jit(jax.hessian(jax_fn(jv)))
            np.testing.assert_allclose(np.asarray(jh(jv[var])), want, rtol=1e-8, atol=1e-8)
            contestants["jax"] = timed_calls(
                lambda jh=jh, x=jv[var]: jax.block_until_ready(jh(x)), 1, warm=False)
        progress(f"c. Hessian of {title}: timing {', '.join(contestants)}")
        med = take_turns(contestants, 3 if quick or title != "xᵀAx" else 5)
        size = f"n = {n}" + (f", m = {m} samples" if "X" in names else "")
        ours = f"{fmt_time(med['matcalc'])} (H = {short(H, 40)})"
        target = "≥ 8× faster than torch.func.hessian"
        if "torch" in med:
            r = med["torch"] / med["matcalc"]
            row(f"Hessian of {title}", size, ours, "torch.func.hessian", fmt_time(med["torch"]),
                r, target, verdict(r >= 8))
        else:
            row(f"Hessian of {title}", size, ours, "torch.func.hessian", "not installed here",
                None, target, "n/a")
        if "jax" in med:
            row(f"Hessian of {title}", size, ours, "jax.jit(jax.hessian)", fmt_time(med["jax"]),
                med["jax"] / med["matcalc"])
        row(f"Hessian of {title}: derive (symbolic, once)", "any n", fmt_time(derive))


def jnp_logistic(w, X, y):
    import jax.numpy as jnp

    return jnp.sum(jnp.log(1 + jnp.exp(-y * (X.T @ w))))


# --- d. verification -----------------------------------------------------------------------------

def section_verification(quick: bool) -> None:
    n, batch = (300, 16) if quick else (1000, 32)
    progress(f"d. directional check of a {n}×{n} weight's gradient")
    W, X = mc.Matrix("W", "n", "n"), mc.Matrix("X", "n", "B")
    L = mc.sum(mc.tanh(W @ X))
    times, report = [], None
    for _ in range(3):
        start = time.perf_counter()
        report = mc.check(L, "W", dims={"n": n, "B": batch}, method="directional")
        times.append(time.perf_counter() - start)
    (r,) = report.rows
    row("directional gradient check, sum(tanh(W X))", f"W {n}×{n}, batch {batch}",
        f"{fmt_time(statistics.median(times))}, {r.evaluations} evaluations, "
        f"rel. error {r.max_rel_error:.1e}, {r.status}")


# --- the table -----------------------------------------------------------------------------------

def machine() -> list[str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    blas = "unknown"
    tpc = optional("threadpoolctl")
    if tpc is not None:
        infos = [i for i in tpc.threadpool_info() if i.get("user_api") == "blas"]
        blas = "; ".join(f"{i.get('internal_api')} {i.get('version')} ({i.get('architecture')} "
                         f"kernel, {i.get('num_threads')} threads)" for i in infos) or blas
    versions = [f"numpy {np.__version__}"]
    for name in ("sympy", "torch", "pytensor", "jax"):
        mod = optional(name)
        versions.append(f"{name} {getattr(mod, '__version__', '?')}" if mod else
                        f"{name} not installed")
    env = {k: os.environ[k] for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if k in os.environ}
    torch = optional("torch")
    threads = f"; PyTorch threads {torch.get_num_threads()}" if torch is not None else ""
    return [f"machine: {os.cpu_count()} cores, {cpu}, Python {platform.python_version()}",
            f"BLAS: {blas}; OPENBLAS_* set: {env or 'none'}{threads}",
            "versions: " + ", ".join(versions)]


def load() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def print_table() -> None:
    head = ["task", "size", "matcalc", "compared with", "their time", "ratio (them ÷ us)",
            "target", "status"]
    keys = ["task", "size", "ours", "other", "theirs", "ratio", "target", "status"]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    for r in ROWS:
        lines.append("| " + " | ".join(str(r[k]).replace("|", "/") for k in keys) + " |")
    print("\n".join(lines))


def setup(description: str) -> argparse.Namespace:
    """The options every benchmark takes (--quick, --threads), applied: BLAS and PyTorch threads
    limited as asked, JAX in float64 as the others."""
    parser = argparse.ArgumentParser(description=description.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, fewer repeats")
    parser.add_argument("--threads", type=int, default=None,
                        help="BLAS and PyTorch threads (default: all cores)")
    opt = parser.parse_args()
    if opt.threads:
        tpc, torch = optional("threadpoolctl"), optional("torch")
        if tpc is not None:
            tpc.threadpool_limits(limits=opt.threads)
        if torch is not None:
            torch.set_num_threads(opt.threads)
    jax = optional("jax")
    if jax is not None:
        jax.config.update("jax_enable_x64", True)  # float64, as the others
    return opt


def main() -> None:
    opt = setup(__doc__)
    info = machine()
    for line in info:
        progress(line)
    load_before = load()
    progress(f"load average before: {load_before} (other work on the machine skews every time)")
    depths = [1, 4, 16, 64, 256] if opt.quick else [1, 4, 16, 64, 256, 1000]
    section_derivation(depths, opt.quick)
    section_evaluation(opt.quick)
    section_hessians(opt.quick)
    section_verification(opt.quick)
    progress("done")
    print("\n".join(info))
    print(f"load average (1, 5, 15 min) before: {load_before}; after: {load()}")
    print(f"command: python benchmarks/run.py{' '.join([''] + sys.argv[1:])}; "
          f"total {time.perf_counter() - START:.0f} s; each time is the median of interleaved "
          f"turns")
    print()
    print_table()


if __name__ == "__main__":
    main()
