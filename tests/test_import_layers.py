"""Imports run one way: every import of a matcalc module keeps to the layers, and none makes a cycle.

Every module of the package is read with ``ast`` (not imported), and every import of a matcalc
module counts: at the top, inside functions, ``import matcalc`` itself, and ``importlib`` calls with
a literal name; only those under ``if TYPE_CHECKING:`` are left out, since they never run. A module
may import from its own layer or below:

0. errors, limits, dims, latexnames, latexstyle, binding (binding imports only errors and dims:
   its source is copied into generated modules)
1. render, expr
2. matcalc.ops.*
3. the engines: simplify, matcalc.rules.*, matcalc.algebra.*, diff, evaluate, lowering, codegen,
   codegen_inputs, interop, printing, matcalc.parsing.*
   (and, until they are gone, textparse, latex_parse)
4. everything else: verify, explain, figure, catalogue, demo, cli, the package itself, __main__,
   and any module not listed here

The import graph has no cycle (within matcalc.ops too: its modules import one way). A failure names
each offending import as ``file:line: module imports target``.
"""

from __future__ import annotations

import ast
import itertools
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = "matcalc"
SOURCE = Path(__file__).resolve().parent.parent / PACKAGE

LAYERS = {
    "matcalc.errors": 0, "matcalc.dims": 0, "matcalc.latexnames": 0, "matcalc.latexstyle": 0,
    "matcalc.binding": 0, "matcalc.limits": 0,
    "matcalc.render": 1, "matcalc.expr": 1,
    "matcalc.ops": 2,
    "matcalc.simplify": 3, "matcalc.diff": 3, "matcalc.evaluate": 3, "matcalc.lowering": 3,
    "matcalc.codegen": 3, "matcalc.codegen_inputs": 3, "matcalc.interop": 3,
    "matcalc.printing": 3, "matcalc.parsing": 3, "matcalc.algebra": 3, "matcalc.rules": 3,
    "matcalc.textparse": 3, "matcalc.latex_parse": 3,
}
TOP = 4
# Modules held to a narrower list than their layer allows.
ONLY = {"matcalc.binding": {"matcalc.errors", "matcalc.dims"}}


@dataclass(frozen=True)
class Import:
    """One import of a matcalc module: who imports what, where (target None: not a literal)."""

    module: str
    path: str
    line: int
    target: str | None

    def __str__(self) -> str:
        what = self.target or "a module whose name is computed at run time"
        return f"{self.path}:{self.line}: {self.module} imports {what}"


def layer_of(module: str) -> int:
    """A module's layer: its own entry, else its package's (matcalc.ops.arith is matcalc.ops's)."""
    name = module
    while name:
        if name in LAYERS:
            return LAYERS[name]
        name = name.rpartition(".")[0]
    return TOP


