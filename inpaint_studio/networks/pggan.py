"""PGGAN (Demir & Ünal 2018, "Patch-Based Image Inpainting with Generative Adversarial Networks"): a
ResNet-style generator whose residual blocks use dilated convolutions, trained against one discriminator
whose shared layers split into a PatchGAN head (a score per patch) and a global head (one score).

No public weights exist, so the layout is ours, built from the paper's description: where the paper leaves
a detail open we chose the common one (instance norm, reflection padding, additive long skips from the
encoder to the decoder, LeakyReLU 0.2 in the discriminator).

Conventions (see `engine/methods/pggan.py`): generator input `[x·(1−m), m]` with RGB x in [−1, 1] and m the
hole (1 = hole) → RGB in [−1, 1] (tanh), at any size (padded to a multiple of 4 inside and cropped back).
Discriminator input RGB in [−1, 1] → (patch logits N×1×h×w, global logit N×1).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from inpaint_studio.networks.layers.examples import example_hole
from inpaint_studio.networks.registry import register_network

PGGAN_MULTIPLE = 4  # two stride-2 levels
SIZE_MULTIPLE = PGGAN_MULTIPLE  # what the engine pads an image to
MIN_SIDE = 32  # smaller inputs are padded up to this inside the generator (and cropped back)


NORMS = ("instance", "none")


def _norm(c: int, kind: str = "instance") -> nn.Module:
    # Identity keeps the Sequential indices, so both variants share key names.
    return nn.InstanceNorm2d(c, affine=True) if kind == "instance" else nn.Identity()


class DilatedResBlock(nn.Module):
    """Reflection-padded dilated 3×3 conv → IN → ReLU → 3×3 conv → IN, added to the input."""

    def __init__(self, channels: int, dilation: int, norm: str = "instance") -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(dilation), nn.Conv2d(channels, channels, 3, dilation=dilation), _norm(channels, norm),
            nn.ReLU(True), nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3), _norm(channels, norm),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


def _conv(cin: int, cout: int, k: int, stride: int = 1, norm: str = "instance") -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride, k // 2 if stride == 1 else 1, padding_mode="reflect"),
                         _norm(cout, norm), nn.ReLU(True))


UPSAMPLING = ("transpose", "resize")


class ResizeConv(nn.Module):
    """Bilinear ×2 then a reflection-padded 3×3 conv: every output pixel gets the same kernel overlap, so no
    transposed-convolution checkerboard (our small variant trained one that never faded)."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1, padding_mode="reflect")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False))


def _up(cin: int, cout: int, kind: str, norm: str = "instance") -> nn.Sequential:
    # The layer sits at index 0 either way, so the norms' keys (and a seed run's other weights) line up.
    layer = ResizeConv(cin, cout) if kind == "resize" else nn.ConvTranspose2d(cin, cout, 4, 2, 1)
    return nn.Sequential(layer, _norm(cout, norm), nn.ReLU(True))


class PGGANGenerator(nn.Module):
    """7×7 conv → two 4×4 stride-2 convs → `num_blocks` dilated residual blocks (dilations cycling through
    `dilations`) → two transposed convs, each added to the encoder level of its size → 7×7 conv → tanh.
    `upsample="resize"` (our small variant's choice, recorded in its checkpoint) replaces the transposed convs
    by bilinear ×2 + 3×3 conv (`ResizeConv`). `norm="none"` drops instance norm: it normalises each map over
    the whole photo, hole included, so the absolute colour of a fill has to be rebuilt from what survives — our
    small variant painted holes in shifted colours (green rims, a smooth gradient filled worse than grey)."""

    def __init__(
        self, cnum: int = 64, num_blocks: int = 6, dilations: tuple[int, ...] = (2, 4), upsample: str = "transpose",
        norm: str = "instance",
    ) -> None:
        super().__init__()
        if upsample not in UPSAMPLING:
            raise ValueError(f"upsample must be one of {UPSAMPLING}, not {upsample!r}")
        if norm not in NORMS:
            raise ValueError(f"norm must be one of {NORMS}, not {norm!r}")
        c = cnum
        self.enc1 = _conv(4, c, 7, norm=norm)
        self.enc2 = _conv(c, 2 * c, 4, 2, norm=norm)
        self.enc3 = _conv(2 * c, 4 * c, 4, 2, norm=norm)
        self.blocks = nn.Sequential(
            *(DilatedResBlock(4 * c, dilations[i % len(dilations)], norm) for i in range(num_blocks))
        )
        self.dec3 = _up(4 * c, 2 * c, upsample, norm)
        self.dec2 = _up(2 * c, c, upsample, norm)
        self.to_rgb = nn.Conv2d(c, 3, 7, padding=3, padding_mode="reflect")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        # A multiple of 4, and at least MIN_SIDE: the dilated blocks' reflection padding needs a quarter-size map
        # wider than the largest dilation (a few-pixel photo is otherwise an error deep inside torch).
        ph, pw = max(-h % PGGAN_MULTIPLE, MIN_SIDE - h), max(-w % PGGAN_MULTIPLE, MIN_SIDE - w)
        if ph or pw:
            x = F.pad(x, (0, pw, 0, ph), mode="replicate")
        e1 = self.enc1(x)
        e2 = self.enc2(e1)
        y = self.blocks(self.enc3(e2))
        y = self.dec2(self.dec3(y) + e2) + e1
        return torch.tanh(self.to_rgb(y))[..., :h, :w]

    def example_inputs(self, h: int, w: int, batch: int = 1) -> tuple[torch.Tensor]:
        image = torch.rand(batch, 3, h, w) * 2 - 1
        return (generator_input(image, example_hole(batch, h, w)),)

    def output_shapes(self, h: int, w: int, batch: int = 1) -> list[tuple[int, ...]]:
        return [(batch, 3, h, w)]


