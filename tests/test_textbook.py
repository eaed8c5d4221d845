"""The textbook suite (tests/textbook.py): every derived gradient equals the textbook's form,
numerically, and prints at most 1.2 times as long; docs/readability.md reports the table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from textbook import ITEMS, LIMIT, derive, ratio, report

import matcalc as mc

ROOT = Path(__file__).resolve().parent.parent
SIZES = {"k": 3, "B": 4, "m": 3, "n": 4, "d": 3, "T": 5, "p": 2}


@pytest.mark.parametrize("item", ITEMS, ids=[i.name for i in ITEMS])
def test_as_short_as_the_textbook(item):
    _, got, textbook = derive(item)
    assert ratio(got, textbook) <= LIMIT, f"{got}\n  is longer than the textbook's\n{textbook}"


@pytest.mark.parametrize("item", ITEMS, ids=[i.name for i in ITEMS])
def test_equal_to_the_textbook(item):
    program, got, textbook = derive(item)
    if program.is_scalar:  # within the ops' domains, at three random points
        result = mc.compare(item.textbook, program, item.wrt, dims=SIZES)
        assert result.equal, result.message
        return
    rng = np.random.default_rng(3)
    values = {name: rng.normal(size=tuple(SIZES.get(str(d), d) for d in shape))
              for name, shape in item.shapes.items()}
    dims = {k: v for k, v in SIZES.items()}
    np.testing.assert_allclose(mc.evaluate(got, values, dims), mc.evaluate(textbook, values, dims),
                               rtol=1e-10, atol=1e-12)


def test_the_suite_is_large_enough():
    assert len(ITEMS) >= 25


def test_docs_report_is_current():
    text = (ROOT / "docs" / "readability.md").read_text(encoding="utf-8")
    assert report() in text, "run: python tests/textbook.py and paste the table into docs/readability.md"
