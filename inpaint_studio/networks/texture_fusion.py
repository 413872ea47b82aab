"""Texture fusion: a learned fill's colour, PatchMatch's texture (our own design; no paper or published weights).

A learned fill trained with L1 on a CPU is accurate but smooth (detail ~0.15 of the photo's); PatchMatch copies
real texture from the photo but sometimes the wrong colour. This small network mixes them per pixel:

    out = w · learned + (1 − w) · blur(patchmatch, low_sigma) + correction + detail · (patchmatch − blur(patchmatch, detail_sigma))

`w` (a sigmoid) and the small `correction` come from a few convolutions over both fills and the mask;
PatchMatch's finest detail (the band under `detail_sigma`) is added unchanged, because an L1-trained network
would learn to remove it (texture that does not match the truth pixel for pixel costs L1). At step 0 `w` is
`start_weight` everywhere and the correction zero: the blend `start_weight` tuned by hand.

Inputs and output in [0, 1]: learned, patchmatch B×3×H×W, mask B×1×H×W with 1 = hole; pixels outside the hole
come back as `learned`'s. Fully convolutional: any size.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from inpaint_studio.networks.registry import register_network


def gaussian_kernel(sigma: float) -> torch.Tensor:
    """1-D normalised Gaussian taps (radius 3σ, at least 1)."""
    radius = max(1, math.ceil(3.0 * sigma))
    x = torch.arange(-radius, radius + 1, dtype=torch.float32)
    k = torch.exp(-(x * x) / (2.0 * sigma * sigma))
    return k / k.sum()


def gaussian_blur(x: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """Separable blur of every channel; borders replicated (so a blur of the photo's edge keeps its colour)."""
    c, r = x.shape[1], (kernel.numel() - 1) // 2
    kh = kernel.to(x).view(1, 1, -1, 1).expand(c, 1, -1, 1)
    kw = kernel.to(x).view(1, 1, 1, -1).expand(c, 1, 1, -1)
    x = F.conv2d(F.pad(x, (0, 0, r, r), mode="replicate"), kh, groups=c)
    return F.conv2d(F.pad(x, (r, r, 0, 0), mode="replicate"), kw, groups=c)


class TextureFusion(nn.Module):
    def __init__(self, channels: int = 16, low_sigma: float = 2.0, detail_sigma: float = 0.7,
                 detail: float = 1.0, start_weight: float = 0.6, dilations: tuple[int, ...] = (1, 2, 4, 8, 1)) -> None:
        super().__init__()
        if not 0.0 < start_weight < 1.0:
            raise ValueError(f"start_weight must lie in (0, 1), not {start_weight}")
        self.detail = float(detail)
        # the blur kernels are fixed, not learned: kept out of the state dict
        self.register_buffer("low_kernel", gaussian_kernel(low_sigma), persistent=False)
        self.register_buffer("detail_kernel", gaussian_kernel(detail_sigma), persistent=False)
        layers: list[nn.Module] = []
        width = 3 + 3 + 3 + 1  # learned, PatchMatch's low band, their difference, mask
        for d in dilations:
            layers += [nn.Conv2d(width, channels, 3, padding=d, dilation=d), nn.LeakyReLU(0.2)]
            width = channels
        self.body = nn.Sequential(*layers)
        self.head = nn.Conv2d(channels, 1 + 3, 3, padding=1)  # weight logit, colour correction
        with torch.no_grad():
            self.head.weight.zero_()
            self.head.bias.zero_()
            self.head.bias[0] = math.log(start_weight / (1.0 - start_weight))

    def forward(self, learned: torch.Tensor, patchmatch: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        low = gaussian_blur(patchmatch, self.low_kernel)
        fine = patchmatch - gaussian_blur(patchmatch, self.detail_kernel)
        x = torch.cat([learned, low, learned - low, mask], dim=1) * 2.0 - 1.0
        head = self.head(self.body(x))
        w = torch.sigmoid(head[:, :1])
        out = w * learned + (1.0 - w) * low + 0.1 * head[:, 1:] + self.detail * fine
        return (out * mask + learned * (1.0 - mask)).clamp(0.0, 1.0)

    def example_inputs(self, h: int, w: int, batch: int = 1) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        from inpaint_studio.networks.layers.examples import example_hole

        g = torch.Generator().manual_seed(0)
        learned = torch.rand(batch, 3, h, w, generator=g)
        return learned, torch.rand(batch, 3, h, w, generator=g), example_hole(batch, h, w)

    def output_shapes(self, h: int, w: int, batch: int = 1) -> list[tuple[int, ...]]:
        return [(batch, 3, h, w)]


@register_network
def texture_fusion(channels: int = 16, low_sigma: float = 2.0, detail_sigma: float = 0.7, detail: float = 1.0,
                   start_weight: float = 0.6) -> TextureFusion:
    return TextureFusion(channels, low_sigma, detail_sigma, detail, start_weight)
