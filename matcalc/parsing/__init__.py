"""The text and LaTeX front ends.

Each language is a Lark grammar file shipped with the package (``text.lark``, ``latex.lark``) and
a transformer that builds matcalc expressions as the LALR parser reduces. What the two share —
per-parse state, positioned errors, name suggestions, the entry wrapper, ``declare(shapes)`` —
lives once in :mod:`.common`; what they can call comes from the op registry (:mod:`.tables`).
"""

from .common import declare
from .latex import parse_latex
from .text import parse, parse_program

__all__ = ["declare", "parse", "parse_latex", "parse_program"]
