"""Hypothesis strategies for random, well-shaped matcalc expressions.

``expressions()`` draws a target shape from the dimensions {m, n, B, 1} and builds an expression of
exactly that shape, top-down, to a depth of at most ``max_depth``: every choice of op is made among
the ops that can produce the requested shape, and the operands' shapes follow from it, so every
drawn expression is well-shaped by construction. ``losses()`` reduces one to a scalar, by
``sum(G * e)`` with a fresh upstream symbol G or by ``sum(e)``.

Every op kind appears: elementwise functions, matmul, transpose, broadcasting + − * /, reductions
along each axis, softmax and log_softmax, trace, det, logdet, inv, norm, diag (both directions),
kron, vec, powers, named intermediates, constants and the constant matrices; slices, stacks,
embed, flips and triangles; trigonometric and smooth activations, cumsum; maximum, minimum,
where, clip and max; solve, cholesky, eigvalsh, expm and matrix powers. Domains are guarded by
construction:

* log, sqrt, fractional and negative powers, and divisors get arguments that are positive by
  construction (``e * e + 1``, ``exp(tanh(e))``, ``sigmoid(e) + 0.5``, ``softplus(e) + 1``);
* inv, det and logdet get a plain square symbol (the checker samples it well conditioned, with a
  positive determinant for logdet) or a symmetric positive definite ``e @ e.T + eye(k)``;
* exp gets a bounded argument half of the time, so that values stay finite.

Symbols are named after their shape (``Xmn0`` is the first m×n symbol, ``X1B1`` the second 1×B
one), so a name never stands for two shapes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import strategies as st

import matcalc as mc
from matcalc.dims import Dim, dim

DIM_NAMES = ("m", "n", "B")
ATOMS: tuple[Dim, ...] = tuple(dim(d) for d in DIM_NAMES) + (dim(1),)
SYMBOLS_PER_SHAPE = 2
MAX_DEPTH = 6

# dimension sizes for the numeric check: one draw per example, size 1 included
SIZES = st.fixed_dictionaries({
    "m": st.sampled_from([1, 2, 3]),
    "n": st.sampled_from([2, 3, 4]),
    "B": st.sampled_from([1, 2, 3]),
})


def _dim_text(d: Dim) -> str:
    return str(d.coef) if d.is_int else "".join(d.names)


def symbol(shape, i: int = 0, prefix: str = "X") -> mc.Expr:
    """The i-th symbol of a shape; its name encodes the shape."""
    r, c = shape
    return mc.Matrix(f"{prefix}{_dim_text(r)}{_dim_text(c)}{i}", r, c)


@dataclass
class _Context:
    """Per-example state: names of the intermediates made so far, ops used."""

    named: int = 0
    ops: set = field(default_factory=set)


# --- the builder -----------------------------------------------------------------------------------

def _atom(draw) -> Dim:
    return draw(st.sampled_from(ATOMS))


def _leaf(draw, shape, ctx) -> mc.Expr:
    r, c = shape
    choices = ["symbol", "symbol", "symbol", "ones"]
    if r.is_one and c.is_one:
        choices += ["const", "const"]
    if r == c:
        choices.append("eye")
    kind = draw(st.sampled_from(choices))
    if kind == "symbol":
        return symbol(shape, draw(st.integers(0, SYMBOLS_PER_SHAPE - 1)))
    if kind == "ones":
        return mc.ones(r, c)
    if kind == "eye":
        return mc.eye(r)
    return mc.const(draw(st.sampled_from([2, 0.5, 3, 1.5])))


def positive(draw, shape, depth, ctx) -> mc.Expr:
    """An expression of the given shape whose entries are positive (and not tiny) everywhere."""
    e = build(draw, shape, depth, ctx)
    kind = draw(st.sampled_from(["square", "exp_tanh", "sigmoid", "softplus"]))
    if kind == "square":
        return e * e + 1
    if kind == "exp_tanh":
        return mc.exp(mc.tanh(e))
    if kind == "sigmoid":
        return mc.sigmoid(e) + 0.5
    return mc.softplus(e) + 1


def _spd(draw, k: Dim, depth, ctx) -> mc.Expr:
    """A k×k matrix for inv, det, logdet: a plain symbol, or e eᵀ + I (symmetric positive definite)."""
    if depth <= 0 or draw(st.booleans()):
        return symbol((k, k), draw(st.integers(0, SYMBOLS_PER_SHAPE - 1)), prefix="S")
    e = build(draw, (k, _atom(draw)), depth, ctx)
    return e @ e.T + mc.eye(k)


def _partner_shape(draw, shape):
    """A shape that broadcasts against shape: the same, a column, a row, or 1×1."""
    r, c = shape
    one = dim(1)
    return draw(st.sampled_from([(r, c), (r, c), (r, one), (one, c), (one, one)]))


def _scalar(draw, depth, ctx) -> mc.Expr:
    """A 1×1 expression made by one of the scalar-valued ops."""
    kind = draw(st.sampled_from(["trace", "det", "logdet", "norm", "sum", "mean", "logsumexp",
                                 "vec_inner", "kron_inner", "quad"]))
    ctx.ops.add(kind)
    k = _atom(draw)
    if kind == "trace":
        return mc.trace(build(draw, (k, k), depth, ctx))
    if kind == "det":
        return mc.det(_spd(draw, k, depth, ctx))
    if kind == "logdet":
        return mc.logdet(_spd(draw, k, depth, ctx))
    if kind == "norm":
        return mc.norm(build(draw, (k, _atom(draw)), depth, ctx))
    if kind in ("sum", "mean", "logsumexp"):
        fn = {"sum": mc.sum, "mean": mc.mean, "logsumexp": mc.logsumexp}[kind]
        return fn(build(draw, (k, _atom(draw)), depth, ctx))
    if kind == "vec_inner":  # vec(A)ᵀ vec(B) = ⟨A, B⟩
        shape = (k, _atom(draw))
        return mc.vec(build(draw, shape, depth, ctx)).T @ mc.vec(build(draw, shape, depth, ctx))
    if kind == "kron_inner":  # ⟨A ⊗ B, C ⊗ D⟩, a genuine Kronecker product with an upstream
        s1, s2 = (k, _atom(draw)), (_atom(draw), _atom(draw))
        a, b = build(draw, s1, depth, ctx), build(draw, s2, depth, ctx)
        c, d = build(draw, s1, depth, ctx), build(draw, s2, depth, ctx)
        return mc.sum(mc.kron(a, b) * mc.kron(c, d))
    v = build(draw, (k, dim(1)), depth, ctx)  # a quadratic form vᵀ A v
    return v.T @ build(draw, (k, k), depth, ctx) @ v


def _kinds(shape) -> list[str]:
    r, c = shape
    kinds = ["unary", "unary", "binary", "binary", "matmul", "matmul", "transpose", "softmax",
             "scaled", "kink", "flat", "power", "kron", "named", "smooth", "blocks", "select"]
    if r.is_one or c.is_one:
        kinds += ["reduce", "reduce"]
    if r.is_one and c.is_one:
        kinds += ["scalar", "scalar", "scalar"]
    if r == c:
        kinds += ["inv", "diag", "decomposition"]
    if c.is_one:
        kinds += ["diag", "vec"]
    return kinds


def build(draw, shape, depth: int, ctx: _Context, top: bool = False) -> mc.Expr:
    """A random expression of exactly this shape, at most depth operations deep (an op at the
    top when ``top``; below, a leaf one time in ten before the depth runs out)."""
    if depth <= 0 or (not top and draw(st.integers(0, 9)) == 0):
        return _leaf(draw, shape, ctx)
    r, c = shape
    one = dim(1)
    d = depth - 1
    kind = draw(st.sampled_from(_kinds(shape)))
    ctx.ops.add(kind)
    if kind == "unary":
        fn = draw(st.sampled_from(["tanh", "sigmoid", "softplus", "neg", "exp", "exp", "log",
                                   "sqrt"]))
        ctx.ops.add(fn)
        if fn == "log":
            return mc.log(positive(draw, shape, d, ctx))
        if fn == "sqrt":
            return mc.sqrt(positive(draw, shape, d, ctx))
        e = build(draw, shape, d, ctx)
        if fn == "exp":
            return mc.exp(mc.tanh(e) if draw(st.booleans()) else e)
        return -e if fn == "neg" else getattr(mc, fn)(e)
    if kind == "kink":  # relu, abs, and the piecewise-constant step, sign (as masks)
        fn = draw(st.sampled_from(["relu", "abs", "step", "sign"]))
        ctx.ops.add(fn)
        e = build(draw, shape, d, ctx)
        if fn in ("relu", "abs"):
            return getattr(mc, fn)(e)
        return getattr(mc, fn)(e) * build(draw, shape, d, ctx)
    if kind == "power":
        p = draw(st.sampled_from([2, 3, -1, 0.5, -2]))
        if isinstance(p, int) and p > 0:
            return build(draw, shape, d, ctx) ** p
        return positive(draw, shape, d, ctx) ** p
    if kind == "binary":
        op = draw(st.sampled_from(["add", "sub", "mul", "div"]))
        ctx.ops.add(op)
        a = build(draw, shape, d, ctx)
        pshape = _partner_shape(draw, shape)
        if op == "div":
            b = positive(draw, pshape, d, ctx)
            return a / b
        b = build(draw, pshape, d, ctx)
        if draw(st.booleans()):
            a, b = b, a  # the broadcast operand on either side
        return {"add": a + b, "sub": a - b, "mul": a * b}[op]
    if kind == "matmul":
        k = _atom(draw)
        return build(draw, (r, k), d, ctx) @ build(draw, (k, c), d, ctx)
    if kind == "transpose":
        return build(draw, (c, r), d, ctx).T
    if kind == "softmax":
        fn = draw(st.sampled_from([mc.softmax, mc.log_softmax]))
        ctx.ops.add(fn.__name__)
        return fn(build(draw, shape, d, ctx), axis=draw(st.sampled_from([0, 1])))
    if kind == "scaled":  # a 1×1 from a scalar-valued op times a matrix
        return _scalar(draw, d, ctx) * build(draw, shape, d, ctx)
    if kind == "scalar":
        return _scalar(draw, d, ctx)
    if kind == "flat":  # mean, logsumexp or sum along an axis, broadcast back
        fn = draw(st.sampled_from([mc.sum, mc.mean, mc.logsumexp]))
        ctx.ops.add(fn.__name__)
        e = build(draw, shape, d, ctx)
        return e - fn(e, axis=draw(st.sampled_from([0, 1])))
    if kind == "reduce":
        fn = draw(st.sampled_from([mc.sum, mc.mean, mc.logsumexp]))
        ctx.ops.add(fn.__name__)
        options = []
        if r.is_one:
            options.append(0)
        if c.is_one:
            options.append(1)
        axis = draw(st.sampled_from(options))
        k = _atom(draw)
        return fn(build(draw, (k, c) if axis == 0 else (r, k), d, ctx), axis=axis)
    if kind == "inv":
        return mc.inv(_spd(draw, r, d, ctx))
    if kind == "diag":
        if r == c and (not c.is_one or draw(st.booleans())):
            return mc.diag(build(draw, (r, one), d, ctx))  # column → diagonal matrix
        return mc.diag(build(draw, (r, r), d, ctx))  # square → its diagonal
    if kind == "vec":
        inner = draw(st.sampled_from([(r, one), (one, r)]))
        return mc.vec(build(draw, inner, d, ctx))
    if kind == "kron":
        form = draw(st.sampled_from(["outer", "scalar_left", "scalar_right"]))
        if form == "outer":  # a column ⊗ a row is their outer product
            return mc.kron(build(draw, (r, one), d, ctx), build(draw, (one, c), d, ctx))
        s = build(draw, (one, one), d, ctx)
        e = build(draw, shape, d, ctx)
        return mc.kron(s, e) if form == "scalar_left" else mc.kron(e, s)
    if kind in ("smooth", "blocks", "select", "decomposition"):
        return _newer(draw, kind, shape, d, ctx)
    if kind == "named":
        name = f"N{ctx.named}"
        ctx.named += 1
        return mc.named(name, build(draw, shape, d, ctx))
    raise AssertionError(kind)  # pragma: no cover


def _newer(draw, kind: str, shape, d: int, ctx: _Context) -> mc.Expr:
    """The ops of slices and blocks, smooth elementwise functions, selections, decompositions."""
    r, c = shape
    if kind == "smooth":
        fn = draw(st.sampled_from(["sin", "cos", "arctan", "sinh", "erf", "gelu", "silu", "expm1",
                                   "arcsin", "log1p", "elu", "leaky_relu", "cumsum"]))
        ctx.ops.add(fn)
        e = build(draw, shape, d, ctx)
        if fn == "arcsin":
            return mc.arcsin(0.5 * mc.tanh(e))
        if fn == "log1p":
            return mc.log1p(e * e)
        if fn in ("sinh", "expm1"):
            return getattr(mc, fn)(mc.tanh(e))
        if fn == "cumsum":
            return mc.cumsum(e, axis=draw(st.sampled_from([0, 1])))
        return getattr(mc, fn)(e)
    if kind == "blocks":
        form = draw(st.sampled_from(["slice_of_stack", "flip", "triangle", "scatter"]))
        ctx.ops.add(form)
        if form == "slice_of_stack":  # [e; f] cut back to e's rows, or [e, f] to its columns
            e, f = build(draw, shape, d, ctx), build(draw, shape, d, ctx)
            if draw(st.booleans()):
                return mc.vstack(f, e)[r:, :]
            return mc.hstack(e, f)[:, :c]
        if form == "flip":
            return mc.flip(build(draw, shape, d, ctx), axis=draw(st.sampled_from([None, 0, 1])))
        if form == "triangle" and r == c:
            return (mc.triu if draw(st.booleans()) else mc.tril)(build(draw, shape, d, ctx))
        inner = build(draw, shape, d, ctx)  # a block placed in zeros, then taken back out
        return mc.embed(inner, r + 1, c + 1, 1, 0)[1:, :c]
    if kind == "select":
        form = draw(st.sampled_from(["maximum", "minimum", "where", "clip", "max"]))
        ctx.ops.add(form)
        a, b = build(draw, shape, d, ctx), build(draw, shape, d, ctx)
        if form == "where":
            return mc.where(a > b, a * b, b)
        if form == "clip":
            return mc.clip(a, -0.5, 0.5)
        if form == "max" and (r.is_one or c.is_one) and not (r.is_one and c.is_one):
            k = _atom(draw)
            axis = 0 if r.is_one else 1
            return mc.max(build(draw, (k, c) if axis == 0 else (r, k), d, ctx), axis=axis)
        return getattr(mc, "maximum" if form in ("maximum", "max") else "minimum")(a, b)
    form = draw(st.sampled_from(["solve", "cholesky", "eigvalsh", "expm", "matrix_power"]))
    ctx.ops.add(form)
    spd = _spd(draw, r, d, ctx)
    if form == "solve":
        return mc.solve(spd, build(draw, shape, d, ctx))
    if form == "cholesky":
        return mc.cholesky(spd @ spd.T + mc.eye(r))
    if form == "eigvalsh":
        return mc.diag(mc.eigvalsh(build(draw, shape, d, ctx)))
    if form == "expm":
        return mc.expm(0.3 * mc.tanh(build(draw, shape, d, ctx)))
    return mc.matrix_power(0.5 * mc.tanh(build(draw, shape, d, ctx)), 2)


# --- public strategies -------------------------------------------------------------------------

@dataclass
class Case:
    """A drawn loss with what the test needs to know about it."""

    loss: mc.Expr
    body: mc.Expr  # the expression before the reduction to a scalar
    sizes: dict
    seed: int
    kinds: set

    def __repr__(self) -> str:  # what Hypothesis prints for a falsifying example
        return f"Case(loss={mc.program_text(self.loss)!r}, sizes={self.sizes}, seed={self.seed})"


@st.composite
def expressions(draw, max_depth: int = MAX_DEPTH, shape=None) -> mc.Expr:
    """A random well-shaped expression of the given (or a random) shape."""
    if shape is None:
        shape = (_atom(draw), _atom(draw))
    return build(draw, shape, draw(st.integers(1, max_depth)), _Context(), top=True)


@st.composite
def losses(draw, max_depth: int = MAX_DEPTH) -> Case:
    """A random scalar loss, ``sum(G * e)`` or ``sum(e)``, with sizes and a check seed."""
    shape = (_atom(draw), _atom(draw))
    ctx = _Context()
    body = build(draw, shape, draw(st.integers(min(3, max_depth), max_depth)), ctx, top=True)
    constant = not any(n.op.name == "symbol" for n in mc.toposort([body]))
    if constant or draw(st.booleans()):  # a constant body still gets a variable: G
        loss = mc.sum(symbol(shape, 0, prefix="G") * body)
    else:
        loss = mc.sum(body)
    return Case(loss, body, draw(SIZES), draw(st.integers(0, 2**16)), ctx.ops)


def tanh_mlp(depth: int):
    """L = sum(H_depth), H_i = tanh(W_i H_{i-1} + b_i), H_0 = X; returns (L, [W_0, b_0, …])."""
    H = mc.Matrix("X", "n", "B")
    params = []
    for i in range(depth):
        W, b = mc.Matrix(f"W{i}", "n", "n"), mc.Vector(f"b{i}", "n")
        H = mc.tanh(W @ H + b)
        params += [W, b]
    return mc.sum(H), params
