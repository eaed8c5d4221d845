"""Rules of structured matrices (symmetric, eigenvectors) and of slices and blocks."""

from __future__ import annotations

from ..dims import ZERO, Dim
from ..expr import Expr
from ..ops import concat, embed, eye, take
from .base import _is, rule

# --- structured matrices and decompositions ------------------------------------------------------

_SYMMETRIC = ("symmetric", "spd", "diagonal")


def _is_symmetric(x: Expr) -> bool:
    """Declared symmetric (or spd, diagonal), or the inverse of such a matrix."""
    if _is(x, "inv"):
        x = x.args[0]
    return _is(x, "symbol") and x.get("structure") in _SYMMETRIC


@rule("transpose")
def transpose_of_symmetric_matrix(node: Expr) -> Expr | None:
    """Sᵀ = S and (S⁻¹)ᵀ = S⁻¹ for S declared symmetric, spd or diagonal."""
    (a,) = node.args
    return a if _is_symmetric(a) else None


@rule("matmul")
def orthonormal_eigenvectors(node: Expr) -> Expr | None:
    """V Vᵀ = Vᵀ V = I for the eigenvectors V = eigvecsh(A)."""
    a, b = node.args
    if _is(a, "eigvecsh") and _is(b, "transpose") and b.args[0] is a:
        return eye(a.rows)
    if _is(b, "eigvecsh") and _is(a, "transpose") and a.args[0] is b:
        return eye(b.rows)
    return None


@rule("diag")
def diagonal_of_ones(node: Expr) -> Expr | None:
    """diag(𝟏) = I."""
    (a,) = node.args
    return eye(a.rows) if _is(a, "ones") and a.cols.is_one and not a.rows.is_one else None


# --- slices and blocks ---------------------------------------------------------------------------

def _bounds(node: Expr) -> tuple[Dim, Dim, Dim, Dim]:
    return node.get("r0"), node.get("r1"), node.get("c0"), node.get("c1")


@rule("slice")
def slice_of_slice(node: Expr) -> Expr | None:
    """X[a:b][c:d] = X[a + c : a + d]: one slice."""
    (x,) = node.args
    if not _is(x, "slice"):
        return None

    r0, r1, c0, c1 = _bounds(node)
    a0, _, b0, _ = _bounds(x)
    return take(x.args[0], a0 + r0, a0 + r1, b0 + c0, b0 + c1)


@rule("slice")
def slice_of_embed(node: Expr) -> Expr | None:
    """embed(G at (p, q))[rows, cols] = G (or a slice of it) where the slice falls on the block."""
    (x,) = node.args
    if not _is(x, "embed"):
        return None

    g, p, q = x.args[0], x.get("r0"), x.get("c0")
    r0, r1, c0, c1 = _bounds(node)
    inside = all((d.is_int and d.coef >= 0) or d.is_zero or d.provably_positive
                 for d in (r0 - p, p + g.rows - r1, c0 - q, q + g.cols - c1))
    if not inside:
        return None
    return take(g, r0 - p, r1 - p, c0 - q, c1 - q)


@rule("slice")
def slice_of_concat(node: Expr) -> Expr | None:
    """[A; B][rows of A, :] = A: a slice that is exactly one block."""
    (x,) = node.args
    if not _is(x, "concat"):
        return None
    r0, r1, c0, c1 = _bounds(node)
    axis, at = x.get("axis"), ZERO
    for block in x.args:
        end = at + block.shape[axis]
        if axis == 0 and (r0, r1, c0, c1) == (at, end, ZERO, x.cols):
            return block
        if axis == 1 and (r0, r1, c0, c1) == (ZERO, x.rows, at, end):
            return block
        at = end
    return None


def _join(a: Expr, b: Expr, axis: int) -> Expr | None:
    """X[p:q] and X[q:r] (rows, axis 0; columns, axis 1; the other range the same) as X[p:r]."""
    if not (_is(a, "slice") and _is(b, "slice") and a.args[0] is b.args[0]):
        return None
    ar0, ar1, ac0, ac1 = _bounds(a)
    br0, br1, bc0, bc1 = _bounds(b)

    if axis == 0 and (ac0, ac1) == (bc0, bc1) and ar1 == br0:
        return take(a.args[0], ar0, br1, ac0, ac1)
    if axis == 1 and (ar0, ar1) == (br0, br1) and ac1 == bc0:
        return take(a.args[0], ar0, ar1, ac0, bc1)
    return None


@rule("concat")
def concat_of_adjacent_slices(node: Expr) -> Expr | None:
    """[X[p:q]; X[q:r]] = X[p:r]: neighbouring slices of one matrix stacked back."""
    parts = list(node.args)
    for i in range(len(parts) - 1):
        joined = _join(parts[i], parts[i + 1], node.get("axis"))
        if joined is not None:
            rest = parts[:i] + [joined] + parts[i + 2:]

            return concat(*rest, axis=node.get("axis"))
    return None


@rule("add")
def sum_of_adjacent_embeds(node: Expr) -> Expr | None:
    """X[p:q] and X[q:r], each put back where it came from, add up to X[p:r] put back."""
    a, b = node.args
    if not (_is(a, "embed") and _is(b, "embed") and a.shape == b.shape == node.shape):
        return None

    for first, second in ((a, b), (b, a)):
        for axis in (0, 1):
            joined = _join(first.args[0], second.args[0], axis)
            if joined is not None and (first.get("r0"), first.get("c0")) == (
                    joined.get("r0", ZERO), joined.get("c0", ZERO)) \
                    and _placed_as_taken(first) and _placed_as_taken(second):
                return embed(joined, node.rows, node.cols, first.get("r0"), first.get("c0"))
    return None


def _placed_as_taken(e: Expr) -> bool:
    """embed(X[r0:…, c0:…]) at (r0, c0) in X's shape: the slice put back where it was."""
    s_ = e.args[0]
    return (s_.args[0].shape == e.shape and s_.get("r0") == e.get("r0")
            and s_.get("c0") == e.get("c0"))


@rule("embed")
def embed_of_embed(node: Expr) -> Expr | None:
    """A block placed in zeros, placed again: one placement."""
    (x,) = node.args
    if not _is(x, "embed"):
        return None

    return embed(x.args[0], node.get("rows"), node.get("cols"), node.get("r0") + x.get("r0"),
                 node.get("c0") + x.get("c0"))


@rule("sum")
def sum_of_embed(node: Expr) -> Expr | None:
    """The entries of zeros with a block in them add up to the block's entries."""
    (x,) = node.args
    if node.get("axis") is None and _is(x, "embed"):
        return Expr.make(node.op, (x.args[0],), **dict(node.params))
    return None


