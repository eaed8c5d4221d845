"""The attack suite (tests/attacks, docs/attacks.md): every case holds.

The cases run once per session, in limited subprocesses (shared by the cases of a class, fresh for
cases that could poison the next); each case is then its own test, whose failure says what
happened and what was expected. The judge itself is tested first: a traceback, a wrong value,
code executed, a hang and a blown memory limit must each count as not holding.
"""

from __future__ import annotations

from collections import Counter

import pytest
from attacks import CASES, Case, Equal, Raises, Value, run_cases
from attacks.framework import Cli

CLASSES = {"code execution", "silent wrong answers", "unbounded time or memory", "tracebacks",
           "command line", "documents", "parsers"}


@pytest.fixture(scope="module")
def outcomes():
    return run_cases(CASES).outcomes


def test_the_suite_covers_every_class():
    counts = Counter(c.cls for c in CASES)
    assert set(counts) == CLASSES
    assert len(CASES) >= 200
    assert min(counts.values()) >= 20, counts


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_attack_holds(case, outcomes):
    outcome = outcomes[case.id]
    assert outcome.holds, (f"{case.id} does not hold: {outcome.detail}\n"
                           f"expected: {case.expect.describe()}")


JUDGED = [  # (case, holds): the judge on cases whose outcome is known
    (Case("judge-value", "judge", Value(3.0), "result = 1.0 + 2.0"), True),
    (Case("judge-wrong-value", "judge", Value(3.0), "result = 3.1"), False),
    (Case("judge-error", "judge", Raises("ShapeError", "cannot multiply"),
          "W = mc.Matrix('W', 'm', 'n')\nresult = W @ W"), True),
    (Case("judge-wrong-words", "judge", Raises("ShapeError", "no such words"),
          "W = mc.Matrix('W', 'm', 'n')\nresult = W @ W"), False),
    (Case("judge-wrong-class", "judge", Raises("ParseError"),
          "W = mc.Matrix('W', 'm', 'n')\nresult = W @ W"), False),
    (Case("judge-traceback", "judge", Raises("MatcalcError"), "result = {}['x']"), False),
    (Case("judge-recursion", "judge", Raises("MatcalcError"),
          "def f():\n    return f()\nresult = f()"), False),
    (Case("judge-memory", "judge", Raises("MatcalcError"),
          "result = np.ones(2**31)"), False),
    (Case("judge-canary", "judge", Equal(0), "open(CANARY, 'w').close()\nresult = 0"), False),
    (Case("judge-hang", "judge", Equal(0), "import time\ntime.sleep(60)\nresult = 0",
          timeout=3), False),
    (Case("judge-exit", "judge", Equal(0), "import os\nos._exit(3)"), False),
    (Case("judge-after-exit", "judge", Equal(True), "result = True"), True),
    (Case("judge-cli", "judge", Cli(2, ("--shape",)), argv=("shapes", "W", "--shape", "W")),
     True),
    (Case("judge-cli-wrong-code", "judge", Cli(0, out=("W",)),
          argv=("shapes", "W", "--shape", "W")), False),
]


def test_the_judge_tells_holding_from_failing():
    run = run_cases([c for c, _ in JUDGED])
    wrong = {c.id: run.outcomes[c.id].detail for c, holds in JUDGED
             if run.outcomes[c.id].holds is not holds}
    assert not wrong, wrong
    # a killed interpreter blames its case and a new one runs the rest
    assert "hang" in run.outcomes["judge-hang"].detail
    assert "canary" in run.outcomes["judge-canary"].detail
    assert run.subprocesses >= 4
