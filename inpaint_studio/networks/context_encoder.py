"""Context Encoder (Pathak et al. 2016): an encoder to a 4000-vector bottleneck, a decoder that paints the
centre quarter of its input, and a local discriminator that judges that centre.

Module and key names follow the common PyTorch port (`netG_streetview.pth`, `netlocalD.pth`, each
`{'epoch', 'state_dict'}`; every key and shape in `reference/checkpoints/context_encoder.json`): one
`main` Sequential per network. The port stands a 4×4 convolution to a 4000×1×1 vector (a fully connected
layer over the 4×4×512 map) in for the paper's channel-wise fully connected layer; we follow the port.

Conventions (see `engine/methods/context_encoder.py`): the generator takes an S×S RGB image in [−1, 1]
whose hole is painted with the fixed mean colour `HOLE_COLOUR` (`generator_input`) and returns the centre
S/2 × S/2 in [−1, 1] (tanh). S is fixed per network (`input_size`, 128 published); the hole the network
learned is the centre square less an overlap band of S/32 px (`overlap`). The discriminator takes an
S/2 × S/2 image in [−1, 1] and returns one logit per image (the port applies a sigmoid; ours leaves it to
the loss, which changes no key).
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from inpaint_studio.networks.registry import register_network

# The port paints the hole with these (0..255 RGB; ImageNet-like means) before mapping to [−1, 1].
HOLE_COLOUR = (117.0, 104.0, 123.0)


def _depth(size: int, minimum: int) -> int:
    """Stride-2 convolutions from `size` down to the 4×4 map (5 at 128²)."""
    depth = math.log2(size / 4) if size > 0 else 0
    if depth != int(depth) or depth < minimum:
        raise ValueError(f"input_size must be a power of two of at least {4 * 2**minimum}, not {size}")
    return int(depth)


def _widths(base: int, depth: int) -> list[int]:
    """The port's channel ladder: the last four levels double (64, 128, 256, 512), earlier ones stay at base."""
    return [base * 2 ** max(0, i - (depth - 4)) for i in range(depth)]


