"""HIPS autograd's gradient tests (tests/test_linalg.py, test_numpy.py, test_scipy.py at commit
bff107b), re-expressed in matcalc: their cases, our code.

Every test of the three files has a row. A row is either a case — a list of checks, each a scalar
loss, the variables autograd differentiates by and the values it uses (same shapes, same kind of
random draw) — or the reason matcalc cannot write it. Where autograd checks a matrix-valued
function (check_grads projects its output on a random direction), the loss is ⟨G, f(X)⟩ with a
fixed random G: the same vector–Jacobian product. tests/test_peer_autograd.py runs every case
against finite differences and, where PyTorch is installed, against torch.autograd.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

import matcalc as mc

Check = tuple[mc.Expr, list[str], dict[str, np.ndarray]]


@dataclass
class Peer:
    """One autograd test: its checks in matcalc, or why it cannot be written."""

    name: str
    file: str
    build: Callable[[], list[Check]] | None = None
    reason: str = ""  # why it cannot be written (no build)
    note: str = ""  # which part is written, when not all of it


def _rng(name: str) -> np.random.Generator:
    """A generator seeded by the case's name (so that each case draws its own values)."""
    return np.random.default_rng(sum(ord(c) * (i + 1) for i, c in enumerate(name)))


def sym(name: str, value: np.ndarray, structure: str | None = None) -> mc.Expr:
    """A symbol shaped like a value (1-D values are columns)."""
    r, c = value.shape if value.ndim == 2 else (value.shape[0], 1) if value.ndim == 1 else (1, 1)
    return mc.Matrix(name, r, c, structure)


def col(a: np.ndarray) -> np.ndarray:
    return a.reshape(-1, 1) if a.ndim == 1 else a


def vjp_loss(out: mc.Expr, rng: np.random.Generator, values: dict[str, np.ndarray],
             name: str = "Gout") -> mc.Expr:
    """⟨G, out⟩ with a fixed random G added to values: autograd's projection of a matrix output."""
    r, c = (int(d.coef) for d in out.shape)
    values[name] = rng.standard_normal((r, c))
    return mc.sum(mc.Matrix(name, r, c) * out)


def unary(fn: Callable[[mc.Expr], mc.Expr], make: Callable[[np.random.Generator], np.ndarray],
          name: str) -> Callable[[], list[Check]]:
    """f(X) checked by its VJP at a value drawn by make."""

    def build() -> list[Check]:
        rng = _rng(name)
        x = col(make(rng))
        values = {"X": x}
        return [(vjp_loss(fn(sym("X", x)), rng, values), ["X"], values)]

    return build


# --- test_linalg.py -------------------------------------------------------------------------------

def _inv() -> list[Check]:
    rng = _rng("inv")
    m = rng.standard_normal((8, 8))
    x = m @ m + np.eye(8)
    values = {"X": x}
    return [(vjp_loss(mc.inv(sym("X", x)), rng, values), ["X"], values)]


def _pinv() -> list[Check]:
    rng, out = _rng("pinv"), []
    for m in range(2, 8):
        x = rng.standard_normal((5, m))
        values = {"X": x}
        out.append((vjp_loss(mc.pinv(sym("X", x)), rng, values), ["X"], values))
        values = {"X": x}  # a square matrix of low (fixed) rank: XᵀX for m > 5
        X = sym("X", x)
        out.append((vjp_loss(mc.pinv(X.T @ X), rng, values), ["X"], values))
    return out


def _solve(arg: int, d: int, shift: float, one_d: bool = False) -> Callable[[], list[Check]]:
    def build() -> list[Check]:
        rng = _rng(f"solve{arg}{d}{one_d}")
        a = rng.standard_normal((d, d)) + shift * np.eye(d)
        b = rng.standard_normal((d, 1) if one_d else (d, d - 1))
        values = {"A": a, "B": b}
        loss = vjp_loss(mc.solve(sym("A", a), sym("B", b)), rng, values)
        return [(loss, ["A" if arg == 1 else "B"], values)]

    return build


def _det() -> list[Check]:
    rng = _rng("det")
    x = rng.standard_normal((6, 6))
    return [(mc.det(sym("X", x)), ["X"], {"X": x})]


def _slogdet() -> list[Check]:
    rng = _rng("slogdet")
    x = rng.standard_normal((6, 6))
    X = sym("X", x)
    return [(mc.slogdet(X)[1], ["X"], {"X": x}), (mc.logabsdet(-X), ["X"], {"X": x})]


def _norm(ord: object = None, shape: tuple[int, ...] = (6,)) -> Callable[[], list[Check]]:
    def build() -> list[Check]:
        rng = _rng(f"norm{ord}{shape}")
        x = col(rng.standard_normal(shape))
        return [(mc.norm(sym("X", x), ord=ord), ["X"], {"X": x})]

    return build


def _norm_of_list() -> list[Check]:
    x = mc.Scalar("x")
    return [(mc.norm(mc.vstack(x, x + 2)), ["x"], {"x": np.zeros((1, 1))})]


def _eigh(uplo: str) -> Callable[[], list[Check]]:
    """eigh reads one triangle: the symmetric matrix LAPACK sees is tril(X) + tril(X, -1)ᵀ."""

    def build() -> list[Check]:
        rng = _rng("eigh" + uplo)
        x = rng.standard_normal((6, 6))
        X = sym("X", x)
        seen = mc.tril(X) + mc.tril(X, k=-1).T if uplo == "L" else mc.triu(X) + mc.triu(X, k=1).T
        w, v = mc.eigh(seen)
        values = {"X": x}
        loss = vjp_loss(w, rng, values, "Gw") + vjp_loss(v, rng, values, "Gv")
        return [(loss, ["X"], values)]

    return build


