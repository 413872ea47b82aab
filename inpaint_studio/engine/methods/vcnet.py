"""The `vcnet` method: blind restoration. The MPN predicts which pixels are contaminated (scratches, stains,
graffiti), the RIN repaints them; with a mask given, that mask is used instead of the prediction.

Value convention: MPN and RIN take RGB in [−1, 1]; the RIN's tanh output is read through
`RIN.to_unit_range` (the reproduction's weights were trained against [0, 1] targets, ours against
[−1, 1]; each checkpoint's RIN config says which). Only the pixels of the mask used (the given one, or the
prediction thresholded at 0.5) change.

How blind work finds and fills damage is part of the checkpoint (its JSON's `"blind"` block, chosen by
measurement when the model is exported; options override it): `detector` = "mpn" (the network alone) or
"mpn+classical" (its mask united with the classical detector's, `core.damage`: the two see complementary
damage — pasted patches and stains vs thin strokes); `fill` = "rin" (the network) or "telea" (OpenCV, where
the RIN is not yet better: then a mask given by the user is filled by Telea too); `threshold`.

Blind work through a mask (the shipped setting) splits the damage found into opaque and translucent parts
(`core.translucent`): only the opaque part is filled; a translucent part (a stain's tint over the photo) has its
tint removed where that is trusted and is otherwise left as it is. `predict_mask` returns both (the mask and a
soft `translucent` map) for the app's Auto mask. With a fitted verifier in the checkpoint (`blind.verifier`,
`core.verify`; option `verify=false` turns it off), each opaque region found gets a second look and is left
alone when its repair would likely make the photo worse (the photo's own edges and highlights). With a stain
network in the checkpoint (component `stain`, `python -m trainer stain`; option `stains=false` turns it off),
blind runs first look for translucent damage with it and invert the tint found (`core.tint`); the Auto mask
shows that map as the soft translucent part.

Also registers the published layout of the PyTorch reproduction's `VCNet_*.pth` training checkpoint
(`{num_step, mpn, rin, D, patch_D, optimizer_*}`: mpn, rin, D, patch_D are taken, optimizers dropped).

torch is imported inside methods only (listing methods must not import it).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import cv2
import numpy as np

from inpaint_studio.core.damage import without_frame_lines
from inpaint_studio.core.errors import CheckpointError, InpaintStudioError
from inpaint_studio.core.mark_sides import marks_off_edges
from inpaint_studio.core.masks import fill_holes, region_statistic
from inpaint_studio.core.stains import confirmed_stains
from inpaint_studio.core.tint import TintFit, fit_tint, remove_tint, trusted
from inpaint_studio.core.translucent import split_damage, untint_translucent
from inpaint_studio.core.verify import Verifier, verify_hole
from inpaint_studio.engine.base import (
    CancelFn,
    Capabilities,
    MaskPrediction,
    ProgressFn,
    check_cancel,
    register_method,
    report,
)
from inpaint_studio.engine.importer import PublishedLayout, register_layout
from inpaint_studio.engine.methods.learned import LearnedMethod, PublishedComponents

if TYPE_CHECKING:
    import torch


DETECTORS = ("mpn", "mpn+classical")
STAIN_COMPONENT = "stain"
# The stain network looks at a copy this long (px): the scale it was trained at (photos 300–512 px long);
# stains are smooth, and the tint removal works at full size from the enlarged map.
STAIN_SIDE = 512
# A stain correction that changes no channel of a pixel by this many grey levels is left out there: the network's
# faint guesses on clean photos stay off them (a clean photo comes back bit-identical).
STAIN_DEAD_ZONE = 2.0
MARKS_COMPONENT = "marks"
# The marks network (`networks.mark_net`, `python -m trainer marks`) looks at a copy this long: the scale its
# damage was drawn at in training (photos 300–512 px long, marks 1–8 px there).
MARKS_SIDE = 512
# Found marks of at least this many pixels (on a photo MARKS_SIDE long) are lines whose sides can be compared
# (`core.mark_sides`); smaller ones are specks, kept whatever their surroundings.
MARKS_LINE_AREA = 40
# A flat blot is found only at its edge (the networks are unsure inside it), and a fill of that ring left the blot's
# dark centre in place (ink blotches of 4–14 px on held-out photos): a small compact region of likely damage that
# what was found touches is taken whole. Sizes are px on a photo 512 px long; a blot is also at least BLOT_WIDTH px
# wide on a smaller photo (narrower is a line's band at any scale).
POCKET_AREA = 400
BLOT_PROBABILITY = 0.7
BLOT_WIDTH = 5
FILLS = ("rin", "telea")


@register_method
class VCNetMethod(LearnedMethod):
    name = "vcnet"
    description = "VCNet: finds and repairs scratches, stains and graffiti by itself (blind); or fills a mask"
    capabilities = Capabilities(needs_mask=False, predicts_mask=True, blind=True, learned=True)
    required_components = ("mpn", "rin")
    # The stain network (`networks.stain_net`, trained by `python -m trainer stain`): finds translucent damage
    # and the marks network (`networks.mark_net`, `python -m trainer marks`): scratches, hairlines, dust
    optional_components = (*LearnedMethod.optional_components, STAIN_COMPONENT, MARKS_COMPONENT)
    network_family = "vcnet"
    option_choices: ClassVar[dict[str, tuple[str, ...]]] = {"detector": DETECTORS, "fill": FILLS}
    option_ranges: ClassVar[dict[str, tuple[float, float]]] = {
        "threshold": (0.01, 0.99), "mask_size": (16, 4096), "max_side": (64, 16384)}

    def __init__(
        self,
        *args: Any,
        threshold: float | None = None,
        max_side: int = 1024,
        detector: str | None = None,
        fill: str | None = None,
        mask_size: int | None = None,
        verify: bool | None = None,
        stains: bool | None = None,
        marks: bool | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(*args, **kw)
        self._verify = verify  # None: the checkpoint's (on when its JSON has a fitted verifier)
        self._stains = stains  # None: on when the checkpoint has a stain network
        self._marks = marks  # None: on when the checkpoint has a marks network
        if detector not in (None, *DETECTORS):
            raise ValueError(f"detector must be one of {', '.join(DETECTORS)}, not '{detector}'")
        if fill not in (None, *FILLS):
            raise ValueError(f"fill must be one of {', '.join(FILLS)}, not '{fill}'")
        if mask_size is not None and int(mask_size) < 16:
            raise ValueError(f"mask_size must be at least 16 px, not {mask_size}")
        self._detector, self._fill, self._mask_size = detector, fill, mask_size
        if threshold is not None and not 0.0 < float(threshold) < 1.0:
            raise ValueError(f"threshold must be between 0 and 1, not {threshold}")
        self._threshold = threshold
        # The longest side the RIN repairs at (larger photos and crops go through a shrunk copy), and the MPN
        # looks at when the checkpoint records no `mask_size`.
        self.max_side = int(max_side)

    @property
    def detector(self) -> str:
        """The option, else the checkpoint's measured choice, else the network alone."""
        chosen = self._detector or str(self.meta.get("blind", {}).get("detector", "mpn"))
        return chosen if chosen in DETECTORS else "mpn"

    @property
    def threshold(self) -> float:
        """Probability above which a pixel is damage: the option, else the checkpoint's measured blind
        threshold (a mask network trained on contamination alone is over-eager on other photos), else 0.5."""
        if self._threshold is not None:
            return float(self._threshold)
        value = self.meta.get("blind", {}).get("threshold")
        return float(value) if isinstance(value, int | float) and 0 < value < 1 else 0.5

    @property
    def mask_size(self) -> int:
        """Long side (px) of the copy the MPN looks at: the option, else the checkpoint's measured
        `inference.mask_size` (the scale it detects best at), else `max_side`."""
        if self._mask_size is not None:
            return int(self._mask_size)
        value = (self.meta.get("inference") or {}).get("mask_size")
        return int(value) if isinstance(value, int | float) and value >= 16 else self.max_side

    @property
    def verifier(self) -> Verifier | None:
        """The checkpoint's fitted second look at each found region (`core.verify`), unless `verify` is off."""
        data = (self.meta.get("blind") or {}).get("verifier")
        if self._verify is False or not data:
            return None
        try:
            return Verifier.from_dict(data)
        except (KeyError, TypeError, ValueError) as exc:
            raise CheckpointError(f"{self.name}: its damage verifier cannot be read ({exc})") from None

    @property
    def stains(self) -> bool:
        """The `stains` option, else whether the checkpoint has a stain network (read from its JSON)."""
        if self._stains is not None:
            return bool(self._stains)
        return STAIN_COMPONENT in (self.meta.get("components") or {})

    @property
    def finds_stains(self) -> bool:
        """Whether blind runs look for stains with the checkpoint's stain network (loads the weights)."""
        if not self.stains:
            return False
        self.ensure_loaded()
        if STAIN_COMPONENT not in self.modules:
            raise InpaintStudioError(f"{self.name}: this checkpoint has no stain network; train one with "
                                     "`python -m trainer stain` or leave the stains option on auto")
        return True

    @property
    def marks(self) -> bool:
        """The `marks` option, else whether the checkpoint has a marks network (read from its JSON)."""
        if self._marks is not None:
            return bool(self._marks)
        return MARKS_COMPONENT in (self.meta.get("components") or {})

    @property
    def marks_verified(self) -> bool:
        """Whether the marks network's finds go through the second look (`core.verify`) like the other
        detectors' (the checkpoint's `blind.marks.verified`, default yes). No: its finds are kept whatever the
        verifier, fitted without them, says — a verifier refitted on thin marks learned to pass the mask
        network's false blobs too (measured in models/blind_generalisation.md)."""
        value = ((self.meta.get("blind") or {}).get("marks") or {}).get("verified")
        return value if isinstance(value, bool) else True

    @property
    def marks_threshold(self) -> float:
        value = ((self.meta.get("blind") or {}).get("marks") or {}).get("threshold")
        return float(value) if isinstance(value, int | float) and 0 < value < 1 else 0.5

    @property
    def marks_side_limit(self) -> float | None:
        """Found marks whose two sides differ by more than this (grey levels) are the photo's own rims and are
        dropped (`core.mark_sides`; the checkpoint's `blind.marks.side_limit`, none: all kept)."""
        value = ((self.meta.get("blind") or {}).get("marks") or {}).get("side_limit")
        return float(value) if isinstance(value, int | float) and value > 0 else None

    def marks_map(self, image: np.ndarray, cancel: CancelFn | None = None) -> np.ndarray:
        """Where the marks network sees a scratch, hairline or speck (float32 H×W, 0..1) in an RGB uint8 photo,
        from a copy at most MARKS_SIDE long."""
        self._check_image(image)
        self.ensure_loaded()
        if MARKS_COMPONENT not in self.modules:
            raise InpaintStudioError(f"{self.name}: this checkpoint has no marks network; train one with "
                                     "`python -m trainer marks` or leave the marks option on auto")
        check_cancel(cancel)
        return self._component_map(MARKS_COMPONENT, image, MARKS_SIDE)[0]

    def _component_map(self, component: str, image: np.ndarray, side: int) -> tuple[np.ndarray, np.ndarray]:
        """A U-Net component's (where, how strongly) maps of `image`, from a copy at most `side` long, at the
        image's size."""
        import torch

        small = _shrink(image, side)
        with self.running(), torch.no_grad():
            x = torch.from_numpy(small).permute(2, 0, 1)[None].float().div(255).to(self.device)
            where, amount = (m[0, 0].float().cpu().numpy() for m in self.modules[component].maps(x))
        if small.shape != image.shape:
            where, amount = (_resize(m, image.shape[:2], linear=True) for m in (where, amount))
        return where, amount

    @property
    def stain_threshold(self) -> float:
        value = ((self.meta.get("blind") or {}).get("stains") or {}).get("threshold")
        return float(value) if isinstance(value, int | float) and 0 <= value < 1 else 0.1

    def stain_strength(self, image: np.ndarray, cancel: CancelFn | None = None) -> np.ndarray:
        """The stains found (float32 H×W, 0..1: how strongly each pixel is tinted; 0 elsewhere) in an RGB uint8
        photo: the stain network's map, from a copy at most STAIN_SIDE long, kept where the network is at least
        the checkpoint's threshold sure, the translucent judge confirms (`core.stains.confirmed_stains`) and
        the tint removal trusts (`core.tint`). A network with a strength output gives the strength; one without
        gives its confidence."""
        if self.corrects_stains:  # how much its correction changes each pixel (its largest channel), 0..1
            return np.abs(self.stain_change(image, cancel)).max(axis=-1) / 255
        found, fit = self.stains_and_tint(image, cancel)
        return trusted(found, fit) if fit is not None else found

    def stains_and_tint(self, image: np.ndarray, cancel: CancelFn | None) -> tuple[np.ndarray, TintFit | None]:
        """The confirmed stain map and its fitted tint (None when nothing was found): one fit serves both what
        the Auto mask shows and what Restore corrects."""
        self._check_image(image)
        self.ensure_loaded()
        check_cancel(cancel)
        where, amount = self._component_map(STAIN_COMPONENT, image, STAIN_SIDE)
        # the small-stain size is set at the stain network's scale (photos ~STAIN_SIDE long)
        small_area = self.stain_small_area * (max(image.shape[:2]) / STAIN_SIDE) ** 2
        s = confirmed_stains(image, where, amount, self.stain_threshold, small_area)
        # Only what the tint removal trusts is a stain to show and correct: on a clean validation photo the
        # judge let 10 % of the pixels through that no plausible tint explained.
        return s, (fit_tint(image, s) if s.any() else None)

    @property
    def corrects_stains(self) -> bool:
        """Whether the stain network undoes the tint itself (a five-output network, `networks.stain_net`):
        then its correction, not `core.tint`'s fit, restores stains."""
        return self.finds_stains and getattr(self.modules[STAIN_COMPONENT], "correction", None) is not None

    def stain_change(self, image: np.ndarray, cancel: CancelFn | None = None) -> np.ndarray:
        """How the stain network's correction changes each pixel (float32 H×W×3, grey levels), computed on a copy
        at most STAIN_SIDE long (the correction is a smooth gain, enlarged to the photo's size); zero wherever
        it changes no channel by STAIN_DEAD_ZONE, so a photo it finds clean comes back bit-identical."""
        import torch

        self._check_image(image)
        self.ensure_loaded()
        check_cancel(cancel)
        small = _shrink(image, STAIN_SIDE)
        with self.running(), torch.no_grad():
            x = torch.from_numpy(small).permute(2, 0, 1)[None].float().div(255).to(self.device)
            log_gain = self.modules[STAIN_COMPONENT](x)[0, 2:5].float().cpu().numpy().transpose(1, 2, 0)
        if small.shape != image.shape:
            log_gain = cv2.resize(log_gain, (image.shape[1], image.shape[0]), interpolation=cv2.INTER_LINEAR)
        f = image.astype(np.float32)
        change = np.clip(f * np.exp(log_gain), 0, 255) - f
        size = np.abs(change).max(axis=-1)
        visible = _strong_regions(size >= STAIN_DEAD_ZONE, size, self.stain_min_change)
        visible = _blending_regions(image, change, visible)
        return np.where(visible[..., None], change, 0).astype(np.float32)

    @property
    def stain_min_change(self) -> float:
        """A region the correction changes is kept only where its 90th-percentile change reaches this (grey
        levels; `blind.stains.min_change`): a stain changes its photo clearly, the network's guesses on a clean
        photo's own colours are faint and wide."""
        value = ((self.meta.get("blind") or {}).get("stains") or {}).get("min_change", 0)
        return float(value) if isinstance(value, int | float) and value > 0 else 0.0

    def remove_stains(self, image: np.ndarray, stains: np.ndarray) -> np.ndarray:
        """With a correcting stain network, its correction wherever the person's amber map is; else the
        fitted tint (the base method)."""
        if not self.corrects_stains:
            return super().remove_stains(image, stains)
        change = np.where((stains > 0)[..., None], self.stain_change(image), 0)
        return np.clip(np.rint(image.astype(np.float32) + change), 0, 255).astype(np.uint8)

    @property
    def stain_small_area(self) -> int:
        """Stains smaller than this (px on a photo STAIN_SIDE long) are kept without the translucent judge
        (`blind.stains.small_area`)."""
        value = ((self.meta.get("blind") or {}).get("stains") or {}).get("small_area", 0)
        return int(value) if isinstance(value, int | float) and value >= 0 else 0

    @property
    def fill(self) -> str:
        chosen = self._fill or str(self.meta.get("blind", {}).get("fill", "rin"))
        return chosen if chosen in FILLS else "rin"

    # --- tensor steps ----------------------------------------------------------------------------
    def predict_hole(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """MPN: padded RGB in [−1, 1] → (hole probability 1×1×H×W, bottleneck feature)."""
        return self.modules["mpn"](x)

    def restore(self, x: torch.Tensor, hole: torch.Tensor, neck: torch.Tensor) -> torch.Tensor:
        """RIN: RGB in [−1, 1], hole map (soft or binary, 1 = hole), MPN feature → RGB in [0, 1]."""
        from inpaint_studio.networks.vcnet import rin_input

        rin = self.modules["rin"]
        return rin.to_unit_range(rin(rin_input(x, hole), hole, neck))

    # --- array API -------------------------------------------------------------------------------
    def _check_image(self, image: np.ndarray) -> None:
        if not (isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3):
            raise InpaintStudioError(f"{self.name} needs an RGB uint8 H×W×3 image")

    def predict_mask(
        self, image: np.ndarray, progress: ProgressFn | None = None, cancel: CancelFn | None = None
    ) -> MaskPrediction:
        """The damage found, split into opaque (the mask) and translucent (a soft map: a tint over the photo,
        `core.translucent`)."""
        prob_np, mask, marks = self._find_damage(image, progress, cancel)
        split = split_damage(image, mask)
        opaque = without_frame_lines(split.opaque)
        kept = self._verified(image, opaque, prob_np, progress, cancel)
        if marks is not None and not self.marks_verified:
            # the regions are judged whole (a stroke cut where a mark crosses it reads as thin fragments, which
            # the verifier drops); the marks found come back whatever it said
            kept = np.maximum(kept, np.where(marks > 0, opaque, np.uint8(0)))
        # measured with a marks network (whose rings around a blot the rule completes); a plain MPN's own mask
        # stays as published, so its RIN takes the soft probabilities
        opaque = _whole_blots(kept, prob_np) if marks is not None else kept
        translucent = split.translucent
        if self.finds_stains:
            report(progress, 0.9, "looking for stains")
            stains = self.stain_strength(image, cancel)
            if stains.any():  # shown by its proportions (a network's 0.1–0.4 of light taken reads too faint)
                top = float(np.percentile(stains[stains > 0], 99))
                translucent = np.maximum(translucent, np.clip(stains / max(top, 1e-3), 0, 1))
        report(progress, 1.0, "done")
        return MaskPrediction(prob_np, opaque, self.threshold, translucent)

    def _verified(self, image: np.ndarray, opaque: np.ndarray, probability: np.ndarray,
                  progress: ProgressFn | None, cancel: CancelFn | None) -> np.ndarray:
        """`opaque` without the regions whose repair would likely make the photo worse (`core.verify`), judged
        against a Telea fill of the hole a blind run would fill. Measured in models/vcnet-small.md."""
        verifier = self.verifier
        if verifier is None or not opaque.any():
            return opaque
        from inpaint_studio.core.damage import restore_hole
        from inpaint_studio.engine.base import create_method

        check_cancel(cancel)
        report(progress, 0.8, "checking what was found")
        hole = restore_hole(opaque) if self.fill == "telea" else opaque
        kept = verify_hole(image, hole, probability, create_method("telea").inpaint(image, hole), verifier)
        return np.where(kept > 0, opaque, np.uint8(0))

    def _find_damage(
        self, image: np.ndarray, progress: ProgressFn | None, cancel: CancelFn | None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """(probability, binary mask) of all damage, opaque and translucent alike, and the marks network's
        share of the mask (None when it is off)."""
        self._check_image(image)
        report(progress, 0.0, f"loading {self.name}")
        self.ensure_loaded()
        check_cancel(cancel)
        small = _shrink(image, self.mask_size)
        img_p, hw = self.pad(small)
        report(progress, 0.2, "finding damage")
        with self.running():
            prob, _ = self.predict_hole(self._network_input(img_p))
            prob_np = prob[0, 0].float().cpu().numpy()
        prob_np = self.crop(prob_np, hw)
        if small.shape != image.shape:
            prob_np = _resize(prob_np, image.shape[:2], linear=True)
        prob_np = np.ascontiguousarray(np.clip(prob_np, 0.0, 1.0), dtype=np.float32)
        mask = self._binary(prob_np)
        if self.detector == "mpn+classical":
            check_cancel(cancel)
            report(progress, 0.6, "looking for scratches and strokes")
            prob_np, mask = _unite(prob_np, mask, image)
        if self.marks:
            check_cancel(cancel)
            report(progress, 0.7, "looking for fine scratches and specks")
            found = self.marks_map(image, cancel)
            prob_np = np.maximum(prob_np, found)
            marks = np.where(found >= self.marks_threshold, np.uint8(255), np.uint8(0))
            if self.marks_side_limit is not None:  # lines only: the speck size is set at the network's scale
                min_area = MARKS_LINE_AREA * (max(image.shape[:2]) / MARKS_SIDE) ** 2
                marks = marks_off_edges(image, marks, self.marks_side_limit, min_area)
            return prob_np, np.maximum(mask, marks), marks
        return prob_np, mask, None

    def _network_input(self, image: np.ndarray) -> torch.Tensor:
        from inpaint_studio.networks.vcnet import to_network_range

        return to_network_range(self.to_tensor(image))

    def _binary(self, probability: np.ndarray) -> np.ndarray:
        return np.where(probability >= self.threshold, np.uint8(255), np.uint8(0))

    @property
    def working_size(self) -> int:  # type: ignore[override]
        """The RIN's working size (the checkpoint's, never above `max_side`); a Telea fill (the checkpoint's
        measured choice) runs at the size handed over."""
        if self.fill == "telea":
            return 0
        size = super().working_size
        return min(size, self.max_side) if size else self.max_side

    def blind_hole(self, image: np.ndarray, progress: ProgressFn | None, cancel: CancelFn | None) -> np.ndarray:
        """The predicted damage (the MPN's, from a copy at `mask_size`, united with the classical
        detector's when chosen); for a Telea fill with the 1-px rim around wide strokes, as classical_restore
        fills them (their anti-aliased edge)."""
        from inpaint_studio.core.damage import restore_hole

        predicted = self.predict_mask(image, progress, cancel).mask
        return restore_hole(predicted) if self.fill == "telea" else predicted

    def fill_hole(self, image: np.ndarray, hole: np.ndarray, edges: np.ndarray | None,
                  progress: ProgressFn | None, cancel: CancelFn | None) -> np.ndarray:
        """The checkpoint's measured fill of `hole`: the RIN, or Telea where the RIN is not yet better (so
        choosing VCNet never means a worse fill). `edges` are ignored."""
        if self.fill == "telea":
            from inpaint_studio.engine.base import create_method

            return create_method("telea").fill_hole(image, hole, None, progress, cancel)
        return self._restore(image, hole, progress, cancel)

    def _restore(
        self, image: np.ndarray, mask: np.ndarray, progress: ProgressFn | None, cancel: CancelFn | None
    ) -> np.ndarray:
        """MPN + RIN at the image's size: the RIN fills `mask`. The RIN was trained on the MPN's soft
        probabilities, so where `mask` is exactly the MPN's own prediction on a photo it saw whole (a blind
        run with the network alone), the RIN restores from those probabilities, as published."""
        img_p, hw = self.pad(image)
        with self.running():
            x = self._network_input(img_p)
            report(progress, 0.1, "finding damage")
            prob, neck = self.predict_hole(x)
            plain = self.detector == "mpn" and max(image.shape[:2]) <= min(self.max_side, self.mask_size)
            own = plain and np.array_equal(self._binary(self.crop(prob[0, 0].float().cpu().numpy(), hw)), mask)
            hole = prob if own else self.mask_to_tensor(self.pad(mask)[0])
            check_cancel(cancel)
            report(progress, 0.5, "repairing")
            filled = self.to_uint8(self.restore(x, hole, neck))
        check_cancel(cancel)
        report(progress, 1.0, "done")
        return self.crop(filled, hw)

    def blind_input(self, image: np.ndarray, progress: ProgressFn | None, cancel: CancelFn | None) -> np.ndarray:
        """The photo with the tint of the damage judged translucent removed where that is trusted
        (`core.translucent.untint_translucent`: a stain is never painted over); first, with a stain network,
        the tint of the stains it finds is inverted (`core.tint.remove_tint`, which leaves any stain whose
        fitted tint it does not trust exactly as it was) or, with a correcting one, its own correction applied
        (`stain_change`)."""
        if self.corrects_stains:
            report(progress, 0.05, "looking for stains")
            image = np.clip(np.rint(image.astype(np.float32) + self.stain_change(image, cancel)), 0, 255).astype(np.uint8)
        elif self.finds_stains:
            report(progress, 0.05, "looking for stains")
            strength, fit = self.stains_and_tint(image, cancel)
            if fit is not None:
                image = remove_tint(image, strength, fit)
        return untint_translucent(image, lambda img: self._find_damage(img, None, cancel)[1])


_BLEND_SIDE = 128  # px: the guard compares large-scale colour only


def _blending_regions(image: np.ndarray, change: np.ndarray, found: np.ndarray) -> np.ndarray:
    """`found` (bool) without the regions whose correction moves them away from what their surroundings suggest
    (a fill of the region from around it, on a small blurred copy): a stain taken off brings its region back
    towards its surroundings; a correction that overshoots (a faint water mark with a brownish rim read as a
    brown blot and lightened into a pale blue disc on a held-out photo's sky) leaves it further away."""
    if not found.any():
        return found
    h, w = found.shape
    f = min(1.0, _BLEND_SIDE / max(h, w))
    size = (max(8, round(w * f)), max(8, round(h * f)))
    small = cv2.GaussianBlur(cv2.resize(image, size, interpolation=cv2.INTER_AREA), (0, 0), 1.0).astype(np.float32)
    fixed = cv2.GaussianBlur(cv2.resize(np.clip(image + change, 0, 255).astype(np.uint8), size,
                                        interpolation=cv2.INTER_AREA), (0, 0), 1.0).astype(np.float32)
    region = cv2.resize(found.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST)
    region = cv2.dilate(region, np.ones((3, 3), np.uint8))
    if region.all():
        return found
    around = cv2.inpaint(np.clip(small, 0, 255).astype(np.uint8), region * 255, 5, cv2.INPAINT_TELEA).astype(np.float32)
    count, labels = cv2.connectedComponents(region, connectivity=8)
    away_before = region_statistic(labels, count, np.abs(small - around).mean(-1), "mean")
    away_after = region_statistic(labels, count, np.abs(fixed - around).mean(-1), "mean")
    keep = np.concatenate([[False], away_after < away_before])
    full = cv2.resize(labels.astype(np.float32), (w, h), interpolation=cv2.INTER_NEAREST).astype(np.int32)
    return found & keep[full]


def _whole_blots(mask: np.ndarray, probability: np.ndarray) -> np.ndarray:
    """`mask` with every small compact blot it touches taken whole — a region of probability at least
    BLOT_PROBABILITY, up to POCKET_AREA px, at least BLOT_WIDTH wide, filling at least half its box and at most 3
    times as long as wide (a line's band is no blot: growing lines into it blurred hairlines) — and the known
    pockets the result encloses up to POCKET_AREA."""
    scale = max(mask.shape[:2]) / 512
    area = round(POCKET_AREA * scale**2)
    count, labels, stats, _ = cv2.connectedComponentsWithStats((probability >= BLOT_PROBABILITY).astype(np.uint8),
                                                               connectivity=8)
    w, h, size = stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT], stats[:, cv2.CC_STAT_AREA]
    blot = ((size <= area) & (size >= 0.5 * w * h) & (np.maximum(w, h) <= 3 * np.minimum(w, h))
            & (np.minimum(w, h) >= BLOT_WIDTH * max(scale, 1.0)))
    touched = np.zeros(count, bool)
    touched[np.unique(labels[mask > 0])] = True
    blot &= touched
    blot[0] = False
    grown = np.where(blot[labels], np.uint8(255), mask)
    return fill_holes(grown, area)


def _strong_regions(found: np.ndarray, size: np.ndarray, least: float) -> np.ndarray:
    """`found` (bool) without its connected regions whose 90th-percentile `size` is under `least`."""
    if least <= 0 or not found.any():
        return found
    count, labels = cv2.connectedComponents(found.astype(np.uint8), connectivity=8)
    keep = np.concatenate([[False], region_statistic(labels, count, size, 90) >= least])
    return keep[labels] & found


def _unite(prob: np.ndarray, mask: np.ndarray, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The MPN's probability and mask united with the classical detector's (pixelwise maximum, union)."""
    from inpaint_studio.core.damage import damage_mask, detect_damage

    classical = detect_damage(image)
    return np.maximum(prob, classical), np.maximum(mask, damage_mask(classical))


def _shrink(image: np.ndarray, max_side: int) -> np.ndarray:
    h, w = image.shape[:2]
    if max(h, w) <= max_side:
        return image
    scale = max_side / max(h, w)
    return _resize(image, (max(1, round(h * scale)), max(1, round(w * scale))), linear=False)


def _resize(arr: np.ndarray, hw: tuple[int, int], *, linear: bool) -> np.ndarray:
    import cv2

    interp = cv2.INTER_LINEAR if linear else cv2.INTER_AREA
    return cv2.resize(arr, (hw[1], hw[0]), interpolation=interp)


# --- published layout ----------------------------------------------------------------------------

def _is_vcnet_file(obj: Any) -> bool:
    from inpaint_studio.networks.vcnet import looks_like_vcnet_file

    return isinstance(obj, dict) and looks_like_vcnet_file(obj)


def _convert(obj: Any) -> dict[str, Any]:
    from inpaint_studio.networks.vcnet import split_published

    return split_published(obj)


def _default_name(path: Path) -> str:
    # VCNet_FFHQ_200000step_… / VCNet_Places_300000step_… → vcnet-ffhq / vcnet-places
    parts = path.stem.split("_")
    return f"vcnet-{parts[1].lower()}" if len(parts) > 1 and parts[0].lower() == "vcnet" else f"vcnet-{path.stem}"


register_layout(
    PublishedLayout(
        name="vcnet_reproduction",
        method="vcnet",
        description="VCNet PyTorch reproduction training checkpoint (VCNet_*.pth)",
        required_keys=frozenset({"mpn/rb1.conv1.weight", "rin/pc1.pcn.sqex.linear1.weight"}),
        detect=_is_vcnet_file,
        convert=_convert,
        components=PublishedComponents("vcnet", "reproduction"),
        default_name=_default_name,
    )
)
