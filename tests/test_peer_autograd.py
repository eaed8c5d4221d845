"""The peer suite: HIPS autograd's gradient tests of test_linalg.py, test_numpy.py and
test_scipy.py re-expressed in matcalc (tests/peer_autograd.py), each checked against finite
differences and, where PyTorch is installed, against torch.autograd on the same function compiled
for PyTorch. docs/testing.md reports the counts, and a test keeps them current."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from optional import require
from peer_autograd import PEERS

import matcalc as mc

EXPRESSED = [p for p in PEERS if p.build is not None]
ROOT = Path(__file__).resolve().parents[1]


def test_every_row_is_a_case_or_says_why_not():
    names = [(p.file, p.name) for p in PEERS]
    assert len(names) == len(set(names))
    for p in PEERS:
        assert (p.build is None) == bool(p.reason), p.name


def test_every_autograd_test_has_a_row():
    """The three files' test functions (parametrised ones by their instances) all appear."""
    files = {"test_linalg.py": 55, "test_numpy.py": 108, "test_scipy.py": 89}
    for file, functions in files.items():
        bases = {re.sub(r"\[.*\]$", "", p.name) for p in PEERS if p.file == file}
        assert len(bases) == functions, (file, len(bases))


@pytest.mark.parametrize("peer", EXPRESSED, ids=[p.name for p in EXPRESSED])
def test_matches_finite_differences(peer):
    for loss, wrt, values in peer.build():
        report = mc.check(loss, wrt, values=values, method="both")
        if report.passed is None and all("rounding level" in r.note for r in report):
            # a locally constant loss (a tie broken towards constants): float64 cannot tell its
            # zero gradient from rounding, so check says SKIPPED; the gradient must be zero
            for g in report.gradients.values():
                assert np.max(np.abs(g)) <= 1e-12, f"{peer.name}: {loss}\n{report}"
            continue
        assert report.passed is True, f"{peer.name}: {loss}\n{report}"


def _torch_gradients(loss, wrt, values):
    torch = require("torch")
    f = mc.compile([loss], backend="torch")
    inputs = {k: torch.tensor(v, dtype=torch.float64, requires_grad=k in wrt)
              for k, v in values.items()}
    (out,) = f(**inputs)
    grads = torch.autograd.grad(out.sum(), [inputs[w] for w in wrt])
    return [g.detach().numpy() for g in grads]


@pytest.mark.parametrize("peer", EXPRESSED, ids=[p.name for p in EXPRESSED])
def test_matches_torch_autograd(peer):
    for loss, wrt, values in peer.build():
        ours = mc.evaluate_many(mc.grad(loss, wrt), values)
        theirs = _torch_gradients(loss, wrt, values)
        for name, a, b in zip(wrt, ours, theirs):
            np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-9, err_msg=f"{peer.name}: {name}")


def counts() -> dict[str, tuple[int, int]]:
    """(expressed, all) per file and in total."""
    out: dict[str, tuple[int, int]] = {}
    for file in ("test_linalg.py", "test_numpy.py", "test_scipy.py"):
        rows = [p for p in PEERS if p.file == file]
        out[file] = (sum(p.build is not None for p in rows), len(rows))
    out["total"] = (len(EXPRESSED), len(PEERS))
    return out


def test_docs_report_the_counts():
    text = (ROOT / "docs" / "testing.md").read_text(encoding="utf-8")
    for file, (expressed, total) in counts().items():
        label = "all three" if file == "total" else f"`{file}`"
        assert f"| {label} | {total} | {expressed} |" in text, (file, expressed, total)
