"""The examples in examples/frameworks run and check themselves: the SciPy fits reach the
closed-form ridge solution and scikit-learn's logistic regression, and the matcalc layer norm
trains like PyTorch's."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from optional import require

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "frameworks"
NEEDS = {"ridge_scipy": ["scipy"], "logistic_scipy": ["scipy", "sklearn"],
         "layer_norm_torch": ["torch"]}


def test_every_example_is_listed():
    assert {p.stem for p in EXAMPLES.glob("*.py")} == set(NEEDS)


def _run(name: str) -> str:
    for module in NEEDS[name]:
        require(module)
    done = subprocess.run([sys.executable, str(EXAMPLES / f"{name}.py")], check=False,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_ridge_reaches_the_closed_form():
    out = _run("ridge_scipy")
    errors = [float(e) for e in re.findall(r"max \|w - w\*\| = (\S+)", out)]
    assert len(errors) == 4 and max(errors) < 1e-6


def test_logistic_matches_scikit_learn():
    out = _run("logistic_scipy")
    (error,) = re.findall(r"max \|\(w, b\) - reference\| = (\S+)", out)
    assert float(error) < 1e-5


@pytest.mark.filterwarnings("ignore")
def test_layer_norm_trains_like_pytorchs():
    out = _run("layer_norm_torch")
    assert float(re.search(r"largest relative difference over 200 steps: (\S+)", out)[1]) < 1e-8
    assert "recomputes no mean or square root: True" in out
