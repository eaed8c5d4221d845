"""Code generation: the values of a DAG as straight-line NumPy (or JAX, PyTorch) source.

``numpy_source(outputs)`` returns a module with one function, ``def f(*, W, X, b)``, that takes
the inputs by name and returns the outputs' values as a list of 2-D arrays; ``compile(outputs)``
builds that function from the source. Each DAG node is computed once, so gradients reuse the
forward values they share with the loss.

The engine never names an op. Each op record carries, in its ``code`` field, a template per
backend: a format string over its arguments' variables (``"np.tanh({0})"``) or a function
``template(node, args, env)`` returning one expression, where ``args`` are the arguments'
variables, ``env.dim(d)`` spells a dimension as a Python expression and ``env.name(x)`` is the
variable of any node computed before (so a template may look through an argument: a product with
diag(v) becomes a broadcast multiply). Templates are looked up by backend: ``numpy`` falls back to
``all`` (plain Python operators), ``jax`` to ``numpy`` (jax.numpy mirrors NumPy's API, and the
generated module binds it to ``np``), ``torch`` to ``all``. Functions a template calls are declared
in the record's ``code_helpers`` as source text, per backend, and are emitted only when used.

One pass in topological order, then one pass back:
* a template that returns an input's or an argument's variable makes no line (symbols, named);
* a node that depends on no input and no dimension (a constant, or an op on constants) is
  computed once, when the module is loaded, and returned as a copy;
* a line whose value no output needs is dropped (a template that looked through its argument
  leaves that argument unused).
Inputs are checked cheaply on each call: dimensions are bound from the inputs' shapes, and one
comparison per input tells whether all shapes agree; only then is the slow path taken that names
the input and the dimension.
"""

from __future__ import annotations

import builtins
import itertools
import linecache
import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np

from .dims import Dim
from .errors import DimensionBindingError, InputError, MatcalcError
from .evaluate import EvaluationError, symbols_of
from .expr import Expr, Op, toposort

__all__ = ["CodegenError", "CompiledFunction", "Env", "NoCodeTemplateError", "compile",
           "numpy_source", "source"]


class CodegenError(MatcalcError):
    """Outputs that cannot be turned into code (an unknown backend, a name the code reserves)."""


class NoCodeTemplateError(CodegenError):
    """An op that has no code template for the requested backend."""


@dataclass(frozen=True)
class Backend:
    """How one engine's module starts, and how its inputs are taken and outputs returned."""

    name: str
    keys: tuple[str, ...]  # template keys, tried in order
    header: str  # the module's imports
    coerce: str  # an input as an array: "{x}" is its name
    copy: str  # a fresh copy of a value computed at load time
    module: str  # what must be importable to run the code


BACKENDS = {
    "numpy": Backend("numpy", ("numpy", "all"), "import numpy as np",
                     "np.asarray({x}, dtype=np.float64)", "{x}.copy()", "numpy"),
    "jax": Backend("jax", ("jax", "numpy", "all"),
                   "import jax.numpy as np  # the NumPy templates run unchanged on jax.numpy",
                   "np.asarray({x})", "{x}", "jax"),
    "torch": Backend("torch", ("torch", "all"), "import torch",
                     "torch.as_tensor({x}, dtype=torch.float64)", "{x}.clone()", "torch"),
}

_ERRORS = '''\
try:
    from matcalc.errors import DimensionBindingError
except ImportError:  # the code also runs where matcalc is not installed
    DimensionBindingError = ValueError'''

