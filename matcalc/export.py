"""Derived gradients as framework code: functions whose backward pass is matcalc's closed form.

``export(expr, inputs, backend="jax")`` returns a function of the inputs wrapped in
``jax.custom_vjp``; ``backend="torch"`` returns a ``torch.autograd.Function`` subclass. Both run
code that :func:`matcalc.compile` generates from the op records, as two programs (see
:mod:`matcalc.export_plan`): the forward program computes the outputs and the residuals, the values
the closed-form backward reads that do not depend on the upstream gradient; the backward program
computes the gradients from the residuals and the upstream gradients ``dL_dY``.

Values are matrices. An input declared n×1 or 1×n may also be given as a 1-D array, and a 1×1
input as a number or a 0-d array; its gradient comes back in the shape it was given. A 1×1
output is returned as a 0-d array, so that ``jax.grad`` and ``loss.backward()`` take it
directly; other outputs are 2-D. Outputs take the floating dtype of the inputs, and each gradient
the dtype of its input. JAX and PyTorch are imported only when a function for them is made.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .errors import CodegenError, InputError
from .export_jax import jax_function
from .export_plan import Derivation, check_outputs, positional, resolve_inputs
from .export_torch import torch_function

__all__ = ["Exported", "export"]

BACKENDS = ("jax", "torch")


class Exported:
    """A function of the inputs (positional, or by name) whose gradient is matcalc's closed form."""

    def __init__(self, fn: Callable[..., Any], derivation: Derivation, backend: str, name: str):
        self._fn, self._derivation, self.backend = fn, derivation, backend
        self.inputs = tuple(derivation.names)
        self.__name__ = self.__qualname__ = name
        self.__doc__ = f"{name}({', '.join(self.inputs)}): a matcalc export for {backend}"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._fn(*positional(self.__name__, self.inputs, args, kwargs))

    def sources(self) -> dict[str, str]:
        """The generated forward and backward programs."""
        return self._derivation.sources(self.backend)

    def __repr__(self) -> str:
        return f"<matcalc export {self.__name__}({', '.join(self.inputs)}) for {self.backend}>"


def export(expr: Any, inputs: Any, backend: str = "jax", dims: Mapping[str, int] | None = None,
           name: str | None = None) -> Any:
    """A framework function of the inputs whose backward pass is matcalc's closed-form gradient.

    backend="jax": a function wrapped in jax.custom_vjp (for jax.jit, jax.grad, jax.vmap);
    backend="torch": a torch.autograd.Function subclass (call its .apply). ``expr`` is one
    expression or a list of them (the function then returns a tuple); ``inputs`` lists every
    symbol the expression reads, by name or as the symbol, in the order the function takes them.
    ``dims`` fixes dimensions that no input's shape binds.
    """
    if backend not in BACKENDS:
        raise CodegenError(f"export: unknown backend {backend!r}; choose one of "
                           f"{', '.join(BACKENDS)}")
    label = "matcalc_function" if name is None else name
    if not isinstance(label, str) or not label.isidentifier():
        raise InputError(f"export: name must be an identifier, got {label!r}")
    items, single = check_outputs(expr, "export")
    derivation = Derivation(items, resolve_inputs(items, inputs), dims)
    module = "jax" if backend == "jax" else "torch"
    try:
        __import__(module)
    except ImportError as exc:
        raise CodegenError(f"export: the {backend} backend needs {module} installed "
                           f"({exc})") from None
    if backend == "jax":
        return Exported(jax_function(derivation, single), derivation, backend, label)
    return torch_function(derivation, single, label)
