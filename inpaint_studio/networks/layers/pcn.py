"""Probabilistic context normalization (PCN, VCNet — Wang et al. 2020).

    PCN(X, H) = [β·T(X, H) + (1 − β)·X⊙H]⊙H + X⊙(1 − H)

H is the (soft) hole map, 1 = hole. T(X, H) re-normalises the hole features so that their per-channel
mean/std become those of the known-region features (a "context transfer"); β comes from a
squeeze-and-excitation branch, so the network chooses per channel how much context to transfer.

Two modes share the same parameters (`sqex.linear1`, `sqex.linear2`, the published key names):

- ``"paper"`` (default): the formula above, β = sigmoid(SE(X)) in [0, 1] per channel, statistics per sample
  and channel over the hole / known region.
- ``"reproduction"``: the behaviour of the public PyTorch reproduction whose checkpoints users download
  (β = X·sigmoid(SE(X)), both statistics weighted by H and normalised by the batch's total hole area).
  Its weights were trained with that function, so they only give their published quality with it.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

PCNMode = Literal["paper", "reproduction"]
PCN_MODES: tuple[str, ...] = ("paper", "reproduction")


class SqueezeExcitation(nn.Module):
    """Global average pool → Linear(C, C/r) → ReLU → Linear(C/r, C) → sigmoid: a per-channel gate."""

    def __init__(self, channels: int, reduction: int = 16) -> None:
        super().__init__()
        hidden = max(channels // reduction, 1)
        self.linear1 = nn.Linear(channels, hidden)
        self.linear2 = nn.Linear(hidden, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = x.mean(dim=(2, 3))
        gate = torch.sigmoid(self.linear2(F.relu(self.linear1(pooled))))
        return gate[:, :, None, None]


def masked_mean_std(
    x: torch.Tensor, weight: torch.Tensor, eps: float = 1e-5
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-sample, per-channel mean and std of `x` (N×C×H×W) weighted by `weight` (N×1×H×W)."""
    total = weight.sum(dim=(2, 3), keepdim=True)
    mean = (x * weight).sum(dim=(2, 3), keepdim=True) / (total + eps)
    var = (weight * (x - mean) ** 2).sum(dim=(2, 3), keepdim=True) / (total + eps)
    return mean, torch.sqrt(var + eps)


def context_transfer(x: torch.Tensor, hole: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """T(X, H): hole features re-normalised to the known region's per-channel mean and std."""
    hole_mean, hole_std = masked_mean_std(x, hole, eps)
    known_mean, known_std = masked_mean_std(x, 1.0 - hole, eps)
    return (x - hole_mean) / hole_std * known_std + known_mean


def _reproduction_stats(x: torch.Tensor, m: torch.Tensor, eps: float) -> tuple[torch.Tensor, torch.Tensor]:
    # As the reproduction computes them: sums over the sample's pixels, divided by the mask's total over
    # the whole batch; the variance sums (x·m − mean)² over every pixel.
    total = m.sum()
    mean = (x * m).sum(dim=(2, 3), keepdim=True) / (total + eps)
    var = ((x * m - mean) ** 2).sum(dim=(2, 3), keepdim=True) / (total + eps)
    return mean, torch.sqrt(var + eps)


class PCN(nn.Module):
    """PCN(X, H); `hole` is N×1×H×W in [0, 1] at the feature resolution (1 = hole)."""

    def __init__(self, channels: int, reduction: int = 16, mode: PCNMode = "paper", eps: float = 1e-5) -> None:
        super().__init__()
        if mode not in PCN_MODES:
            raise ValueError(f"PCN mode must be one of {PCN_MODES}, not {mode!r}")
        self.mode = mode
        self.eps = eps
        self.sqex = SqueezeExcitation(channels, reduction)

    def forward(self, x: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
        if self.mode == "paper":
            beta = self.sqex(x)
            transferred = context_transfer(x, hole, self.eps)
            return (beta * transferred + (1.0 - beta) * x * hole) * hole + x * (1.0 - hole)
        beta = x * self.sqex(x)
        p_mean, p_std = _reproduction_stats(x * hole, hole, self.eps)
        q_mean, q_std = _reproduction_stats(x * (1.0 - hole), hole, self.eps)
        transferred = (x * hole - p_mean) / p_std * q_std + q_mean
        return beta * transferred * hole + (1.0 - beta) * x * hole + x * (1.0 - hole)

    def extra_repr(self) -> str:
        return f"mode={self.mode!r}"
