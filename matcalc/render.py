"""The printer engine: one iterative walk, driven by each op's text or LaTeX template.

A template is a function of the node returning pieces: a str is printed as is; a pair
``(argument, minimum precedence)`` prints an argument (an index into the node's arguments, or a
node the template built), in parentheses when it binds less tightly than the minimum. The walk keeps
an explicit stack, so a chain of 10,000 operations prints without recursion, and it emits pieces
into one list, so the cost is linear in the length of the output.

This module sits beside :mod:`matcalc.expr` at the bottom of the package: it reads op records
through the nodes it is given and imports nothing above it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .errors import InternalError, SizeLimitError
from .latexnames import latex_name
from .latexstyle import LatexStyle, make_style, style, using
from .limits import LIMITS

if TYPE_CHECKING:
    from .expr import Expr

__all__ = ["named_leaf", "render", "short", "to_latex", "to_text"]

Template = Callable[["Expr"], list[Any]]


def render(root: Expr, template_of: Template, prec_of: Callable[[Expr], int], open_paren: str,
           close_paren: str, leaf_override: Callable[[Expr], str | None] | None = None,
           limit: int | None = None, checked: bool = True) -> str:
    """Print root by its templates; with ``limit``, stop once that many characters are out.
    Without a limit, a text longer than ``LIMITS.max_print_chars`` is refused before it is
    made (SizeLimitError): a DAG prints as a tree, and a deep one with sharing would print
    characters by the billion. ``checked=False``: the caller bounds the size itself."""
    if limit is None and checked:
        _check_printed_size(root, template_of, leaf_override)
    out: list[str] = []
    budget = limit if limit is not None else -1
    stack: list[Any] = [(root, 0)]
    while stack and budget != 0:
        item = stack.pop()
        if isinstance(item, str):
            out.append(item)
            budget = max(budget - len(item), 0) if limit is not None else -1
            continue
        node, min_prec = item
        text = leaf_override(node) if leaf_override is not None else None
        if text is not None:
            stack.append(open_paren + text + close_paren if prec_of(node) < min_prec else text)
            continue
        if prec_of(node) < min_prec:
            stack.extend([close_paren, (node, 0), open_paren])  # popped open, node, close
            continue
        for piece in reversed(template_of(node)):
            if isinstance(piece, str):
                stack.append(piece)
            else:
                which, child_prec = piece  # an argument index, or a node built by the template
                stack.append((node.args[which] if isinstance(which, int) else which, child_prec))
    text = "".join(out)
    if limit is not None and (stack or len(text) > limit):
        text = text[: max(limit - 1, 1)] + "…"
    return text


_PARENS = 16  # what a pair of parentheses may add (\left( \right))


def _check_printed_size(root: Expr, template_of: Template,
                        leaf_override: Callable[[Expr], str | None] | None) -> None:
    """SizeLimitError when root would print as more than LIMITS.max_print_chars characters: each
    distinct node's printed size (its pieces, its arguments' sizes, parentheses allowed for) is
    added up once, bottom-up, without printing anything."""
    size: dict[Any, int] = {}  # by node: holding a node a template built keeps it alive
    pending: dict[Any, tuple[int, list[Any]]] = {}  # own characters, children to be sized
    stack: list[Any] = [root]
    while stack:
        node = stack.pop()
        if node in size:
            continue
        held = pending.pop(node, None)
        if held is not None:
            own, children = held
            size[node] = min(own + sum(size[c] for c in children), 2**62)
            continue
        text = leaf_override(node) if leaf_override is not None else None
        if text is not None:
            size[node] = len(text) + _PARENS
            continue
        pieces = template_of(node)
        children = [node.args[p[0]] if isinstance(p[0], int) else p[0]
                    for p in pieces if not isinstance(p, str)]
        pending[node] = (sum(len(p) for p in pieces if isinstance(p, str)) + _PARENS, children)
        stack.append(node)
        stack += [c for c in children if c not in size]
    if size[root] > LIMITS.max_print_chars:
        raise SizeLimitError(
            f"the expression would print as about {size[root]:,} characters, more than the "
            f"limit of {LIMITS.max_print_chars:,}: it shares subexpressions that printing writes "
            f"out each time; name intermediates (mc.named), print a part, or compile it "
            f"(matcalc.limits.configure(max_print_chars=…) raises the limit)")


def named_leaf(node: Expr) -> str | None:
    """A named intermediate prints as its name inside other expressions."""
    name = node.get("name")
    return name if node.op.name == "named" else None


def _text_template(n: Expr) -> list[Any]:
    template = n.op.text
    if template is None:  # Op.__post_init__ gives every record one
        raise InternalError(f"the op {n.op.name!r} has no text template")
    return template(n)


def _text_prec(n: Expr) -> int:
    return n.op.precedence(n)


def to_text(expr: Expr) -> str:
    """The input-language spelling of expr (named intermediates inside it appear by name)."""
    return render(expr, _text_template, _text_prec, "(", ")", named_leaf)


def short(expr: Expr, limit: int = 60) -> str:
    """A bounded-length description of expr for messages (never walks the whole graph); a named
    intermediate shows its definition."""
    return render(expr, _text_template, _text_prec, "(", ")",
                  lambda n: None if n is expr else named_leaf(n), limit=limit)


def _latex_template(n: Expr) -> list[Any]:
    return n.op.latex(n) if n.op.latex is not None else _text_template(n)


def _latex_prec(n: Expr) -> int:
    return n.op.precedence(n, latex=True)


def to_latex(expr: Expr, style_: LatexStyle | None = None, **options: Any) -> str:
    """LaTeX for expr from each op's LaTeX template, in the given style (see LatexStyle)."""
    chosen = make_style(style_ or style(), **options)

    def named(n: Expr) -> str | None:
        if n.op.name != "named":
            return None
        return latex_name(n.get("name"), bold=chosen.bold_vectors and n.cols.is_one
                          and not n.rows.is_one)

    with using(chosen):
        return render(expr, _latex_template, _latex_prec, r"\left(", r"\right)", named)