def _psd(rng: np.random.Generator, d: int) -> np.ndarray:
    m = rng.standard_normal((d, d))
    return m @ m.T


def _symmetrised(X: mc.Expr) -> mc.Expr:
    """autograd's check_symmetric_matrix_grads: (L + Lᵀ)/2 with L = tril(X)."""
    return (mc.tril(X) + mc.tril(X).T) / 2


def _cholesky() -> list[Check]:
    rng = _rng("cholesky")
    a = _psd(rng, 6)
    values = {"A": a}
    return [(vjp_loss(mc.cholesky(_symmetrised(sym("A", a))), rng, values), ["A"], values)]


def _cholesky_trick() -> list[Check]:
    rng = _rng("reparameterization")
    a = _psd(rng, 6)
    z = rng.standard_normal((6, 1))
    loss = mc.norm(mc.cholesky(_symmetrised(sym("A", a))) @ sym("z", z))
    return [(loss, ["A"], {"A": a, "z": z})]


def svd(x: mc.Expr) -> tuple[mc.Expr, mc.Expr, mc.Expr]:
    """U, s, Vᵀ of a thin SVD from the symmetric eigenproblems (uᵢ = A vᵢ / σᵢ)."""
    m, n = (int(d.coef) for d in x.shape)
    s = mc.svdvals(x)
    if m >= n:
        v = mc.fliplr(mc.eigvecsh(x.T @ x))
        return x @ v / s.T, s, v.T
    u = mc.fliplr(mc.eigvecsh(x @ x.T))
    return u, s, (x.T @ u / s.T).T


def _svd(m: int, n: int, only_s: bool = False) -> Callable[[], list[Check]]:
    def build() -> list[Check]:
        rng = _rng(f"svd{m}{n}{only_s}")
        x = rng.standard_normal((m, n))
        values = {"X": x}
        u, s, vt = svd(sym("X", x))
        loss = vjp_loss(s, rng, values, "Gs")
        if not only_s:
            loss = loss + vjp_loss(u, rng, values, "Gu") + vjp_loss(vt, rng, values, "Gv")
        return [(loss, ["X"], values)]

    return build


COMPLEX = "complex numbers: matcalc's values are real"
ND = "arrays of three or more dimensions: matcalc's expressions are matrices"
GENERAL_EIG = "eigenvalues of a non-symmetric matrix are complex: only eigh is an op"

LINALG = [
    Peer("test_inv", "test_linalg.py", _inv),
    Peer("test_pinv", "test_linalg.py", _pinv),
    Peer("test_inv_3d", "test_linalg.py", reason=ND),
    Peer("test_solve_arg1", "test_linalg.py", _solve(1, 8, 10.0)),
    Peer("test_solve_arg1_1d", "test_linalg.py", _solve(1, 8, 10.0, one_d=True)),
    Peer("test_solve_arg2", "test_linalg.py", _solve(2, 6, 1.0)),
    Peer("test_solve_arg1_3d", "test_linalg.py", reason=ND),
    Peer("test_solve_arg1_3d_3d", "test_linalg.py", reason=ND),
    Peer("test_det", "test_linalg.py", _det),
    Peer("test_det_3d", "test_linalg.py", reason=ND),
    Peer("test_slogdet", "test_linalg.py", _slogdet),
    Peer("test_slogdet_3d", "test_linalg.py", reason=ND),
    Peer("test_vector_2norm", "test_linalg.py", _norm()),
    Peer("test_norm_list_of_boxes", "test_linalg.py", _norm_of_list),
    Peer("test_vector_2norm_complex", "test_linalg.py", reason=COMPLEX),
    Peer("test_frobenius_norm", "test_linalg.py", _norm(None, (6, 5))),
    Peer("test_frobenius_norm_complex", "test_linalg.py", reason=COMPLEX),
    Peer("test_frobenius_norm_axis", "test_linalg.py", reason=ND),
    Peer("test_frobenius_norm_axis_complex", "test_linalg.py", reason=COMPLEX),
    *[Peer(f"test_vector_norm_ord[6-{p}]", "test_linalg.py", _norm(p)) for p in (2, 3, 4)],
    *[Peer(f"test_vector_norm_ord_complex[6-{p}]", "test_linalg.py", reason=COMPLEX)
      for p in (2, 3, 4)],
    *[Peer(f"test_norm_axis[(6, 5, 4)-{a}]", "test_linalg.py", reason=ND) for a in range(3)],
    *[Peer(f"test_norm_axis_complex[(6, 5, 4)-{a}]", "test_linalg.py", reason=COMPLEX)
      for a in range(3)],
    Peer("test_norm_nuclear", "test_linalg.py", _norm("nuc", (6, 5))),
    Peer("test_norm_nuclear_complex", "test_linalg.py", reason=COMPLEX),
    Peer("test_norm_nuclear_axis", "test_linalg.py", reason=ND),
    Peer("test_norm_nuclear_axis_complex", "test_linalg.py", reason=COMPLEX),
    Peer("test_eigvalh_lower", "test_linalg.py", _eigh("L")),
    Peer("test_eigvalh_upper", "test_linalg.py", _eigh("U")),
    Peer("test_eigvalh_lower_broadcasting", "test_linalg.py", reason=ND),
    Peer("test_eigvalh_upper_broadcasting", "test_linalg.py", reason=ND),
    Peer("test_eigvalh_lower_complex", "test_linalg.py", reason=COMPLEX),
    Peer("test_eigvalh_upper_complex", "test_linalg.py", reason=COMPLEX),
    Peer("test_eig_real", "test_linalg.py", reason=GENERAL_EIG),
    Peer("test_eig_complex", "test_linalg.py", reason=COMPLEX),
    Peer("test_eig_batched", "test_linalg.py", reason=COMPLEX),
    Peer("test_cholesky", "test_linalg.py", _cholesky),
    Peer("test_cholesky_broadcast", "test_linalg.py", reason=ND),
    Peer("test_cholesky_reparameterization_trick", "test_linalg.py", _cholesky_trick),
    Peer("test_svd_wide_2d", "test_linalg.py", _svd(3, 5)),
    Peer("test_svd_wide_2d_complex", "test_linalg.py", reason=COMPLEX),
    Peer("test_svd_wide_3d", "test_linalg.py", reason=ND),
    Peer("test_svd_wide_3d_complex", "test_linalg.py", reason=COMPLEX),
    Peer("test_svd_square_2d", "test_linalg.py", _svd(4, 4)),
    Peer("test_svd_square_2d_complex", "test_linalg.py", reason=COMPLEX),
    Peer("test_svd_square_3d", "test_linalg.py", reason=ND),
    Peer("test_svd_square_3d_complex", "test_linalg.py", reason=COMPLEX),
    Peer("test_svd_tall_2d", "test_linalg.py", _svd(5, 3)),
    Peer("test_svd_tall_2d_complex", "test_linalg.py", reason=COMPLEX),
    Peer("test_svd_tall_3d", "test_linalg.py", reason=ND),
    Peer("test_svd_tall_3d_complex", "test_linalg.py", reason=COMPLEX),
    Peer("test_svd_only_s_2d", "test_linalg.py", _svd(5, 3, only_s=True)),
    Peer("test_svd_only_s_2d_complex", "test_linalg.py", reason=COMPLEX),
    Peer("test_svd_only_s_3d", "test_linalg.py", reason=ND),
    Peer("test_svd_only_s_3d_complex", "test_linalg.py", reason=COMPLEX),
]


