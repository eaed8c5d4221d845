"""Numerical verification of symbolic gradients by finite differences, in float64.

``check(L, wrt)`` compares ``grad(L, wrt)`` with finite differences of ``evaluate(L, …)`` at a
random point, by two methods:

* directional: for a few random directions U with ‖U‖_F = 1, ⟨∇f, U⟩ against the 4-point stencil
  (−f(x+2hU) + 8f(x+hU) − 8f(x−hU) + f(x−2hU)) / 12h, whose cost (4 evaluations per direction)
  does not depend on the sizes;
* full: the same stencil along every coordinate, entry by entry (small variables only).

Steps, tolerance and the guarantee (docs/testing.md). Each stencil is evaluated at h, 2h and 4h:
|D(2h) − D(h)| bounds its truncation error, and the rounding of f, measured near the point
(Moré and Wild's ECnoise) and at least half an ulp of |f|, bounds its rounding error; the step
starts at rel_step · max(1, max|x|) and adapts to the function (shorter while truncation
dominates, longer while rounding does), so constant offsets and scales of the loss cancel.
Symbolic and numeric values are compared as vectors: PASS when ‖sym − num‖ ≤ atol + rtol·S +
uncertainty (S the larger norm) and the uncertainty resolves the gradient (≤ 1e-5·S); FAIL when
they differ by more; SKIPPED when float64 cannot tell. No gradient with a relative error of
1e-4 or more passes: tests/test_check_mutations.py injects such errors into every op's VJP.

Domains. Inputs that feed an op with a domain directly (log, sqrt → positive; divisors, norm →
nonzero; relu, abs → away from 0; inv, det → well conditioned; logdet → det > 0) are sampled to
satisfy it; positivity is pushed through sums and products. Every domain argument is then
evaluated at each stencil point: a kink or sign crossed, a domain left, a non-finite value or a
condition number above 1e8 rejects the point, and a step that would cross a kink or an edge is
shortened (the row notes it). Rejected points are redrawn (up to ``tries``); a point that cannot
be fixed gives a *skipped* row, never a pass or a fail. User-supplied values are used as given.
"""

from __future__ import annotations

import functools
import math
import numbers
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, overload

import numpy as np

from . import verify_structure as structured
from .binding import check_dims
from .diff import Variable, Variables, grad, resolve_wrt
from .dims import Dim, Shape, shape_str
from .errors import CheckError, ShapeError, SizeLimitError
from .evaluate import (
    EvaluationError,
    bind,
    check_array_sizes,
    evaluate_many,
    resolve_dims,
    symbols_of,
)
from .expr import OPS, Expr, toposort
from .limits import LIMITS
from .ops import Matrix
from .ops.structured import structure_of

__all__ = ["CheckError", "CheckReport", "VariableCheck", "check", "substitute"]

DEFAULT_DIMS = {"m": 3, "n": 4, "B": 5}
METHODS = ("both", "directional", "full")
REL_STEP, RTOL, ATOL = 1e-4, 1e-6, 0.0
NOISE = 4.0  # the rounding of a difference, in units of f's measured noise σ, times 1/h
ROUND = 0.5  # the least noise of f assumed: half an ulp (ε·|f| / 2)
GUARANTEE = 1e-4  # no PASS for a gradient whose relative error is this or more (docs/testing.md)
RESOLUTION = 1e-5  # the largest uncertainty of the differences, relative to the gradient, a PASS
# may carry: with rtol it keeps a passing gradient's error under GUARANTEE / 4
STEP_TRIES = 8  # steps tried per variable while adapting h to the function
ZERO = 1e3  # a gradient below ZERO·ε·|f| / max(1, max|x|) is rounding (see _compare)
# the rounding of a computed gradient, in units of ε·|f| / max(1, max|x|): below it a symbolic and
# a numeric gradient may disagree (1 − 2·(1/2) ≠ 0 in float64), so a disagreement is no FAIL
SYMBOLIC_ROUNDING = 16.0
# an argument nearer its domain's edge than MARGIN times the stencil's reach makes the point
# suspect (redrawn when it was sampled): the step adapts to the function, and the uncertainty
# measures the rest
MARGIN, KINK_MARGIN, COND_MAX = 4.0, 2.0, 1e8
EPS = float(np.finfo(np.float64).eps)
_SQUARE = ("invertible", "spd")

# One use of an op's domain: (op name, domain kind, whole-array?, the argument node, the input
# names it depends on).
_DomainItem = tuple[str, str, bool, Expr, frozenset[str]]
# An argument near the edge of its domain: (worth a redraw?, message, deps, variable).
_Finding = tuple[bool, str, frozenset[str], str]


@dataclass(frozen=True)
class VariableCheck:
    """One method's verdict for one variable; passed is None when the test was skipped.

    ``step`` is h, ``tolerance`` is rtol, and ``evaluations`` counts the evaluations of the
    expression at the perturbed points of this test's stencils.
    """

    variable: str
    shape: tuple[int, int]
    method: str
    max_abs_error: float
    max_rel_error: float
    passed: bool | None
    seed: int
    step: float
    tolerance: float
    atol: float
    evaluations: int
    note: str = ""
    uncertainty: float = float("nan")  # of the differences, relative to the gradient's size

    @property
    def status(self) -> str:
        return {True: "PASS", False: "FAIL", None: "SKIPPED"}[self.passed]


