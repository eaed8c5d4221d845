"""The ``matcalc`` command line. Bad input prints ``error: …`` and exits 2, never a traceback.

Each subcommand is one entry of ``COMMANDS``: a function that declares its arguments and a
function that runs it; adding a command is adding an entry.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import Any

from .cli_args import parse_int_bindings, parse_number_bindings, parse_shape_options, parse_values
from .dims import shape_str
from .errors import InputError, InternalError, MatcalcError

__all__ = ["COMMANDS", "build_parser", "main", "parse_int_bindings", "parse_number_bindings",
           "parse_shape_options", "parse_values"]

DIMS_HELP = "sizes for the dimension names, e.g. m=3,n=4,B=5 (default m=3, n=4, B=5)"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # argparse's own errors: same form and exit code
        self.print_usage(sys.stderr)
        print(f"error: {message}", file=sys.stderr)
        raise SystemExit(2)


# --- shared pieces -------------------------------------------------------------------------------

def _program(args: argparse.Namespace, defaults: dict[str, Any] | None = None) -> Any:
    """The program's result, from its text or from --latex-input."""
    shapes = {**(defaults or {}), **parse_shape_options(args.shape)}
    latex_source = getattr(args, "latex_input", None)
    if latex_source is not None:
        if args.program is not None:
            raise InputError("give the program as text or with --latex-input, not both")
        from . import parse_latex

        return parse_latex(latex_source, shapes)
    if args.program is None:
        raise InputError("give a program, e.g. 'L = sum(relu(W @ X))', or --latex-input")
    from . import parse

    return parse(args.program, shapes)


def _wrt(args: argparse.Namespace, result: Any) -> list[str]:
    if args.wrt:
        return list(args.wrt)
    from .evaluate import symbols_of

    return sorted(symbols_of(result))


def _result_name(result: Any) -> str:
    return result.get("name") if result.op.name == "named" else "the result"


def _needs_scalar(result: Any, command: str) -> None:
    """A CLI-worded error for a command that needs a scalar loss."""
    if not result.is_scalar:
        raise InputError(
            f"{command} needs a scalar loss, but {_result_name(result)} is "
            f"{shape_str(result.shape)}: end the program with a scalar such as "
            f"L = sum(...), or run 'matcalc explain' on it to see the downstream gradients "
            f"given its upstream gradient ∂L/∂{_result_name(result)}")


def _dims(args: argparse.Namespace, exprs: list[Any]) -> dict[str, int] | None:
    """The sizes from --dims (or its aliases), checked against the dimensions the program uses."""
    from .expr import toposort
    from .verify import DEFAULT_DIMS

    text = getattr(args, "dims", None)
    given = parse_int_bindings(text, getattr(args, "dims_option", "--dims")) if text else None
    sizes = given if given is not None else DEFAULT_DIMS
    from .dims import Dim

    used: dict[str, None] = {}
    for node in toposort(exprs):
        for d in [*node.shape, *(v for _, v in node.params if isinstance(v, Dim))]:
            used.update(dict.fromkeys(d.names))
    missing = [k for k in used if k not in sizes]
    if missing:
        known = ",".join(f"{k}={v}" for k, v in sizes.items())
        example = ",".join([known] * bool(known) + [f"{k}=…" for k in missing])
        raise InputError(f"the dimension{'s' * (len(missing) > 1)} {', '.join(missing)} "
                         f"{'have' if len(missing) > 1 else 'has'} no size: give "
                         f"{'them' if len(missing) > 1 else 'it'} with --dims {example}")
    return given


def _add_program(p: argparse.ArgumentParser, latex: bool = True, example: str = "") -> None:
    p.add_argument("program", nargs="?" if latex else None, help=f"e.g. {example!r}")
    if latex:
        p.add_argument("--latex-input", metavar="LATEX",
                       help=r"the program as LaTeX instead, e.g. '\frac{1}{2}\|W X - Y\|_F^2'")
    p.add_argument("--shape", action="append", metavar="NAME=ROWS,COLS",
                   help="declare an input, e.g. --shape W=m,n (repeatable)")


# --- commands ------------------------------------------------------------------------------------

def cmd_shapes(args: argparse.Namespace) -> int:
    from . import parse_program

    result, named = parse_program(args.program, parse_shape_options(args.shape))
    width = max([len(n) for n in named] + [6])
    for name, node in named.items():
        print(f"{name:<{width}}  {shape_str(node.shape)}")
    if result.op.name != "named":
        print(f"{'result':<{width}}  {shape_str(result.shape)}")
    return 0


