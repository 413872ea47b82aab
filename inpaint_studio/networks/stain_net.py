"""Stain network: a small U-Net that maps a photo to a soft stain map — how strongly each pixel is tinted by
translucent damage (coffee, tea, foxing, rust) — for `core.tint` to invert.

Why a network of its own rather than one more output of VCNet's mask network: a stain is found by its colour
*relative to its surroundings* over a wide area (a blot can be a third of the photo across, and its inside looks
like any brownish surface; only its edge tells), so it needs a large receptive field, while the mask network
is built for thin opaque marks at full detail. Five levels (1/32 at the bottom, with a dilated block there)
see ~400 px. `norm="group"` (the default) puts a group norm after every conv but the first: it takes out each
feature's mean over the whole photo, not the local colour shift against the surroundings that marks a stain,
and in a quick comparison (sharp blots on 128² crops, 600 steps) it separated stained from clean pixels better
(AUC 0.93) than the same network without it (0.88) or with a third of the learning rate (0.88).

Input: RGB in [0, 1], N×3×H×W, any size (padded to a multiple of 32 and cropped back). The network also sees
log-RGB, where a multiplicative tint is an offset, and each pixel's log colour against its
surroundings' mean at 4, 16 and 64 px. Output: N×1×H×W logits of *where* a stain is (`maps` gives it as 0..1).
With `outputs=2` a second channel says *how strongly* each pixel is darkened (logits of the share of light the
stain takes, `amount` = sigmoid): `core.tint` inverts a tint exactly only given a strength map proportional to
the true one — a binary map (where alone) gains +2 to +6 dB on stains where the true strength gains +9 to +20.
With `outputs=5` three more channels undo the tint themselves: a per-channel log gain m (the photo times
exp(m) is the restored photo), averaged over 4×4 cells and enlarged, so it can change a smooth colour cast but
not draw detail. Trained on the restored photo's error directly, it learns where to leave a photo alone (clean
and opaque-damage crops ask for m = 0) and how strongly to correct, without a fitted tint model between the
map and the result; `core.tint`'s fit and guards refused most heavy stains the map had found (measured in
models/blind_generalisation.md).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from inpaint_studio.networks.registry import register_network

_MULTIPLE = 32
OUTPUTS = (1, 2, 5)  # where; where and how strongly; both and the correction's 3 log gains
_CELL = 4  # px: the correction is constant over cells this wide before bilinear enlargement (a smooth cast)


# Each pixel's log colour against the mean around it at these scales (px): a tint is an offset in log colour,
# and comparing with the surroundings is what finds it; given as inputs, the network need not learn the wide
# averages first (without them it stayed a flat guess for thousands of steps).
_SURROUND = (4, 16, 64)


def _surround_contrast(log_rgb: torch.Tensor) -> torch.Tensor:
    h, w = log_rgb.shape[-2:]
    out = []
    for k in _SURROUND:
        mean = F.avg_pool2d(log_rgb, k, k, ceil_mode=True, count_include_pad=False)
        out.append(log_rgb - F.interpolate(mean, size=(h, w), mode="bilinear", align_corners=False))
    return torch.cat(out, 1) * 4


def _conv(cin: int, cout: int, stride: int = 1, dilation: int = 1, norm: str = "none") -> nn.Sequential:
    layers: list[nn.Module] = [nn.Conv2d(cin, cout, 3, stride, dilation, dilation)]
    if norm == "group":  # over channel groups at each pixel's image: keeps where a colour shift is
        layers.append(nn.GroupNorm(4 if cout % 4 == 0 else 1, cout))
    return nn.Sequential(*layers, nn.LeakyReLU(0.1, inplace=True))


class StainNet(nn.Module):
    """U-Net: encoder widths `widths` (one level each, the first at full size), skip connections by
    concatenation, bilinear upsampling."""

    def __init__(self, widths: tuple[int, ...] = (16, 24, 32, 48, 64, 64), norm: str = "group",
                 outputs: int = 1) -> None:
        super().__init__()
        if norm not in ("none", "group"):
            raise ValueError(f"norm must be 'none' or 'group', not {norm!r}")
        if outputs not in OUTPUTS:
            raise ValueError(f"outputs must be 1 (where), 2 (where and how strongly) or 5 (and the correction), "
                             f"not {outputs!r}")
        self.outputs = outputs
        widths = tuple(int(w) for w in widths)
        self.widths = widths
        self.stem = nn.Sequential(_conv(6 + 3 * len(_SURROUND), widths[0]), _conv(widths[0], widths[0], norm=norm))
        self.down = nn.ModuleList(
            nn.Sequential(_conv(widths[i], widths[i + 1], stride=2, norm=norm),
                          _conv(widths[i + 1], widths[i + 1], norm=norm))
            for i in range(len(widths) - 1))
        deepest = widths[-1]
        self.context = nn.Sequential(_conv(deepest, deepest, dilation=2, norm=norm),
                                     _conv(deepest, deepest, dilation=4, norm=norm))
        self.up = nn.ModuleList(
            nn.Sequential(_conv(widths[i + 1] + widths[i], widths[i], norm=norm), _conv(widths[i], widths[i], norm=norm))
            for i in reversed(range(len(widths) - 1)))
        self.head = nn.Conv2d(widths[0], 1, 3, 1, 1)
        # He initialisation for the leaky ReLUs: with PyTorch's default a deep stack without normalisation
        # shrinks its signal at every layer and the map stayed a flat guess for the first thousands of steps.
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, a=0.1, nonlinearity="leaky_relu")
                nn.init.zeros_(m.bias)
        nn.init.normal_(self.head.weight, std=1e-3)
        nn.init.constant_(self.head.bias, -3.0)  # start near "no stain" (sigmoid ≈ 0.05)
        # A head of its own (not a second channel of `head`): a network trained for `where` alone loads into
        # a two-output one unchanged, and only this head starts new.
        self.amount = nn.Conv2d(widths[0], 1, 3, 1, 1) if outputs >= 2 else None
        if self.amount is not None:
            nn.init.normal_(self.amount.weight, std=1e-3)
            nn.init.constant_(self.amount.bias, -1.4)  # a fifth of the light: a typical visible stain
        # The correction starts at exactly zero (the photo unchanged), so a network that already finds stains
        # loads unchanged and only learns when to change a photo.
        self.correction = nn.Conv2d(widths[0], 3, 3, 1, 1) if outputs == 5 else None
        if self.correction is not None:
            nn.init.zeros_(self.correction.weight)
            nn.init.zeros_(self.correction.bias)

    @property
    def multiple(self) -> int:
        return 2 ** (len(self.widths) - 1)

    def forward(self, rgb: torch.Tensor) -> torch.Tensor:
        h, w = rgb.shape[-2:]
        m = self.multiple
        ph, pw = (-h) % m, (-w) % m
        x = torch.cat([rgb * 2 - 1, torch.log(rgb.clamp(0, 1) + 0.03) + 1.5], 1)
        if ph or pw:
            x = F.pad(x, (0, pw, 0, ph), mode="replicate")
        x = torch.cat([x, _surround_contrast(x[:, 3:])], 1)
        skips = [self.stem(x)]
        for block in self.down:
            skips.append(block(skips[-1]))
        y = self.context(skips.pop())
        for block in self.up:
            skip = skips.pop()
            y = F.interpolate(y, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            y = block(torch.cat([y, skip], 1))
        heads = [self.head(y)] + ([self.amount(y)] if self.amount is not None else [])
        if self.correction is not None:
            gain = self.correction(y)
            cells = F.avg_pool2d(gain, _CELL, _CELL, ceil_mode=True, count_include_pad=False)
            heads.append(F.interpolate(cells, size=gain.shape[-2:], mode="bilinear", align_corners=False))
        return torch.cat(heads, 1)[..., :h, :w]

    def maps(self, rgb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(where, how strongly): N×1×H×W each, 0..1. A one-output network's strength is its `where`."""
        p = torch.sigmoid(self.forward(rgb)[:, :2])
        return p[:, :1], p[:, -1:]

    def corrected(self, rgb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(restored RGB in [0, 1], where): the photo with the tint the correction head sees undone (a
        five-output network only)."""
        if self.correction is None:
            raise ValueError("this stain network has no correction head (outputs=5)")
        out = self.forward(rgb)
        return (rgb * torch.exp(out[:, 2:5])).clamp(0, 1), torch.sigmoid(out[:, :1])

    # --- test convention (tests/test_every_network.py) ---
    def example_inputs(self, h: int, w: int, batch: int = 1) -> tuple[torch.Tensor, ...]:
        return (torch.rand(batch, 3, h, w),)

    def output_shapes(self, h: int, w: int, batch: int = 1) -> list[tuple[int, ...]]:
        return [(batch, self.outputs, h, w)]


@register_network
def stain_unet(**kwargs: object) -> StainNet:
    return StainNet(**kwargs)  # type: ignore[arg-type]
