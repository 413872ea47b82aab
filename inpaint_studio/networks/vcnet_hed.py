"""VCNet's mask prediction network (MPN) on HED's pretrained VGG16 trunk: `vcnet_mpn_hed`.

From scratch on a CPU the published MPN learns far too slowly; pretrained edge/texture features make the
"which pixels are foreign" decision much easier. Same interface as `vcnet_mpn` so the RIN and the engine's
`vcnet` method take either: forward(x in [−1, 1]) → (hole probability N×1×H'×W', bottleneck feature
N×neck_channels×H'/4×W'/4) with H', W' the input rounded up to a multiple of 4 (`VCNET_MULTIPLE`; the
engine pads to it anyway, other sizes are edge-padded here).

The trunk is HED VGG16 blocks 1–3 (conv1_1 … conv3_3, stride 4 — exactly the RIN's bottleneck resolution)
or 1–4 (`trunk_blocks=4`, one more stride-2 stage, 4× the trunk parameters); its weights are part of this
module's state dict (`trunk.conv*`), so an exported checkpoint is self-contained. The trainer seeds them
from the fetched HED file (`load_trunk`); constructing the network never reads a file. `freeze_trunk`
(default) turns the trunk's gradients off and runs it under no_grad: only the light U-Net decoder trains.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from inpaint_studio.networks.hed import BLOCKS, CONV_NAMES, HEDVGG16
from inpaint_studio.networks.registry import register_network
from inpaint_studio.networks.vcnet import VCNET_MULTIPLE, _example_image, _quarter

# HED's convs see 0–255 Caffe-preprocessed pixels, so their activations are ~100× those of a network on
# [0, 1] input; a fixed rescale keeps the decoder's default initialisation in a sensible range.
TRUNK_SCALE = 1.0 / (255.0 * 0.226)


def _last_conv(block: int) -> str:
    return f"conv{block}_{BLOCKS[block - 1][0]}"


class _ConvELU(nn.Sequential):
    def __init__(self, cin: int, cout: int) -> None:
        super().__init__(nn.Conv2d(cin, cout, 3, padding=1), nn.ELU())


class VCNetMPNHED(nn.Module):
    """HED trunk (`trunk`, HEDVGG16 cut after block `trunk_blocks`) + U-Net decoder: 1×1 `lateral{b}` on
    each block's last conv, `neck` at 1/4 resolution (the RIN's feature), then ×2 upsampling stages that
    concatenate the block-2 and block-1 laterals, and a 3×3 `head` to one logit."""

    def __init__(
        self,
        neck_channels: int = 128,
        decoder_channels: int = 64,
        trunk_blocks: int = 3,
        freeze_trunk: bool = True,
    ) -> None:
        super().__init__()
        if trunk_blocks not in (3, 4):
            raise ValueError(f"trunk_blocks must be 3 or 4, got {trunk_blocks}")
        self.neck_channels = int(neck_channels)
        self.trunk_blocks = int(trunk_blocks)
        self.freeze_trunk = bool(freeze_trunk)
        c = int(decoder_channels)

        with torch.device("meta"):  # shapes only: initialising the unused 12 M deeper weights costs ~1 s
            trunk = HEDVGG16()
        kept = {n for n in CONV_NAMES if int(n[4]) <= trunk_blocks}
        for name, _ in list(trunk.named_children()):
            if name not in kept:  # deeper convs, side outputs and fuse are unused here
                delattr(trunk, name)
        trunk.to_empty(device="cpu")
        for conv in trunk.children():
            conv.reset_parameters()  # type: ignore[operator]
        self.trunk = trunk
        self.taps = [_last_conv(b) for b in range(1, trunk_blocks + 1)]
        widths = [BLOCKS[b][1] for b in range(trunk_blocks)]

        self.lateral1 = nn.Conv2d(widths[0], c // 2, 1)
        self.lateral2 = nn.Conv2d(widths[1], c, 1)
        self.lateral3 = nn.Conv2d(widths[2], 2 * c, 1)
        if trunk_blocks == 4:
            self.lateral4 = nn.Conv2d(widths[3], 2 * c, 1)
            self.up4 = _ConvELU(2 * c, 2 * c)
        self.neck = nn.Sequential(_ConvELU(2 * c, 2 * c), nn.Conv2d(2 * c, self.neck_channels, 3, padding=1), nn.ELU())
        self.up2 = nn.Sequential(_ConvELU(self.neck_channels + c, c), _ConvELU(c, c))
        self.up1 = nn.Sequential(_ConvELU(c + c // 2, c // 2), _ConvELU(c // 2, c // 2))
        self.head = nn.Conv2d(c // 2, 1, 3, padding=1)
        if self.freeze_trunk:
            self.trunk.requires_grad_(False)

    # --- trunk ------------------------------------------------------------------------------------
    def trunk_state_keys(self) -> list[str]:
        """HEDVGG16 state-dict keys this network holds (under `trunk.`)."""
        return list(self.trunk.state_dict())

    def load_trunk(self, hed_state: Mapping[str, Tensor]) -> list[str]:
        """Copy the matching conv weights out of a full HEDVGG16 state dict; returns the keys copied.
        Raises KeyError naming any weight the file lacks, ValueError on a shape mismatch."""
        own = self.trunk.state_dict()
        missing = [k for k in own if k not in hed_state]
        if missing:
            raise KeyError(f"HED state dict lacks {missing[:3]}")
        bad = [k for k in own if tuple(hed_state[k].shape) != tuple(own[k].shape)]
        if bad:
            raise ValueError(f"HED weights of the wrong shape: {bad[:3]}")
        self.trunk.load_state_dict({k: hed_state[k] for k in own})
        return list(own)

    def _trunk_features(self, rgb01: Tensor) -> list[Tensor]:
        trainable = any(p.requires_grad for p in self.trunk.parameters())
        with torch.set_grad_enabled(torch.is_grad_enabled() and trainable):
            found = self.trunk.features(rgb01, self.taps)
        return [found[n] * TRUNK_SCALE for n in self.taps]

    # --- forward ----------------------------------------------------------------------------------
    def logits_and_neck(self, x: Tensor) -> tuple[Tensor, Tensor]:
        h, w = x.shape[-2:]
        ph, pw = (-h) % VCNET_MULTIPLE, (-w) % VCNET_MULTIPLE
        if ph or pw:  # same output size as vcnet_mpn: the input rounded up to a multiple of 4
            x = F.pad(x, (0, pw, 0, ph), mode="replicate")
        feats = self._trunk_features((x + 1.0) / 2.0)
        f1, f2, f3 = feats[0], feats[1], feats[2]
        d = self.lateral3(f3)
        if self.trunk_blocks == 4:
            deep = self.up4(self.lateral4(feats[3]))
            d = d + F.interpolate(deep, size=d.shape[-2:], mode="nearest")
        neck = self.neck(d)
        out = F.interpolate(neck, size=f2.shape[-2:], mode="nearest")
        out = self.up2(torch.cat([out, self.lateral2(f2)], dim=1))
        out = F.interpolate(out, size=f1.shape[-2:], mode="nearest")
        out = self.up1(torch.cat([out, self.lateral1(f1)], dim=1))
        return self.head(out), neck

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        logits, neck = self.logits_and_neck(x)
        return torch.sigmoid(logits), neck

    def example_inputs(self, h: int, w: int, batch: int = 1) -> tuple[Tensor]:
        return (_example_image(batch, h, w),)

    def output_shapes(self, h: int, w: int, batch: int = 1) -> list[tuple[int, ...]]:
        qh, qw = _quarter(h), _quarter(w)
        return [(batch, 1, 4 * qh, 4 * qw), (batch, self.neck_channels, qh, qw)]


@register_network
def vcnet_mpn_hed(**kwargs: object) -> VCNetMPNHED:
    return VCNetMPNHED(**kwargs)  # type: ignore[arg-type]
