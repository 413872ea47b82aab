"""EdgeConnect (Nazeri et al. 2019): an edge generator that completes the edge map inside the hole and an
inpainting generator that fills the hole guided by those edges, each with a 70×70-style patch
discriminator.

Module and key names follow the published checkpoints (`EdgeModel_gen.pth`, `InpaintingModel_gen.pth`,
`*_dis.pth`; every key and shape in `reference/checkpoints/edgeconnect.json`). Spectral norm uses the
legacy hook (`weight_orig`, `weight_u`, `weight_v`) because that is what the published files store.

Conventions (see `engine/methods/edgeconnect.py`): images in [0, 1], mask 1 = hole; edge generator input
`[grey·(1−m)+m, edges·(1−m), m]` → sigmoid edge probability; inpaint generator input `[img·(1−m)+m, edges]`
→ (tanh + 1) / 2. Sizes must be multiples of 4 (`EDGECONNECT_MULTIPLE`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from inpaint_studio.networks.layers.examples import example_hole
from inpaint_studio.networks.layers.spectral import legacy_spectral_norm
from inpaint_studio.networks.registry import register_network

EDGECONNECT_MULTIPLE = 4  # two stride-2 convolutions


# --- blocks ------------------------------------------------------------------------------------------


def _sn(module: nn.Module, enabled: bool) -> nn.Module:
    return legacy_spectral_norm(module) if enabled else module


class ResnetBlock(nn.Module):
    """Reflection-padded dilated 3×3 conv → IN → ReLU → 3×3 conv → IN, added to the input (no final ReLU).

    `conv_block` indices 1 and 5 are the convolutions, as in the published keys."""

    def __init__(
        self, channels: int, dilation: int = 2, use_spectral_norm: bool = False, norm: str = "instance"
    ) -> None:
        super().__init__()
        bias = not use_spectral_norm  # the published SN blocks have no bias

        def _norm() -> nn.Module:
            return nn.Identity() if norm == "none" else nn.InstanceNorm2d(channels, track_running_stats=False)

        self.conv_block = nn.Sequential(
            nn.ReflectionPad2d(dilation),
            _sn(nn.Conv2d(channels, channels, 3, dilation=dilation, bias=bias), use_spectral_norm),
            _norm(),
            nn.ReLU(True),
            nn.ReflectionPad2d(1),
            _sn(nn.Conv2d(channels, channels, 3, bias=bias), use_spectral_norm),
            _norm(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv_block(x)


UPSAMPLING = ("transpose", "resize")  # the published decoder | nearest ×2 + conv (our small variants)
NORMS = ("instance", "none")  # the published layers | none (our small variants: see EdgeConnectGenerator)


class ResizeConv(nn.Module):
    """Nearest ×2 then a reflection-padded 3×3 conv (Odena et al. 2016): unlike a 4×4 stride-2 transposed conv,
    every output pixel gets the same number of kernel taps, so no 2- or 4-pixel checkerboard can form."""

    def __init__(self, cin: int, cout: int, use_spectral_norm: bool) -> None:
        super().__init__()
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.pad = nn.ReflectionPad2d(1)
        self.conv = _sn(nn.Conv2d(cin, cout, 3), use_spectral_norm)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(self.pad(self.up(x)))


def _upsample(kind: str, cin: int, cout: int, sn: bool) -> nn.Module:
    if kind == "resize":
        return ResizeConv(cin, cout, sn)
    return _sn(nn.ConvTranspose2d(cin, cout, 4, stride=2, padding=1), sn)


# --- networks ----------------------------------------------------------------------------------------


class EdgeConnectGenerator(nn.Module):
    """7×7 conv → two 4×4 stride-2 convs → residual blocks → two 4×4 stride-2 transposed convs → 7×7 conv.

    `base_channels` (64) and `num_blocks` (8) are the width/depth knobs; the published sizes are the
    defaults. The final 7×7 conv never has spectral norm. `upsample="resize"` replaces the two transposed convs
    by nearest ×2 + 3×3 conv (`ResizeConv`, against checkerboards; our small variants only: the published
    weights are transposed convs). `norm="none"` drops the (affine-free) instance norms: they remove each map's
    mean over the whole photo, so a photo and the same photo made brighter give the same output and the colour
    of a fill must be rebuilt from the hole's outline — what a small network trained on a CPU never learns.
    Neither norm has parameters, so both variants share every key."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        base_channels: int = 64,
        num_blocks: int = 8,
        use_spectral_norm: bool = False,
        dilation: int = 2,
        upsample: str = "transpose",
        norm_kind: str = "instance",
    ) -> None:
        super().__init__()
        if upsample not in UPSAMPLING:
            raise ValueError(f"upsample must be one of {UPSAMPLING}, not {upsample!r}")
        if norm_kind not in NORMS:
            raise ValueError(f"norm must be one of {NORMS}, not {norm_kind!r}")
        c1, c2, c4 = base_channels, base_channels * 2, base_channels * 4
        sn = use_spectral_norm

        def norm(c: int) -> nn.Module:
            if norm_kind == "none":
                return nn.Identity()
            return nn.InstanceNorm2d(c, track_running_stats=False)

        self.encoder = nn.Sequential(
            nn.ReflectionPad2d(3),
            _sn(nn.Conv2d(in_channels, c1, 7), sn),
            norm(c1),
            nn.ReLU(True),
            _sn(nn.Conv2d(c1, c2, 4, stride=2, padding=1), sn),
            norm(c2),
            nn.ReLU(True),
            _sn(nn.Conv2d(c2, c4, 4, stride=2, padding=1), sn),
            norm(c4),
            nn.ReLU(True),
        )
        self.middle = nn.Sequential(*(ResnetBlock(c4, dilation, sn, norm_kind) for _ in range(num_blocks)))
        self.decoder = nn.Sequential(
            _upsample(upsample, c4, c2, sn),
            norm(c2),
            nn.ReLU(True),
            _upsample(upsample, c2, c1, sn),
            norm(c1),
            nn.ReLU(True),
            nn.ReflectionPad2d(3),
            nn.Conv2d(c1, out_channels, 7),
        )
        if norm_kind == "instance":
            self._init_weights()  # without norms, N(0, 0.02) would shrink the signal layer by layer: torch's default

    def _init_weights(self, gain: float = 0.02) -> None:
        # The published training initialises convs with N(0, 0.02); it also keeps random init sane here.
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
                weight = m.weight_orig if hasattr(m, "weight_orig") else m.weight
                nn.init.normal_(weight, 0.0, gain)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.middle(self.encoder(x)))

    def output_shapes(self, h: int, w: int, batch: int = 1) -> list[tuple[int, ...]]:
        # Two floor-halving convs, two doubling transposed convs: exact for multiples of 4.
        return [(batch, self.decoder[-1].out_channels, 4 * (h // 4), 4 * (w // 4))]


class EdgeGenerator(EdgeConnectGenerator):
    """Input `[grey·(1−m)+m, edges·(1−m), m]` (N×3×H×W) → edge probability (N×1×H×W, sigmoid)."""

    def __init__(
        self, base_channels: int = 64, num_blocks: int = 8, use_spectral_norm: bool = True, upsample: str = "transpose"
    ) -> None:
        super().__init__(3, 1, base_channels, num_blocks, use_spectral_norm, upsample=upsample)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.logits(x))

    def example_inputs(self, h: int, w: int, batch: int = 1) -> tuple[torch.Tensor]:
        grey, edges, mask = torch.rand(batch, 1, h, w), (torch.rand(batch, 1, h, w) > 0.9).float(), example_hole(batch, h, w)
        return (edge_generator_input(grey, edges, mask),)


class InpaintGenerator(EdgeConnectGenerator):
    """Input `[img·(1−m)+m, edges]` (N×4×H×W, RGB in [0, 1]) → RGB in [0, 1] ((tanh + 1) / 2).

    `prefill=True` (our small variants): the input's hole holds a classical fill instead of white
    (`inpaint_generator_input(..., prefill=)`) and the output is that input plus a learned correction,
    `clamp(x_rgb + tanh(logits), 0, 1)`, whose last conv starts at zero: untrained, it returns the classical fill."""

    def __init__(
        self, base_channels: int = 64, num_blocks: int = 8, upsample: str = "transpose", prefill: bool = False,
        norm: str = "instance",
    ) -> None:
        super().__init__(4, 3, base_channels, num_blocks, use_spectral_norm=False, upsample=upsample, norm_kind=norm)
        self.prefill = bool(prefill)
        if self.prefill:
            self.reset_heads()

    def heads(self) -> list[nn.Conv2d]:
        """The last convolution: the learned correction of a prefill generator."""
        return [self.decoder[-1]]

    @torch.no_grad()
    def reset_heads(self) -> None:
        for conv in self.heads():
            conv.weight.zero_()
            if conv.bias is not None:
                conv.bias.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.prefill:
            return (x[:, :3] + torch.tanh(self.logits(x))).clamp(0.0, 1.0)
        return (torch.tanh(self.logits(x)) + 1.0) / 2.0

    def example_inputs(self, h: int, w: int, batch: int = 1) -> tuple[torch.Tensor]:
        image, edges, mask = torch.rand(batch, 3, h, w), (torch.rand(batch, 1, h, w) > 0.9).float(), example_hole(batch, h, w)
        return (inpaint_generator_input(image, edges, mask),)


class Discriminator(nn.Module):
    """70×70-style patch discriminator: 4×4 convs (stride 2, 2, 2, 1, 1), LeakyReLU 0.2, spectral norm.

    Returns (patch map, [conv1..conv5 activations]) — the activations feed the feature-matching loss.
    Edge D sees `[grey, edges]` (2 channels); inpaint D sees RGB (3). The published module also registers
    `conv1` under the alias `features`; here that alias exists only in the published key layout
    (`discriminator_to_published` / `discriminator_from_published`), so state dicts share no storage."""

    def __init__(
        self,
        in_channels: int,
        base_channels: int = 64,
        use_sigmoid: bool = True,
        use_spectral_norm: bool = True,
    ) -> None:
        super().__init__()
        self.use_sigmoid = use_sigmoid
        self.in_channels = in_channels
        c, sn, bias = base_channels, use_spectral_norm, not use_spectral_norm

        def block(cin: int, cout: int, stride: int, act: bool = True) -> nn.Sequential:
            layers: list[nn.Module] = [_sn(nn.Conv2d(cin, cout, 4, stride=stride, padding=1, bias=bias), sn)]
            if act:
                layers.append(nn.LeakyReLU(0.2, inplace=True))
            return nn.Sequential(*layers)

        self.conv1 = block(in_channels, c, 2)
        self.conv2 = block(c, c * 2, 2)
        self.conv3 = block(c * 2, c * 4, 2)
        self.conv4 = block(c * 4, c * 8, 1)
        self.conv5 = block(c * 8, 1, 1, act=False)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        features = []
        for conv in (self.conv1, self.conv2, self.conv3, self.conv4, self.conv5):
            x = conv(x)
            features.append(x)
        out = torch.sigmoid(x) if self.use_sigmoid else x
        return out, features

    def example_inputs(self, h: int, w: int, batch: int = 1) -> tuple[torch.Tensor]:
        return (torch.rand(batch, self.in_channels, h, w),)

    def output_shapes(self, h: int, w: int, batch: int = 1) -> list[tuple[int, ...]]:
        """The patch map, then the five feature maps (conv1..conv5), in the order forward returns them."""
        shapes = []
        for conv in (self.conv1, self.conv2, self.conv3, self.conv4, self.conv5):
            layer = conv[0]
            h = (h + 2 - 4) // layer.stride[0] + 1
            w = (w + 2 - 4) // layer.stride[1] + 1
            shapes.append((batch, layer.out_channels, h, w))
        return [shapes[-1], *shapes]


# --- network inputs (the published convention; shared by the engine method and the trainer) ----------

# skimage.color.rgb2gray weights (ITU-R 709): the luminance the published code and core.edges use.
LUMA = (0.2125, 0.7154, 0.0721)


def to_grey(image: torch.Tensor) -> torch.Tensor:
    """N×3×H×W RGB in [0, 1] → N×1×H×W luminance."""
    luma = torch.tensor(LUMA, device=image.device, dtype=image.dtype).view(1, 3, 1, 1)
    return (image * luma).sum(dim=1, keepdim=True)


def edge_generator_input(grey: torch.Tensor, edges: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """`[grey·(1−m)+m, edges·(1−m), m]`: the hole is white in grey and empty in the edge map."""
    return torch.cat([grey * (1 - mask) + mask, edges * (1 - mask), mask], dim=1)


def inpaint_generator_input(
    image: torch.Tensor, edges: torch.Tensor, mask: torch.Tensor, prefill: torch.Tensor | None = None
) -> torch.Tensor:
    """`[img·(1−m)+m, edges]`; `edges` is the full guide (completed edges in the hole, known outside). A prefill
    generator gets `[img·(1−m)+prefill·m, edges]` (the classical fill in the hole instead of white)."""
    hole = mask if prefill is None else prefill * mask
    return torch.cat([image * (1 - mask) + hole, edges], dim=1)


# --- checkpoint filters (pure key remapping) ---------------------------------------------------------

_ALIAS = "features."  # published discriminators store conv1 a second time under this name


def discriminator_from_published(state: Mapping[str, Any]) -> dict[str, Any]:
    """Published discriminator state dict → ours: drop the `features.*` duplicate of `conv1.*`."""
    return {k: v for k, v in state.items() if not k.startswith(_ALIAS)}


def discriminator_to_published(state: Mapping[str, Any]) -> dict[str, Any]:
    """Ours → the published layout (adds the `features.*` alias of `conv1.*`, in the published order)."""
    conv1 = {k: v for k, v in state.items() if k.startswith("conv1.")}
    rest = {k: v for k, v in state.items() if not k.startswith("conv1.")}
    out = dict(conv1)
    out.update({_ALIAS + k[len("conv1.") :]: v for k, v in conv1.items()})
    out.update(rest)
    return out


def generator_from_published(state: Mapping[str, Any]) -> dict[str, Any]:
    """Published generator state dicts already use our keys; kept for symmetry with the discriminators."""
    return dict(state)


def looks_like_edge_generator(state: Mapping[str, Any]) -> bool:
    """EdgeModel_gen: spectral-norm keys and a 3-channel first conv (grey, edges, mask)."""
    w = state.get("encoder.1.weight_orig")
    return w is not None and tuple(w.shape[1:2]) == (3,) and "decoder.7.weight" in state


def looks_like_inpaint_generator(state: Mapping[str, Any]) -> bool:
    """InpaintingModel_gen: plain keys and a 4-channel first conv (RGB, edges)."""
    w = state.get("encoder.1.weight")
    return w is not None and tuple(w.shape[1:2]) == (4,) and "decoder.7.weight" in state


def discriminator_in_channels(state: Mapping[str, Any]) -> int | None:
    """2 for the edge discriminator, 3 for the inpainting one, None if `state` is neither."""
    w = state.get("conv1.0.weight_orig")
    if w is None or "conv5.0.weight_orig" not in state:
        return None
    return int(w.shape[1])


# --- configs -----------------------------------------------------------------------------------------

EDGE_GENERATOR_CONFIG: dict[str, Any] = {"base_channels": 64, "num_blocks": 8, "use_spectral_norm": True}
INPAINT_GENERATOR_CONFIG: dict[str, Any] = {"base_channels": 64, "num_blocks": 8}
SIZE_MULTIPLE = EDGECONNECT_MULTIPLE  # what an image is padded to
# The residual blocks at 1/4 size reflect-pad by 2 (and instance norm needs more than one pixel): ≥ 3 px
# there, 12 at full size; 16 leaves a margin. Smaller photos (a 1×1 one too) are padded up to it.
MIN_SIDE = 16

DISCRIMINATOR_CONFIG: dict[str, Any] = {"base_channels": 64, "use_sigmoid": True, "use_spectral_norm": True}

# The published files' components as the importer records them (each file holds one of them).
PUBLISHED: dict[str, dict[str, dict[str, Any]]] = {
    "published": {
        "edge_generator": {"network": "edgeconnect_edge_generator", "config": EDGE_GENERATOR_CONFIG},
        "inpaint_generator": {"network": "edgeconnect_inpaint_generator", "config": INPAINT_GENERATOR_CONFIG},
        "edge_discriminator": {"network": "edgeconnect_edge_discriminator", "config": DISCRIMINATOR_CONFIG},
        "inpaint_discriminator": {"network": "edgeconnect_inpaint_discriminator", "config": DISCRIMINATOR_CONFIG},
    }
}


# --- registered constructors -------------------------------------------------------------------------


@register_network
def edgeconnect_edge_generator(**kw: Any) -> EdgeGenerator:
    return EdgeGenerator(**{**EDGE_GENERATOR_CONFIG, **kw})


@register_network
def edgeconnect_inpaint_generator(**kw: Any) -> InpaintGenerator:
    return InpaintGenerator(**{**INPAINT_GENERATOR_CONFIG, **kw})


@register_network
def edgeconnect_edge_discriminator(**kw: Any) -> Discriminator:
    return Discriminator(in_channels=2, **{**DISCRIMINATOR_CONFIG, **kw})


@register_network
def edgeconnect_inpaint_discriminator(**kw: Any) -> Discriminator:
    return Discriminator(in_channels=3, **{**DISCRIMINATOR_CONFIG, **kw})
