"""GLCIC (Iizuka et al. 2017): the completion network against a context discriminator (a local crop around
the hole ‖ the whole crop), in the paper's three phases by step: MSE on the hole only until `d_start`
(paper Tc = 90 000), then the discriminator alone until `joint_start` (Tc + Td = 100 000), then both with
the generator's loss MSE + α·adversarial (α = 4e-4; BCE). 160² crops with one rectangular hole of
48–96 px (`mask_kind = glcic`), local crops of 96² (0.6 of the crop); batch 96; ADADELTA as the paper
(`--set network.optimizer=adam` for Adam at `--lr`).

The hole is painted with the mean colour of each crop's known pixels (the paper uses the training set's
mean colour; published weights carry theirs, which the engine method then uses instead)."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from inpaint_studio.networks.glcic import completion_input, known_mean_colour
from inpaint_studio.networks.registry import create_network
from trainer import losses
from trainer.config import ConfigError
from trainer.recipes.base import ExportComponent, Recipe, detach_all

LOCAL_FRACTION = 0.6  # 96² local crops in 160² crops


def local_crops(images: Tensor, mask: Tensor, size: int) -> Tensor:
    """For each image, the size×size crop centred on its hole's bounding box (kept inside the image)."""
    h, w = images.shape[-2:]
    crops = []
    for img, m in zip(images, mask, strict=True):
        ys, xs = torch.nonzero(m[0] > 0.5, as_tuple=True)
        cy, cx = (int((ys.min() + ys.max()) // 2), int((xs.min() + xs.max()) // 2)) if ys.numel() else (h // 2, w // 2)
        top = min(max(cy - size // 2, 0), h - size)
        left = min(max(cx - size // 2, 0), w - size)
        crops.append(img[:, top : top + size, left : left + size])
    return torch.stack(crops)


class GLCICRecipe(Recipe):
    name = "glcic"
    method = "glcic"
    stages = ("",)

    @classmethod
    def defaults(cls, stage: str) -> dict[str, Any]:
        return {
            "image_size": 160, "batch_size": 96, "lr": 1.0, "d_lr": 1.0, "mask_kind": "glcic",
            "weights": {"mse": 1.0, "adversarial": 4e-4, "d_start": 90000, "joint_start": 100000},
            "network": {"optimizer": "adadelta"},
        }

    def _gen_config(self) -> dict[str, Any]:
        return {"cnum": self.width(64)}

    def _local_size(self) -> int:
        return max(8, round(LOCAL_FRACTION * self.cfg.image_size))

    def _optimizer(self, name: str, lr: float) -> torch.optim.Optimizer:
        kind = str(self.cfg.network.get("optimizer", "adadelta"))
        if kind == "adadelta":
            return torch.optim.Adadelta(self.nets[name].parameters(), lr=lr)
        if kind == "adam":
            return self.adam(name, lr, self.cfg.betas)
        raise ConfigError(f"glcic: network.optimizer must be adadelta or adam, not '{kind}'")

    def build(self) -> None:
        cfg = self.cfg
        self.nets["completion"] = create_network("glcic_completion", **self._gen_config()).to(self.device)
        self.nets["discriminator"] = create_network(
            "glcic_discriminator", local_size=self._local_size(), global_size=cfg.image_size, cnum=self.width(64)
        ).to(self.device)
        self.trained = ("completion", "discriminator")
        self.optims["completion"] = self._optimizer("completion", cfg.lr)
        self.optims["discriminator"] = self._optimizer("discriminator", cfg.d_lr)

    def _phase(self) -> tuple[bool, bool]:
        """(train the completion network, train the discriminator) at the current step."""
        w = self.cfg.weights
        d_start, joint_start = int(w.get("d_start", 90000)), int(w.get("joint_start", 100000))
        if w["adversarial"] <= 0 or self.step < d_start:
            return True, False
        return self.step >= joint_start, True

    def _complete(self, net: torch.nn.Module, image: Tensor, mask: Tensor) -> Tensor:
        return net(completion_input(image, mask, known_mean_colour(image, mask)))

    def train_step(self, batch: dict[str, Tensor]) -> dict[str, Tensor]:
        w = self.cfg.weights
        image, mask = batch["image"], batch["mask"]
        train_g, train_d = self._phase()
        with self.autocast(), torch.set_grad_enabled(train_g):
            out = self._complete(self.net("completion"), image, mask)
            completed = out * mask + image * (1 - mask)
        zero = image.new_zeros(())
        d_loss, adv = zero, zero
        size = self._local_size()
        if train_d:
            with self.autocast():
                fake = completed.detach()
                real_s = self.net("discriminator")(local_crops(image, mask, size), image).float()
                fake_s = self.net("discriminator")(local_crops(fake, mask, size), fake).float()
                d_loss = losses.nonsaturating_d_loss(real_s, fake_s)
            self.optimize(d_loss, "discriminator")
        mse = ((out.float() - image) * mask).pow(2).mean()  # the hole only, as the paper
        if train_g:
            if train_d:
                with self.autocast(), self.frozen("discriminator"):
                    adv = losses.nonsaturating_g_loss(
                        self.nets["discriminator"](local_crops(completed, mask, size), completed).float()
                    )
            self.optimize(w["mse"] * mse + w["adversarial"] * adv, "completion")
        return detach_all({"d": d_loss, "adv": adv, "mse": mse})

    @torch.no_grad()
    def predict(self, batch: dict[str, Tensor]) -> dict[str, Tensor]:
        image, mask = batch["image"], batch["mask"]
        out = self._complete(self.nets["completion"], image, mask).float().clamp(0, 1)
        return {"output": out * mask + image * (1 - mask)}

    def export_components(self) -> list[ExportComponent]:
        return [ExportComponent("completion", "glcic_completion", self._gen_config())]