# --- test_numpy.py --------------------------------------------------------------------------------

def randn(*shape: int) -> Callable[[np.random.Generator], np.ndarray]:
    return lambda rng: rng.standard_normal(shape)


def _binary(fn: Callable[[mc.Expr, mc.Expr], mc.Expr], shapes: list[tuple[tuple[int, ...], ...]],
            name: str) -> Callable[[], list[Check]]:
    """f(X, Y) checked in both arguments for each pair of shapes."""

    def build() -> list[Check]:
        rng, out = _rng(name), []
        for sx, sy in shapes:
            x, y = col(rng.standard_normal(sx)), col(rng.standard_normal(sy))
            values = {"X": x, "Y": y}
            out.append((vjp_loss(fn(sym("X", x), sym("Y", y)), rng, values), ["X", "Y"], values))
        return out

    return build


def _dot(x: mc.Expr, y: mc.Expr) -> mc.Expr:
    """np.dot of matrices and 1-D vectors (columns here): a 1-D left operand is a row."""
    if x.cols.is_one and not (y.cols.is_one and y.rows.is_one) and x.rows == y.rows:
        return x.T @ y
    return x @ y


def _scalar_of(fn: Callable[[mc.Expr], mc.Expr], points: list[float],
               name: str) -> Callable[[], list[Check]]:
    """A function of one number x, checked at each point (as autograd's tie tests are)."""

    def build() -> list[Check]:
        rng, out = _rng(name), []
        for p in points:
            values = {"x": np.full((1, 1), p)}
            out.append((vjp_loss(fn(mc.Scalar("x")), rng, values), ["x"], values))
        return out

    return build


def _roll(x: mc.Expr, shift: int) -> mc.Expr:
    """np.roll along axis 1: the last columns first."""
    return mc.hstack(x[:, -shift:], x[:, :-shift])


def _where() -> list[Check]:
    rng = _rng("where")
    c = (rng.standard_normal((4, 5)) > 0).astype(float)
    a, b = rng.standard_normal((4, 5)), rng.standard_normal((4, 5))
    values = {"C": c, "X": a, "Y": b}
    loss = vjp_loss(mc.where(sym("C", c), sym("X", a), sym("Y", b)), rng, values)
    return [(loss, ["X", "Y"], values)]


def _spread(fn: str) -> Callable[[], list[Check]]:
    """np.var / np.std over the combinations autograd's combo_check draws (2-D cases)."""

    def build() -> list[Check]:
        rng, out = _rng(fn), []
        b, c, d = col(rng.standard_normal(3)), rng.standard_normal((3, 4)), \
            rng.standard_normal((1, 3))
        f = getattr(mc, fn)
        for x in (b, c, d):
            for ddof in (0, 1):
                out.append((f(sym("X", x), ddof=ddof), ["X"], {"X": x}))
        for x in (c, d):
            for axis in (None, 1):
                values = {"X": x}
                out.append((vjp_loss(f(sym("X", x), axis=axis, ddof=2), rng, values), ["X"],
                            values))
        return out

    return build


def _list_stat(fn: str) -> list[Check]:
    x = mc.Scalar("x")
    return [(getattr(mc, fn)(mc.vstack(x, x + 2)), ["x"], {"x": np.zeros((1, 1))})]


