"""The input language: values, precedence, assignments, hash-consing, round trips, size."""

from __future__ import annotations

import functools
import threading

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import matcalc
from matcalc import Expr, MatcalcError, ShapeError, evaluate, to_text, toposort
from matcalc.parsing.text import FUNCTIONS, parse, parse_program

SHAPES = {
    "W": ("m", "n"), "V": ("m", "n"), "X": ("n", "B"), "Z": ("m", "B"), "b": ("m", 1),
    "A": ("n", "n"), "x": ("n", 1), "c": (1, 1), "P": (2, 3),
}


def _values(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    m, n, B = 3, 4, 5
    a = rng.normal(size=(n, n))
    return {
        "W": rng.normal(size=(m, n)), "V": rng.normal(size=(m, n)), "X": rng.normal(size=(n, B)),
        "Z": rng.normal(size=(m, B)), "b": rng.normal(size=(m, 1)),
        "A": a @ a.T + n * np.eye(n), "x": rng.normal(size=(n, 1)) + 3.0,
        "c": np.array([[0.7]]), "P": rng.normal(size=(2, 3)),
    }


VALUES = _values()


def _softmax(a, axis):
    e = np.exp(a - a.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _lse(a, axis):
    return np.log(np.sum(np.exp(a), axis=axis, keepdims=True))


def _sig(a):
    return 1 / (1 + np.exp(-a))


V = VALUES
PROGRAMS = [
    ("W @ X + b", lambda: V["W"] @ V["X"] + V["b"]),
    ("relu(W @ X + b)", lambda: np.maximum(V["W"] @ V["X"] + V["b"], 0)),
    ("sigmoid(Z)", lambda: _sig(V["Z"])),
    ("1 - sigmoid(Z)", lambda: 1 - _sig(V["Z"])),
    ("0.5 * sum(X ** 2)", lambda: 0.5 * np.sum(V["X"] ** 2).reshape(1, 1)),
    ("2 * W", lambda: 2 * V["W"]),
    ("W / 2", lambda: V["W"] / 2),
    ("W / 2 / 4", lambda: V["W"] / 8),
    ("1e-3 * W + .5", lambda: 1e-3 * V["W"] + 0.5),
    ("tanh(W).T @ Z", lambda: np.tanh(V["W"]).T @ V["Z"]),
    ("sum(W, axis=0)", lambda: V["W"].sum(axis=0, keepdims=True)),
    ("sum(W, 1)", lambda: V["W"].sum(axis=1, keepdims=True)),
    ("sum(W, axis=None)", lambda: V["W"].sum().reshape(1, 1)),
    ("mean(W)", lambda: V["W"].mean().reshape(1, 1)),
    ("mean(W, axis=1)", lambda: V["W"].mean(axis=1, keepdims=True)),
    ("logsumexp(Z, axis=0)", lambda: _lse(V["Z"], 0)),
    ("logsumexp(Z)", lambda: _lse(V["Z"], None).reshape(1, 1)),
    ("softmax(Z)", lambda: _softmax(V["Z"], 0)),
    ("softmax(Z, axis=1)", lambda: _softmax(V["Z"], 1)),
    ("log_softmax(Z, 1)", lambda: np.log(_softmax(V["Z"], 1))),
    ("trace(A)", lambda: np.trace(V["A"]).reshape(1, 1)),
    ("det(A)", lambda: np.linalg.det(V["A"]).reshape(1, 1)),
    ("logdet(A)", lambda: np.log(np.linalg.det(V["A"])).reshape(1, 1)),
    ("inv(A) @ x", lambda: np.linalg.inv(V["A"]) @ V["x"]),
    ("norm(W)", lambda: np.linalg.norm(V["W"]).reshape(1, 1)),
    ("diag(x)", lambda: np.diag(V["x"][:, 0])),
    ("diag(A)", lambda: np.diag(V["A"]).reshape(-1, 1)),
    ("kron(W, P)", lambda: np.kron(V["W"], V["P"])),
    ("vec(W)", lambda: V["W"].reshape(-1, 1, order="F")),
    ("transpose(W)", lambda: V["W"].T),
    ("eye(n) @ x", lambda: V["x"]),
    ("eye(2) @ P", lambda: V["P"]),
    ("ones(m, n) * W", lambda: V["W"]),
    ("zeros(m, 1) + b", lambda: V["b"]),
    ("ones(m) + b", lambda: V["b"] + 1),
    ("exp(log(abs(W) + 1))", lambda: np.abs(V["W"]) + 1),
    ("sqrt(abs(W))", lambda: np.sqrt(np.abs(V["W"]))),
    ("softplus(W)", lambda: np.logaddexp(0, V["W"])),
    ("step(W) + sign(W)", lambda: (V["W"] > 0) + np.sign(V["W"])),
    ("x ** -1", lambda: 1 / V["x"]),
    ("abs(W) ** 0.5", lambda: np.abs(V["W"]) ** 0.5),
    ("W ** (2)", lambda: V["W"] ** 2),
    ("power(W, 3)", lambda: V["W"] ** 3),
    ("c * W - c", lambda: 0.7 * V["W"] - 0.7),
    ("-W", lambda: -V["W"]),
    ("+W", lambda: V["W"]),
    ("- -W", lambda: V["W"]),
    ("-2 ** 2 * W", lambda: -4 * V["W"]),
    ("(-2) ** 2 * W", lambda: 4 * V["W"]),
    ("A @ A.T @ x", lambda: V["A"] @ V["A"].T @ V["x"]),
    ("(W @ X).T", lambda: (V["W"] @ V["X"]).T),
    ("W.T.T", lambda: V["W"]),
    ("x.T @ x", lambda: V["x"].T @ V["x"]),
    ("Y = W @ X; L = sum(relu(Y))", lambda: np.sum(np.maximum(V["W"] @ V["X"], 0)).reshape(1, 1)),
    ("H = tanh(W @ X)\nS = softmax(H, axis=0)\nsum(S * Z)",
     lambda: np.sum(_softmax(np.tanh(V["W"] @ V["X"]), 0) * V["Z"]).reshape(1, 1)),
    ("# a comment\n\nY = W @ X  # trailing comment\n\n(Y\n  + b)\n\n",
     lambda: V["W"] @ V["X"] + V["b"]),
    ("Y = W;;; Y\t*\t2;", lambda: 2 * V["W"]),
    ("sum(\n  W,\n  axis=0,\n)", lambda: V["W"].sum(axis=0, keepdims=True)),
    ("ones(m * n, 1).T @ vec(W)", lambda: V["W"].sum().reshape(1, 1)),
    ("unvec(vec(W), m, n) - W", lambda: np.zeros((3, 4))),
    ("size(2 * m * n) * W", lambda: 24 * V["W"]),
]


@pytest.mark.parametrize("source, reference", PROGRAMS, ids=[p[0] for p in PROGRAMS])
def test_program_values(source, reference):
    expr = parse(source, SHAPES)
    assert isinstance(expr, Expr)
    np.testing.assert_allclose(evaluate(expr, VALUES), reference(), rtol=1e-10, atol=1e-12)


PRECEDENCE = [
    ("-x ** 2", lambda: -(V["x"] ** 2)),
    ("A @ x * x", lambda: (V["A"] @ V["x"]) * V["x"]),
    ("x * x.T @ A", lambda: (V["x"] * V["x"].T) @ V["A"]),
    ("W - V - W", lambda: (V["W"] - V["V"]) - V["W"]),
    ("W / 2 * W", lambda: (V["W"] / 2) * V["W"]),
    ("W @ W.T", lambda: V["W"] @ V["W"].T),
    ("(W + V).T", lambda: (V["W"] + V["V"]).T),
    ("W + V * 2", lambda: V["W"] + V["V"] * 2),
    ("-W @ X", lambda: (-V["W"]) @ V["X"]),
    ("x ** 2 ** 1", lambda: V["x"] ** 2),
    ("2 * x.T ** 2", lambda: 2 * V["x"].T ** 2),
]


@pytest.mark.parametrize("source, reference", PRECEDENCE, ids=[p[0] for p in PRECEDENCE])
def test_precedence(source, reference):
    np.testing.assert_allclose(evaluate(parse(source, SHAPES), VALUES), reference(), rtol=1e-12)


def test_precedence_structure():
    e = parse("-x ** 2", SHAPES)
    assert e.op.name == "neg" and e.args[0].op.name == "pow"
    e = parse("A @ x * x", SHAPES)
    assert e.op.name == "mul" and e.args[0].op.name == "matmul"
    e = parse("W - V - W", SHAPES)
    assert e.op.name == "sub" and e.args[0].op.name == "sub"
    e = parse("W @ W.T", SHAPES)
    assert e.op.name == "matmul" and e.args[1].op.name == "transpose"
    e = parse("(W + V).T", SHAPES)
    assert e.op.name == "transpose" and e.args[0].op.name == "add"
    assert parse("-2", SHAPES).get("value") == -2  # a negative literal is one constant


def test_assignments_keep_named_nodes():
    result, named = parse_program("Y = W @ X; L = sum(relu(Y))", SHAPES)
    assert list(named) == ["Y", "L"]
    assert result is named["L"] and result.op.name == "named" and result.name == "L"
    nodes = [n for n in toposort([result]) if n.op.name == "named"]
    assert {n.name for n in nodes} == {"Y", "L"}
    y = named["Y"]
    assert y.args[0] is parse("W @ X", SHAPES)
    assert y.shape == (matcalc.dim("m"), matcalc.dim("B"))


def test_expression_result_and_intermediates():
    result, named = parse_program("H = relu(W)\nG = H * 2\nsum(G + H)", SHAPES)
    assert list(named) == ["H", "G"] and result.op.name == "sum"


def test_hash_consing():
    text = "Y = W @ X + b; sum(softmax(Y, axis=1) * Z)"
    assert parse(text, SHAPES) is parse(text, SHAPES)
    assert parse("W+b", SHAPES) is parse("W + b", SHAPES) is matcalc.Matrix("W", "m", "n") + \
        matcalc.Matrix("b", "m", 1)


ROUND_TRIP = [
    "W @ X + b", "-W @ X", "-(W @ X)", "(-W) ** 2", "-W ** 2", "W - (V - W)", "W / (V * W)",
    "W ** -1", "W ** 0.5", "x ** -0.25", "-2 * W", "(-2) ** 3 * W", "1e-3 * W", "0.1 + W",
    "1e20 * W", "sum(W, axis=0)", "mean(W)", "softmax(Z, axis=1)", "log_softmax(Z)",
    "eye(n) @ x", "ones(m, 1) + b", "zeros(m, n) - W", "(W @ X).T", "W.T.T", "kron(W, P)",
    "trace(inv(A) @ A)", "logdet(A) * c", "x.T @ A @ x", "diag(diag(A))", "vec(W.T)",
    "logsumexp(Z, axis=1) - 1", "sqrt(abs(W)) / (1 + norm(W))", "size(m) * W", "W - -2",
    "2 ** 2 * W", "c ** 2", "1 - sigmoid(Z)", "- -W", "(2).T * W", "2.T * W", "2. * W",
]


@pytest.mark.parametrize("source", ROUND_TRIP)
def test_round_trip(source):
    e = parse(source, SHAPES)
    text = to_text(e)
    again = parse(text, SHAPES)
    assert again is e, (source, text, to_text(again))


def test_round_trip_of_api_built_expressions():
    W, X = matcalc.Matrix("W", "m", "n"), matcalc.Matrix("X", "n", "B")
    b = matcalc.Vector("b", "m")
    for e in [matcalc.relu(W @ X + b) * 3, matcalc.sum(W ** 2) / 2, W @ X - 0.5,
              matcalc.softmax(W @ X, axis=1), (W * 2.5).T, matcalc.mean(W, axis=0)]:
        assert parse(to_text(e), SHAPES) is e


def test_ten_thousand_terms():
    text = " + ".join(["W"] * 10_000)
    e = parse(text, SHAPES)
    assert to_text(e) == text
    np.testing.assert_allclose(evaluate(e, VALUES), 10_000 * V["W"])


def test_long_program_and_long_chains():
    program = "\n".join(f"Y{i} = W * {i}" for i in range(2000)) + "\nY1999"
    result, named = parse_program(program, SHAPES)
    assert len(named) == 2000 and result.name == "Y1999"
    assert parse("W" + ".T" * 5001, SHAPES).op.name == "transpose"
    assert parse("-" * 5000 + "W", SHAPES).args[0].args[0].op.name == "neg"
    assert parse("relu(" * 3000 + "W" + ")" * 3000, SHAPES).op.name == "relu"


def test_nested_parentheses():
    assert parse("(" * 500 + "W" + ")" * 500, SHAPES) is parse("W", SHAPES)
    deep = "(" * 5000 + "W + b" + ")" * 5000
    assert parse(deep, SHAPES) is parse("W + b", SHAPES)


def test_shapes_forms():
    e = parse("W @ X", {"W": ["m", "n"], "X": "n, 4"})
    assert e.shape == (matcalc.dim("m"), matcalc.dim(4))
    e = parse("W @ W", {"W": (3, 3)})
    assert e.shape == (matcalc.dim(3), matcalc.dim(3))


def test_product_dimensions():
    e = parse("ones(m * n, 1) + vec(W)", SHAPES)
    assert e.shape == parse("vec(W)", SHAPES).shape
    assert parse("eye(2 * m) @ kron(ones(2, 1), b)", SHAPES).shape[0] == matcalc.dim("2*m")


def test_dimension_names_in_calls_are_not_symbols():
    shapes = {"n": (1, 1), "W": ("n", "n")}
    assert parse("eye(n) @ W * n", shapes).shape == (matcalc.dim("n"), matcalc.dim("n"))


def test_shape_error_keeps_class_and_position():
    with pytest.raises(ShapeError) as info:
        parse("Y = W @ X\nL = Y + W", SHAPES)
    err = info.value
    assert (err.line, err.column) == (2, 7)
    assert "line 2, column 7" in str(err) and "cannot add" in str(err)


def test_function_table_covers_builders():
    for name, fn in FUNCTIONS.items():
        if isinstance(fn.build, functools.partial):  # an alias: hstack is concat, axis=1
            assert fn.build.func is fn.op.build and name in fn.op.aliases
        assert getattr(matcalc.ops, name) is not None
        if not isinstance(fn.build, functools.partial):
            assert fn.build is getattr(matcalc.ops, name)
        assert len(fn.names) == len(fn.kinds) and 0 < fn.required <= len(fn.kinds)


def test_concurrent_parses_do_not_mix_state():
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            shapes = {f"M{i}": ("m", "m")}
            for _ in range(50):
                e = parse(f"Y{i} = M{i} @ M{i}; trace(Y{i})", shapes)
                assert e.op.name == "trace"
        except BaseException as exc:  # noqa: BLE001 - a thread's failure, re-raised below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


# --- property tests ------------------------------------------------------------------------------

GEN_SHAPES = {"W": ("m", "n"), "V": ("m", "n"), "X": ("n", "m"), "A": ("n", "n"),
              "b": ("m", 1), "x": ("n", 1), "c": (1, 1)}
DIMS = {"m": 3, "n": 2, 1: 1}
_rng = np.random.default_rng(1)
GEN_VALUES = {k: _rng.uniform(-1, 1, size=(DIMS[r], DIMS[c])) for k, (r, c) in GEN_SHAPES.items()}
UNARY = {"relu": lambda a: np.maximum(a, 0), "tanh": np.tanh, "sigmoid": _sig, "abs": np.abs,
         "-": lambda a: -a}


def _leaf(draw, shape):
    leaves = [k for k, s in GEN_SHAPES.items() if s == shape]
    leaves += ["2", "0.5"] if shape == (1, 1) else []
    if not leaves:
        size = (DIMS[shape[0]], DIMS[shape[1]])
        return f"ones({shape[0]}, {shape[1]})", lambda: np.ones(size)
    leaf = draw(st.sampled_from(leaves))
    if leaf in GEN_VALUES:
        return leaf, lambda: GEN_VALUES[leaf]
    return leaf, lambda: np.full((1, 1), float(leaf))


@st.composite
def expressions(draw, shape, depth):
    """(text, reference) for a random well-shaped expression of the given shape."""
    choice = draw(st.integers(0, 0 if depth <= 0 else 6))
    if choice == 0:
        return _leaf(draw, shape)
    if choice == 1:
        text, fn = _leaf(draw, shape)
        return f"({text})", fn
    if choice == 2:
        op = draw(st.sampled_from(["+", "-", "*"]))
        ta, fa = draw(expressions(shape, depth - 1))
        tb, fb = draw(expressions(shape, depth - 1))
        fn = {"+": np.add, "-": np.subtract, "*": np.multiply}[op]
        return f"({ta}) {op} ({tb})", lambda: fn(fa(), fb())
    if choice == 3:
        name = draw(st.sampled_from(sorted(UNARY)))
        ta, fa = draw(expressions(shape, depth - 1))
        text = f"-({ta})" if name == "-" else f"{name}({ta})"
        return text, lambda: UNARY[name](fa())
    if choice == 4:
        ta, fa = draw(expressions((shape[1], shape[0]), depth - 1))
        return f"({ta}).T", lambda: fa().T
    if choice == 5:
        k = draw(st.sampled_from(["m", "n", 1]))
        ta, fa = draw(expressions((shape[0], k), depth - 1))
        tb, fb = draw(expressions((k, shape[1]), depth - 1))
        return f"({ta}) @ ({tb})", lambda: fa() @ fb()
    ta, fa = draw(expressions(shape, depth - 1))
    p = draw(st.sampled_from([2, 3]))
    return f"({ta}) ** {p}", lambda: fa() ** p


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from([("m", "n"), ("n", "m"), ("m", 1), (1, 1), ("n", "n")]).flatmap(
    lambda shape: expressions(shape, 4)))
def test_random_well_shaped_programs(case):
    text, reference = case
    e = parse(text, GEN_SHAPES)
    got = evaluate(e, GEN_VALUES, dims={"m": 3, "n": 2})
    np.testing.assert_allclose(got, reference(), rtol=1e-9, atol=1e-12)
    assert parse(to_text(e), GEN_SHAPES) is e


TOKENS = ["W", "X", "b", "A", "x", "c", "m", "n", "relu", "sum", "softmax", "eye", "ones",
          "axis", "None", "T", "lambda", "0", "1", "2", "0.5", "1e-3", "+", "-", "*", "/", "@",
          "**", ".", "(", ")", ",", "=", ";", "\n", "#", "'", "[", "]", "Y", "Y =", "import",
          "__import__", "os", "system", ".T", "axis=0", "axis=2", "inv", "trace", "kron", "\t"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=25), st.sampled_from(["", " "]))
def test_token_soup_raises_only_matcalc_errors(tokens, joiner):
    try:
        result = parse(joiner.join(tokens), GEN_SHAPES)
    except MatcalcError:
        return
    assert isinstance(result, Expr)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_arbitrary_text_raises_only_matcalc_errors(text):
    try:
        result = parse(text, GEN_SHAPES)
    except MatcalcError:
        return
    assert isinstance(result, Expr)
