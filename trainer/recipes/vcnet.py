"""VCNet (Wang et al. 2020), blind inpainting, in three stages: `mpn` (mask prediction, τ-weighted BCE,
lr 1e-3), `rin` (robust inpainting on the true mask, lr 1e-4) and `joint` (RIN on the predicted mask,
2·BCE + generator loss, lr 2e-4). `--set network.mpn=vcnet_mpn_hed` swaps the MPN for the one on HED's
pretrained VGG16 trunk (seeded from `fetch-hed`'s file, or `network.hed_weights=FILE`; trunk frozen unless
`network.freeze_trunk=false`); `--set network.mpn=vcnet_mpn_fine` for the one with a full-resolution head on
damage cues (thin scratches), seeded by `--init-from` from a plain MPN run or one with a narrower head
(`network.refine_channels`; widened without changing its output); `network.freeze_body=true` trains the head
alone. Generator loss: 1.4·L1 + 1e-4·VGG feature (relu3_2) + 1e-3·ID-MRF + 1e-3·adversarial (WGAN-GP,
penalty 10, a global and a mask-weighted patch critic). Betas (0.5, 0.9), batch 4, 256². Samples: I = O⊙(1−M) + N⊙M with N from other photos of the set (`core.synthesis`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from inpaint_studio.networks.registry import create_network
from inpaint_studio.networks.vcnet import rin_input, to_network_range
from inpaint_studio.networks.vcnet_fine import MPNFine
from trainer import losses
from trainer.config import ConfigError
from trainer.hed import hed_weights_path, load_hed
from trainer.recipes.base import BatchNeeds, ExportComponent, Recipe, detach_all

MPN_NETWORKS = ("vcnet_mpn", "vcnet_mpn_hed", "vcnet_mpn_fine")
MRF_LAYERS = ["relu3_2", "relu4_2"]
FEATURE_LAYERS = ["relu3_2"]


class VCNetRecipe(Recipe):
    name = "vcnet"
    method = "vcnet"
    stages = ("mpn", "rin", "joint")

    @classmethod
    def defaults(cls, stage: str) -> dict[str, Any]:
        lr = {"mpn": 1e-3, "rin": 1e-4, "joint": 2e-4}[stage] if stage in cls.stages else 1e-4
        return {
            "image_size": 256, "batch_size": 4, "lr": lr, "d_lr": lr, "betas": [0.5, 0.9],
            "damage": ["contamination"],
            "weights": {"bce": 1.0 if stage == "mpn" else 2.0, "dice": 0.0, "l1": 1.4, "feature": 1e-4, "id_mrf": 1e-3,
                        "adversarial": 1e-3, "gradient_penalty": 10.0},
        }

    @classmethod
    def loss_terms(cls, stage: str) -> tuple[str, ...] | None:
        return ("bce", "dice") if stage == "mpn" else None  # the mask network alone learns from its mask losses only

    @classmethod
    def trained_in(cls, stage: str, names: tuple[str, ...]) -> tuple[str, ...]:
        # The mask stage carries an untrained RIN along; the RIN stage runs the (frozen) MPN.
        kept = {"mpn": ("mpn",), "rin": ("rin", "discriminator", "patch_discriminator")}.get(stage)
        return names if kept is None else tuple(n for n in names if n in kept)

    def needs(self) -> BatchNeeds:
        return BatchNeeds(damage=True)

    def best_key(self) -> str:
        return "mask_bce_tau" if self.cfg.stage == "mpn" else "l1_hole"

    def vgg_terms(self) -> list[str]:
        return [] if self.cfg.stage == "mpn" else ["feature", "id_mrf"]

    def _mpn_network(self) -> str:
        name = str(self.cfg.network.get("mpn", "vcnet_mpn"))
        if name not in MPN_NETWORKS:
            raise ConfigError(f"network.mpn must be one of {', '.join(MPN_NETWORKS)}, not '{name}'")
        return name

    def _neck_channels(self) -> int:
        return 2 * self.width(64, minimum=8)

    def _mpn_config(self) -> dict[str, Any]:
        if self._mpn_network() == "vcnet_mpn_hed":
            return {"neck_channels": self._neck_channels(), "decoder_channels": self.width(64, minimum=8),
                    "freeze_trunk": bool(self.cfg.network.get("freeze_trunk", True))}
        if self._mpn_network() == "vcnet_mpn_fine":
            return {"base_channels": self.width(64, minimum=8),
                    "refine_channels": int(self.cfg.network.get("refine_channels", 24)),
                    "freeze_body": bool(self.cfg.network.get("freeze_body", False))}
        return {"base_channels": self.width(64, minimum=8)}

    def _rin_config(self) -> dict[str, Any]:
        return {"base_channels": self.width(32), "neck_channels": self._neck_channels()}

    def init_from_state(self, models: dict[str, dict[str, Tensor]]) -> list[str]:
        """As the base, except that `vcnet_mpn_fine` may be seeded from a plain MPN (its head starts at zero
        output) or from one with a narrower head (widened without changing its output): `MPNFine.seed_from`.
        Any other key mismatch still fails."""
        mpn = self.nets["mpn"]
        state = models.get("mpn")
        if isinstance(mpn, MPNFine) and state is not None:
            try:
                how = mpn.seed_from(state)
            except ValueError as exc:
                raise ConfigError(str(exc)) from None
            rest = {k: v for k, v in models.items() if k != "mpn"}
            return [f"mpn ({how})", *super().init_from_state(rest)]
        return super().init_from_state(models)

    def _init_hed_trunk(self) -> None:
        """Seed the HED MPN's trunk from the converted HED weights (a resume or export overwrites it)."""
        given = str(self.cfg.network.get("hed_weights", ""))
        path = Path(given) if given else hed_weights_path()
        if path is None:
            raise ConfigError("network.mpn=vcnet_mpn_hed needs the HED weights: run python -m trainer fetch-hed")
        self.nets["mpn"].load_trunk(load_hed(path).state_dict())

    def build(self) -> None:
        cfg, stage = self.cfg, self.cfg.stage
        if cfg.image_size % 32:
            raise ConfigError(f"vcnet needs image_size a multiple of 32 (its critics), got {cfg.image_size}")
        self.nets["mpn"] = create_network(self._mpn_network(), **self._mpn_config())
        if self._mpn_network() == "vcnet_mpn_hed":
            self._init_hed_trunk()
        self.nets["rin"] = create_network("vcnet_rin", **self._rin_config())
        if stage != "mpn":
            d = self.width(64)
            self.nets["discriminator"] = create_network("vcnet_discriminator", base_channels=d,
                                                        input_size=cfg.image_size)
            self.nets["patch_discriminator"] = create_network("vcnet_patch_discriminator", base_channels=d)
        for m in self.nets.values():
            m.to(self.device)
        # The RIN stage still runs the (frozen) MPN: the RIN consumes its bottleneck feature.
        self.trained = self.trained_in(stage, tuple(self.nets))
        if stage in ("mpn", "joint"):
            # Only trainable parameters: a frozen HED trunk gets no Adam state (smaller checkpoints).
            trainable = [p for p in self.nets["mpn"].parameters() if p.requires_grad]
            self.optims["mpn"] = torch.optim.Adam(trainable, lr=cfg.lr, betas=(float(cfg.betas[0]),
                                                                               float(cfg.betas[1])))
        if stage != "mpn":
            self.optims["rin"] = self.adam("rin", cfg.lr, cfg.betas)
            self.optims["critics"] = self.adam(["discriminator", "patch_discriminator"], cfg.d_lr, cfg.betas)

    def _inpaint(self, rin: torch.nn.Module, x: Tensor, hole: Tensor, neck: Tensor) -> Tensor:
        return rin(rin_input(x, hole), hole, neck)

    def _critics(self, image: Tensor, mask: Tensor, wrapped: bool) -> Tensor:
        get = self.net if wrapped else self.nets.__getitem__
        return get("discriminator")(image).mean() + get("patch_discriminator")(image, mask).mean()

    def _mask_losses(self, prob: Tensor, mask: Tensor) -> dict[str, Tensor]:
        """τ-weighted BCE (the paper's), plus soft Dice when `weights.dice` > 0."""
        parts = {"bce": losses.tau_weighted_bce(prob.float(), mask, tau_max=float(self.cfg.mask_tau_max))}
        if self.cfg.weights.get("dice", 0.0) > 0:
            parts["dice"] = losses.soft_dice(prob.float(), mask)
        return parts

    def train_step(self, batch: dict[str, Tensor]) -> dict[str, Tensor]:
        w, stage = self.cfg.weights, self.cfg.stage
        target, mask, contaminated = batch["image"], batch["mask"], batch["input"]
        x = to_network_range(contaminated)
        parts: dict[str, Tensor] = {}
        if stage == "mpn":
            prob, _ = self.net("mpn")(x)
            parts = self._mask_losses(prob, mask)
            self.optimize(sum(w[k] * v for k, v in parts.items()), "mpn")
            return detach_all(parts)

        if stage == "rin":
            with torch.no_grad():
                _, neck = self.nets["mpn"](x)
            hole = mask
        else:
            prob, neck = self.net("mpn")(x)
            parts.update(self._mask_losses(prob, mask))
            hole = prob
        rin = self.nets["rin"]
        out = self._inpaint(self.net("rin"), x, hole, neck).float()
        out01 = rin.to_unit_range(out)
        fake = out01 * mask + target * (1 - mask)

        l1 = losses.l1_loss(out, rin.from_unit_range(target))
        g_loss = w["l1"] * l1
        parts.update(l1=l1)
        # `weights.adversarial_start` (default 0) keeps the critics off until the colours settle (small compute)
        if w["adversarial"] > 0 and self.step >= int(w.get("adversarial_start", 0)):
            # Critics: WGAN-GP, real = clean photo, fake = the filled image (hole from the true mask).
            real_fake = torch.cat([target, fake.detach()])
            m2 = torch.cat([mask, mask])
            d_global = self.net("discriminator")(real_fake)
            d_patch = self.net("patch_discriminator")(real_fake, m2)
            (rg, fg), (rp, fp) = d_global.chunk(2), d_patch.chunk(2)
            gp = losses.gradient_penalty(self.nets["discriminator"], target, fake) + losses.gradient_penalty(
                lambda t: self.nets["patch_discriminator"](t, mask), target, fake, mask
            )
            d_loss = losses.wgan_d_loss(rg, fg) + losses.wgan_d_loss(rp, fp) + w["gradient_penalty"] * gp
            self.optimize(d_loss, "critics")
            with self.frozen("discriminator", "patch_discriminator"):
                adv = losses.wgan_g_loss(self._critics(fake, mask, wrapped=False))
            g_loss = g_loss + w["adversarial"] * adv
            parts.update(d=d_loss, gp=gp, adv=adv)
        if self.vgg is not None:
            feat = losses.perceptual_loss(self.vgg_features(fake, FEATURE_LAYERS),
                                          self.vgg_features(target, FEATURE_LAYERS))
            mrf = losses.id_mrf_loss(self.vgg_features(fake, MRF_LAYERS), self.vgg_features(target, MRF_LAYERS))
            g_loss = g_loss + w["feature"] * feat + w["id_mrf"] * mrf
            parts.update(feature=feat, id_mrf=mrf)
        if stage == "joint":
            self.optimize(g_loss + sum(w[k] * parts[k] for k in ("bce", "dice") if k in parts), "mpn", "rin")
        else:
            self.optimize(g_loss, "rin")
        return detach_all(parts)

    @torch.no_grad()
    def predict(self, batch: dict[str, Tensor]) -> dict[str, Tensor]:
        mask, contaminated = batch["mask"], batch["input"]
        x = to_network_range(contaminated)
        prob, neck = self.nets["mpn"](x)
        prob = prob.float()
        result = {"mask_prob": prob}
        if self.cfg.stage == "mpn":
            return result
        # The RIN stage is judged on the true mask (as it trains); joint on its own prediction (blind).
        hole = mask if self.cfg.stage == "rin" else (prob >= 0.5).float()
        out = self.nets["rin"].to_unit_range(self._inpaint(self.nets["rin"], x, hole, neck).float())
        result["output"] = out * hole + contaminated * (1 - hole)
        return result

    def export_components(self) -> list[ExportComponent]:
        return [ExportComponent("mpn", self._mpn_network(), self._mpn_config()),
                ExportComponent("rin", "vcnet_rin", self._rin_config())]
