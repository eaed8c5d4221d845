"""A layer norm written once in matcalc, trained inside a PyTorch model with its closed-form
backward.

    python examples/frameworks/layer_norm_torch.py     (needs: pip install '.[torch]')

mc.export turns the expression into a torch.autograd.Function: its forward saves what the
closed-form backward reads (the centred input, 1/σ, …), and its backward is the derived formula,
not a trace of the forward. The same model with PyTorch's nn.LayerNorm, from the same initial
weights, follows the same training curve.
"""

from __future__ import annotations

import sys

import torch

import matcalc as mc

EPS = 1e-5


def layer_norm_expression():
    """Each row of the B×d input normalised to mean 0 and variance 1, then scaled and shifted."""
    X, gamma, beta = mc.Matrix("X", "B", "d"), mc.Matrix("gamma", 1, "d"), mc.Matrix("beta", 1, "d")
    centred = X - mc.mean(X, axis=1)
    var = mc.mean(centred * centred, axis=1)
    return centred / mc.sqrt(var + EPS) * gamma + beta


LayerNormFunction = mc.export(layer_norm_expression(), ["X", "gamma", "beta"], backend="torch",
                              name="LayerNormFunction")


class MatcalcLayerNorm(torch.nn.Module):
    """nn.LayerNorm's parameters, matcalc's forward and backward."""

    def __init__(self, d: int):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(d))
        self.bias = torch.nn.Parameter(torch.zeros(d))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return LayerNormFunction.apply(x, self.weight, self.bias)


def model(norm: torch.nn.Module) -> torch.nn.Module:
    torch.manual_seed(0)  # the same initial weights for both models
    return torch.nn.Sequential(torch.nn.Linear(10, 32), norm, torch.nn.GELU(),
                               torch.nn.Linear(32, 1)).double()


def train(net: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, steps: int) -> list[float]:
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(net(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def main() -> int:
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(256, 10, generator=gen, dtype=torch.float64)
    y = torch.sin(x[:, :1] * 2) + x[:, 1:2] * x[:, 2:3]
    ours = train(model(MatcalcLayerNorm(32)), x, y, 200)
    theirs = train(model(torch.nn.LayerNorm(32, eps=EPS)), x, y, 200)
    print("step   matcalc layer norm   nn.LayerNorm")
    for step in (0, 50, 100, 150, 199):
        print(f"{step:4d}   {ours[step]:18.10f}   {theirs[step]:12.10f}")
    gap = max(abs(a - b) / max(abs(b), 1e-12) for a, b in zip(ours, theirs))
    print(f"largest relative difference over 200 steps: {gap:.1e}")
    backward = LayerNormFunction.sources()["backward"]
    print(f"the backward program: {backward.count(chr(10) + '    t')} lines of arithmetic on "
          f"the residuals; it recomputes no mean or square root: "
          f"{'torch.mean(' not in backward and 'torch.sqrt(' not in backward}")
    if ours[-1] > 0.5 * ours[0] or gap > 1e-8:
        print("the matcalc layer does not train like nn.LayerNorm", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
