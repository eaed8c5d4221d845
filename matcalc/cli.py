"""The ``matcalc`` command line. Bad input prints ``error: …`` and exits 2, never a traceback."""

from __future__ import annotations

import argparse
import sys

from .dims import shape_str
from .errors import InputError, MatcalcError


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse's own errors: same form and exit code as ours
        self.print_usage(sys.stderr)
        print(f"error: {message}", file=sys.stderr)
        raise SystemExit(2)


def parse_shape_options(items: list[str] | None) -> dict[str, tuple[str, str]]:
    """``["W=m,n", "b=m,1"]`` → ``{"W": ("m", "n"), "b": ("m", "1")}``."""
    shapes: dict[str, tuple[str, str]] = {}
    for item in items or []:
        name, eq, dims = item.partition("=")
        parts = [p.strip() for p in dims.split(",")]
        if not eq or not name.strip() or len(parts) not in (1, 2) or not all(parts):
            raise InputError(f"--shape {item!r}: expected NAME=ROWS,COLS (e.g. W=m,n) or NAME=N "
                             f"for an N×1 column")
        shapes[name.strip()] = (parts[0], parts[1] if len(parts) == 2 else "1")
    return shapes


def parse_int_bindings(text: str | None, option: str) -> dict[str, int]:
    """``"m=3,n=4"`` → ``{"m": 3, "n": 4}``."""
    out: dict[str, int] = {}
    if not text:
        return out
    for item in text.split(","):
        key, eq, value = item.partition("=")
        if not eq or not key.strip() or not value.strip().isdigit() or int(value) <= 0:
            raise InputError(f"{option} {text!r}: expected NAME=POSITIVE_INT pairs like m=3,n=4")
        out[key.strip()] = int(value)
    return out


def cmd_shapes(args) -> int:
    from .textparse import parse_program

    result, named = parse_program(args.program, parse_shape_options(args.shape))
    width = max([len(n) for n in named] + [6])
    for name, node in named.items():
        print(f"{name:<{width}}  {shape_str(node.shape)}")
    if result.op.name != "named":
        print(f"{'result':<{width}}  {shape_str(result.shape)}")
    return 0


def _program(args, defaults: dict | None = None):
    from .textparse import parse_program

    shapes = {**(defaults or {}), **parse_shape_options(args.shape)}
    latex_source = getattr(args, "latex_input", None)
    if latex_source is not None:
        if args.program is not None:
            raise InputError("give the program as text or with --latex-input, not both")
        from .latex_parse import parse_latex

        return parse_latex(latex_source, shapes), {}
    if args.program is None:
        raise InputError("give a program, e.g. 'L = sum(relu(W @ X))', or --latex-input")
    result, named = parse_program(args.program, shapes)
    return result, named


def _wrt(args, result) -> list[str]:
    if args.wrt:
        return args.wrt
    from .evaluate import symbols_of

    return sorted(symbols_of(result))


def cmd_grad(args) -> int:
    from .diff import grad

    result, _ = _program(args)
    names = _wrt(args, result)
    grads = grad(result, names)
    loss = result.get("name") if result.op.name == "named" else "L"
    width = max(len(n) for n in names)
    if args.latex:
        from .printing import latex, latex_gradients

        print(latex(grads[0], wrt=names[0], loss=loss) if len(names) == 1 else
              latex_gradients(list(zip(names, grads)), loss=loss))
    else:
        for name, g in zip(names, grads):
            print(f"d{loss}/d{name:<{width}} = {g}    ({shape_str(g.shape)})")
    if args.check:
        return _run_check(result, names, args.check, args.seed)
    return 0


def _run_check(result, names, dims_text, seed) -> int:
    from .verify import check

    report = check(result, names, dims=parse_int_bindings(dims_text, "--check") or None, seed=seed)
    print()
    print(report)
    return 1 if report.passed is False else 0


def cmd_check(args) -> int:
    result, _ = _program(args)
    return _run_check(result, _wrt(args, result), args.dims or "", args.seed)


def parse_values(scalars: str | None, arrays: list[str] | None) -> dict | None:
    """``--values x=-2,y=5`` and ``--value W=[[1,2],[3,4]]`` (JSON) → arrays by name."""
    import json

    out: dict = {}
    for key, value in parse_number_bindings(scalars).items():
        out[key] = value
    for item in arrays or []:
        key, eq, text = item.partition("=")
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"--value {item!r}: the value must be a number or a JSON array "
                             f"({exc.msg} at column {exc.colno})") from None
        if not eq or not key.strip():
            raise InputError(f"--value {item!r}: expected NAME=JSON, e.g. W=[[1,2],[3,4]]")
        out[key.strip()] = value
    return out or None


def parse_number_bindings(text: str | None) -> dict[str, float]:
    """``"x=-2,y=5"`` → ``{"x": -2.0, "y": 5.0}``."""
    out: dict[str, float] = {}
    for item in (text or "").split(","):
        if not item.strip():
            continue
        key, eq, value = item.partition("=")
        try:
            number = float(value)
        except ValueError:
            number = None
        if not eq or not key.strip() or number is None:
            raise InputError(f"--values {text!r}: expected NAME=NUMBER pairs like x=-2,y=5")
        out[key.strip()] = number
    return out


