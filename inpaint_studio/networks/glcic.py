"""GLCIC (Iizuka et al. 2017, "Globally and Locally Consistent Image Completion"): a dilated fully
convolutional completion network with BatchNorm and a sigmoid output, judged by a context discriminator
made of a local (around the hole) and a global (whole crop) branch.

Module and key names follow the CelebA PyTorch port (`model_cn`, `model_cd`: raw state dicts; every key and
shape in `reference/checkpoints/glcic.json`): `conv1 … conv17`, `bn1 … bn16`, `deconv13`, `deconv15`;
`model_ld.*`, `model_gd.*`, `linear1`.

Conventions (see `engine/methods/glcic.py`): the completion network takes `[x·(1−m) + c·m, m]` with RGB x in
[0, 1], m the hole (1 = hole) and c the mean colour the weights were trained with (the port's `mpv` from
its `config.json`; `completion_input`) and returns RGB in [0, 1]. It was trained on 160² crops with
rectangular holes of 48–96 px; it runs at any size (padded to a multiple of 4 inside and cropped back).
The discriminator takes a local crop and the whole crop in [0, 1] and returns one logit per image (the
port applies a sigmoid; ours leaves it to the loss, which changes no key).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from inpaint_studio.networks.layers.examples import example_hole
from inpaint_studio.networks.registry import register_network

GLCIC_MULTIPLE = 4  # two stride-2 convolutions, two ×2 transposed convolutions
TRAINING_SIZE, HOLE_RANGE = 160, (48, 96)  # the paper's crops and hole sides (px)


class CompletionNetwork(nn.Module):
    """conv1 (5×5) → two stride-2 levels → six 3×3 convs of which four dilated (2, 4, 8, 16) → two
    transposed-conv levels → conv16 → conv17 + sigmoid. BatchNorm + ReLU after every conv but the last."""

    def __init__(self, cnum: int = 64) -> None:
        super().__init__()
        c = cnum
        # (name, in, out, kernel, stride, dilation); "deconv" names are 4×4 stride-2 transposed convs
        spec: list[tuple[str, int, int, int, int, int]] = [
            ("conv1", 4, c, 5, 1, 1), ("conv2", c, 2 * c, 3, 2, 1), ("conv3", 2 * c, 2 * c, 3, 1, 1),
            ("conv4", 2 * c, 4 * c, 3, 2, 1), ("conv5", 4 * c, 4 * c, 3, 1, 1), ("conv6", 4 * c, 4 * c, 3, 1, 1),
            ("conv7", 4 * c, 4 * c, 3, 1, 2), ("conv8", 4 * c, 4 * c, 3, 1, 4), ("conv9", 4 * c, 4 * c, 3, 1, 8),
            ("conv10", 4 * c, 4 * c, 3, 1, 16), ("conv11", 4 * c, 4 * c, 3, 1, 1),
            ("conv12", 4 * c, 4 * c, 3, 1, 1), ("deconv13", 4 * c, 2 * c, 4, 2, 1),
            ("conv14", 2 * c, 2 * c, 3, 1, 1), ("deconv15", 2 * c, c, 4, 2, 1), ("conv16", c, c // 2, 3, 1, 1),
        ]
        self.layer_names: list[tuple[str, str]] = []
        for i, (name, cin, cout, k, stride, dil) in enumerate(spec, start=1):
            if name.startswith("deconv"):
                conv: nn.Module = nn.ConvTranspose2d(cin, cout, 4, 2, 1)
            else:
                conv = nn.Conv2d(cin, cout, k, stride, padding=dil * (k // 2), dilation=dil)
            setattr(self, name, conv)
            setattr(self, f"bn{i}", nn.BatchNorm2d(cout))
            self.layer_names.append((name, f"bn{i}"))
        self.conv17 = nn.Conv2d(c // 2, 3, 3, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        ph, pw = -h % GLCIC_MULTIPLE, -w % GLCIC_MULTIPLE
        if ph or pw:
            x = F.pad(x, (0, pw, 0, ph), mode="replicate")
        for conv, bn in self.layer_names:
            x = F.relu(getattr(self, bn)(getattr(self, conv)(x)))
        return torch.sigmoid(self.conv17(x))[..., :h, :w]

    def example_inputs(self, h: int, w: int, batch: int = 1) -> tuple[torch.Tensor]:
        image = torch.rand(batch, 3, h, w)
        return (completion_input(image, example_hole(batch, h, w), (0.45, 0.44, 0.41)),)

    def output_shapes(self, h: int, w: int, batch: int = 1) -> list[tuple[int, ...]]:
        return [(batch, 3, h, w)]


def _down(n: int, times: int = 5) -> int:
    for _ in range(times):
        n = (n - 1) // 2 + 1  # 5×5, stride 2, padding 2
    return n


class _Branch(nn.Module):
    """Five 5×5 stride-2 convs (BN, ReLU) then `linear6` to 1024 features (ReLU)."""

    def __init__(self, size: int, cnum: int) -> None:
        super().__init__()
        widths = [cnum, 2 * cnum, 4 * cnum, 8 * cnum, 8 * cnum]
        cin = 3
        for i, cout in enumerate(widths, start=1):
            setattr(self, f"conv{i}", nn.Conv2d(cin, cout, 5, 2, 2))
            setattr(self, f"bn{i}", nn.BatchNorm2d(cout))
            cin = cout
        self.size = size
        self.linear6 = nn.Linear(cin * _down(size) ** 2, 1024)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if tuple(x.shape[-2:]) != (self.size, self.size):
            raise ValueError(f"this discriminator branch takes {self.size}² crops, not {tuple(x.shape[-2:])}")
        for i in range(1, 6):
            x = F.relu(getattr(self, f"bn{i}")(getattr(self, f"conv{i}")(x)))
        return F.relu(self.linear6(x.flatten(1)))


class ContextDiscriminator(nn.Module):
    """Local branch (`model_ld`, the crop around the hole) ‖ global branch (`model_gd`, the whole crop) →
    `linear1` → one logit. Both crop sizes are fixed per network (96 and 160 published)."""

    def __init__(self, local_size: int = 96, global_size: int = 160, cnum: int = 64) -> None:
        super().__init__()
        self.model_ld = _Branch(local_size, cnum)
        self.model_gd = _Branch(global_size, cnum)
        self.linear1 = nn.Linear(2048, 1)

    def forward(self, local: torch.Tensor, whole: torch.Tensor) -> torch.Tensor:
        return self.linear1(torch.cat([self.model_ld(local), self.model_gd(whole)], dim=1))

    def example_inputs(self, h: int, w: int, batch: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
        """A fixed-size network: crops at its own sizes whatever h×w is asked."""
        ls, gs = self.model_ld.size, self.model_gd.size
        return torch.rand(batch, 3, ls, ls), torch.rand(batch, 3, gs, gs)

    def output_shapes(self, h: int, w: int, batch: int = 1) -> list[tuple[int, ...]]:
        return [(batch, 1)]


# --- network input (the published convention; shared by the engine method and the trainer) ----------


def completion_input(image: torch.Tensor, mask: torch.Tensor, colour: Sequence[float] | torch.Tensor) -> torch.Tensor:
    """`[x·(1−m) + c·m, m]`: RGB in [0, 1] with the hole painted in the mean colour `c` (3 values in [0, 1],
    or an N×3×1×1 tensor), plus the mask."""
    c = torch.as_tensor(colour, device=image.device, dtype=image.dtype).reshape(-1, 3, 1, 1)
    return torch.cat([image * (1 - mask) + c * mask, mask], dim=1)


def known_mean_colour(image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Per image, the mean colour of the known pixels (N×3×1×1): what our own networks are trained with
    when no dataset mean is recorded; 0.5 grey for an image with nothing known."""
    known = 1 - mask
    total = known.sum(dim=(2, 3), keepdim=True)
    mean = (image * known).sum(dim=(2, 3), keepdim=True) / total.clamp(min=1)
    return torch.where(total > 0, mean, torch.full_like(mean, 0.5))


