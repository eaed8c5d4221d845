"""The playground's computations, each run in a worker process under the time limit.

``derive`` answers every edit: shapes, gradients and generated code, which stay fast for any
program the page takes. The step-by-step derivation (``explain``) and the graph (``figure``) grow
with the program — Graphviz may take long to lay out a deep one — so they are separate requests
that cannot hold up the gradients. ``check`` runs the numeric verification; ``post`` writes the
derivation as one Markdown file for a blog. A part that can fail on its own (an op without a JAX
template) carries its own error instead of failing the request.
"""

from __future__ import annotations

import base64
import tempfile
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

import matcalc as mc
from matcalc import codegen
from matcalc.dims import shape_str
from matcalc.errors import InputError, MatcalcError
from matcalc.evaluate import symbols_of
from matcalc.expr import Expr
from matcalc.printing import gradient_symbol

from .compute import (
    Failure,
    Program,
    checked_length,
    describe,
    error_payload,
    fail,
    gradients,
    load,
    loss_of,
    numbers,
    slug,
)
from .markdown import derivation_html

BACKENDS = ("numpy", "jax", "torch")
Values = dict[str, np.ndarray]


def derive(req: Mapping[str, Any]) -> dict[str, Any]:
    """Shapes, gradients (text and LaTeX) and code for a program."""
    p = load(req)
    grads = gradients(p)
    out: dict[str, Any] = {"program": describe(p)}
    out["gradients"] = [{"name": x, "shape": shape_str(g.shape), "text": str(g),
                         "latex": mc.latex(g, wrt=x, loss=p.loss_name)}
                        for x, g in zip(p.wrt, grads)]
    out["latex"] = mc.latex_gradients(list(zip(p.wrt, grads)), loss=p.loss_name)
    out["code"] = {b: _section(partial(_code_section, p, grads, b)) for b in BACKENDS}
    return out


def explain(req: Mapping[str, Any]) -> dict[str, Any]:
    """The step-by-step derivation, as Markdown and as HTML (math left as TeX)."""
    p = load(req)
    out: dict[str, Any] = {}
    values = None
    if req["worked"]:
        out["worked"], values = _section_and_value(lambda: worked_values(p, req))
    # plain Markdown math ($…$, $$…$$), which the page's Markdown renderer reads
    text = mc.explain(p.result, p.wrt, lang=req["lang"], node=p.node, values=values,
                      target="plain")
    out["markdown"] = checked_length(text, "derivation")
    out["html"] = checked_length(derivation_html(text), "derivation")
    return out


def figure(req: Mapping[str, Any]) -> dict[str, Any]:
    """The computational graph as SVG, with forward values and gradients for worked numbers."""
    p = load(req)
    out: dict[str, Any] = {}
    values = None
    if req["worked"]:
        out["worked"], values = _section_and_value(lambda: worked_values(p, req))
    out["svg"] = figure_svg(p, values)
    return out


