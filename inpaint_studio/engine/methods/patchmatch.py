"""PatchMatch (Barnes et al. 2009): fills the hole by copying the photo's own patches, as GIMP's Resynthesizer and
Photoshop's content-aware fill do, through the maintained `pypatchmatch` wheel (MIT, prebuilt native library).

Why it is here: diffusion fills (Telea, Navier–Stokes) score well on hole L1 because L1 rewards blur, but they
leave a soft smear; PatchMatch keeps the photo's level of detail at nearly the same L1 and ~1 s per 256² photo
(`models/README.md` has the measured numbers). The native search is randomised: every fill starts from
`seed`, so equal inputs give equal fills. The native call cannot be interrupted, so a fill large enough to
be worth cancelling runs in a child interpreter that is killed on cancel (`run_in_child`).

The library's regularity guidance (`inpaint_regularity`, a lattice map steering patch offsets) was measured
with a lattice found by autocorrelation of the known region: on 16 validation photos at 256², 20–40 % holes,
hole L1 23.60 / patch SWD 6.12 against 23.47 / 6.13 without it. No gain, so it is not offered.
Patch radius 2 measured best here (hole L1 24.91, SWD 6.38 on the 33 validation photos; radius 3: 25.15 / 6.83;
radius 5: 27.49 / 8.67).

On larger photos radius-2 patches keep the texture but drift in shading: at 512² the hole L1 was 15 % above
Navier–Stokes'. Above `band_split_above` px (long side of what it fills) the fill is therefore split in two bands
(`band_split`): the smooth shading from Navier–Stokes, the fine detail from PatchMatch. By `model_table.py` at
512², 20–40 % holes, hole L1 / detail / patch SWD: 8 validation photos 30.52 / 1.08 / 7.39 → 27.65 / 0.97 / 6.04
(Navier–Stokes 26.64 / 0.10 / 7.71); 8 unseen photos 28.74 / 0.98 / 7.18 → 28.87 / 0.86 / 6.83 (28.14 / 0.11 / 8.02).
At 1024², 2 validation photos: 33.52 / 1.32 / 10.45 → 30.35 / 0.94 / 4.94 (Navier–Stokes 30.20).
"""

from __future__ import annotations

from typing import ClassVar

import cv2
import numpy as np

from inpaint_studio.core.errors import ModelUnavailableError
from inpaint_studio.engine.base import CancelFn, register_method
from inpaint_studio.engine.methods.classical import ClassicalMethod, run_in_child

# The child's whole program: numpy and the wheel only.
_CHILD = """
import sys
import numpy as np
from patchmatch import patch_match
src, hole = np.load(sys.argv[1] + "/src.npy"), np.load(sys.argv[1] + "/hole.npy")
patch_match.set_random_seed(int(sys.argv[2]))
np.save(sys.argv[1] + "/dst.npy", patch_match.inpaint(src, hole, patch_size=int(sys.argv[3])))
"""


def patchmatch_library():  # noqa: ANN201 - the wheel's module, or None when it cannot load here
    try:
        from patchmatch import patch_match
    except ImportError:
        return None
    return patch_match if patch_match.patchmatch_available else None


# The band split's low-pass (Gaussian sigma, px). Measured on 4 validation photos at 512², 20–40 % holes (hole
# L1 / detail / patch SWD; Navier–Stokes 27.98 / 0.13 / 7.58): PatchMatch alone 32.16 / 1.17 / 8.77; split at
# sigma 1: 28.83 / 1.03 / 6.31, 1.5: 29.22 / 1.13 / 5.89, 2: 29.43, 3: 29.63 (1.5 with 0.8 of the detail:
# 28.76 / 0.92, but 0.78 on 4 unseen photos where sigma 1 kept 0.89). At 256² the split cost detail (0.92 → 0.75)
# and SWD (6.32 → 6.78) for L1 27.33 → 26.77, so small fills keep plain PatchMatch.
BAND_SIGMA = 1.0


def band_split(diffused: np.ndarray, copied: np.ndarray, sigma: float = BAND_SIGMA) -> np.ndarray:
    """The diffusion fill blurred by a Gaussian of `sigma` px (its shading) plus what the same blur removes from
    the copy (its detail).

    L1 is dominated by the shading, where diffusion is the better guess; the eye reads texture, which only the
    copy has."""
    low = cv2.GaussianBlur(diffused.astype(np.float32), (0, 0), sigma)
    copy = copied.astype(np.float32)
    detail = copy - cv2.GaussianBlur(copy, (0, 0), sigma)
    return np.clip(low + detail, 0, 255).round().astype(np.uint8)


