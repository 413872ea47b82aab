"""The `edgeconnect` method: complete the edge map in the hole, then fill the hole guided by those edges.

A caller's edge map (the user's drawn edges) replaces the predicted edges inside the hole exactly, which is
how drawing steers the fill. Published convention (reference MODELS.md): RGB in [0, 1]; mask 1 = hole;
grey = luminance; edges = Canny(grey, σ = 2) on the known region only; edge net input
`[grey·(1−m)+m, edges·(1−m), m]` → sigmoid; inpaint net input `[img·(1−m)+m, edges]` with hole edges
from the edge net (or the caller) and known edges outside; output composited `out·m + img·(1−m)`.

Also registers the published layouts (`EdgeModel_gen.pth`, `InpaintingModel_gen.pth`, `*_dis.pth`):
files from one directory merge into one `edgeconnect-<dir>` checkpoint, in any order.

torch is imported inside methods only (listing methods must not import it).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from inpaint_studio.core.edges import canny_edges
from inpaint_studio.engine.base import (
    CancelFn,
    Capabilities,
    ProgressFn,
    check_cancel,
    register_method,
    report,
)
from inpaint_studio.engine.importer import PublishedLayout, register_layout
from inpaint_studio.engine.methods.learned import LearnedMethod, PublishedComponents
from inpaint_studio.engine.methods.prefill import classical_prefill

if TYPE_CHECKING:
    import torch


@register_method
class EdgeConnectMethod(LearnedMethod):
    name = "edgeconnect"
    description = "EdgeConnect: completes edges, then colours (follows edges you draw)"
    capabilities = Capabilities(needs_mask=True, accepts_edges=True, predicts_edges=True, learned=True)
    required_components = ("edge_generator", "inpaint_generator")
    network_family = "edgeconnect"  # its SIZE_MULTIPLE and MIN_SIDE (tiny photos are padded up to it)

    def __init__(
        self,
        checkpoint: str | os.PathLike[str] | None = None,
        device: str = "auto",
        half: bool = False,
        working_size: int | None = None,
        texture: bool | None = None,
        sigma: float = 2.0,
        edge_threshold: float = 0.5,
    ) -> None:
        super().__init__(checkpoint, device, half, working_size, texture)
        self.sigma = float(sigma)
        self.edge_threshold = float(edge_threshold)

    # --- tensor steps (padded 1×C×H×W tensors on self.device) -----------------------------------
    def edge_probability(self, image: torch.Tensor, mask: torch.Tensor, known: torch.Tensor) -> torch.Tensor:
        """Edge net: RGB [0, 1], hole mask, known-region edges {0, 1} → edge probability 1×1×H×W."""
        from inpaint_studio.networks.edgeconnect import edge_generator_input, to_grey

        return self.modules["edge_generator"](edge_generator_input(to_grey(image), known, mask))

    def fill(
        self, image: torch.Tensor, mask: torch.Tensor, edges: torch.Tensor, prefill: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Inpaint net: RGB [0, 1], hole mask, full edge map (and, for a prefill checkpoint, the classical fill it
        corrects) → RGB [0, 1] (not yet composited)."""
        from inpaint_studio.networks.edgeconnect import inpaint_generator_input

        return self.modules["inpaint_generator"](inpaint_generator_input(image, edges, mask, prefill))

    # --- array API -------------------------------------------------------------------------------
    def _prepare(self, image: np.ndarray, mask: np.ndarray, with_prefill: bool = False) -> dict[str, Any]:
        known = canny_edges(image, mask, self.sigma)
        img_p, hw = self.pad(image)
        spec = self.prefill if with_prefill else None
        # a prefill checkpoint's classical fill, at the image's own size, then padded like it
        prefill = self.pad(classical_prefill(image, mask, spec))[0] if spec is not None else None
        return {"image": img_p, "mask": self.pad(mask)[0], "known": self.pad(known)[0], "hw": hw, "prefill": prefill}

    def fill_hole(self, image: np.ndarray, mask: np.ndarray, edges: np.ndarray | None,
                  progress: ProgressFn | None, cancel: CancelFn | None) -> np.ndarray:
        p = self._prepare(image, mask, with_prefill=True)
        with self.running():
            img_t, m = self.to_tensor(p["image"]), self.mask_to_tensor(p["mask"])
            prefill = self.to_tensor(p["prefill"]) if p["prefill"] is not None else None
            known = self.mask_to_tensor(p["known"])
            if edges is None:
                report(progress, 0.1, "completing edges")
                # Soft probabilities, not thresholded: what the published pipeline feeds the inpaint net.
                hole_edges = self.edge_probability(img_t, m, known)
            else:
                hole_edges = self.mask_to_tensor(self.pad(edges)[0])
            check_cancel(cancel)
            report(progress, 0.5, "filling")
            out = self.fill(img_t, m, hole_edges * m + known * (1 - m), prefill)
            filled = self.to_uint8(out)
        check_cancel(cancel)
        report(progress, 1.0, "done")
        return self.crop(filled, p["hw"])

    def predict_edges(self, image: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """uint8 edge map: the edge net's prediction (≥ threshold) in the hole, Canny outside (the manager
        hands a checked, binary mask)."""
        if not mask.any():
            return canny_edges(image, None, self.sigma)
        self.ensure_loaded()
        p = self._prepare(image, mask)
        with self.running():
            prob = self.edge_probability(
                self.to_tensor(p["image"]), self.mask_to_tensor(p["mask"]), self.mask_to_tensor(p["known"])
            )
            predicted = (prob[0, 0].float().cpu().numpy() >= self.edge_threshold).astype(np.uint8) * 255
        predicted = self.crop(predicted, p["hw"])
        known = self.crop(p["known"], p["hw"])
        return np.where(mask > 0, predicted, known).astype(np.uint8)


# --- published layouts ---------------------------------------------------------------------------



def _dataset_name(path: Path) -> str:
    # The published files sit in checkpoints/<places2|celeba|psv>/: one checkpoint per directory.
    return f"edgeconnect-{path.resolve().parent.name or 'imported'}"


def _state(obj: Any, key: str) -> Any:
    return obj[key] if isinstance(obj, dict) and isinstance(obj.get(key), dict) else None


def _is_edge_gen(obj: Any) -> bool:
    from inpaint_studio.networks.edgeconnect import looks_like_edge_generator

    state = _state(obj, "generator")
    return state is not None and looks_like_edge_generator(state)


def _is_inpaint_gen(obj: Any) -> bool:
    from inpaint_studio.networks.edgeconnect import looks_like_inpaint_generator

    state = _state(obj, "generator")
    return state is not None and looks_like_inpaint_generator(state)


def _dis_channels(obj: Any) -> int | None:
    from inpaint_studio.networks.edgeconnect import discriminator_in_channels

    state = _state(obj, "discriminator")
    return None if state is None else discriminator_in_channels(state)


def _convert_generator(component: str) -> Any:
    def convert(obj: Any) -> dict[str, Any]:
        from inpaint_studio.networks.edgeconnect import generator_from_published

        return {component: generator_from_published(obj["generator"])}

    return convert


def _convert_discriminator(component: str) -> Any:
    def convert(obj: Any) -> dict[str, Any]:
        from inpaint_studio.networks.edgeconnect import discriminator_from_published

        return {component: discriminator_from_published(obj["discriminator"])}

    return convert


_GENERATOR_KEYS = ("generator/encoder.1.weight", "generator/decoder.7.weight")
_DISCRIMINATOR_KEYS = frozenset({"discriminator/conv1.0.weight_orig", "discriminator/conv5.0.weight_orig"})

# One layout per published file: (component, file, keys it must hold, how to recognise it, how to convert it).
_FILES: tuple[tuple[str, str, frozenset[str], Any, Any], ...] = (
    ("edge_generator", "EdgeModel_gen.pth", frozenset({"generator/encoder.1.weight_orig", _GENERATOR_KEYS[1]}),
     _is_edge_gen, _convert_generator("edge_generator")),
    ("inpaint_generator", "InpaintingModel_gen.pth", frozenset(_GENERATOR_KEYS),
     _is_inpaint_gen, _convert_generator("inpaint_generator")),
    ("edge_discriminator", "EdgeModel_dis.pth", _DISCRIMINATOR_KEYS,
     lambda obj: _dis_channels(obj) == 2, _convert_discriminator("edge_discriminator")),
    ("inpaint_discriminator", "InpaintingModel_dis.pth", _DISCRIMINATOR_KEYS,
     lambda obj: _dis_channels(obj) == 3, _convert_discriminator("inpaint_discriminator")),
)

_LAYOUTS = tuple(
    PublishedLayout(
        name=f"edgeconnect_{component}",
        method="edgeconnect",
        description=f"EdgeConnect {file}",
        required_keys=keys,
        detect=detect,
        convert=convert,
        components=PublishedComponents("edgeconnect", "published", only=(component,)),
        merge=True,
        default_name=_dataset_name,
    )
    for component, file, keys, detect, convert in _FILES
)

for _layout in _LAYOUTS:
    register_layout(_layout)
