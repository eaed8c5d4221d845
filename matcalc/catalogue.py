"""The op catalogue, generated from the op registry so that it cannot drift from the code.

``python -m matcalc.catalogue > docs/ops.md`` writes it; a test checks that the file is current.
For every op: what it is (its record's docstring), its shape rule and VJP on a sample (computed
by the very rules), its LaTeX, and its domain.
"""

from __future__ import annotations

from .dims import shape_str
from .expr import OPS, Expr, toposort


def samples() -> dict[str, Expr]:
    """One sample expression per registered op, over symbols named like the Cookbook's."""
    import matcalc as mc
    from .ops import cotangent, kron_contract_left, kron_contract_right, size, unvec
    from .ops._jac import commutation

    W, X, A = mc.Matrix("W", "m", "n"), mc.Matrix("X", "n", "B"), mc.Matrix("A", "n", "n")
    Z, x, b = mc.Matrix("Z", "m", "B"), mc.Vector("x", "n"), mc.Vector("b", "m")
    s = mc.Scalar("s")
    G = mc.Matrix("G", "m", "n")
    out = {
        "symbol": W, "const": mc.const(2) * W, "eye": mc.eye("n") + A, "ones": mc.ones("n", 1),
        "zeros": mc.zeros("m", "n"), "size": Z / size("B"), "named": mc.named("Y", W @ X),
        "add": W @ X + b, "sub": W - G, "mul": W * G, "div": W / s, "pow": W ** 2, "neg": -W,
        "matmul": W @ X, "transpose": W.T, "sum": mc.sum(Z, axis=1), "mean": mc.mean(Z, axis=0),
        "logsumexp": mc.logsumexp(x), "softmax": mc.softmax(Z, axis=0),
        "log_softmax": mc.log_softmax(Z, axis=0), "trace": mc.trace(A), "det": mc.det(A),
        "logdet": mc.logdet(A), "inv": mc.inv(A), "norm": mc.norm(W), "diag": mc.diag(x),
        "kron": mc.kron(W, A), "vec": mc.vec(W), "unvec": unvec(mc.Vector("v", "m*n"), "m", "n"),
        "kron_contract_left": kron_contract_left(mc.Matrix("K", "m*n", "n*n"), A, ("m", "n")),
        "kron_contract_right": kron_contract_right(mc.Matrix("K", "m*n", "n*n"), W, ("n", "n")),
        "commutation": commutation("m", "n") @ mc.vec(W),
        "cotangent": cotangent("Y", "m", "B"),
    }
    for name, op in OPS.items():
        if op.kind == "elementwise" and name not in out and op.arity == 1:
            out[name] = Expr.make(op, (Z,))
    return out

def catalogue_markdown() -> str:
    """The catalogue as Markdown."""
    from .diff import vjp
    from .printing import to_latex

    table = samples()
    lines = ["# Op catalogue", "",
             "Generated from the op registry by `python -m matcalc.catalogue`; do not edit.",
             "Shapes, VJPs and LaTeX below are computed on a sample of each op by the very rules "
             "matcalc uses. In a VJP, ∂L/∂Y is the upstream gradient (the cotangent of the "
             "op's output).", ""]
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
            lines.append("- domain: " + ", ".join(f"argument {i + 1} {k}" for i, k in domain.items()))
        for a in node.args:
            if a.op.name == "symbol" and not a.get("tex"):
                g = vjp(node, a, upstream=None)
                lines.append(f"- VJP for `{a}`: `{g}`  —  ${to_latex(g)}$")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":  # pragma: no cover
    import sys

    sys.stdout.write(catalogue_markdown())
