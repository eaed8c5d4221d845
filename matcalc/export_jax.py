"""The JAX side of :func:`matcalc.export`: a function wrapped in ``jax.custom_vjp``.

The primal function runs the forward program alone. Under differentiation, ``fwd`` runs the
forward program that also returns the residuals, and ``bwd`` runs the backward program on them.
Both are ordinary jax.numpy code, traced like any other, so the function works under ``jax.jit``
and ``jax.vmap`` (JAX batches ``fwd`` and ``bwd`` itself), and reverse-over-reverse
differentiation sees the closed-form backward as code to differentiate. JAX does not apply
forward mode (``jax.jvp``, ``jax.jacfwd``) to a ``custom_vjp`` function.

JAX is imported when a function is made, never by ``import matcalc``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .export_plan import Derivation, as_matrix, final

__all__ = ["jax_function"]


def jax_function(d: Derivation, single: bool) -> Callable[..., Any]:
    """A function of the inputs (positional, in order) with matcalc's backward as its VJP."""
    import jax
    import jax.numpy as jnp

    n = len(d.inputs)
    primal = d.plan("jax", [False] * n)
    full = d.plan("jax", [True] * n)

    def matrices(args: tuple[Any, ...]) -> dict[str, Any]:
        return {name: as_matrix(a, s) for name, a, s in zip(d.names, args, d.inputs)}

    def finish(outs: list[Any], args: tuple[Any, ...]) -> Any:
        floating = [a.dtype for a in args if jnp.issubdtype(a.dtype, jnp.inexact)]
        dtype = jnp.result_type(*floating) if floating else None
        vals = tuple(final(v if dtype is None else v.astype(dtype), y)
                     for v, y in zip(outs, d.outputs))
        return vals[0] if single else vals

    @jax.custom_vjp
    def function(*args: Any) -> Any:
        outs, _ = primal.run_forward(matrices(args))
        return finish(outs, args)

    def fwd(*args: Any) -> tuple[Any, Any]:
        outs, residuals = full.run_forward(matrices(args))
        return finish(outs, args), (args, tuple(residuals))

    def bwd(saved: Any, upstream: Any) -> tuple[Any, ...]:
        args, residuals = saved
        feed = dict(zip(full.residuals, residuals))
        for c, g, y in zip(d.cotangents, (upstream,) if single else upstream, d.outputs):
            feed[c.name or ""] = jnp.reshape(g, (1, 1)) if y.is_scalar else g
        if full.carriers:
            mats = matrices(args)
            feed.update({name: mats[name] for name in full.carriers})
        grads = full.run_backward(feed)
        return tuple(
            jnp.reshape(g, jnp.shape(a)).astype(a.dtype)
            if jnp.issubdtype(a.dtype, jnp.inexact) else None  # no gradient for integers
            for g, a in zip(grads, args))

    function.defvjp(fwd, bwd)

    def call(*args: Any) -> Any:
        return function(*(jnp.asarray(a) for a in args))

    return call
