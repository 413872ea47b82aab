"""Spectral normalisation in the two layouts published checkpoints use.

1. `SpectralNormConv2d` (DeepFill v2 SN-PatchGAN, as the PyTorch DeepFill v2 port stores it): the raw
   weight is the parameter `weight`, the power-iteration vector is the buffer `weight_u` of shape [C_out, 1],
   and there is no `weight_v` / `weight_orig`. The forward pass divides by σ (one power iteration per
   training step, as in the TF original) without touching the stored weight.
2. The legacy `torch.nn.utils.spectral_norm` hook (EdgeConnect): `weight_orig`, `weight_u` [C_out],
   `weight_v` [C_in·k·k] and no `weight`. `legacy_spectral_norm(module)` applies it (quietly: torch marks
   the hook API deprecated, but it is the layout the published files have). Conversions between the two
   u layouts are pure reshapes (`u_column_to_vector`, `u_vector_to_column`).
"""

from __future__ import annotations

import warnings

import torch
import torch.nn.functional as F
from torch import nn


def _l2_normalize(x: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    return x / (x.norm() + eps)


class SpectralNormConv2d(nn.Conv2d):
    """nn.Conv2d whose weight is divided by its largest singular value (estimated by power iteration)."""

    def __init__(self, *args, n_power_iterations: int = 1, eps: float = 1e-12, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.n_power_iterations = n_power_iterations
        self.eps = eps
        self.register_buffer("weight_u", _l2_normalize(torch.randn(self.out_channels, 1), eps))

    def normalized_weight(self) -> torch.Tensor:
        w = self.weight.flatten(1)  # C_out × (C_in·k·k)
        with torch.no_grad():
            u = self.weight_u
            w_ = w.detach()
            v = _l2_normalize(w_.t() @ u, self.eps)
            if self.training:
                # Update u in place only while training: evaluation must not change the module's state.
                for _ in range(self.n_power_iterations):
                    u = _l2_normalize(w_ @ v, self.eps)
                    v = _l2_normalize(w_.t() @ u, self.eps)
                self.weight_u.copy_(u)
        sigma = (u.t() @ w @ v).squeeze()  # gradient flows through w, as in the usual SN formulation
        return self.weight / sigma

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._conv_forward(x, self.normalized_weight(), self.bias)


def legacy_spectral_norm(module: nn.Module, name: str = "weight", dim: int | None = None) -> nn.Module:
    """torch.nn.utils.spectral_norm (hook API): keys `weight_orig`, `weight_u`, `weight_v`."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if dim is None:
            return nn.utils.spectral_norm(module, name=name)
        return nn.utils.spectral_norm(module, name=name, dim=dim)


def u_column_to_vector(u: torch.Tensor) -> torch.Tensor:
    """[C, 1] (SpectralNormConv2d) → [C] (legacy hook)."""
    return u.reshape(-1)


def u_vector_to_column(u: torch.Tensor) -> torch.Tensor:
    """[C] (legacy hook) → [C, 1] (SpectralNormConv2d)."""
    return u.reshape(-1, 1)


def spectral_norm_estimate(weight: torch.Tensor, iterations: int = 50) -> float:
    """σ of a conv weight by many power iterations (for tests and sanity checks)."""
    w = weight.detach().flatten(1).double()
    v = F.normalize(torch.randn(w.shape[1], dtype=w.dtype), dim=0)
    for _ in range(iterations):
        u = F.normalize(w @ v, dim=0)
        v = F.normalize(w.t() @ u, dim=0)
    return float(u @ w @ v)
