"""Code generation: the values of a DAG as straight-line NumPy (or JAX, PyTorch) source.

``numpy_source(outputs)`` returns a module with one function, ``def f(*, W, X, b)``, that takes
the inputs by name and returns the outputs' values as a list of 2-D arrays; ``compile(outputs)``
builds that function from the source. Each DAG node is computed once, so gradients reuse the
forward values they share with the loss.

The engine never names an op. The outputs are first lowered (each record's ``lower`` rewrites a
node into a cheaper form: a product with diag(v) becomes a broadcast), then one pass in
topological order makes a list of instructions — (target, node, argument variables) — from each
record's code template for the backend (see :mod:`matcalc.lowering`), and the list is printed once:
* a template that returns its argument's variable makes no instruction (named intermediates);
* a node that depends on no input and no dimension (a constant, or an op on constants) is
  computed once, when the module is loaded, and returned as a copy;
* a temporary is deleted after its last use, so the next array can take its memory.
Inputs are checked cheaply on each call: dimensions are bound from the inputs' shapes, and one
comparison per input tells whether all shapes agree; only then is the slow path taken, the same
:func:`matcalc.binding.bind_shapes` that :func:`matcalc.evaluate` uses, which names the input and
the dimension.
"""

from __future__ import annotations

import builtins
import functools
import inspect
import itertools
import linecache
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .algebra.fast import fast_form
from .binding import bind_shapes, check_dims, declared_spec
from .codegen_inputs import (
    HEADER,
    INPUT_CONVERSIONS,
    MODULE_NAMES,
    check_constant_sizes,
    check_function_name,
    check_helper_names,
    check_input_names,
    is_identifier,
    prologue,
    shared_source,
)
from .dims import Dim, Shape, dim
from .errors import (
    CodegenError,
    DimensionBindingError,
    EvaluationError,
    InputError,
    MatcalcError,
    NoCodeTemplateError,
)
from .evaluate import declared_inputs, shape_groups, symbols_of
from .expr import Expr, toposort
from .limits import LIMITS
from .lowering import BACKEND_KEYS, Env, Helper, helpers_of, lower, render, template_of
from .ops import Matrix

__all__ = ["CodegenError", "CompiledFunction", "NoCodeTemplateError", "compile", "numpy_source",
           "source", "template_of"]


@dataclass(frozen=True)
class Backend:
    """How one engine's module starts, and how its inputs are taken and outputs returned."""

    name: str
    header: str  # the module's imports
    copy: str  # a fresh copy of a value computed at load time
    module: str  # what must be importable to run the code


BACKENDS = {
    "numpy": Backend("numpy", "import numpy as np", "{x}.copy()", "numpy"),
    "jax": Backend("jax",
                   "import jax.numpy as np  # the NumPy templates run unchanged on jax.numpy",
                   "{x}", "jax"),
    "torch": Backend("torch", "import torch", "{x}.clone()", "torch"),
}
assert set(BACKENDS) == set(BACKEND_KEYS)


@dataclass
class Instr:
    """One line of the function: ``target = expression``, reading the variables in ``reads``."""

    target: str
    expression: str
    reads: list[str]
    hoisted: bool  # depends on no input and no dimension: computed once, at load time
    helpers: tuple[str, ...] = ()  # the helpers its op declares for the backend