# --- checkpoint filters (pure key remapping) ---------------------------------------------------------


def from_published(state: dict[str, Any]) -> dict[str, Any]:
    """The port's keys are ours; a DataParallel save prefixes `module.`."""
    return {k.removeprefix("module."): v for k, v in state.items()}


# --- configs -----------------------------------------------------------------------------------------

COMPLETION_CONFIG: dict[str, Any] = {"cnum": 64}
DISCRIMINATOR_CONFIG: dict[str, Any] = {"local_size": 96, "global_size": 160, "cnum": 64}
# name → (completion config, discriminator config): the CelebA port, and a CPU-sized variant (a quarter of
# the channels, 64² crops with 40² local crops) like the trainer's `--preset small` builds.
CONFIGS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "celeba": (COMPLETION_CONFIG, DISCRIMINATOR_CONFIG),
    "small": ({"cnum": 16}, {"local_size": 40, "global_size": 64, "cnum": 16}),
}


# --- registered constructors -------------------------------------------------------------------------


@register_network
def glcic_completion(**kw: Any) -> CompletionNetwork:
    return CompletionNetwork(**{**COMPLETION_CONFIG, **kw})


@register_network
def glcic_discriminator(**kw: Any) -> ContextDiscriminator:
    return ContextDiscriminator(**{**DISCRIMINATOR_CONFIG, **kw})
