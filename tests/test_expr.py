"""The expression DAG: hash-consing, immutability, identity semantics, printing, bad inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import matcalc as mc
from matcalc import Expr, InputError, MatcalcError, ShapeError, dim, program_text

W = mc.Matrix("W", "m", "n")
A = mc.Matrix("A", "n", "n")
B = mc.Matrix("B", "n", "n")
C = mc.Matrix("C", "n", "n")
v = mc.Vector("v", "n")
r = mc.Matrix("r", 1, "n")


# --- hash-consing ------------------------------------------------------------------------------

def test_leaves_are_hash_consed():
    assert mc.Matrix("W", "m", "n") is W
    assert mc.Matrix("W", " m ", "n") is W
    assert mc.Matrix("Q", 2, 3) is mc.Matrix("Q", "2", np.int64(3))
    assert mc.Vector("v", "n") is mc.Matrix("v", "n", 1) is v
    assert mc.Scalar("s") is mc.Matrix("s", 1, 1)
    assert mc.eye("n") is mc.eye("n")
    assert mc.ones("m", "n") is mc.ones("m", "n")
    assert mc.ones("m", "n") is not mc.zeros("m", "n")
    assert mc.Matrix("K", "m*n", 1) is mc.Matrix("K", "n*m", 1)


def test_same_name_different_shape_is_a_different_node():
    assert mc.Matrix("W", "m", "n") is not mc.Matrix("W", "m", "k")
    assert mc.Matrix("W", "m", "n") is not mc.Matrix("W", "n", "m")
    assert mc.Matrix("W", "m", "n") != mc.Matrix("W", "m", "k")
    assert mc.Matrix("W", "m", "n") is not mc.Matrix("U", "m", "n")


def test_constants_are_hash_consed():
    assert mc.const(2) is mc.const(2.0) is mc.const(np.int64(2)) is mc.const(np.float32(2.0))
    assert mc.const(2) is not mc.const(2.5)
    assert mc.const(-0.0) is mc.const(0)
    assert (2 * W) is (2.0 * W) is (mc.const(2) * W)
    assert (W / 2) is (W / 2.0)
    assert (W ** 2) is (W ** 2.0) is mc.power(W, mc.const(2))
    assert (W ** 2) is not (W ** 3)
    assert (2 * W) is not (W * 2)  # operand order is structure


def test_params_distinguish_nodes():
    assert mc.sum(W, axis=0) is mc.sum(W, 0)
    assert mc.sum(W, axis=0) is not mc.sum(W, axis=1)
    assert mc.sum(W) is not mc.sum(W, axis=0)
    assert mc.sum(W) is not mc.mean(W)
    assert mc.softmax(W, 0) is not mc.softmax(W, 1)
    assert mc.named("h", W) is mc.named("h", W)
    assert mc.named("h", W) is not mc.named("g", W)
    assert mc.named("h", W) is not W


def _mlp(Wt, Xt, bt):
    h = mc.relu(Wt @ Xt + bt)
    return mc.sum(mc.log_softmax(h, axis=0) * (h - 1) ** 2, axis=1).T @ mc.softmax(h, axis=1)


def test_nested_expressions_are_hash_consed():
    Xt, bt = mc.Matrix("X", "n", "B"), mc.Vector("b", "m")
    e1 = _mlp(W, Xt, bt)
    e2 = _mlp(mc.Matrix("W", "m", "n"), mc.Matrix("X", "n", "B"), mc.Vector("b", "m"))
    assert e1 is e2
    assert e1.args[0] is e2.args[0]
    assert _mlp(mc.Matrix("W", "m", "n"), Xt, mc.Vector("c", "m")) is not e1


# recipes: nested tuples that build an expression over n×n symbols
_leaf_names = st.sampled_from(["A", "B", "C"])
_recipes = st.recursive(
    _leaf_names,
    lambda kids: st.one_of(
        st.tuples(st.sampled_from(["+", "-", "*", "@", "/"]), kids, kids),
        st.tuples(st.sampled_from(["neg", "T", "tanh", "relu", "exp", "inv", "diagdiag"]), kids),
        st.tuples(st.just("pow"), kids, st.sampled_from([2, 3, 0.5, -1, -0.5, 2.5, 0])),
        st.tuples(st.just("scale"), kids, st.sampled_from([2, 0.5, -3, 1e-3, 7.25]),
                  st.integers(0, 5)),
        st.tuples(st.sampled_from(["sum", "mean", "logsumexp"]), kids,
                  st.sampled_from([0, 1]), kids),
        st.tuples(st.sampled_from(["softmax", "log_softmax"]), kids, st.sampled_from([0, 1])),
        st.tuples(st.just("trace"), kids, kids),
        st.tuples(st.just("outer"), kids, kids),
        st.tuples(st.just("named"), kids, st.sampled_from(["h1", "h2"])),
    ),
    max_leaves=10,
)


def _build(recipe, names: dict[str, Expr]):
    """Build from a recipe; named intermediates get their own names (h1, h2 with a suffix)."""
    if isinstance(recipe, str):
        return {"A": A, "B": B, "C": C}[recipe]
    op, *rest = recipe
    go = lambda x: _build(x, names)
    if op in ("+", "-", "*", "@", "/"):
        a, b = go(rest[0]), go(rest[1])
        return {"+": a + b, "-": a - b, "*": a * b, "@": a @ b, "/": a / b}[op]
    if op == "neg":
        return -go(rest[0])
    if op == "T":
        return go(rest[0]).T
    if op == "diagdiag":
        return mc.diag(mc.diag(go(rest[0])))
    if op in ("tanh", "relu", "exp", "inv"):
        return getattr(mc, op)(go(rest[0]))
    if op == "pow":
        return go(rest[0]) ** rest[1]
    if op == "scale":
        x, c, which = go(rest[0]), rest[1], rest[2]
        return [c * x, x * c, x / c, c / x, x + c, c - x][which]
    if op in ("sum", "mean", "logsumexp"):
        return go(rest[2]) + getattr(mc, op)(go(rest[0]), axis=rest[1])  # broadcast back
    if op in ("softmax", "log_softmax"):
        return getattr(mc, op)(go(rest[0]), axis=rest[1])
    if op == "trace":
        return mc.trace(go(rest[0])) * go(rest[1])
    if op == "outer":
        return (go(rest[0]) @ v) @ (r @ go(rest[1]))
    if op == "named":
        inner = go(rest[0])
        name = f"{rest[1]}_{len(names)}"
        node = mc.named(name, inner)
        names[name] = node
        return node
    raise AssertionError(op)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_recipes)
def test_hash_consing_property(recipe):
    e1 = _build(recipe, {})
    e2 = _build(recipe, {})
    assert e1 is e2
    assert hash(e1) == hash(e2)
    assert e1.shape == (dim("n"), dim("n"))


# --- immutability and identity -----------------------------------------------------------------

def test_new_attributes_cannot_be_added():
    node = mc.Matrix("Frozen1", 2, 3)
    with pytest.raises(AttributeError):
        node.foo = 1
    assert not hasattr(node, "__dict__")


@pytest.mark.parametrize("attr", ["op", "args", "params", "shape", "_hash"])
def test_existing_attributes_cannot_be_set(attr):
    node = mc.Matrix("Frozen2", 2, 3) + 1
    # reassigning the current value: if the guard is missing, nothing is corrupted
    with pytest.raises((AttributeError, TypeError, MatcalcError)):
        setattr(node, attr, getattr(node, attr))


def test_expr_cannot_be_constructed_directly():
    with pytest.raises(TypeError):
        Expr(mc.OPS["symbol"])


def test_equality_is_identity():
    assert W == mc.Matrix("W", "m", "n")
    assert not (W != mc.Matrix("W", "m", "n"))  # noqa: SIM202 - this tests != itself
    assert W != mc.Matrix("U", "m", "n")
    assert (W + 1) == (W + 1)
    assert (W + 1) != (1 + W)
    assert (W == 3) is False
    assert (W == None) is False
    assert W != "W"
    # == is not elementwise: it is a plain bool, so expressions work in `in` and sets
    assert isinstance(W == W, bool)  # noqa: PLR0124 - the type of == itself is under test
    assert W in [mc.Matrix("U", "m", "n"), mc.Matrix("W", "m", "n")]


def test_hashable_and_usable_as_dict_keys():
    d = {W: "w", A @ B: "ab", mc.sum(W, axis=0): "s0"}
    assert d[mc.Matrix("W", "m", "n")] == "w"
    assert d[mc.Matrix("A", "n", "n") @ mc.Matrix("B", "n", "n")] == "ab"
    assert d[mc.sum(W, 0)] == "s0"
    assert mc.sum(W, axis=1) not in d
    assert len({W, mc.Matrix("W", "m", "n"), W + 0, W + 0}) == 2
    assert hash(W) == hash(mc.Matrix("W", "m", "n"))


def test_bool_and_iteration():
    assert bool(mc.zeros(1, 1)) is True
    with pytest.raises(TypeError):
        iter(W)


def test_properties():
    assert W.rows == dim("m") and W.cols == dim("n")
    assert W.name == "W" and (W + 1).name is None
    assert mc.named("h", W).name == "h"
    assert mc.Scalar("s").is_scalar and not W.is_scalar and not v.is_scalar


# --- printing ----------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "build, text",
    [
        (lambda: -(W - W) ** 2, "-(W - W) ** 2"),
        (lambda: (A + B) @ C, "(A + B) @ C"),
        (lambda: A - (B - C), "A - (B - C)"),
        (lambda: A @ (B @ C), "A @ (B @ C)"),
        (lambda: (-A) ** 2, "(-A) ** 2"),
        (lambda: (A @ B).T, "(A @ B).T"),
        (lambda: A - B - C, "A - B - C"),
        (lambda: A @ B @ C, "A @ B @ C"),
        (lambda: A + B @ C, "A + B @ C"),
        (lambda: (A + B) * C, "(A + B) * C"),
        (lambda: A * B / C, "A * B / C"),
        (lambda: A / (B * C), "A / (B * C)"),
        (lambda: A / (B / C), "A / (B / C)"),
        (lambda: -A ** 2, "-A ** 2"),
        (lambda: (A ** 2) ** 3, "(A ** 2) ** 3"),
        (lambda: -(A @ B), "-(A @ B)"),
        (lambda: -A @ B, "-A @ B"),
        (lambda: A @ -B, "A @ -B"),
        (lambda: -(-A), "--A"),  # noqa: B002 - a double negation, as printed
        (lambda: -A.T, "-A.T"),
        (lambda: (-A).T, "(-A).T"),
        (lambda: A.T.T, "A.T.T"),
        (lambda: (A ** 2).T, "(A ** 2).T"),
        (lambda: 2 * W, "2 * W"),
        (lambda: W / 2, "W / 2"),
        (lambda: 1 / W, "1 / W"),
        (lambda: 0.5 * W, "0.5 * W"),
        (lambda: -2 * W, "-2 * W"),
        (lambda: W - -2, "W - -2"),
        (lambda: W ** 0.5, "W ** 0.5"),
        (lambda: W ** -1, "W ** -1"),
        (lambda: W ** 2.0, "W ** 2"),
        (lambda: mc.sum(W, axis=0), "sum(W, axis=0)"),
        (lambda: mc.sum(W), "sum(W)"),
        (lambda: mc.softmax(A + B, axis=1), "softmax(A + B, axis=1)"),
        (lambda: mc.relu(W @ mc.Matrix("X", "n", "B") + mc.Vector("b", "m")),
         "relu(W @ X + b)"),
        (lambda: mc.trace(A @ B) * C, "trace(A @ B) * C"),
        (lambda: mc.eye("n") + A, "eye(n) + A"),
        (lambda: mc.ones("m", "n") - W, "ones(m, n) - W"),
        (lambda: mc.kron(A, B).T, "kron(A, B).T"),
        (lambda: mc.inv(A).T @ B, "inv(A).T @ B"),
    ],
)
def test_str_spelling(build, text):
    e = build()
    assert str(e) == text
    assert mc.to_text(e) == text
    # the spelling is also valid Python over matcalc's builders and means the same node
    assert eval(text, _namespace({})) is e  # our own printer's output


def _namespace(named: dict[str, Expr]) -> dict:
    ns: dict = {"__builtins__": {}}
    for name in ["relu", "tanh", "exp", "inv", "diag", "sum", "mean", "logsumexp", "softmax",
                 "log_softmax", "trace", "eye", "ones", "zeros", "kron", "vec", "norm"]:
        ns[name] = getattr(mc, name)
    ns.update({"W": W, "A": A, "B": B, "C": C, "v": v, "r": r, "m": "m", "n": "n"})
    ns.update({"X": mc.Matrix("X", "n", "B"), "b": mc.Vector("b", "m")})
    ns.update(named)
    return ns


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_recipes)
def test_str_round_trips(recipe):
    names: dict[str, Expr] = {}
    e = _build(recipe, names)
    text = str(e)  # named intermediates, the root included, print by name
    assert eval(text, _namespace(names)) is e  # our own printer's output


def test_named_intermediates_print_by_name():
    h = mc.named("h", A @ B)
    assert str(h) == "h"  # a named node prints by name, even at the root
    assert mc.program_text(h) == "h = A @ B"
    assert str(h + C) == "h + C"
    assert str(-h ** 2) == "-h ** 2"
    assert str(h.T) == "h.T"
    g = mc.named("g", mc.tanh(h) + 1)
    assert str(g @ h) == "g @ h"
    assert str((g + h) @ C) == "(g + h) @ C"


def test_program_text_lists_assignments():
    h = mc.named("h", A @ B)
    g = mc.named("g", mc.tanh(h) + 1)
    y = mc.named("y", g @ h - C)
    assert program_text(y) == "h = A @ B\ng = tanh(h) + 1\ny = g @ h - C"
    assert program_text(g + h) == "h = A @ B\ng = tanh(h) + 1\ng + h"
    assert program_text(A + B) == "A + B"
    # a shared intermediate is assigned once
    assert program_text(h @ h + h).count("h = ") == 1


def test_repr_shows_shape():
    assert repr(W) == "<W : m×n>"
    assert repr(A @ B) == "<A @ B : n×n>"
    rv = repr(mc.vec(W))  # a product dimension may be parenthesised: (m·n)×1
    assert rv.startswith("<vec(W) : ") and "m·n" in rv and rv.endswith("×1>")
    long = A
    for _ in range(50):
        long = long @ B
    assert len(repr(long)) < 100 and "…" in repr(long)


# --- bad inputs --------------------------------------------------------------------------------

BAD_INPUTS = [
    ("Matrix array name", lambda: mc.Matrix(np.ones(2), 2, 2)),
    ("Matrix None name", lambda: mc.Matrix(None, 2, 2)),
    ("Matrix int name", lambda: mc.Matrix(3, 2, 2)),
    ("Matrix bytes name", lambda: mc.Matrix(b"W", 2, 2)),
    ("Matrix 1W", lambda: mc.Matrix("1W", 2, 2)),
    ("Matrix class", lambda: mc.Matrix("class", 2, 2)),
    ("Matrix None keyword", lambda: mc.Matrix("None", 2, 2)),
    ("Matrix empty name", lambda: mc.Matrix("", 2, 2)),
    ("Matrix dotted name", lambda: mc.Matrix("a.b", 2, 2)),
    ("Matrix spaced name", lambda: mc.Matrix(" W", 2, 2)),
    ("dim 0", lambda: mc.Matrix("W", 0, 2)),
    ("dim -1", lambda: mc.Matrix("W", -1, 2)),
    ("dim 'm n'", lambda: mc.Matrix("W", "m n", 2)),
    ("dim 1.5", lambda: mc.Matrix("W", 1.5, 2)),
    ("dim 2.0", lambda: mc.Matrix("W", 2.0, 2)),
    ("dim True", lambda: mc.Matrix("W", True, 2)),
    ("dim None", lambda: mc.Matrix("W", None, 2)),
    ("dim empty", lambda: mc.Matrix("W", "", 2)),
    ("dim '1m'", lambda: mc.Matrix("W", "1m", 2)),
    ("dim 'm*0'", lambda: mc.Matrix("W", "m*0", 2)),
    ("dim list", lambda: mc.Matrix("W", [2], 2)),
    ("dim nan", lambda: mc.Matrix("W", float("nan"), 2)),
    ("Vector 0", lambda: mc.Vector("v", 0)),
    ("Scalar def", lambda: mc.Scalar("def")),
    ("eye 0", lambda: mc.eye(0)),
    ("ones 'a b'", lambda: mc.ones("a b", 1)),
    ("const array", lambda: mc.const(np.ones(2))),
    ("const str", lambda: mc.const("2")),
    ("const None", lambda: mc.const(None)),
    ("const bool", lambda: mc.const(True)),
    ("const numpy bool", lambda: mc.const(np.True_)),
    ("const nan", lambda: mc.const(float("nan"))),
    ("const inf", lambda: mc.const(float("inf"))),
    ("const -inf", lambda: mc.const(-math.inf)),
    ("const numpy nan", lambda: mc.const(np.float64("nan"))),
    ("const complex", lambda: mc.const(1j)),
    ("add array", lambda: W + np.ones((2, 2))),
    ("radd array", lambda: np.ones((2, 2)) + W),
    ("matmul array", lambda: np.ones((2, 2)) @ W),
    ("add str", lambda: W + "a"),
    ("add None", lambda: W + None),
    ("add bool", lambda: W + True),
    ("add list", lambda: W + [1, 2]),
    ("mul nan", lambda: W * float("nan")),
    ("add inf", lambda: W + math.inf),
    ("mul complex", lambda: W * (1 + 2j)),
    ("relu array", lambda: mc.relu(np.ones(2))),
    ("relu str", lambda: mc.relu("x")),
    ("tanh None", lambda: mc.tanh(None)),
    ("exp bool", lambda: mc.exp(True)),
    ("named class", lambda: mc.named("class", W)),
    ("named 1h", lambda: mc.named("1h", W)),
    ("named None value", lambda: mc.named("h", None)),
    ("named int name", lambda: mc.named(3, W)),
    ("pow expr", lambda: W ** "W"),
    ("pow str", lambda: W ** "2"),
    ("pow None", lambda: W ** None),
    ("pow nan", lambda: W ** float("nan")),
    ("pow inf", lambda: W ** math.inf),
    ("pow bool", lambda: W ** True),
    ("pow array", lambda: W ** np.ones(2)),
    ("sum axis 2", lambda: mc.sum(W, axis=2)),
    ("softmax axis None", lambda: mc.softmax(W, axis=None)),
    ("diag str", lambda: mc.diag("x")),
    ("kron None", lambda: mc.kron(W, None)),
    ("trace non-square", lambda: mc.trace(W)),
    ("matmul mismatch", lambda: W @ W),
]


@pytest.mark.parametrize("call", [c for _, c in BAD_INPUTS], ids=[i for i, _ in BAD_INPUTS])
def test_bad_inputs_raise_matcalc_errors(call):
    with pytest.raises(MatcalcError) as info:
        call()
    assert isinstance(info.value, (InputError, ShapeError))
    assert not isinstance(info.value, (TypeError, ValueError))
    assert str(info.value)


@pytest.mark.parametrize("bad", [np.ones(2), np.array(2.0)], ids=["1-D array", "0-D float array"])
def test_array_dimension_raises_input_error(bad):
    with pytest.raises(InputError):
        mc.Matrix("W", bad, 2)


@pytest.mark.parametrize("build", [lambda: mc.Matrix("W\n", 2, 2),
                                   lambda: mc.named("h\n", W)],
                         ids=["symbol", "named"])
def test_name_with_trailing_newline_rejected(build):
    with pytest.raises(InputError):
        build()


@pytest.mark.parametrize("build", [lambda: mc.const(10**400), lambda: W * 10**400,
                                   lambda: W + (-10**400)], ids=["const", "scale", "shift"])
def test_huge_int_constant_rejected(build):
    with pytest.raises(InputError):
        build()


def test_large_int_constant_is_a_float():
    assert mc.const(2**60) is mc.const(float(2**60))
    np.testing.assert_array_equal(mc.evaluate(mc.const(2**60), {}), [[float(2**60)]])


def test_huge_int_exponent_rejected():
    with pytest.raises(InputError):
        W ** 10**400
