"""Texture fusion: a learned fill's colour, PatchMatch's texture (our own design; no paper or published weights).

A learned fill trained with L1 on a CPU is accurate but smooth (detail ~0.15 of the photo's); PatchMatch copies
real texture from the photo but sometimes the wrong colour. This small network mixes them per pixel:

    out = w · learned + (1 − w) · blur(patchmatch, low_sigma) + correction + detail · (patchmatch − blur(patchmatch, detail_sigma))

`w` (a sigmoid) and the small `correction` come from a few convolutions over both fills and the mask;
PatchMatch's finest detail (the band under `detail_sigma`) is added unchanged, because an L1-trained network
would learn to remove it (texture that does not match the truth pixel for pixel costs L1). At step 0 `w` is
`start_weight` everywhere and the correction zero: the blend `start_weight` tuned by hand.

With `smooth=True` a third candidate joins the mix: a smooth classical fill of the same hole (Navier–Stokes,
cheap), and the three weights come from a softmax (step 0: `start_weight` for the learned fill, the rest split
evenly). A learned fill and two classical ones whose errors differ average to a more accurate colour than any of
them (EdgeConnect's validation samples: hole L1 22.78 with two candidates, 22.23 with three).

Inputs and output in [0, 1]: learned, patchmatch (and smooth) B×3×H×W, mask B×1×H×W with 1 = hole; pixels
outside the hole come back as `learned`'s. Fully convolutional: any size.
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
                 detail: float = 1.0, start_weight: float = 0.6, dilations: tuple[int, ...] = (1, 2, 4, 8, 1),
                 smooth: bool = False) -> None:
        super().__init__()
        if not 0.0 < start_weight < 1.0:
            raise ValueError(f"start_weight must lie in (0, 1), not {start_weight}")
        self.detail = float(detail)
        self.smooth = bool(smooth)
        # the blur kernels are fixed, not learned: kept out of the state dict
        self.register_buffer("low_kernel", gaussian_kernel(low_sigma), persistent=False)
        self.register_buffer("detail_kernel", gaussian_kernel(detail_sigma), persistent=False)
        layers: list[nn.Module] = []
        # learned, PatchMatch's low band, their difference, mask (+ the smooth fill and its difference to learned)
        width = 3 + 3 + 3 + 1 + (6 if self.smooth else 0)
        for d in dilations:
            layers += [nn.Conv2d(width, channels, 3, padding=d, dilation=d), nn.LeakyReLU(0.2)]
            width = channels
        self.body = nn.Sequential(*layers)
        self.weights = 3 if self.smooth else 1  # softmax logits over three candidates, or one sigmoid logit
        self.head = nn.Conv2d(channels, self.weights + 3, 3, padding=1)  # weight logit(s), colour correction
        with torch.no_grad():
            self.head.weight.zero_()
            self.head.bias.zero_()
            if self.smooth:
                rest = (1.0 - start_weight) / 2.0
                self.head.bias[:3] = torch.log(torch.tensor([start_weight, rest, rest]))
            else:
                self.head.bias[0] = math.log(start_weight / (1.0 - start_weight))

    def forward(self, learned: torch.Tensor, patchmatch: torch.Tensor, mask: torch.Tensor,  # type: ignore[override]
                smooth: torch.Tensor | None = None) -> torch.Tensor:
        if self.smooth != (smooth is not None):
            raise ValueError("this fusion needs a smooth fill" if self.smooth else "this fusion takes no smooth fill")
        low = gaussian_blur(patchmatch, self.low_kernel)
        fine = patchmatch - gaussian_blur(patchmatch, self.detail_kernel)
        parts = [learned, low, learned - low, mask]
        if smooth is not None:
            parts += [smooth, learned - smooth]
        head = self.head(self.body(torch.cat(parts, dim=1) * 2.0 - 1.0))
        k = self.weights
        if smooth is not None:
            w = torch.softmax(head[:, :k], dim=1)
            base = w[:, :1] * learned + w[:, 1:2] * low + w[:, 2:3] * smooth
        else:
            w = torch.sigmoid(head[:, :1])
            base = w * learned + (1.0 - w) * low
        out = base + 0.1 * head[:, k:] + self.detail * fine
        return (out * mask + learned * (1.0 - mask)).clamp(0.0, 1.0)

    def example_inputs(self, h: int, w: int, batch: int = 1) -> tuple[torch.Tensor, ...]:
        from inpaint_studio.networks.layers.examples import example_hole

        g = torch.Generator().manual_seed(0)
        learned = torch.rand(batch, 3, h, w, generator=g)
        inputs = (learned, torch.rand(batch, 3, h, w, generator=g), example_hole(batch, h, w))
        return (*inputs, torch.rand(batch, 3, h, w, generator=g)) if self.smooth else inputs

    def output_shapes(self, h: int, w: int, batch: int = 1) -> list[tuple[int, ...]]:
        return [(batch, 3, h, w)]


@register_network
def texture_fusion(channels: int = 16, low_sigma: float = 2.0, detail_sigma: float = 0.7, detail: float = 1.0,
                   start_weight: float = 0.6, smooth: bool = False) -> TextureFusion:
    return TextureFusion(channels, low_sigma, detail_sigma, detail, start_weight, smooth=smooth)
