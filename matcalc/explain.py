"""Step-by-step derivations: the forward pass, then node by node in reverse the upstream gradient,
the local gradient and the downstream gradient = upstream × local, in English or Korean, as
Markdown for a publisher (``target``: Jekyll, Hugo or plain Markdown; see :mod:`matcalc.publish`)
or as LaTeX.

The facts come from :func:`matcalc.derivation.derive` (the real rules); this module only writes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .derivation import Derivation, Local, Node, derive, name_list
from .dims import Dim
from .errors import InputError, SizeLimitError
from .explain_words import TEXT, particles
from .expr import Expr
from .latexnames import dim_latex, latex_name, number_latex
from .limits import LIMITS
from .printing import latex_space, to_latex, to_text
from .publish import check_line, check_target, display_math, inline_math, latex_text, link_url
from .publish import front_matter as make_front_matter

__all__ = ["Figure", "derive", "explain", "render"]

FORMATS = ("markdown", "latex")


@dataclass
class Figure:
    """A figure in a post: the URL the post links to, and how it was (or was not) drawn."""

    url: str
    with_values: bool = False
    scalar_graph: bool = False
    missing: str | None = None  # why it was not drawn and how to draw it (an HTML comment)
    encoded: bool = False  # the URL's % escapes are its own (a URL the author gave)


@dataclass
class _Options:
    lang: str
    fmt: str
    target: str
    t: dict[str, str]
    exercise: list[str] = field(default_factory=list)
    program: str = ""


class _Writer:
    def __init__(self, fmt: str, target: str):
        self.fmt, self.target = fmt, target if fmt == "markdown" else "latex"
        self.lines: list[str] = []

    def m(self, tex: str) -> str:
        """Inline math."""
        return inline_math(tex, self.target)

    def heading(self, level: int, text: str) -> None:
        if self.fmt == "markdown":
            self.lines += ["#" * level + " " + text, ""]
        else:
            cmd = {2: "section", 3: "subsection", 4: "subsubsection"}.get(level, "paragraph")
            self.lines += [f"\\{cmd}*{{{_latex_text(text)}}}", ""]

    def para(self, text: str) -> None:
        if text:
            self.lines += [text if self.fmt == "markdown" else _latex_text(text), ""]

    def bold(self, text: str) -> None:
        self.para(f"**{text}**" if self.fmt == "markdown" else f"\\textbf{{{_latex_text(text)}}}")

    def math(self, tex: str) -> None:
        self.lines += display_math(tex, self.target) + [""]

    def aligned(self, rows: list[str]) -> None:
        self.math("\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}")

    def raw(self, text: str) -> None:
        self.lines += [text, ""]

    def text(self) -> str:
        return "\n".join(self.lines).rstrip() + "\n"


def _latex_text(text: str) -> str:
    """Markdown inline pieces to LaTeX: **bold** and `code`; $…$ math is kept."""
    text = re.sub(r"\*\*(.+?)\*\*", r"\\textbf{\1}", text)
    return re.sub(r"`(.+?)`", r"\\texttt{\1}", text)


def _partial(y: str, x: str) -> str:
    return r"\frac{\partial " + y + r"}{\partial " + x + "}"


def _number(x: float) -> str:
    text = f"{x:.4g}"
    return number_latex(float(text)) if "e" in text else text


def _matrix_tex(v: np.ndarray) -> str:
    """A value in display math: a number, a bmatrix (rows broken by \\\\), or its size."""
    if v.size == 1:
        return _number(float(v.reshape(-1)[0]))
    if v.shape[0] > 6 or v.shape[1] > 6:
        return r"\text{(a " + f"{v.shape[0]} \\times {v.shape[1]}" + " matrix)}"
    rows = [" & ".join(_number(float(x)) for x in row) for row in v]
    return r"\begin{bmatrix}" + r" \\ ".join(rows) + r"\end{bmatrix}"


def _dim_tex(d: Dim) -> str:
    return "(" + dim_latex(d) + ")" if d.compound else dim_latex(d)


def _tensor_space(shape: Sequence[Dim]) -> str:
    return r"\mathbb{R}^{" + r" \times ".join(_dim_tex(k) for k in shape) + "}"


def _name(e: Expr, loss_name: str) -> str:
    return e.get("name") or loss_name


def _entry(tex: str, simple: bool, index: str) -> str:
    """The (i, j) entry of a formula: Z_{ij}, or (…)_{ij}."""
    return f"{tex}_{{{index}}}" if simple else r"\left(" + tex + r"\right)_{" + index + "}"


def _is_simple(e: Expr) -> bool:
    name = e.get("name") if e.op.name in ("symbol", "named") else None
    return isinstance(name, str) and len(name) == 1 and latex_name(name) == name


def _node_tex(s: Node, d: Derivation) -> str:
    return to_latex(s.node) if s.node.op.name == "named" else latex_name(d.loss_name)


def _local_gradient(w: _Writer, o: _Options, s: Node, loc: Local, d: Derivation) -> None:
    t, y, x = o.t, _node_tex(s, d), to_latex(loc.input)
    names = {"x": _name(loc.input, d.loss_name), "y": _name(s.node, d.loss_name)}
    info = particles({"x": w.m(x), "y": w.m(y)}, names)
    w.para(t["local_intro"].format(**info))
    sx, sy = latex_space(loc.input.shape), latex_space(s.definition.shape)
    info.update(xin=w.m(x + r" \in " + sx), yin=w.m(y + r" \in " + sy),
                tensor=w.m(_tensor_space(list(s.definition.shape) + list(loc.input.shape))))
    if loc.jacobian is not None:
        info.update(space=w.m(latex_space(loc.jacobian.shape)))
    w.para(t[loc.kind].format(**info))
    if loc.jacobian is None:
        return
    vec_form = loc.kind in ("kron", "elementwise")
    lhs = (_partial(r"\operatorname{vec}(" + y + ")", r"\operatorname{vec}(" + x + ")")
           if vec_form else _partial(y, x))
    w.math(lhs + " = " + to_latex(loc.jacobian) + r" \in " + latex_space(loc.jacobian.shape))
    if loc.entrywise is not None:
        index = "i" if loc.kind == "diagonal" else "ij"
        simple_y, simple_x = _is_simple(s.node), _is_simple(loc.input)
        w.para(t["entrywise"] + (":" if o.lang == "en" else ""))
        w.math(_partial(_entry(y, simple_y, index), _entry(x, simple_x, index)) + " = "
               + _entry(to_latex(loc.entrywise), _is_simple(loc.entrywise), index))
        w.para(t["entrywise_after"])


def _backward_node(w: _Writer, o: _Options, s: Node, d: Derivation) -> None:
    t, loss_tex, y = o.t, latex_name(d.loss_name), _node_tex(s, d)
    w.heading(4, f"{t['node']} {w.m(y + ' = ' + to_latex(s.definition))}")
    w.bold(t["upstream"])
    yinfo = particles({"y": w.m(y)}, {"y": _name(s.node, d.loss_name)})
    if s.upstream is None and s.node is d.loss and d.loss_name == s.name:
        w.para(t["is_loss"].format(**yinfo))
        w.math(_partial(loss_tex, y) + " = 1")
    else:
        w.para(t["upstream_from"].format(**yinfo))
        w.math(_partial(loss_tex, y) + r" \in " + latex_space(s.node.shape))
        if s.upstream is not None:
            w.para(t["upstream_value"])
            w.math(_partial(loss_tex, y) + " = " + to_latex(s.upstream))
    w.bold(t["local"])
    for loc in s.locals:
        _local_gradient(w, o, s, loc, d)
    w.bold(t["downstream"])
    for loc in s.locals:
        x = to_latex(loc.input)
        info = particles({"x": w.m(x)}, {"x": _name(loc.input, d.loss_name)})
        w.para(t["downstream_intro"].format(**info))
        w.math(_partial(loss_tex, x) + " = " + to_latex(loc.downstream) + r" \in "
               + latex_space(loc.downstream.shape))
        w.para(t["shape_ok"].format(s=w.m(latex_space(loc.downstream.shape)), **info))
        if d.uses.get(loc.input, 0) > 1:
            w.para(t["sum_note"].format(k=d.uses[loc.input], **info))


def default_title(d: Derivation, lang: str) -> str:
    """A plain-text title (no math markup), for front matter and headings."""
    top = d.loss.get("name") if d.loss.op.name == "named" else d.loss_name
    body = to_text(d.loss.args[0] if d.loss.op.name == "named" else d.loss)
    return TEXT[lang]["title"].format(what=f"{top} = {body}")


def _figure(w: _Writer, o: _Options, fig: Figure) -> None:
    t = o.t
    caption = t["figure_values"] if fig.with_values else (
        t["figure_scalar"] if fig.scalar_graph else t["figure_shapes"])
    url = check_line(fig.url, "a figure's URL")  # a line break would end the LaTeX comment
    if w.fmt == "latex":
        w.raw(f"% figure: \\includegraphics{{{url}}}")
        w.para(caption)
        return
    if fig.missing:
        w.raw("<!-- " + fig.missing.replace("--", "- -") + " -->")
    w.raw(f"![{caption}]({link_url(url, fig.encoded)})")
    w.para(f"_{caption}_")


def _worked_example(w: _Writer, o: _Options, d: Derivation) -> None:
    t, loss_tex = o.t, latex_name(d.loss_name)
    if w.fmt == "markdown":
        w.raw("<details>\n<summary>" + t["example"] + "</summary>\n<div markdown=\"1\">")
    else:
        w.heading(3, t["example"])
    w.para(t["example_intro"])
    w.aligned([f"{to_latex(x)} &= {_matrix_tex(d.forward_values[x])}" for x in d.inputs])
    w.bold(t["forward_values"])
    w.aligned([f"{_node_tex(s, d)} &= {_matrix_tex(d.forward_values[s.node])}"
               for s in d.steps])
    w.bold(t["gradient_values"])
    rows = [_partial(loss_tex, loss_tex) + " &= 1"]
    for s in reversed(d.steps):
        if s.node in d.gradient_values:
            rows.append(_partial(loss_tex, to_latex(s.node)) + " &= "
                        + _matrix_tex(d.gradient_values[s.node]))
    for x in d.wrt:
        rows.append(_partial(loss_tex, to_latex(x)) + " &= " + _matrix_tex(d.gradient_values[x]))
    w.aligned(rows)
    if w.fmt == "markdown":
        w.raw("</div>\n</details>")


def _exercise(w: _Writer, o: _Options, d: Derivation, answers: list[tuple[Expr, Expr]]) -> None:
    from .compare import check_command

    t, loss_tex = o.t, latex_name(d.loss_name)
    w.heading(3, t["exercise"])
    for x, g in answers:
        name = x.get("name")
        info = particles({"g": w.m(_partial(loss_tex, to_latex(x))), "x": w.m(to_latex(x)),
                          "space": w.m(latex_space(x.shape))}, {"g": name, "x": name})
        w.para(t["exercise_intro"].format(**info))
        cmd = check_command(o.program, d.loss, name)
        w.raw("```sh\n" + cmd + "\n```" if w.fmt == "markdown" else
              "\\begin{verbatim}\n" + cmd + "\n\\end{verbatim}")
        if w.fmt == "markdown":
            w.raw(f"<details>\n<summary>{t['exercise_answer']}</summary>\n<div markdown=\"1\">")
        w.math(_partial(loss_tex, to_latex(x)) + " = " + to_latex(g) + r" \in "
               + latex_space(g.shape))
        if w.fmt == "markdown":
            w.raw("</div>\n</details>")


def render(d: Derivation, lang: str = "en", fmt: str = "markdown",
           front_matter: bool | Mapping[str, Any] = False, title: str | None = None,
           figure: str | Figure | None = None, target: str = "jekyll",
           exercise: Sequence[str] = (), program: str | None = None) -> str:
    """The derivation as a document (Markdown for ``target``, or LaTeX)."""
    if lang not in TEXT:
        raise InputError(f"explain: lang must be one of {', '.join(TEXT)}, got {lang!r}")
    if fmt not in FORMATS:
        raise InputError(f"explain: format must be markdown or latex, got {fmt!r}")
    check_target(target)
    o = _Options(lang, fmt, target, TEXT[lang], name_list(exercise, "exercise"),
                 _one_line_program(program) if program else _program_text(d))
    w = _Writer(fmt, target)
    plain_title = (default_title(d, lang) if title is None or title == ""
                   else check_line(title, "the title"))
    if front_matter and fmt == "markdown":
        fm = dict(front_matter) if isinstance(front_matter, Mapping) else {}
        w.lines += [make_front_matter(plain_title, target, fm)]  # the theme shows the title
    elif fmt == "latex":
        w.lines += [r"% requires \usepackage{amsmath,amssymb}", "",
                    r"\section*{" + latex_text(plain_title) + "}", ""]
    else:
        w.heading(2, _escape_md(plain_title))
    _forward(w, o, d, figure)
    w.heading(3, o.t["backward"])
    w.para(o.t["backward_intro"])
    w.math(o.t["rule"])
    for s in reversed(d.steps):
        if s.locals:
            _backward_node(w, o, s, d)
    asked = [(x, g) for x, g in zip(d.wrt, d.gradients) if x.get("name") not in o.exercise]
    if asked:
        w.heading(3, o.t["result"])
        w.para(o.t["result_intro"])
        w.aligned([_partial(latex_name(d.loss_name), to_latex(x)) + " &= " + to_latex(g)
                   + r" \in " + latex_space(g.shape) for x, g in asked])
    if d.values is not None:
        _worked_example(w, o, d)
    if o.exercise:
        _exercise(w, o, d, _exercise_answers(d, o.exercise))
    text = w.text()
    if len(text) > LIMITS.max_document_chars:
        raise SizeLimitError(
            f"explain: the document would be {len(text):,} characters long, more than the limit "
            f"of {LIMITS.max_document_chars:,}; explain a smaller program, or raise the limit "
            f"with matcalc.limits.configure(max_document_chars=…)")
    return text


def _forward(w: _Writer, o: _Options, d: Derivation, figure: str | Figure | None) -> None:
    loss_tex = latex_name(d.loss_name)
    w.heading(3, o.t["forward"])
    w.para(o.t["forward_intro"])
    ins = ", ".join(f"{to_latex(x)} \\in {latex_space(x.shape)}" for x in d.inputs)
    w.para(f"{o.t['inputs']}: {w.m(ins)}" if ins else "")
    w.aligned([f"{to_latex(s.node) if s.node.op.name == 'named' else loss_tex} &= "
               f"{to_latex(s.definition)} \\in {latex_space(s.definition.shape)}"
               for s in d.steps])
    if figure is not None:
        fig = figure if isinstance(figure, Figure) else Figure(
            figure, with_values=d.values is not None,
            scalar_graph=all(x.is_scalar for x in d.inputs))
        _figure(w, o, fig)


def _escape_md(text: str) -> str:
    """Plain text in a Markdown heading: characters Markdown would read are escaped."""
    return re.sub(r"([\\`*_\[\]<>#|])", r"\\\1", text)


def _one_line_program(source: str) -> str:
    """A program's source on one line, its comments dropped: what is left is the grammar's own
    tokens, which can end neither a code block nor a verbatim environment."""
    lines = (re.sub(r"#.*", "", line).strip() for line in source.splitlines())
    return "; ".join(line for line in lines if line)


def _program_text(d: Derivation) -> str:
    from .printing import program_text

    return "; ".join(program_text(d.loss).splitlines())


def _exercise_answers(d: Derivation, names: Sequence[str]) -> list[tuple[Expr, Expr]]:
    from .diff import resolve_wrt, vjp
    from .expr import toposort

    targets = resolve_wrt(toposort([d.loss]), list(names))
    return list(zip(targets, vjp(d.loss, targets, upstream=d.seed)))


def explain(program: Any, wrt: Any = None, shapes: Mapping[str, Any] | None = None,
            lang: str = "en", fmt: str = "markdown",
            front_matter: bool | Mapping[str, Any] = False,
            values: Mapping[str, Any] | None = None, title: str | None = None,
            figure: str | Figure | None = None, node: bool = False, target: str = "jekyll",
            exercise: Sequence[str] = ()) -> str:
    """A derivation document for a program (text, parsed with shapes) or an expression."""
    source = None
    if isinstance(program, str):
        from .parsing import parse

        if shapes is None:
            raise InputError("explain: give shapes for the program's inputs")
        source = program
        program = parse(program, shapes)
    d = derive(program, wrt, values, node, exclude=exercise)
    return render(d, lang, fmt, front_matter, title, figure, target, exercise, source)