@dataclass
class CheckReport:
    """The rows of a gradient check, with the point (``values``) and gradients it used."""

    expr: Expr
    rows: list[VariableCheck]
    dims: dict[str, int]
    seed: int
    values: dict[str, np.ndarray] = field(default_factory=dict)
    gradients: dict[str, np.ndarray] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def __iter__(self) -> Iterator[VariableCheck]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> VariableCheck:
        return self.rows[i]

    @property
    def passed(self) -> bool | None:
        """True if every row passed, False if any failed, None if none failed but some skipped."""
        if any(r.passed is False for r in self.rows):
            return False
        return True if all(r.passed for r in self.rows) else None

    def __repr__(self) -> str:
        return f"<CheckReport of {len(self.rows)} rows: {self.summary()}>"

    def _repr_html_(self) -> str:
        """Jupyter shows the report as a table (the arrays stay in .values and .gradients)."""
        import html

        from .printing import short

        def num(x: float) -> str:
            return "—" if np.isnan(x) else f"{x:.2e}"

        head = ["variable", "shape", "method", "max abs err", "max rel err", "step", "evals",
                "result"]
        cells = [[r.variable, f"{r.shape[0]}×{r.shape[1]}", r.method, num(r.max_abs_error),
                  num(r.max_rel_error), num(r.step), str(r.evaluations),
                  r.status + (f" ({r.note})" if r.note else "")] for r in self.rows]
        dims = ", ".join(f"{k}={v}" for k, v in sorted(self.dims.items())) or "none"
        rows = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
                       for row in cells)
        notes = "".join(f"<p>note: {html.escape(n)}</p>" for n in self.notes)
        return (f"<p>gradient check of <code>{html.escape(short(self.expr, 60))}</code> "
                f"(seed {self.seed}; dims {html.escape(dims)}): "
                f"<b>{html.escape(self.summary())}</b></p>"
                "<table><thead><tr>" + "".join(f"<th>{h}</th>" for h in head)
                + f"</tr></thead><tbody>{rows}</tbody></table>{notes}")

    def summary(self) -> str:
        """One line: the verdict, the methods used and the worst relative error."""
        verdict = {True: "PASS", False: "FAIL", None: "SKIPPED"}[self.passed]
        methods = " + ".join(dict.fromkeys(r.method for r in self.rows))
        errs = [r.max_rel_error for r in self.rows if not np.isnan(r.max_rel_error)]
        worst = f"; max rel error {max(errs):.1e}" if errs else ""
        return f"{verdict} ({methods}{worst})"

    def __str__(self) -> str:
        from .printing import short

        dims = ", ".join(f"{k}={v}" for k, v in sorted(self.dims.items())) or "none"

        def num(x: float, fmt: str) -> str:
            return "—" if np.isnan(x) else format(x, fmt)

        head = ["variable", "shape", "method", "max abs err", "max rel err", "step", "evals",
                "result"]
        body = [[r.variable, f"{r.shape[0]}×{r.shape[1]}", r.method, num(r.max_abs_error, ".2e"),
                 num(r.max_rel_error, ".2e"), num(r.step, ".0e"), str(r.evaluations), r.status]
                for r in self.rows]
        widths = [max(len(row[i]) for row in [head] + body) for i in range(len(head))]
        lines = [f"gradient check of {short(self.expr, 60)}  (seed {self.seed}; dims {dims})",
                 "  ".join(h.ljust(w) for h, w in zip(head, widths)).rstrip()]
        for r, row in zip(self.rows, body):
            lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
            if r.note:
                lines.append(f"    note: {r.note}")
        if self.rows:
            r = self.rows[0]
            lines.append(f"agreement: ‖numeric − symbolic‖ ≤ atol + rtol·max(‖numeric‖, "
                         f"‖symbolic‖) + uncertainty, rtol={r.tolerance:.0e}, atol={r.atol:.0e}; "
                         f"PASS needs an uncertainty ≤ {RESOLUTION:.0e} of the gradient")
        lines += [f"note: {n}" for n in self.notes]
        verdict = {True: "PASS", False: "FAIL", None: "SKIPPED"}[self.passed]
        lines.append(f"overall: {verdict}")
        return "\n".join(lines)


@overload
def substitute(expr: Expr, mapping: Mapping[Expr, Expr]) -> Expr: ...
@overload
def substitute(expr: list[Expr] | tuple[Expr, ...], mapping: Mapping[Expr, Expr]) -> list[Expr]: ...


def substitute(expr: Expr | list[Expr] | tuple[Expr, ...], mapping: Mapping[Expr, Expr]
               ) -> Expr | list[Expr]:
    """Rebuild expr (or a list of them) with each node in mapping replaced by its image."""
    for old, new in mapping.items():
        if not isinstance(old, Expr) or not isinstance(new, Expr):
            raise CheckError("substitute: the mapping must send expressions to expressions")
        if old.shape != new.shape:
            raise ShapeError(f"substitute: cannot replace a {shape_str(old.shape)} node by a "
                             f"{shape_str(new.shape)} one")
    roots = list(expr) if isinstance(expr, (list, tuple)) else [expr]
    memo: dict[int, Expr] = {}
    for node in toposort(roots):
        if node in mapping:
            memo[id(node)] = mapping[node]
            continue
        args = tuple(memo[id(a)] for a in node.args)
        same = all(x is y for x, y in zip(args, node.args))
        memo[id(node)] = node if same else Expr.make(node.op, args, **dict(node.params))
    out = [memo[id(r)] for r in roots]
    return out if isinstance(expr, (list, tuple)) else out[0]


class _Problem(Exception):
    """The sample point is unusable; deps names the inputs whose redraw may help (None: any)."""

    def __init__(self, message: str, deps: frozenset[str] | None = None) -> None:
        super().__init__(message)
        self.deps = deps


def _domain_argument(node: Expr, key: int | Expr) -> Expr:
    """What a domain entry constrains: an argument (by index), or an expression of the
    arguments the record built (1 − x² for arcsin, A − max(A) for max)."""
    return node.args[key] if isinstance(key, int) else key