@dataclass
class _Program:
    """The instructions of one generated function and the names they use."""

    backend: str
    inputs: dict[str, Expr]
    fixed: dict[str, int]
    taken: set[str] = field(default_factory=set)
    instrs: list[Instr] = field(default_factory=list)
    helpers: dict[str, Helper] = field(default_factory=dict)
    dim_var: dict[str, str] = field(default_factory=dict)

    def fresh(self, stem: str) -> str:
        name = stem
        while name in self.taken:
            name += "_"
        self.taken.add(name)
        return name

    def dim(self, name: str) -> str:
        if name not in self.dim_var:
            self.dim_var[name] = self.fresh(name)
        return self.dim_var[name]

    def add_helpers(self, node: Expr) -> None:
        for h in helpers_of(node.op, self.backend):
            known = self.helpers.setdefault(h.name, h)
            if known.source != h.source:
                raise CodegenError(f"two ops declare different code for the helper {h.name!r} "
                                   f"(one of them is {node.op.name!r})")

    def build(self, items: list[Expr]) -> list[str]:
        """Instructions for every node; the variables holding the outputs (CodegenError for an
        input named like the module's own names or a helper)."""
        nodes = toposort(items)
        for node in nodes:
            self.add_helpers(node)
        check_input_names(self.inputs, self.helpers)
        self.taken |= set(self.inputs) | set(self.helpers) | MODULE_NAMES | set(dir(builtins))
        var: dict[int, str] = {}
        hoisted: dict[str, bool] = {}
        consts, temps = itertools.count(), itertools.count()
        for node in nodes:
            args = [var[id(a)] for a in node.args]
            env = Env(self.dim)
            expression = render(node, template_of(node.op, self.backend), args, env)
            if expression in args:  # an alias: no line
                var[id(node)] = expression
            elif not node.args and expression in self.inputs:  # an input
                var[id(node)] = expression
                hoisted[expression] = False
            else:
                lifted = not env.dims_used and all(hoisted[a] for a in args)
                target = self._numbered("c" if lifted else "t", consts if lifted else temps)
                self.instrs.append(Instr(target, expression, args, lifted, tuple(
                    h.name for h in helpers_of(node.op, self.backend))))
                var[id(node)] = target
                hoisted[target] = lifted
        return [var[id(e)] for e in items]

    def _numbered(self, stem: str, counter: Any) -> str:
        while True:
            name = f"{stem}{next(counter)}"
            if name not in self.taken:
                self.taken.add(name)
                return name


def _wrap(head: str, items: list[str], tail: str, indent: str, width: int = 99) -> list[str]:
    """``head + ", ".join(items) + tail``, broken after commas to fit width."""
    lines, line = [], head
    for i, item in enumerate(items):
        piece = item + (", " if i + 1 < len(items) else "")
        if len(line) + len(piece.rstrip()) > width and line.strip() not in ("", head.strip()):
            lines.append(line.rstrip())
            line = indent + "    "
        line += piece
    lines.append(line + tail)
    return lines


def _outputs(outputs: Any) -> tuple[list[Expr], bool]:
    single = isinstance(outputs, Expr)
    items = [outputs] if single else list(outputs) if isinstance(outputs, (list, tuple)) else None
    if items is None:
        raise InputError(f"outputs must be an expression or a list of them, got "
                         f"{type(outputs).__name__}")
    if not items:
        raise InputError("outputs: give at least one expression")
    for e in items:
        if not isinstance(e, Expr):
            raise InputError(f"outputs must be matcalc expressions, got {type(e).__name__}")
    return items, single


def _binding_inputs(items: list[Expr], lowered: list[Expr], symbols: dict[str, Expr],
                    fixed: Mapping[str, int]) -> dict[str, Expr]:
    """Inputs the outputs do not read but their program declared, taken for their shapes where
    they bind a dimension nothing else binds (as evaluate takes them; see matcalc.binding). The
    declarations are those of the outputs as given (``items``), the dimensions needed those of
    the code that runs (``lowered``)."""
    needed: dict[str, None] = {}
    for node in toposort(lowered):
        for d in [*node.shape, *(v for _, v in node.params if isinstance(v, Dim))]:
            needed.update(dict.fromkeys(d.names))
    bound = set(fixed) | {d.names[0] for s in symbols.values() for d in s.shape
                          if d.is_name}
    extra: dict[str, Expr] = {}
    for name, spec in sorted(declared_inputs(items).items()):
        if name in symbols or spec is None or not is_identifier(name):
            continue
        shape = (dim(spec[0]), dim(spec[1]))
        binds = {d.names[0] for d in shape if d.is_name}
        if binds & (set(needed) - bound):
            extra[name] = Matrix(name, *shape)
            bound |= binds
    return extra


def _helper_order(helpers: dict[str, Helper], instrs: list[Instr]) -> list[str]:
    """The helpers the instructions' ops declare, and those the helpers call, sorted by name."""
    want: set[str] = set()
    todo = [h for ins in instrs for h in ins.helpers]
    while todo:
        h = todo.pop()
        if h not in want:
            want.add(h)
            todo += [c for c in helpers[h].calls if c in helpers]
    return sorted(want)


