"""What a compiled module does before it computes anything: its names, and its inputs checked.

A generated function takes each input through :func:`matcalc.binding.coerce_input`, binds the
dimensions from the inputs' shapes (one comparison per input on the fast path; on a mismatch,
:func:`matcalc.binding.bind_shapes` names the input and the dimension) and checks the sizes of
every array it will make against :mod:`matcalc.limits` with :func:`matcalc.binding.check_sizes` —
the functions :func:`matcalc.evaluate` uses, copied into the module as source, so compiled code and
the evaluator refuse the same values in the same words.

Names: the function's name, its inputs' names and the helpers' names are plain ASCII
identifiers (Python folds Unicode identifiers by NFKC, so ``ｆｏｏ`` and ``foo`` would be one
variable), and none of them may be a name the module itself uses (``np``, a helper, a builtin).
"""

from __future__ import annotations

import builtins
import inspect
import keyword
import re
import textwrap
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .binding import _torch_kind, bind_shapes, check_sizes, coerce_input
from .dims import Dim, Shape, shape_str
from .errors import CodegenError, DimensionBindingError, InputError
from .expr import Expr
from .limits import Limits

__all__ = ["HEADER", "INPUT_CONVERSIONS", "MODULE_NAMES", "check_function_name",
           "check_helper_names", "check_input_names", "is_identifier", "prologue",
           "shared_source"]

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")

# backend -> the module-level conversions coerce_input is given: (asarray, to_float64)
INPUT_CONVERSIONS = {
    "numpy": "_asarray, _to_float = np.asarray, lambda a: np.asarray(a, dtype=np.float64)",
    "jax": "_asarray, _to_float = np.asarray, lambda a: a.astype(np.result_type(float))",
    "torch": "_asarray, _to_float = torch.as_tensor, lambda a: a.to(torch.float64)",
}

_DEFAULTS = Limits()
HEADER = f'''\
try:
    from matcalc.errors import DimensionBindingError, SizeLimitError
    from matcalc.limits import LIMITS  # the limits in force, as matcalc.limits.configure sets them
except ImportError:  # the code also runs where matcalc is not installed
    from types import SimpleNamespace

    DimensionBindingError = SizeLimitError = ValueError
    LIMITS = SimpleNamespace(max_elements={_DEFAULTS.max_elements},
                             max_total_elements={_DEFAULTS.max_total_elements})'''

# what the module defines or its function reads, besides the helpers and the function itself
MODULE_NAMES = frozenset({
    "np", "torch", "jax", "DimensionBindingError", "SizeLimitError", "LIMITS", "SimpleNamespace",
    "bind_shapes", "check_sizes", "coerce_input", "_torch_kind", "_SHAPES", "_asarray",
    "_to_float", "locals", "tuple",
})

_SHARED: list[Callable[..., Any]] = [coerce_input, _torch_kind, bind_shapes, check_sizes]


def is_identifier(name: object) -> bool:
    """A plain ASCII Python identifier that is not a keyword (the only names code is made of)."""
    return (isinstance(name, str) and _IDENTIFIER.fullmatch(name) is not None
            and not keyword.iskeyword(name) and not keyword.issoftkeyword(name))


def shared_source() -> list[str]:
    """The source of the input functions every generated module carries."""
    return [textwrap.dedent(inspect.getsource(fn)).strip() for fn in _SHARED]


def check_input_names(names: Iterable[str], helpers: Iterable[str]) -> None:
    """CodegenError for an input named like something the module itself uses."""
    taken = MODULE_NAMES | set(helpers)
    for name in names:
        if not is_identifier(name):
            raise CodegenError(f"the input name {name!r} is not a plain ASCII identifier")
        if name in taken:
            raise CodegenError(f"the input name {name!r} is also a name the generated code "
                               f"uses; rename that symbol")


def check_helper_names(helpers: Iterable[str]) -> None:
    """CodegenError for a helper that would shadow the module's own names or a builtin."""
    for name in helpers:
        if not is_identifier(name) or name in MODULE_NAMES or hasattr(builtins, name):
            raise CodegenError(f"an op declares a helper named {name!r}, which cannot be a "
                               f"function of the generated module (a keyword, a builtin or a "
                               f"name the module uses); rename it in the op's record")