def cmd_grad(args: argparse.Namespace) -> int:
    from .diff import grad

    result = _program(args)
    _needs_scalar(result, "grad")
    names = _wrt(args, result)
    sizes = _dims(args, [result]) if args.check is not None or args.dims else None
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
    if args.check is not None or args.dims:
        return _run_check(result, names, sizes, args.seed)
    return 0


def _run_check(result: Any, names: list[str], sizes: dict[str, int] | None, seed: int) -> int:
    from .verify import check

    if seed < 0:
        raise InputError(f"--seed must be a non-negative integer, got {seed}")
    report = check(result, names, dims=sizes, seed=seed)
    print()
    print(report)
    return 1 if report.passed is False else 0


def cmd_check(args: argparse.Namespace) -> int:
    result = _program(args)
    _needs_scalar(result, "check")
    return _run_check(result, _wrt(args, result), _dims(args, [result]), args.seed)


def cmd_compare(args: argparse.Namespace) -> int:
    from .compare import compare

    result = _program(args)
    if args.seed < 0:
        raise InputError(f"--seed must be a non-negative integer, got {args.seed}")
    report = compare(args.candidate, result, args.wrt, language=args.language,
                     dims=_dims(args, [result]), seed=args.seed)
    print(report.to_json(indent=2) if args.json else report)
    return 0 if report.equal else 1


def cmd_explain(args: argparse.Namespace) -> int:
    from .explain_cli import run_explain

    return run_explain(args, _program)


def cmd_serve(args: argparse.Namespace) -> int:
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


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    return run_demo(sys.stdout, lang=args.lang, output=args.output, target=args.target)


def _args_grad(p: argparse.ArgumentParser) -> None:
    _add_program(p, example="Y = W @ X; L = sum(relu(Y))")
    p.add_argument("--wrt", action="append", metavar="NAME",
                   help="variable to differentiate by (repeatable; default: every input)")
    p.add_argument("--check", nargs="?", const="", metavar="SIZES", dest="check",
                   help="also verify numerically (exit 1 if a check fails); sizes by --dims "
                        "(--check m=3,n=4 is still read as the sizes)")
    p.add_argument("--dims", metavar="m=3,n=4,...", help=DIMS_HELP + "; implies --check")
    p.add_argument("--seed", type=int, default=0, help="random seed for the check (default 0)")
    p.add_argument("--latex", action="store_true",
                   help="print the gradients as LaTeX equations (an aligned block for several)")


def _args_check(p: argparse.ArgumentParser) -> None:
    _add_program(p, example="L = logdet(S)")
    p.add_argument("--wrt", action="append", metavar="NAME",
                   help="variable to check (repeatable; default: every input)")
    p.add_argument("--dims", metavar="m=3,n=4,...", help=DIMS_HELP)
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")


def _args_compare(p: argparse.ArgumentParser) -> None:
    _add_program(p, example="Y = W @ X + b; L = sum(relu(Y))")
    p.add_argument("--wrt", required=True, metavar="NAME", help="the variable of the gradient")
    p.add_argument("--candidate", required=True, metavar="GRADIENT",
                   help=r"your gradient, in LaTeX ('\mathbb{I}[Y > 0] X^\top') or matcalc's "
                        r"text ('step(Y) @ X.T'); ∂L/∂Y is '\frac{\partial L}{\partial Y}' "
                        "or dL_dY")
    p.add_argument("--language", choices=["latex", "text"],
                   help="how the candidate is written (default: guessed)")
    p.add_argument("--dims", metavar="m=3,n=4,...", help=DIMS_HELP + " for the numeric check")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")


def _args_demo(p: argparse.ArgumentParser) -> None:
    p.add_argument("--lang", choices=["en", "ko"], default="en")
    p.add_argument("--output", metavar="DIR", default="matcalc-demo",
                   help="folder for the posts and figures (default: matcalc-demo); '-' prints "
                        "the posts' Markdown instead")
    p.add_argument("--target", choices=["jekyll", "hugo", "plain"], default="plain",
                   help="where the posts will be read (default: plain Markdown)")


def _args_serve(p: argparse.ArgumentParser) -> None:
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