def modules(source: Path, package: str = PACKAGE) -> dict[str, Path]:
    """Every module of the package by its dotted name (a package by its own name)."""
    out = {}
    for path in sorted(source.rglob("*.py")):
        parts = [package, *path.relative_to(source).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node that may run: the bodies of ``if TYPE_CHECKING:`` are left out (iterative)."""
    out, stack = [], [tree]
    while stack:
        node = stack.pop()
        out.append(node)
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))
    return out


def _absolute(name: str, level: int, package: str) -> str:
    """The absolute name of ``from <level dots><name> import``, seen from package."""
    if not level:
        return name
    base = package.split(".")[: len(package.split(".")) - (level - 1)]
    return ".".join(base + ([name] if name else []))


def _dynamic_target(call: ast.Call, package: str) -> tuple[bool, str | None]:
    """(is this importlib.import_module(…) or __import__(…)?, the literal name it imports)."""
    fn = call.func
    name = fn.attr if isinstance(fn, ast.Attribute) else fn.id if isinstance(fn, ast.Name) else ""
    if name not in ("import_module", "__import__") or not call.args:
        return False, None
    arg = call.args[0]
    if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
        return True, None
    text = arg.value
    level = len(text) - len(text.lstrip("."))
    return True, _absolute(text[level:], level, package)


def imports_of(module: str, path: Path, known: dict[str, Path], root: Path) -> list[Import]:
    """The imports of matcalc modules that ``module`` may run."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    where = path.relative_to(root).as_posix()
    out: list[Import] = []

    def add(node: ast.AST, target: str | None) -> None:
        if target is None or target.split(".")[0] == PACKAGE:
            out.append(Import(module, where, getattr(node, "lineno", 0), target))

    for node in _runtime_nodes(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(node, alias.name)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node.module or "", node.level, package)
            for alias in node.names:  # a submodule named in the list is what is imported
                sub = f"{base}.{alias.name}"
                add(node, sub if sub in known else base)
        elif isinstance(node, ast.Call):
            dynamic, target = _dynamic_target(node, package)
            if dynamic:
                add(node, target)
    return sorted(out, key=lambda i: (i.line, i.target or ""))


def all_imports(source: Path = SOURCE, package: str = PACKAGE) -> list[Import]:
    known = modules(source, package)
    root = source.parent
    return [i for name, path in known.items() for i in imports_of(name, path, known, root)]


def layer_violations(imports: list[Import]) -> list[str]:
    """Imports from a higher layer, from outside a narrower list, or that cannot be checked."""
    out = []
    for i in imports:
        low = layer_of(i.module)
        if i.target is None:
            if low < TOP:
                out.append(f"{i} (below the top layer an import must name its module)")
        elif i.module in ONLY and i.target not in ONLY[i.module]:
            allowed = " and ".join(sorted(ONLY[i.module]))
            out.append(f"{i} ({i.module} may import only {allowed})")
        elif layer_of(i.target) > low:
            out.append(f"{i} (layer {layer_of(i.target)} from layer {low})")
    return out


def import_cycles(imports: list[Import]) -> list[str]:
    """Each cycle of the import graph once, as the chain of imports that closes it."""
    first: dict[tuple[str, str], Import] = {}
    graph: dict[str, list[str]] = {}
    for i in imports:
        if i.target is not None and (i.module, i.target) not in first:
            first[(i.module, i.target)] = i
            graph.setdefault(i.module, []).append(i.target)
    seen: set[frozenset[str]] = set()
    out = []
    for (a, b), edge in first.items():
        path = _path(graph, b, a)  # a imports b; does b lead back to a?
        if path is None or frozenset(path) in seen:
            continue
        seen.add(frozenset(path))
        chain = [edge] + [first[pair] for pair in itertools.pairwise(path)]
        out.append("import cycle: " + " → ".join(str(e) for e in chain))
    return out


def _path(graph: dict[str, list[str]], start: str, goal: str) -> list[str] | None:
    """The modules on a shortest import path from start to goal (breadth first), or None."""
    parent: dict[str, str | None] = {start: None}
    queue = [start]
    for node in queue:
        if node == goal:
            path = [node]
            while (prev := parent[path[-1]]) is not None:
                path.append(prev)
            return path[::-1]
        for nxt in graph.get(node, []):
            if nxt not in parent:
                parent[nxt] = node
                queue.append(nxt)
    return None


# --- the package --------------------------------------------------------------------------------

def test_every_import_keeps_to_the_layers():
    found = all_imports()
    assert len(found) > 100, "the reader found too few imports to be reading the package"
    problems = layer_violations(found)
    assert not problems, "imports against the layering:\n" + "\n".join(problems)


def test_the_import_graph_has_no_cycle():
    cycles = import_cycles(all_imports())
    assert not cycles, "\n".join(cycles)


def test_the_listed_modules_exist():
    # a renamed module must not leave a stale row behind (the parsers are on their way to
    # matcalc.parsing, so those three may be missing)
    known = modules(SOURCE)
    moving = ("matcalc.parsing", "matcalc.textparse", "matcalc.latex_parse")
    gone = [m for m in LAYERS if m not in known and m not in moving]
    assert not gone, f"modules listed in LAYERS that do not exist: {gone}"


# --- the reader itself, on small packages that break the rules -----------------------------------

def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    """A throwaway package named matcalc under tmp_path, from {relative path: source}."""
    source = tmp_path / PACKAGE
    for rel, text in {"__init__.py": "", **files}.items():
        path = source / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return source


def _problems(tmp_path: Path, files: dict[str, str]) -> list[str]:
    imports = all_imports(_package(tmp_path, files))
    return layer_violations(imports) + import_cycles(imports)


def test_an_upward_import_is_named_with_its_line(tmp_path):
    problems = _problems(tmp_path, {"dims.py": "import math\n\nfrom .diff import grad\n",
                                    "diff.py": ""})
    assert problems == [
        "matcalc/dims.py:3: matcalc.dims imports matcalc.diff (layer 3 from layer 0)"]


def test_imports_inside_functions_and_of_the_package_itself_count(tmp_path):
    problems = _problems(tmp_path, {
        "expr.py": """
            def later():
                import matcalc
                from matcalc.verify import check
                return check
            """,
        "verify.py": "",
    })
    assert problems == [
        "matcalc/expr.py:3: matcalc.expr imports matcalc (layer 4 from layer 1)",
        "matcalc/expr.py:4: matcalc.expr imports matcalc.verify (layer 4 from layer 1)",
    ]


def test_relative_imports_resolve_from_their_package(tmp_path):
    problems = _problems(tmp_path, {
        "ops/__init__.py": "from . import arith\n",
        "ops/arith.py": "from ..ops import leaves\nfrom .. import simplify\n",
        "ops/leaves.py": "from ..expr import Expr\n",
        "expr.py": "",
        "simplify.py": "",
    })
    assert problems == [
        "matcalc/ops/arith.py:2: matcalc.ops.arith imports matcalc.simplify (layer 3 from layer 2)"]


def test_type_checking_imports_are_left_out_but_their_else_branch_counts(tmp_path):
    problems = _problems(tmp_path, {
        "render.py": """
            import typing
            from typing import TYPE_CHECKING

            if TYPE_CHECKING:
                from .verify import check
            if typing.TYPE_CHECKING:
                from .cli import main
            else:
                from .demo import run
            """,
        "verify.py": "", "cli.py": "", "demo.py": "",
    })
    assert problems == [
        "matcalc/render.py:10: matcalc.render imports matcalc.demo (layer 4 from layer 1)"]


def test_new_modules_are_top_layer_and_binding_has_its_own_list(tmp_path):
    problems = _problems(tmp_path, {
        "evaluate.py": "from . import helpers\n",
        "helpers.py": "",
        "binding.py": "from .dims import Dim\nfrom .latexstyle import style\n",
        "dims.py": "", "latexstyle.py": "",
    })
    assert problems == [
        ("matcalc/binding.py:2: matcalc.binding imports matcalc.latexstyle (matcalc.binding may "
         "import only matcalc.dims and matcalc.errors)"),
        "matcalc/evaluate.py:1: matcalc.evaluate imports matcalc.helpers (layer 4 from layer 3)",
    ]


def test_dynamic_imports(tmp_path):
    problems = _problems(tmp_path, {
        "printing.py": """
            import importlib

            def load(name):
                importlib.import_module("matcalc.cli")
                return importlib.import_module(name)
            """,
        "cli.py": """
            import importlib

            def load(name):
                return importlib.import_module(name)
            """,
    })
    assert problems == [
        "matcalc/printing.py:5: matcalc.printing imports matcalc.cli (layer 4 from layer 3)",
        ("matcalc/printing.py:6: matcalc.printing imports a module whose name is computed at run "
         "time (below the top layer an import must name its module)"),
    ]


@pytest.mark.parametrize("files, cycle", [
    pytest.param({"ops/__init__.py": "from .a import f\n", "ops/a.py": "from .b import g\n",
                  "ops/b.py": "def g():\n    from . import a\n"},
                 "import cycle: matcalc/ops/a.py:1: matcalc.ops.a imports matcalc.ops.b → "
                 "matcalc/ops/b.py:2: matcalc.ops.b imports matcalc.ops.a", id="within-ops"),
    pytest.param({"ops/__init__.py": "from .a import f\n", "ops/a.py": "from . import g\n"},
                 "import cycle: matcalc/ops/__init__.py:1: matcalc.ops imports matcalc.ops.a → "
                 "matcalc/ops/a.py:1: matcalc.ops.a imports matcalc.ops", id="through-the-package"),
])
def test_a_cycle_is_named_import_by_import(tmp_path, files, cycle):
    assert _problems(tmp_path, files) == [cycle]
