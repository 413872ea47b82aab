"""The `deepfill_v1` method (coarse network + contextual attention refinement) and its published layouts.

Published inference convention (reference MODELS.md), followed exactly: RGB [0, 1] → [−1, 1]; mask 1 = hole;
coarse input `[img·(1−m), ones, m]`; refinement input `[x1·m + img·(1−m), ones, m]`; both outputs clipped to
[−1, 1]; output `x2·m + img·(1−m)`; sizes padded (by reflection, never cropped) to a multiple of 8. Imported
weights run the contextual attention with the published conventions (nearest-sampled mask, eps-sum norm),
recorded in the network config.

Published files (the common PyTorch port, generative-inpainting-pytorch): `gen_XXXXXXXX.pt` = the generator's
raw state dict (`coarse_generator.*`, `fine_generator.*`, our names); `dis_XXXXXXXX.pt` = {'localD', 'globalD'}
(the WGAN-GP critics, 128² and 256² inputs). Imported one after the other under one name they merge into one
checkpoint. The port's converted-TF file (flat keys prefixed `netG.` / `localD.` / `globalD.`) is read too; its
exact key set is unverified (MODELS.md), so it is accepted only when every key fits; imported as BGR like
DeepFill v2's converted TF weights (unverified; `channel_order=` on import or the JSON overrides it).

torch is imported inside functions only (listing methods must not import it).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from inpaint_studio.engine.base import Capabilities, register_method
from inpaint_studio.engine.importer import PublishedLayout, flatten_keys, register_layout
from inpaint_studio.engine.methods.attention_memory import AttentionMethod
from inpaint_studio.engine.methods.learned import PublishedComponents

if TYPE_CHECKING:
    import torch

@register_method
class DeepFillV1Method(AttentionMethod):
    name = "deepfill_v1"
    title = "DeepFill v1"
    description = "DeepFill v1: coarse-to-fine with contextual attention (copies matching patches from the photo)"
    capabilities = Capabilities(needs_mask=True, learned=True)
    required_components = ("generator",)
    network_family = "deepfill_v1"
    train_recipe = "deepfill_v1"
    published_file = "gen_00430000.pt"  # the PyTorch port's generator file (its dis_*.pt joins it)

    def predict(self, image: torch.Tensor, mask: torch.Tensor, edges: torch.Tensor | None) -> torch.Tensor:
        self.check_attention_memory(image)
        _, x2 = self.modules["generator"](image * 2.0 - 1.0, mask)
        return (x2 + 1.0) / 2.0


# --- published layouts ---------------------------------------------------------------------------

_GEN_MARKERS = ("coarse_generator.conv1.conv.weight", "fine_generator.allconv17.conv.weight")
_DIS_MARKERS = ("dis_conv_module.conv1.conv.weight", "linear.weight")


def _is_generator(obj: Any) -> bool:
    keys = flatten_keys(obj)
    return all(k in keys for k in _GEN_MARKERS)


def _is_critics(obj: Any) -> bool:
    keys = flatten_keys(obj)
    return all(f"{top}/{k}" in keys for top in ("localD", "globalD") for k in _DIS_MARKERS)


def _is_flat_trainer(obj: Any) -> bool:
    keys = flatten_keys(obj)
    return all(f"netG.{k}" in keys for k in _GEN_MARKERS)


def _convert_generator(obj: Any) -> dict[str, dict[str, torch.Tensor]]:
    return {"generator": dict(obj)}


def _convert_critics(obj: Any) -> dict[str, dict[str, torch.Tensor]]:
    return {"local_critic": dict(obj["localD"]), "global_critic": dict(obj["globalD"])}


def _convert_flat(obj: Any) -> dict[str, dict[str, torch.Tensor]]:
    from inpaint_studio.networks.deepfill_v1 import split_flat

    tensors = {k: v for k, v in obj.items() if k.startswith(("netG.", "localD.", "globalD."))}
    return split_flat(tensors)


def _default_name(path: Path) -> str:
    # The port saves into checkpoints/<dataset>/<run>/gen_*.pt and dis_*.pt: one name for both files.
    return f"deepfill_v1-{path.parent.name}" if path.parent.name else "deepfill_v1"


def _layout(name: str, detect: Any, convert: Any, description: str, channel_order: str = "RGB") -> None:
    register_layout(
        PublishedLayout(
            name=name,
            method="deepfill_v1",
            detect=detect,
            convert=convert,
            components=PublishedComponents("deepfill_v1", "published"),
            channel_order=channel_order,
            merge=True,
            default_name=_default_name,
            description=description,
        )
    )


_layout("deepfill_v1_pytorch_gen", _is_generator, _convert_generator, "DeepFill v1 generator (gen_*.pt)")
_layout("deepfill_v1_pytorch_dis", _is_critics, _convert_critics, "DeepFill v1 WGAN-GP critics (dis_*.pt)")
_layout(
    "deepfill_v1_converted_tf",
    _is_flat_trainer,
    _convert_flat,
    "DeepFill v1 official TF weights converted for the PyTorch port (flat netG./localD./globalD. keys)",
    channel_order="BGR",  # the official TF code feeds cv2.imread images unconverted (as DeepFill v2's)
)
