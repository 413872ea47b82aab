"""Context Encoder (Pathak et al. 2016), as the common PyTorch port trains it: 128² crops in [−1, 1] whose
centre 56² (the centre 64² less a 4 px overlap band) is painted in the port's mean colour; the generator
predicts the centre 64²; loss 0.998·L2 (10× on the overlap band) + 0.002·adversarial against a local
discriminator of the centre (BCE); Adam lr 2e-4, betas (0.5, 0.999), batch 64.

The network's input size is the crop size (`--image-size`, a power of two ≥ 32; windows of that size are what
the engine method then fills from). The hole it learns is always the centre square (`mask_kind = centre`):
validation masks of another kind are painted too, and only the centre is predicted."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from inpaint_studio.networks.context_encoder import generator_input
from inpaint_studio.networks.registry import create_network
from trainer import losses
from trainer.config import ConfigError
from trainer.recipes.base import ExportComponent, Recipe, detach_all


class ContextEncoderRecipe(Recipe):
    name = "context_encoder"
    method = "context_encoder"
    stages = ("",)

    @classmethod
    def defaults(cls, stage: str) -> dict[str, Any]:
        return {
            "image_size": 128, "batch_size": 64, "lr": 2e-4, "d_lr": 2e-4, "betas": [0.5, 0.999],
            "mask_kind": "centre",
            "weights": {"l2": 0.998, "adversarial": 0.002, "overlap": 10.0},
        }

    def _gen_config(self) -> dict[str, Any]:
        size = self.cfg.image_size
        if size < 32 or size & (size - 1):
            raise ConfigError(f"context_encoder needs --image-size a power of two of at least 32, not {size}")
        width = self.width(64)
        bottleneck = max(8, int(round(4000 * self.cfg.width)))
        return {"input_size": size, "nef": width, "ngf": width, "bottleneck": bottleneck}

    def build(self) -> None:
        cfg = self.cfg
        gen = self._gen_config()
        self.nets["generator"] = create_network("context_encoder_generator", **gen).to(self.device)
        self.nets["discriminator"] = create_network(
            "context_encoder_discriminator", input_size=gen["input_size"] // 2, ndf=self.width(64)
        ).to(self.device)
        self.trained = ("generator", "discriminator")
        self.optims["generator"] = self.adam("generator", cfg.lr, cfg.betas)
        self.optims["discriminator"] = self.adam("discriminator", cfg.d_lr, cfg.betas)

    def _boxes(self, like: Tensor) -> tuple[Tensor, slice, Tensor]:
        """(the learned hole as an N×1×S×S mask, the centre slice, the L2 weights over the centre)."""
        g = self.nets["generator"]
        a, b = g.hole_box()
        c0, c1 = g.centre_box()
        hole = like.new_zeros(like.shape[0], 1, *like.shape[-2:])
        hole[..., a:b, a:b] = 1.0
        inner = hole[..., c0:c1, c0:c1]
        weight = inner + float(self.cfg.weights.get("overlap", 10.0)) * (1 - inner)
        return hole, slice(c0, c1), weight

    def train_step(self, batch: dict[str, Tensor]) -> dict[str, Tensor]:
        w = self.cfg.weights
        x = batch["image"] * 2 - 1
        hole, c, weight = self._boxes(x)
        real = x[..., c, c]
        with self.autocast():
            fake = self.net("generator")(generator_input(x, hole))
        zero = x.new_zeros(())
        d_loss, adv = zero, zero
        if w["adversarial"] > 0:
            with self.autocast():
                real_s, fake_s = self.net("discriminator")(torch.cat([real, fake.detach()])).float().chunk(2)
                d_loss = losses.nonsaturating_d_loss(real_s, fake_s)
            self.optimize(d_loss, "discriminator")
            with self.autocast(), self.frozen("discriminator"):
                adv = losses.nonsaturating_g_loss(self.nets["discriminator"](fake).float())
        l2 = (weight * (fake.float() - real) ** 2).mean()
        self.optimize(w["l2"] * l2 + w["adversarial"] * adv, "generator")
        return detach_all({"d": d_loss, "adv": adv, "l2": l2})

    @torch.no_grad()
    def predict(self, batch: dict[str, Tensor]) -> dict[str, Tensor]:
        image, mask = batch["image"], batch["mask"]
        x = image * 2 - 1
        hole, c, _ = self._boxes(x)
        painted = generator_input(x, torch.maximum(hole, mask))
        out = painted.clone()
        out[..., c, c] = self.nets["generator"](painted).float()
        out = ((out + 1) / 2).clamp(0, 1)
        return {"output": out * mask + image * (1 - mask)}

    def export_components(self) -> list[ExportComponent]:
        return [ExportComponent("generator", "context_encoder_generator", self._gen_config())]
