"""Chains of 10,000 operations: build, evaluate, print, toposort and hash-cons without recursion."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import matcalc as mc
from matcalc import count_nodes, evaluate, program_text, toposort

DEPTH = 10_000

W = mc.Matrix("W", "n", "n")


def tanh_chain(depth: int = DEPTH) -> mc.Expr:
    """depth operations alternating tanh(·) and · + W."""
    x = W
    for i in range(depth):
        x = mc.tanh(x) if i % 2 == 0 else x + W
    return x


def transpose_neg_chain(depth: int = DEPTH) -> mc.Expr:
    """depth operations alternating transposes and negations over an m×n matrix."""
    x = mc.Matrix("M", "m", "n")
    for i in range(depth):
        x = x.T if i % 2 == 0 else -x
    return x


@pytest.fixture(scope="module")
def chain():
    return tanh_chain()


@pytest.fixture(scope="module")
def tn_chain():
    return transpose_neg_chain()


@pytest.fixture
def low_recursion_limit():
    """Run with a recursion limit far below the depth, so any recursive walk fails loudly."""
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)
    try:
        yield
    finally:
        sys.setrecursionlimit(old)


def test_count_nodes(chain, tn_chain):
    assert count_nodes(chain) == DEPTH + 1
    assert count_nodes(tn_chain) == DEPTH + 1
    assert count_nodes(chain, tn_chain) == 2 * DEPTH + 2
    assert count_nodes(chain, chain) == DEPTH + 1


def test_toposort_is_iterative_and_ordered(chain, low_recursion_limit):
    order = toposort([chain])
    assert len(order) == DEPTH + 1
    assert order[0] is W and order[-1] is chain
    position = {id(node): i for i, node in enumerate(order)}
    assert len(position) == len(order)  # each node once
    for node in order:
        for arg in node.args:
            assert position[id(arg)] < position[id(node)]


def test_evaluates(chain, tn_chain, low_recursion_limit):
    w = np.array([[0.1, -0.2], [0.3, 0.05]])
    got = evaluate(chain, {"W": w})
    x = w
    for i in range(DEPTH):
        x = np.tanh(x) if i % 2 == 0 else x + w
    np.testing.assert_allclose(got, x, rtol=1e-12)

    m = np.arange(6.0).reshape(2, 3)
    got = evaluate(tn_chain, {"M": m})
    # 5,000 transposes (even: back to m×n) and 5,000 negations (even: sign unchanged)
    np.testing.assert_array_equal(got, m)
    assert tn_chain.shape == mc.Matrix("M", "m", "n").shape


def test_prints(chain, tn_chain, low_recursion_limit):
    text = str(chain)
    assert text.count("tanh(") == DEPTH // 2
    assert text.count(" + W") == DEPTH // 2
    assert text.startswith("tanh(" * (DEPTH // 2) + "W) + W)")
    assert text.endswith(") + W")
    assert program_text(chain) == text
    r = repr(chain)
    assert r.startswith("<") and r.endswith(": n×n>") and len(r) < 200

    t = str(tn_chain)
    assert t.count("M") == 1 and t.count(".T") == DEPTH // 2 and t.count("-") == DEPTH // 2
    assert len(repr(tn_chain)) < 200
    assert mc.to_latex(chain).count(r"\tanh") == DEPTH // 2


def test_prints_text_that_reads_back(chain):
    """The printed chain is Python over matcalc's builders and means the same node."""
    text = str(chain)
    # Python's own parser would recurse on this depth; check a shorter chain by eval instead
    short = tanh_chain(200)
    assert eval(str(short), {"__builtins__": {}, "tanh": mc.tanh, "W": W}) is short
    assert len(text) > 10 * DEPTH // 2


def test_program_text_with_named_intermediates(low_recursion_limit):
    x = W
    for i in range(DEPTH):
        x = mc.tanh(x) + W
        if i % 1000 == 999:
            x = mc.named(f"h{i // 1000}", x)
    text = program_text(x)
    lines = text.split("\n")
    assert len(lines) == 10  # h0 … h9; the root is h9 itself
    assert lines[0].startswith("h0 = tanh(tanh(")
    assert lines[1].startswith("h1 = tanh(tanh(") and "h0" in lines[1]
    assert lines[-1].startswith("h9 = ")
    assert str(x + 1) == "h9 + 1"
    assert program_text(x + 1).endswith("\nh9 + 1")


def test_hash_consing_a_chain_built_twice(chain, low_recursion_limit):
    again = tanh_chain()
    assert again is chain
    assert hash(again) == hash(chain)
    assert transpose_neg_chain() is transpose_neg_chain()
    assert tanh_chain(DEPTH - 1) is chain.args[0]


def test_chain_is_freed_without_recursion_error():
    """Dropping the last reference to a deep chain frees it without a crash."""
    x = mc.Matrix("Tmp", 2, 2)
    for _ in range(DEPTH):
        x = mc.exp(x) * 0.5
    assert count_nodes(x) == 2 * DEPTH + 2  # Tmp, 0.5, and an exp and a mul per step
    del x
    y = mc.Matrix("Tmp", 2, 2)
    for _ in range(3):
        y = mc.exp(y) * 0.5
    assert count_nodes(y) == 8


def test_deep_shape_error_message_is_short(chain):
    with pytest.raises(mc.ShapeError) as info:
        chain @ mc.Matrix("Z", "k", 1)
    assert len(str(info.value)) < 300
    assert "n ≠ k" in str(info.value)
