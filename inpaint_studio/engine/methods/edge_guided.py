"""`edge_guided`: the edges a person sketches through the hole steer the fill, with no learned weights.

The drawn edges split the hole into regions (`core.edge_regions`); each region is filled only from the known
pixels on its own side (PatchMatch with the other sides excluded as sources, or Navier–Stokes diffusion with
them masked out), and the edge pixels last, so the sketched line becomes the boundary between two fills.
Without edges it is its base fill.
"""

from __future__ import annotations

from typing import ClassVar

import cv2
import numpy as np

from inpaint_studio.core.edge_regions import sources_for, split_by_edges
from inpaint_studio.core.errors import ModelUnavailableError
from inpaint_studio.engine.base import CancelFn, Capabilities, check_cancel, register_method
from inpaint_studio.engine.methods.classical import ClassicalMethod
from inpaint_studio.engine.methods.patchmatch import patchmatch_library

FILLS = ("patchmatch", "navier_stokes")
DIFFUSION_BAND = 15  # px of known context around a region that diffusion can reach; beyond it nothing flows


@register_method
class EdgeGuidedMethod(ClassicalMethod):
    name = "edge_guided"
    description = (
        "Follows the edges you draw: each side of a drawn line is filled only from the photo on that side "
        "(PatchMatch texture); no weights needed"
    )
    capabilities = Capabilities(accepts_edges=True)
    option_choices: ClassVar[dict[str, tuple[str, ...]]] = {"fill": FILLS}
    option_ranges: ClassVar[dict[str, tuple[float, float]]] = {"patch_size": (1, 15), "seed": (0, 2**32 - 1)}

    def __init__(self, fill: str = "patchmatch", patch_size: int = 2, seed: int = 0) -> None:
        if fill not in FILLS:
            raise ValueError(f"fill must be one of {', '.join(FILLS)}, got {fill!r}")
        if not 1 <= int(patch_size) <= 15:
            raise ValueError(f"patch_size must be between 1 and 15, got {patch_size}")
        self.fill, self.patch_size, self.seed = fill, int(patch_size), int(seed)

    def is_available(self) -> bool:
        return self.fill != "patchmatch" or patchmatch_library() is not None

    def weights_info(self) -> str:
        return "no weights needed" if self.is_available() else "needs the pypatchmatch package (pip install pypatchmatch)"

    def _fill(self, image: np.ndarray, hole: np.ndarray, cancel: CancelFn | None) -> np.ndarray:
        return self._fill_guided(image, hole, None, cancel)

    def _fill_guided(
        self, image: np.ndarray, hole: np.ndarray, edges: np.ndarray | None, cancel: CancelFn | None
    ) -> np.ndarray:
        split = split_by_edges(hole, edges)
        out = image.copy()
        for region in range(1, split.count + 1):
            check_cancel(cancel)
            inside = split.labels == region
            excluded = sources_for(split, region, hole)
            filled = self._fill_region(out, inside, excluded)
            out[inside] = filled[inside]
        if split.edge_pixels.any():
            # The line itself, from the fills on both sides: a 1–2 px seam where the two textures meet.
            line = split.edge_pixels.astype(np.uint8) * 255
            out = np.where(split.edge_pixels[..., None], cv2.inpaint(out, line, 2, cv2.INPAINT_TELEA), out)
        return out

    def _fill_region(self, image: np.ndarray, inside: np.ndarray, excluded: np.ndarray) -> np.ndarray:
        if self.fill == "patchmatch":
            library = patchmatch_library()
            if library is None:
                raise ModelUnavailableError(f"{self.name} cannot run: {self.weights_info()}")
            library.set_random_seed(self.seed)
            global_mask = (excluded & ~inside).astype(np.uint8)
            return library.inpaint(image, inside.astype(np.uint8), global_mask=global_mask, patch_size=self.patch_size)
        # Diffusion flows only from pixels next to the region: mask the other sides within reach, fill, keep ours.
        band = cv2.dilate(inside.astype(np.uint8), np.ones((2 * DIFFUSION_BAND + 1,) * 2, np.uint8)) > 0
        blocked = (inside | (excluded & band)).astype(np.uint8) * 255
        return cv2.inpaint(image, blocked, 5, cv2.INPAINT_NS)
