"""Optional packages in tests: skipped where one is missing, except in CI (``CI=true``), where a
missing package is a failure (.ci/run installs them all)."""

from __future__ import annotations

import importlib
import os
from types import ModuleType

import pytest


def require(module: str) -> ModuleType:
    """The module, or a skip (a failure in CI) naming the extra that installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        message = f"{module} is not installed ({exc}); pip install '.[jax,torch,scipy,sklearn]'"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}: it is required in CI")
        pytest.skip(message)