def cmd_explain(args) -> int:
    from pathlib import Path

    from .explain import derive, render
    from .figure import FigureError, graph_dot, render as draw

    values = parse_values(args.values, args.value)
    scalars = {k: (1, 1) for k, v in (values or {}).items() if isinstance(v, float)}
    result, _ = _program(args, scalars)  # a name given a number is a scalar unless declared
    d = derive(result, args.wrt, values, node=args.node)
    figure_ref = None
    problem = None
    if args.figure:
        fig = Path(args.figure)
        try:
            draw(graph_dot(result, values if result.is_scalar else None), fig)
        except FigureError as exc:
            problem = exc
        base = Path(args.output).parent if args.output else Path(".")
        try:
            figure_ref = str(fig.resolve().relative_to(base.resolve()))
        except ValueError:
            figure_ref = str(fig)
    front = {"title": args.title} if args.title else {}
    text = render(d, lang=args.lang, fmt=args.format,
                  front_matter=(front or True) if args.front_matter else False,
                  title=args.title, figure=figure_ref if problem is None else None)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    if problem is not None:
        raise problem
    return 0


def cmd_serve(args) -> int:
    from .errors import WebError

    try:
        from .web.server import serve
        from .web.workers import Limits
    except ImportError as exc:
        raise WebError(f"matcalc serve needs the web extra ({exc.name} is missing): "
                       f"pip install 'matcalc-symbolic[web]'") from None
    if args.time_limit <= 0 or args.workers < 1 or args.memory_limit < 0:
        raise InputError("serve: --time-limit and --workers must be positive, --memory-limit "
                         "at least 0")
    limits = Limits(time_limit=args.time_limit, workers=args.workers,
                    memory_limit=args.memory_limit)
    return serve(args.host, args.port, args.open, limits)


def cmd_demo(args) -> int:
    from .demo import run_demo

    return run_demo(sys.stdout)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="matcalc", description=(
        "Symbolic matrix calculus: shape-checked expressions over symbolic dimensions, "
        "closed-form gradients, numeric verification."))
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("shapes", help="print every named intermediate of a program with its shape")
    p.add_argument("program", help="e.g. 'Y = W @ X + b; L = sum(relu(Y))'")
    p.add_argument("--shape", action="append", metavar="NAME=ROWS,COLS",
                   help="declare an input, e.g. --shape W=m,n (repeatable)")
    p.set_defaults(func=cmd_shapes)

    p = sub.add_parser("grad", help="derive closed-form gradients of a scalar program")
    p.add_argument("program", nargs="?", help="e.g. 'Y = W @ X; L = sum(relu(Y))'")
    p.add_argument("--latex-input", metavar="LATEX",
                   help=r"the loss in LaTeX instead, e.g. 'rac{1}{2}\|W X - Y\|_F^2'")
    p.add_argument("--shape", action="append", metavar="NAME=ROWS,COLS",
                   help="declare an input, e.g. --shape W=m,n (repeatable)")
    p.add_argument("--wrt", action="append", metavar="NAME",
                   help="variable to differentiate by (repeatable; default: every input)")
    p.add_argument("--check", metavar="m=3,n=4,...",
                   help="also verify numerically at these sizes (exit 1 if a check fails)")
    p.add_argument("--seed", type=int, default=0, help="random seed for --check (default 0)")
    p.add_argument("--latex", action="store_true",
                   help="print the gradients as LaTeX equations (an aligned block for several)")
    p.set_defaults(func=cmd_grad)

    p = sub.add_parser("check", help="verify a program's gradients numerically")
    p.add_argument("program")
    p.add_argument("--shape", action="append", metavar="NAME=ROWS,COLS")
    p.add_argument("--wrt", action="append", metavar="NAME")
    p.add_argument("--dims", metavar="m=3,n=4,...", help="sizes for the dimension names")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("explain", help="write a step-by-step derivation (Markdown or LaTeX)")
    p.add_argument("program", help="e.g. 'q = x + y; f = q * z'")
    p.add_argument("--shape", action="append", metavar="NAME=ROWS,COLS",
                   help="declare an input, e.g. --shape W=m,n (repeatable)")
    p.add_argument("--wrt", action="append", metavar="NAME", help="variables (default: all inputs)")
    p.add_argument("--lang", choices=["en", "ko"], default="en")
    p.add_argument("--format", choices=["markdown", "latex"], default="markdown")
    p.add_argument("--front-matter", action="store_true",
                   help="begin with Jekyll/Hugo front matter (title, date, tags, math: true)")
    p.add_argument("--title", help="the document's title")
    p.add_argument("--values", metavar="x=-2,y=5",
                   help="numbers for a worked example (scalar inputs)")
    p.add_argument("--value", action="append", metavar="NAME=JSON",
                   help="an array for a worked example, e.g. W=[[1,2],[3,4]] (repeatable)")
    p.add_argument("--node", action="store_true",
                   help="treat the result as one node of a larger network: its upstream "
                        "gradient dL/dY is a symbol (automatic for a non-scalar result)")
    p.add_argument("--figure", metavar="FILE", help="also draw the computational graph (.svg/.png)")
    p.add_argument("--output", metavar="FILE", help="write the document here (default: stdout)")
    p.set_defaults(func=cmd_explain)

    p = sub.add_parser("serve", help="start the playground: a local web page (needs the web extra)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000; 0: any free port)")
    p.add_argument("--open", action="store_true", help="open the page in a web browser")
    p.add_argument("--time-limit", type=float, default=10.0, metavar="SECONDS",
                   help="stop a computation after this long (default 10)")
    p.add_argument("--workers", type=int, default=2,
                   help="worker processes computing requests (default 2)")
    p.add_argument("--memory-limit", type=int, default=2048, metavar="MIB",
                   help="memory a worker may take, in MiB (default 2048; 0: no limit)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("demo", help="run the built-in example")
    p.set_defaults(func=cmd_demo)
    return parser


def _version() -> str:
    from . import __version__

    return f"matcalc {__version__}"


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except MatcalcError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except RecursionError:
        print("error: the input is nested too deeply", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