_SHAPE_ERROR = '''\
def _shape_error(shapes, values, fixed=None):
    """Raise the error that names the first input whose shape contradicts its declaration."""
    bound = {k: (v, "dims") for k, v in (fixed or {}).items()}
    products = []
    for name, declared in shapes.items():
        shape = tuple(getattr(values[name], "shape", ()))
        spelled = "×".join(str(d) for d in declared)
        if len(shape) != 2:
            raise DimensionBindingError(
                f"{name} must be a 2-D array (declared {spelled}), got shape {shape}")
        for axis, (want, got) in enumerate(zip(declared, shape)):
            what = "rows" if axis == 0 else "columns"
            if isinstance(want, int):
                if got != want:
                    raise DimensionBindingError(
                        f"{name} is declared {spelled} but its value has {got} {what} "
                        f"(shape {shape})")
            elif "*" in want:
                products.append((name, what, want, got))
            elif want in bound and bound[want][0] != got:
                value, source = bound[want]
                raise DimensionBindingError(
                    f"dimension {want} is {value} from {source} but {got} from {name} "
                    f"({what} of an array of shape {shape})")
            else:
                bound.setdefault(want, (got, name))
    for name, what, want, got in products:
        value = 1
        for factor in want.split("*"):
            value *= int(factor) if factor.isdigit() else bound[factor][0]
        if value != got:
            raise DimensionBindingError(f"{name} has {got} {what} but {want} = {value}")
    raise DimensionBindingError("the inputs' shapes do not match their declarations")'''

# Placeholders stand for variables until dead lines are dropped and names are chosen.
_VAR = "\x01{}\x02"
_VAR_RE = re.compile("\x01(\\d+)\x02")
_DIM = "\x03{}\x04"
_DIM_RE = re.compile("\x03(\\w+)\x04")
_IN = "\x05{}\x06"
_IN_RE = re.compile("\x05(\\w+)\x06")
_STRING_RE = re.compile(r"\"[^\"]*\"|'[^']*'")
_FREE_RE = re.compile(r"(?<![.\w])([A-Za-z_]\w*)\b(?!\s*=(?!=))")
_WORD_RE = re.compile(r"[A-Za-z_]\w*")


class Env:
    """What a template may ask besides its arguments' variables."""

    def __init__(self, var_of: dict[int, str]):
        self._var_of = var_of
        self.dims_used = False

    def dim(self, d: Dim) -> str:
        """A dimension as a Python expression: 3, n, (2 * n), (m * n)."""
        if d.is_int:
            return str(d.coef)
        self.dims_used = True
        parts = ([str(d.coef)] if d.coef != 1 else []) + [_DIM.format(n) for n in d.names]
        return parts[0] if len(parts) == 1 else "(" + " * ".join(parts) + ")"

    def name(self, node: Expr) -> str:
        """The variable holding a node computed before this one."""
        return self._var_of[id(node)]


def template_of(op: Op, backend: str):
    """The op's template for backend, or NoCodeTemplateError naming both."""
    for key in BACKENDS[backend].keys:
        t = op.code.get(key)
        if t is not None:
            return t
    raise NoCodeTemplateError(f"the op {op.name!r} has no code template for the {backend} "
                              f"backend (its record's code field has {sorted(op.code) or 'none'})")


