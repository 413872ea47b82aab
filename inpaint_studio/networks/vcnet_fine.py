"""VCNet's mask prediction network (MPN) with a full-resolution refinement head: `vcnet_mpn_fine`.

The published MPN decides at 1/4 resolution and returns to full size by two nearest ×2 upsamplings with no
skip connection, so its mask is made of 4×4 blocks: a 1–3 px film scratch can at best be marked as a 4 px
band (IoU ≤ 0.25–0.75 even when found), and in practice the coarse path never learns thin lines at all.
This variant keeps the MPN exactly (same keys, same bottleneck feature for the RIN) and adds a small head at
full resolution that sees the input, the MPN's last features and logit, and fixed damage cues — the same
measurements the classical detector (`core.damage`) thresholds: distance from a (separable) 7×7 median, morphological
top-hat and black-hat of the luminance, and those averaged along their best of 12 directions (long lines).
Each cue is a robust z-score (global median and MAD, local spread), so the photo's own contrast sets the
scale. The head's last conv starts at zero: at initialisation the network *is* the MPN it was seeded from,
and training only adds what the coarse path misses. `freeze_body` trains the head alone (the MPN and its
bottleneck feature, which the RIN was trained on, stay as they are).

Same interface as `vcnet_mpn`: forward(x in [−1, 1]) → (hole probability N×1×H'×W', bottleneck feature),
H', W' the input rounded up to a multiple of 4 (`VCNET_MULTIPLE`; other sizes are edge-padded here).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from inpaint_studio.networks.registry import register_network
from inpaint_studio.networks.vcnet import MPN, MPN_CONFIG, VCNET_MULTIPLE

CUE_NAMES = ("colour", "tophat", "blackhat", "long_tophat", "long_blackhat")
_MEDIAN = 7  # median window: removes anything thinner than ~3 px
_HAT = 7  # structuring element of the top-hat / black-hat
_LINE_LENGTH, _LINE_DIRECTIONS = 21, 12
_LOCAL_SPREAD = 31  # window of the local activity measure
_Z_SCALE = 5.0  # cues are returned as z / 5, clipped to [−1, 3]: the range a conv's default init expects


def _line_kernels(length: int = _LINE_LENGTH, directions: int = _LINE_DIRECTIONS) -> Tensor:
    """D×1×L×L normalised line segments through the centre (nearest-pixel samples along the segment)."""
    c = length // 2
    kernels = torch.zeros(directions, 1, length, length)
    t = torch.linspace(-c, c, 4 * length)
    for i in range(directions):
        angle = math.pi * i / directions
        xs = torch.round(c + t * math.cos(angle)).long().clamp(0, length - 1)
        ys = torch.round(c + t * math.sin(angle)).long().clamp(0, length - 1)
        kernels[i, 0, ys, xs] = 1.0
    return kernels / kernels.sum(dim=(2, 3), keepdim=True)


def _robust_z(x: Tensor) -> Tensor:
    """(x − median) / max(local mean |dev| · 1.2533, MAD · 1.4826, 1 grey level), per image (N×1×H×W)."""
    flat = x.flatten(1)
    med = flat.median(dim=1).values.view(-1, 1, 1, 1)
    mad = (flat - med.flatten(1)).abs().median(dim=1).values.view(-1, 1, 1, 1) * 1.4826
    dev = (x - med).abs()
    pad = _LOCAL_SPREAD // 2
    # A box mean as two 1-D passes: a 31×31 window in one pass costs ~15× more.
    local = F.avg_pool2d(F.pad(dev, (0, 0, pad, pad), mode="replicate"), (_LOCAL_SPREAD, 1), stride=1)
    local = F.avg_pool2d(F.pad(local, (pad, pad, 0, 0), mode="replicate"), (1, _LOCAL_SPREAD), stride=1) * 1.2533
    spread = torch.maximum(local, mad.clamp_min(1.0))
    return (x - med) / spread


class DamageCues(nn.Module):
    """RGB in [0, 1] (N×3×H×W) → the five cues of `CUE_NAMES` (N×5×H×W), no parameters, no gradient."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("lines", _line_kernels(), persistent=False)

    @staticmethod
    def _median(x: Tensor) -> Tensor:
        """Separable 7×7 median (rows, then columns): like the full one it removes every line thinner than
        ~3 px whatever its direction, at 2 × 7 instead of 49 values per pixel (4× faster on a CPU)."""
        r = _MEDIAN // 2
        rows = F.pad(x, (r, r, 0, 0), mode="reflect").unfold(3, _MEDIAN, 1).median(dim=-1).values
        return F.pad(rows, (0, 0, r, r), mode="reflect").unfold(2, _MEDIAN, 1).median(dim=-1).values

    @staticmethod
    def _erode(x: Tensor) -> Tensor:
        r = _HAT // 2
        return -F.max_pool2d(F.pad(-x, (r,) * 4, mode="replicate"), _HAT, stride=1)

    @staticmethod
    def _dilate(x: Tensor) -> Tensor:
        r = _HAT // 2
        return F.max_pool2d(F.pad(x, (r,) * 4, mode="replicate"), _HAT, stride=1)

    def _long(self, hat: Tensor) -> Tensor:
        """The hat averaged along its best direction, counted only on the line itself."""
        r = _LINE_LENGTH // 2
        along = F.conv2d(F.pad(hat, (r,) * 4, mode="replicate"), self.lines.to(hat.dtype)).amax(dim=1, keepdim=True)
        return torch.where(hat >= 0.5 * along, _robust_z(along), torch.zeros_like(along))

    @torch.no_grad()
    def forward(self, rgb01: Tensor) -> Tensor:
        x = rgb01.float() * 255.0
        colour = (x - self._median(x)).pow(2).sum(dim=1, keepdim=True).sqrt()
        grey = (0.299 * x[:, :1] + 0.587 * x[:, 1:2] + 0.114 * x[:, 2:3])
        tophat = grey - self._dilate(self._erode(grey))
        blackhat = self._erode(self._dilate(grey)) - grey
        cues = [_robust_z(colour), _robust_z(tophat), _robust_z(blackhat), self._long(tophat), self._long(blackhat)]
        return (torch.cat(cues, dim=1) / _Z_SCALE).clamp(-1.0, 3.0).to(rgb01.dtype)


