"""Printers: one iterative engine, driven by each op's text or LaTeX template.

The engine keeps an explicit stack, so a chain of 10,000 operations prints without recursion, and
it emits pieces into one list, so the cost is linear in the length of the output.
"""

from __future__ import annotations

from .expr import Expr, toposort


def _render(root: Expr, template_of, prec_of, open_paren: str, close_paren: str,
            leaf_override=None) -> str:
    out: list[str] = []
    stack: list = [(root, 0)]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            out.append(item)
            continue
        node, min_prec = item
        if leaf_override is not None:
            text = leaf_override(node)
            if text is not None:
                if prec_of(node) < min_prec:
                    text = open_paren + text + close_paren
                out.append(text)
                continue
        if prec_of(node) < min_prec:
            stack.extend([close_paren, (node, 0), open_paren])  # popped open, node, close
            continue
        pieces = template_of(node)
        for piece in reversed(pieces):
            if isinstance(piece, str):
                stack.append(piece)
            else:
                which, child_prec = piece  # an argument index, or a node built by the template
                stack.append((node.args[which] if isinstance(which, int) else which, child_prec))
    return "".join(out)


def _named_leaf(node: Expr) -> str | None:
    # named intermediates print as their name inside other expressions
    return node.get("name") if node.op.name == "named" else None


def to_text(expr: Expr) -> str:
    """The input-language spelling of expr (named intermediates appear by name)."""
    return _render(expr, lambda n: n.op.text(n), lambda n: n.op.precedence(n), "(", ")",
                   _named_leaf)


def program_text(expr: Expr) -> str:
    """A whole program: one assignment per named intermediate, then the result."""
    lines = []
    for node in toposort([expr]):
        if node.op.name == "named":
            lines.append(f"{node.get('name')} = {to_text(node.args[0])}")
    if expr.op.name != "named":
        lines.append(to_text(expr))
    return "\n".join(lines)


def short(expr: Expr, limit: int = 60) -> str:
    """A bounded-length description of expr for error messages (never walks the whole graph)."""
    out: list[str] = []
    budget = [limit]

    stack: list = [(expr, 0)]
    while stack and budget[0] > 0:
        item = stack.pop()
        if isinstance(item, str):
            out.append(item)
            budget[0] -= len(item)
            continue
        node, min_prec = item
        leaf = _named_leaf(node) if node is not expr else None
        if leaf is not None:
            out.append(leaf)
            budget[0] -= len(leaf)
            continue
        if node.op.precedence(node) < min_prec:
            stack.extend([")", (node, 0), "("])
            continue
        for piece in reversed(node.op.text(node)):
            if isinstance(piece, str):
                stack.append(piece)
            else:
                which, child_prec = piece
                stack.append((node.args[which] if isinstance(which, int) else which, child_prec))
    text = "".join(out)
    if stack or len(text) > limit:
        text = text[: max(limit - 1, 1)] + "…"
    return text


def to_latex(expr: Expr, style=None, **options) -> str:
    """LaTeX for expr from each op's LaTeX template, in the given style (see LatexStyle)."""
    from .latexnames import latex_name
    from .latexstyle import make_style, style as current, using

    chosen = make_style(style or current(), **options)

    def template(n: Expr):
        return n.op.latex(n) if n.op.latex is not None else n.op.text(n)

    def named(n: Expr):
        if n.op.name != "named":
            return None
        return latex_name(n.get("name"), bold=chosen.bold_vectors and n.cols.is_one
                          and not n.rows.is_one)

    with using(chosen):
        return _render(expr, template, lambda n: n.op.precedence(n, latex=True), r"\left(",
                       r"\right)", named)


def latex_space(shape) -> str:
    """ℝ^{m×n} for a shape: ℝ for 1×1, ℝ^{n} for a column n×1."""
    from .ops._base import dim_latex

    rows, cols = shape
    if rows.is_one and cols.is_one:
        return r"\mathbb{R}"
    if cols.is_one:
        return r"\mathbb{R}^{" + dim_latex(rows) + "}"
    return r"\mathbb{R}^{" + dim_latex(rows) + r" \times " + dim_latex(cols) + "}"


def gradient_symbol(var: str, loss: str = "L") -> str:
    """\\frac{\\partial L}{\\partial W}."""
    from .latexnames import latex_name

    return r"\frac{\partial " + latex_name(loss) + r"}{\partial " + latex_name(var) + "}"


def latex(expr: Expr, wrt: str | None = None, loss: str = "L", space: bool = True, style=None,
          **options) -> str:
    """LaTeX for expr; with ``wrt="W"`` the equation ∂L/∂W = … ∈ ℝ^{m×n} (for a gradient)."""
    from .errors import InputError

    if not isinstance(expr, Expr):
        raise InputError(f"latex expects a matcalc expression, got {type(expr).__name__}")
    body = to_latex(expr, style, **options)
    if wrt is None:
        return body
    out = gradient_symbol(wrt, loss) + " = " + body
    return out + (r" \in " + latex_space(expr.shape) if space else "")


def latex_gradients(grads, loss: str = "L", space: bool = True, style=None, **options) -> str:
    """Several gradients in one aligned block: ``{"W": gW, "b": gb}`` or a list of pairs."""
    pairs = list(grads.items()) if isinstance(grads, dict) else list(grads)
    lines = []
    for var, g in pairs:
        rhs = to_latex(g, style, **options) + (r" \in " + latex_space(g.shape) if space else "")
        lines.append(gradient_symbol(var, loss) + " &= " + rhs)
    return "\\begin{aligned}\n" + " \\\\\n".join(lines) + "\n\\end{aligned}"
