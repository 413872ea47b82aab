"""`classical_restore`: blind restoration without weights — find damage with the classical detector
(core/damage.py), then fill it with OpenCV Telea. The day-one "Auto mask" and one-click "Restore" until a
trained VCNet mask network is available. No torch anywhere in this module.

Stains (option `stains="tint"`): a stain leaves the photo visible beneath a tint, so it is restored by
estimating and inverting the tint (`core.stains` finds brownish tints, `core.tint` inverts them where its
guard trusts the fit) before the opaque damage is found and filled. Off by default: measured on the photo
set's validation photos the classical stain detector does not yet find stains reliably (see
models/blind_generalisation.md), and an unneeded correction costs more than it repairs.

Damage judged translucent (`core.translucent`: the photo's structure visible beneath a stain's smooth colour
change) is never painted over: its tint is removed where that is trusted, otherwise it is left as it is;
`predict_mask` returns it as a soft map beside the opaque mask.

The predicted mask is not dilated by default: the detector already takes in the anti-aliased rim of wide
strokes, and a 1-px dilation of a 1-px scratch triples the hole (Telea then blurs more than it repairs;
see benchmarks/RESULTS.md).
"""

from __future__ import annotations

from typing import ClassVar

import cv2
import numpy as np

from inpaint_studio.core.damage import damage_mask, detect_damage, restore_hole, without_frame_lines
from inpaint_studio.core.translucent import split_damage, untint_translucent
from inpaint_studio.engine.base import (
    CancelFn,
    Capabilities,
    InpaintMethod,
    MaskPrediction,
    ProgressFn,
    check_cancel,
    register_method,
    report,
)

STAIN_CHOICES = ("off", "tint")


@register_method
class ClassicalRestoreMethod(InpaintMethod):
    name = "classical_restore"
    description = (
        "Finds scratches, ink and paint marks (whole strokes) by classical filters and fills them (Telea); no weights"
    )
    capabilities = Capabilities(needs_mask=False, predicts_mask=True, blind=True)
    option_choices: ClassVar[dict[str, tuple[str, ...]]] = {"stains": STAIN_CHOICES}

    def __init__(self, threshold: float = 0.5, radius: int = 3, dilate: int = 0, stains: str = "off") -> None:
        if not 0.0 < float(threshold) <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], got {threshold}")
        if int(radius) < 1:
            raise ValueError(f"radius must be at least 1, got {radius}")
        self.threshold = float(threshold)
        self.radius = int(radius)
        self.dilate = max(int(dilate), 0)
        if stains not in STAIN_CHOICES:
            raise ValueError(f"stains must be one of {', '.join(STAIN_CHOICES)}, not '{stains}'")
        self.stains = stains

    def predict_mask(
        self, image: np.ndarray, progress: ProgressFn | None = None, cancel: CancelFn | None = None
    ) -> MaskPrediction:
        check_cancel(cancel)
        report(progress, 0.0, "detecting damage")
        probability = detect_damage(image)
        check_cancel(cancel)
        mask = damage_mask(probability, self.threshold, dilate=self.dilate)
        split = split_damage(image, mask)
        report(progress, 1.0, "done")
        return MaskPrediction(probability, without_frame_lines(split.opaque), self.threshold, split.translucent)

    def blind_input(self, image: np.ndarray, progress: ProgressFn | None, cancel: CancelFn | None) -> np.ndarray:
        """The photo with the tint of the damage judged translucent removed where trusted (`core.translucent`),
        after, with stains="tint", the older whole-photo stain un-tinting (a tint is not a hole)."""
        if self.stains == "tint":
            report(progress, 0.1, "removing stains")
            image = untint(image)
        return untint_translucent(image, lambda img: damage_mask(detect_damage(img), self.threshold, dilate=self.dilate))

    def blind_hole(self, image: np.ndarray, progress: ProgressFn | None, cancel: CancelFn | None) -> np.ndarray:
        """The predicted damage plus a 1-px rim around its wide (paint) regions (`core.damage.restore_hole`)."""
        return restore_hole(self.predict_mask(image, progress, cancel).mask)

    def fill_hole(self, image: np.ndarray, hole: np.ndarray, edges: np.ndarray | None,
                  progress: ProgressFn | None, cancel: CancelFn | None) -> np.ndarray:
        """Telea, the hole given or found."""
        report(progress, 0.0, "filling")
        bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
        filled = cv2.cvtColor(cv2.inpaint(bgr, hole, self.radius, cv2.INPAINT_TELEA), cv2.COLOR_BGR2RGB)
        check_cancel(cancel)
        report(progress, 1.0, "done")
        return filled


def untint(image: np.ndarray) -> np.ndarray:
    """The photo with the tint of its detected brownish stains inverted where the fit is trusted (RGB uint8;
    elsewhere bit-identical)."""
    from inpaint_studio.core.stains import detect_stains
    from inpaint_studio.core.tint import remove_tint

    return remove_tint(image, detect_stains(image))