def _scalar_array(rows: list[list[Callable[[mc.Expr], mc.Expr]]], name: str,
                  points: list[float] | None = None) -> Callable[[], list[Check]]:
    return _scalar_of(lambda x: mc.block([[f(x) for f in r] for r in rows]), points or [1.3],
                      name)


_X = lambda x: x


def _maximum_2d(x: mc.Expr) -> mc.Expr:
    row = mc.hstack(x, x, 0.5 * mc.ones(1, 1))
    return mc.maximum(row, mc.block([[x, 0.5 * mc.ones(1, 1), x], [x, x, 0.5 * mc.ones(1, 1)]]))


def _half() -> mc.Expr:
    return 0.5 * mc.ones(1, 1)


def _reductions_on_box() -> list[Check]:
    """sum, prod, max, min of exp(a) ⊙ base for a number a (base a fixed positive vector)."""
    rng = _rng("plain")
    base = np.abs(rng.standard_normal((5, 1))) + 0.5
    a, b = mc.Scalar("a"), mc.Matrix("base", 5, 1)
    values = {"a": np.full((1, 1), 0.7), "base": base}
    return [(f(mc.exp(a) * b), ["a"], values) for f in (mc.sum, mc.prod, mc.max, mc.min)]


def _trace(rows: int, cols: int) -> Callable[[], list[Check]]:
    """np.trace(x, offset) at offsets on both sides: the trace of the square slice the offset
    diagonal runs through."""

    def build() -> list[Check]:
        rng, out = _rng(f"trace{rows}{cols}"), []
        for k in (3, -4):
            x = rng.standard_normal((rows, cols))
            X = sym("X", x)
            length = min(rows, cols - k) if k >= 0 else min(rows + k, cols)
            block = X[0:length, k:k + length] if k >= 0 else X[-k:-k + length, 0:length]
            out.append((mc.trace(block), ["X"], {"X": x}))
        return out

    return build


def _linspace() -> list[Check]:
    """np.linspace(x, y, 5) = x + (y − x) t for t = 0, 1/4, …, 1."""
    out = []
    for y in (3.4, -3.4, 1.2):
        values = {"x": np.full((1, 1), 1.2), "y": np.full((1, 1), y),
                  "t": np.linspace(0, 1, 5).reshape(-1, 1),
                  "Gout": np.arange(1.0, 6.0).reshape(-1, 1)}
        x, yy = mc.Scalar("x"), mc.Scalar("y")
        line = x + (yy - x) * mc.Matrix("t", 5, 1)
        out.append((mc.sum(mc.Matrix("Gout", 5, 1) * line), ["x", "y"], values))
    return out


NOT_ARRAY = "a property of autograd's array boxes, not a gradient"
INT = "integer arrays and casts: matcalc's values are real"
FANCY = "indexing by a list of indices (gather): not an op"
STEPPED = "slicing with a step (x[::-1]) on a 3-D array"

