"""EdgeConnect (Nazeri et al. 2019) in its three stages: `edge` (edge generator, adversarial + 10×feature
matching), `inpaint` (inpainting generator on Canny edges: L1/mask mean + 0.1 adversarial + 0.1 perceptual +
250 style) and `joint` (both, the inpainting generator fed the edge generator's completed edges).
Adam lr 1e-4, betas (0, 0.9), discriminators at 0.1× the generator rate, non-saturating GAN, 256², batch 8.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from inpaint_studio.engine.methods.prefill import prefill_title
from inpaint_studio.networks.edgeconnect import (
    NORMS,
    UPSAMPLING,
    edge_generator_input,
    inpaint_generator_input,
    to_grey,
)
from inpaint_studio.networks.registry import create_network
from trainer import losses
from trainer.config import ConfigError
from trainer.recipes.base import BatchNeeds, ExportComponent, Recipe, detach_all

PERCEPTUAL_LAYERS = ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"]
STYLE_LAYERS = ["relu2_2", "relu3_4", "relu4_4", "relu5_2"]


class EdgeConnectRecipe(Recipe):
    name = "edgeconnect"
    method = "edgeconnect"
    supports_prefill = True
    stages = ("edge", "inpaint", "joint")

    @classmethod
    def defaults(cls, stage: str) -> dict[str, Any]:
        return {
            "image_size": 256, "batch_size": 8, "lr": 1e-4, "d_lr": 1e-5, "betas": [0.0, 0.9],
            "mask_kind": "free_form",
            "weights": {"adversarial_edge": 1.0, "feature_matching": 10.0, "l1": 1.0, "adversarial": 0.1,
                        "perceptual": 0.1, "style": 250.0},
        }

    @classmethod
    def loss_terms(cls, stage: str) -> tuple[str, ...] | None:
        edge, inpaint = ("adversarial_edge", "feature_matching"), ("l1", "adversarial", "perceptual", "style")
        return {"edge": edge, "inpaint": inpaint}.get(stage)

    def needs(self) -> BatchNeeds:
        return BatchNeeds(edges=True, prefill=self.prefill() if self.cfg.stage != "edge" else None)

    def best_key(self) -> str:
        return "edge_l1_hole" if self.cfg.stage == "edge" else "l1_hole"

    def vgg_terms(self) -> list[str]:
        # a term weighted 0 needs no trunk (and no VGG pass per step)
        return [] if self.cfg.stage == "edge" else [t for t in ("perceptual", "style") if self.cfg.weights.get(t, 0)]

    @classmethod
    def trained_in(cls, stage: str, names: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(n for n in names if not (stage == "inpaint" and n == "edge_generator"))

    def _gen_config(self, key: str = "upsample") -> dict[str, Any]:
        config: dict[str, Any] = {"base_channels": self.width(64), "num_blocks": int(self.cfg.network.get("num_blocks", 8))}
        # `network.upsample=resize`: nearest ×2 + conv in both decoders instead of the published transposed convs
        # (their 4-8 px checkerboard); recorded only when set, so the published configs stay as they were
        upsample = str(self.cfg.network.get(key) or "transpose")
        if upsample not in UPSAMPLING:
            raise ConfigError(f"network.{key} must be one of {', '.join(UPSAMPLING)}, not '{upsample}'")
        if upsample != "transpose":
            config["upsample"] = upsample
        return config

    def _edge_config(self) -> dict[str, Any]:
        # `network.edge_upsample` overrides `network.upsample` for the edge generator alone: an inpainting
        # generator with resize convolutions can still carry an edge generator seeded from a transposed one
        return self._gen_config("edge_upsample" if self.cfg.network.get("edge_upsample") else "upsample")

    def _inpaint_config(self) -> dict[str, Any]:
        # `network.prefill`: the inpainting generator corrects a classical fill; `network.norm=none`: it drops
        # the instance norms (see `EdgeConnectGenerator`). The edge generator is unchanged by either.
        norm = str(self.cfg.network.get("norm") or "instance")
        if norm not in NORMS:
            raise ConfigError(f"network.norm must be one of {', '.join(NORMS)}, not '{norm}'")
        return {**self._gen_config(), **({"prefill": True} if self.prefill() else {}),
                **({"norm": norm} if norm != "instance" else {})}

    def variant(self) -> str:
        parts = [prefill_title(self.prefill())]
        inpaint_only = []  # what the inpainting generator alone has
        if self._gen_config().get("upsample") == "resize":
            resize = "resize-convolution upsampling (nearest ×2 + conv)"
            (parts if self._edge_config().get("upsample") == "resize" else inpaint_only).append(resize)
        if self._inpaint_config().get("norm") == "none":
            inpaint_only.append("no instance norm")
        if inpaint_only:
            parts.append(f"{' and '.join(inpaint_only)} in the inpainting generator")
        named = [p for p in parts if p]
        return f"EdgeConnect with {' and '.join(named)}" if named else ""

    def init_from_state(self, models: dict[str, dict[str, Tensor]]) -> list[str]:
        loaded = super().init_from_state(models)
        if "inpaint_generator" in loaded and self.prefill() and self.cfg.network.get("reset_heads"):
            self.nets["inpaint_generator"].reset_heads()  # type: ignore[operator]
        return loaded

    def build(self) -> None:
        cfg, stage = self.cfg, self.cfg.stage
        d_cfg = {"base_channels": self.width(64), "use_sigmoid": False}  # logits: softplus losses
        # The inpaint stage carries an (untrained) edge generator along, seeded from the edge run by
        # `init_from`, so that its export holds both networks the app needs.
        self.nets["edge_generator"] = create_network("edgeconnect_edge_generator", **self._edge_config())
        if stage in ("edge", "joint"):
            self.nets["edge_discriminator"] = create_network("edgeconnect_edge_discriminator", **d_cfg)
        if stage in ("inpaint", "joint"):
            self.nets["inpaint_generator"] = create_network("edgeconnect_inpaint_generator", **self._inpaint_config())
            self.nets["inpaint_discriminator"] = create_network("edgeconnect_inpaint_discriminator", **d_cfg)
        for m in self.nets.values():
            m.to(self.device)
        self.trained = self.trained_in(stage, tuple(self.nets))
        for g, d in (("edge_generator", "edge_discriminator"), ("inpaint_generator", "inpaint_discriminator")):
            if g in self.trained:
                self.optims[g] = self.adam(g, cfg.lr, cfg.betas)
                self.optims[d] = self.adam(d, cfg.d_lr, cfg.betas)

    # --- pieces ------------------------------------------------------------------------------------
    # The network inputs are built by the networks module's own helpers, shared with the engine method, so
    # that training and inference agree exactly (luminance weights included).
    def _edge_input(self, image: Tensor, edges: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        g = to_grey(image)
        return edge_generator_input(g, edges, mask), g

    def _inpaint_input(self, image: Tensor, edges: Tensor, mask: Tensor, prefill: Tensor | None = None) -> Tensor:
        return inpaint_generator_input(image, edges, mask, prefill if self.prefill() else None)

    def _edge_step(self, image: Tensor, edges: Tensor, mask: Tensor) -> tuple[dict[str, Tensor], Tensor]:
        w = self.cfg.weights
        x, g = self._edge_input(image, edges, mask)
        with self.autocast():
            pred = self.net("edge_generator")(x)
            real_in = torch.cat([g, edges], dim=1)
            fake_in = torch.cat([g, pred.detach()], dim=1)
            scores, _ = self.net("edge_discriminator")(torch.cat([real_in, fake_in]))
            real_s, fake_s = scores.chunk(2)
            d_loss = losses.nonsaturating_d_loss(real_s.float(), fake_s.float())
        self.optimize(d_loss, "edge_discriminator")
        with self.autocast(), self.frozen("edge_discriminator"):
            d = self.nets["edge_discriminator"]
            fake_score, fake_feats = d(torch.cat([g, pred], dim=1))
            _, real_feats = d(real_in)
            adv = losses.nonsaturating_g_loss(fake_score.float())
            fm = losses.feature_matching_loss([f.float() for f in real_feats], [f.float() for f in fake_feats])
            g_loss = w["adversarial_edge"] * adv + w["feature_matching"] * fm
        self.optimize(g_loss, "edge_generator")
        return {"edge_d": d_loss, "edge_adv": adv, "edge_fm": fm}, pred.detach()

    def _inpaint_step(self, image: Tensor, edges: Tensor, mask: Tensor, prefill: Tensor | None) -> dict[str, Tensor]:
        w = self.cfg.weights
        with self.autocast():
            out = self.net("inpaint_generator")(self._inpaint_input(image, edges, mask, prefill))
        out32 = out.float()
        d_loss = adv = out32.new_zeros(())
        if w["adversarial"]:  # weighted 0: no discriminator pass at all (an L1-only phase runs ~2× faster)
            with self.autocast():
                scores, _ = self.net("inpaint_discriminator")(torch.cat([image, out.detach()]))
                real_s, fake_s = scores.chunk(2)
                d_loss = losses.nonsaturating_d_loss(real_s.float(), fake_s.float())
            self.optimize(d_loss, "inpaint_discriminator")
            with self.autocast(), self.frozen("inpaint_discriminator"):
                fake_score, _ = self.nets["inpaint_discriminator"](out)
                adv = losses.nonsaturating_g_loss(fake_score.float())
        l1 = losses.mask_normalised_l1(out32, image, mask)
        g_loss = w["l1"] * l1 + w["adversarial"] * adv
        parts = {"inpaint_d": d_loss, "l1": l1, "adv": adv}
        if self.vgg is not None and self.vgg_terms():
            fo = self.vgg_features(out32, PERCEPTUAL_LAYERS)
            ft = self.vgg_features(image, PERCEPTUAL_LAYERS)
            perc = losses.perceptual_loss(fo, ft)
            so = self.vgg_features(out32 * mask, STYLE_LAYERS)
            st = self.vgg_features(image * mask, STYLE_LAYERS)
            sty = losses.style_loss(so, st)
            g_loss = g_loss + w["perceptual"] * perc + w["style"] * sty
            parts.update(perceptual=perc, style=sty)
        self.optimize(g_loss, "inpaint_generator")
        return parts

    def train_step(self, batch: dict[str, Tensor]) -> dict[str, Tensor]:
        image, mask, edges = batch["image"], batch["mask"], batch["edges"]
        out: dict[str, Tensor] = {}
        if self.cfg.stage in ("edge", "joint"):
            parts, pred = self._edge_step(image, edges, mask)
            out.update(parts)
            if self.cfg.stage == "joint":
                edges = pred.float() * mask + edges * (1 - mask)
        if self.cfg.stage in ("inpaint", "joint"):
            out.update(self._inpaint_step(image, edges, mask, batch.get("prefill")))
        return detach_all(out)

    @torch.no_grad()
    def predict(self, batch: dict[str, Tensor]) -> dict[str, Tensor]:
        image, mask, edges = batch["image"], batch["mask"], batch["edges"]
        result: dict[str, Tensor] = {}
        if self.cfg.stage != "inpaint":  # the inpaint stage is judged on Canny edges, as it trains
            x, _ = self._edge_input(image, edges, mask)
            prob = self.nets["edge_generator"](x).float()
            # Soft probabilities in the hole, as the engine method (and the published pipeline) feed them.
            edges = result["edges"] = prob * mask + edges * (1 - mask)
        if "inpaint_generator" in self.nets:
            x = self._inpaint_input(image, edges, mask, batch.get("prefill"))
            out = self.nets["inpaint_generator"](x).float()
            result["output"] = out * mask + image * (1 - mask)
        return result

    def export_components(self) -> list[ExportComponent]:
        if "inpaint_generator" not in self.nets:
            raise ConfigError("an edge-stage run has no inpainting generator: export the inpaint or joint run "
                              "(train it with init_from = the edge run)")
        return [ExportComponent("edge_generator", "edgeconnect_edge_generator", self._edge_config()),
                ExportComponent("inpaint_generator", "edgeconnect_inpaint_generator", self._inpaint_config())]