def _section(compute: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """One part of the answer, or its error."""
    try:
        return compute()
    except Failure as f:
        return {"error": f.error}
    except MatcalcError as exc:
        return {"error": error_payload(exc)}


def _section_and_value(compute: Callable[[], tuple[dict[str, Any], Values]]
                       ) -> tuple[dict[str, Any], Values | None]:
    try:
        return compute()
    except Failure as f:
        return {"error": f.error}, None
    except MatcalcError as exc:
        return {"error": error_payload(exc)}, None


def worked_values(p: Program, req: Mapping[str, Any]) -> tuple[dict[str, Any], Values]:
    """A point for worked numbers: the given values, the rest drawn in the ops' domains by the
    same sampler as the numeric check (same sizes and seed, so both show the same point)."""
    if p.node:
        raise InputError("worked numbers need a scalar loss; this program is one node of a "
                         "network (its upstream gradient ∂L/∂Y is a symbol)")
    sizes, arrays = numbers(p, req)
    report = mc.check(p.result, p.wrt, dims=sizes, seed=req["seed"], values=arrays)
    if not report.values:
        note = report.rows[0].note if report.rows else ""
        raise InputError(f"no point in the ops' domains was found ({note})")
    return {"dims": report.dims, "seed": report.seed}, dict(report.values)


def figure_svg(p: Program, values: Values | None) -> str:
    """The computational graph as SVG (with forward values and gradients when given), laid out
    to be readable in a blog's column."""
    from matcalc.figure import draw

    shown = values if values is not None and p.result.is_scalar else None
    with tempfile.TemporaryDirectory(prefix="matcalc-figure-") as folder:
        path = draw(p.result, Path(folder) / "graph.svg", shown)
        return checked_length(path.read_text(encoding="utf-8"), "figure")


def _code_section(p: Program, grads: list[Expr], backend: str) -> dict[str, Any]:
    return {"source": code(p, grads, backend)}


def code(p: Program, grads: list[Expr], backend: str) -> str:
    """A module computing the result and the gradients in one pass, for one backend."""
    name = "node_and_gradients" if p.node else "loss_and_gradients"
    body = codegen.source([p.result] + grads, backend=backend, name=name)
    inputs = sorted(symbols_of([p.result] + grads))
    first = p.result.get("name") if p.result.op.name == "named" else "the result"
    outputs = [str(first)] + [f"d{p.loss_name}/d{x}" for x in p.wrt]
    head = ["# Generated by matcalc from the program"]
    head += [f"#   {line}" for line in mc.program_text(p.result).split("\n")]
    head += [f"# {name}(*, {', '.join(inputs)}) returns [{', '.join(outputs)}]."]
    return checked_length("\n".join(head) + "\n" + body, "code")


def check(req: Mapping[str, Any]) -> dict[str, Any]:
    """The numeric check of every gradient, as rows for a table."""
    p = load(req)
    sizes, arrays = numbers(p, req)
    try:
        report = mc.check(loss_of(p), p.wrt, dims=sizes, seed=req["seed"], values=arrays)
    except MatcalcError as exc:
        raise fail(exc, None, program=describe(p)) from None
    rows = [{"variable": r.variable, "shape": f"{r.shape[0]}×{r.shape[1]}", "method": r.method,
             "max_abs_error": _number(r.max_abs_error), "max_rel_error": _number(r.max_rel_error),
             "step": _number(r.step), "tolerance": r.tolerance, "atol": r.atol,
             "evaluations": r.evaluations, "status": r.status, "note": r.note}
            for r in report.rows]
    overall = {True: "PASS", False: "FAIL", None: "SKIPPED"}[report.passed]
    return {"program": describe(p), "rows": rows, "overall": overall,
            "summary": report.summary(), "dims": report.dims, "seed": report.seed,
            "notes": report.notes, "text": str(report)}


def _number(x: float) -> float | None:
    return None if np.isnan(x) else float(x)


def post(req: Mapping[str, Any]) -> dict[str, Any]:
    """The derivation as one Markdown file for a publisher (Jekyll, Hugo or plain Markdown):
    front matter, text, and the figure embedded as a data: URL, so that no link can break."""
    from matcalc.explain import Figure

    p = load(req)
    values = worked_values(p, req)[1] if req.get("worked") else None
    try:
        svg: str | None = figure_svg(p, values)
    except MatcalcError:
        svg = None  # no Graphviz: the post is still written, without its figure
    figure = None
    if svg is not None:
        url = "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode("ascii")
        inputs = symbols_of(p.result).values()
        figure = Figure(url, with_values=values is not None and p.result.is_scalar,
                        scalar_graph=all(x.is_scalar for x in inputs))
    title = req.get("title") or None
    text = mc.explain(p.result, p.wrt, lang=req["lang"], node=p.node, values=values,
                      front_matter={"title": title} if title else True, title=title,
                      figure=figure, target=req["target"])
    name = title or (p.result.get("name") if p.result.op.name == "named" else None) or "derivation"
    return {"filename": f"{slug(str(name))}.md", "markdown": text}


def compare(req: Mapping[str, Any]) -> dict[str, Any]:
    """Check a reader's own gradient (LaTeX or text) against matcalc's: shapes, then equality
    after simplification, then numbers (matcalc.compare)."""
    p = load(req)
    variable = req["variable"]
    known = set(symbols_of(p.result)) | set(p.named)
    if variable not in known:
        raise Failure({"type": "InputError", "field": "variable",
                       "message": f"{variable} is not a variable of the program; its variables "
                                  f"are {', '.join(sorted(known))}"}, program=describe(p))
    sizes, _ = numbers(p, {**req, "values": {}})
    try:
        report = mc.compare(req["candidate"], p.result, variable, language=req["language"],
                            loss=p.loss_name, dims=sizes, seed=req["seed"])
    except MatcalcError as exc:
        raise fail(exc, "candidate", req["candidate"], program=describe(p)) from None
    return {"program": describe(p), "comparison": finite(report.to_dict()),
            "rows": [list(row) for row in report.rows()],
            "symbol": gradient_symbol(variable, p.loss_name)}


def finite(data: Any) -> Any:
    """JSON-ready data with every NaN or infinity replaced by None (JSON has neither)."""
    if isinstance(data, float):
        return data if np.isfinite(data) else None
    if isinstance(data, dict):
        return {k: finite(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [finite(v) for v in data]
    return data


TASKS: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {
    "derive": derive, "explain": explain, "figure": figure, "check": check, "post": post,
    "compare": compare,
}
