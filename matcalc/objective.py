"""Objectives for SciPy's optimizers: a matcalc loss, its gradient and Hessian products over one
flat parameter vector.

``objective(L, wrt, values)`` fixes the data (every symbol of L that is not in wrt) and returns an
:class:`Objective` whose ``fun``, ``jac``, ``hessp`` and, where matcalc derives the Hessian in
closed form, ``hess`` take the flat vector x that ``scipy.optimize.minimize`` works on:

    obj = mc.objective(L, ["w", "b"], values={"X": X, "y": y})
    res = scipy.optimize.minimize(obj.fun, obj.pack(), jac=obj.jac, hessp=obj.hessp,
                                  method="trust-ncg")
    w, b = obj.unpack(res.x).values()

x stacks vec(v) for each variable v of wrt in order, vec stacking columns (as matcalc's vec and
the Kronecker-form Hessian blocks do). The loss and the gradient come from one compiled pass, kept
for the last x: scipy's calls fun(x) then jac(x) at the same point cost one pass. A Hessian-vector
product is staged (:mod:`matcalc.staging`): what depends only on x (for the logistic loss, the
weights σ′ of the samples) is computed once per x, and each product with a new p costs only the
part that reads p, which is what Newton-CG and trust-ncg call many times per x.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from .codegen import CompiledFunction
from .codegen import compile as compile_outputs
from .diff import grad, jacobian, resolve_wrt
from .dims import shape_str
from .errors import DifferentiationError, DimensionBindingError, InputError
from .evaluate import bind, symbols_of
from .export_plan import computed_nodes
from .expr import Expr, toposort
from .ops import Matrix, vec
from .ops import sum as sum_
from .staging import split

__all__ = ["HESSP_METHODS", "HESS_METHODS", "Objective", "objective"]

HESSP_METHODS = ("newton-cg", "trust-ncg", "trust-krylov", "trust-constr")
HESS_METHODS = ("dogleg", "trust-exact")  # these need the Hessian itself


class Objective:
    """fun, jac, hessp and hess of a loss over one flat vector; pack and unpack its variables."""

    def __init__(self, L: Expr, wrt: Any, values: Mapping[str, Any] | None = None,
                 dims: Mapping[str, int] | None = None):
        if not isinstance(L, Expr):
            raise InputError(f"objective expects a matcalc expression, got {type(L).__name__}")
        self.variables = _variables(L, wrt)
        self.names = tuple(v.name or "" for v in self.variables)
        data = {k: s for k, s in symbols_of(L).items() if k not in self.names}
        given = dict(values or {})
        clash = sorted(set(given) & set(self.names))
        if clash:
            raise InputError(f"objective: {clash[0]} is a variable (it comes from x), not data")
        self.data, bindings = bind(data, given, dims)
        self.shapes = {v.name or "": _concrete(v, bindings) for v in self.variables}
        self.size = sum(r * c for r, c in self.shapes.values())
        self._dims, self._loss = bindings, L
        # the cheaper of the simplified gradients and the sweep's own (see export_plan.Derivation)
        self.grads = min((grad(L, list(self.variables), simplify=s) for s in (True, False)),
                         key=lambda gs: computed_nodes([L] + gs))
        self._value_and_grad = compile_outputs([L] + self.grads, dims=bindings)
        self._last: tuple[np.ndarray, float, np.ndarray] | None = None
        self._build_hvp()
        self._hess: Callable[[np.ndarray], np.ndarray] | None | bool = False  # False: not yet

    # --- the flat vector ---------------------------------------------------------------------

    def _views(self, x: Any) -> dict[str, np.ndarray]:
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 1 and x.size == self.size:
            x = x.reshape(-1)
        if x.shape != (self.size,):
            raise DimensionBindingError(
                f"the objective's vector has {self.size} entries "
                f"({', '.join(f'{n} {r}×{c}' for n, (r, c) in self.shapes.items())}), got an "
                f"array of shape {x.shape}")
        out, start = {}, 0
        for name, (r, c) in self.shapes.items():
            out[name] = x[start:start + r * c].reshape((r, c), order="F")
            start += r * c
        return out

    def unpack(self, x: Any) -> dict[str, np.ndarray]:
        """Each variable's value (a 2-D array) from the flat vector."""
        return {k: v.copy() for k, v in self._views(x).items()}

    def pack(self, params: Mapping[str, Any] | None = None, **kwargs: Any) -> np.ndarray:
        """The flat vector of the variables' values; a variable not given starts at zero."""
        given = {**dict(params or {}), **kwargs}
        unknown = sorted(set(given) - set(self.names))
        if unknown:
            raise InputError(f"pack: {unknown[0]!r} is not a variable of this objective; they are "
                             f"{', '.join(self.names)}")
        parts = []
        for name, (r, c) in self.shapes.items():
            value = np.asarray(given.get(name, np.zeros((r, c))), dtype=np.float64)
            if value.size == r * c and (value.ndim < 2 or value.shape in ((r, c), (c, r))
                                        and 1 in (r, c)):
                value = value.reshape(r, c)
            if value.shape != (r, c):
                raise DimensionBindingError(f"pack: {name} is {r}×{c}, got an array of shape "
                                            f"{value.shape}")
            parts.append(value.ravel(order="F"))
        return np.concatenate(parts) if parts else np.zeros(0)

    # --- value, gradient, Hessian ------------------------------------------------------------

    def value_and_grad(self, x: Any) -> tuple[float, np.ndarray]:
        """(L(x), ∇L(x)) in one pass; for minimize(..., jac=True)."""
        last = self._last
        if last is not None and np.array_equal(last[0], x):
            return last[1], last[2].copy()
        views = self._views(x)
        out = _run(self._value_and_grad, self.data, views)
        value = float(out[0][0, 0])
        gradient = np.concatenate([g.ravel(order="F") for g in out[1:]]) if out[1:] \
            else np.zeros(0)
        self._last = (np.array(x, dtype=np.float64).reshape(-1), value, gradient)
        return value, gradient.copy()

    def fun(self, x: Any) -> float:
        """L(x), a float (the gradient is computed in the same pass and kept for jac)."""
        return self.value_and_grad(x)[0]

    def jac(self, x: Any) -> np.ndarray:
        """∇L(x) as a flat vector."""
        return self.value_and_grad(x)[1]

    def _build_hvp(self) -> None:
        """Hv = ∇⟨∇L, v⟩, split into the part that reads only x and the part that reads v."""
        taken = set(symbols_of(self._loss)) | set(self.names)
        directions = []
        for v in self.variables:
            stem = f"v_{v.name}"
            while stem in taken:
                stem += "_"
            taken.add(stem)
            directions.append(Matrix(stem, v.rows, v.cols))
        pairing = None  # ⟨∇L, v⟩: an inner product gᵀv for a column, sum(g ⊙ v) otherwise
        for g, p in zip(self.grads, directions):
            term = g.T @ p if g.cols.is_one else sum_(g * p)
            pairing = term if pairing is None else pairing + term
        self._directions = [p.name or "" for p in directions]
        products = grad(pairing, list(self.variables)) if pairing is not None else []
        inputs = list(self.variables) + list(symbols_of(self._loss).values())
        cut = split(products, directions, inputs)
        self._hv_once = compile_outputs(list(cut.residuals), dims=self._dims) \
            if cut.residuals else None
        self._hv_residuals = [s.name or "" for s in cut.symbols]
        self._hv_apply = compile_outputs(list(cut.exprs), dims=self._dims) if cut.exprs else None
        self._hv_last: tuple[np.ndarray, dict[str, np.ndarray]] | None = None

    def hessp(self, x: Any, p: Any) -> np.ndarray:
        """∇²L(x) · p as a flat vector, without forming the Hessian."""
        if self._hv_apply is None:  # no variables: nothing to multiply
            return np.zeros(self.size)
        last = self._hv_last
        if last is None or not np.array_equal(last[0], x):
            views = self._views(x)
            kept = _run(self._hv_once, self.data, views) if self._hv_once is not None else []
            last = self._hv_last = (np.array(x, dtype=np.float64).reshape(-1),
                                    dict(zip(self._hv_residuals, kept)))
        feed = dict(last[1])
        feed.update({d: v for d, v in zip(self._directions, self._views(p).values())})
        out = _run(self._hv_apply, feed)
        return np.concatenate([o.ravel(order="F") for o in out])

    @property
    def hess(self) -> Callable[[np.ndarray], np.ndarray] | None:
        """x -> the dense Hessian (size × size) in closed form, or None where matcalc has none."""
        if self._hess is False:
            self._hess = self._build_hess()
        return self._hess if callable(self._hess) else None

    def _build_hess(self) -> Callable[[np.ndarray], np.ndarray] | None:
        k = len(self.variables)
        blocks: dict[tuple[int, int], Expr] = {}
        try:
            for i in range(k):
                for j in range(i, k):
                    blocks[(i, j)] = jacobian(vec(self.grads[i]), self.variables[j])
        except DifferentiationError:  # an op without a Kronecker-form Jacobian rule
            return None
        keys = list(blocks)
        run = compile_outputs([blocks[key] for key in keys], dims=self._dims)

        def hess(x: Any) -> np.ndarray:
            got = dict(zip(keys, _run(run, self.data, self._views(x))))
            rows = [[got[(i, j)] if i <= j else got[(j, i)].T for j in range(k)]
                    for i in range(k)]
            return np.block(rows) if rows else np.zeros((0, 0))

        return hess

    # --- SciPy -------------------------------------------------------------------------------

    def minimize(self, x0: Any = None, method: str = "L-BFGS-B", **kwargs: Any) -> Any:
        """scipy.optimize.minimize with jac (and hessp or hess, as the method takes); the result
        carries ``params``, the variables unpacked."""
        from scipy.optimize import minimize as scipy_minimize

        start = self.pack(x0) if x0 is None or isinstance(x0, Mapping) else x0
        extra: dict[str, Any] = {}
        if method.lower() in HESSP_METHODS:
            extra["hessp"] = self.hessp
        elif method.lower() in HESS_METHODS:
            if self.hess is None:
                raise DifferentiationError(f"method {method} needs the Hessian, which matcalc "
                                           f"cannot derive in closed form for this loss")
            extra["hess"] = self.hess
        result = scipy_minimize(self.fun, start, jac=self.jac, method=method,
                                **{**extra, **kwargs})
        result.params = self.unpack(result.x)
        return result

    def __repr__(self) -> str:
        shapes = ", ".join(f"{n} {r}×{c}" for n, (r, c) in self.shapes.items())
        return f"<matcalc objective over {shapes}: {self.size} entries>"