NUMPY = [
    Peer("test_numpy_version", "test_numpy.py", reason=NOT_ARRAY),
    Peer("test_dot", "test_numpy.py", _binary(_dot, [((10, 11), (11,)), ((10, 11), (11, 10)),
                                                      ((10,), (10, 11)), ((11,), (11,))], "dot")),
    Peer("test_dot_with_floats", "test_numpy.py", _binary(
        lambda x, y: x * y, [((10, 11), (1, 1)), ((1, 1), (10, 11)), ((10,), (1, 1)),
                             ((1, 1), (10,))], "dotf")),
    Peer("test_outer", "test_numpy.py", _binary(lambda x, y: x @ y.T, [((11,), (11,))], "outer")),
    Peer("test_max", "test_numpy.py", unary(mc.max, randn(10, 11), "max")),
    Peer("test_max_axis", "test_numpy.py", reason=ND),
    Peer("test_max_axis_keepdims", "test_numpy.py", reason=ND),
    Peer("test_min", "test_numpy.py", unary(mc.min, randn(10, 11), "min")),
    Peer("test_min_axis", "test_numpy.py", reason=ND),
    Peer("test_min_axis_keepdims", "test_numpy.py", reason=ND),
    Peer("test_sum_1", "test_numpy.py", unary(mc.sum, randn(10, 11), "sum1")),
    Peer("test_sum_2", "test_numpy.py", unary(lambda x: mc.sum(x, axis=0), randn(10, 11), "s2")),
    Peer("test_sum_3", "test_numpy.py", unary(lambda x: mc.sum(x, axis=0), randn(10, 11), "s3")),
    Peer("test_sum_with_axis_tuple", "test_numpy.py", reason=ND),
    Peer("test_plain_numpy_reductions_on_box", "test_numpy.py", _reductions_on_box),
    Peer("test_flipud", "test_numpy.py", unary(mc.flipud, randn(10, 11), "flipud")),
    Peer("test_fliplr", "test_numpy.py", unary(mc.fliplr, randn(10, 11), "fliplr")),
    Peer("test_rot90", "test_numpy.py", unary(lambda x: mc.fliplr(x).T, randn(10, 11), "rot90")),
    Peer("test_cumsum_axis0", "test_numpy.py", unary(lambda x: mc.cumsum(x, axis=0),
                                                     randn(10, 11), "cumsum0")),
    Peer("test_cumsum_axis1", "test_numpy.py", unary(lambda x: mc.cumsum(x, axis=1),
                                                     randn(10, 11), "cumsum1")),
    Peer("test_cumsum_1d", "test_numpy.py", unary(lambda x: mc.cumsum(x, axis=0), randn(10),
                                                  "cumsum1d")),
    Peer("test_cumsum_no_axis", "test_numpy.py", unary(
        lambda x: mc.cumsum(mc.vec(x.T), axis=0), randn(10, 11), "cumsumflat")),
    Peer("test_non_numpy_sum", "test_numpy.py", _binary(lambda x, y: x + y,
                                                        [((10, 11), (10, 11))], "nnsum")),
    Peer("test_mean_1", "test_numpy.py", unary(mc.mean, randn(10, 11), "mean1")),
    Peer("test_mean_2", "test_numpy.py", unary(lambda x: mc.mean(x, axis=0), randn(10, 11),
                                               "mean2")),
    Peer("test_mean_3", "test_numpy.py", unary(lambda x: mc.mean(x, axis=0), randn(10, 11),
                                               "mean3")),
    Peer("test_mean_list_of_boxes", "test_numpy.py", lambda: _list_stat("mean")),
    Peer("test_std_list_of_boxes", "test_numpy.py", lambda: _list_stat("std")),
    Peer("test_var_list_of_boxes", "test_numpy.py", lambda: _list_stat("var")),
    Peer("test_index_ints", "test_numpy.py", reason=ND),
    Peer("test_index_slice", "test_numpy.py", reason=STEPPED),
    Peer("test_index_lists", "test_numpy.py", reason=FANCY),
    Peer("test_index_mixed", "test_numpy.py", reason=FANCY),
    Peer("test_vector_slice", "test_numpy.py", unary(lambda x: x[2:4], randn(5), "vslice")),
    Peer("test_index_slice_fanout", "test_numpy.py", reason=STEPPED),
    Peer("test_index_multiple_slices", "test_numpy.py", unary(lambda x: x[2:6][1:3], randn(7),
                                                              "mslices")),
    *[Peer(n, "test_numpy.py", reason=ND) for n in (
        "test_reshape_method", "test_reshape_call", "test_reshape_method_nolist",
        "test_ravel_method", "test_ravel_call", "test_flatten_method")],
    Peer("test_simple_append_list", "test_numpy.py", _binary(
        lambda x, y: mc.vstack(x, y), [((3,), (1, 1))], "append")),
    Peer("test_simple_append_arr", "test_numpy.py", _binary(
        lambda x, y: mc.vstack(x, y), [((3,), (1, 1))], "appendarr")),
    Peer("test_simple_append_list_2D", "test_numpy.py", _binary(
        lambda x, y: mc.vstack(x, y), [((2, 3), (1, 3))], "append2d")),
    *[Peer(n, "test_numpy.py", reason=ND) for n in (
        "test_simple_concatenate", "test_concatenate_axis_0", "test_concatenate_axis_1",
        "test_concatenate_axis_1_unnamed")],
    Peer("test_trace", "test_numpy.py", _trace(10, 11)),
    Peer("test_trace2", "test_numpy.py", _trace(11, 10)),
    Peer("test_trace_extradims", "test_numpy.py", reason=ND),
    Peer("test_diag", "test_numpy.py", unary(mc.diag, randn(10, 10), "diag")),
    Peer("test_transpose", "test_numpy.py", unary(lambda x: x.T, randn(8, 8), "transpose")),
    Peer("test_roll", "test_numpy.py", unary(lambda x: _roll(x, 2), randn(4, 5), "roll")),
    Peer("test_roll_no_axis", "test_numpy.py", unary(lambda x: _roll(x, 2), randn(4, 5),
                                                     "rollna")),
    Peer("test_triu", "test_numpy.py", unary(lambda x: mc.triu(x, k=2), randn(5, 5), "triu")),
    Peer("test_tril", "test_numpy.py", unary(lambda x: mc.tril(x, k=2), randn(5, 5), "tril")),
    Peer("test_clip", "test_numpy.py", unary(lambda x: mc.clip(x, 0.1, 1.1), randn(5, 5),
                                             "clip")),
    Peer("test_prod_1", "test_numpy.py", unary(
        mc.prod, lambda r: r.standard_normal((2, 3)) ** 2 / 10 + 0.1, "prod1")),
    Peer("test_prod_2", "test_numpy.py", unary(
        lambda x: mc.prod(x, axis=0), lambda r: r.standard_normal((2, 3)) ** 2 + 0.1, "prod2")),
    Peer("test_prod_3", "test_numpy.py", unary(
        lambda x: mc.prod(x, axis=0), lambda r: r.standard_normal((2, 3)) ** 2 + 0.1, "prod3")),
    Peer("test_prod_4", "test_numpy.py", unary(
        mc.prod, lambda r: r.standard_normal(7) ** 2 + 0.1, "prod4")),
    Peer("test_1d_array", "test_numpy.py", _scalar_array(
        [[_X], [lambda x: x * 1.0], [lambda x: x + 2.5]], "arr1d")),
    Peer("test_2d_array", "test_numpy.py", _scalar_array(
        [[_X, lambda x: x * 1.0, lambda x: x + 2.5], [lambda x: x ** 2, _X, lambda x: x / 2]],
        "arr2d")),
    Peer("test_1d_array_fanout", "test_numpy.py", _scalar_of(
        lambda x: 2 * mc.vstack(x, x * 1.0, x + 2.5), [1.3], "arr1dfan")),
    Peer("test_2d_array_fanout", "test_numpy.py", _scalar_of(
        lambda x: 2 * mc.block([[x, x * 1.0, x + 2.5], [x ** 2, x, x / 2]]), [1.3], "arr2dfan")),
    Peer("test_array_from_scalar", "test_numpy.py", _scalar_of(lambda x: x, [1.3], "fromsc")),
    Peer("test_scalar_array_box_attributes", "test_numpy.py", _scalar_of(
        lambda x: x ** 2, [3.0], "attrs")),
    Peer("test_array_from_arrays", "test_numpy.py", reason=ND),
    Peer("test_array_from_arrays_2", "test_numpy.py", reason=ND),
    Peer("test_len", "test_numpy.py", reason=NOT_ARRAY),
    Peer("test_r_basic", "test_numpy.py", unary(lambda x: x, randn(3, 2), "rbasic")),
    Peer("test_r_double", "test_numpy.py", unary(lambda x: mc.vstack(x, x), randn(3, 2), "rdbl")),
    Peer("test_no_relation", "test_numpy.py", reason="the function does not depend on x "
         "(matcalc's gradient of a constant is zeros; nothing to check)"),
    Peer("test_r_no_relation", "test_numpy.py", reason="the function does not depend on x"),
    Peer("test_r_node_and_const", "test_numpy.py", _binary(
        lambda x, c: mc.vstack(x, c), [((3, 2), (3, 2))], "rnc")),
    Peer("test_r_mixed", "test_numpy.py", _binary(
        lambda x, c: mc.vstack(x, c, x), [((3, 2), (3, 2))], "rmixed")),
    Peer("test_r_slicing", "test_numpy.py", reason="np.r_ with a range (1:10) builds integer "
         "data inside the array"),
    Peer("test_c_", "test_numpy.py", _binary(lambda x, c: mc.hstack(x, c, x),
                                             [((3, 2), (3, 2))], "c_")),
    Peer("test_c_mixed", "test_numpy.py", _binary(lambda x, c: mc.hstack(x, c, x),
                                                  [((3, 2), (3, 2))], "cmixed")),
    Peer("test_var_ddof", "test_numpy.py", _spread("var")),
    Peer("test_std_ddof", "test_numpy.py", _spread("std")),
    Peer("test_where", "test_numpy.py", _where),
    Peer("test_squeeze_func", "test_numpy.py", reason=ND),
    Peer("test_squeeze_method", "test_numpy.py", reason=ND),
    Peer("test_repeat", "test_numpy.py", reason=ND),
    Peer("test_repeat_axis1_rep1", "test_numpy.py", reason=ND),
    Peer("test_repeat_axis0", "test_numpy.py", unary(
        lambda x: mc.kron(x, mc.ones(2, 1)), randn(5, 3), "repeat0")),
    Peer("test_repeat_1d_axis0", "test_numpy.py", unary(
        lambda x: mc.kron(x, mc.ones(2, 1)), randn(5), "repeat1d")),
    Peer("test_repeat_axis0_rep1", "test_numpy.py", unary(lambda x: x, randn(5, 1), "rep1")),
    Peer("test_expand_dims", "test_numpy.py", reason=ND),
    Peer("test_tensordot_kwargs_by_position", "test_numpy.py", _scalar_of(
        lambda x: mc.sum((x * mc.ones(2, 2)) * (x * mc.ones(2, 2))), [1.0], "tensordot")),
    Peer("test_multi_index", "test_numpy.py", unary(lambda x: mc.sum(mc.vstack(x[0], x[0])),
                                                    randn(3), "mindex")),
    Peer("test_multi_index2", "test_numpy.py", unary(
        lambda x: mc.sum(mc.vstack(x[0], x[1], x[0])), randn(3), "mindex2")),
    Peer("test_index_dot_slices", "test_numpy.py", unary(lambda x: x[:2].T @ x[2:], randn(4),
                                                         "idots")),
    Peer("test_cast_to_int", "test_numpy.py", reason=INT),
    Peer("test_make_diagonal", "test_numpy.py", unary(mc.diag, randn(4), "mkdiag")),
    Peer("test_diagonal", "test_numpy.py", unary(mc.diag, randn(4, 4), "diagonal")),
    Peer("test_nan_to_num", "test_numpy.py", reason="non-finite values (nan, inf) are not "
         "numbers matcalc takes"),
    Peer("test_max_equal_values", "test_numpy.py", _scalar_of(
        lambda x: mc.max(mc.vstack(x, x)), [1.0], "maxeq")),
    Peer("test_max_equal_values_2d", "test_numpy.py", _scalar_of(
        lambda x: mc.max(mc.block([[x, x], [x, _half()]]), axis=1), [1.0, -1.0], "maxeq2")),
    Peer("test_min_3_way_equality", "test_numpy.py", _scalar_of(
        lambda x: mc.min(mc.block([[x, x, x], [x, _half(), _half()], [_half(), _half(), _half()],
                                   [x, x, _half()]]), axis=0), [1.0, -1.0], "min3")),
    Peer("test_maximum_equal_values", "test_numpy.py", _scalar_of(
        lambda x: mc.maximum(x, x), [1.0], "maximumeq")),
    Peer("test_maximum_equal_values_2d", "test_numpy.py", _scalar_of(
        _maximum_2d, [1.0, -1.0, 2.0], "maximumeq2")),
    Peer("test_linspace", "test_numpy.py", _linspace),
    Peer("test_astype", "test_numpy.py", reason="float32 arrays: matcalc computes in float64"),
    Peer("test_gradient", "test_numpy.py", unary(
        lambda x: mc.vstack(x[1] - x[0], (x[2:] - x[:-2]) / 2, x[-1] - x[-2]), randn(10),
        "npgradient"), note="its 1-D case; the 2-D and 3-D cases return a list of arrays, and "
        "3-D arrays are not matrices"),
]


