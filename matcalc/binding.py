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

    declared: {name: (rows, cols)}, each an int, a dimension name or a product such as "m*n";
    shapes: {name: the shape of its value}; fixed: {dimension: value} given by the caller.
    Raises DimensionBindingError naming the first input whose shape contradicts the rest.
    """
    bound = {k: (v, "dims") for k, v in (fixed or {}).items()}
    products: list[tuple[str, str, str, int, str]] = []
    for name, spec in declared.items():
        shape = tuple(shapes[name])
        spelled = "×".join(str(d) if "*" not in str(d) else "(" + str(d).replace("*", "·") + ")"
                           for d in spec)
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
            elif "*" in want:
                products.append((name, what, want, got, spelled))
            elif want in bound and bound[want][0] != got:
                value, source = bound[want]
                raise DimensionBindingError(
                    f"dimension {want} is {value} from {source} but {got} from {name} "
                    f"({what} of an array of shape {shape})")
            else:
                bound.setdefault(want, (got, name))
    for name, what, want, got, spelled in products:
        value = 1
        for factor in want.split("*"):
            if not factor.isdigit() and factor not in bound:
                raise DimensionBindingError(
                    f"dimension {factor} in {name}'s shape is not bound")
            value *= int(factor) if factor.isdigit() else bound[factor][0]
        if value != got:
            raise DimensionBindingError(
                f"{name} has {got} {what} but {want} = {value} (it is declared {spelled})")
    return {k: v for k, (v, _) in bound.items()}
