"""PGGAN (Demir & Ünal 2018): the dilated residual generator against one discriminator with a PatchGAN head
and a global head (shared layers). Generator loss: L1 (hole and known pixels alike) + an adversarial term
per head; non-saturating GAN (BCE). The paper's weights are not in our reference, so the defaults are ours
and say so: L1 1, each adversarial head 0.01 (the scale of DeepFill-style recipes on this trainer), Adam lr
2e-4, betas (0.5, 0.999), 256² crops, batch 16, DeepFill's box ∪ stroke masks."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from inpaint_studio.networks.pggan import generator_input
from inpaint_studio.networks.registry import create_network
from trainer import losses
from trainer.recipes.base import ExportComponent, Recipe, detach_all


class PGGANRecipe(Recipe):
    name = "pggan"
    method = "pggan"
    stages = ("",)
    partial_seed = ("generator",)  # `network.upsample` changes the decoder's upsampling layers only

    @classmethod
    def defaults(cls, stage: str) -> dict[str, Any]:
        return {
            "image_size": 256, "batch_size": 16, "lr": 2e-4, "d_lr": 2e-4, "betas": [0.5, 0.999],
            "mask_kind": "deepfill",
            "weights": {"l1": 1.0, "adversarial_patch": 0.01, "adversarial_global": 0.01},
        }

    def _gen_config(self) -> dict[str, Any]:
        return {"cnum": self.width(64), "num_blocks": int(self.cfg.network.get("num_blocks", 6)),
                "upsample": str(self.cfg.network.get("upsample", "transpose")),
                "norm": str(self.cfg.network.get("norm", "instance"))}

    def variant(self) -> str:
        config = self._gen_config()
        parts = (["resize-convolution upsampling (bilinear ×2 + conv)"] if config["upsample"] == "resize" else []) + (
            ["no instance norm"] if config["norm"] == "none" else [])
        return f"PGGAN with {' and '.join(parts)}" if parts else ""

    def build(self) -> None:
        cfg = self.cfg
        self.nets["generator"] = create_network("pggan_generator", **self._gen_config()).to(self.device)
        self.nets["discriminator"] = create_network("pggan_discriminator", cnum=self.width(64)).to(self.device)
        self.trained = ("generator", "discriminator")
        self.optims["generator"] = self.adam("generator", cfg.lr, cfg.betas)
        self.optims["discriminator"] = self.adam("discriminator", cfg.d_lr, cfg.betas)

    def train_step(self, batch: dict[str, Tensor]) -> dict[str, Tensor]:
        w = self.cfg.weights
        x, mask = batch["image"] * 2 - 1, batch["mask"]
        with self.autocast():
            out = self.net("generator")(generator_input(x, mask))
            completed = out * mask + x * (1 - mask)
        zero = x.new_zeros(())
        d_loss, adv_p, adv_g = zero, zero, zero
        if w["adversarial_patch"] > 0 or w["adversarial_global"] > 0:
            with self.autocast():
                patch, whole = self.net("discriminator")(torch.cat([x, completed.detach()]))
                real_p, fake_p = patch.float().chunk(2)
                real_g, fake_g = whole.float().chunk(2)
                d_loss = losses.nonsaturating_d_loss(real_p, fake_p) + losses.nonsaturating_d_loss(real_g, fake_g)
            self.optimize(d_loss, "discriminator")
            with self.autocast(), self.frozen("discriminator"):
                patch, whole = self.nets["discriminator"](completed)
                adv_p = losses.nonsaturating_g_loss(patch.float())
                adv_g = losses.nonsaturating_g_loss(whole.float())
        l1 = losses.l1_loss(out.float(), x)
        g_loss = w["l1"] * l1 + w["adversarial_patch"] * adv_p + w["adversarial_global"] * adv_g
        self.optimize(g_loss, "generator")
        return detach_all({"d": d_loss, "adv_patch": adv_p, "adv_global": adv_g, "l1": l1})

    @torch.no_grad()
    def predict(self, batch: dict[str, Tensor]) -> dict[str, Tensor]:
        image, mask = batch["image"], batch["mask"]
        out = self.nets["generator"](generator_input(image * 2 - 1, mask))
        out = ((out.float() + 1) / 2).clamp(0, 1)
        return {"output": out * mask + image * (1 - mask)}

    def export_components(self) -> list[ExportComponent]:
        return [ExportComponent("generator", "pggan_generator", self._gen_config())]
