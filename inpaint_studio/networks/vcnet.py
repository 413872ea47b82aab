"""VCNet (Wang et al. 2020), blind inpainting: a mask prediction network (MPN) finds the contaminated
pixels, a robust inpainting network (RIN) of probabilistic-context blocks (PCN) fills them; a global and a
mask-weighted patch discriminator train them.

Module and key names follow the public PyTorch reproduction's checkpoints (`{num_step, mpn, rin, D,
patch_D, ...}`; every key and shape in `reference/checkpoints/vcnet.json`), including the BatchNorm
modules that its forward never uses (`ResBlock.n2`, `ConvBlock.n1`): they stay as modules so the keys
match. Activations are ELU as in the reproduction.

Conventions (see `engine/methods/vcnet.py`): MPN input RGB in [−1, 1] → (hole probability, 1/4-resolution
bottleneck feature). RIN input `x·(1−m̂)`, m̂, the MPN feature → tanh. How to read RIN's tanh output is a
per-network setting (`output_range`): the reproduction's weights were trained against targets in [0, 1],
ours in [−1, 1]; `RIN.to_unit_range` converts either to [0, 1]. Sizes must be multiples of 4
(`VCNET_MULTIPLE`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import nn

from inpaint_studio.networks.layers.examples import example_hole
from inpaint_studio.networks.layers.pcn import PCN, PCNMode
from inpaint_studio.networks.layers.spectral import legacy_spectral_norm
from inpaint_studio.networks.registry import register_network

VCNET_MULTIPLE = 4  # two stride-2 stages, two ×2 upsamplings
DISCRIMINATOR_SIZE = 256  # `features_to_prob` is a Linear over an 8×8 map after five stride-2 convs
OutputRange = Literal["minus_one_one", "zero_one"]


# --- blocks ------------------------------------------------------------------------------------------


class ResBlock(nn.Module):
    """conv → ELU → conv, plus the input (1×1 `projection` when the shape changes), → ELU.

    `n2` (BatchNorm) is kept only for the published keys; the reproduction's forward skips it."""

    def __init__(
        self, cin: int, cout: int, kernel: int = 3, stride: int = 1, dilation: int = 1, padding: int | None = None
    ) -> None:
        super().__init__()
        pad = dilation * (kernel // 2) if padding is None else padding
        self.projection = nn.Conv2d(cin, cout, 1, stride=stride) if cin != cout else None
        self.conv1 = nn.Conv2d(cin, cout, kernel, stride=stride, padding=pad, dilation=dilation)
        self.conv2 = nn.Conv2d(cout, cout, kernel, padding=pad, dilation=dilation)
        self.n2 = nn.BatchNorm2d(cout)

    def residual(self, x: torch.Tensor) -> torch.Tensor:
        return x if self.projection is None else self.projection(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv2(F.elu(self.conv1(x)))
        return F.elu(out + self.residual(x))


class ConvBlock(nn.Module):
    """conv → ELU; `n1` (BatchNorm) kept only for the published keys."""

    def __init__(self, cin: int, cout: int, kernel: int = 3) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, kernel, padding=kernel // 2)
        self.n1 = nn.BatchNorm2d(cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.elu(self.conv1(x))


class PCBlock(ResBlock):
    """A residual block whose second conv is followed by PCN with the hole map resized to its resolution."""

    def __init__(
        self,
        cin: int,
        cout: int,
        kernel: int = 3,
        stride: int = 1,
        dilation: int = 1,
        pcn_mode: PCNMode = "paper",
    ) -> None:
        super().__init__(cin, cout, kernel, stride, dilation)
        del self.n2  # PC blocks have no (unused) norm in the published layout
        self.pcn = PCN(cout, mode=pcn_mode)

    def forward(self, x: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        out = self.conv2(F.elu(self.conv1(x)))
        out = self.pcn(out, F.interpolate(hole, size=out.shape[2:], mode="nearest"))
        return F.elu(out + self.residual(x))


# --- networks ----------------------------------------------------------------------------------------


def _quarter(n: int) -> int:
    return -(-n // 4)  # two stride-2 convs with "same" padding: ceil(n / 4)


def _example_image(batch: int, h: int, w: int) -> torch.Tensor:
    return torch.rand(batch, 3, h, w) * 2 - 1


def _init_normal(module: nn.Module, gain: float = 0.02) -> None:
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            weight = m.weight_orig if hasattr(m, "weight_orig") else m.weight
            nn.init.normal_(weight, 0.0, gain)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


class MPN(nn.Module):
    """Mask prediction: stride-2 5×5 and 3×3 residual blocks to 1/4 resolution, dilated bottleneck blocks
    (dilations 2, 4), then residual blocks with two nearest ×2 upsamplings, a conv block and a 3×3 conv.

    forward(x in [−1, 1]) → (hole probability N×1×H×W, bottleneck feature N×2·base×H/4×W/4).
    Blocks are named rb1, rb2, …, rbK in order, then cb1 and conv1 (the published names)."""

    def __init__(self, base_channels: int = 64, bottleneck_dilations: Sequence[int] = (2, 4)) -> None:
        super().__init__()
        c = base_channels
        self.neck_channels = 2 * c
        blocks = [
            ResBlock(3, c, kernel=5, stride=2),
            ResBlock(c, 2 * c, stride=2),
            *(ResBlock(2 * c, 2 * c, dilation=d) for d in bottleneck_dilations),
        ]
        self._num_encoder = len(blocks)
        blocks += [ResBlock(2 * c, 2 * c), ResBlock(2 * c, c), ResBlock(c, c // 2)]
        for i, block in enumerate(blocks, start=1):
            self.add_module(f"rb{i}", block)
        self._blocks = [f"rb{i}" for i in range(1, len(blocks) + 1)]
        self.cb1 = ConvBlock(c // 2, c // 4)
        self.conv1 = nn.Conv2d(c // 4, 1, 3, padding=1)
        _init_normal(self)

    def features_and_neck(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The last full-resolution features (`cb1`'s output) and the bottleneck feature."""
        names = self._blocks
        out = x
        for name in names[: self._num_encoder]:
            out = getattr(self, name)(out)
        neck = out
        first, second, third = (getattr(self, n) for n in names[self._num_encoder :])
        out = first(neck)
        out = second(F.interpolate(out, scale_factor=2.0, mode="nearest"))
        out = third(F.interpolate(out, scale_factor=2.0, mode="nearest"))
        return self.cb1(out), neck

    def logits_and_neck(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features, neck = self.features_and_neck(x)
        return self.conv1(features), neck

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logits, neck = self.logits_and_neck(x)
        return torch.sigmoid(logits), neck

    def example_inputs(self, h: int, w: int, batch: int = 1) -> tuple[torch.Tensor]:
        return (_example_image(batch, h, w),)

    def output_shapes(self, h: int, w: int, batch: int = 1) -> list[tuple[int, ...]]:
        qh, qw = _quarter(h), _quarter(w)
        return [(batch, 1, 4 * qh, 4 * qw), (batch, self.neck_channels, qh, qw)]


class RIN(nn.Module):
    """Robust inpainting: PC blocks — 5×5, stride-2, 3×3, stride-2 — then blocks at 1/4 resolution with
    `middle_dilations` (published: 1, 2, 2, 4, 4, 1); the MPN feature is concatenated, then two upsampled
    stages of two PC blocks each, and a 3×3 conv to RGB with tanh.

    forward(x·(1−m̂), m̂, neck) → N×3×H×W in (−1, 1). Blocks are named pc1 … pcK (the published names)."""

    def __init__(
        self,
        base_channels: int = 32,
        neck_channels: int = 128,
        middle_dilations: Sequence[int] = (1, 2, 2, 4, 4, 1),
        pcn_mode: PCNMode = "paper",
        output_range: OutputRange = "minus_one_one",
    ) -> None:
        super().__init__()
        if output_range not in ("minus_one_one", "zero_one"):
            raise ValueError(f"output_range must be 'minus_one_one' or 'zero_one', not {output_range!r}")
        self.output_range = output_range
        self.neck_channels = neck_channels
        c = base_channels

        def pc(cin: int, cout: int, **kw: Any) -> PCBlock:
            return PCBlock(cin, cout, pcn_mode=pcn_mode, **kw)

        encoder = [
            pc(3, c, kernel=5),
            pc(c, 2 * c, stride=2),
            pc(2 * c, 2 * c),
            pc(2 * c, 4 * c, stride=2),
            *(pc(4 * c, 4 * c, dilation=d) for d in middle_dilations),
        ]
        decoder = [pc(4 * c + neck_channels, 2 * c), pc(2 * c, 2 * c), pc(2 * c, c), pc(c, c)]
        self._encoder = [f"pc{i}" for i in range(1, len(encoder) + 1)]
        self._decoder = [f"pc{i}" for i in range(len(encoder) + 1, len(encoder) + len(decoder) + 1)]
        for name, block in zip(self._encoder + self._decoder, encoder + decoder, strict=True):
            self.add_module(name, block)
        self.conv1 = nn.Conv2d(c, 3, 3, padding=1)
        _init_normal(self)

    def forward(self, x: torch.Tensor, hole: torch.Tensor, neck: torch.Tensor) -> torch.Tensor:
        out = x
        for name in self._encoder:
            out = getattr(self, name)(out, hole)
        out = torch.cat([out, neck], dim=1)
        up1, up2, up3, up4 = (getattr(self, n) for n in self._decoder)
        out = F.interpolate(out, scale_factor=2.0, mode="nearest")
        out = up2(up1(out, hole), hole)
        out = F.interpolate(out, scale_factor=2.0, mode="nearest")
        out = up4(up3(out, hole), hole)
        return torch.tanh(self.conv1(out))

    def example_inputs(self, h: int, w: int, batch: int = 1) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        hole = example_hole(batch, h, w)
        neck = torch.randn(batch, self.neck_channels, _quarter(h), _quarter(w))
        return rin_input(_example_image(batch, h, w), hole), hole, neck

    def output_shapes(self, h: int, w: int, batch: int = 1) -> list[tuple[int, ...]]:
        return [(batch, 3, 4 * _quarter(h), 4 * _quarter(w))]

    def to_unit_range(self, y: torch.Tensor) -> torch.Tensor:
        """RIN output → [0, 1] according to how these weights were trained."""
        if self.output_range == "zero_one":
            return y.clamp(0.0, 1.0)
        return ((y + 1.0) / 2.0).clamp(0.0, 1.0)

    def from_unit_range(self, target: torch.Tensor) -> torch.Tensor:
        """A [0, 1] training target → the range this RIN's output is trained against."""
        return target if self.output_range == "zero_one" else target * 2.0 - 1.0


class Discriminator(nn.Module):
    """WGAN critic: five spectral-norm 5×5 stride-2 convs (LeakyReLU 0.2) then a Linear over the flattened
    8×8 map, so the input must be `DISCRIMINATOR_SIZE`² (256² for the published widths)."""

    def __init__(self, base_channels: int = 64, input_size: int = DISCRIMINATOR_SIZE) -> None:
        super().__init__()
        c = base_channels
        widths = [3, c, 2 * c, 2 * c, 4 * c, 8 * c]
        layers: list[nn.Module] = []
        for cin, cout in zip(widths[:-1], widths[1:], strict=True):
            layers += [legacy_spectral_norm(nn.Conv2d(cin, cout, 5, stride=2, padding=2)), nn.LeakyReLU(0.2, True)]
        self.image_to_features = nn.Sequential(*layers)
        self.input_size = input_size
        side = input_size // 32
        self.features_to_prob = nn.Sequential(nn.Linear(8 * c * side * side, 1))
        _init_normal(self)

    def example_inputs(self, h: int, w: int, batch: int = 1) -> tuple[torch.Tensor]:
        """The global critic only takes `input_size`² images, whatever h and w are asked for."""
        return (torch.rand(batch, 3, self.input_size, self.input_size),)

    def output_shapes(self, h: int, w: int, batch: int = 1) -> list[tuple[int, ...]]:
        return [(batch, 1)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-2:] != (self.input_size, self.input_size):
            raise ValueError(f"VCNet discriminator needs {self.input_size}² inputs, got {tuple(x.shape[-2:])}")
        return self.features_to_prob(self.image_to_features(x).flatten(1))


class PatchDiscriminator(Discriminator):
    """Same trunk; the score is the mean of the feature map weighted by the hole mask max-pooled to its
    resolution (so only patches touching the hole are judged). `features_to_prob` exists (and is stored
    in the published file) but is unused. Any size that is a multiple of 32 works."""

    def example_inputs(self, h: int, w: int, batch: int = 1) -> tuple[torch.Tensor, torch.Tensor]:  # type: ignore[override]
        return torch.rand(batch, 3, h, w), example_hole(batch, h, w)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:  # type: ignore[override]
        features = self.image_to_features(x)
        if mask is None:
            mask = torch.ones_like(x[:, :1])
        weight = F.adaptive_max_pool2d(mask, features.shape[2:])
        weighted = (features * weight).flatten(1).sum(dim=1, keepdim=True)
        return weighted / (weight.flatten(1).sum(dim=1, keepdim=True) + 1e-8)


# --- network inputs (shared by the engine method and the trainer) ------------------------------------


def to_network_range(image: torch.Tensor) -> torch.Tensor:
    """RGB in [0, 1] → [−1, 1], what MPN and RIN take."""
    return image * 2.0 - 1.0


def rin_input(x: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
    """`x·(1−m̂)`: the suspected pixels are blanked ("embraced") before the RIN sees them."""
    return x * (1.0 - hole)


# --- checkpoint filters (pure key remapping) ---------------------------------------------------------

PUBLISHED_PARTS: dict[str, str] = {"mpn": "mpn", "rin": "rin", "D": "discriminator", "patch_D": "patch_discriminator"}


def looks_like_vcnet_file(obj: Mapping[str, Any]) -> bool:
    """The reproduction's training checkpoint: top-level `mpn` and `rin` state dicts."""
    return isinstance(obj.get("mpn"), Mapping) and isinstance(obj.get("rin"), Mapping)


def split_published(obj: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """`{num_step, mpn, rin, D, patch_D, optimizer_*}` → {component: state dict} (optimizers dropped).
    The state dicts already use our keys."""
    return {ours: dict(obj[theirs]) for theirs, ours in PUBLISHED_PARTS.items() if theirs in obj}


# --- configs -----------------------------------------------------------------------------------------

MPN_CONFIG: dict[str, Any] = {"base_channels": 64, "bottleneck_dilations": [2, 4]}
RIN_CONFIG: dict[str, Any] = {
    "base_channels": 32,
    "neck_channels": 128,
    "middle_dilations": [1, 2, 2, 4, 4, 1],
    "pcn_mode": "paper",
    "output_range": "minus_one_one",
}
DISCRIMINATOR_CONFIG: dict[str, Any] = {"base_channels": 64}
SIZE_MULTIPLE = VCNET_MULTIPLE  # what an image is padded to

# The PyTorch reproduction's components as the importer records them; its RIN must run this way to give
# the published quality.
PUBLISHED: dict[str, dict[str, dict[str, Any]]] = {
    "reproduction": {
        "mpn": {"network": "vcnet_mpn", "config": MPN_CONFIG},
        "rin": {"network": "vcnet_rin", "config": {**RIN_CONFIG, "pcn_mode": "reproduction", "output_range": "zero_one"}},
        "discriminator": {"network": "vcnet_discriminator", "config": DISCRIMINATOR_CONFIG},
        "patch_discriminator": {"network": "vcnet_patch_discriminator", "config": DISCRIMINATOR_CONFIG},
    }
}


# --- registered constructors -------------------------------------------------------------------------


@register_network
def vcnet_mpn(**kw: Any) -> MPN:
    return MPN(**{**MPN_CONFIG, **kw})


@register_network
def vcnet_rin(**kw: Any) -> RIN:
    return RIN(**{**RIN_CONFIG, **kw})


@register_network
def vcnet_discriminator(**kw: Any) -> Discriminator:
    return Discriminator(**{**DISCRIMINATOR_CONFIG, **kw})


@register_network
def vcnet_patch_discriminator(**kw: Any) -> PatchDiscriminator:
    return PatchDiscriminator(**{**DISCRIMINATOR_CONFIG, **kw})