class MPNFine(MPN):
    """`MPN` (unchanged keys) + `cues` (no parameters) + `refine1`…`refine3` at full resolution.

    logit = MPN logit + refine(cat[input, cues, MPN's last features (`cb1`), MPN logit])."""

    def __init__(
        self,
        base_channels: int = 64,
        bottleneck_dilations: Sequence[int] = (2, 4),
        refine_channels: int = 24,
        freeze_body: bool = False,
    ) -> None:
        super().__init__(base_channels, bottleneck_dilations)
        self.freeze_body = bool(freeze_body)
        r = int(refine_channels)
        cin = 3 + len(CUE_NAMES) + base_channels // 4 + 1
        self.cues = DamageCues()
        self.refine1 = nn.Conv2d(cin, r, 3, padding=1)
        self.refine2 = nn.Conv2d(r, r, 3, padding=2, dilation=2)
        self.refine3 = nn.Conv2d(r, 1, 3, padding=1)
        nn.init.zeros_(self.refine3.weight)  # starts as the MPN it is seeded from
        nn.init.zeros_(self.refine3.bias)
        if self.freeze_body:
            for name, p in self.named_parameters():
                p.requires_grad_(name.startswith("refine"))

    def head_keys(self) -> list[str]:
        """State-dict keys this network adds to `vcnet_mpn`'s (what a seed from a plain MPN lacks)."""
        return [k for k in self.state_dict() if k.startswith("refine")]

    def seed_from(self, state: dict[str, Tensor]) -> str:
        """Load an MPN's weights into this network without changing what it computes.

        - a plain `vcnet_mpn` state (no head): the body is loaded, the head keeps its zero-output start;
        - a `vcnet_mpn_fine` state whose head is as wide: loaded as it is;
        - one whose head is narrower: its units become the first ones of this head, the new units keep their
          random start but feed nothing yet (their refine3 weights, and the old units' weights from them, are
          zero), so the seeded network's output is the narrower one's and training grows from there.
        Any other mismatch raises ValueError. Returns "new head", "same head" or "widened head"."""
        own = self.state_dict()
        body = {k: v for k, v in state.items() if not k.startswith("refine")}
        head = {k: v for k, v in state.items() if k.startswith("refine")}
        missing = sorted(set(own) - set(body) - set(self.head_keys()))
        unexpected = sorted(set(body) - set(own))
        if missing or unexpected:
            raise ValueError(f"mask network seed does not match: missing {missing[:3]}, unexpected {unexpected[:3]}")
        wrong = [k for k, v in body.items() if v.shape != own[k].shape]
        if wrong:  # checked first: load_state_dict would copy the matching tensors before it complains
            raise ValueError(f"mask network seed does not match: {wrong[0]} is {tuple(body[wrong[0]].shape)}, "
                             f"this network's {tuple(own[wrong[0]].shape)} (another width?)")
        if not head:
            self.load_state_dict(body, strict=False)
            return "new head"
        if set(head) != set(self.head_keys()):
            raise ValueError(f"mask network head does not match: {sorted(head)[:3]}")
        r0, r = head["refine1.weight"].shape[0], own["refine1.weight"].shape[0]
        if r0 > r or head["refine1.weight"].shape[1:] != own["refine1.weight"].shape[1:]:
            raise ValueError(f"mask network head of width {r0} does not fit this one of width {r}")
        self.load_state_dict(body, strict=False)
        grown = {k: v.clone() for k, v in own.items() if k.startswith("refine")}
        grown["refine1.weight"][:r0] = head["refine1.weight"]
        grown["refine1.bias"][:r0] = head["refine1.bias"]
        grown["refine2.weight"][:r0, :r0] = head["refine2.weight"]
        grown["refine2.weight"][:r0, r0:] = 0.0
        grown["refine2.bias"][:r0] = head["refine2.bias"]
        grown["refine3.weight"][:, :r0] = head["refine3.weight"]
        grown["refine3.weight"][:, r0:] = 0.0
        grown["refine3.bias"][:] = head["refine3.bias"]
        self.load_state_dict(grown, strict=False)
        return "same head" if r0 == r else "widened head"

    def _body(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """The MPN's logit, its last features and its bottleneck feature."""
        features, neck = self.features_and_neck(x)
        return self.conv1(features), features, neck

    def logits_and_neck(self, x: Tensor) -> tuple[Tensor, Tensor]:
        h, w = x.shape[-2:]
        ph, pw = (-h) % VCNET_MULTIPLE, (-w) % VCNET_MULTIPLE
        if ph or pw:  # the same output size as vcnet_mpn: the input rounded up to a multiple of 4
            x = F.pad(x, (0, pw, 0, ph), mode="replicate")
        with torch.set_grad_enabled(torch.is_grad_enabled() and not self.freeze_body):
            coarse, features, neck = self._body(x)
        cues = self.cues((x + 1.0) / 2.0)
        fine = F.elu(self.refine1(torch.cat([x, cues, features, coarse], dim=1)))
        fine = self.refine3(F.elu(self.refine2(fine)))
        return coarse + fine, neck


MPN_FINE_CONFIG: dict[str, Any] = {**MPN_CONFIG, "refine_channels": 24, "freeze_body": False}


@register_network
def vcnet_mpn_fine(**kw: Any) -> MPNFine:
    return MPNFine(**{**MPN_FINE_CONFIG, **kw})