def _args_shapes(p: argparse.ArgumentParser) -> None:
    _add_program(p, latex=False, example="Y = W @ X + b; L = sum(relu(Y))")


Command = tuple[str, str, Callable[[argparse.ArgumentParser], None],
                Callable[[argparse.Namespace], int]]


def _args_explain(p: argparse.ArgumentParser) -> None:
    from .explain_cli import add_arguments

    _add_program(p, example="q = x + y; f = q * z")
    add_arguments(p)


COMMANDS: list[Command] = [
    ("shapes", "print every named intermediate of a program with its shape", _args_shapes,
     cmd_shapes),
    ("grad", "derive closed-form gradients of a scalar program", _args_grad, cmd_grad),
    ("check", "verify a program's gradients numerically", _args_check, cmd_check),
    ("compare", "check a hand-derived gradient against matcalc's", _args_compare, cmd_compare),
    ("explain", "write a step-by-step derivation (Markdown or LaTeX)", _args_explain,
     cmd_explain),
    ("demo", "run the built-in example: derive, verify and write posts with figures", _args_demo,
     cmd_demo),
    ("serve", "start the playground: a local web page (needs the web extra)", _args_serve,
     cmd_serve),
]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, one subparser per entry of COMMANDS."""
    parser = _Parser(prog="matcalc", description=(
        "Symbolic matrix calculus: shape-checked expressions over symbolic dimensions, "
        "closed-form gradients, numeric verification."))
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, help_text, add_args, run in COMMANDS:
        p = sub.add_parser(name, help=help_text, description=help_text)
        add_args(p)
        p.set_defaults(func=run)
    return parser


def _version() -> str:
    from . import __version__

    return f"matcalc {__version__}"


INTERNAL_ERROR = 3  # the exit code of a bug in matcalc (2 is a mistake in the input)


def _say(message: str) -> None:
    """A message on stderr, whatever its encoding (characters it lacks are written as escapes)."""
    stream = sys.stderr
    if stream is None:
        return
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:
        stream.write(message.encode(encoding, "backslashreplace").decode(encoding) + "\n")
        stream.flush()
    except (OSError, ValueError):
        pass  # stderr itself is gone: the exit code is all that is left


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so that what is still buffered is not flushed at exit (and
    fails again there, after the error has been said)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def _encoding_error(exc: UnicodeEncodeError) -> str:
    char = exc.object[exc.start:exc.start + 1] if isinstance(exc.object, str) else "?"
    return (f"error: the output holds {char!r} (U+{ord(char):04X}), which the encoding of "
            f"standard output ({exc.encoding}) cannot write; set PYTHONIOENCODING=utf-8 (or a "
            f"UTF-8 locale), or write to a file with --output where the command has it")


def _run(args: argparse.Namespace) -> int:
    """Run a command and flush its output, so that a failed write is an error here."""
    code = int(args.func(args))
    sys.stdout.flush()
    return code


def main(argv: list[str] | None = None) -> int:
    """Run the command line; the exit code."""
    if sys.stdout is None:  # started with stdout closed: nothing could be written
        _say("error: standard output is closed; run matcalc with an open standard output "
             "(or give --output FILE where the command has it)")
        return 2
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "command", None) == "grad" and args.check and args.dims is None:
        args.dims = args.check  # --check m=3,n=4: the sizes, as the option used to take them
        args.dims_option = "--check"
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return _run(args)
    except InternalError as exc:  # matcalc broke its own invariant: a bug, not the user's input
        _say(f"internal error: {exc}\nThis is a bug in matcalc, not in your input; please "
             f"report it with the command that caused it ({_version()}).")
        return INTERNAL_ERROR
    except MatcalcError as exc:
        _say(f"error: {exc}")
        return 2
    except RecursionError:
        _say("error: the input is nested too deeply")
        return 2
    except BrokenPipeError:  # the reader stopped reading (… | head): not an error
        _silence_stdout()
        return 0
    except UnicodeEncodeError as exc:
        _silence_stdout()
        _say(_encoding_error(exc))
        return 2
    except OSError as exc:  # writing failed: a full disk, a closed or bad stream, a bad file
        if exc.filename is None:  # standard output itself
            _silence_stdout()
        where = f": {exc.filename}" if exc.filename else " (writing the output)"
        _say(f"error: {exc.strerror or exc}{where}")
        return 2


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
