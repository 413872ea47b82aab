"""The `glcic` method and its published layout.

Published convention (the CelebA PyTorch port of Iizuka et al. 2017, its predict.py), followed exactly:
RGB in [0, 1]; mask 1 = hole; input `[x·(1−m) + mpv·m, m]` with `mpv` the training set's mean colour
(the port keeps it in a `config.json` beside the weights); sigmoid output in [0, 1]; our composite keeps
every known pixel (the paper's fast marching + Poisson blending is the `poisson` option). The completion
network is fully convolutional (only the discriminators are fixed-size), so each hole region is filled in
one pass from its bounding box plus a context margin (at least the 160² training crop) when that fits
`whole_limit`; a larger one is filled in overlapping, feathered tiles of at most 96² (the holes it learned,
48–96 px) from a 160² window around each (`engine.methods.windowed`). Our own trained networks record their
crop size (the window) and paint holes with the mean colour of the window's known pixels, as the trainer does.

Published files: `model_cn` (completion network, a raw state dict) and `model_cd` (context discriminator),
plus `config.json` (`mpv`), read when it lies beside the imported file.

torch is imported inside functions only (listing methods must not import it).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from inpaint_studio.core.errors import CheckpointError
from inpaint_studio.core.poisson_blend import poisson_blend
from inpaint_studio.engine.base import CancelFn, Capabilities, ProgressFn, register_method
from inpaint_studio.engine.importer import PublishedLayout, flatten_keys, register_layout
from inpaint_studio.engine.methods.learned import LearnedMethod
from inpaint_studio.engine.methods.windowed import Whole, fill_in_windows

TRAINING_WINDOW = 160  # the paper's crops
TILE_FRACTION = 0.6  # holes up to 96 px in those 160 px crops
MARGIN_FRACTION = 0.2  # the context those crops give around their largest hole: (160 - 96) / 2
# Of a tile, on each side: the band where neighbouring tiles are feathered. Measured on `glcic-small` (floor
# check, step 2 417, with the Poisson blend): 0 → hole L1 37.3, periodic 8.5 (seams, the network's 4-px pattern
# in phase); 0.125 → 39.4, 1.6; 0.19 → 39.0, 1.9; 0.25 → 37.4, 5.7.
OVERLAP_FRACTION = 0.125


@register_method
class GLCICMethod(LearnedMethod):
    name = "glcic"
    description = (
        "GLCIC (2017): for compact holes of about 50–100 px (what it was trained on), filled from the window "
        "around each; larger holes are filled in parts"
    )
    capabilities = Capabilities(needs_mask=True, learned=True)
    required_components = ("completion",)
    train_recipe = "glcic"
    published_file = "model_cn"
    option_ranges: ClassVar[dict[str, tuple[float, float]]] = {
        **LearnedMethod.option_ranges, "window": (32, 1024), "whole_limit": (0, 4096),
    }

    def __init__(
        self,
        checkpoint: str | os.PathLike[str] | None = None,
        device: str = "auto",
        half: bool = False,
        working_size: int | None = None,
        window: int | None = None,
        whole_limit: int | None = None,
        poisson: bool = True,
    ) -> None:
        super().__init__(checkpoint, device, half, working_size)
        if window is not None and int(window) < 32:
            raise ValueError(f"window must be at least 32 px, not {window}")
        if whole_limit is not None and int(whole_limit) < 0:
            raise ValueError(f"whole_limit must be 0 (always in tiles) or a side in px, not {whole_limit}")
        self._window = window
        self._whole_limit = whole_limit
        self.poisson = bool(poisson)

    @property
    def window(self) -> int:
        """Side (px) of the window each hole is filled from: the crop size the weights were trained on."""
        if self._window is not None:
            return int(self._window)
        trained = (self.meta.get("training") or {}).get("image_size")
        return int(trained) if isinstance(trained, int) and trained > 0 else TRAINING_WINDOW

    @property
    def whole_limit(self) -> int:
        """Largest side (px) of a one-pass window: by default the window itself, i.e. one pass only for a hole
        of the size the network learned. Measured on `glcic-small` (engine/floor.py, 256², step 2 417): one
        pass for larger holes made the hole's far centre whitish (hole L1 54.0 with 128, 54.7 with 160, 61.2
        with 192, 63.8 with 512) while feathered tiles stay at 54.0; a network trained longer or on larger
        holes may take more (the paper fills whole images)."""
        return self.window if self._whole_limit is None else int(self._whole_limit)

    def mean_colour(self) -> list[float] | None:
        """The published weights' training mean colour (0..1 RGB), or None: the window's known pixels."""
        value = (self.meta.get("inference") or {}).get("mean_colour")
        return [float(v) for v in value] if _is_colour(value) else None

    def fill_hole(self, image: np.ndarray, mask: np.ndarray, edges: np.ndarray | None,
                  progress: ProgressFn | None, cancel: CancelFn | None) -> np.ndarray:
        from inpaint_studio.networks.glcic import GLCIC_MULTIPLE, completion_input, known_mean_colour

        net = self.modules["completion"]
        colour = self.mean_colour()
        if colour is not None and self.channel_order == "BGR":
            colour = colour[::-1]

        def fill(window: np.ndarray, hole: np.ndarray) -> np.ndarray:
            x, m = self.to_tensor(window), self.mask_to_tensor(hole)
            c = known_mean_colour(x, m) if colour is None else colour
            return self.to_uint8(net(completion_input(x, m, c)))

        size = self.window
        tile = max(1, round(TILE_FRACTION * size))
        overlap = min(round(OVERLAP_FRACTION * tile), (tile - 1) // 2)
        whole = None
        if self.whole_limit:
            whole = Whole(self.whole_limit, round(MARGIN_FRACTION * size), GLCIC_MULTIPLE)
        with self.running():
            filled = fill_in_windows(image, mask, size, tile, fill, progress, cancel, overlap=overlap, whole=whole)
        return poisson_blend(image, mask, filled) if self.poisson else filled


def _is_colour(value: Any) -> bool:
    return (
        isinstance(value, list | tuple)
        and len(value) == 3
        and all(isinstance(v, int | float) and math.isfinite(v) and 0 <= v <= 1 for v in value)
    )


# --- published layout ----------------------------------------------------------------------------


def read_config(path: Path) -> dict[str, Any]:
    """The port's `config.json` beside the weights → {"inference": {"mean_colour": mpv}}; {} without one."""
    config = path.with_name("config.json")
    if not config.is_file():
        return {}
    try:
        mpv = json.loads(config.read_text(encoding="utf-8")).get("mpv")
    except (OSError, ValueError, AttributeError):
        raise CheckpointError(f"{config} beside {path.name} is not a readable JSON object") from None
    if not _is_colour(mpv):
        raise CheckpointError(f"{config}: 'mpv' must be three numbers in [0, 1] (the mean colour), not {mpv!r}")
    return {"inference": {"mean_colour": [float(v) for v in mpv]}}


