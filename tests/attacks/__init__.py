"""The attack suite: every case, by class (see docs/attacks.md and framework.py)."""

from __future__ import annotations

from . import cases_cli, cases_docs, cases_exec, cases_parser, cases_size, cases_trace, cases_wrong
from .framework import Case, Cli, Equal, Outcome, Raises, Run, Value, run_cases

CASES: list[Case] = [*cases_exec.cases(), *cases_wrong.cases(), *cases_size.cases(),
                     *cases_trace.cases(), *cases_cli.cases(), *cases_docs.cases(),
                     *cases_parser.cases()]
CASES_BY_ID: dict[str, Case] = {c.id: c for c in CASES}
assert len(CASES_BY_ID) == len(CASES), "case ids must be unique"

__all__ = ["CASES", "CASES_BY_ID", "Case", "Cli", "Equal", "Outcome", "Raises", "Run", "Value",
           "run_cases"]
