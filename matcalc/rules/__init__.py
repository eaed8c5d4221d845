"""The simplifier's rewrite rules, each a small function named by its effect and registered under
the head op it looks at (``@rule("matmul")``). A node's rules are tried in registration order, so
the groups are imported in a fixed order."""

# isort: off
from . import arithmetic  # noqa: F401 - registration, first
from . import structure  # noqa: F401 - then
from . import blocks  # noqa: F401 - last
# isort: on
from .base import RULES, Rule, rule, rule_names

__all__ = ["RULES", "Rule", "rule", "rule_names"]
