"""The PyTorch side of :func:`matcalc.export`: a ``torch.autograd.Function`` subclass.

``forward`` looks up the plan for ``ctx.needs_input_grad`` (the inputs that need a gradient: the
parameters of a layer, say, and not its data), runs its forward program, and saves the residuals
with ``ctx.save_for_backward``; ``backward`` runs the backward program on them and returns a
gradient for exactly those inputs. The backward is closed-form code, not a graph autograd can
differentiate again, so it is marked ``once_differentiable``: asking for a second derivative
raises instead of returning a wrong one.

The generated torch code computes in float64 (the code generator's PyTorch templates are
float64); outputs are returned in the inputs' floating dtype and each gradient in its input's
dtype. PyTorch is imported when a Function is made, never by ``import matcalc``.
"""

from __future__ import annotations

import functools
from typing import Any

from .errors import InputError
from .export_plan import Derivation, as_matrix, final

__all__ = ["EAGER_MASKS", "torch_function"]

# With this many inputs or fewer, the plans for every combination of inputs that need a gradient
# are generated when the Function is made, so that torch.compile traces no code generation.
EAGER_MASKS = 3


def _masks(n: int) -> list[tuple[bool, ...]]:
    if n <= EAGER_MASKS:
        return [tuple(bool(k >> i & 1) for i in range(n)) for k in range(2 ** n)]
    return [(False,) * n, (True,) * n]


def torch_function(d: Derivation, single: bool, name: str) -> type:
    """A torch.autograd.Function subclass: ``Fn.apply(*inputs)``, in the order of d.inputs."""
    import torch
    from torch.autograd.function import once_differentiable

    n = len(d.inputs)
    for mask in _masks(n):
        d.plan("torch", mask)

    def forward(ctx: Any, *args: Any) -> Any:
        if len(args) != n:
            raise InputError(f"{name}.apply takes {n} inputs ({', '.join(d.names)}), "
                             f"got {len(args)}")
        plan = d.plan("torch", ctx.needs_input_grad)
        mats = {k: as_matrix(a, s) for k, a, s in zip(d.names, args, d.inputs)}
        outs, residuals = plan.run_forward(mats)
        ctx.save_for_backward(*residuals)
        ctx.matcalc_grads = tuple((tuple(args[i].shape), args[i].dtype) for i in plan.wanted)
        ctx.matcalc_carriers = tuple(tuple(torch.as_tensor(mats[k]).shape)
                                     for k in plan.carriers)
        floating = [a.dtype for a in args if isinstance(a, torch.Tensor) and a.is_floating_point()]
        dtype = functools.reduce(torch.promote_types, floating) if floating else None
        vals = tuple(final(v if dtype is None else v.to(dtype), y)
                     for v, y in zip(outs, d.outputs))
        return vals[0] if single else vals

    @once_differentiable
    def backward(ctx: Any, *upstream: Any) -> tuple[Any, ...]:
        plan = d.plan("torch", ctx.needs_input_grad)
        feed = dict(zip(plan.residuals, ctx.saved_tensors))
        for c, g, y in zip(d.cotangents, upstream, d.outputs):
            feed[c.name or ""] = g.reshape(1, 1) if y.is_scalar else g
        for k, shape in zip(plan.carriers, ctx.matcalc_carriers):  # read for their shapes only
            feed[k] = torch.zeros((), dtype=torch.float64).expand(shape)
        out: list[Any] = [None] * n
        for i, g, (shape, dtype) in zip(plan.wanted, plan.run_backward(feed), ctx.matcalc_grads):
            out[i] = g.reshape(shape).to(dtype)
        return tuple(out)

    namespace = {
        "forward": staticmethod(forward),
        "backward": staticmethod(backward),
        "inputs": tuple(d.names),
        "sources": staticmethod(lambda: d.sources("torch")),
        "__doc__": f"{name}.apply({', '.join(d.names)}): a matcalc export; its backward is "
                   f"the closed-form gradient.",
        "__module__": __name__,
    }
    meta: Any = type(torch.autograd.Function)  # its metaclass sets up the backward node class
    cls: type = meta(name, (torch.autograd.Function,), namespace)
    return cls
