"""DeepFill v1 (Yu et al. 2018): coarse + contextual-attention refinement generator against WGAN-GP global and
local critics. The paper's settings: 256², batch 16, Adam lr 1e-4, betas (0.5, 0.9), one critic step per
generator step; rectangular holes (`mask_kind` box); the generator loss is

    l1 · (coarse · SD-L1(x1) + SD-L1(x2))  +  ae · (coarse · L1_known(x1) + L1_known(x2))
    + adversarial · (global_adversarial · −D_global(x̂) − D_local(x̂ patch))

with spatially discounted L1 in the hole (γ 0.9, `losses.spatially_discounted_l1`), the known-region L1
divided by its area (`losses.known_region_l1`), l1 = ae = coarse = 1.2, adversarial 1e-3; the critics'
WGAN loss has a gradient penalty (weight 10) taken over the hole only. The global critic scores the whole
`image_size`² crop, the local one an `image_size/2` square around the hole (the paper's 128² patch), so
`image_size` must be a multiple of 32. `--preset small/tiny` scale width and size for a CPU.

The contextual attention runs with the published conventions (`network.attention_mask` "nearest",
`network.attention_norm` "eps_sum"); both are recorded in the exported network config."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from inpaint_studio.networks.registry import create_network
from trainer import losses
from trainer.config import ConfigError
from trainer.recipes.base import ExportComponent, Recipe, detach_all


def local_windows(mask: Tensor, size: int) -> list[tuple[int, int]]:
    """Top-left corners of a size×size window per sample, centred on the hole's bounding box and kept inside
    the image (the centre of the image when a sample has no hole)."""
    h, w = mask.shape[-2:]
    corners = []
    for m in mask[:, 0] > 0.5:
        rows, cols = m.any(dim=1).nonzero(), m.any(dim=0).nonzero()
        if len(rows) and len(cols):
            cy = (int(rows[0]) + int(rows[-1]) + 1) // 2
            cx = (int(cols[0]) + int(cols[-1]) + 1) // 2
        else:
            cy, cx = h // 2, w // 2
        y = min(max(cy - size // 2, 0), h - size)
        x = min(max(cx - size // 2, 0), w - size)
        corners.append((y, x))
    return corners


def crop_windows(x: Tensor, corners: list[tuple[int, int]], size: int) -> Tensor:
    return torch.stack([x[i, :, y : y + size, c : c + size] for i, (y, c) in enumerate(corners)])


class DeepFillV1Recipe(Recipe):
    name = "deepfill_v1"
    method = "deepfill_v1"
    stages = ("",)

    @classmethod
    def defaults(cls, stage: str) -> dict[str, Any]:
        return {
            "image_size": 256, "batch_size": 16, "lr": 1e-4, "d_lr": 1e-4, "betas": [0.5, 0.9],
            "mask_kind": "box",
            "weights": {"l1": 1.2, "ae": 1.2, "coarse": 1.2, "adversarial": 1e-3, "global_adversarial": 1.0,
                        "gradient_penalty": 10.0, "discount_gamma": 0.9},
        }  # fmt: skip

    def _gen_config(self) -> dict[str, Any]:
        net = self.cfg.network
        return {
            "cnum": max(2, int(round(32 * self.cfg.width / 2)) * 2),
            "attention_mask": str(net.get("attention_mask", "nearest")),
            "attention_norm": str(net.get("attention_norm", "eps_sum")),
        }

    def build(self) -> None:
        cfg = self.cfg
        if cfg.image_size % 32:
            raise ConfigError(f"deepfill_v1 needs image_size a multiple of 32 (its critics), not {cfg.image_size}")
        self.local_size = cfg.image_size // 2
        cnum = self.width(64)
        self.nets["generator"] = create_network("deepfill_v1_generator", **self._gen_config()).to(self.device)
        self.nets["global_critic"] = create_network("deepfill_v1_critic", cnum=cnum, size=cfg.image_size).to(
            self.device
        )
        self.nets["local_critic"] = create_network("deepfill_v1_critic", cnum=cnum, size=self.local_size).to(
            self.device
        )
        self.trained = ("generator", "global_critic", "local_critic")
        self.optims["generator"] = self.adam("generator", cfg.lr, cfg.betas)
        self.optims["critics"] = self.adam(["global_critic", "local_critic"], cfg.d_lr, cfg.betas)

    def train_step(self, batch: dict[str, Tensor]) -> dict[str, Tensor]:
        w = self.cfg.weights
        image, mask = batch["image"] * 2 - 1, batch["mask"]
        with self.autocast():
            coarse, fine = self.net("generator")(image, mask)
        coarse, fine = coarse.float(), fine.float()
        completed = fine * mask + image * (1 - mask)
        corners = local_windows(mask, self.local_size)
        local_mask = crop_windows(mask, corners, self.local_size)
        local_real = crop_windows(image, corners, self.local_size)
        local_fake = crop_windows(completed, corners, self.local_size)

        zero = image.new_zeros(())
        d_loss, gp, adv = zero, zero, zero
        if w["adversarial"] > 0 and self.step >= int(w.get("adversarial_start", 0)):
            g_scores = self.net("global_critic")(torch.cat([image, completed.detach()])).float()
            l_scores = self.net("local_critic")(torch.cat([local_real, local_fake.detach()])).float()
            (rg, fg), (rl, fl) = g_scores.chunk(2), l_scores.chunk(2)
            gp = losses.gradient_penalty(self.nets["global_critic"], image, completed, mask) + losses.gradient_penalty(
                self.nets["local_critic"], local_real, local_fake, local_mask
            )
            d_loss = losses.wgan_d_loss(rg, fg) + losses.wgan_d_loss(rl, fl) + w["gradient_penalty"] * gp
            self.optimize(d_loss, "critics")
            with self.frozen("global_critic", "local_critic"):
                adv = w["global_adversarial"] * losses.wgan_g_loss(
                    self.nets["global_critic"](completed).float()
                ) + losses.wgan_g_loss(self.nets["local_critic"](local_fake).float())

        gamma = float(w["discount_gamma"])
        sd_l1 = w["coarse"] * losses.spatially_discounted_l1(coarse, image, mask, gamma)
        sd_l1 = sd_l1 + losses.spatially_discounted_l1(fine, image, mask, gamma)
        ae = w["coarse"] * losses.known_region_l1(coarse, image, mask) + losses.known_region_l1(fine, image, mask)
        g_loss = w["l1"] * sd_l1 + w["ae"] * ae + w["adversarial"] * adv
        self.optimize(g_loss, "generator")
        return detach_all({"d": d_loss, "gp": gp, "adv": adv, "l1": sd_l1, "ae": ae})

    @torch.no_grad()
    def predict(self, batch: dict[str, Tensor]) -> dict[str, Tensor]:
        image, mask = batch["image"], batch["mask"]
        _, fine = self.nets["generator"](image * 2 - 1, mask)
        out = ((fine.float() + 1) / 2).clamp(0, 1)
        return {"output": out * mask + image * (1 - mask)}

    def export_components(self) -> list[ExportComponent]:
        return [ExportComponent("generator", "deepfill_v1_generator", self._gen_config())]
