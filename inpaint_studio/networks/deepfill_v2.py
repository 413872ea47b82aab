"""DeepFill v2 (Yu et al. 2019, "Free-Form Image Inpainting with Gated Convolution"): gated-conv coarse
network, two-branch refinement network (dilated convs ‖ contextual attention) and the SN-PatchGAN
discriminator.

Input convention (what `example_inputs` returns and `forward` takes):
- generator: `forward(image, mask) -> (coarse, fine)`; image B×3×H×W in [−1, 1] (hole content ignored),
  mask B×1×H×W with 1 = hole. Internally the coarse net sees `[img·(1−m), ones, ones·m]` and the
  refinement net `coarse·m + img·(1−m)`, as published. Outputs are raw tanh images (not composited).
  Any H×W runs (outputs are cropped back); the published weights expect multiples of 8.
- discriminator: `forward(x)` with x = B×4×H×W `[rgb in [−1, 1], mask]` → B×(256·⌈H/64⌉·⌈W/64⌉) scores.

The contextual attention's conventions (`attention_mask`, `attention_norm`; see `layers/attention.py`) default
to the published ones ("nearest", "eps_sum"); our own trained checkpoints record "maxpool"/"clamp", which
they were trained with, in their network config.

Our module names are those of the PyTorch fine-tuned layout (`stage1.*`, `stage2.*`); the converted
official TF layout (flat `conv1 … allconv17`) is reached through `to_tf_layout` / `from_tf_layout`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from inpaint_studio.networks.layers.attention import ContextualAttention, downsample_mask
from inpaint_studio.networks.layers.examples import example_hole
from inpaint_studio.networks.layers.gated import GatedConv2d, GatedUpsample, tf_same_pad
from inpaint_studio.networks.layers.spectral import SpectralNormConv2d
from inpaint_studio.networks.registry import register_network

LAYOUTS = ("pytorch", "tf")  # which published weights a network is built for (padding, fuse buffer)


# --- blocks --------------------------------------------------------------------------------------


class DownBlock(nn.Module):
    """Stride-2 gated conv then a stride-1 gated conv."""

    def __init__(self, cin: int, cmid: int, cout: int, padding: str) -> None:
        super().__init__()
        self.conv1_downsample = GatedConv2d(cin, cmid, 3, 2, padding=padding)
        self.conv2 = GatedConv2d(cmid, cout, 3, 1, padding=padding)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv2(self.conv1_downsample(x))


class UpBlock(nn.Module):
    """Nearest ×2 + gated conv, then a gated conv."""

    def __init__(self, cin: int, cmid: int, cout: int, padding: str) -> None:
        super().__init__()
        self.conv1_upsample = GatedUpsample(cin, cmid, padding=padding)
        self.conv2 = GatedConv2d(cmid, cout, 3, 1, padding=padding)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv2(self.conv1_upsample(x))


def _to_rgb(cin: int, padding: str) -> GatedConv2d:
    return GatedConv2d(cin, 3, 3, 1, padding=padding, activation=None, gated=False)


class CoarseGenerator(nn.Module):
    def __init__(self, cnum_in: int = 5, cnum: int = 48, padding: str = "symmetric") -> None:
        super().__init__()
        c, p = cnum, padding
        self.conv1 = GatedConv2d(cnum_in, c // 2, 5, 1, padding=p)
        self.down_block1 = DownBlock(c // 2, c, c, p)
        self.down_block2 = DownBlock(c, 2 * c, 2 * c, p)
        self.conv_bn1 = GatedConv2d(2 * c, 2 * c, 3, 1, padding=p)
        self.conv_bn2 = GatedConv2d(2 * c, 2 * c, 3, 1, 2, padding=p)
        self.conv_bn3 = GatedConv2d(2 * c, 2 * c, 3, 1, 4, padding=p)
        self.conv_bn4 = GatedConv2d(2 * c, 2 * c, 3, 1, 8, padding=p)
        self.conv_bn5 = GatedConv2d(2 * c, 2 * c, 3, 1, 16, padding=p)
        self.conv_bn6 = GatedConv2d(2 * c, 2 * c, 3, 1, padding=p)
        self.conv_bn7 = GatedConv2d(2 * c, 2 * c, 3, 1, padding=p)
        self.up_block1 = UpBlock(2 * c, c, c, p)
        self.up_block2 = UpBlock(c, c // 2, c // 4, p)
        self.conv_to_rgb = _to_rgb(c // 4, p)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.down_block2(self.down_block1(self.conv1(x)))
        for i in range(1, 8):
            x = getattr(self, f"conv_bn{i}")(x)
        x = self.up_block2(self.up_block1(x))
        return torch.tanh(self.conv_to_rgb(x))


class FineGenerator(nn.Module):
    """Two branches at 1/4 resolution: dilated convs (hallucination) and contextual attention, merged."""

    def __init__(
        self,
        cnum: int = 48,
        padding: str = "symmetric",
        fuse: bool = True,
        persistent_fuse_weight: bool = True,
        attention_mask: str = "nearest",
        attention_norm: str = "eps_sum",
    ) -> None:
        super().__init__()
        c, p = cnum, padding
        # dilated-conv branch
        self.conv_conv1 = GatedConv2d(3, c // 2, 5, 1, padding=p)
        self.conv_down_block1 = DownBlock(c // 2, c // 2, c, p)
        self.conv_down_block2 = DownBlock(c, c, 2 * c, p)
        self.conv_conv_bn1 = GatedConv2d(2 * c, 2 * c, 3, 1, padding=p)
        self.conv_conv_bn2 = GatedConv2d(2 * c, 2 * c, 3, 1, 2, padding=p)
        self.conv_conv_bn3 = GatedConv2d(2 * c, 2 * c, 3, 1, 4, padding=p)
        self.conv_conv_bn4 = GatedConv2d(2 * c, 2 * c, 3, 1, 8, padding=p)
        self.conv_conv_bn5 = GatedConv2d(2 * c, 2 * c, 3, 1, 16, padding=p)
        # attention branch (ReLU before attention, as the original)
        self.ca_conv1 = GatedConv2d(3, c // 2, 5, 1, padding=p)
        self.ca_down_block1 = DownBlock(c // 2, c // 2, c, p)
        self.ca_down_block2 = DownBlock(c, 2 * c, 2 * c, p)
        self.ca_conv_bn1 = GatedConv2d(2 * c, 2 * c, 3, 1, padding=p, activation="relu")
        self.contextual_attention = ContextualAttention(
            ksize=3,
            stride=1,
            rate=2,
            fuse_k=3,
            softmax_scale=10.0,
            fuse=fuse,
            persistent_fuse_weight=persistent_fuse_weight,
            mask_mode=attention_mask,
            norm_mode=attention_norm,
        )
        self.ca_conv_bn4 = GatedConv2d(2 * c, 2 * c, 3, 1, padding=p)
        self.ca_conv_bn5 = GatedConv2d(2 * c, 2 * c, 3, 1, padding=p)
        # merge
        self.conv_bn6 = GatedConv2d(4 * c, 2 * c, 3, 1, padding=p)
        self.conv_bn7 = GatedConv2d(2 * c, 2 * c, 3, 1, padding=p)
        self.up_block1 = UpBlock(2 * c, c, c, p)
        self.up_block2 = UpBlock(c, c // 2, c // 4, p)
        self.conv_to_rgb = _to_rgb(c // 4, p)

    def forward(self, xnow: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        x = self.conv_down_block2(self.conv_down_block1(self.conv_conv1(xnow)))
        for i in range(1, 6):
            x = getattr(self, f"conv_conv_bn{i}")(x)
        x_hallu = x

        x = self.ca_conv_bn1(self.ca_down_block2(self.ca_down_block1(self.ca_conv1(xnow))))
        x = self.contextual_attention(x, x, attention_mask_like(mask, x, self.contextual_attention.mask_mode))
        x = self.ca_conv_bn5(self.ca_conv_bn4(x))

        x = self.conv_bn7(self.conv_bn6(torch.cat([x_hallu, x], dim=1)))
        x = self.up_block2(self.up_block1(x))
        return torch.tanh(self.conv_to_rgb(x))


def attention_mask_like(mask: torch.Tensor, x: torch.Tensor, mode: str) -> torch.Tensor:
    """The full-resolution hole mask at the attention branch's feature size, in the attention's mask mode.
    "nearest": every 4th pixel (with the layer's own ÷2 sampling, the published nearest resize by 1/8);
    "maxpool": any hole pixel in a cell makes it hole (adaptive, as our checkpoints were trained)."""
    if mode == "maxpool":
        return F.adaptive_max_pool2d(mask, x.shape[-2:])
    factor = -(-mask.shape[-1] // x.shape[-1])
    return downsample_mask(mask, factor, mode)[..., : x.shape[-2], : x.shape[-1]]


class DeepFillV2Generator(nn.Module):
    """Coarse + refinement generator; `layout` picks the padding/fuse-buffer convention of the weights,
    `attention_mask`/`attention_norm` the contextual attention's (published defaults)."""

    size_multiple = 8

    def __init__(
        self,
        cnum: int = 48,
        layout: str = "pytorch",
        fuse: bool = True,
        attention_mask: str = "nearest",
        attention_norm: str = "eps_sum",
    ) -> None:
        super().__init__()
        if layout not in LAYOUTS:
            raise ValueError(f"layout must be one of {LAYOUTS}, not {layout!r}")
        if cnum % 4:
            raise ValueError("cnum must be a multiple of 4")
        padding = "symmetric" if layout == "pytorch" else "tf_same"
        self.cnum, self.layout = cnum, layout
        self.stage1 = CoarseGenerator(5, cnum, padding)
        self.stage2 = FineGenerator(
            cnum,
            padding,
            fuse=fuse,
            persistent_fuse_weight=layout == "pytorch",
            attention_mask=attention_mask,
            attention_norm=attention_norm,
        )

    def forward(self, image: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h, w = image.shape[-2:]
        x_in = image * (1.0 - mask)
        ones = torch.ones_like(mask)
        x1 = self.stage1(torch.cat([x_in, ones, ones * mask], dim=1))[..., :h, :w]
        xnow = x1 * mask + x_in * (1.0 - mask)
        x2 = self.stage2(xnow, mask)[..., :h, :w]
        return x1, x2

    def example_inputs(self, h: int, w: int, batch: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
        """A random image in [−1, 1] and a box hole (1 = hole)."""
        image = torch.rand(batch, 3, h, w) * 2 - 1
        return image, example_hole(batch, h, w)

    def output_shapes(self, h: int, w: int, batch: int = 1) -> list[tuple[int, ...]]:
        return [(batch, 3, h, w), (batch, 3, h, w)]


class DConv(nn.Module):
    """Spectral-norm 5×5 stride-2 conv + LeakyReLU(0.2) (key `conv_sn.*`)."""

    def __init__(self, cin: int, cout: int, padding: str) -> None:
        super().__init__()
        self.tf_same = padding == "tf_same"
        self.conv_sn = SpectralNormConv2d(cin, cout, 5, 2, 0 if self.tf_same else 2)
        self.act = nn.LeakyReLU(0.2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.tf_same:
            x = tf_same_pad(x, 5, 2)
        return self.act(self.conv_sn(x))


class SNPatchGANDiscriminator(nn.Module):
    """Six SN convs (cnum·1,2,4,4,4,4); every output cell is a patch score (hinge loss)."""

    def __init__(self, cnum_in: int = 4, cnum: int = 64, layout: str = "pytorch") -> None:
        super().__init__()
        padding = "symmetric" if layout == "pytorch" else "tf_same"
        widths = [cnum, 2 * cnum, 4 * cnum, 4 * cnum, 4 * cnum, 4 * cnum]
        cin = cnum_in
        for i, cout in enumerate(widths, start=1):
            setattr(self, f"conv{i}", DConv(cin, cout, padding))
            cin = cout
        self.cnum_in = cnum_in

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i in range(1, 7):
            x = getattr(self, f"conv{i}")(x)
        return x.flatten(1)

    def example_inputs(self, h: int, w: int, batch: int = 1) -> tuple[torch.Tensor]:
        return (torch.rand(batch, self.cnum_in, h, w) * 2 - 1,)

    def output_shapes(self, h: int, w: int, batch: int = 1) -> list[tuple[int, ...]]:
        for _ in range(6):  # each stride-2 conv gives ceil(n / 2) with either padding convention
            h, w = -(-h // 2), -(-w // 2)
        return [(batch, self.conv6.conv_sn.out_channels * h * w)]


# --- checkpoint filters (pure key remapping) -----------------------------------------------------

# our module prefix (= PyTorch fine-tuned layout) → converted official TF layout
_TF_NAMES: dict[str, str] = {
    "stage1.conv1": "conv1",
    "stage1.down_block1.conv1_downsample": "conv2_downsample",
    "stage1.down_block1.conv2": "conv3",
    "stage1.down_block2.conv1_downsample": "conv4_downsample",
    "stage1.down_block2.conv2": "conv5",
    "stage1.conv_bn1": "conv6",
    "stage1.conv_bn2": "conv7_atrous",
    "stage1.conv_bn3": "conv8_atrous",
    "stage1.conv_bn4": "conv9_atrous",
    "stage1.conv_bn5": "conv10_atrous",
    "stage1.conv_bn6": "conv11",
    "stage1.conv_bn7": "conv12",
    "stage1.up_block1.conv1_upsample": "conv13_upsample",
    "stage1.up_block1.conv2": "conv14",
    "stage1.up_block2.conv1_upsample": "conv15_upsample",
    "stage1.up_block2.conv2": "conv16",
    "stage1.conv_to_rgb": "conv17",
    "stage2.conv_conv1": "xconv1",
    "stage2.conv_down_block1.conv1_downsample": "xconv2_downsample",
    "stage2.conv_down_block1.conv2": "xconv3",
    "stage2.conv_down_block2.conv1_downsample": "xconv4_downsample",
    "stage2.conv_down_block2.conv2": "xconv5",
    "stage2.conv_conv_bn1": "xconv6",
    "stage2.conv_conv_bn2": "xconv7_atrous",
    "stage2.conv_conv_bn3": "xconv8_atrous",
    "stage2.conv_conv_bn4": "xconv9_atrous",
    "stage2.conv_conv_bn5": "xconv10_atrous",
    "stage2.ca_conv1": "pmconv1",
    "stage2.ca_down_block1.conv1_downsample": "pmconv2_downsample",
    "stage2.ca_down_block1.conv2": "pmconv3",
    "stage2.ca_down_block2.conv1_downsample": "pmconv4_downsample",
    "stage2.ca_down_block2.conv2": "pmconv5",
    "stage2.ca_conv_bn1": "pmconv6",
    "stage2.ca_conv_bn4": "pmconv9",
    "stage2.ca_conv_bn5": "pmconv10",
    "stage2.conv_bn6": "allconv11",
    "stage2.conv_bn7": "allconv12",
    "stage2.up_block1.conv1_upsample": "allconv13_upsample",
    "stage2.up_block1.conv2": "allconv14",
    "stage2.up_block2.conv1_upsample": "allconv15_upsample",
    "stage2.up_block2.conv2": "allconv16",
    "stage2.conv_to_rgb": "allconv17",
}
_FROM_TF: dict[str, str] = {v: k for k, v in _TF_NAMES.items()}


def _rename(state: dict[str, torch.Tensor], table: dict[str, str]) -> dict[str, torch.Tensor]:
    out = {}
    for key, value in state.items():
        # keys are "<module>.conv.weight" or "<module>.conv.conv.weight" (upsample): rename the module part
        module = key.split(".conv.", 1)[0]
        if module not in table:
            raise KeyError(f"no mapping for key '{key}'")
        out[table[module] + key[len(module) :]] = value
    return out


def to_tf_layout(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Our generator state dict → flat converted-TF keys (the fuse buffer is not part of that layout)."""
    return _rename({k: v for k, v in state.items() if not k.endswith("fuse_weight")}, _TF_NAMES)


def from_tf_layout(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Flat converted-TF generator keys (`conv1.conv.weight`, …) → ours (for `layout="tf"` networks)."""
    return _rename(state, _FROM_TF)


def from_pytorch_layout(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The fine-tuned PyTorch layout already uses our names."""
    return dict(state)


def discriminator_filter(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Published SN-PatchGAN keys (`convN.conv_sn.weight/bias/weight_u`) are ours too."""
    return dict(state)


# --- configs -------------------------------------------------------------------------------------

# The published weights run with the published attention conventions (recorded explicitly).
PUBLISHED_ATTENTION: dict[str, str] = {"attention_mask": "nearest", "attention_norm": "eps_sum"}
# What our own checkpoints trained before the option existed used (and what the v2 recipe keeps).
OURS_ATTENTION: dict[str, str] = {"attention_mask": "maxpool", "attention_norm": "clamp"}

SIZE_MULTIPLE = 8  # what an image is padded to: three stride-2 levels down to the attention's 1/8 grid


def _published(layout: str) -> dict[str, dict[str, object]]:
    return {
        "generator": {"network": "deepfill_v2_generator", "config": {"cnum": 48, "layout": layout, **PUBLISHED_ATTENTION}},
        "discriminator": {"network": "deepfill_v2_discriminator", "config": {"cnum_in": 4, "cnum": 64, "layout": layout}},
    }


# The published weights' components as the importer records them, per published file layout.
PUBLISHED: dict[str, dict[str, dict[str, object]]] = {
    "pytorch_finetuned": _published("pytorch"),
    "official_converted": _published("tf"),
}


# --- registered constructors ---------------------------------------------------------------------


@register_network
def deepfill_v2_generator(
    cnum: int = 48,
    layout: str = "pytorch",
    fuse: bool = True,
    attention_mask: str = "nearest",
    attention_norm: str = "eps_sum",
) -> DeepFillV2Generator:
    return DeepFillV2Generator(
        cnum=cnum, layout=layout, fuse=fuse, attention_mask=attention_mask, attention_norm=attention_norm
    )


@register_network
def deepfill_v2_discriminator(
    cnum_in: int = 4, cnum: int = 64, layout: str = "pytorch"
) -> SNPatchGANDiscriminator:
    return SNPatchGANDiscriminator(cnum_in=cnum_in, cnum=cnum, layout=layout)