class ContextEncoderGenerator(nn.Module):
    """Encoder (4×4 stride-2 convs, BN, LeakyReLU 0.2) → 4×4 conv to `bottleneck` channels → transposed
    convs (BN, ReLU) → tanh, predicting the centre S/2 × S/2 of an S × S input."""

    def __init__(self, input_size: int = 128, nef: int = 64, ngf: int = 64, bottleneck: int = 4000) -> None:
        super().__init__()
        depth = _depth(input_size, 3)
        self.input_size, self.overlap = input_size, max(1, input_size // 32)
        layers: list[nn.Module] = []
        cin = 3
        for i, c in enumerate(_widths(nef, depth)):
            layers.append(nn.Conv2d(cin, c, 4, 2, 1, bias=False))
            if i > 0:
                layers.append(nn.BatchNorm2d(c))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
            cin = c
        layers += [nn.Conv2d(cin, bottleneck, 4, bias=False), nn.BatchNorm2d(bottleneck), nn.LeakyReLU(0.2, True)]
        dec = _widths(ngf, depth)[1:][::-1]  # 512, 256, 128, 64 at 128²
        layers += [nn.ConvTranspose2d(bottleneck, dec[0], 4, 1, 0, bias=False), nn.BatchNorm2d(dec[0]), nn.ReLU(True)]
        for a, b in zip(dec, dec[1:], strict=False):
            layers += [nn.ConvTranspose2d(a, b, 4, 2, 1, bias=False), nn.BatchNorm2d(b), nn.ReLU(True)]
        layers += [nn.ConvTranspose2d(dec[-1], 3, 4, 2, 1, bias=False), nn.Tanh()]
        self.main = nn.Sequential(*layers)
        _dcgan_init(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if tuple(x.shape[-2:]) != (self.input_size, self.input_size):
            raise ValueError(f"the Context Encoder takes {self.input_size}² inputs, not {tuple(x.shape[-2:])}")
        return self.main(x)

    def hole_box(self) -> tuple[int, int]:
        """[start, stop) of the square hole it learned to fill, on both axes."""
        q = self.input_size // 4
        return q + self.overlap, 3 * q - self.overlap

    def centre_box(self) -> tuple[int, int]:
        """[start, stop) of the centre square it predicts, on both axes."""
        q = self.input_size // 4
        return q, 3 * q

    def example_inputs(self, h: int, w: int, batch: int = 1) -> tuple[torch.Tensor]:
        """A fixed-size network: inputs at its own size whatever h×w is asked."""
        s = self.input_size
        image = torch.rand(batch, 3, s, s) * 2 - 1
        hole = torch.zeros(batch, 1, s, s)
        a, b = self.hole_box()
        hole[..., a:b, a:b] = 1.0
        return (generator_input(image, hole),)

    def output_shapes(self, h: int, w: int, batch: int = 1) -> list[tuple[int, ...]]:
        return [(batch, 3, self.input_size // 2, self.input_size // 2)]


class ContextEncoderDiscriminator(nn.Module):
    """4×4 stride-2 convs (BN after the first, LeakyReLU 0.2) down to 4×4, then a 4×4 conv to one logit."""

    def __init__(self, input_size: int = 64, ndf: int = 64) -> None:
        super().__init__()
        depth = _depth(input_size, 2)
        self.input_size = input_size
        layers: list[nn.Module] = []
        cin = 3
        for i, c in enumerate(_widths(ndf, depth)):
            layers.append(nn.Conv2d(cin, c, 4, 2, 1, bias=False))
            if i > 0:
                layers.append(nn.BatchNorm2d(c))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
            cin = c
        layers.append(nn.Conv2d(cin, 1, 4, 1, 0, bias=False))
        self.main = nn.Sequential(*layers)
        _dcgan_init(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.main(x).flatten(1)

    def example_inputs(self, h: int, w: int, batch: int = 1) -> tuple[torch.Tensor]:
        return (torch.rand(batch, 3, self.input_size, self.input_size) * 2 - 1,)

    def output_shapes(self, h: int, w: int, batch: int = 1) -> list[tuple[int, ...]]:
        return [(batch, 1)]


def _dcgan_init(net: nn.Module) -> None:
    # The port's weights_init: N(0, 0.02) convs, N(1, 0.02) BatchNorm scales.
    for m in net.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, 0.02)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


# --- network input (the published convention; shared by the engine method and the trainer) ----------


def generator_input(
    image: torch.Tensor, hole: torch.Tensor, colour: tuple[float, float, float] = HOLE_COLOUR
) -> torch.Tensor:
    """`image` N×3×S×S in [−1, 1] with the hole (N×1×S×S, 1 = hole) painted in `colour` (0..255, in the
    image's channel order; `HOLE_COLOUR` is RGB)."""
    paint = torch.tensor(colour, device=image.device, dtype=image.dtype).view(1, 3, 1, 1) * (2 / 255) - 1
    return image * (1 - hole) + paint * hole


# --- checkpoint filters (pure key remapping) ---------------------------------------------------------


def from_published(obj: Any) -> dict[str, torch.Tensor]:
    """`{'epoch', 'state_dict'}` (or a bare state dict) → our keys, which are the port's."""
    state = obj["state_dict"] if isinstance(obj, dict) and isinstance(obj.get("state_dict"), dict) else obj
    return {k.removeprefix("module."): v for k, v in state.items()}


# --- configs -----------------------------------------------------------------------------------------

GENERATOR_CONFIG: dict[str, Any] = {"input_size": 128, "nef": 64, "ngf": 64, "bottleneck": 4000}
DISCRIMINATOR_CONFIG: dict[str, Any] = {"input_size": 64, "ndf": 64}
# name → (generator config, discriminator config): the port's layout, and a CPU-sized variant (a quarter of
# the channels and of the bottleneck, 64² windows) like the trainer's `--preset small` builds.
CONFIGS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "published": (GENERATOR_CONFIG, DISCRIMINATOR_CONFIG),
    "small": ({"input_size": 64, "nef": 16, "ngf": 16, "bottleneck": 1000}, {"input_size": 32, "ndf": 16}),
}


# --- registered constructors -------------------------------------------------------------------------


@register_network
def context_encoder_generator(**kw: Any) -> ContextEncoderGenerator:
    return ContextEncoderGenerator(**{**GENERATOR_CONFIG, **kw})


@register_network
def context_encoder_discriminator(**kw: Any) -> ContextEncoderDiscriminator:
    return ContextEncoderDiscriminator(**{**DISCRIMINATOR_CONFIG, **kw})
