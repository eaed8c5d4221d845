"""export(…, backend="torch"): a torch.autograd.Function subclass that passes gradcheck, whose
values and gradients equal torch.autograd on the same forward code and PyTorch's own layer norm,
that computes gradients only for the inputs that need one, and that trains inside an nn.Module,
eagerly and under torch.compile."""

from __future__ import annotations

import numpy as np
import pytest
from export_cases import EPS, close, dense_tanh, layer_norm, sample
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from optional import require
from strategies import SIZES, expressions

import matcalc as mc
from matcalc.evaluate import symbols_of
from matcalc.staging import unbound_dims


@pytest.fixture(scope="module")
def torch():
    return require("torch")


def reference(expr, names, dims=None):
    """The same forward code with no custom rule: torch.autograd differentiates it itself."""
    fn = mc.compile(expr, backend="torch", dims=dims)._fn

    def f(*args):
        (out,) = fn(**dict(zip(names, args)))
        return out.reshape(()) if expr.is_scalar else out

    return f


def _tensors(torch, arrays, grad=True):
    return [torch.tensor(a, dtype=torch.float64, requires_grad=grad) for a in arrays]


def _layer_norm_args(torch, B=6, d=5, seed=0):
    rng = np.random.default_rng(seed)
    x, g, b = rng.normal(size=(B, d)), rng.normal(size=d), rng.normal(size=d)
    return _tensors(torch, [x, g, b])  # gamma and beta 1-D, as nn.LayerNorm keeps them


def test_layer_norm_equals_pytorch_and_passes_gradcheck(torch):
    Y, names = layer_norm()
    LN = mc.export(Y, names, backend="torch", name="LayerNorm")
    assert issubclass(LN, torch.autograd.Function) and LN.__name__ == "LayerNorm"
    assert LN.inputs == ("X", "gamma", "beta")
    x, g, b = _layer_norm_args(torch)
    y = LN.apply(x, g, b)
    want = torch.nn.functional.layer_norm(x, (5,), g, b, eps=EPS)
    close(y.detach(), want.detach())
    upstream = torch.randn(6, 5, dtype=torch.float64)
    got = torch.autograd.grad(y, (x, g, b), upstream)
    for a, w in zip(got, torch.autograd.grad(want, (x, g, b), upstream)):
        assert a.shape == w.shape
        close(a, w)
    assert torch.autograd.gradcheck(LN.apply, (x, g, b))


def test_gradients_equal_autograd_on_the_same_code(torch):
    Y, names = dense_tanh()
    Fn, ref = mc.export(Y, names, backend="torch"), reference(Y, names)
    rng = np.random.default_rng(1)
    args = _tensors(torch, [rng.normal(size=(3, 4)), rng.normal(size=(4, 2)),
                            rng.normal(size=(3, 1))])
    upstream = torch.randn(3, 2, dtype=torch.float64)
    got = torch.autograd.grad(Fn.apply(*args), args, upstream)
    for a, w in zip(got, torch.autograd.grad(ref(*args), args, upstream)):
        close(a, w)
    assert torch.autograd.gradcheck(Fn.apply, args)


def test_only_the_inputs_that_need_a_gradient_get_one(torch):
    Y, names = dense_tanh()
    Fn = mc.export(Y, names, backend="torch")
    rng = np.random.default_rng(2)
    W, b = _tensors(torch, [rng.normal(size=(3, 4)), rng.normal(size=(3, 1))])
    X = torch.tensor(rng.normal(size=(4, 2)))  # data: no gradient wanted
    Fn.apply(W, X, b).sum().backward()
    assert X.grad is None and W.grad is not None and b.grad is not None
    close(W.grad, (1 - np.tanh((W.detach() @ X + b.detach()).numpy()) ** 2) @ X.numpy().T)
    # the program behind it computes dW and db, and no dX (no W.T @ …)
    from matcalc.export_plan import Derivation

    d = Derivation([Y], [s for n in names for s in [symbols_of(Y)[n]]])
    text = d.plan("torch", (True, False, True)).backward.text
    assert "W.T" not in text and "r0.T @" not in text.replace(" ", "")
    assert len(d.plan("torch", (True, False, True)).wanted) == 2


def test_dtypes_scalars_and_second_derivatives(torch):
    w, X = mc.Vector("w", "n"), mc.Matrix("X", "n", "m")
    L = mc.sum(mc.softplus(X.T @ w))
    Fn = mc.export(L, ["w", "X"], backend="torch")
    rng = np.random.default_rng(3)
    w32 = torch.tensor(rng.normal(size=3), dtype=torch.float32, requires_grad=True)
    X32 = torch.tensor(rng.normal(size=(3, 5)), dtype=torch.float32)
    loss = Fn.apply(w32, X32)
    assert loss.shape == () and loss.dtype == torch.float32
    loss.backward()
    assert w32.grad.shape == (3,) and w32.grad.dtype == torch.float32
    sig = 1 / (1 + np.exp(-(X32.numpy().T @ w32.detach().numpy())))
    close(w32.grad, X32.numpy() @ sig, rtol=1e-6)
    # the backward is closed-form code: a second derivative through it raises, never lies
    w64 = torch.tensor(rng.normal(size=3), requires_grad=True)
    (g,) = torch.autograd.grad(Fn.apply(w64, X32.double()), w64, create_graph=True)
    with pytest.raises(RuntimeError):
        g.sum().backward()