def _keys(obj: Any) -> set[str]:
    return {k.removeprefix("module.") for k in flatten_keys(obj)}


def _convert(component: str) -> Any:
    def convert(obj: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
        from inpaint_studio.networks.glcic import from_published

        return {component: from_published(dict(obj))}

    return convert


_COMPONENTS = {
    "completion": {"network": "glcic_completion", "config": {}},
    "discriminator": {"network": "glcic_discriminator", "config": {}},
}

register_layout(
    PublishedLayout(
        name="glcic_completion",
        method="glcic",
        detect=lambda obj: {"conv1.weight", "deconv13.weight", "conv17.weight"} <= _keys(obj),
        convert=_convert("completion"),
        components=_COMPONENTS,
        merge=True,
        default_name=lambda path: f"glcic-{path.parent.name or 'imported'}",
        description="GLCIC PyTorch port, completion network (model_cn; config.json beside it gives the mean colour)",
        sidecar_meta=read_config,
    )
)

register_layout(
    PublishedLayout(
        name="glcic_discriminator",
        method="glcic",
        detect=lambda obj: {"model_ld.conv1.weight", "model_gd.linear6.weight", "linear1.weight"} <= _keys(obj),
        convert=_convert("discriminator"),
        components=_COMPONENTS,
        merge=True,
        default_name=lambda path: f"glcic-{path.parent.name or 'imported'}",
        description="GLCIC PyTorch port, context discriminator (model_cd)",
        sidecar_meta=read_config,  # a merge keeps only the newest file's metadata
    )
)
