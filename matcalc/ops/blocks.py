"""Parts and blocks of matrices: slices ``X[0:3, :]``, their adjoint ``embed`` (a block placed in
zeros), concatenation and block matrices, the triangles ``triu``/``tril`` and ``flip``.

Bounds are dimensions (:mod:`matcalc.dims`): ``X[:k, :]`` has k rows, ``X[1:, :]`` has m − 1, and
the blocks of ``hstack(A, B)`` add up to n + p columns. A literal bound on a symbolic axis
(``X[0:3, :]`` of an m×n X) is checked when sizes are bound: evaluating it on an X of fewer
than 3 rows is an error, never a shorter slice. Every op here keeps 2-D shapes: ``X[i, :]`` is a
1×n row, ``X[i, j]`` a 1×1.
"""

from __future__ import annotations

from typing import Any

from ..dims import ZERO
from ..expr import PREC_ATOM, Param
from ..latexnames import dim_latex
from . import kernels, kernels_torch
from ._base import (
    Builder,
    Dim,
    Expr,
    InputError,
    Op,
    ShapeError,
    alias,
    as_expr,
    builder,
    check_axis,
    check_offset,
    defop,
    describe,
    dim,
    np,
)
from .leaves import eye, ones
from .structure import dvec, kron, total

__all__ = ["block", "concat", "embed", "flip", "fliplr", "flipud", "getitem", "hstack", "take",
           "tril", "triu", "vstack"]


def _fits(length: Dim, within: Dim) -> bool:
    """Whether length ≤ within may hold (it is not provably false)."""
    return (within - length + 1).maybe_positive


# --- slices ---------------------------------------------------------------------------------------

def _slice_shape(args: tuple[Expr, ...], r0: Dim, r1: Dim, c0: Dim, c1: Dim) -> Any:
    (x,) = args
    out = []
    for axis, (lo, hi, size) in enumerate(((r0, r1, x.rows), (c0, c1, x.cols))):
        what = "rows" if axis == 0 else "columns"
        length = hi - lo
        if not length.maybe_positive or not _fits(hi, size) or not _fits(ZERO, lo):
            raise ShapeError(f"cannot take {what} {lo}:{hi} of {describe(x)}: the range is empty "
                             f"or outside its {size} {what}")
        out.append(length)
    return (out[0], out[1])


