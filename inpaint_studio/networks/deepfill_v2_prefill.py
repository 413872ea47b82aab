"""DeepFill v2 that starts from a classical fill (our small variants only; not a published layout).

The generator gets the classical fill of the hole (Navier–Stokes, PatchMatch, …, computed outside the network:
`engine.methods.prefill`) and learns a correction of it. Each stage's last layer (`conv_to_rgb`) starts at zero, so an
untrained network returns the classical fill exactly: training can only move away from the classical fill where
that lowers the loss, instead of first having to learn what diffusion already does.

`forward(image, mask, prefill) -> (coarse, fine)`; image and prefill B×3×H×W in [−1, 1], mask B×1×H×W with
1 = hole. The coarse net sees `[x_pre, ones, mask]` with `x_pre = image·(1−m) + prefill·m` (the published
5-channel input, so a plain DeepFill v2 of the same width can seed it); `coarse = x_pre + tanh(stage1)`,
`fine = xnow + tanh(stage2)` with `xnow = coarse·m + image·(1−m)`, both clamped to [−1, 1].
"""

from __future__ import annotations

import torch
from torch import nn

from inpaint_studio.networks.deepfill_v2 import DeepFillV2Generator
from inpaint_studio.networks.registry import register_network


class PrefillDeepFillV2Generator(DeepFillV2Generator):
    # Our own variant: the attention conventions our DeepFill v2 runs (its seeds) were trained with.
    def __init__(
        self,
        cnum: int = 48,
        layout: str = "pytorch",
        fuse: bool = True,
        attention_mask: str = "maxpool",
        attention_norm: str = "clamp",
    ) -> None:
        super().__init__(cnum=cnum, layout=layout, fuse=fuse, attention_mask=attention_mask, attention_norm=attention_norm)
        self.reset_heads()

    def heads(self) -> list[nn.Conv2d]:
        """The last convolution of each stage: the learned correction."""
        return [self.stage1.conv_to_rgb.conv, self.stage2.conv_to_rgb.conv]

    @torch.no_grad()
    def reset_heads(self) -> None:
        """Zero the corrections (after seeding from a plain DeepFill v2: step 0 = the classical fill again)."""
        for conv in self.heads():
            conv.weight.zero_()
            if conv.bias is not None:
                conv.bias.zero_()

    def forward(  # type: ignore[override]
        self, image: torch.Tensor, mask: torch.Tensor, prefill: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        h, w = image.shape[-2:]
        x_pre = image * (1.0 - mask) + prefill * mask
        ones = torch.ones_like(mask)
        # the stages end in tanh: with zeroed heads tanh(0) = 0, so each stage adds nothing at step 0
        x1 = (x_pre + self.stage1(torch.cat([x_pre, ones, ones * mask], dim=1))[..., :h, :w]).clamp(-1.0, 1.0)
        xnow = x1 * mask + image * (1.0 - mask)
        x2 = (xnow + self.stage2(xnow, mask)[..., :h, :w]).clamp(-1.0, 1.0)
        return x1, x2

    def example_inputs(self, h: int, w: int, batch: int = 1) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        image, mask = super().example_inputs(h, w, batch)
        return image, mask, image * (1.0 - mask)


@register_network
def deepfill_v2_prefill_generator(
    cnum: int = 48,
    layout: str = "pytorch",
    fuse: bool = True,
    attention_mask: str = "maxpool",
    attention_norm: str = "clamp",
) -> PrefillDeepFillV2Generator:
    return PrefillDeepFillV2Generator(cnum, layout, fuse, attention_mask, attention_norm)