def _body(prog: _Program, returned: set[str]) -> list[str]:
    """One line per instruction; a temporary is deleted after its last use."""
    steps = [ins for ins in prog.instrs if not ins.hoisted]
    last_use: dict[str, int] = {}
    for k, ins in enumerate(steps):
        for r in ins.reads:
            last_use[r] = k
    temps = {ins.target for ins in steps}
    dead_after: dict[int, list[str]] = {}
    for r, k in last_use.items():
        if r in temps and r not in returned:
            dead_after.setdefault(k, []).append(r)
    lines = []
    for k, ins in enumerate(steps):
        lines.append(f"    {ins.target} = {ins.expression}")
        if k in dead_after:
            lines.append("    del " + ", ".join(sorted(dead_after[k], key=_natural)))
    return lines


def _natural(name: str) -> tuple[str, int]:
    stem = name.rstrip("0123456789_")
    digits = name[len(stem):].rstrip("_")
    return (stem, int(digits) if digits else -1)


def source(outputs: Any, backend: str = "numpy", dims: Mapping[str, int] | None = None,
           name: str = "f") -> str:
    """Python source of a module defining ``name(*, inputs...)`` that returns the outputs' values.

    ``dims`` fixes dimensions that no input's shape binds (those of eye(k), say).
    """
    if not isinstance(backend, str) or backend not in BACKENDS:
        raise CodegenError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    check_function_name(name, ())
    items, _ = _outputs(outputs)
    fixed = check_dims(dims)
    symbols = symbols_of(items)
    lowered = lower(fast_form(items, fixed))  # the cheapest order, if sizes are known
    symbols.update(_binding_inputs(items, lowered, symbols, fixed))
    symbols = dict(sorted(symbols.items()))
    prog = _Program(backend, symbols, fixed)
    prog.taken.add(name)
    results = prog.build(lowered)
    check_helper_names(prog.helpers)
    check_function_name(name, prog.helpers)
    groups = shape_groups(toposort(lowered))
    check_constant_sizes(groups, LIMITS)  # they are computed when the module loads
    return _module(BACKENDS[backend], prog, results, name, groups)


def _module(be: Backend, prog: _Program, results: list[str], name: str,
            groups: list[tuple[Shape, Expr, int]]) -> str:
    out = [be.header, "", HEADER, "", INPUT_CONVERSIONS[be.name]]
    for shared in shared_source():
        out += ["", "", shared]
    for hname in _helper_order(prog.helpers, prog.instrs):
        out += ["", "", prog.helpers[hname].source]
    out += ["", "", "_SHAPES = {  # the declared shapes"]
    out += [f"    {n!r}: ({declared_spec(s.rows)!r}, {declared_spec(s.cols)!r}),"
            for n, s in prog.inputs.items()]
    out += ["}"]
    const_lines = [f"{ins.target} = {ins.expression}" for ins in prog.instrs if ins.hoisted]
    if const_lines:
        out += ["", "# values that depend on no input, computed once"] + const_lines
    out += ["", ""]
    out += (_wrap(f"def {name}(*, ", list(prog.inputs), "):", "") if prog.inputs
            else [f"def {name}():"])
    n = len(results)
    out.append(f'    """The values of {n} expression{"s" if n != 1 else ""} as 2-D arrays, '
               f'in order (generated by matcalc)."""')
    body = prologue(prog.inputs, prog.fixed, prog.dim_var, prog.dim, groups)
    body += _body(prog, set(results))
    hoisted = {ins.target for ins in prog.instrs if ins.hoisted}
    shown = [be.copy.format(x=v) if v in hoisted else v for v in results]
    body += _wrap("    return [", shown, "]", "    ")
    return "\n".join(out + body) + "\n"


_counter = itertools.count()