def _bound(value: Any, size: Dim, where: str) -> Dim:
    """A bound as written (an int, negative from the end, or a dimension) as a position."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value < 0:
        return size - int(-value)
    return check_offset("slice", where, value)


def _axis_range(key: Any, size: Dim, what: str) -> tuple[Dim, Dim]:
    if isinstance(key, slice):
        if key.step not in (None, 1):
            raise InputError(f"slice: steps are not supported ({what} step {key.step!r})")
        lo = ZERO if key.start is None else _bound(key.start, size, f"{what} start")
        hi = size if key.stop is None else _bound(key.stop, size, f"{what} stop")
        return lo, hi
    if isinstance(key, (int, np.integer, str, Dim)) and not isinstance(key, bool):
        lo = _bound(key, size, what)
        return lo, lo + 1
    raise InputError(f"slice: a {what} index must be an integer, a dimension or a slice such as "
                     f"0:3, got {key!r}")


def take(x: Any, r0: Any, r1: Any, c0: Any, c1: Any) -> Expr:
    """X[r0:r1, c0:c1] for positions given as ints (≥ 0) or dimensions."""
    a = as_expr(x, "slice")
    bounds = [check_offset("slice", n, v) for n, v in (("r0", r0), ("r1", r1), ("c0", c0),
                                                      ("c1", c1))]
    if bounds == [ZERO, a.rows, ZERO, a.cols]:
        return a
    return Expr.make(SLICE, (a,), r0=bounds[0], r1=bounds[1], c0=bounds[2], c1=bounds[3])


def getitem(x: Any, key: Any) -> Expr:
    """X[rows, cols] with NumPy's spelling: ints (negative from the end), dimensions and slices
    with steps of 1; one key selects rows. The result keeps two dimensions."""
    a = as_expr(x, "slice")
    keys = key if isinstance(key, tuple) else (key, slice(None))
    if len(keys) != 2:
        raise InputError(f"slice: a matrix takes one or two indices, got {len(keys)}")
    (r0, r1), (c0, c1) = _axis_range(keys[0], a.rows, "row"), _axis_range(keys[1], a.cols, "column")
    return take(a, r0, r1, c0, c1)


def _position_text(pos: Dim, size: Dim) -> str:
    """A position as written in an index: from the end (−1) when that is shorter."""
    back = size - pos
    if back.is_int and back.coef > 0 and not pos.is_int:
        return f"-{back.coef}"
    return pos.text


def _range_text(lo: Dim, hi: Dim, size: Dim) -> str:
    if lo.is_zero and hi == size:
        return ":"
    if (hi - lo).is_one:
        return _position_text(lo, size)
    start = "" if lo.is_zero else _position_text(lo, size)
    stop = "" if hi == size else _position_text(hi, size)
    return f"{start}:{stop}"


def _range_latex(lo: Dim, hi: Dim, size: Dim) -> str:
    """1-based and inclusive, as mathematics writes it: rows 1:3 are the first three."""
    if lo.is_zero and hi == size:
        return ":"
    first = dim_latex(lo + 1)
    if (hi - lo).is_one:
        return first
    return first + ":" + dim_latex(hi)


def _slice_text(n: Expr) -> list[Any]:
    x = n.args[0]
    rows = _range_text(n.get("r0"), n.get("r1"), x.rows)
    cols = _range_text(n.get("c0"), n.get("c1"), x.cols)
    return [(0, PREC_ATOM), f"[{rows}, {cols}]"]


def _subscripted(n: Expr, script: str) -> list[Any]:
    """base_{script}; a base that is not a plain letter is braced or parenthesised."""
    x = n.args[0]
    if x.op.name == "symbol" and "_" not in (x.get("tex") or x.get("name")) and \
            not x.get("tex"):
        return [(0, PREC_ATOM), "_{" + script + "}"]
    if x.op.name in ("symbol", "named"):
        return ["{", (0, PREC_ATOM), "}_{" + script + "}"]
    return [r"\left(", (0, 0), r"\right)_{" + script + "}"]


def _slice_latex(n: Expr) -> list[Any]:
    x = n.args[0]
    rows = _range_latex(n.get("r0"), n.get("r1"), x.rows)
    cols = _range_latex(n.get("c0"), n.get("c1"), x.cols)
    return _subscripted(n, rows + ", " + cols)


def _selector(lo: Dim, hi: Dim, size: Dim) -> Expr:
    """S with S A = A[lo:hi, :] for A with ``size`` rows: rows lo:hi of the identity."""
    return take(eye(size), lo, hi, ZERO, size)


def _slice_jac(out: Expr, d: list[Expr | None]) -> Expr | None:
    """vec(X[r, c]) = (S_c ⊗ S_r) vec(X)."""
    if d[0] is None:
        return None
    x = out.args[0]
    rows = _selector(out.get("r0"), out.get("r1"), x.rows)
    cols = _selector(out.get("c0"), out.get("c1"), x.cols)
    return kron(cols, rows) @ d[0]


def _dims_code(n: Expr, env: Any, keys: tuple[str, ...]) -> str:
    return ", ".join(env.dim(n.get(k)) for k in keys)


SLICE = defop(
    "slice", 1,
    build=getitem,
    params=(Param("x"), Param("r0", "offset"), Param("r1", "offset"), Param("c0", "offset"),
            Param("c1", "offset")),
    operator="[]",
    shape=_slice_shape,
    vjp=lambda g, out: (embed(g, out.args[0].rows, out.args[0].cols, out.get("r0"),
                              out.get("c0")),),
    jac=_slice_jac,
    domain_through="all",
    text=_slice_text,
    latex=_slice_latex,
    kind="structural",
    doc=("X[r0:r1, c0:c1], 2-D; the gradient scatters G into zeros: "
         "embed(G) with G at (r0, c0)."),
    code={"all": lambda n, args, env:
          f"_slice({args[0]}, {_dims_code(n, env, ('r0', 'r1', 'c0', 'c1'))})"},
    code_helpers={"numpy": [kernels._slice], "torch": [kernels_torch._slice]},
    sample=lambda S: S.W[0:2, :],
)


# --- embed: a block in zeros ---------------------------------------------------------------------

def _embed_shape(args: tuple[Expr, ...], rows: Dim, cols: Dim, r0: Dim, c0: Dim) -> Any:
    (g,) = args
    if not _fits(g.rows + r0, rows) or not _fits(g.cols + c0, cols):
        raise ShapeError(f"embed: {describe(g)} at ({r0}, {c0}) does not fit in {rows}×{cols}")
    return (rows, cols)


def embed(g: Any, rows: Any, cols: Any, r0: Any = 0, c0: Any = 0) -> Expr:
    """A rows×cols matrix of zeros with G placed at (r0, c0): the adjoint of a slice."""
    a = as_expr(g, "embed")
    rows, cols = dim(rows), dim(cols)
    r0, c0 = check_offset("embed", "r0", r0), check_offset("embed", "c0", c0)
    if (r0, c0, rows, cols) == (ZERO, ZERO, a.rows, a.cols):
        return a
    return Expr.make(EMBED, (a,), rows=rows, cols=cols, r0=r0, c0=c0)


def _embed_text(n: Expr) -> list[Any]:
    parts = [n.get(k).text for k in ("rows", "cols", "r0", "c0")]
    return ["embed(", (0, 0), ", " + ", ".join(parts) + ")"]


def _zeros_latex(r: Dim, c: Dim) -> str:
    return r"\mathbf{0}_{" + dim_latex(r) + r" \times " + dim_latex(c) + "}"


def _embed_latex(n: Expr) -> list[Any]:
    """The block in zeros, as a block matrix (blocks of size 0 left out)."""
    g = n.args[0]
    rows, cols, r0, c0 = n.get("rows"), n.get("cols"), n.get("r0"), n.get("c0")
    below, right = rows - r0 - g.rows, cols - c0 - g.cols
    middle: list[Any] = []
    if not c0.is_zero:
        middle += [_zeros_latex(g.rows, c0), " & "]
    middle.append((0, 0))
    if not right.is_zero:
        middle += [" & ", _zeros_latex(g.rows, right)]
    out: list[Any] = [r"\begin{bmatrix} "]
    if not r0.is_zero:
        out += [_zeros_latex(r0, cols), r" \\ "]
    out += middle
    if not below.is_zero:
        out += [r" \\ ", _zeros_latex(below, cols)]
    return out + [r" \end{bmatrix}"]


EMBED = defop(
    "embed", 1,
    build=embed,
    params=(Param("g"), Param("rows", "dim"), Param("cols", "dim"), Param("r0", "offset", 0),
            Param("c0", "offset", 0)),
    spell=("embed",),
    shape=_embed_shape,
    vjp=lambda g, out: (take(g, out.get("r0"), out.get("r0") + out.args[0].rows, out.get("c0"),
                             out.get("c0") + out.args[0].cols),),
    jac=lambda out, d: None if d[0] is None else kron(
        _selector(out.get("c0"), out.get("c0") + out.args[0].cols, out.cols).T,
        _selector(out.get("r0"), out.get("r0") + out.args[0].rows, out.rows).T) @ d[0],
    text=_embed_text,
    latex=_embed_latex,
    kind="structural",
    doc="G placed at (r0, c0) in a rows×cols matrix of zeros; its gradient is the slice of G.",
    code={"all": lambda n, args, env:
          f"_embed({args[0]}, {_dims_code(n, env, ('rows', 'cols', 'r0', 'c0'))})"},
    code_helpers={"numpy": [kernels._embed], "torch": [kernels_torch._embed]},
    sample=lambda S: embed(S.W, "m + 1", "n", 1, 0),
)


# --- concatenation and block matrices -------------------------------------------------------------

def _concat_shape(args: tuple[Expr, ...], axis: int) -> Any:
    first = args[0]
    along = first.shape[axis]
    for x in args[1:]:
        if x.shape[1 - axis] != first.shape[1 - axis]:
            what = "columns" if axis == 0 else "rows"
            verb = "vstack" if axis == 0 else "hstack"
            raise ShapeError(f"{verb}: cannot stack {describe(first)} and {describe(x)}: "
                             f"{what} {first.shape[1 - axis]} ≠ {x.shape[1 - axis]}")
        along = along + x.shape[axis]
    return (along, first.cols) if axis == 0 else (first.rows, along)


def _offsets(out: Expr) -> list[Dim]:
    axis, pos, out_ = out.get("axis"), ZERO, []
    for x in out.args:
        out_.append(pos)
        pos = pos + x.shape[axis]
    return out_


def _concat_vjp(g: Expr, out: Expr) -> tuple[Expr, ...]:
    axis = out.get("axis")
    pieces = []
    for x, at in zip(out.args, _offsets(out)):
        if axis == 0:
            pieces.append(take(g, at, at + x.rows, ZERO, g.cols))
        else:
            pieces.append(take(g, ZERO, g.rows, at, at + x.cols))
    return tuple(pieces)


def _concat_jac(out: Expr, d: list[Expr | None]) -> Expr | None:
    """vec of [A; B] takes each column from A then B: (I_c ⊗ E_A) vec A + (I_c ⊗ E_B) vec B with
    E the row embeddings; vec of [A B] is vec A over vec B."""
    axis, terms = out.get("axis"), []
    for x, at, dx in zip(out.args, _offsets(out), d):
        if dx is None:
            continue
        if axis == 0:
            place = embed(eye(x.rows), out.rows, x.rows, at, ZERO)
            terms.append(kron(eye(out.cols), place) @ dx)
        else:
            size = x.rows * x.cols
            terms.append(embed(eye(size), out.rows * out.cols, size, at * out.rows, ZERO) @ dx)
    return total(*terms)


def _flat_blocks(n: Expr) -> list[list[Any]]:
    """The grid of blocks a concatenation shows: a vstack of hstacks is one block matrix."""
    if n.get("axis") == 1:
        return [[(i, 0) for i in range(len(n.args))]]
    grid: list[list[Any]] = []
    for x in n.args:
        if x.op is CONCAT and x.get("axis") == 1:
            grid.append([(a, 0) for a in x.args])
        else:
            grid.append([(x, 0)])
    return grid


def _concat_latex(n: Expr) -> list[Any]:
    out: list[Any] = [r"\begin{bmatrix} "]
    for i, row in enumerate(_flat_blocks(n)):
        if i:
            out.append(r" \\ ")
        for j, item in enumerate(row):
            if j:
                out.append(" & ")
            out.append(item)
    return out + [r" \end{bmatrix}"]


def _concat_text(n: Expr) -> list[Any]:
    out: list[Any] = ["hstack(" if n.get("axis") == 1 else "vstack("]
    for i in range(len(n.args)):
        out += ([", "] if i else []) + [(i, 0)]
    return out + [")"]


def concat(*xs: Any, axis: Any = 0) -> Expr:
    """Matrices stacked along an axis: 0 on top of each other (vstack), 1 side by side (hstack);
    ``concat(A, B)`` or ``concat([A, B])``."""
    items = list(xs[0]) if len(xs) == 1 and isinstance(xs[0], (list, tuple)) else list(xs)
    if not items:
        raise InputError("concat: give at least one matrix")
    exprs = [as_expr(x, "concat") for x in items]
    axis = check_axis("concat", axis, False)
    return exprs[0] if len(exprs) == 1 else Expr.make(CONCAT, exprs, axis=axis)


CONCAT = defop(
    "concat", 1,
    build=concat,
    params=(Param("xs", many=True), Param("axis", "axis01", 0, keyword=True)),
    spell=("concat",),
    aliases={"hstack": {"axis": 1}, "vstack": {"axis": 0}},
    shape=_concat_shape,
    vjp=_concat_vjp,
    jac=_concat_jac,
    domain_through="positive",
    text=_concat_text,
    latex=_concat_latex,
    kind="structural",
    doc=("Matrices stacked down (axis 0, vstack) or across (axis 1, hstack); sizes add (m + k); "
         "the gradient of each block is its slice of G."),
    code={"numpy": lambda n, args, env: f"np.concatenate([{', '.join(args)}], "
                                        f"axis={n.get('axis')})",
          "torch": lambda n, args, env: f"torch.cat([{', '.join(args)}], dim={n.get('axis')})"},
    sample=lambda S: hstack(S.W, S.G),
)
hstack: Builder = alias(CONCAT, "hstack", "[A B …]: matrices side by side (the same rows); "
                       "``hstack(A, B)`` or ``hstack([A, B])``.")
vstack: Builder = alias(CONCAT, "vstack", "[A; B; …]: matrices on top of each other (the same "
                       "columns).")


def block(rows: Any) -> Expr:
    """A block matrix from a list of rows of blocks, as ``np.block``: [[A, B], [C, D]]."""
    if not isinstance(rows, (list, tuple)) or not rows:
        raise InputError("block: give a list of rows of blocks, as in [[A, B], [C, D]]")
    if not any(isinstance(r, (list, tuple)) for r in rows):
        return hstack(*rows)
    if not all(isinstance(r, (list, tuple)) and r for r in rows):
        raise InputError("block: every row must be a non-empty list of blocks")
    return vstack(*[hstack(*r) for r in rows])


# --- triangles and flips -------------------------------------------------------------------------

def _triangle(name: str, doc: str, sample: Any) -> Any:
    def text(n: Expr) -> list[Any]:
        k = n.get("k")
        return [f"{name}(", (0, 0), f", {k})" if k else ")"]

    def latex(n: Expr) -> list[Any]:
        k = n.get("k")
        sub = "" if not k else "_{" + str(k) + "}"
        return [rf"\operatorname{{{name}}}{sub}\left(", (0, 0), r"\right)"]

    def mask(n: Expr) -> Expr:
        return Expr.make(n.op, (ones(n.rows, n.cols),), k=n.get("k"))

    op: Op = defop(
        name, 1,
        params=(Param("a"), Param("k", "int", 0, keyword=True)),
        spell=(name,),
        latex_in=(name,),
        shape=lambda args, k: args[0].shape,
        vjp=lambda g, out: (Expr.make(out.op, (g,), k=out.get("k")),),
        jac=lambda out, d: None if d[0] is None else dvec(mask(out)) @ d[0],
        domain_through="all",
        text=text,
        latex=latex,
        kind="structural",
        doc=doc,
        code={"numpy": lambda n, args, env: f"np.{name}({args[0]}, {n.get('k')})",
              "torch": lambda n, args, env: f"torch.{name}({args[0]}, {n.get('k')})"},
        sample=sample,
    )
    return op


TRIU = _triangle("triu", "The upper triangle (entries j − i ≥ k) of A, the rest 0; "
                 "∂/∂A = triu(G).", lambda S: triu(S.A))
TRIL = _triangle("tril", "The lower triangle (entries j − i ≤ k) of A, the rest 0; "
                 "∂/∂A = tril(G).", lambda S: tril(S.A, k=-1))
triu: Builder = builder(TRIU)
tril: Builder = builder(TRIL)


def _reversal(n: Dim) -> Expr:
    """J_n: the identity with its rows in reverse order."""
    return flip(eye(n), axis=0)


def _flip_jac(out: Expr, d: list[Expr | None]) -> Expr | None:
    if d[0] is None:
        return None
    a, axis = out.args[0], out.get("axis")
    rows = _reversal(a.rows) if axis in (None, 0) else eye(a.rows)
    cols = _reversal(a.cols) if axis in (None, 1) else eye(a.cols)
    return kron(cols, rows) @ d[0]


_FLIP_NAMES = {None: "flip", 0: "flipud", 1: "fliplr"}


def flip(a: Any, axis: Any = None) -> Expr:
    """A with the order of its rows (axis 0), columns (axis 1) or both (None) reversed."""
    x = as_expr(a, "flip")
    axis = check_axis("flip", axis, True)
    along = [d for i, d in enumerate(x.shape) if axis in (None, i)]
    if all(d.is_one for d in along):
        return x
    return Expr.make(FLIP, (x,), axis=axis)


def _flip_axes(n: Expr) -> tuple[int, ...]:
    return (0, 1) if n.get("axis") is None else (n.get("axis"),)


FLIP = defop(
    "flip", 1,
    build=flip,
    params=(Param("a"), Param("axis", "axis", None, keyword=True)),
    spell=("flip",),
    aliases={"flipud": {"axis": 0}, "fliplr": {"axis": 1}},
    latex_in=("flip", "flipud", "fliplr"),
    shape=lambda args, axis: args[0].shape,
    vjp=lambda g, out: (flip(g, out.get("axis")),),
    jac=_flip_jac,
    domain_through="all",
    text=lambda n: [_FLIP_NAMES[n.get("axis")] + "(", (0, 0), ")"],
    latex=lambda n: [r"\operatorname{" + _FLIP_NAMES[n.get("axis")] + r"}\left(", (0, 0),
                     r"\right)"],
    kind="structural",
    doc="A with its rows (flipud), columns (fliplr) or both (flip) in reverse order; "
        "∂/∂A = the same flip of G.",
    code={"numpy": lambda n, args, env: f"np.flip({args[0]}, {_flip_axes(n)})",
          "torch": lambda n, args, env: f"torch.flip({args[0]}, {_flip_axes(n)})"},
    sample=lambda S: flip(S.W, axis=0),
)
flipud: Builder = alias(FLIP, "flipud", "A with the order of its rows reversed (flip along "
                        "axis 0).")
fliplr: Builder = alias(FLIP, "fliplr", "A with the order of its columns reversed (flip along "
                        "axis 1).")

