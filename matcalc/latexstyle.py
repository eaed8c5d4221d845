"""LaTeX conventions, configurable where authors differ. Templates read the style in force."""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

TRANSPOSES = {"top": r"^\top", "T": "^T", "mathsf": r"^\mathsf{T}"}


@dataclass(frozen=True)
class LatexStyle:
    """How matcalc writes LaTeX.

    transpose: ``"top"`` (X^\\top, the default), ``"T"`` (X^T) or ``"mathsf"`` (X^\\mathsf{T}).
    hadamard: the Hadamard product's operator (``\\odot`` or ``\\circ``).
    bold_vectors: write column-vector symbols in bold (\\mathbf{x}).
    inverse_transpose: write (X⁻¹)ᵀ as X^{-\\top}.
    loss: the loss's name in gradient symbols (\\frac{\\partial L}{\\partial W}).
    indicator: the indicator in \\mathbb{I}[Z > 0] (the step, relu's derivative). The default
        renders as a double-struck I in KaTeX and MathJax alike, distinct from the ones vector
        \\mathbf{1}; KaTeX draws \\mathbb{1} as a plain 1.
    """

    transpose: str = "top"
    hadamard: str = r"\odot"
    bold_vectors: bool = False
    inverse_transpose: bool = True
    loss: str = "L"
    indicator: str = r"\mathbb{I}"

    @property
    def sup_t(self) -> str:
        """The transpose superscript: ^\\top, ^T or ^\\mathsf{T}."""
        return TRANSPOSES[self.transpose]

    @property
    def t_symbol(self) -> str:
        """The transpose mark inside a larger superscript, as in X^{-\\top}."""
        return self.sup_t[1:]


DEFAULT = LatexStyle()
_current: contextvars.ContextVar[LatexStyle] = contextvars.ContextVar("latex_style",
                                                                     default=DEFAULT)


def style() -> LatexStyle:
    """The style in force for the LaTeX being written."""
    return _current.get()


def make_style(base: LatexStyle | None = None, **options: Any) -> LatexStyle:
    """A style from keyword options; unknown options or values are errors."""
    from .errors import InputError
    from .latexnames import is_identifier

    base = DEFAULT if base is None else base
    if not isinstance(base, LatexStyle):
        raise InputError(f"latex: style must be a LatexStyle (matcalc.latexstyle.make_style), "
                         f"got {type(base).__name__}")
    fields = set(LatexStyle.__dataclass_fields__)
    bad = sorted(set(options) - fields)
    if bad:
        raise InputError(f"latex: unknown style option {bad[0]!r}; "
                         f"options are {', '.join(sorted(fields))}")
    out = replace(base, **options)
    if not is_identifier(out.loss):
        raise InputError(f"latex: loss must be an ASCII identifier like 'L', got {out.loss!r:.80}")
    if out.transpose not in TRANSPOSES:
        raise InputError(f"latex: transpose must be one of {', '.join(TRANSPOSES)}, "
                         f"got {out.transpose!r}")
    return out


@contextlib.contextmanager
def using(s: LatexStyle) -> Iterator[LatexStyle]:
    """Context manager: write LaTeX in style s."""
    token = _current.set(s)
    try:
        yield s
    finally:
        _current.reset(token)