def _domain_items(expr: Expr, expand: dict[str, frozenset[str]]) -> list[_DomainItem]:
    """(op name, kind, whole-array?, argument node, input names it depends on) per domain use."""
    items: list[_DomainItem] = []
    for node in toposort([expr]):
        for i, kind in node.op.domain_of(node).items():
            arg = _domain_argument(node, i)
            deps = frozenset[str]().union(*[expand.get(n, {n}) for n in symbols_of(arg)])
            whole = kind == "nonzero" and node.op.kind not in ("elementwise", "binary")
            items.append((node.op.name, kind, whole, arg, deps))
    return items


def _kinks(op: str) -> np.ndarray:
    """Where an op's derivative jumps (its record's extra["kinks"]; 0 for relu, abs, step)."""
    record = OPS.get(op)
    return np.asarray(record.extra.get("kinks", (0.0,)) if record is not None else (0.0,))


def _kink_sides(op: str, a: np.ndarray) -> np.ndarray:
    """The side of each of the op's kinks each entry is on (a point crossing one changes it)."""
    sides: np.ndarray = np.sign(a[..., None] - _kinks(op))
    return sides


def _edge_distance(kind: str, whole: bool, a: np.ndarray, op: str = "") -> float | np.ndarray:
    if kind in _SQUARE:
        return float(np.linalg.svd(a, compute_uv=False)[-1])
    if whole:
        return float(np.linalg.norm(a))
    if kind == "kink":
        out: np.ndarray = np.min(np.abs(a[..., None] - _kinks(op)), axis=-1)
        return out
    return a if kind == "positive" else np.abs(a)


class _Guard:
    """Watches the domain arguments of one expression at a point and along its stencils."""

    def __init__(self, items: list[_DomainItem], base: list[np.ndarray]) -> None:
        self.items, self.base = items, base
        self.sign: list[float] = []  # the sign of the determinant, for square arguments
        self.dist: list[float | np.ndarray] = []  # distance to the domain's edge
        self.delta: list[float | np.ndarray] = []  # the largest change along the stencils
        for (op, kind, whole, _, deps), a in zip(items, base):
            if not np.all(np.isfinite(a)):
                raise _Problem(f"the argument of {op} is not finite", deps)
            s = 0.0
            if kind in _SQUARE:
                s = float(np.linalg.slogdet(a)[0])
                cond = np.linalg.cond(a)
                if s == 0 or not cond < COND_MAX:
                    raise _Problem(f"{op} needs a well-conditioned matrix "
                                   f"(condition number {cond:.1e})", deps)
                if kind == "spd" and s < 0:
                    raise _Problem(f"{op} needs a matrix with positive determinant", deps)
            elif kind == "positive" and not np.all(a > 0):
                raise _Problem(f"{op} needs a positive argument", deps)
            elif kind == "nonzero" and not (np.any(a) if whole else np.all(a)):
                raise _Problem(f"{op} needs a nonzero argument", deps)
            self.sign.append(s)
            self.dist.append(_edge_distance(kind, whole, a, op))
            self.delta.append(0.0)

    def save(self) -> list[float | np.ndarray]:
        """The stencil's reach so far (trial steps are measured, then forgotten)."""
        return list(self.delta)

    def restore(self, saved: list[float | np.ndarray]) -> None:
        self.delta = list(saved)

    def observe(self, arrays: list[np.ndarray]) -> None:
        """Reject the point if a stencil point crosses a kink or leaves a domain."""
        for i, ((op, kind, whole, _, deps), a0, a) in enumerate(zip(self.items, self.base, arrays)):
            if not np.all(np.isfinite(a)):
                raise _Problem(f"the argument of {op} is not finite within the stencil", deps)
            d = np.abs(a - a0)
            if kind in _SQUARE or whole:
                self.delta[i] = max(self.delta[i], float(np.linalg.norm(d)))
            else:
                self.delta[i] = np.maximum(self.delta[i], d)
            if kind in _SQUARE:
                ok = np.linalg.slogdet(a)[0] == self.sign[i]
            elif kind == "positive":
                ok = np.all(a > 0)
            elif whole:
                ok = np.any(a)
            else:
                ok = np.array_equal(_kink_sides(op, a), _kink_sides(op, a0)) if kind == "kink" \
                    else np.array_equal(np.sign(a), np.sign(a0))
            if not ok:
                what = "a kink" if kind == "kink" else "the edge of its domain"
                raise _Problem(f"the argument of {op} crosses {what} within the stencil", deps)

    def near_edges(self) -> list[tuple[bool, str, frozenset[str]]]:
        """(worth a redraw?, message, deps) for arguments nearer their edge than the margin."""
        out: list[tuple[bool, str, frozenset[str]]] = []
        for (op, kind, whole, _, deps), dist, delta in zip(self.items, self.dist, self.delta):
            factor = KINK_MARGIN if kind == "kink" else MARGIN
            if np.any(dist < factor * delta):
                what = "a kink" if kind == "kink" else "the edge of its domain"
                out.append((kind != "kink", (f"the argument of {op} is near {what} (distance "
                                             f"{np.min(dist):.1e}; the stencil moves it by "
                                             f"{np.max(delta):.1e})"), deps))
        return out