def _d_conv(cin: int, cout: int, stride: int, norm: bool = True) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Conv2d(cin, cout, 4, stride, 1)]
    if norm:
        layers.append(nn.InstanceNorm2d(cout, affine=True))
    layers.append(nn.LeakyReLU(0.2, True))
    return nn.Sequential(*layers)


class PGGANDiscriminator(nn.Module):
    """Shared 4×4 stride-2 convs (c, 2c, 4c) → PatchGAN head (stride-1 conv 8c, conv to 1: a 70×70-style
    patch map) ‖ global head (two more stride-2 convs without norm, so that tiny crops work; global average; linear to 1)."""

    def __init__(self, cnum: int = 64) -> None:
        super().__init__()
        c = cnum
        self.shared = nn.Sequential(_d_conv(3, c, 2, norm=False), _d_conv(c, 2 * c, 2), _d_conv(2 * c, 4 * c, 2))
        self.patch = nn.Sequential(_d_conv(4 * c, 8 * c, 1), nn.Conv2d(8 * c, 1, 4, 1, 1))
        self.global_convs = nn.Sequential(
            _d_conv(4 * c, 8 * c, 2, norm=False), _d_conv(8 * c, 8 * c, 2, norm=False)
        )
        self.global_linear = nn.Linear(8 * c, 1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        f = self.shared(x)
        g = self.global_convs(f).mean(dim=(2, 3))
        return self.patch(f), self.global_linear(g)

    def example_inputs(self, h: int, w: int, batch: int = 1) -> tuple[torch.Tensor]:
        return (torch.rand(batch, 3, h, w) * 2 - 1,)

    def output_shapes(self, h: int, w: int, batch: int = 1) -> list[tuple[int, ...]]:
        for _ in range(3):  # 4×4, stride 2, padding 1
            h, w = (h - 2) // 2 + 1, (w - 2) // 2 + 1
        return [(batch, 1, h - 2, w - 2), (batch, 1)]  # two stride-1 4×4 convs each take one row and column


def generator_input(image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """`[x·(1−m), m]` with x in [−1, 1]."""
    return torch.cat([image * (1 - mask), mask], dim=1)


# --- configs -----------------------------------------------------------------------------------------

GENERATOR_CONFIG: dict[str, Any] = {"cnum": 64, "num_blocks": 6}
DISCRIMINATOR_CONFIG: dict[str, Any] = {"cnum": 64}
# name → (generator config, discriminator config): the paper's width, and a CPU-sized variant.
CONFIGS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "paper": (GENERATOR_CONFIG, DISCRIMINATOR_CONFIG),
    "small": ({"cnum": 16, "num_blocks": 4}, {"cnum": 16}),
}


# --- registered constructors -------------------------------------------------------------------------


@register_network
def pggan_generator(**kw: Any) -> PGGANGenerator:
    return PGGANGenerator(**{**GENERATOR_CONFIG, **kw})


@register_network
def pggan_discriminator(**kw: Any) -> PGGANDiscriminator:
    return PGGANDiscriminator(**{**DISCRIMINATOR_CONFIG, **kw})