class CompiledFunction:
    """The generated function: call it with the inputs by name; ``.source`` is its code.

    Matrix products are computed in the cheapest order for the actual sizes: with ``dims`` that
    fix every size at compile time, in the one function compiled then; otherwise the function is
    specialised on the first call with each new combination of input shapes (and cached), and
    ``.sources`` holds the code of each specialisation.
    """

    CACHE = 64  # specialisations kept per function

    def __init__(self, items: list[Expr], backend: str, dims: dict[str, int], single: bool):
        self.backend, self._items, self._dims, self._single = backend, items, dims, single
        self.source = source(items, backend=backend, dims=dims)
        self._fn = _load(self.source, backend)
        self.inputs = list(inspect.signature(self._fn).parameters)
        self._declared = _declared_shapes(self._fn)
        self._specialised: dict[tuple[Any, ...], Callable[..., Any]] = {}
        self.sources: dict[tuple[Any, ...], str] = {}

    def _for(self, inputs: dict[str, Any]) -> Callable[..., Any]:
        """The function specialised for these inputs' shapes (the generic one if they do not
        bind every size: its own checks then report what is wrong)."""
        key = tuple(getattr(inputs.get(n), "shape", None) for n in self.inputs)
        fn = self._specialised.get(key)
        if fn is not None:
            return fn
        try:
            shapes = {n: _shape2(inputs[n], self._declared[n]) for n in self.inputs}
            sizes = bind_shapes(self._declared, shapes, self._dims)
        except (MatcalcError, KeyError, TypeError, ValueError):
            return self._fn
        text = source(self._items, backend=self.backend, dims=sizes)
        fn = self._fn if text == self.source else _load(text, self.backend)
        if len(self._specialised) >= self.CACHE:
            self._specialised.clear()
            self.sources.clear()
        self._specialised[key], self.sources[key] = fn, text
        return fn

    def __call__(self, *args: Any, **inputs: Any) -> Any:
        if args:
            raise InputError(f"the compiled function takes its inputs by name: "
                             f"f({', '.join(k + '=…' for k in self.inputs)})")
        missing = [k for k in self.inputs if k not in inputs]
        if missing:
            raise DimensionBindingError(
                f"the compiled function takes {', '.join(self.inputs)}: missing "
                f"{', '.join(missing)}")
        given = {k: inputs[k] for k in self.inputs}  # values not read are ignored, as evaluate does
        try:
            fn = self._for(given)
            out = fn(**{k: given[k] for k in _parameters(fn)})  # a specialisation that fixes
            # every size reads no input only declared for its shape
        except MatcalcError:
            raise
        except Exception as exc:  # noqa: BLE001 - the backend's own errors, said our way
            raise EvaluationError(f"the compiled function ({self.backend}) failed: "
                                  f"{type(exc).__name__}: {_first_line(exc)}") from None
        return out[0] if self._single else out

    def __repr__(self) -> str:
        return f"<matcalc compiled function ({self.backend}) of {', '.join(self.inputs)}>"


@functools.lru_cache(maxsize=1024)
def _parameters(fn: Callable[..., Any]) -> tuple[str, ...]:
    """The names a generated function takes."""
    return tuple(inspect.signature(fn).parameters)


def _declared_shapes(fn: Callable[..., Any]) -> dict[str, tuple[Any, Any]]:
    """The declared shape of each input, as the generated module states it (``_SHAPES``)."""
    shapes: dict[str, tuple[Any, Any]] = fn.__globals__["_SHAPES"]
    return dict(shapes)


def _shape2(value: Any, declared: tuple[Any, Any]) -> tuple[int, ...]:
    """An input's shape as the generated code will see it (a number for a 1×1 is 1×1)."""
    shape = tuple(getattr(value, "shape", None) or np.shape(value))
    if shape == () and declared == (1, 1):
        return (1, 1)
    return shape


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else repr(exc)


def _load(text: str, backend: str) -> Callable[..., Any]:
    """The function a generated module defines."""
    filename = f"<matcalc-{backend}-{next(_counter)}>"
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    namespace: dict[str, Any] = {"__name__": "matcalc_generated"}
    try:
        exec(builtins.compile(text, filename, "exec"), namespace)  # noqa: S102 - our own code
    except ImportError as exc:
        raise CodegenError(f"the {backend} backend needs {BACKENDS[backend].module} installed "
                           f"({exc})") from None
    fn: Callable[..., Any] = namespace["f"]
    return fn


def compile(outputs: Any, backend: str = "numpy",  # shadows the builtin: the name users expect
            dims: Mapping[str, int] | None = None) -> CompiledFunction:
    """A function of the inputs (keyword arrays) returning the outputs' values in one pass.

    ``outputs`` is an expression (the function returns one array) or a list of them (it returns
    a list). backend is "numpy", "jax" (enable jax_enable_x64 for float64) or "torch"
    (float64 tensors). Products are ordered for the actual sizes (see CompiledFunction).
    """
    items, single = _outputs(outputs)
    if not isinstance(backend, str) or backend not in BACKENDS:
        raise CodegenError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    return CompiledFunction(items, backend, check_dims(dims), single)


def numpy_source(outputs: Any, dims: Mapping[str, int] | None = None, name: str = "f") -> str:
    """Readable, deterministic NumPy source of a function computing the outputs (see compile)."""
    return source(outputs, backend="numpy", dims=dims, name=name)