def _bindings(expr: Expr, dims: Mapping[str, int] | None, values: dict[str, Any],
              symbols: dict[str, Expr]) -> tuple[dict[str, int], dict[str, np.ndarray]]:
    """Dimension bindings (dims, or the defaults, updated from the values) and the user arrays."""
    explicit = dims is not None
    sizes = dict(DEFAULT_DIMS) if dims is None else check_dims(dims)
    unknown = sorted(set(values) - set(symbols))
    if unknown:
        raise CheckError(f"values given for {', '.join(map(repr, unknown))}, which "
                         f"{'is not an input' if len(unknown) == 1 else 'are not inputs'} of the "
                         f"expression (its inputs are {', '.join(sorted(symbols)) or 'none'})")
    given = {k: symbols[k] for k in values}
    arrays, bound = bind(given, values, sizes if explicit else None)
    bindings = {**sizes, **bound}
    needed: dict[str, None] = {}
    for node in toposort([expr]):
        for d in list(node.shape) + [v for _, v in node.params if isinstance(v, Dim)]:
            needed.update(dict.fromkeys(d.names))
    missing = [k for k in needed if k not in bindings]
    if missing:
        raise CheckError(f"dimension {missing[0]} is not bound; pass dims={{'{missing[0]}': …}}")
    return {k: int(bindings[k]) for k in needed}, arrays


def _sampling_kinds(expr: Expr, push: bool) -> dict[str, set[str]]:
    """The domain kinds each input is sampled for: direct arguments, and with push, positivity
    pushed down through sums and products (so that log(W @ X) gets positive W and X)."""
    kinds: dict[str, set[str]] = {}
    for node in toposort([expr]):
        for i, kind in node.op.domain_of(node).items():
            stack = [(_domain_argument(node, i), kind)]
            while stack:
                e, k = stack.pop()
                name = e.op.name
                if name == "symbol":
                    kinds.setdefault(e.get("name"), set()).add(k)
                elif e.op.domain_through == "all":
                    stack.append((e.args[0], k))
                elif push and k in ("positive", "nonzero") and e.op.domain_through == "positive":
                    stack.extend((a, "positive") for a in e.args)
    return kinds


def _sample(rng: np.random.Generator, kinds: set[str], shape: tuple[int, int]) -> np.ndarray:
    """Random values of the given shape that satisfy the given domain kinds."""
    r, c = shape
    elementwise = kinds & {"positive", "nonzero", "kink"}
    # Square matrices are never symmetric: a symmetric point cannot tell a gradient from its
    # transpose (logdet's A⁻ᵀ from A⁻¹).
    if kinds & set(_SQUARE) and r == c:
        if elementwise:  # positive entries, strictly diagonally dominant: det > 0
            return rng.uniform(0.5, 2.0, (r, r)) + 2 * r * np.eye(r)
        m = np.eye(r) + rng.standard_normal((r, r)) * (0.2 / float(np.sqrt(r)))
        if "spd" in kinds and np.linalg.det(m) < 0:
            m[0] = -m[0]  # logdet's domain is det > 0
        return m
    if "positive" in kinds:
        return rng.uniform(0.5, 2.0, shape)
    if "nonzero" in kinds:
        return rng.choice([-1.0, 1.0], shape) * rng.uniform(0.5, 2.0, shape)
    if "kink" in kinds:
        return rng.choice([-1.0, 1.0], shape) * rng.uniform(0.1, 1.0, shape)
    return 0.5 * rng.standard_normal(shape)


@dataclass
class _Plan:
    """How to test one variable: the expression to perturb, the input to perturb, its domain."""

    target: Expr
    label: str
    expr: Expr
    var: str
    items: list[_DomainItem]
    shape: tuple[int, int]


@dataclass
class _Options:
    methods: list[str]
    directions: int
    full_limit: int
    rel_step: float
    rtol: float
    atol: float
    seed: int
    tries: int


class _Probe:
    """f(x) for one plan: evaluates the plan's expression with its input set to x."""

    def __init__(self, plan: _Plan, vals: dict[str, np.ndarray], bindings: dict[str, int]
                 ) -> None:
        self.plan, self.vals, self.bindings = plan, vals, bindings
        value, args = self._evaluate(vals[plan.var])
        self.guard = _Guard(plan.items, args)
        self.f0 = self.last_max = abs(value)  # |f(x0)|; the largest |f| seen, for rounding
        self.noise = 0.0  # f's rounding noise σ near x0 (see _estimate_noise)
        self.shortened = ""  # why a step was shortened: its stencil crossed a kink or an edge

    def _evaluate(self, x: np.ndarray) -> tuple[float, list[np.ndarray]]:
        roots = [self.plan.expr] + [it[3] for it in self.plan.items]
        try:
            res = evaluate_many(roots, {**self.vals, self.plan.var: x}, self.bindings)
        except EvaluationError as exc:
            raise _Problem(str(exc)) from None
        if not np.all(np.isfinite(res[0])):
            raise _Problem("the expression is not finite within the stencil")
        return float(res[0][0, 0]), res[1:]

    def __call__(self, x: np.ndarray) -> float:
        value, args = self._evaluate(x)
        self.guard.observe(args)
        self.last_max = max(self.last_max, abs(value))
        return value


def _stencil(f: _Probe, x0: np.ndarray, direction: np.ndarray, h: float
             ) -> tuple[float, float]:
    """The 4-point central difference D(h) of f along direction, and its uncertainty: the
    truncation error bounded by |D(2h) − D(h)| (15 times the 4th-order estimate of D(h)'s own
    error, a margin for steps outside the asymptotic regime) plus the rounding of the
    difference, NOISE·σ / h, with σ the noise of f (measured, at least ROUND·ε·max|f|)."""
    fs = {k: f(x0 + k * h * direction) for k in (1, -1, 2, -2, 4, -4)}
    d1 = (-fs[2] + 8 * fs[1] - 8 * fs[-1] + fs[-2]) / (12 * h)
    d2 = (-fs[4] + 8 * fs[2] - 8 * fs[-2] + fs[-4]) / (24 * h)
    return d1, abs(d2 - d1) + _rounding(f, max(abs(v) for v in fs.values()), h)


