r"""How identifiers print in LaTeX, one spelling per name (distinct names never print alike).

The rule follows the name as typed: an underscore starts a subscript, digits without one stay on
the line. ``W_1`` → ``W_1``, ``W1`` → ``W1``, ``x_1_2`` → ``x_{1,2}``, ``W_hh`` → ``W_{hh}``.
A Greek letter's name is the letter (``alpha`` → ``\alpha``, ``alpha1`` → ``\alpha1``,
``W_alpha`` → ``W_{\alpha}``); ``lam``, the usual spelling of λ (``lambda`` is a Python
keyword), is ``\lambda`` on its own. Other names of several letters are upright words
(``Wx`` → ``\mathrm{Wx}``, ``lam_1`` → ``\mathrm{lam}_1``), and a name whose underscores cannot
be subscripts (``x_``, ``_x``, ``a__b``, ``lambda_``) is written whole, ``\mathrm{x\_}``.
:mod:`matcalc.parsing.latex_names` reads every one of these back as the same name.
"""

from __future__ import annotations

import re
from typing import TypeGuard

from .dims import Dim
from .errors import InputError

__all__ = ["GREEK", "LAMBDA_NAME", "check_identifier", "dim_latex", "is_identifier", "is_regular",
           "latex_name", "number_latex"]

GREEK = {
    "alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta",
    "vartheta", "iota", "kappa", "lambda", "mu", "nu", "xi", "pi", "rho", "sigma", "tau",
    "upsilon", "phi", "varphi", "chi", "psi", "omega", "Gamma", "Delta", "Theta", "Lambda",
    "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi", "Omega",
}

# the name that prints as \lambda on its own (lambda itself is a Python keyword)
LAMBDA_NAME = "lam"

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")
_REGULAR = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)*")  # underscores between parts
_LETTER_DIGITS = re.compile(r"([A-Za-z]+?)([0-9]+)")


def is_identifier(name: object) -> TypeGuard[str]:
    """Whether name is a plain ASCII identifier (ｆｏｏ is not foo)."""
    return isinstance(name, str) and _IDENTIFIER.fullmatch(name) is not None


def check_identifier(name: object, what: str = "name") -> str:
    """name if it is a plain ASCII identifier; InputError otherwise."""
    if not is_identifier(name):
        raise InputError(f"{what} must be an ASCII identifier like 'W' or 'W_hh', got "
                         f"{name!r:.80}")
    return name


def is_regular(name: str) -> bool:
    """Whether every underscore of name starts a subscript part (not x_, _x or a__b)."""
    return _REGULAR.fullmatch(name) is not None


def _head(text: str, bold: bool) -> str:
    """The part before any subscript: W, W1, \\alpha, \\alpha1, \\mathrm{Wx}."""
    m = _LETTER_DIGITS.fullmatch(text)
    letters, digits = (m.group(1), m.group(2)) if m else (text, "")
    if letters in GREEK:
        return "\\" + letters + digits  # Greek letters have no bold face here
    if len(letters) == 1:
        return rf"\mathbf{{{text}}}" if bold else text
    return rf"\mathbf{{{text}}}" if bold else r"\mathrm{" + text + "}"


def _part(text: str) -> str:
    """One part of a subscript: 1, hh, t1, \\alpha."""
    return "\\" + text if text in GREEK else text


def latex_name(name: str, bold: bool = False) -> str:
    """LaTeX for an identifier (bold: a vector in bold face, Greek letters excepted)."""
    check_identifier(name)
    if name == LAMBDA_NAME:
        return r"\lambda"
    if not is_regular(name):  # x_, _x, a__b: no subscript can say it
        body = name.replace("_", r"\_")
        return rf"\mathbf{{{body}}}" if bold else r"\mathrm{" + body + "}"
    head, *parts = name.split("_")
    core = _head(head, bold)
    if not parts:
        return core
    sub = ",".join(_part(p) for p in parts)
    return f"{core}_{sub}" if len(sub) == 1 else f"{core}_{{{sub}}}"


def dim_latex(d: Dim) -> str:
    """A dimension in LaTeX: n, 2n, m B (a product), m + n (a sum)."""
    return d.render(latex_name, " ")


def number_latex(v: float) -> str:
    """A constant in LaTeX: 2, 0.5, 1.5 \\times 10^{-8}."""
    text = str(v) if isinstance(v, int) else repr(float(v))
    if "e" in text:
        mantissa, exp = text.split("e")
        exp = str(int(exp))
        return (f"10^{{{exp}}}" if mantissa in ("1", "1.0") else
                f"{mantissa} \\times 10^{{{exp}}}")
    return text
