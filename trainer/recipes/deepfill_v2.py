"""DeepFill v2 (Yu et al. 2019): gated-conv coarse + refinement generator against an SN-PatchGAN critic.
Hinge loss (weight 1) + L1 on both stages (weight 1 each); Adam lr 1e-4, betas (0.5, 0.999); 256², batch 16;
masks = union of a random box and free-form brush strokes (`core.synthesis.deepfill_training_mask`).

Two knobs for small compute, off by default (the paper's loss): `weights.hole` / `weights.valid` weight the L1
inside and outside the hole, and `weights.adversarial_start` keeps the critic and the adversarial term off until
that step, so the colours settle under L1 before the GAN term competes with them.

The contextual attention keeps the conventions our checkpoints were trained with (`network.attention_mask`
"maxpool", `network.attention_norm` "clamp"; the published code uses "nearest"/"eps_sum"), recorded in the
exported network config.


Our small variants may start from a classical fill (`--set network.prefill=navier_stokes` or `patchmatch`; off by
default, so the paper's generator and its published weights are untouched): the generator is then
`deepfill_v2_prefill_generator`, fed the classical fill of the hole, and learns a correction of it that starts at
zero (step 0 = the classical fill). The fill's name goes into the export's metadata, where the engine reads it
to compute the same fill at inference. `network.reset_heads=true` zeroes the corrections again after
`--init-from` (seeding from a plain DeepFill v2 run of the same width keeps its features, starts at the
classical fill). Optional `weights.perceptual` / `weights.style` (EdgeConnect's terms, on the completed image;
0 by default: not the paper's) use the feature trunk (`--feature-trunk hed`)."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from inpaint_studio.engine.methods.prefill import prefill_title
from inpaint_studio.networks.registry import create_network
from trainer import losses
from trainer.config import ConfigError
from trainer.recipes.base import BatchNeeds, ExportComponent, Recipe, detach_all
from trainer.recipes.edgeconnect import PERCEPTUAL_LAYERS, STYLE_LAYERS


class DeepFillV2Recipe(Recipe):
    name = "deepfill_v2"
    method = "deepfill_v2"
    supports_prefill = True
    stages = ("",)

    @classmethod
    def defaults(cls, stage: str) -> dict[str, Any]:
        return {
            "image_size": 256, "batch_size": 16, "lr": 1e-4, "d_lr": 1e-4, "betas": [0.5, 0.999],
            "mask_kind": "deepfill",
            "weights": {"l1_coarse": 1.0, "l1_fine": 1.0, "adversarial": 1.0},
        }

    def _gen_config(self) -> dict[str, Any]:
        cnum = max(4, int(round(48 * self.cfg.width / 4)) * 4)  # the generator needs a multiple of 4
        net = self.cfg.network
        return {
            "cnum": cnum,
            "fuse": bool(net.get("fuse", True)),
            "attention_mask": str(net.get("attention_mask", "maxpool")),
            "attention_norm": str(net.get("attention_norm", "clamp")),
        }

    def _check_upsample(self) -> None:
        upsample = self.cfg.network.get("upsample") or "resize"
        if upsample != "resize":  # the paper's generator already upsamples by nearest ×2 + gated conv
            raise ConfigError(f"DeepFill v2 upsamples by nearest ×2 + conv only: network.upsample '{upsample}'")

    def _gen_network(self) -> str:
        return "deepfill_v2_prefill_generator" if self.prefill() else "deepfill_v2_generator"

    def needs(self) -> BatchNeeds:
        return BatchNeeds(prefill=self.prefill())

    def variant(self) -> str:
        title = prefill_title(self.prefill())
        return f"DeepFill v2 with {title}" if title else ""

    def vgg_terms(self) -> list[str]:
        return [k for k in ("perceptual", "style") if float(self.cfg.weights.get(k, 0.0)) > 0]

    def _generate(self, net: torch.nn.Module, image: Tensor, mask: Tensor, batch: dict[str, Tensor]) -> Any:
        if self.prefill():
            return net(image, mask, batch["prefill"] * 2 - 1)
        return net(image, mask)

    def init_from_state(self, models: dict[str, dict[str, Tensor]]) -> list[str]:
        loaded = super().init_from_state(models)
        if "generator" in loaded and self.prefill() and self.cfg.network.get("reset_heads"):
            self.nets["generator"].reset_heads()  # type: ignore[operator]
        return loaded

    def build(self) -> None:
        cfg = self.cfg
        self._check_upsample()
        self.nets["generator"] = create_network(self._gen_network(), **self._gen_config()).to(self.device)
        self.nets["discriminator"] = create_network("deepfill_v2_discriminator", cnum=self.width(64)).to(self.device)
        self.trained = ("generator", "discriminator")
        self.optims["generator"] = self.adam("generator", cfg.lr, cfg.betas)
        self.optims["discriminator"] = self.adam("discriminator", cfg.d_lr, cfg.betas)

    def train_step(self, batch: dict[str, Tensor]) -> dict[str, Tensor]:
        w = self.cfg.weights
        image, mask = batch["image"] * 2 - 1, batch["mask"]
        gan_on = w["adversarial"] > 0 and self.step >= int(w.get("adversarial_start", 0))
        with self.autocast():
            coarse, fine = self._generate(self.net("generator"), image, mask, batch)
            completed = fine * mask + image * (1 - mask)
        zero = image.new_zeros(())
        d_loss, adv = zero, zero
        if gan_on:
            with self.autocast():
                pair = torch.cat([torch.cat([image, mask], 1), torch.cat([completed.detach(), mask], 1)])
                real_s, fake_s = self.net("discriminator")(pair).float().chunk(2)
                d_loss = losses.hinge_d_loss(real_s, fake_s)
            self.optimize(d_loss, "discriminator")
            with self.autocast(), self.frozen("discriminator"):
                adv = losses.hinge_g_loss(self.nets["discriminator"](torch.cat([completed, mask], 1)).float())
        hole, valid = float(w.get("hole", 1.0)), float(w.get("valid", 1.0))
        l1_c = losses.l1_loss(coarse.float(), image, mask, hole, valid)
        l1_f = losses.l1_loss(fine.float(), image, mask, hole, valid)
        g_loss = w["l1_coarse"] * l1_c + w["l1_fine"] * l1_f + w["adversarial"] * adv
        parts = {"d": d_loss, "adv": adv, "l1_coarse": l1_c, "l1_fine": l1_f}
        if self.vgg is not None and self.vgg_terms():
            out01, target01 = (completed.float() + 1) / 2, (image + 1) / 2
            if float(w.get("perceptual", 0.0)) > 0:
                perc = losses.perceptual_loss(self.vgg_features(out01, PERCEPTUAL_LAYERS),
                                              self.vgg_features(target01, PERCEPTUAL_LAYERS))
                g_loss = g_loss + float(w["perceptual"]) * perc
                parts["perceptual"] = perc
            if float(w.get("style", 0.0)) > 0:
                sty = losses.style_loss(self.vgg_features(out01 * mask, STYLE_LAYERS),
                                        self.vgg_features(target01 * mask, STYLE_LAYERS))
                g_loss = g_loss + float(w["style"]) * sty
                parts["style"] = sty
        self.optimize(g_loss, "generator")
        return detach_all(parts)

    @torch.no_grad()
    def predict(self, batch: dict[str, Tensor]) -> dict[str, Tensor]:
        image, mask = batch["image"], batch["mask"]
        _, fine = self._generate(self.nets["generator"], image * 2 - 1, mask, batch)
        out = ((fine.float() + 1) / 2).clamp(0, 1)
        return {"output": out * mask + image * (1 - mask)}

    def export_components(self) -> list[ExportComponent]:
        return [ExportComponent("generator", self._gen_network(), self._gen_config())]