# --- test_scipy.py --------------------------------------------------------------------------------

SQRT2PI = math.sqrt(2 * math.pi)


def _normal(fn: str, x: mc.Expr, mu: mc.Expr, s: mc.Expr) -> mc.Expr:
    """scipy.stats.norm's functions in closed form."""
    z = (x - mu) / s
    if fn == "pdf":
        return mc.exp(-(z ** 2) / 2) / (s * SQRT2PI)
    if fn == "logpdf":
        return -(z ** 2) / 2 - mc.log(s) - math.log(SQRT2PI)
    cdf = (1 + mc.erf(z / math.sqrt(2))) / 2
    sf = (1 - mc.erf(z / math.sqrt(2))) / 2
    return {"cdf": cdf, "sf": sf, "logcdf": mc.log(cdf), "logsf": mc.log(sf)}[fn]


def _norm_stats(fn: str, broadcast: bool) -> Callable[[], list[Check]]:
    def build() -> list[Check]:
        rng = _rng(fn + str(broadcast))
        shapes = [(4, 3), (1, 3), (4, 1)] if broadcast else [(4, 1), (4, 1), (4, 1)]
        x, mu = rng.standard_normal(shapes[0]), rng.standard_normal(shapes[1])
        s = rng.standard_normal(shapes[2]) ** 2 + 1.1
        values = {"X": x, "M": mu, "S": s}
        out = _normal(fn, sym("X", x), sym("M", mu), sym("S", s))
        return [(vjp_loss(out, rng, values), ["X", "M", "S"], values)]

    return build