def _truncation(f: _Probe, unc: float, h: float) -> float:
    """The part of a stencil's uncertainty that is truncation: |D(2h) − D(h)| less what the
    rounding of D(h) and D(2h) alone would make of it."""
    return max(unc - 2 * _rounding(f, f.last_max, h), 0.0)


def _rounding(f: _Probe, largest: float, h: float) -> float:
    """The rounding error of a difference with step h, where |f| reaches ``largest``."""
    return NOISE * max(f.noise, ROUND * EPS * largest) / h


def _stencil_within(f: _Probe, x0: np.ndarray, direction: np.ndarray, h: float
                    ) -> tuple[float, float]:
    """_stencil, with the step shortened (h/8, h/64) where the stencil would cross a kink or
    leave a domain along this direction: a step chosen along the gradient may reach too far
    along another direction."""
    for k in range(3):
        saved = f.guard.save()
        try:
            return _stencil(f, x0, direction, h / 8**k)
        except _Problem as p:
            f.guard.restore(saved)
            f.shortened = f.shortened or str(p)
            if k == 2:
                raise
    raise AssertionError("unreachable")


_NOISE_EVALS = 9  # evaluations of one _estimate_noise


def _estimate_noise(f: _Probe, x0: np.ndarray, u: np.ndarray, delta: float) -> float:
    """The noise σ of f near x0, from the differences of f at 9 points δ apart along u (Moré and
    Wild's ECnoise, 2011): at orders 3 to 6 the smooth part of f is negligible for a small δ and
    the k-th differences are rounding; σ_k = sqrt(γ_k · mean(Δᵏf²)), γ_k = (k!)² / (2k)!. The
    largest σ_k is taken (an overestimate costs resolution, an underestimate a false FAIL)."""
    saved = f.guard.save()
    try:
        table = np.array([f(x0 + (i - _NOISE_EVALS // 2) * delta * u)
                          for i in range(_NOISE_EVALS)])
    finally:
        f.guard.restore(saved)
    sigmas = []
    for k in range(1, 7):
        table = np.diff(table)
        if k >= 3:
            gamma = math.factorial(k) ** 2 / math.factorial(2 * k)
            sigmas.append(float(np.sqrt(gamma * np.mean(table ** 2))))
    return max(sigmas)


_EVALS = 6  # evaluations of one _stencil


def _choose_step(f: _Probe, x0: np.ndarray, u: np.ndarray, h0: float, scale: float
                 ) -> tuple[float, int]:
    """A step for f at x0, adapted to the function: from h0, the truncation error (∝ h⁴) and the
    rounding error (∝ 1/h) measured along u are balanced, so that a large offset (rounding
    relative to |f|) gets a longer step and a steep function (exp(3000 x)) a shorter one.

    A new step is kept only while its difference agrees with the last one within their
    uncertainties: the truncation estimate holds for small steps only, and a step that leaves
    that regime (a period of sin) would otherwise look exact. Trial points never count against
    the domain guard; a step whose stencil leaves the domain is shortened. Returns
    (h, evaluations)."""
    best: tuple[float, float, float] | None = None  # (uncertainty, h, difference)
    last: tuple[float, float] | None = None  # the last accepted (difference, uncertainty)
    h, evals = h0, 0
    for _ in range(STEP_TRIES):
        saved = f.guard.save()
        try:
            d, unc = _stencil(f, x0, u, h)
        except _Problem as p:
            d = unc = float("nan")
            if best is None:  # the step asked for, or a shorter one, is too long
                f.shortened = f.shortened or str(p)
        finally:
            evals += _EVALS
            f.guard.restore(saved)
        if not (np.isfinite(d) and np.isfinite(unc)) or (
                last is not None and abs(d - last[0]) > 3 * (unc + last[1])):
            if best is not None and h > best[1]:
                break  # longer steps left the regime where the estimates hold
            h /= 8
            continue
        last = (d, unc)
        if best is None or unc < best[0]:
            best = (unc, h, d)
        if unc <= 0.01 * RESOLUTION * max(abs(d), scale):
            break
        rounding = _rounding(f, f.last_max, h)
        trunc = _truncation(f, unc, h)
        if trunc <= 0.01 * rounding:
            factor = 100.0  # rounding dominates and nothing is lost to truncation: lengthen
        elif rounding <= 0.01 * trunc:
            factor = 0.1
        else:
            factor = min(max((rounding / (4 * trunc)) ** 0.2, 0.1), 100.0)
        if 0.7 < factor < 1.5:
            break
        h *= factor
    if best is None:
        raise _Problem("every step tried crosses the edge of a domain within the stencil")
    return best[1], evals


# (symbolic values, numeric values, their uncertainties, evaluations) of one method's test
_Differences = tuple[np.ndarray, np.ndarray, np.ndarray, int]


def _directional(f: _Probe, g: np.ndarray, x0: np.ndarray, h: float, rng: np.random.Generator,
                 opt: _Options) -> _Differences:
    """⟨∇f, U⟩ against the stencil along the symbolic gradient's own direction (which catches
    any error in its size) and a few random unit directions U."""
    norm = float(np.linalg.norm(g))
    # along the gradient itself only where any direction is allowed (a structured variable moves
    # within its structure)
    directions = [g / norm] if norm > 0 and _structure(f.plan) is None else []
    for _ in range(opt.directions):
        directions.append(_random_direction(f.plan, rng, g.shape))
    return _along(f, g, x0, h, directions)


def _along(f: _Probe, g: np.ndarray, x0: np.ndarray, h: float,
           directions: Iterable[np.ndarray]) -> _Differences:
    """⟨∇f, U⟩ against the stencil along each direction U, taken one at a time."""
    sym, num, unc = [], [], []
    for u in directions:
        n, e = _stencil_within(f, x0, u, h)
        sym.append(float(np.sum(g * u)))
        num.append(n)
        unc.append(e)
    return np.asarray(sym), np.asarray(num), np.asarray(unc), _EVALS * len(sym)


def _full(f: _Probe, g: np.ndarray, x0: np.ndarray, h: float, opt: _Options) -> _Differences:
    """∇f against the stencil along every coordinate, entry by entry."""
    if _structure(f.plan) is not None:
        return _full_structured(f, g, x0, h)
    num, unc = np.zeros(g.shape), np.zeros(g.shape)
    for idx in np.ndindex(*g.shape):
        e = np.zeros(g.shape)
        e[idx] = 1.0
        num[idx], unc[idx] = _stencil_within(f, x0, e, h)
    return g, num, unc, _EVALS * g.size


def _compare(sym: np.ndarray, num: np.ndarray, unc: np.ndarray, opt: _Options,
             largest: float = 0.0, zero_scale: float = 0.0
             ) -> tuple[float, float, float, bool | None, str]:
    """(max abs error, relative error, relative uncertainty, verdict, note) of symbolic against
    numeric values, as vectors: PASS when ‖sym − num‖ ≤ atol + rtol·S + ‖uncertainty‖ with
    S = max(‖sym‖, ‖num‖) and the uncertainty resolves the gradient (≤ RESOLUTION·S); FAIL when
    they differ by more; SKIPPED when they agree only because the differences cannot tell.

    A zero gradient has no size of its own: it passes when its differences vanish exactly, or
    their uncertainty is within RESOLUTION of ``largest``, the largest gradient of the check. When
    both sides are below ZERO·ε·``zero_scale`` (|f| / max(1, max|x|), the size of a gradient
    float64 cannot tell from rounding: a constant function's symbolic gradient) the row is
    SKIPPED with a note, never PASS; and when both are below SYMBOLIC_ROUNDING·ε·``zero_scale``
    a disagreement is SKIPPED too, never FAIL (it may be the symbolic side's own rounding)."""
    err_vec = np.abs(sym - num)
    err = float(np.linalg.norm(err_vec))
    size = max(float(np.linalg.norm(sym)), float(np.linalg.norm(num)))
    spread = float(np.linalg.norm(unc))
    rel = err / size if size > 0 else (0.0 if err == 0 else float("inf"))
    rel_unc = spread / size if size > 0 else (0.0 if spread == 0 else float("inf"))
    worst = float(np.max(err_vec)) if err_vec.size else 0.0
    if not err <= opt.atol + opt.rtol * size + spread:
        tiny = SYMBOLIC_ROUNDING * EPS * zero_scale * float(np.sqrt(sym.size))
        if size <= tiny:  # both sides are rounding of a gradient that is zero, or nearly
            return worst, rel, rel_unc, None, (
                f"both gradients are at the rounding level of the expression (below "
                f"{SYMBOLIC_ROUNDING:g}·ε·|f|), where they may differ by rounding alone")
        return worst, rel, rel_unc, False, ""
    if spread <= RESOLUTION * size or spread == 0:
        return worst, rel, rel_unc, True, ""
    if not np.any(sym) and (not np.any(num) or spread <= RESOLUTION * largest):
        return worst, rel, spread / largest if largest > 0 else rel_unc, True, ""
    floor = ZERO * EPS * zero_scale * float(np.sqrt(sym.size))
    if float(np.linalg.norm(sym)) <= floor and float(np.linalg.norm(num)) <= floor + spread:
        return worst, rel, rel_unc, None, (
            "both gradients are at the rounding level of the expression (below "
            f"{ZERO:.0e}·ε·|f|): zero, or too small for float64 to tell")
    return worst, rel, rel_unc, None, (
        f"finite differences cannot resolve this gradient here: their uncertainty is "
        f"{rel_unc:.1e} of its size (a PASS needs {RESOLUTION:.0e}; a large constant in the "
        f"expression or a gradient near zero limits float64)")


# --- structured variables: sampled and perturbed within their structure (verify_structure.py) ----

def _structure(plan: _Plan) -> str | None:
    return structure_of(plan.target)


def _sample_symbol(rng: np.random.Generator, symbol: Expr, kinds: set[str],
                   shape: tuple[int, int]) -> np.ndarray:
    """A value for a symbol: within its declared structure, if it has one."""
    structure = structure_of(symbol)
    if structure is None:
        return _sample(rng, kinds, shape)
    return structured.sample(rng, structure, kinds, shape, _sample)


def _random_direction(plan: _Plan, rng: np.random.Generator, shape: tuple[int, ...]
                      ) -> np.ndarray:
    structure = _structure(plan)
    if structure is not None:
        return structured.direction(rng, structure, (shape[0], shape[1]))
    u = rng.standard_normal(shape)
    out: np.ndarray = u / np.linalg.norm(u)
    return out


def _even_direction(plan: _Plan, shape: tuple[int, ...]) -> np.ndarray:
    """The unit direction of equal steps in every entry the variable's structure lets move (the
    start for a zero gradient: the step is chosen along it)."""
    structure = _structure(plan)
    u = np.ones(shape)
    if structure is not None:
        u = structured.project_value(structure, u)
    out: np.ndarray = u / np.linalg.norm(u)
    return out


def _full_structured(f: _Probe, g: np.ndarray, x0: np.ndarray, h: float) -> _Differences:
    """⟨∇f, E⟩ against the stencil along each E of an orthonormal basis of the structure."""
    structure = _structure(f.plan)
    assert structure is not None
    return _along(f, g, x0, h, structured.basis(structure, (g.shape[0], g.shape[1])))


def _test_variable(plan: _Plan, f: _Probe, g: np.ndarray, x0: np.ndarray,
                   rng: np.random.Generator, opt: _Options, grad_shape: Shape,
                   largest: float = 0.0) -> list[VariableCheck]:
    """The rows of one variable at one point (directional and/or full differences)."""
    h0 = opt.rel_step * max(1.0, float(np.max(np.abs(x0))))
    row = functools.partial(VariableCheck, variable=plan.label, shape=plan.shape,
                            seed=opt.seed, tolerance=opt.rtol, atol=opt.atol)
    if grad_shape != plan.target.shape or g.shape != plan.shape:
        note = (f"the symbolic gradient is {shape_str(grad_shape)} ({g.shape[0]}×{g.shape[1]}), "
                f"the variable {shape_str(plan.target.shape)}")
        return [row(method=m, max_abs_error=np.nan, max_rel_error=np.nan, passed=False, step=h0,
                    evaluations=0, note=note) for m in opt.methods]
    norm = float(np.linalg.norm(g))
    u = g / norm if norm > 0 else _even_direction(plan, g.shape)
    f.noise = _estimate_noise(f, x0, u, 1e-3 * h0)
    h, search = _choose_step(f, x0, u, h0, norm)
    search += _NOISE_EVALS
    size = plan.shape[0] * plan.shape[1]
    todo, note = list(opt.methods), ""
    full_limit = min(opt.full_limit, LIMITS.max_directions)  # one stencil per coordinate
    if "full" in todo and size > full_limit:
        todo = ["directional"]
        which = f"full_limit={opt.full_limit}" if full_limit == opt.full_limit else \
            f"matcalc.limits max_directions={full_limit}"
        note = f"full differences skipped: {size} entries > {which}"
        if opt.methods == ["full"]:
            note += "; a directional test was run instead"
    rows = []
    for k, m in enumerate(todo):
        sym, num, unc, evals = (_directional(f, g, x0, h, rng, opt) if m == "directional"
                                else _full(f, g, x0, h, opt))
        err, rel, rel_unc, verdict, why = _compare(sym, num, unc, opt, largest,
                                                   f.f0 / max(1.0, float(np.max(np.abs(x0)))))
        short = f"step shortened (from {h0:.1e}): at a longer one {f.shortened}" \
            if f.shortened else ""
        rows.append(row(method=m, max_abs_error=err, max_rel_error=rel, passed=verdict, step=h,
                        evaluations=evals + (search if k == 0 else 0),
                        note="; ".join(filter(None, [note, why, short])), uncertainty=rel_unc))
    return rows


def _at_point(expr: Expr, grads: list[Expr], items: list[_DomainItem], plans: list[_Plan],
              vals: dict[str, np.ndarray], bindings: dict[str, int], rng: np.random.Generator,
              opt: _Options) -> tuple[list[VariableCheck], list[_Finding], list[np.ndarray]]:
    """(rows, near-edge findings, gradient values) at one point; _Problem if it is unusable."""
    roots = [expr] + grads + [it[3] for it in items] + [p.target for p in plans]
    try:
        out = evaluate_many(roots, vals, bindings)
    except EvaluationError as exc:
        raise _Problem(str(exc)) from None
    k = len(grads)
    gvals, xs = out[1:1 + k], out[1 + k + len(items):]
    _Guard(items, out[1 + k:1 + k + len(items)])  # names the op whose domain is not met
    if not np.all(np.isfinite(out[0])):
        raise _Problem("the expression is not finite at the sample point")
    for plan, g in zip(plans, gvals):
        if not np.all(np.isfinite(g)):
            raise _Problem(f"the gradient with respect to {plan.label} is not finite")
    rows: list[VariableCheck] = []
    soft: list[_Finding] = []
    largest = max((float(np.linalg.norm(g)) for g in gvals), default=0.0)
    for plan, g, x0, gexpr in zip(plans, gvals, xs, grads):
        f = _Probe(plan, {**vals, plan.var: x0}, bindings)
        rows += _test_variable(plan, f, g, x0, rng, opt, gexpr.shape, largest)
        soft += [(redraw, msg, deps, plan.label) for redraw, msg, deps in f.guard.near_edges()]
    return rows, soft, gvals


def _plans(expr: Expr, targets: list[Expr], symbols: dict[str, Expr], bindings: dict[str, int]
           ) -> list[_Plan]:
    """Symbols are perturbed in place; a named intermediate becomes a fresh input first."""
    plans: list[_Plan] = []
    taken = set(symbols)
    for t in targets:
        name, shape = t.get("name"), resolve_dims(t.shape, bindings)
        if t.op.name == "symbol":
            plans.append(_Plan(t, name, expr, name, _domain_items(expr, {}), shape))
            continue
        fresh = name + "_value"
        while fresh in taken:
            fresh += "_"
        taken.add(fresh)
        expr_v = substitute(expr, {t: Matrix(fresh, t.rows, t.cols)})
        items = _domain_items(expr_v, {fresh: frozenset(symbols_of(t))})
        plans.append(_Plan(t, name, expr_v, fresh, items, shape))
    return plans


def _count(what: str, value: object, least: int, cap: int | None = None,
           cap_name: str = "") -> int:
    """value as an int ≥ least (CheckError otherwise), at most cap (SizeLimitError)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or int(value) < least:
        kind = "a positive" if least == 1 else "a non-negative"
        raise CheckError(f"check: {what} must be {kind} integer, got {value!r}")
    count = int(value)
    if cap is not None and count > cap:
        raise SizeLimitError(f"check: {what}={count:,} is more than the limit of {cap:,} "
                             f"(matcalc.limits.configure({cap_name}=…) raises it)")
    return count


def _real(what: str, value: object, positive: bool, below: float = math.inf) -> float:
    """value as a finite float, > 0 (or ≥ 0) and < below; CheckError otherwise."""
    if not isinstance(value, bool) and isinstance(value, numbers.Real):
        x = float(value)
        if math.isfinite(x) and (x > 0 if positive else x >= 0) and x < below:
            return x
    bound = f" and below {below:g}" if below < math.inf else ""
    sign = "positive" if positive else "non-negative"
    raise CheckError(f"check: {what} must be a {sign} finite number{bound}, got {value!r}")


def _options(method: object, seed: object, directions: object, full_limit: object,
             rel_step: object, rtol: object, atol: object, tries: object) -> _Options:
    """The check's options, each of the right type and range, or a CheckError saying which is
    not (SizeLimitError for a count above matcalc.limits)."""
    if not isinstance(method, str) or method not in METHODS:
        raise CheckError(f"check: method must be one of {', '.join(METHODS)}, got {method!r}")
    return _Options(
        ["directional", "full"] if method == "both" else [method],
        _count("directions", directions, 1, LIMITS.max_directions, "max_directions"),
        _count("full_limit", full_limit, 0), _real("rel_step", rel_step, True, 1.0),
        _real("rtol", rtol, False, 1.0), _real("atol", atol, False),
        _count("seed", seed, 0), _count("tries", tries, 1, LIMITS.max_tries, "max_tries"))


# What a usable point gives: (rows, findings, gradient values, the point).
_Outcome = tuple[list[VariableCheck], list[_Finding], list[np.ndarray], dict[str, np.ndarray]]


def check(expr: Expr, wrt: Variable | Variables, dims: Mapping[str, int] | None = None,
          seed: int = 0, values: Mapping[str, Any] | None = None, method: str = "both", *,
          directions: int = 3, full_limit: int = 400,
          rel_step: float = REL_STEP, rtol: float = RTOL, atol: float = ATOL,
          tries: int = 50) -> CheckReport:
    """Verify grad(expr, wrt) against finite differences of evaluate(expr) at a random point."""
    if not isinstance(expr, Expr):
        raise CheckError(f"check expects a matcalc expression, got {type(expr).__name__}")
    if not expr.is_scalar:
        raise CheckError(f"check needs a scalar (1×1) expression, got {shape_str(expr.shape)}")
    opt = _options(method, seed, directions, full_limit, rel_step, rtol, atol, tries)
    if values is not None and not isinstance(values, Mapping):
        raise CheckError(f"values must be a dict from input names to arrays, got "
                         f"{type(values).__name__}")
    nodes = toposort([expr])
    ids = {id(n) for n in nodes}
    targets: list[Expr] = []
    for t in resolve_wrt(nodes, wrt):
        if id(t) not in ids:
            raise CheckError(f"{t.get('name')} does not occur in the expression")
        if t not in targets:
            targets.append(t)
    symbols = symbols_of(expr)
    bindings, user = _bindings(expr, dims, dict(values or {}), symbols)
    grads = grad(expr, targets)
    check_array_sizes(toposort([expr, *grads]), bindings)  # before any value is drawn
    plans = _plans(expr, targets, symbols, bindings)
    items = _domain_items(expr, {})
    kinds = _sampling_kinds(expr, push=False)
    sampled = frozenset(symbols) - frozenset(user)

    rng = np.random.default_rng(seed)
    found: _Outcome | None = None
    fallback: _Outcome | None = None  # the first point with soft findings, if no better one
    problem: _Problem | None = None
    redraws: list[str] = []
    for k in range(opt.tries):
        vals = dict(user)
        for name in sorted(sampled):
            shape = resolve_dims(symbols[name].shape, bindings)
            vals[name] = _sample_symbol(rng, symbols[name], kinds.get(name, set()), shape)
        try:
            rows, soft, gvals = _at_point(expr, grads, items, plans, vals, bindings, rng, opt)
        except _Problem as p:
            problem = p
            kinds = _sampling_kinds(expr, push=True)  # from now on, push positivity down
            redraws.append(str(p))
            if not sampled or (p.deps is not None and not p.deps & sampled):
                break  # redrawing the sampled inputs cannot help
            continue
        worth = [s for s in soft if s[0] and s[2] & sampled]
        if worth and k + 1 < opt.tries:
            fallback = fallback or (rows, soft, gvals, vals)
            redraws.append(worth[0][1])
            continue
        found = (rows, soft, gvals, vals)
        break
    found = found or fallback
    if found is None:
        after = f" after {len(redraws)} draws" if len(redraws) > 1 else ""
        reason = f"skipped: the domain could not be met{after}: {problem}"
        rows = [VariableCheck(variable=p.label, shape=p.shape, method=m, max_abs_error=np.nan,
                              max_rel_error=np.nan, passed=None, seed=opt.seed, step=np.nan,
                              tolerance=rtol, atol=atol, evaluations=0, note=reason)
                for p in plans for m in opt.methods]
        return CheckReport(expr, rows, bindings, opt.seed)
    rows, soft, gvals, vals = found
    for redraw, msg, deps, label in soft:
        if not redraw and not deps & frozenset(user):
            continue  # a kink near a random point is harmless: the stencil does not cross it
        rows = [replace(r, note="; ".join(filter(None, [r.note, msg])))
                if r.variable == label else r for r in rows]
    notes = [f"the point was redrawn {len(redraws)} time(s); first reason: {redraws[0]}"] \
        if redraws else []
    gradients = {p.label: g for p, g in zip(plans, gvals)}
    return CheckReport(expr, rows, bindings, opt.seed, vals, gradients, notes)