def _helpers_of(op: Op, backend: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for key in reversed(BACKENDS[backend].keys):  # the most specific wins
        out.update(op.code_helpers.get(key, {}))
    return out


def _free_names(code: str) -> set[str]:
    """Names a line reads from the module or builtins (not attributes, keywords or strings)."""
    return set(_FREE_RE.findall(_STRING_RE.sub('""', code)))


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


def _wrap_or(head: str, terms: list[str], tail: str, indent: str, width: int = 99) -> list[str]:
    """``head + " or ".join(terms) + tail`` broken before ``or`` to fit width."""
    lines, line = [], head + "("
    for i, term in enumerate(terms):
        piece = ("" if i == 0 else " or ") + term
        if len(line) + len(piece) > width and i:
            lines.append(line)
            line = indent + "        or " + term
        else:
            line += piece
    lines.append(line + ")" + tail)
    if len(lines) == 1:  # no parentheses needed
        return [head + " or ".join(terms) + tail]
    return lines


def _declared(d: Dim) -> Any:
    return d.coef if d.is_int else d.text


def _fresh(stem: str, taken: set[str]) -> str:
    name = stem
    while name in taken:
        name += "_"
    taken.add(name)
    return name


def _numbered(stem: str, taken: set[str]):
    for i in itertools.count():
        if stem + str(i) not in taken:
            taken.add(stem + str(i))
            yield stem + str(i)


def _outputs(outputs) -> tuple[list[Expr], bool]:
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


def _check_dims(dims) -> dict[str, int]:
    out = {}
    for key, v in (dims or {}).items():
        if not isinstance(key, str) or not key.isidentifier():
            raise InputError(f"dims: a dimension name must be an identifier, got {key!r}")
        if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
            raise DimensionBindingError(f"dimension {key} must be a positive integer, got {v!r}")
        out[key] = v
    return out


def source(outputs, backend: str = "numpy", dims: Mapping[str, int] | None = None,
           name: str = "f") -> str:
    """Python source of a module defining ``name(*, inputs...)`` that returns the outputs' values.

    ``dims`` fixes dimensions that no input's shape binds (those of eye(k), say).
    """
    if backend not in BACKENDS:
        raise CodegenError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if not isinstance(name, str) or not name.isidentifier():
        raise InputError(f"name must be an identifier, got {name!r}")
    items, _ = _outputs(outputs)
    fixed = _check_dims(dims)
    symbols = dict(sorted(symbols_of(items).items()))
    prog = _Program(items, backend, set(symbols))
    prog.drop_dead_lines()
    prog.choose_names(name)
    return prog.module(BACKENDS[backend], symbols, fixed, name)


class _Program:
    """The lines of one generated function, with placeholders until the names are chosen."""

    def __init__(self, items: list[Expr], backend: str, inputs: set[str]):
        """One template call per node, in topological order."""
        self.items, self.inputs = items, inputs
        self.var_of: dict[int, str] = {}  # node -> its variable (an input or a placeholder)
        self.code: list[str] = []  # per placeholder: its expression
        self.hoisted: list[bool] = []  # per placeholder: computed at load time
        self.helpers: dict[str, str] = {}
        owner: dict[str, str] = {}
        for node in toposort(items):
            for hname, text in _helpers_of(node.op, backend).items():
                if self.helpers.setdefault(hname, text) != text:
                    raise CodegenError(f"the ops {owner[hname]!r} and {node.op.name!r} declare "
                                       f"different code for the helper {hname!r}")
                owner.setdefault(hname, node.op.name)
            template = template_of(node.op, backend)
            args = [self.var_of[id(a)] for a in node.args]
            env = Env(self.var_of)
            expr = (template.format(*args) if isinstance(template, str)
                    else template(node, args, env))
            if not isinstance(expr, str) or not expr.strip():
                raise CodegenError(f"the {backend} template of {node.op.name!r} gave {expr!r}, "
                                   f"not an expression")
            if expr in args:
                self.var_of[id(node)] = expr  # an alias: no line
            elif expr in inputs and not node.args:
                self.var_of[id(node)] = _IN.format(expr)  # an input
            else:
                refs = [int(k) for k in _VAR_RE.findall(expr)]
                self.var_of[id(node)] = _VAR.format(len(self.code))
                self.code.append(expr)
                self.hoisted.append(not env.dims_used and not _IN_RE.search(expr)
                                    and all(self.hoisted[k] for k in refs))
        self.returned = [self._index(e) for e in items]  # placeholder index or None (an input)

    def _index(self, node: Expr) -> int | None:
        k = _VAR_RE.findall(self.var_of[id(node)])
        return int(k[0]) if k else None

    def drop_dead_lines(self) -> None:
        """Keep the lines some output needs (a template may have looked through its argument)."""
        self.live = [False] * len(self.code)
        for k in self.returned:
            if k is not None:
                self.live[k] = True
        for k in reversed(range(len(self.code))):
            if self.live[k]:
                for r in _VAR_RE.findall(self.code[k]):
                    self.live[int(r)] = True

    def choose_names(self, fn_name: str) -> None:
        """Inputs keep their names; dims, constants and temporaries avoid every name in use."""
        used = [c for c, keep in zip(self.code, self.live) if keep]
        free: set[str] = set()
        for c in used:
            free |= _free_names(_IN_RE.sub("", _DIM_RE.sub("", _VAR_RE.sub("", c))))
        self.wanted_helpers = _needed_helpers(self.helpers, used)
        reserved = free | set(self.wanted_helpers) | {
            "np", "torch", "jax", "DimensionBindingError", "_shape_error", "_SHAPES", "locals",
            "float", "tuple"}
        clash = sorted(self.inputs & reserved)
        if clash:
            raise CodegenError(f"the input name {clash[0]!r} is also a name the generated code "
                               f"uses; rename that symbol")
        taken = self.inputs | reserved | {fn_name} | set(dir(builtins))
        dim_names: list[str] = []
        for line in used:
            dim_names += _DIM_RE.findall(line)
        self.dim_names = dim_names
        self.taken = taken
        consts, temps = _numbered("c", taken), _numbered("t", taken)
        self.final = {k: next(consts) if self.hoisted[k] else next(temps)
                      for k in range(len(self.code)) if self.live[k]}

    def rename(self, text: str) -> str:
        text = _VAR_RE.sub(lambda m: self.final[int(m.group(1))], text)
        text = _IN_RE.sub(lambda m: m.group(1), text)
        return _DIM_RE.sub(lambda m: self.dim_var[m.group(1)], text)

    def module(self, be: "Backend", symbols: dict[str, Expr], fixed: dict, name: str) -> str:
        dim_names = [n for s in symbols.values() for d in s.shape for n in d.names]
        self.dim_var = {d: _fresh(d, self.taken) for d in dict.fromkeys(dim_names +
                                                                         self.dim_names)}
        out = [be.header, "", _ERRORS, "", "", _SHAPE_ERROR]
        for hname in self.wanted_helpers:
            out += ["", "", self.helpers[hname]]
        out += ["", "", "_SHAPES = {  # the declared shapes, for the error message"]
        out += [f"    {n!r}: ({_declared(s.rows)!r}, {_declared(s.cols)!r})," for n, s in
                symbols.items()]
        out += ["}"]
        const_lines = [f"{self.final[k]} = {self.rename(self.code[k])}"
                       for k in range(len(self.code)) if self.live[k] and self.hoisted[k]]
        if const_lines:
            out += ["", "# values that depend on no input, computed once"] + const_lines
        out += ["", ""]
        out += (_wrap(f"def {name}(*, ", list(symbols), "):", "") if symbols
                else [f"def {name}():"])
        n = len(self.items)
        out.append(f'    """The values of {n} expression{"s" if n != 1 else ""} as 2-D arrays, '
                   f'in order (generated by matcalc)."""')
        body = _prologue(be, symbols, fixed, self.dim_var) + self._lines()
        results = [self.rename(self.var_of[id(e)]) for e in self.items]
        results = [be.copy.format(x=v) if k is not None and self.hoisted[k] else v
                   for v, k in zip(results, self.returned)]
        body += _wrap("    return [", results, "]", "    ")
        return "\n".join(out + body) + "\n"

    def _lines(self) -> list[str]:
        """One line per computed node; a temporary is deleted after its last use, so the next
        array can take its memory while that is still in cache."""
        steps = [k for k in range(len(self.code)) if self.live[k] and not self.hoisted[k]]
        last_use: dict[int, int] = {}
        for k in steps:
            for r in _VAR_RE.findall(self.code[k]):
                last_use[int(r)] = k
        dead_after: dict[int, list[int]] = {}
        for r, k in last_use.items():
            if not self.hoisted[r] and r not in self.returned:
                dead_after.setdefault(k, []).append(r)
        lines = []
        for k in steps:
            lines.append(f"    {self.final[k]} = {self.rename(self.code[k])}")
            if k in dead_after:
                lines.append("    del " + ", ".join(self.final[r] for r in sorted(dead_after[k])))
        return lines


def _needed_helpers(helpers: dict[str, str], lines: list[str]) -> list[str]:
    """The helpers the lines call, and those the helpers call, in a stable order."""
    want: list[str] = []
    todo = [w for line in lines for w in _WORD_RE.findall(line) if w in helpers]
    while todo:
        h = todo.pop()
        if h in want:
            continue
        want.append(h)
        todo += [w for w in _WORD_RE.findall(helpers[h]) if w in helpers and w != h]
    return sorted(want)


def _prologue(be: Backend, symbols: dict[str, Expr], fixed: dict, dim_var: dict) -> list[str]:
    """Coerce the inputs, bind the dimensions from their shapes, check every shape at once."""
    body = []
    for n, s in symbols.items():
        body.append(f"    {n} = {be.coerce.format(x=n)}")
        if s.is_scalar:  # a number is accepted for a 1×1 input
            body += [f"    if {n}.ndim == 0:", f"        {n} = {n}.reshape(1, 1)"]
    fail = "_shape_error(_SHAPES, locals()" + (f", {fixed!r})" if fixed else ")")
    if symbols:
        body += _wrap_or("    if ", [f"{n}.ndim != 2" for n in symbols], ":", "    ")
        body.append(f"        {fail}")
    bound: dict[str, str] = {}
    for d, v in dim_var.items():
        if d in fixed:
            body.append(f"    {v} = {fixed[d]}")
            bound[d] = v
    for n, s in symbols.items():
        for axis, d in enumerate(s.shape):
            if len(d.names) == 1 and d.coef == 1 and d.names[0] not in bound:
                body.append(f"    {dim_var[d.names[0]]} = {n}.shape[{axis}]")
                bound[d.names[0]] = n
    missing = [d for d in dim_var if d not in bound]
    if missing:
        raise DimensionBindingError(
            f"dimension {missing[0]} is not bound by any input's shape; pass "
            f"dims={{'{missing[0]}': …}} to fix it")

    def spell(d: Dim) -> str:
        if d.is_int:
            return str(d.coef)
        parts = ([str(d.coef)] if d.coef != 1 else []) + [dim_var[x] for x in d.names]
        return " * ".join(parts)

    if symbols:
        terms = [f"{n}.shape != ({spell(s.rows)}, {spell(s.cols)})" for n, s in symbols.items()]
        body += _wrap_or("    if ", terms, ":", "    ")
        body.append(f"        {fail}")
    return body


_counter = itertools.count()


class CompiledFunction:
    """The generated function: call it with the inputs by name; ``.source`` is its code."""

    def __init__(self, fn: Callable, text: str, backend: str, inputs: list[str], single: bool):
        self._fn, self.source, self.backend, self.inputs = fn, text, backend, inputs
        self._single = single

    def __call__(self, **inputs):
        try:
            out = self._fn(**inputs)
        except TypeError:
            missing = sorted(set(self.inputs) - set(inputs))
            if missing:
                raise DimensionBindingError(
                    f"the compiled function takes {', '.join(self.inputs)}: missing "
                    f"{', '.join(missing)}") from None
            if set(inputs) == set(self.inputs):
                raise
            # values the outputs do not read are ignored, as evaluate does
            return self(**{k: inputs[k] for k in self.inputs})
        except np.linalg.LinAlgError as exc:
            raise EvaluationError(f"the compiled function failed: {exc}") from None
        return out[0] if self._single else out

    def __repr__(self) -> str:
        return f"<matcalc compiled function ({self.backend}) of {', '.join(self.inputs)}>"


def compile(outputs, backend: str = "numpy", dims: Mapping[str, int] | None = None
            ) -> CompiledFunction:  # noqa: A001 - the name users expect
    """A function of the inputs (keyword arrays) returning the outputs' values in one pass.

    ``outputs`` is an expression (the function returns one array) or a list of them (it returns
    a list). backend is "numpy", "jax" (enable jax_enable_x64 for float64) or "torch"
    (float64 tensors).
    """
    items, single = _outputs(outputs)
    text = source(items, backend=backend, dims=dims)
    filename = f"<matcalc-{backend}-{next(_counter)}>"
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    namespace: dict[str, Any] = {"__name__": "matcalc_generated"}
    try:
        exec(builtins.compile(text, filename, "exec"), namespace)  # our own generated code
    except ImportError as exc:
        raise CodegenError(f"the {backend} backend needs {BACKENDS[backend].module} installed "
                           f"({exc})") from None
    return CompiledFunction(namespace["f"], text, backend, sorted(symbols_of(items)), single)


def numpy_source(outputs, dims: Mapping[str, int] | None = None, name: str = "f") -> str:
    """Readable, deterministic NumPy source of a function computing the outputs (see compile)."""
    return source(outputs, backend="numpy", dims=dims, name=name)
