"""Step-by-step derivations: the forward pass, then node by node in reverse the upstream gradient,
the local gradient and the downstream gradient = upstream × local, with shapes, in English or
Korean, as Markdown (Jekyll/Hugo with MathJax or KaTeX) or LaTeX.

Every formula comes from the real derivation: the downstream gradients are ``vjp`` of each node's
definition, the local gradients ``jacobian``, the final results ``grad`` — the same rules.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np

from .diff import jacobian, vjp
from .dims import shape_str
from .errors import DifferentiationError, InputError
from .evaluate import evaluate_many
from .expr import Expr, toposort
from .ops import const, cotangent
from .printing import latex_space, to_latex

TEXT = {
    "en": {
        "title": "Backpropagation through {what}",
        "forward": "Forward pass",
        "forward_intro": "The program, step by step, with the shape of every value:",
        "inputs": "Inputs",
        "backward": "Backward pass",
        "backward_intro": ("Going from the loss back to the inputs, every node applies the chain "
                           "rule:"),
        "rule": r"\text{Downstream Gradient} = \text{Upstream Gradient} \times \text{Local Gradient}",
        "node": "Node",
        "upstream": "Upstream gradient",
        "local": "Local gradient",
        "downstream": "Downstream gradient",
        "is_loss": "{y} is the loss itself, so its upstream gradient is 1:",
        "upstream_from": ("How much the loss changes when {y} changes; it flows in from the "
                          "nodes that use {y}:"),
        "upstream_value": "Computed at the nodes after this one, it is",
        "local_intro": "How much {y} changes when {x} changes, looking at this node alone:",
        "scalar": "Both are scalars, so the local gradient is a scalar:",
        "row": ("{y} is a scalar and {xin} a vector, so the local gradient has one entry "
                "per entry of {x}:"),
        "matrix_of_scalar": ("{y} is a scalar and {xin}, so the local gradient has one "
                             "entry per entry of {x}, arranged like {x}:"),
        "jacobian": "Both are vectors, so the local gradient is the {size} Jacobian matrix:",
        "diagonal": ("The operation is elementwise, so the Jacobian is diagonal: entry i of {y} "
                     "depends only on entry i of {x}:"),
        "kron": ("{yin} and {xin}: every entry of {y} can depend on every entry of "
                 "{x}, so the local gradient is a 4-D array of shape {tensor}. Stacking "
                 "columns (vec), it is the {size} matrix"),
        "kron_nodense": ("{yin} and {xin}: the local gradient is a 4-D array of shape {tensor}; "
                         "it is never formed — the chain rule applies it through its "
                         "vector–Jacobian product."),
        "downstream_intro": ("How much the loss changes when {x} changes: upstream × local, "
                             "simplified:"),
        "shape_ok": "Its shape, {s}, is the shape of {x}, as it must be.",
        "sum_note": ("{x} is used by {k} nodes; its gradient is the sum of the downstream "
                     "gradients from each of them."),
        "result": "Result",
        "result_intro": "Putting the steps together, in terms of the inputs:",
        "example": "Worked example",
        "example_intro": "With {values}:",
        "forward_values": "Forward values",
        "gradient_values": "Gradients",
        "figure": "Computational graph: forward values in green above each edge, gradients in red below.",
    },
    "ko": {
        "title": "{what}의 역전파",
        "forward": "순전파 (Forward pass)",
        "forward_intro": "입력에서 출발해 각 단계의 값을 차례대로 계산한다. 각 값의 크기(shape)도 함께 적었다.",
        "inputs": "입력",
        "backward": "역전파 (Backward pass)",
        "backward_intro": ("손실에서 출발해 입력 방향으로 그래프를 거슬러 올라가며, 각 노드에서 연쇄 법칙 "
                           "(Chain Rule)을 적용한다."),
        "rule": r"\text{Downstream Gradient} = \text{Upstream Gradient} \times \text{Local Gradient}",
        "node": "노드",
        "upstream": "Upstream Gradient",
        "local": "Local Gradient",
        "downstream": "Downstream Gradient",
        "is_loss": "{y}{y_topic} 손실 함수 자체이므로 Upstream Gradient는 1이다.",
        "upstream_from": ("노드의 출력 {y}{y_subj} 최종 손실 함수에 얼마나 영향을 미치는지에 대한 값으로, "
                          "{y}{y_obj} 사용하는 뒤쪽 노드에서 흘러들어온다."),
        "upstream_value": "뒤쪽 노드에서 이미 계산한 값은 다음과 같다.",
        "local_intro": ("다른 노드와 상관없이, 이 노드만 보았을 때 {x}{x_subj} 변하면 {y}{y_subj} 얼마나 "
                        "변하는지를 나타낸다."),
        "scalar": "둘 다 스칼라이므로 Local Gradient도 스칼라이다.",
        "row": ("{y}{y_topic} 스칼라이고 {xin}인 벡터이므로, Local Gradient는 {x}의 각 원소마다 하나씩 "
                "값을 가진다."),
        "matrix_of_scalar": ("{y}{y_topic} 스칼라이고 {xin}이므로, Local Gradient는 {x}의 각 원소마다 "
                             "하나씩 값을 가지며 {x}{x_with} 같은 모양으로 배열된다."),
        "jacobian": "둘 다 벡터이므로 Local Gradient는 {size} 야코비안(Jacobian) 행렬이다.",
        "diagonal": ("원소별(elementwise) 연산이므로 {y}의 i번째 원소는 {x}의 i번째 원소에만 의존한다. "
                     "따라서 야코비안은 대각 행렬이다."),
        "kron": ("{yin}, {xin}이므로 {y}의 모든 원소가 {x}의 모든 원소에 의존할 수 있다. "
                 "따라서 Local Gradient는 크기가 {tensor}인 4차원 텐서이다. 열을 쌓아(vec) 행렬로 "
                 "쓰면 {size} 행렬이 된다."),
        "kron_nodense": ("{yin}, {xin}이므로 Local Gradient는 크기가 {tensor}인 4차원 텐서이다. 이 "
                         "텐서를 직접 만들지 않고, 연쇄 법칙을 벡터-야코비안 곱으로 적용한다."),
        "downstream_intro": ("노드의 입력 {x}{x_subj} 최종 손실 함수에 얼마나 영향을 미치는지에 대한 값으로, "
                             "Chain Rule에 의해 'Upstream Gradient × Local Gradient'로 계산된다."),
        "shape_ok": "{x}{x_with} 같은 크기({s})이다.",
        "sum_note": ("{x}{x_topic} {k}개의 노드에서 사용되므로, 각 노드에서 온 Downstream Gradient를 "
                     "모두 더한다."),
        "result": "결과",
        "result_intro": "각 단계를 모으면, 입력으로 나타낸 최종 기울기는 다음과 같다.",
        "example": "계산 예시",
        "example_intro": "{values}일 때:",
        "forward_values": "순전파 값",
        "gradient_values": "기울기",
        "figure": "계산 그래프: 각 간선 위의 초록색 값은 순전파 값, 아래의 빨간색 값은 기울기이다.",
    },
}


@dataclass
class Local:
    """One input of one node: its local gradient and its downstream gradient."""

    input: Expr
    kind: str  # scalar, row, matrix_of_scalar, jacobian, diagonal, kron, kron_nodense
    jacobian: Expr | None
    downstream: Expr  # upstream × local, with the upstream as a symbol


@dataclass
class Node:
    """One named step Y = f(inputs) of the program."""

    name: str
    node: Expr
    definition: Expr
    upstream: Expr | None  # the closed form of ∂L/∂Y (None for the loss)
    locals: list[Local] = field(default_factory=list)


@dataclass
class Derivation:
    """Everything a document needs, from the real derivation."""

    loss: Expr
    loss_name: str
    inputs: list[Expr]
    steps: list[Node]  # forward order
    wrt: list[Expr]
    gradients: list[Expr]
    uses: dict[Expr, int]
    values: dict | None = None
    forward_values: dict = field(default_factory=dict)
    gradient_values: dict = field(default_factory=dict)


def _inputs_of(definition: Expr) -> list[Expr]:
    """Symbols and named nodes a definition reads directly (it stops at named nodes)."""
    out: list[Expr] = []
    seen: set[Expr] = set()
    stack = [definition]
    while stack:
        n = stack.pop()
        inner = []
        for a in n.args:
            if a in seen:
                continue
            seen.add(a)
            if a.op.name in ("symbol", "named"):
                out.append(a)
            else:
                inner.append(a)
        stack.extend(reversed(inner))
    return out


def _kind(y: Expr, x: Expr, jac: Expr | None) -> str:
    if y.is_scalar and x.is_scalar:
        return "scalar"
    if y.is_scalar:
        return "row" if x.cols.is_one else "matrix_of_scalar"
    if y.cols.is_one and x.cols.is_one:
        return "diagonal" if jac is not None and jac.op.name == "diag" else "jacobian"
    return "kron" if jac is not None else "kron_nodense"


def derive(loss: Expr, wrt=None, values: Mapping | None = None, node: bool = False) -> Derivation:
    """The derivation of ``loss`` node by node (named intermediates are the nodes).

    A scalar result is the loss L. A non-scalar result Y is one node of a larger network, as in a
    textbook's single layer: its upstream gradient ∂L/∂Y is a given symbol. ``node=True`` treats
    a scalar result that way too.
    """
    if not isinstance(loss, Expr):
        raise InputError(f"explain expects a matcalc expression, got {type(loss).__name__}")
    order = toposort([loss])
    inputs = [n for n in order if n.op.name == "symbol" and not n.get("tex")]
    if wrt is None:
        wrt_nodes = inputs
    else:
        from .diff import resolve_wrt

        wrt_nodes = resolve_wrt(order, wrt)
    top_name = loss.get("name") if loss.op.name == "named" else None
    if loss.is_scalar and not node:
        loss_name, top_seed = top_name or "L", const(1)
    else:
        if top_name is None:
            raise DifferentiationError(
                f"explain: name the program's {shape_str(loss.shape)} result (e.g. 'Y = ...') so "
                f"that its upstream gradient ∂L/∂Y can be spoken of, or reduce it to a scalar loss")
        loss_name, top_seed = "L", cotangent(top_name, *loss.shape)
    wanted = set(wrt_nodes)
    needed: set[Expr] = set()
    for n in order:
        if n in wanted or any(a in needed for a in n.args):
            needed.add(n)
    named = [n for n in order if n.op.name == "named"]
    steps_nodes = named if loss.op.name == "named" else named + [loss]
    # ∂L/∂Y for every step, and the final gradients, from one reverse sweep
    step_targets = [n for n in named if n in needed and n is not loss]
    targets = step_targets + list(wrt_nodes)
    all_grads = vjp(loss, targets, upstream=top_seed) if targets else []
    upstream = dict(zip(step_targets, all_grads[: len(step_targets)]))
    final = all_grads[len(step_targets):]
    uses: dict[Expr, int] = {}
    steps: list[Node] = []
    for s in steps_nodes:
        definition = s.args[0] if s.op.name == "named" else s
        name = s.get("name") if s.op.name == "named" else loss_name
        step = Node(name, s, definition, upstream.get(s))
        seed = top_seed if s is loss else cotangent(name, *s.shape, loss=loss_name)
        for x in _inputs_of(definition):
            if x not in needed:
                continue
            uses[x] = uses.get(x, 0) + 1
            try:
                jac = jacobian(definition, x)
            except DifferentiationError:
                jac = None
            down = vjp(definition, x, upstream=seed)
            step.locals.append(Local(x, _kind(definition, x, jac), jac, down))
        steps.append(step)
    d = Derivation(loss, loss_name, inputs, steps, list(wrt_nodes), list(final), uses)
    if values is not None:
        if not loss.is_scalar or node:
            raise InputError("explain: worked values need a scalar loss")
        _attach_values(d, values)
    return d


def _attach_values(d: Derivation, values: Mapping) -> None:
    vals = {k: v for k, v in values.items()}
    d.values = vals
    shown = d.inputs + [s.node for s in d.steps]
    for node, v in zip(shown, evaluate_many(shown, vals)):
        d.forward_values[node] = v
    targets = [s.node for s in d.steps if s.upstream is not None]
    exprs = [s.upstream for s in d.steps if s.upstream is not None] + d.gradients
    evaluated = evaluate_many(exprs, vals) if exprs else []
    for node, v in zip(targets + d.wrt, evaluated):
        d.gradient_values[node] = v


# --- rendering ------------------------------------------------------------------------------------

_tex = to_latex


def _partial(y: str, x: str) -> str:
    return r"\frac{\partial " + y + r"}{\partial " + x + "}"


def _matrix_tex(v: np.ndarray) -> str:
    if v.size == 1:
        return f"{float(v.reshape(-1)[0]):.4g}"
    if v.shape[0] > 6 or v.shape[1] > 6:
        return r"\text{(" + f"{v.shape[0]}×{v.shape[1]}" + ")}"
    rows = [" & ".join(f"{x:.3g}" for x in row) for row in v]
    return r"\begin{bmatrix}" + r" \\ ".join(rows) + r"\end{bmatrix}"


class _Writer:
    def __init__(self, fmt: str):
        self.fmt = fmt
        self.lines: list[str] = []

    def heading(self, level: int, text: str) -> None:
        if self.fmt == "markdown":
            self.lines += ["#" * level + " " + text, ""]
        else:
            cmd = {2: "section", 3: "subsection", 4: "subsubsection"}.get(level, "paragraph")
            self.lines += [f"\\{cmd}*{{{_latex_text(text)}}}", ""]

    def para(self, text: str) -> None:
        self.lines += [text if self.fmt == "markdown" else _latex_text(text), ""]

    def bold(self, text: str) -> None:
        self.para(f"**{text}**" if self.fmt == "markdown" else f"\\textbf{{{_latex_text(text)}}}")

    def math(self, tex: str) -> None:
        if self.fmt == "markdown":
            self.lines += ["$$", tex, "$$", ""]
        else:
            self.lines += [r"\[", tex, r"\]", ""]

    def raw(self, text: str) -> None:
        self.lines += [text, ""]

    def text(self) -> str:
        return "\n".join(self.lines).rstrip() + "\n"


def _latex_text(text: str) -> str:
    """Markdown inline pieces to LaTeX: **bold** and `code`; $…$ math is kept."""
    import re

    text = re.sub(r"\*\*(.+?)\*\*", r"\\textbf{\1}", text)
    return re.sub(r"`(.+?)`", r"\\texttt{\1}", text)


def render(d: Derivation, lang: str = "en", fmt: str = "markdown", front_matter: bool | dict = False,
           title: str | None = None, figure: str | None = None) -> str:
    """The derivation as a document."""
    if lang not in TEXT:
        raise InputError(f"explain: lang must be one of {', '.join(TEXT)}, got {lang!r}")
    if fmt not in ("markdown", "latex"):
        raise InputError(f"explain: format must be markdown or latex, got {fmt!r}")
    t = TEXT[lang]
    w = _Writer(fmt)
    from .latexnames import latex_name

    loss_tex = latex_name(d.loss_name)
    top_tex = _tex(d.loss) if d.loss.op.name == "named" else loss_tex

    def m(s: str) -> str:  # inline math
        return f"${s}$"

    what = title or t["title"].format(
        what=m(top_tex if d.loss_name == (d.loss.get("name") or "L") else
               top_tex + " = " + _tex(d.loss.args[0])))
    if front_matter and fmt == "markdown":
        fm = front_matter if isinstance(front_matter, dict) else {}
        w.lines += ["---", f'title: "{fm.get("title", _plain(what))}"',
                    f"date: {fm.get('date', _dt.date.today().isoformat())}",
                    f"categories: [{', '.join(fm.get('categories', ['Deep Learning']))}]",
                    f"tags: [{', '.join(fm.get('tags', ['backpropagation', 'matrix calculus']))}]",
                    "math: true", "---", ""]
    if fmt == "latex":
        w.lines += [r"% requires \usepackage{amsmath,amssymb}", ""]
    w.heading(2, what)

    # forward pass
    w.heading(3, t["forward"])
    w.para(t["forward_intro"])
    ins = ", ".join(f"{_tex(x)} \\in {latex_space(x.shape)}" for x in d.inputs)
    w.para(f"{t['inputs']}: {m(ins)}" if ins else "")
    lines = []
    for s in d.steps:
        lines.append(f"{_tex(s.node) if s.node.op.name == 'named' else loss_tex} &= "
                     f"{_tex(s.definition)} \\in {latex_space(s.definition.shape)}")
    w.math("\\begin{aligned}\n" + " \\\\\n".join(lines) + "\n\\end{aligned}")
    if figure:
        alt = t["figure"]
        w.raw(f"![{_plain(alt)}]({figure})" if fmt == "markdown" else
              f"% figure: \\includegraphics{{{figure}}}")
        w.para(f"_{alt}_" if fmt == "markdown" else alt)

    # backward pass
    w.heading(3, t["backward"])
    w.para(t["backward_intro"])
    w.math(t["rule"])
    for s in reversed(d.steps):
        if not s.locals:
            continue
        y = _tex(s.node) if s.node.op.name == "named" else loss_tex
        w.heading(4, f"{t['node']} {m(y + ' = ' + _tex(s.definition))}")
        w.bold(t["upstream"])
        yinfo = _particles(dict(y=m(y)), None, s.node, d.loss_name)
        if s.upstream is None and s.node is d.loss and d.loss_name == s.name:
            w.para(t["is_loss"].format(**yinfo))
            w.math(_partial(loss_tex, y) + " = 1")
        elif s.upstream is None:
            w.para(t["upstream_from"].format(**yinfo))
            w.math(_partial(loss_tex, y) + r" \in " + latex_space(s.node.shape))
        else:
            w.para(t["upstream_from"].format(**yinfo))
            w.math(_partial(loss_tex, y) + r" \in " + latex_space(s.node.shape))
            w.para(t["upstream_value"])
            w.math(_partial(loss_tex, y) + " = " + _tex(s.upstream))
        w.bold(t["local"])
        for loc in s.locals:
            x = _tex(loc.input)
            w.para(t["local_intro"].format(**_particles(dict(x=m(x), y=m(y)), loc.input, s.node,
                                                           d.loss_name)))
            sx, sy = latex_space(loc.input.shape), latex_space(s.definition.shape)
            dims = list(s.definition.shape) + list(loc.input.shape)
            info = _particles(dict(x=m(x), y=m(y)), loc.input, s.node, d.loss_name)
            info.update(xin=m(x + r" \in " + sx), yin=m(y + r" \in " + sy),
                        tensor=m(r" \times ".join(_dim_tex(k) for k in dims)))
            if loc.jacobian is not None:
                info.update(size=m(_shape_tex(loc.jacobian.shape)))
            w.para(t[loc.kind].format(**info))
            if loc.jacobian is not None:
                lhs = (_partial(r"\operatorname{vec}(" + y + ")", r"\operatorname{vec}(" + x + ")")
                       if loc.kind == "kron" else _partial(y, x))
                w.math(lhs + " = " + _tex(loc.jacobian) + r" \in " + latex_space(loc.jacobian.shape))
        w.bold(t["downstream"])
        for loc in s.locals:
            x = _tex(loc.input)
            info = _particles(dict(x=m(x)), loc.input, None, d.loss_name)
            w.para(t["downstream_intro"].format(**info))
            w.math(_partial(loss_tex, x) + " = " + _tex(loc.downstream) + r" \in "
                   + latex_space(loc.downstream.shape))
            w.para(t["shape_ok"].format(s=m(_shape_tex(loc.downstream.shape)), **info))
            if d.uses.get(loc.input, 0) > 1:
                w.para(t["sum_note"].format(k=d.uses[loc.input], **info))

    # result
    w.heading(3, t["result"])
    w.para(t["result_intro"])
    rows = [_partial(loss_tex, _tex(x)) + " &= " + _tex(g) + r" \in " + latex_space(g.shape)
            for x, g in zip(d.wrt, d.gradients)]
    w.math("\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}")

    if d.values is not None:
        _worked_example(w, d, t, loss_tex)
    return w.text()


def _worked_example(w: _Writer, d: Derivation, t: dict, loss_tex: str) -> None:
    shown = ", ".join(f"{_tex(x)} = {_matrix_tex(d.forward_values[x])}" for x in d.inputs)
    if w.fmt == "markdown":
        w.raw("<details>\n<summary>" + t["example"] + "</summary>\n<div markdown=\"1\">")
    else:
        w.heading(3, t["example"])
    w.para(t["example_intro"].format(values=f"${shown}$"))
    w.bold(t["forward_values"])
    rows = [f"{_tex(s.node) if s.node.op.name == 'named' else loss_tex} &= "
            f"{_matrix_tex(d.forward_values[s.node])}" for s in d.steps]
    w.math("\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}")
    w.bold(t["gradient_values"])
    rows = [_partial(loss_tex, loss_tex) + " &= 1"]
    for s in reversed(d.steps):
        if s.node in d.gradient_values:
            rows.append(_partial(loss_tex, _tex(s.node)) + " &= "
                        + _matrix_tex(d.gradient_values[s.node]))
    for x in d.wrt:
        rows.append(_partial(loss_tex, _tex(x)) + " &= " + _matrix_tex(d.gradient_values[x]))
    w.math("\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}")
    if w.fmt == "markdown":
        w.raw("</div>\n</details>")


# Korean particles follow the sound of the word before them: the letters l, m, n, r and the
# digits 0, 1, 3, 6, 7, 8 are read with a final consonant (엘, 엠, 엔, 알; 영, 일, 삼, 육, 칠, 팔).
_FINAL_CONSONANT = set("lmnrLMNR013678")
_RIEUL = set("lrLR178")  # a final ㄹ takes 로, not 으로


def _particles(info: dict, x: Expr | None, y: Expr | None, loss_name: str) -> dict:
    """Add Korean particles for x and y (은/는, 이/가, 을/를, 와/과, 으로/로)."""
    def name_of(e: Expr | None) -> str:
        if e is None:
            return "x"
        return e.get("name") or loss_name

    for key, e in (("x", x), ("y", y)):
        last = name_of(e)[-1:]
        hard = last in _FINAL_CONSONANT
        info[key + "_topic"] = "은" if hard else "는"
        info[key + "_subj"] = "이" if hard else "가"
        info[key + "_obj"] = "을" if hard else "를"
        info[key + "_with"] = "과" if hard else "와"
        info[key + "_to"] = "로" if (not hard or last in _RIEUL) else "으로"
    return info


def _dim_tex(d) -> str:
    from .latexnames import dim_latex

    return dim_latex(d) if len(d.names) + (d.coef != 1) <= 1 else "(" + dim_latex(d) + ")"


def _shape_tex(shape) -> str:
    return _dim_tex(shape[0]) + r" \times " + _dim_tex(shape[1])


def _plain(text: str) -> str:
    return text.replace('"', "'").replace("$", "")


def explain(program, wrt=None, shapes: Mapping | None = None, lang: str = "en",
            fmt: str = "markdown", front_matter: bool | dict = False,
            values: Mapping | None = None, title: str | None = None,
            figure: str | None = None, node: bool = False) -> str:
    """A derivation document for a program (text, parsed with shapes) or an expression."""
    if isinstance(program, str):
        from .parsing import parse

        if shapes is None:
            raise InputError("explain: give shapes for the program's inputs")
        program = parse(program, shapes)
    d = derive(program, wrt, values, node)
    return render(d, lang, fmt, front_matter, title, figure)