def diffuse(image: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """Navier–Stokes fill of the hole (radius 5), the smooth guess both the border blend and the split use."""
    return cv2.inpaint(image, hole, 5, cv2.INPAINT_NS)


def blend_from_border(image: np.ndarray, hole: np.ndarray, copied: np.ndarray, width: int,
                      diffused: np.ndarray | None = None) -> np.ndarray:
    """Navier–Stokes diffusion at the hole's border ramping to the copied texture `width` px inside.

    Next to the known pixels a smooth continuation is the better guess and hides the seam a copied patch leaves;
    deeper in, where any guess is uncertain, the photo's own texture looks right. Measured on 16 validation
    photos at 256², 20–40 % holes: hole L1 25.33 → 24.88 (Navier–Stokes 23.97), detail 1.03 → 0.89, patch SWD
    6.05 → 6.29 with width 6; width 10 gives L1 24.54 but detail 0.79."""
    if width <= 0:
        return copied
    if diffused is None:
        diffused = diffuse(image, hole)
    depth = cv2.distanceTransform((hole > 0).astype(np.uint8), cv2.DIST_L2, 3)
    w = np.clip(depth / width, 0.0, 1.0)[..., None]
    return np.clip((1.0 - w) * diffused + w * copied, 0, 255).round().astype(np.uint8)


@register_method
class PatchMatchMethod(ClassicalMethod):
    name = "patchmatch"
    description = (
        "PatchMatch (Barnes 2009): copies the photo's own texture into the hole, like content-aware fill; "
        "best for removing objects from textured backgrounds; on larger photos the shading comes from a smooth "
        "fill and the texture from the copy"
    )
    option_ranges: ClassVar[dict[str, tuple[float, float]]] = {
        "patch_size": (1, 15), "seed": (0, 2**32 - 1), "border_blend": (0, 64),
        "band_split_above": (0, 1_000_000),
    }
    # Above this many hole pixels, and when the caller can cancel, the fill runs in a killable child
    # (~0.3 s to start): smaller fills finish before a person could press Cancel.
    cancellable_above: int = 20_000

    def __init__(self, patch_size: int = 2, seed: int = 0, border_blend: int = 6, band_split_above: int = 384) -> None:
        # patch_size is the patch *radius* of the library: (2·r + 1)² pixels are compared.
        if not 1 <= int(patch_size) <= 15:
            raise ValueError(f"patch_size must be between 1 and 15, got {patch_size}")
        if not 0 <= int(seed) < 2**32:
            raise ValueError(f"seed must be between 0 and 4294967295, got {seed}")
        if not 0 <= int(border_blend) <= 64:
            raise ValueError(f"border_blend must be between 0 and 64, got {border_blend}")
        if not 0 <= int(band_split_above) <= 1_000_000:
            raise ValueError(f"band_split_above must be between 0 (never) and 1000000 px, got {band_split_above}")
        self.patch_size = int(patch_size)
        self.seed = int(seed)
        self.border_blend = int(border_blend)
        # Long side (px) above which the fill is band-split; 0 turns the split off (plain PatchMatch everywhere).
        self.band_split_above = int(band_split_above)

    def is_available(self) -> bool:
        return patchmatch_library() is not None

    def weights_info(self) -> str:
        if self.is_available():
            return "no weights needed"
        return "needs the pypatchmatch package (pip install pypatchmatch)"

    def splits_bands(self, shape: tuple[int, ...]) -> bool:
        """Whether a fill of an image of this shape takes its shading from Navier–Stokes (`band_split`)."""
        return 0 < self.band_split_above < max(shape[:2])

    def _fill(self, image: np.ndarray, hole: np.ndarray, cancel: CancelFn | None) -> np.ndarray:
        copied = self._copy_patches(image, hole, cancel)
        if not self.splits_bands(image.shape):
            return blend_from_border(image, hole, copied, self.border_blend)
        diffused = diffuse(image, hole)
        return blend_from_border(image, hole, band_split(diffused, copied), self.border_blend, diffused)

    def _copy_patches(self, image: np.ndarray, hole: np.ndarray, cancel: CancelFn | None) -> np.ndarray:
        if cancel is not None and np.count_nonzero(hole) > self.cancellable_above:
            args = [str(self.seed), str(self.patch_size)]
            dst = run_in_child(_CHILD, {"src": image, "hole": hole}, args, cancel, f"{self.name} (pypatchmatch)")
            if dst is not None:
                return dst
        library = patchmatch_library()
        if library is None:
            raise ModelUnavailableError(f"{self.name} cannot run: {self.weights_info()}")
        library.set_random_seed(self.seed)
        return library.inpaint(image, hole, patch_size=self.patch_size)
