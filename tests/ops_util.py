"""The registry as the tests see it."""

from __future__ import annotations

import matcalc as mc


def builtin_ops() -> set[str]:
    """Registered ops, less user-defined elementwise functions (those are made at run time)."""
    return {name for name, op in mc.OPS.items() if not op.extra.get("user")}
