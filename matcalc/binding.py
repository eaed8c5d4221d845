"""Dimension binding: the sizes of m, n, B read off the arrays, and the error for a mismatch.

:func:`bind_shapes` is written once and used twice: by :func:`matcalc.evaluate`, and, as source
copied into every compiled module, by the code the generator writes (which therefore reports a
mismatch in the same words). It uses nothing but builtins and ``DimensionBindingError``; its
annotations are strings, never evaluated, since the generated module does not define their names.
"""

from typing import TYPE_CHECKING

from .dims import Dim
from .errors import DimensionBindingError

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["bind_shapes", "declared_spec"]


def declared_spec(d: Dim) -> int | str:
    """A declared dimension as bind_shapes reads it: an int, a name, or a product ``2*m*n``."""
    return d.coef if d.is_int else d.text


def bind_shapes(declared: "Mapping[str, tuple[int | str, ...]]",
                shapes: "Mapping[str, tuple[int, ...]]",
                fixed: "Mapping[str, int] | None" = None) -> "dict[str, int]":
    """The dimensions' values from the arrays' shapes, checked against the declarations.

    declared: {name: (rows, cols)}, each an int, a dimension name, or a polynomial such as "m*n",
    "m + n" or "m - 1"; shapes: {name: the shape of its value}; fixed: {dimension: value} given by
    the caller. A polynomial is checked once its names are bound; one whose names are all bound
    but one, which appears alone in one term (m + n with m known), binds that name.
    Raises DimensionBindingError naming the first input whose shape contradicts the rest.
    """
    bound = {k: (v, "dims") for k, v in (fixed or {}).items()}
    later: list[tuple[str, str, str, int, str]] = []
    for name, spec in declared.items():
        shape = tuple(shapes[name])
        spelled = "×".join(str(d) if not any(c in str(d) for c in "*+-") else
                           "(" + str(d).replace("*", "·") + ")" for d in spec)
        if len(shape) != 2:
            raise DimensionBindingError(
                f"value of {name} must be a 2-D array (declared {spelled}), "
                f"got an array of shape {shape}")
        for axis, (want, got) in enumerate(zip(spec, shape)):
            what = "rows" if axis == 0 else "columns"
            if isinstance(want, int):
                if got != want:
                    raise DimensionBindingError(
                        f"{name} is declared {spelled} but its value has {got} {what} "
                        f"(shape {shape})")
            elif any(c in want for c in "*+-"):
                later.append((name, what, want, got, spelled))
            elif want in bound and bound[want][0] != got:
                value, source = bound[want]
                raise DimensionBindingError(
                    f"dimension {want} is {value} from {source} but {got} from {name} "
                    f"({what} of an array of shape {shape})")
            else:
                bound.setdefault(want, (got, name))

    def terms(spec: str) -> "list[tuple[int, list[str]]]":
        out = []
        for piece in spec.replace("-", "+-").split("+"):
            piece = piece.strip()
            if not piece:
                continue
            sign = -1 if piece.startswith("-") else 1
            coef, names = sign, []
            for factor in piece.lstrip("-").split("*"):
                factor = factor.strip()
                if factor.isdigit():
                    coef *= int(factor)
                else:
                    names.append(factor)
            out.append((coef, names))
        return out

    def product(names: "list[str]") -> int:
        out = 1
        for n in names:
            out *= bound[n][0]
        return out

    while later:
        pending = []
        for name, what, want, got, spelled in later:
            polynomial = terms(want)
            unknown = sorted({n for _, ns in polynomial for n in ns if n not in bound})
            if unknown:
                pending.append((name, what, want, got, spelled, polynomial, unknown))
                continue
            value = sum(coef * product(ns) for coef, ns in polynomial)
            if value != got:
                raise DimensionBindingError(
                    f"{name} has {got} {what} but {want} = {value} (it is declared {spelled})")
        progress = False
        for name, what, want, got, spelled, polynomial, unknown in pending:
            alone = [c for c, ns in polynomial if ns == unknown]
            if len(unknown) == 1 and len(alone) == 1 and \
                    sum(unknown[0] in ns for _, ns in polynomial) == 1:
                rest = sum(c * product(ns) for c, ns in polynomial if ns != unknown)
                solved, remainder = divmod(got - rest, alone[0])
                if remainder == 0 and solved > 0 and unknown[0] not in bound:
                    bound[unknown[0]] = (solved, name)
                    progress = True
        later = [p[:5] for p in pending if any(n not in bound for n in p[6])] if not progress \
            else [p[:5] for p in pending]
        if not progress and later:
            name, _, want, _, _ = later[0]
            missing = next(n for _, ns in terms(want) for n in ns if n not in bound)
            raise DimensionBindingError(f"dimension {missing} in {name}'s shape is not bound")
    return {k: v for k, (v, _) in bound.items()}
