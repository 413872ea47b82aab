"""The `pggan` method: PGGAN's dilated residual generator (Demir & Ünal 2018) on the whole photo.

Fully convolutional, so it runs at the photo's size padded (by reflection, never cropped) to a multiple of
4; RGB [0, 1] → [−1, 1]; mask 1 = hole; input `[x·(1−m), m]`; output (tanh + 1) / 2, composited so that
known pixels never change. No public weights exist: train them (`python -m trainer train pggan`).

torch is imported inside functions only (listing methods must not import it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from inpaint_studio.engine.base import Capabilities, register_method
from inpaint_studio.engine.methods.learned import LearnedMethod

if TYPE_CHECKING:
    import torch


@register_method
class PGGANMethod(LearnedMethod):
    name = "pggan"
    description = "PGGAN (2018): a dilated residual network judged on patches and the whole; fills the whole photo at once"
    capabilities = Capabilities(needs_mask=True, learned=True)
    required_components = ("generator",)
    network_family = "pggan"
    train_recipe = "pggan"

    def predict(self, image: torch.Tensor, mask: torch.Tensor, edges: torch.Tensor | None) -> torch.Tensor:
        from inpaint_studio.networks.pggan import generator_input

        out = self.modules["generator"](generator_input(image * 2 - 1, mask))
        return (out + 1) / 2