def _mvn(fn: str, points: int = 0) -> Callable[[], list[Check]]:
    """scipy.stats.multivariate_normal's logpdf, pdf and entropy of a symmetrised covariance,
    for one point (a column) or a batch of points (rows)."""

    def build() -> list[Check]:
        rng = _rng("mvn" + fn + str(points))
        d = 4
        raw = rng.standard_normal((d, d))
        k = raw.T @ raw + np.eye(d)
        x = rng.standard_normal((points, d) if points else (d, 1))
        mu = rng.standard_normal((d, 1))
        values = {"X": x, "M": mu, "K": k}
        X, M, K = sym("X", x), sym("M", mu), sym("K", k)
        cov = (K + K.T) / 2
        const = d * math.log(2 * math.pi)
        if fn == "entropy":
            entropy = 0.5 * (d * (1 + math.log(2 * math.pi)) + mc.logdet(cov))
            return [(entropy, ["K"], {"K": k})]
        if points:
            diff = X - M.T
            quad = mc.sum(diff * mc.solve(cov, diff.T).T, axis=1)
        else:
            diff = X - M
            quad = diff.T @ mc.solve(cov, diff)
        logpdf = -0.5 * (quad + const + mc.logdet(cov))
        out = logpdf if fn == "logpdf" else mc.exp(logpdf)
        loss = vjp_loss(out, rng, values) if points else out
        return [(loss, ["X", "M", "K"], values)]

    return build


def _logsumexp(case: int) -> Callable[[], list[Check]]:
    """special.logsumexp over autograd's combinations (the 2-D ones), with weights b as
    logsumexp(x + log b)."""

    def build() -> list[Check]:
        rng, out = _rng(f"lse{case}"), []
        arrays = {1: [np.array([[1.1]]), col(rng.standard_normal(4)),
                      rng.standard_normal((3, 4))],
                  2: [rng.standard_normal((3, 4)), rng.standard_normal((1, 5))],
                  3: [col(rng.standard_normal(4))], 4: [rng.standard_normal((3, 4))]}[case]
        axes = {1: [None, 0], 2: [None, 0, 1], 3: [None, 0], 4: [None, 0, 1]}[case]
        for x in arrays:
            for axis in axes:
                values = {"X": x}
                inner = sym("X", x)
                if case in (3, 4):
                    values["b"] = np.exp(rng.standard_normal(x.shape))
                    inner = inner + mc.log(sym("b", values["b"]))
                out.append((vjp_loss(mc.logsumexp(inner, axis=axis), rng, values), ["X"],
                            values))
        return out

    return build


def _logsumexp_second_order() -> list[Check]:
    rng = _rng("lse6")
    x = rng.standard_normal((1, 5))
    X = sym("X", x)
    first = mc.grad(mc.logsumexp(X, axis=1), "X")
    values = {"X": x}
    return [(mc.logsumexp(X, axis=1), ["X"], {"X": x}),
            (vjp_loss(first, rng, values), ["X"], values)]


def _ufunc(fn: Callable[[mc.Expr], mc.Expr], lims: tuple[float, float],
           name: str) -> Callable[[], list[Check]]:
    """unary_ufunc_check's real inputs: a number, a vector, 3×2 and 1×2 matrices in lims."""

    def build() -> list[Check]:
        rng, out = _rng(name), []
        lo, hi = lims
        for shape in ((1, 1), (2, 1), (3, 2), (1, 2)):
            x = lo + (hi - lo) * (rng.random(shape) if shape != (1, 1) else np.full(shape, 0.4))
            values = {"X": x}
            out.append((vjp_loss(fn(sym("X", x)), rng, values), ["X"], values))
        return out

    return build


