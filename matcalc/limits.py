"""Size limits, in one place: how big an array, an evaluation, a check or a dimension may get.

Every engine that allocates checks its sizes here *before* allocating, so a size that would
exhaust memory or time is a :class:`~matcalc.errors.SizeLimitError` naming what is too big, never
a ``MemoryError``, a swapping machine or a run that does not end:

* ``max_elements``: the entries of one array (an input, an intermediate value, an output);
* ``max_total_elements``: the entries of every array one evaluation holds at once (counted as if
  none were freed early);
* ``max_directions``: the random directions, and the coordinates of full differences, of one
  gradient check; ``max_tries``: the points a check may draw;
* ``max_dim_factors``: the names in one product of dimensions (m·n·…); ``max_dim_terms``: the
  terms of one sum of dimensions (m + n + …);
* ``max_formula_ops``: the size of a SymPy formula given to ``elementwise``;
* ``max_explain_steps``: the nodes (named intermediates and the result) of one ``explain``
  derivation, checked before anything is derived; ``max_document_chars``: the characters of one
  document ``explain`` writes, checked before it is returned or written;
* ``max_print_chars``: the characters of one expression printed as text or LaTeX, checked before
  it is printed (a DAG with sharing prints as a tree).

Kronecker Jacobians are arrays like any other: their (often large) intermediates are checked
against ``max_elements`` and ``max_total_elements`` before evaluation allocates any of them.

Change the limits for the whole process with :func:`configure`, for a block with
:func:`limits`, or before start-up with the environment variables ``MATCALC_MAX_ELEMENTS`` and
``MATCALC_MAX_TOTAL_ELEMENTS`` (read once, when matcalc is imported).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields, replace

from .errors import InputError

__all__ = ["LIMITS", "Limits", "configure", "limits"]


@dataclass
class Limits:
    """The limits in force (see the module's documentation); every field is a positive int."""

    max_elements: int = 2**26  # 67,108,864 entries: 512 MiB of float64
    max_total_elements: int = 2**28  # 2 GiB of float64 held by one evaluation
    max_directions: int = 10_000
    max_tries: int = 1_000
    max_dim_factors: int = 64
    max_dim_terms: int = 64
    max_formula_ops: int = 2_000
    max_explain_steps: int = 30  # a post of more nodes is no longer read step by step
    max_document_chars: int = 1_000_000
    max_print_chars: int = 50_000_000  # one expression printed as text or LaTeX


def _from_environment() -> Limits:
    out = Limits()
    for field, variable in (("max_elements", "MATCALC_MAX_ELEMENTS"),
                            ("max_total_elements", "MATCALC_MAX_TOTAL_ELEMENTS")):
        text = os.environ.get(variable, "").strip()
        if text.isascii() and text.isdigit() and int(text) > 0:
            setattr(out, field, int(text))
    return out


LIMITS = _from_environment()


def _checked(changes: dict[str, object]) -> dict[str, int]:
    known = {f.name for f in fields(Limits)}
    out: dict[str, int] = {}
    for key, value in changes.items():
        if key not in known:
            raise InputError(f"limits: unknown limit {key!r}; the limits are "
                             f"{', '.join(sorted(known))}")
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise InputError(f"limits: {key} must be a positive integer, got {value!r}")
        out[key] = value
    return out


def configure(**changes: int) -> Limits:
    """Change limits for the whole process, e.g. ``configure(max_elements=10**8)``; returns the
    limits that were in force before."""
    checked = _checked(dict(changes))
    before = replace(LIMITS)
    for key, value in checked.items():
        setattr(LIMITS, key, value)
    return before


@contextmanager
def limits(**changes: int) -> Iterator[Limits]:
    """Other limits inside a ``with`` block (restored after it)."""
    before = configure(**changes)
    try:
        yield LIMITS
    finally:
        for f in fields(Limits):
            setattr(LIMITS, f.name, getattr(before, f.name))
