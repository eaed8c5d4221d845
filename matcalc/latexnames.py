"""How identifiers print in LaTeX: W1 → W_1, W_hh → W_{hh}, alpha → \\alpha."""

from __future__ import annotations

import re

from .dims import Dim

GREEK = {
    "alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta",
    "vartheta", "iota", "kappa", "lambda", "mu", "nu", "xi", "pi", "rho", "sigma", "tau",
    "upsilon", "phi", "varphi", "chi", "psi", "omega", "Gamma", "Delta", "Theta", "Lambda",
    "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi", "Omega",
}

# spellings of λ that are legal names (lambda itself is a Python keyword)
ALIASES = {"lam": "lambda", "lmbda": "lambda", "lambda_": "lambda"}

_TRAILING_DIGITS = re.compile(r"^([A-Za-z]+?)(\d+)$")


def _base(text: str) -> str:
    text = ALIASES.get(text, text)
    if text in GREEK:
        return "\\" + text
    if len(text) == 1:
        return text
    return r"\mathrm{" + text.replace("_", r"\_") + "}"


def latex_name(name: str, bold: bool = False) -> str:
    """LaTeX for an identifier."""
    if name in ALIASES:
        return _base(name)
    if "_" in name:
        head, _, sub = name.partition("_")
        if head and sub:
            core = _base(head)
            sub_tex = ",".join(latex_name(s) if s in GREEK else s for s in sub.split("_"))
            core = rf"\mathbf{{{core}}}" if bold and head not in GREEK else core
            return f"{core}_{{{sub_tex}}}" if len(sub_tex) > 1 else f"{core}_{sub_tex}"
    m = _TRAILING_DIGITS.match(name)
    if m and (len(m.group(1)) == 1 or m.group(1) in GREEK):
        core = _base(m.group(1))
        core = rf"\mathbf{{{core}}}" if bold and m.group(1) not in GREEK else core
        digits = m.group(2)
        return f"{core}_{{{digits}}}" if len(digits) > 1 else f"{core}_{digits}"
    core = _base(name)
    return rf"\mathbf{{{core}}}" if bold and name not in GREEK else core


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
