"""The op catalogue, generated from the op registry so that it cannot drift from the code.

``python -m matcalc.catalogue > docs/ops.md`` writes it; a test checks that the file is current.
For every op: what it is (its record's docstring), its shape rule and VJP on a sample (computed
by the very rules), its LaTeX, and its domain.
"""

from __future__ import annotations

from .diff import vjp
from .dims import shape_str
from .expr import OPS, Expr, toposort
from .ops import Matrix, Scalar, Vector, cotangent
from .render import to_latex


class SampleSymbols:
    """The symbols op samples are written over, named like the Matrix Cookbook's."""

    def __init__(self) -> None:
        self.W, self.X, self.A = Matrix("W", "m", "n"), Matrix("X", "n", "B"), Matrix("A", "n", "n")
        self.Z, self.x, self.b = Matrix("Z", "m", "B"), Vector("x", "n"), Vector("b", "m")
        self.s, self.G = Scalar("s"), Matrix("G", "m", "n")
        self.v, self.K = Vector("v", "m*n"), Matrix("K", "m*n", "n*n")


def samples() -> dict[str, Expr]:
    """One sample expression per registered op: its record's ``sample``, or, for an elementwise
    function of one argument, the function applied to Z."""
    symbols = SampleSymbols()
    out: dict[str, Expr] = {}
    for name, op in OPS.items():
        if op.sample is not None:
            out[name] = op.sample(symbols)
        elif op.kind == "elementwise" and op.arity == 1:
            out[name] = Expr.make(op, (symbols.Z,))
    out["cotangent"] = cotangent("Y", "m", "B")
    return out


def catalogue_markdown() -> str:
    """The catalogue as Markdown."""
    table = samples()
    lines = ["# Op catalogue", "",
             "Generated from the op registry by `python -m matcalc.catalogue`; do not edit.",
             ("Shapes, VJPs and LaTeX below are computed on a sample of each op by the very rules "
              "matcalc uses. In a VJP, ∂L/∂Y is the upstream gradient (the cotangent of the "
              "op's output)."), ""]
    for name in sorted(OPS):
        op = OPS[name]
        if op.extra.get("user"):
            continue
        e = table.get(name)
        lines += [f"## `{name}`", "", f"{op.doc}", ""]
        lines.append(f"- kind: {op.kind}")
        if e is None:
            lines += [""]
            continue
        node = e if e.op is op else next(n for n in toposort([e]) if n.op is op)
        arg_shapes = ", ".join(f"`{a}` {shape_str(a.shape)}" for a in node.args)
        lines.append(f"- shape: {arg_shapes + ' → ' if arg_shapes else ''}`{node}` "
                     f"{shape_str(node.shape)}")
        lines.append(f"- LaTeX: `{to_latex(e)}`")
        domain = op.domain_of(node)
        if domain:
            lines.append("- domain: " + ", ".join(
                f"argument {i + 1} {k}" if isinstance(i, int) else f"`{i}` {k}"
                for i, k in domain.items()))
        for a in node.args:
            if a.op.name == "symbol" and not a.get("tex"):
                g = vjp(node, a, upstream=None)
                lines.append(f"- VJP for `{a}`: `{g}`  —  ${to_latex(g)}$")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":  # pragma: no cover
    import sys

    sys.stdout.write(catalogue_markdown())