def _sylvester() -> list[Check]:
    """X with AX + XB = Q: vec X = (I ⊗ A + Bᵀ ⊗ I)⁻¹ vec Q."""
    rng = _rng("sylvester")
    a, b, q = (rng.standard_normal((3, 3)) for _ in range(3))
    values = {"A": a, "B": b, "Q": q}
    A, B, Q = sym("A", a), sym("B", b), sym("Q", q)
    eye = mc.eye(3)
    x = mc.ops.unvec(mc.solve(mc.kron(eye, A) + mc.kron(B.T, eye), mc.vec(Q)), 3, 3)
    return [(vjp_loss(x, rng, values), ["A", "B", "Q"], values)]


GAMMA = "needs the gamma function or its relatives (Γ, log Γ, ψ, incomplete Γ and B): not ops"
BESSEL = "a Bessel function: not an op"
CONVOLVE = "convolution (scipy.signal.convolve): not an op"
INVERSE_ERF = "the inverse error function: not an op"

SCIPY = [
    *[Peer(f"test_{d}_{f}", "test_scipy.py", reason=GAMMA)
      for d, fs in (("chi2", ("pdf", "cdf", "logpdf")), ("beta", ("cdf", "pdf", "logpdf")),
                    ("gamma", ("cdf", "pdf", "logpdf"))) for f in fs],
    *[Peer(f"test_norm_{f}", "test_scipy.py", _norm_stats(f, False))
      for f in ("pdf", "cdf", "sf", "logpdf", "logcdf", "logsf")],
    *[Peer(f"test_norm_{f}_broadcast", "test_scipy.py", _norm_stats(f, True))
      for f in ("pdf", "cdf", "sf", "logpdf", "logcdf", "logsf")],
    *[Peer(f"test_poisson_{f}", "test_scipy.py", reason=GAMMA)
      for f in ("cdf", "logpmf", "pmf", "cdf_broadcast", "logpmf_broadcast", "pmf_broadcast")],
    *[Peer(f"test_t_{f}", "test_scipy.py", reason=GAMMA)
      for f in ("pdf", "cdf", "logpdf", "logcdf", "pdf_broadcast", "cdf_broadcast",
                "logpdf_broadcast", "logcdf_broadcast")],
    Peer("test_mvn_pdf", "test_scipy.py", _mvn("pdf")),
    Peer("test_mvn_logpdf", "test_scipy.py", _mvn("logpdf")),
    Peer("test_mvn_entropy", "test_scipy.py", _mvn("entropy")),
    Peer("test_mvn_sing_cov", "test_scipy.py", reason="a singular covariance needs the "
         "pseudo-determinant (allow_singular): not an op"),
    Peer("test_mvn_pdf_broadcast", "test_scipy.py", _mvn("pdf", points=5)),
    Peer("test_mvn_logpdf_broadcast", "test_scipy.py", _mvn("logpdf", points=5)),
    *[Peer(f"test_dirichlet_{f}", "test_scipy.py", reason=GAMMA)
      for f in ("pdf_x", "pdf_alpha", "logpdf_x", "logpdf_alpha")],
    *[Peer(f"test_logsumexp{i}", "test_scipy.py", _logsumexp(i)) for i in (1, 2, 3, 4)],
    Peer("test_logsumexp5", "test_scipy.py", reason=ND),
    Peer("test_logsumexp6", "test_scipy.py", _logsumexp_second_order),
    *[Peer(f"test_{n}", "test_scipy.py", reason=CONVOLVE)
      for n in ("convolve_generalization", "convolve", "convolve_2d", "convolve_ignore",
                "convolve_ignore_dot")],
    *[Peer(f"test_{n}", "test_scipy.py", reason=GAMMA)
      for n in ("beta", "betainc", "betaln", "gammainc", "gammaincc", "polygamma")],
    *[Peer(f"test_{n}", "test_scipy.py", reason=BESSEL) for n in ("jn", "yn")],
    *[Peer(f"test_{n}", "test_scipy.py", reason=GAMMA)
      for n in ("psi", "digamma", "gamma", "gammaln", "gammasgn", "rgamma", "multigammaln")],
    *[Peer(f"test_{n}", "test_scipy.py", reason=BESSEL)
      for n in ("j0", "j1", "y0", "y1", "i0", "i1", "iv", "ive")],
    Peer("test_erf", "test_scipy.py", _ufunc(mc.erf, (-3.0, 3.0), "erf"),
         note="its real inputs; the complex ones are not matcalc values"),
    Peer("test_erfc", "test_scipy.py", _ufunc(lambda x: 1 - mc.erf(x), (-3.0, 3.0), "erfc"),
         note="its real inputs; the complex ones are not matcalc values"),
    Peer("test_erfinv", "test_scipy.py", reason=INVERSE_ERF),
    Peer("test_erfcinv", "test_scipy.py", reason=INVERSE_ERF),
    Peer("test_logit", "test_scipy.py", _ufunc(lambda x: mc.log(x / (1 - x)), (0.1, 0.9),
                                               "logit")),
    Peer("test_expit", "test_scipy.py", _ufunc(mc.sigmoid, (-4.05, 4.95), "expit")),
    Peer("test_odeint", "test_scipy.py", reason="an ODE integrator: not an op"),
    Peer("test_sqrtm", "test_scipy.py", reason="the matrix square root is not an op (and of "
         "autograd's symmetrised random matrix, with negative eigenvalues, it is complex)"),
    Peer("test_solve_sylvester", "test_scipy.py", _sylvester),
    Peer("test_solve_banded", "test_scipy.py", reason="banded storage (solve_banded): not an "
         "op"),
]

PEERS = LINALG + NUMPY + SCIPY