def test_several_outputs_and_unused_outputs(torch):
    A, B = mc.Matrix("A", "m", "n"), mc.Matrix("B", "n", "m")
    outs = [A @ B, mc.sum(mc.exp(A) * B.T)]
    Fn = mc.export(outs, ["A", "B"], backend="torch")
    rng = np.random.default_rng(4)
    args = _tensors(torch, [rng.normal(size=(2, 3)), rng.normal(size=(3, 2))])
    P, s = Fn.apply(*args)
    assert P.shape == (2, 2) and s.shape == ()
    refs = [reference(e, ["A", "B"]) for e in outs]
    for use in (lambda P, s: P.cos().sum() * s, lambda P, s: s * 2):  # the second leaves P unused
        loss, ref_loss = use(*Fn.apply(*args)), use(*(r(*args) for r in refs))
        for a, w in zip(torch.autograd.grad(loss, args), torch.autograd.grad(ref_loss, args)):
            close(a, w)


def _model(torch, norm):
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(6, 8), norm, torch.nn.Tanh(),
                               torch.nn.Linear(8, 1)).double()


class _Losses:
    def __init__(self, torch):
        gen = torch.Generator().manual_seed(1)
        self.x = torch.randn(32, 6, generator=gen, dtype=torch.float64)
        self.y = torch.randn(32, 1, generator=gen, dtype=torch.float64)

    def train(self, torch, model, run=None, steps=20):
        run = run or model
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        out = []
        for _ in range(steps):
            opt.zero_grad()
            loss = ((run(self.x) - self.y) ** 2).mean()
            loss.backward()
            opt.step()
            out.append(loss.item())
        return out


def _matcalc_layer_norm(torch, d):
    Y, names = layer_norm()
    LN = mc.export(Y, names, backend="torch", name="LayerNorm")

    class MatcalcLayerNorm(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = torch.nn.Parameter(torch.ones(d))
            self.bias = torch.nn.Parameter(torch.zeros(d))

        def forward(self, x):
            return LN.apply(x, self.weight, self.bias)

    return MatcalcLayerNorm()


def test_trains_inside_a_module_like_pytorchs_layer_norm(torch):
    data = _Losses(torch)
    ours = data.train(torch, _model(torch, _matcalc_layer_norm(torch, 8)))
    theirs = data.train(torch, _model(torch, torch.nn.LayerNorm(8, eps=EPS)))
    assert ours[-1] < 0.5 * ours[0]
    np.testing.assert_allclose(ours, theirs, rtol=1e-10)


def test_torch_compile_traces_the_function_in_one_graph(torch):
    data = _Losses(torch)
    eager = data.train(torch, _model(torch, _matcalc_layer_norm(torch, 8)), steps=5)
    model = _model(torch, _matcalc_layer_norm(torch, 8))
    compiled = torch.compile(model, fullgraph=True)  # fails on any graph break
    np.testing.assert_allclose(data.train(torch, model, compiled, steps=5), eager, rtol=1e-9)


@settings(max_examples=30, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(expressions(max_depth=4), SIZES, st.integers(0, 2**16))
def test_random_expressions_match_autograd(torch, e, sizes, seed):
    symbols = symbols_of(e)
    if not symbols:
        return
    names = sorted(symbols)
    dims = {d: sizes[d] for d in unbound_dims([e])}
    values = sample([e], sizes, seed)
    args = _tensors(torch, [values[n] for n in names])
    y = mc.export(e, names, backend="torch", dims=dims).apply(*args)
    y_ref = reference(e, names, dims)(*args)
    close(y.detach(), y_ref.detach())
    upstream = torch.tensor(np.random.default_rng(seed + 1).uniform(-1, 1, size=tuple(y.shape)))
    got = torch.autograd.grad(y, args, upstream, allow_unused=True)
    want = torch.autograd.grad(y_ref, args, upstream, allow_unused=True)
    for a, w, x in zip(got, want, args):
        close(a, torch.zeros_like(x) if w is None else w, rtol=1e-7)


def test_errors_name_what_is_wrong(torch):
    Y, names = dense_tanh()
    Fn = mc.export(Y, names, backend="torch")
    with pytest.raises(mc.InputError, match=r"takes 3 inputs \(W, X, b\), got 2"):
        Fn.apply(torch.ones(3, 4), torch.ones(4, 2))
    with pytest.raises(mc.DimensionBindingError, match=r"dimension k is 4 from W but 5 from X"):
        Fn.apply(torch.ones(3, 4), torch.ones(5, 2), torch.ones(3, 1))
    with pytest.raises(mc.InputError, match="name must be an identifier"):
        mc.export(Y, names, backend="torch", name="my layer")


def test_an_input_named_like_a_residual_keeps_its_name(torch):
    # the backward of s * sum(r0) by r0 is G s ones(n, m): s is a residual, and the input r0
    # is handed over only for its shape (n, m); the residual must not take the name r0
    r0, s = mc.Matrix("r0", "n", "m"), mc.Scalar("s")
    Fn = mc.export(s * mc.sum(r0), ["r0", "s"], backend="torch")
    x = torch.ones(2, 3, dtype=torch.float64, requires_grad=True)
    Fn.apply(x, torch.tensor(2.5, dtype=torch.float64)).backward()
    close(x.grad, np.full((2, 3), 2.5))
