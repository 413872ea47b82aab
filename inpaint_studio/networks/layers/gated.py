"""Gated convolution (DeepFill v2): one conv with 2·C outputs split into features and a soft gate,
output = act(features) · sigmoid(gate). The final 3-channel convs of each stage are plain (no gate,
no activation).

Padding is a per-network setting because the two published DeepFill v2 weight sets were trained with
different conventions:
- "symmetric": PyTorch style, dilation·(k−1)/2 zeros on every side (the fine-tuned PyTorch weights);
- "tf_same": TensorFlow 'SAME', computed from the input size; for a stride-2 conv on an even size the
  extra row/column goes at the bottom/right (the converted official TF weights).
For stride 1 and odd kernels the two coincide.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

PADDINGS = ("symmetric", "tf_same")


def tf_same_pad(x: torch.Tensor, kernel: int, stride: int, dilation: int = 1) -> torch.Tensor:
    """Zero-pad like TF 'SAME': output = ceil(input / stride); odd totals put the extra pixel last."""
    h, w = x.shape[-2:]
    eff = (kernel - 1) * dilation + 1

    def total(n: int) -> int:
        return max((math.ceil(n / stride) - 1) * stride + eff - n, 0)

    th, tw = total(h), total(w)
    return F.pad(x, (tw // 2, tw - tw // 2, th // 2, th - th // 2))


def _activation(name: str | None) -> nn.Module:
    if name is None or name == "none":
        return nn.Identity()
    if name == "elu":
        return nn.ELU()
    if name == "relu":
        return nn.ReLU()
    if name == "lrelu":
        return nn.LeakyReLU(0.2)
    raise ValueError(f"unknown activation {name!r}")


class GatedConv2d(nn.Module):
    """Gated conv; `gated=False` gives the plain conv used for the final RGB layers (key `conv.weight`)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        stride: int = 1,
        dilation: int = 1,
        *,
        padding: str = "symmetric",
        activation: str | None = "elu",
        gated: bool = True,
    ) -> None:
        super().__init__()
        if padding not in PADDINGS:
            raise ValueError(f"padding must be one of {PADDINGS}, not {padding!r}")
        self.out_channels = out_channels
        self.kernel_size, self.stride, self.dilation = kernel_size, stride, dilation
        self.padding_mode = padding
        self.gated = gated
        pad = dilation * (kernel_size - 1) // 2 if padding == "symmetric" else 0
        self.conv = nn.Conv2d(
            in_channels, out_channels * 2 if gated else out_channels, kernel_size, stride, pad, dilation
        )
        self.act = _activation(activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.padding_mode == "tf_same":
            x = tf_same_pad(x, self.kernel_size, self.stride, self.dilation)
        x = self.conv(x)
        if not self.gated:
            return self.act(x)
        feat, gate = x.chunk(2, dim=1)
        return self.act(feat) * torch.sigmoid(gate)


class GatedUpsample(nn.Module):
    """Nearest-neighbour ×2 then a gated conv (keys `conv.conv.weight`, as both published layouts)."""

    def __init__(self, in_channels: int, out_channels: int, *, padding: str = "symmetric") -> None:
        super().__init__()
        self.conv = GatedConv2d(in_channels, out_channels, 3, 1, padding=padding)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.interpolate(x, scale_factor=2, mode="nearest"))