def _run(program: CompiledFunction, *sources: Mapping[str, Any]) -> list[np.ndarray]:
    """The program's outputs (always a list), given the values it reads from the sources."""
    values = {k: v for source in sources for k, v in source.items()}
    out: list[np.ndarray] = program._fn(**{k: values[k] for k in program.inputs})
    return out


def _variables(L: Expr, wrt: Any) -> list[Expr]:
    """The variables, as symbols, each once."""
    out: list[Expr] = []
    for v in resolve_wrt(toposort([L]), wrt):
        if v.args:
            raise InputError(f"objective: {v.name} is a named intermediate; optimise over symbols")
        if v in out:
            raise InputError(f"objective: {v.name} is listed twice in wrt")
        out.append(v)
    return out


def _concrete(v: Expr, bindings: Mapping[str, int]) -> tuple[int, int]:
    missing = [d for x in v.shape for d in x.names if d not in bindings]
    if missing:
        raise DimensionBindingError(
            f"objective: dimension {missing[0]} of {v.name} ({shape_str(v.shape)}) is bound by "
            f"no data value; pass dims={{'{missing[0]}': …}}")
    return (v.rows.value(dict(bindings)), v.cols.value(dict(bindings)))


def objective(L: Expr, wrt: Any, values: Mapping[str, Any] | None = None,
              dims: Mapping[str, int] | None = None) -> Objective:
    """fun, jac, hessp (and hess, where closed-form) of L over the variables in wrt, packed into
    one flat vector for scipy.optimize.minimize; ``values`` holds every other symbol (the data)."""
    return Objective(L, wrt, values, dims)
