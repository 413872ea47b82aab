"""DeepFill v1 (Yu et al. 2018, "Generative Image Inpainting with Contextual Attention"): a coarse network
and a two-branch refinement network (dilated convs ‖ contextual attention), plain convolutions with ELU;
WGAN-GP global and local critics.

Input convention (what `example_inputs` returns and `forward` takes):
- generator: `forward(image, mask) -> (coarse, fine)`; image B×3×H×W in [−1, 1] (hole content ignored),
  mask B×1×H×W with 1 = hole. The coarse net sees `[img·(1−m), ones, m]`, the refinement net
  `[coarse·m + img·(1−m), ones, m]`; both outputs are clipped to [−1, 1] (no tanh), as published. Any
  H×W runs (outputs are cropped back); the published weights expect multiples of 8.
- critics: `forward(x)` with x = B×3×S×S in [−1, 1] (S = `size`: 128 local patch, 256 whole image) → B×1.

Module and parameter names are those of the common PyTorch port's generator file (`coarse_generator.*`,
`fine_generator.*`, 3,601,542 parameters at cnum 32) and its critic file (`dis_conv_module.*`, `linear.*`),
so imports are a pure key match. The contextual attention is the shared layer (`layers/attention.py`) with
the published conventions by default (`attention_mask`, `attention_norm`).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from inpaint_studio.networks.deepfill_v2 import PUBLISHED_ATTENTION, attention_mask_like
from inpaint_studio.networks.layers.attention import ContextualAttention
from inpaint_studio.networks.layers.examples import example_hole
from inpaint_studio.networks.registry import register_network


class Conv(nn.Module):
    """Conv2d (key `conv.*`) with PyTorch-style symmetric zero padding, then ELU (or ReLU / nothing)."""

    def __init__(
        self, cin: int, cout: int, k: int = 3, stride: int = 1, rate: int = 1, activation: str | None = "elu"
    ) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, stride, padding=rate * (k - 1) // 2, dilation=rate)
        self.act: nn.Module = {"elu": nn.ELU(), "relu": nn.ReLU(), None: nn.Identity()}[activation]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.conv(x))


def _up(x: torch.Tensor) -> torch.Tensor:
    return F.interpolate(x, scale_factor=2, mode="nearest")


def _dilated(self: nn.Module, c: int, first: int) -> None:
    """Four dilated 3×3 convs (rates 2, 4, 8, 16) named conv{first}_atrous … conv{first+3}_atrous."""
    for i, rate in enumerate((2, 4, 8, 16)):
        setattr(self, f"conv{first + i}_atrous", Conv(c, c, 3, 1, rate))


class CoarseGenerator(nn.Module):
    def __init__(self, cnum: int = 32) -> None:
        super().__init__()
        c = cnum
        self.conv1 = Conv(5, c, 5)
        self.conv2_downsample = Conv(c, 2 * c, 3, 2)
        self.conv3 = Conv(2 * c, 2 * c)
        self.conv4_downsample = Conv(2 * c, 4 * c, 3, 2)
        self.conv5 = Conv(4 * c, 4 * c)
        self.conv6 = Conv(4 * c, 4 * c)
        _dilated(self, 4 * c, 7)
        self.conv11 = Conv(4 * c, 4 * c)
        self.conv12 = Conv(4 * c, 4 * c)
        self.conv13 = Conv(4 * c, 2 * c)
        self.conv14 = Conv(2 * c, 2 * c)
        self.conv15 = Conv(2 * c, c)
        self.conv16 = Conv(c, c // 2)
        self.conv17 = Conv(c // 2, 3, activation=None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for name in ("conv1", "conv2_downsample", "conv3", "conv4_downsample", "conv5", "conv6"):
            x = getattr(self, name)(x)
        for i in range(7, 11):
            x = getattr(self, f"conv{i}_atrous")(x)
        x = _up(self.conv12(self.conv11(x)))
        x = _up(self.conv14(self.conv13(x)))
        return self.conv17(self.conv16(self.conv15(x))).clamp(-1.0, 1.0)


class FineGenerator(nn.Module):
    """Two branches at 1/4 resolution: dilated convs (conv*) and contextual attention (pmconv*), merged
    (allconv*)."""

    def __init__(self, cnum: int = 32, attention_mask: str = "nearest", attention_norm: str = "eps_sum") -> None:
        super().__init__()
        c = cnum
        # dilated-conv branch
        self.conv1 = Conv(5, c, 5)
        self.conv2_downsample = Conv(c, c, 3, 2)
        self.conv3 = Conv(c, 2 * c)
        self.conv4_downsample = Conv(2 * c, 2 * c, 3, 2)
        self.conv5 = Conv(2 * c, 4 * c)
        self.conv6 = Conv(4 * c, 4 * c)
        _dilated(self, 4 * c, 7)
        # attention branch (ReLU before the attention, as published)
        self.pmconv1 = Conv(5, c, 5)
        self.pmconv2_downsample = Conv(c, c, 3, 2)
        self.pmconv3 = Conv(c, 2 * c)
        self.pmconv4_downsample = Conv(2 * c, 4 * c, 3, 2)
        self.pmconv5 = Conv(4 * c, 4 * c)
        self.pmconv6 = Conv(4 * c, 4 * c, activation="relu")
        self.contextual_attention = ContextualAttention(
            ksize=3, stride=1, rate=2, fuse_k=3, softmax_scale=10.0, fuse=True,
            persistent_fuse_weight=False, mask_mode=attention_mask, norm_mode=attention_norm,
        )  # fmt: skip
        self.pmconv9 = Conv(4 * c, 4 * c)
        self.pmconv10 = Conv(4 * c, 4 * c)
        # merge
        self.allconv11 = Conv(8 * c, 4 * c)
        self.allconv12 = Conv(4 * c, 4 * c)
        self.allconv13 = Conv(4 * c, 2 * c)
        self.allconv14 = Conv(2 * c, 2 * c)
        self.allconv15 = Conv(2 * c, c)
        self.allconv16 = Conv(c, c // 2)
        self.allconv17 = Conv(c // 2, 3, activation=None)

    def forward(self, xnow: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        x = xnow
        for name in ("conv1", "conv2_downsample", "conv3", "conv4_downsample", "conv5", "conv6"):
            x = getattr(self, name)(x)
        for i in range(7, 11):
            x = getattr(self, f"conv{i}_atrous")(x)
        x_hallu = x

        x = xnow
        for name in ("pmconv1", "pmconv2_downsample", "pmconv3", "pmconv4_downsample", "pmconv5", "pmconv6"):
            x = getattr(self, name)(x)
        x = self.contextual_attention(x, x, attention_mask_like(mask, x, self.contextual_attention.mask_mode))
        x = self.pmconv10(self.pmconv9(x))

        x = self.allconv12(self.allconv11(torch.cat([x_hallu, x], dim=1)))
        x = _up(x)
        x = _up(self.allconv14(self.allconv13(x)))
        return self.allconv17(self.allconv16(self.allconv15(x))).clamp(-1.0, 1.0)


class DeepFillV1Generator(nn.Module):
    """Coarse + refinement generator (cnum 32 = the published network; smaller for CPU training)."""

    size_multiple = 8

    def __init__(self, cnum: int = 32, attention_mask: str = "nearest", attention_norm: str = "eps_sum") -> None:
        super().__init__()
        if cnum % 2 or cnum < 2:
            raise ValueError("cnum must be a positive even number")
        self.cnum = cnum
        self.coarse_generator = CoarseGenerator(cnum)
        self.fine_generator = FineGenerator(cnum, attention_mask, attention_norm)

    def forward(self, image: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h, w = image.shape[-2:]
        x_in = image * (1.0 - mask)
        ones = torch.ones_like(mask)
        x1 = self.coarse_generator(torch.cat([x_in, ones, mask], dim=1))[..., :h, :w]
        xnow = x1 * mask + x_in * (1.0 - mask)
        x2 = self.fine_generator(torch.cat([xnow, ones, mask], dim=1), mask)[..., :h, :w]
        return x1, x2

    def example_inputs(self, h: int, w: int, batch: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
        """A random image in [−1, 1] and a box hole (1 = hole)."""
        image = torch.rand(batch, 3, h, w) * 2 - 1
        return image, example_hole(batch, h, w)

    def output_shapes(self, h: int, w: int, batch: int = 1) -> list[tuple[int, ...]]:
        return [(batch, 3, h, w), (batch, 3, h, w)]


class DisConvModule(nn.Module):
    """Four 5×5 stride-2 convs (cnum·1, 2, 4, 4), LeakyReLU 0.2 (keys `convN.conv.*`)."""

    def __init__(self, cin: int = 3, cnum: int = 64) -> None:
        super().__init__()
        widths = [cnum, 2 * cnum, 4 * cnum, 4 * cnum]
        for i, cout in enumerate(widths, start=1):
            block = Conv(cin, cout, 5, 2, activation=None)
            block.act = nn.LeakyReLU(0.2)
            setattr(self, f"conv{i}", block)
            cin = cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i in range(1, 5):
            x = getattr(self, f"conv{i}")(x)
        return x


class WGANCritic(nn.Module):
    """DeepFill v1's local (128² hole patch) or global (256² image) critic: convs then one linear score.
    The linear layer fixes the input size (`size`, a multiple of 16)."""

    def __init__(self, cnum: int = 64, size: int = 128, cin: int = 3) -> None:
        super().__init__()
        if size % 16:
            raise ValueError("critic size must be a multiple of 16")
        self.size, self.cin = size, cin
        self.dis_conv_module = DisConvModule(cin, cnum)
        self.linear = nn.Linear(4 * cnum * (size // 16) ** 2, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-2:] != (self.size, self.size):
            raise ValueError(f"this critic scores {self.size}×{self.size} inputs, not {tuple(x.shape[-2:])}")
        return self.linear(self.dis_conv_module(x).flatten(1))

    def example_inputs(self, h: int, w: int, batch: int = 1) -> tuple[torch.Tensor]:
        return (torch.rand(batch, self.cin, self.size, self.size) * 2 - 1,)

    def output_shapes(self, h: int, w: int, batch: int = 1) -> list[tuple[int, ...]]:
        return [(batch, 1)]


# --- checkpoint filters (pure key remapping) -----------------------------------------------------

_PREFIXES = {"generator": "netG.", "local_critic": "localD.", "global_critic": "globalD."}


def strip_prefix(state: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    """Keys of the port's flat converted-TF file carry the Trainer's attribute name (`netG.` …): drop it."""
    return {(k[len(prefix) :] if k.startswith(prefix) else k): v for k, v in state.items()}


def split_flat(state: dict[str, torch.Tensor]) -> dict[str, dict[str, torch.Tensor]]:
    """One flat `netG.*` / `localD.*` / `globalD.*` dict → {component: state dict} (absent parts left out)."""
    out: dict[str, dict[str, torch.Tensor]] = {}
    for comp, prefix in _PREFIXES.items():
        part = {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}
        if part:
            out[comp] = part
    return out


# --- registered constructors ---------------------------------------------------------------------


@register_network
def deepfill_v1_generator(
    cnum: int = 32, attention_mask: str = "nearest", attention_norm: str = "eps_sum"
) -> DeepFillV1Generator:
    return DeepFillV1Generator(cnum=cnum, attention_mask=attention_mask, attention_norm=attention_norm)


@register_network
def deepfill_v1_critic(cnum: int = 64, size: int = 128, cin: int = 3) -> WGANCritic:
    return WGANCritic(cnum=cnum, size=size, cin=cin)


# --- published configs ---------------------------------------------------------------------------

SIZE_MULTIPLE = 8  # what an image is padded to: two stride-2 levels, then the attention's ÷2 matching grid
PUBLISHED: dict[str, dict[str, dict[str, Any]]] = {
    "published": {
        "generator": {"network": "deepfill_v1_generator", "config": {"cnum": 32, **PUBLISHED_ATTENTION}},
        "local_critic": {"network": "deepfill_v1_critic", "config": {"cnum": 64, "size": 128}},
        "global_critic": {"network": "deepfill_v1_critic", "config": {"cnum": 64, "size": 256}},
    }
}
