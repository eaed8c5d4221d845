"""``matcalc demo``: the reference post's cases, derived step by step, verified numerically, and
written as posts with their computational-graph figures."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO, cast

# The cases of the reference post: file name, title, program, shapes.
CASES: list[tuple[str, str, str, dict[str, Any]]] = [
    ("scalar_to_scalar", "Scalar to scalar", "y = w * x", {"w": (1, 1), "x": (1, 1)}),
    ("vector_to_scalar", "Vector to scalar", "y = w.T @ x", {"w": ("n", 1), "x": ("n", 1)}),
    ("vector_to_vector", "Vector to vector", "y = W @ x", {"W": ("m", "n"), "x": ("n", 1)}),
    ("batched_matrices", "Batched matrices", "Y = W @ X", {"W": ("m", "n"), "X": ("n", "B")}),
    ("relu", "ReLU", "Y = relu(Z)", {"Z": ("m", "B")}),
]

DIMS = {"m": 3, "n": 4, "B": 5}

# The cases' titles in Korean, as in the reference post.
KO_TITLES = {"scalar_to_scalar": "스칼라 입력과 스칼라 출력",
             "vector_to_scalar": "벡터 입력과 스칼라 출력",
             "vector_to_vector": "입출력이 모두 벡터인 경우",
             "batched_matrices": "배치 입력", "relu": "ReLU"}

TITLES = {"en": "matcalc demo: backpropagation, case by case",
          "ko": "matcalc 데모: 경우별 역전파"}


def _verify(Y: Any, seed: int) -> Any:
    """The downstream gradients are those of the scalar L = sum(∂L/∂Y ⊙ Y): check them."""
    from .evaluate import symbols_of
    from .ops import cotangent
    from .ops import sum as sum_
    from .verify import check

    total = cast(Callable[[Any], Any], sum_)
    L = total(cotangent(Y.get("name"), *Y.shape) * Y)
    return check(L, sorted(symbols_of(Y)), dims=DIMS, seed=seed)


def run_demo(out: TextIO, lang: str = "en", output: str | None = "matcalc-demo",
             target: str = "plain") -> int:
    """Derive, verify and write the cases; the exit code (1 if a check failed)."""
    from . import parse
    from .diff import vjp
    from .dims import shape_str
    from .errors import FigureError
    from .evaluate import symbols_of
    from .explain import Figure, derive, render
    from .explain_cli import write_text
    from .figure import draw

    to_stdout = output in (None, "-")
    folder = None if to_stdout else Path(str(output))
    w = out.write
    sizes = ", ".join(f"{k} = {v}" for k, v in DIMS.items())
    if to_stdout:
        w(f"# {TITLES[lang]}\n\n")
    else:
        w(f"{TITLES[lang]}\nEach case is one node Y of a network; its upstream gradient ∂L/∂Y is "
          f"a symbol (dL_dY). Every result is verified numerically at {sizes}.\n\n")
    failures, written, figure_problem = 0, [], None
    for i, (slug, title_en, program, shapes) in enumerate(CASES, 1):
        title = KO_TITLES[slug] if lang == "ko" else title_en
        Y = parse(program, shapes)
        report = _verify(Y, seed=i)
        failures += report.passed is False
        names = sorted(symbols_of(Y))
        figure = None
        if folder is not None:
            try:
                draw(Y, folder / f"{slug}.svg")
                figure = Figure(f"{slug}.svg", scalar_graph=Y.is_scalar)
            except FigureError as exc:  # the post still links it, and says how to draw it
                figure_problem = figure_problem or exc
                figure = Figure(f"{slug}.svg", scalar_graph=Y.is_scalar, missing=str(exc))
        post = render(derive(Y, node=True), lang=lang, title=f"{i}. {title}: {program}",
                      figure=figure, target=target)
        if folder is None:
            w(post + "\n" + f"Numerical check: {report.summary()}\n\n")
            continue
        path = folder / f"{slug}.{lang}.md"
        write_text(path, post)
        written.append(path)
        w(f"{i}. {title}: {program}\n")
        for name, g in zip(names, vjp(Y, names)):
            w(f"   dL/d{name} = {g}    ({shape_str(g.shape)})\n")
        w(f"   numerical check: {report.summary()}\n\n")
    if folder is not None:
        index = folder / f"index.{lang}.md"
        links = [f"- [{i}. {KO_TITLES[slug] if lang == 'ko' else title}: `{program}`]"
                 f"({slug}.{lang}.md)\n" for i, (slug, title, program, _) in enumerate(CASES, 1)]
        write_text(index, f"# {TITLES[lang]}\n\n" + "".join(links))
        figures = sum(1 for p in folder.glob("*.svg"))
        w(f"Wrote {len(written)} posts ({lang}) and {figures} figures to {folder}/; start with "
          f"{index}.\n")
        if figure_problem is not None:
            w(f"note: the figures were not drawn: {figure_problem.message}\n")
    w("All gradients verified.\n" if not failures else f"{failures} case(s) failed.\n")
    return 0 if not failures else 1
