"""Inputs checked once for evaluate and compiled code: values, dimension binding, sizes.

:func:`coerce_input` (what a value may be), :func:`bind_shapes` (the sizes of m, n, B read off the
arrays) and :func:`check_sizes` (no array beyond the limits) are written once and used twice: by
:func:`matcalc.evaluate`, and, as source copied into every compiled module, by the code the
generator writes — which therefore refuses the same values, in the same words. They use nothing
but builtins and matcalc's error classes; their annotations are strings, never evaluated, since
the generated module does not define their names.

The module also remembers which inputs a derived expression's program declared
(:func:`remember_declarations`): the gradient ``ones(m, 1) @ v.T`` of ``sum(sum(X, axis=0) @ v)``
no longer reads X, but a value given for X still binds m.
"""

import keyword
import numbers
import weakref
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .dims import Dim
from .errors import DimensionBindingError, InputError, SizeLimitError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

__all__ = ["bind_shapes", "check_dims", "check_sizes", "coerce_input", "declarations_of",
           "declared_spec", "remember_declarations"]

Spec = tuple[int | str, int | str]  # a declared shape as bind_shapes reads it


def check_dims(dims: object) -> dict[str, int]:
    """The ``dims=`` argument of evaluate, compiled code and check, as a dict; InputError when it
    is not a mapping from dimension names (ASCII identifiers) to sizes, DimensionBindingError
    when a size is not a positive integer."""
    if dims is None:
        return {}
    if not isinstance(dims, Mapping):
        raise InputError(f"dims must be a mapping from dimension names to sizes, e.g. "
                         f"{{'n': 3}}, got {type(dims).__name__}")
    out: dict[str, int] = {}
    for key, v in dims.items():
        if not (isinstance(key, str) and key.isascii() and key.isidentifier()
                and not keyword.iskeyword(key)):
            raise InputError(f"dims: a dimension name must be a plain ASCII identifier, "
                             f"got {key!r}")
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or int(v) <= 0:
            raise DimensionBindingError(f"dimension {key} must be a positive integer, got {v!r}")
        out[key] = int(v)
    return out


def declared_spec(d: Dim) -> int | str:
    """A declared dimension as bind_shapes reads it: an int, a name, or a product ``2*m*n``."""
    return d.coef if d.is_int else d.text


def coerce_input(name: "str", value: "Any", column: "bool", asarray: "Callable[[Any], Any]",
                 to_float: "Callable[[Any], Any]") -> "Any":
    """An input's value as a float64 array (a number or a 0-d array as 1×1, a 1-D array as a
    column where a column is declared), or DimensionBindingError saying why it cannot be one.

    asarray and to_float are the backend's conversions (np.asarray and astype(float64) for
    NumPy); real numbers and arrays of booleans, integers or floats are accepted; None, text,
    booleans, complex numbers and arrays of objects are not.
    """
    import numbers

    what = type(value).__name__
    if value is None or isinstance(value, (str, bytes, bytearray, bool)):
        raise DimensionBindingError(f"value of {name} must be numeric, got {what}")
    if isinstance(value, complex) or (isinstance(value, numbers.Complex)
                                      and not isinstance(value, numbers.Real)):
        raise DimensionBindingError(f"value of {name} must be real, got the complex number "
                                    f"{value!r}")
    if isinstance(value, numbers.Real):
        try:
            value = float(value)
        except (OverflowError, ValueError, TypeError):
            raise DimensionBindingError(f"value of {name} is too large for float64") from None
    try:
        arr = asarray(value)
        kind = getattr(arr.dtype, "kind", None) or _torch_kind(str(arr.dtype))
    except Exception as exc:  # noqa: BLE001 - ragged lists, objects the backend cannot read
        raise DimensionBindingError(f"value of {name} is not a numeric array ({what}: "
                                    f"{str(exc).splitlines()[0] if str(exc) else exc!r})"
                                    ) from None
    if kind == "b" and arr.ndim == 0:  # a NumPy boolean, like a Python one
        raise DimensionBindingError(f"value of {name} must be numeric, got {what}")
    if kind == "c":
        raise DimensionBindingError(f"value of {name} must be real, got an array of dtype "
                                    f"{arr.dtype} (its imaginary part would be dropped)")
    if kind not in ("b", "i", "u", "f"):
        raise DimensionBindingError(f"value of {name} must be a real numeric array, got dtype "
                                    f"{arr.dtype}")
    arr = to_float(arr)
    if arr.ndim == 0:
        arr = arr.reshape(1, 1)
    elif arr.ndim == 1 and column:
        arr = arr.reshape(-1, 1)  # a 1-D array is accepted for a declared column
    return arr


def _torch_kind(dtype: "str") -> "str":
    """The NumPy kind letter of a torch dtype's name (torch.float64 → f, torch.complex64 → c)."""
    text = dtype.rpartition(".")[2]
    for prefix, kind in (("complex", "c"), ("bool", "b"), ("uint", "u"), ("int", "i"),
                         ("float", "f"), ("bfloat", "f"), ("half", "f"), ("double", "f")):
        if text.startswith(prefix):
            return kind
    return "O"


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


def check_sizes(arrays: "Iterable[tuple[str, int, int, int]]", max_elements: "int",
                max_total: "int") -> "int":
    """The entries of every array together; SizeLimitError, before anything is allocated, when
    one array or all of them would exceed the limits (see matcalc.limits).

    arrays: (what, rows, cols, how many arrays of that shape).
    """
    total = 0
    for what, rows, cols, count in arrays:
        size = rows * cols
        if size > max_elements:
            raise SizeLimitError(
                f"{what} would be a {rows}×{cols} array ({size:,} entries), more than the limit "
                f"of {max_elements:,} entries per array; use smaller sizes, or raise the limit "
                f"with matcalc.limits.configure(max_elements=…) or MATCALC_MAX_ELEMENTS")
        total += size * count
    if total > max_total:
        raise SizeLimitError(
            f"the arrays of this evaluation would hold {total:,} entries together, more than the "
            f"limit of {max_total:,}; use smaller sizes, or raise the limit with "
            f"matcalc.limits.configure(max_total_elements=…) or MATCALC_MAX_TOTAL_ELEMENTS")
    return total


# result node -> {input name: its declared shape, or None where two programs disagree}
_DECLARED: "weakref.WeakKeyDictionary[Any, dict[str, Spec | None]]" = \
    weakref.WeakKeyDictionary()


def remember_declarations(result: "Any", declared: "Mapping[str, Spec]") -> None:
    """Note that result was derived from a program declaring these inputs (name → shape).

    The first program's table is shared, not copied (all the gradients of one program hold the
    same one: copying it per gradient costs inputs × gradients); a second program's merges into
    a copy."""
    known = _DECLARED.get(result)
    if known is None:
        _DECLARED[result] = declared  # type: ignore[assignment]
        return
    if known is declared or known == declared:  # the same program again
        return
    merged = dict(known)
    for name, spec in declared.items():
        if name in merged and merged[name] != spec:
            merged[name] = None  # the same node derived from programs that disagree: no binding
        else:
            merged.setdefault(name, tuple(spec))  # type: ignore[arg-type]
    _DECLARED[result] = merged


def declarations_of(result: "Any") -> "dict[str, Spec | None]":
    """The inputs (name → declared shape) of the programs result was derived from."""
    return dict(_DECLARED.get(result, {}))
