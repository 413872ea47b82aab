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


def _mean_var(
    s1: torch.Tensor, s2: torch.Tensor, total: torch.Tensor, count: torch.Tensor | float, eps: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean s1/(total+ε) and variance Σ(y − mean)²/(total+ε), from s1 = Σy and s2 = Σy² with `count`
    terms in the sum (the square expanded: two reductions instead of several full-size passes). For a
    weighted variance pass s1 = Σw·x, s2 = Σw·x² and count = Σw."""
    mean = s1 / (total + eps)
    var = (s2 - 2.0 * mean * s1 + count * mean * mean) / (total + eps)
    return mean, var.clamp_min(0.0)


def _region_stats(
    s1: torch.Tensor, s2w: torch.Tensor, total: torch.Tensor, eps: float
) -> tuple[torch.Tensor, torch.Tensor]:
    # Weighted: Σw(x − μ)² = Σw·x² − 2μΣw·x + μ²Σw, so `count` is the weight total itself.
    return _mean_var(s1, s2w, total, total, eps)


def masked_mean_std(
    x: torch.Tensor, weight: torch.Tensor, eps: float = 1e-5
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-sample, per-channel mean and std of `x` (N×C×H×W) weighted by `weight` (N×1×H×W):
    mean = Σw·x / (Σw + ε), std = sqrt(Σw·(x − mean)² / (Σw + ε) + ε)."""
    xw = x * weight
    mean, var = _region_stats(
        xw.sum(dim=(2, 3), keepdim=True),
        (xw * x).sum(dim=(2, 3), keepdim=True),
        weight.sum(dim=(2, 3), keepdim=True),
        eps,
    )
    return mean, torch.sqrt(var + eps)


def _transfer_affine(
    x: torch.Tensor, xh: torch.Tensor, hole: torch.Tensor, eps: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """T(X, H) = X·scale + shift per sample and channel; the known region's sums are the image's minus
    the hole's, so both regions cost four reductions in all."""
    dims = (2, 3)
    hole_total = hole.sum(dim=dims, keepdim=True)
    s1, s2 = x.sum(dim=dims, keepdim=True), (x * x).sum(dim=dims, keepdim=True)
    h1, h2 = xh.sum(dim=dims, keepdim=True), (xh * x).sum(dim=dims, keepdim=True)
    hole_mean, hole_var = _region_stats(h1, h2, hole_total, eps)
    known_mean, known_var = _region_stats(s1 - h1, s2 - h2, hole.shape[2] * hole.shape[3] - hole_total, eps)
    scale = torch.sqrt(known_var + eps) / torch.sqrt(hole_var + eps)
    return scale, known_mean - hole_mean * scale


def context_transfer(x: torch.Tensor, hole: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """T(X, H): hole features re-normalised to the known region's per-channel mean and std."""
    scale, shift = _transfer_affine(x, x * hole, hole, eps)
    return x * scale + shift


def _reproduction_transfer(x: torch.Tensor, xh: torch.Tensor, m: torch.Tensor, eps: float) -> torch.Tensor:
    """T as the reproduction computes it: hole (p = x·m) and known (q = x·(1−m)) statistics both weighted
    by m, divided by m's total over the whole batch, the variance summing (y·m − mean)² over every pixel."""
    dims = (2, 3)
    total = m.sum()
    count = float(m.shape[2] * m.shape[3])
    yp = xh * m
    yq = (x - xh) * m
    p_mean, p_var = _mean_var(yp.sum(dim=dims, keepdim=True), (yp * yp).sum(dim=dims, keepdim=True), total, count, eps)
    q_mean, q_var = _mean_var(yq.sum(dim=dims, keepdim=True), (yq * yq).sum(dim=dims, keepdim=True), total, count, eps)
    scale = torch.sqrt(q_var + eps) / torch.sqrt(p_var + eps)
    return xh * scale + (q_mean - p_mean * scale)


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
        xh = x * hole
        if self.mode == "paper":
            # [β·T + (1−β)·X⊙H]⊙H + X⊙(1−H), rearranged as X + H⊙(β·T + (1−β)·X⊙H − X).
            beta = self.sqex(x)
            scale, shift = _transfer_affine(x, xh, hole, self.eps)
            return x + hole * (beta * (x * scale + shift) + (1.0 - beta) * xh - x)
        # β·T⊙m + (1−β)·X⊙m + X⊙(1−m) with β = X·gate, rearranged as X + β·(T⊙m − X⊙m).
        beta = x * self.sqex(x)
        return x + beta * (_reproduction_transfer(x, xh, hole, self.eps) * hole - xh)

    def extra_repr(self) -> str:
        return f"mode={self.mode!r}"
