"""Check a reader's hand-derived gradient against matcalc's: ``compare(candidate, expr, wrt)``.

The candidate (LaTeX or matcalc's text, or an expression) is read with the program's shapes, then
checked in three stages, each of which can end the check:

1. **shapes** — reading the candidate builds it with every shape checked, so a product that does
   not fit names its factors (``cannot multiply Xᵀ (B×n) by ∂L/∂Y (m×B)``); the whole must have
   the variable's shape, and a near miss is named (a transpose, a missing sum over the batch);
2. **symbolic** — both sides simplified by the rewrite rules: the same expression, or a
   difference that simplifies to zero, is equal;
3. **numeric** — both sides evaluated at random points within the ops' domains (positive for
   log, well-conditioned for inv, away from relu's kink …): they agree everywhere, or the report
   says where they first differ, by how much, and whether by a constant factor (a missing 1/B?),
   a sign or a transpose.

Names in the candidate: the program's inputs and named intermediates (Y stands for its
definition), ``\\frac{\\partial L}{\\partial Y}`` (``dL_dY`` in text) for the gradient of the loss
by an intermediate Y — for the result of a one-node program, the upstream gradient itself.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, cast

import numpy as np

from .diff import grad, resolve_wrt, vjp
from .dims import Dim, shape_str
from .errors import InputError, MatcalcError, ParseError, ShapeError
from .evaluate import EvaluationError, evaluate_many, resolve_dims, symbols_of
from .expr import Expr, toposort
from .ops import cotangent, zeros
from .printing import to_latex, to_text
from .simplify import simplify
from .verify import _sample, _sampling_kinds, substitute

__all__ = ["Comparison", "Point", "check_command", "compare"]

SIZES = {"m": 3, "n": 4, "B": 5}
OTHER_SIZES = (6, 7, 2, 8, 9, 10, 11, 12)
RTOL, ATOL = 1e-8, 1e-10


@dataclass
class Point:
    """Both gradients at one random point (entries as nested lists, for JSON)."""

    sizes: dict[str, int]
    max_abs_difference: float
    agree: bool
    entry: tuple[int, int] | None = None  # where they differ most (0-based row, column)
    candidate_value: list[list[float]] = field(default_factory=list)
    expected_value: list[list[float]] = field(default_factory=list)


@dataclass
class Comparison:
    """The verdict on a hand-derived gradient, easy to show as JSON (``to_dict``) or a table."""

    variable: str
    equal: bool | None  # None: no point within the ops' domains could be found
    stage: str  # "shape", "symbolic" or "numeric": where the check was decided
    message: str  # one sentence: what is right or wrong, and where
    candidate: str  # as given
    expected_text: str  # matcalc's form, in its text language
    expected_latex: str
    expected_shape: str
    candidate_text: str | None = None  # how matcalc read the candidate
    candidate_latex: str | None = None
    candidate_shape: str | None = None
    where: str | None = None  # the factor that does not fit, or the entry that differs
    hint: str | None = None
    points: list[Point] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.equal is True

    def to_dict(self) -> dict[str, Any]:
        """Plain data: strings, numbers, lists (json.dumps works on it)."""
        return asdict(self)

    def to_json(self, **kwargs: Any) -> str:
        """The report as JSON text."""
        return json.dumps(self.to_dict(), ensure_ascii=False, **kwargs)

    def rows(self) -> list[tuple[str, str]]:
        """(field, value) rows for a table."""
        verdict = {True: "equal", False: "not equal", None: "undecided"}[self.equal]
        out = [("verdict", f"{verdict} (decided by the {self.stage} check)"),
               ("message", self.message),
               ("yours", self.candidate_text or self.candidate),
               ("your shape", self.candidate_shape or "—"),
               ("matcalc", self.expected_text), ("matcalc in LaTeX", self.expected_latex),
               ("shape", self.expected_shape)]
        if self.where:
            out.append(("where", self.where))
        if self.hint:
            out.append(("hint", self.hint))
        for i, p in enumerate(self.points, 1):
            sizes = ", ".join(f"{k}={v}" for k, v in p.sizes.items())
            verdict_i = "agree" if p.agree else "differ"
            out.append((f"point {i}", f"{verdict_i}; max |difference| "
                        + f"{p.max_abs_difference:.3g} ({sizes})"))
        return out

    def __str__(self) -> str:
        rows = self.rows()
        width = max(len(k) for k, _ in rows)
        return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)

    def _repr_markdown_(self) -> str:
        def cell(v: str) -> str:
            return v.replace("|", "\\|").replace("\n", " ")

        body = [f"| {k} | {cell(v)} |" for k, v in self.rows()
                if k not in ("matcalc", "matcalc in LaTeX")]
        return ("| | |\n| --- | --- |\n" + "\n".join(body)
                + f"\n\nmatcalc's form: $\\frac{{\\partial L}}{{\\partial {self.variable}}} = "
                  f"{self.expected_latex}$")


def _looks_latex(text: str) -> bool:
    return any(c in text for c in "\\^{}") or "'" in text


class _Reading:
    """The names a candidate may use, and what each stands for."""

    def __init__(self, expr: Expr, loss: str):
        nodes = toposort([expr])
        self.shapes: dict[str, tuple[Dim, Dim]] = {}
        self.meaning: dict[str, Expr] = {}  # declared name → the node it stands for
        for n in nodes:
            if n.op.name in ("symbol", "named") and not n.get("tex"):
                self.shapes[n.get("name")] = n.shape
                if n.op.name == "named":
                    self.meaning[n.get("name")] = n
        self.upstreams: dict[str, Expr] = {}  # dL_dY → the node Y whose gradient it is
        for n in nodes:
            if n.op.name == "named":
                sym = f"d{loss}_d{n.get('name')}"
                self.shapes.setdefault(sym, n.shape)
                self.upstreams[sym] = n


def _parse(text: str, shapes: Mapping[str, Any], language: str | None) -> Expr:
    from .parsing import parse, parse_latex

    lang = language or ("latex" if _looks_latex(text) else "text")
    if lang not in ("latex", "text"):
        raise InputError(f"compare: language must be 'latex' or 'text', got {language!r}")
    first, second = (parse_latex, parse) if lang == "latex" else (parse, parse_latex)
    try:
        read: Expr = first(text, shapes)
    except ShapeError:
        raise
    except ParseError as exc:
        if language is not None:
            raise
        try:
            read = second(text, shapes)
        except MatcalcError:
            raise exc from None
    return read


def _shape_problem(exc: ShapeError) -> str:
    """The first factor that does not fit, on one line, with its column in the candidate."""
    first = exc.message.split("\n")[0]
    found = re.search(r" \(line \d+, column (\d+)\)", first)
    column = exc.column or (int(found.group(1)) if found else None)
    first = re.sub(r" \(line \d+, column \d+\)", "", first)
    first = re.sub(r"\bd(\w+?)_d(\w+)\b", "∂\\1/∂\\2", first)  # dL_dY is ∂L/∂Y
    return first + (f" (at column {column})" if column else "")


def _reference(expr: Expr, target: Expr, loss: str) -> tuple[Expr, Expr]:
    """(the seed of the reverse sweep, matcalc's gradient of target)."""
    if expr.is_scalar and (expr.op.name != "named" or expr.get("name") == loss):
        from .ops import const

        seed = const(1)
        return seed, grad(expr, target)
    name = expr.get("name") if expr.op.name == "named" else None
    if name is None:
        raise InputError("compare: name the program's non-scalar result (e.g. 'Y = W @ X') so "
                         "that its upstream gradient ∂L/∂Y can be written")
    seed = cotangent(name, *expr.shape, loss=loss)
    return seed, vjp(expr, target, upstream=seed)


def _near_miss(cand: Expr, want: Expr) -> str | None:
    """A hint for a candidate of the wrong shape."""
    (cr, cc), (wr, wc) = cand.shape, want.shape
    if (cr, cc) == (wc, wr):
        return ("it has the shape of the transpose: a transpose swapped, or the factors of a "
                "product in the wrong order?")
    if cr == wr and wc.is_one and not cc.is_one:
        return (f"it still has a column per {cc} entry: a bias broadcast over {cc} columns "
                f"collects the gradient of every column — sum over the batch (axis 1)")
    if cc == wc and wr.is_one and not cr.is_one:
        return f"it still has a row per {cr} entry: sum over axis 0"
    if cr == wr and cc.is_one and not wc.is_one:
        return (f"it is a single column, but the gradient has {wc} columns, like the variable: "
                f"each column (each example of a batch) has a gradient of its own")
    if len(cr.names) + len(cc.names) > len(wr.names) + len(wc.names):
        return ("it has the shape of a Jacobian in vec form (a local gradient such as "
                "∂vec(Y)/∂vec(W)), not of a gradient: the gradient applies it to the upstream "
                "gradient ∂L/∂Y")
    if (cr.is_one and cc.is_one) and not (wr.is_one and wc.is_one):
        return "it is a scalar, but the gradient has one entry per entry of the variable"
    return None


def compare(candidate: Any, expr: Expr, wrt: Any, *, language: str | None = None,
            loss: str = "L", dims: Mapping[str, int] | None = None, seed: int = 0,
            points: int = 3) -> Comparison:
    """Check a hand-derived gradient of ``expr`` by ``wrt``; see the module's docstring."""
    if not isinstance(expr, Expr):
        raise InputError(f"compare expects a matcalc expression, got {type(expr).__name__}")
    (target,) = resolve_wrt(toposort([expr]), [wrt])
    var = target.get("name")
    top, want = _reference(expr, target, loss)
    base: dict[str, Any] = {"variable": var, "expected_text": to_text(want),
                            "expected_latex": to_latex(want),
                            "expected_shape": shape_str(want.shape)}
    reading = _Reading(expr, loss)
    if isinstance(candidate, Expr):
        given, raw = to_text(candidate), candidate
    elif isinstance(candidate, str) and candidate.strip():
        given = candidate
        try:
            raw = _parse(candidate, reading.shapes, language)
        except ShapeError as exc:
            where = _shape_problem(exc)
            return Comparison(equal=False, stage="shape", candidate=given, where=where,
                              message=f"your ∂{loss}/∂{var} does not fit together: {where}",
                              **base)
    else:
        raise InputError("compare: give the candidate gradient as LaTeX or text")
    cand = _resolve(raw, reading, expr, top, loss)
    base.update(candidate=given, candidate_text=to_text(raw), candidate_latex=to_latex(raw),
                candidate_shape=shape_str(cand.shape))
    if cand.shape != want.shape:
        return Comparison(equal=False, stage="shape", hint=_near_miss(cand, want),
                          message=(f"your ∂{loss}/∂{var} is {shape_str(cand.shape)}, but it must "
                                   f"have the shape of {var}, {shape_str(want.shape)}"), **base)
    if simplify(cand) is simplify(want) or simplify(cand - want) is zeros(*want.shape):
        return Comparison(equal=True, stage="symbolic",
                          message=f"equal: your ∂{loss}/∂{var} simplifies to matcalc's", **base)
    return _numeric(cand, want, base, dims, seed, points, loss)


def _resolve(raw: Expr, reading: _Reading, expr: Expr, top: Expr, loss: str) -> Expr:
    """The candidate with intermediates and ∂L/∂Y symbols replaced by what they stand for."""
    present = symbols_of(raw)
    mapping: dict[Expr, Expr] = {}
    for name, node in reading.meaning.items():
        if name in present:
            mapping[present[name]] = node
    wanted = [(present[s], y) for s, y in reading.upstreams.items() if s in present]
    if wanted:
        grads = vjp(expr, [y for _, y in wanted], upstream=top, simplify=False)
        for (sym, y), g in zip(wanted, grads):
            mapping[sym] = top if y is expr else g
    return substitute(raw, mapping) if mapping else raw


def _sizes(exprs: list[Expr], dims: Mapping[str, int] | None) -> dict[str, int]:
    names: dict[str, None] = {}
    for node in toposort(exprs):
        for d in node.shape:
            names.update(dict.fromkeys(d.names))
        for _, v in node.params:
            if isinstance(v, Dim):
                names.update(dict.fromkeys(v.names))
    out, spare = {}, iter(OTHER_SIZES)
    for n in names:
        out[n] = int((dims or {}).get(n) or SIZES.get(n) or next(spare, 5))
    return out


def _numeric(cand: Expr, want: Expr, base: dict[str, Any], dims: Mapping[str, int] | None,
             seed: int, count: int, loss: str) -> Comparison:
    from .ops import sum as sum_

    var = base["variable"]
    sizes = _sizes([cand, want], dims)
    total = cast(Callable[[Expr], Expr], sum_)
    both = total(cand) + total(want)
    symbols = symbols_of([cand, want])
    kinds = _sampling_kinds(both, push=True)
    rng = np.random.default_rng(seed)
    found: list[Point] = []
    tries = 0
    while len(found) < count and tries < 20 * count:
        tries += 1
        vals = {name: _sample(rng, kinds.get(name, set()), resolve_dims(s.shape, sizes))
                for name, s in sorted(symbols.items())}
        try:
            c, w = evaluate_many([cand, want], vals, sizes)
        except EvaluationError:
            continue
        if not (np.all(np.isfinite(c)) and np.all(np.isfinite(w))):
            continue
        found.append(_point(c, w, sizes))
        if not found[-1].agree:
            break
    if not found:
        return Comparison(equal=None, stage="numeric", message=(
            "undecided: no random point within the ops' domains gave finite values"), **base)
    bad = next((p for p in found if not p.agree), None)
    if bad is None:
        return Comparison(equal=True, stage="numeric", points=found, message=(
            f"equal: your ∂{loss}/∂{var} agrees with matcalc's at {len(found)} random points"),
            **base)
    c, w = np.array(bad.candidate_value), np.array(bad.expected_value)
    assert bad.entry is not None
    i, j = bad.entry
    where = (f"entry ({i + 1}, {j + 1}): yours is {c[i, j]:.6g}, matcalc's {w[i, j]:.6g} "
             f"(at a random point with {', '.join(f'{k}={v}' for k, v in sizes.items())})")
    return Comparison(equal=False, stage="numeric", points=found, where=where,
                      hint=_numeric_hint(c, w, sizes),
                      message=(f"not equal: your ∂{loss}/∂{var} has the right shape but differs "
                               f"from matcalc's at a random point"),
                      **base)


def _point(c: np.ndarray, w: np.ndarray, sizes: dict[str, int]) -> Point:
    diff = np.abs(c - w)
    scale = max(float(np.max(np.abs(w))), float(np.max(np.abs(c))), 1.0)
    agree = bool(np.all(diff <= ATOL + RTOL * scale))
    idx = np.unravel_index(int(np.argmax(diff)), diff.shape)
    return Point(dict(sizes), float(np.max(diff)), agree, (int(idx[0]), int(idx[1])),
                 c.tolist(), w.tolist())


def _numeric_hint(c: np.ndarray, w: np.ndarray, sizes: dict[str, int]) -> str | None:
    """A constant factor, a sign or a transpose between the two values, if there is one."""
    if c.shape[0] == c.shape[1] and c.shape[0] > 1 and np.allclose(c, w.T, rtol=1e-8, atol=1e-10):
        return "yours is the transpose of matcalc's: a transpose swapped?"
    mask = np.abs(w) > 1e-12
    if not np.any(mask) or np.any(np.abs(c[~mask]) > 1e-10):
        return None
    ratios = c[mask] / w[mask]
    r = float(ratios[0])
    if not np.allclose(ratios, r, rtol=1e-8):
        return None
    if np.isclose(r, -1):
        return "yours is matcalc's with the opposite sign: a sign slipped?"
    for name, v in sizes.items():
        if np.isclose(r, v):
            return f"yours is {v} = {name} times matcalc's: a factor 1/{name} missing?"
        if np.isclose(r, 1 / v):
            return f"yours is matcalc's divided by {name} = {v}: a factor 1/{name} too many?"
    for k in range(2, 13):
        if np.isclose(r, k):
            return f"yours is {k} times matcalc's: a factor {k} too many?"
        if np.isclose(r, 1 / k):
            part = "half" if k == 2 else f"1/{k}"
            return f"yours is {part} of matcalc's: a factor {k} missing?"
    return f"yours is {r:.6g} times matcalc's: a constant factor slipped?"


def check_command(program: str, expr: Expr, wrt: str) -> str:
    """The ``matcalc compare`` command a reader runs to check a gradient of this program."""
    shapes = []
    for name, s in sorted(symbols_of(expr).items()):
        if not s.get("tex"):
            shapes += ["--shape", f"{name}={s.rows},{s.cols}"]
    parts = ["matcalc", "compare", program, *shapes, "--wrt", wrt, "--candidate",
             "YOUR ANSWER"]
    return " ".join(shlex.quote(p) for p in parts)
