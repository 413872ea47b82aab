"""The `deepfill_v2` method (gated convolution + contextual attention) and its published layouts.

Published inference convention (reference MODELS.md), followed exactly: RGB [0, 1] → [−1, 1]; mask 1 = hole;
coarse input `[img·(1−m), ones, ones·m]`; refinement input `x1·m + x·(1−m)`; output `x2·m + img·(1−m)`;
sizes padded (by reflection, never cropped) to a multiple of 8; channel order per checkpoint.

Published files (nipponjo/deepfillv2-pytorch, top-level key 'G', training saves add 'D'):
- `states_pt_*.pth`: fine-tuned for PyTorch padding, keys `stage1.*`/`stage2.*` = our names.
- `states_tf_*.pth`: converted official TF weights, flat keys `conv1 … allconv17`, TF 'SAME' padding.
  The official TF code reads images with cv2.imread and feeds them unconverted, so these weights most
  likely expect BGR: imported as BGR (MODELS.md marks this unverified; `channel_order=` on import or
  editing the JSON overrides it).

Contextual attention conventions (network config `attention_mask`, `attention_norm`): imported published
weights record the published ones ("nearest", "eps_sum"); our trained checkpoints record what they were
trained with. A checkpoint written before the option existed has neither key: an import (its JSON names a
source layout) gets the published conventions, anything else (trained here) ours ("maxpool", "clamp").

torch is imported inside functions only (listing methods must not import it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from inpaint_studio.engine.base import Capabilities, register_method
from inpaint_studio.engine.importer import PublishedLayout, flatten_keys, register_layout
from inpaint_studio.engine.methods.attention_memory import AttentionMethod
from inpaint_studio.engine.methods.learned import PublishedComponents


def legacy_attention_config(meta: Mapping[str, Any], component: str = "generator") -> dict[str, str]:
    """The attention conventions a checkpoint without recorded ones was made with (see the module doc)."""
    spec = (meta.get("components") or {}).get(component) or {}
    config = spec.get("config") or {}
    from inpaint_studio.networks.deepfill_v2 import OURS_ATTENTION, PUBLISHED_ATTENTION

    imported = bool((meta.get("source") or {}).get("layout"))
    implied = PUBLISHED_ATTENTION if imported else OURS_ATTENTION
    return {k: v for k, v in implied.items() if k not in config}

if TYPE_CHECKING:
    import torch


@register_method
class DeepFillV2Method(AttentionMethod):
    name = "deepfill_v2"
    title = "DeepFill v2"
    description = "DeepFill v2: gated convolutions + contextual attention (free-form holes)"
    capabilities = Capabilities(needs_mask=True, learned=True)
    required_components = ("generator",)
    network_family = "deepfill_v2"

    def upgrade_metadata(self, meta: dict[str, Any]) -> None:
        config = meta["components"]["generator"].setdefault("config", {})
        config.update(legacy_attention_config(meta))

    def predict(
        self, image: torch.Tensor, mask: torch.Tensor, edges: torch.Tensor | None, prefill: torch.Tensor | None = None
    ) -> torch.Tensor:
        self.check_attention_memory(image)
        # a prefill checkpoint (`networks.deepfill_v2_prefill`) corrects the classical fill the base computed
        extra = (prefill * 2.0 - 1.0,) if prefill is not None else ()
        _, x2 = self.modules["generator"](image * 2.0 - 1.0, mask, *extra)
        return (x2 + 1.0) / 2.0


# --- published layouts ---------------------------------------------------------------------------

def _states(obj: Any) -> tuple[Mapping[str, Any], Mapping[str, Any] | None]:
    """(generator, discriminator or None) from {'G': …, 'D': …} or a bare generator state dict."""
    if isinstance(obj, Mapping) and isinstance(obj.get("G"), Mapping):
        d = obj.get("D")
        return obj["G"], d if isinstance(d, Mapping) and "conv1.conv_sn.weight" in d else None
    return obj, None


def _converter(gen_filter: str) -> Callable[[Any], dict[str, dict[str, torch.Tensor]]]:
    def convert(obj: Any) -> dict[str, dict[str, torch.Tensor]]:
        from inpaint_studio.networks import deepfill_v2 as net

        g, d = _states(obj)
        out = {"generator": getattr(net, gen_filter)(dict(g))}
        if d is not None:
            out["discriminator"] = net.discriminator_filter(dict(d))
        return out

    return convert


def _detector(marker_keys: tuple[str, ...]) -> Callable[[Any], bool]:
    def detect(obj: Any) -> bool:
        keys = flatten_keys(obj)
        return all(f"G/{k}" in keys for k in marker_keys) or all(k in keys for k in marker_keys)

    return detect


register_layout(
    PublishedLayout(
        name="deepfill_v2_pytorch_finetuned",
        method="deepfill_v2",
        detect=_detector(("stage1.conv1.conv.weight", "stage2.conv_to_rgb.conv.weight")),
        convert=_converter("from_pytorch_layout"),
        components=PublishedComponents("deepfill_v2", "pytorch_finetuned"),
        channel_order="RGB",
        description="DeepFill v2 fine-tuned for PyTorch padding (states_pt_*.pth)",
    )
)

register_layout(
    PublishedLayout(
        name="deepfill_v2_official_converted",
        method="deepfill_v2",
        detect=_detector(("conv1.conv.weight", "allconv17.conv.weight")),
        convert=_converter("from_tf_layout"),
        components=PublishedComponents("deepfill_v2", "official_converted"),
        channel_order="BGR",
        description="official DeepFill v2 TF weights converted to PyTorch (states_tf_*.pth)",
    )
)