def check_function_name(name: object, helpers: Iterable[str]) -> str:
    """The generated function's name, or InputError/CodegenError saying why it cannot be."""
    if not is_identifier(name):
        raise InputError(f"name must be a plain ASCII identifier that is not a Python keyword, "
                         f"got {name!r}")
    assert isinstance(name, str)
    if name in MODULE_NAMES or name in set(helpers) or hasattr(builtins, name):
        raise CodegenError(f"name {name!r} would shadow a name the generated module uses "
                           f"(NumPy, a helper or a builtin); choose another name")
    return name


def check_constant_sizes(groups: list[tuple[Shape, Expr, int]], limits: Limits) -> None:
    """The arrays of fixed size (computed when the module loads) checked now, before loading;
    groups are evaluate.shape_groups."""
    fixed = [(f"a value of shape {shape_str(s)}", s[0].coef, s[1].coef, k) for s, _, k in groups
             if s[0].is_int and s[1].is_int]
    check_sizes(fixed, limits.max_elements, limits.max_total_elements)


def _wrap_or(head: str, terms: list[str], tail: str, width: int = 99) -> list[str]:
    """``head + " or ".join(terms) + tail`` broken before ``or`` to fit width."""
    lines, line = [], head + "("
    for i, term in enumerate(terms):
        piece = ("" if i == 0 else " or ") + term
        if len(line) + len(piece) > width and i:
            lines.append(line)
            line = "            or " + term
        else:
            line += piece
    lines.append(line + ")" + tail)
    if len(lines) == 1:  # no parentheses needed
        return [head + " or ".join(terms) + tail]
    return lines


def prologue(inputs: Mapping[str, Expr], fixed: Mapping[str, int], dim_var: dict[str, str],
             dim: Callable[[str], str], groups: list[tuple[Shape, Expr, int]]) -> list[str]:
    """Coerce the inputs, bind the dimensions from their shapes, check every shape at once, then
    the sizes of every array the function makes."""

    def spell(d: Dim) -> str:  # inside a tuple: only a sum is parenthesised
        text = d.python(dim)
        return "(" + text + ")" if d.is_sum else text

    sizes = [f"({f'a value of shape {shape_str(s)}'!r}, {spell(s[0])}, {spell(s[1])}, {k})"
             for s, _, k in groups]  # spelled first: this names every dimension the shapes use
    body = [f"    {n} = coerce_input({n!r}, {n}, {s.cols.is_one}, _asarray, _to_float)"
            for n, s in inputs.items()]
    fail = ("bind_shapes(_SHAPES, {k: tuple(v.shape) for k, v in locals().items() "
            "if k in _SHAPES}" + (f", {dict(fixed)!r})" if fixed else ")"))
    fail_lines = [f"        {fail}", ("        raise DimensionBindingError(\"the inputs' shapes do "
                                      "not match their declarations\")")]
    if inputs:
        body += _wrap_or("    if ", [f"{n}.ndim != 2" for n in inputs], ":")
        body += fail_lines
    bound: set[str] = set()
    for name in list(dim_var):
        if name in fixed:
            body.append(f"    {dim_var[name]} = {fixed[name]}")
            bound.add(name)
    for n, s in inputs.items():
        for axis, d in enumerate(s.shape):
            if d.is_name and d.names[0] not in bound:
                body.append(f"    {dim(d.names[0])} = {n}.shape[{axis}]")
                bound.add(d.names[0])
    missing = [d for d in dim_var if d not in bound]
    if missing:
        raise DimensionBindingError(
            f"dimension {missing[0]} is not bound by any input's shape; pass "
            f"dims={{'{missing[0]}': …}} to fix it")
    if inputs:
        terms = [f"{n}.shape != ({spell(s.rows)}, {spell(s.cols)})" for n, s in inputs.items()]
        body += _wrap_or("    if ", terms, ":")
        body += fail_lines
    body += ["    check_sizes(("] + [f"        {s}," for s in sizes] + [
        "    ), LIMITS.max_elements, LIMITS.max_total_elements)"]
    return body
