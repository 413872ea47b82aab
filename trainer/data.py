"""Training and validation data: any folder of photos → square crops with a hole mask, the edges
EdgeConnect needs, or a VCNet-contaminated copy.

Every sample's randomness comes from `np.random.default_rng([seed, epoch, index])`, never from a global
generator, so a sample is a pure function of its position in the run: resuming, DDP sharding and worker
processes all see exactly the same data as an uninterrupted single-process run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import torch
from PIL import Image

from inpaint_studio.core.errors import ImageLoadError, InpaintStudioError
from inpaint_studio.core.imageio import load_rgb

log = logging.getLogger("trainer")

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff"}
# A VCNet "damage kind" for training only: the photo as it is, with an empty mask (a negative example).
CLEAN = "clean"
MaskFn = Callable[[int, int, np.random.Generator], np.ndarray]
PrefillFn = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (image, mask) → classical fill (`trainer.prefill`)


class DataError(InpaintStudioError):
    """A training or validation folder is missing or holds no usable image."""


def list_images(root: Path) -> list[Path]:
    """Every image under `root`, except the photo set's `unseen` split (kept for measuring, never trained on):
    `--data` pointed at the whole photo set must not pull it in."""
    from trainer.photos import HELD_OUT_SPLIT, photos_dir

    if not root.is_dir():
        raise DataError(f"image folder not found: {root}")
    if root.resolve() == (photos_dir() / HELD_OUT_SPLIT).resolve():
        raise DataError(f"{root} is the photo set's held-out '{HELD_OUT_SPLIT}' split: it is for measuring only")
    files = sorted(
        p for p in root.rglob("*")
        if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file() and HELD_OUT_SPLIT not in p.relative_to(root).parts[:-1]
    )
    if not files:
        raise DataError(f"no images ({', '.join(sorted(IMAGE_SUFFIXES))}) under {root}")
    return files


def photo_files(folder: Path | None, split: str = "train") -> list[Path]:
    """The photos a command draws its samples from: every image under a user's `folder` (`list_images`: never
    the held-out split), else the photo set's `split`. A missing folder or no photos: one plain `DataError`."""
    from trainer.photos import list_photos, photos_dir

    if folder is not None:
        if not folder.is_dir():
            raise DataError(f"--photos {folder}: not a folder")
        return list_images(folder)
    photos = list_photos(photos_dir(), splits=(split,))
    if not photos:
        raise DataError("no photos: run `python -m trainer fetch-photos` or give --photos")
    return photos


def random_square(image: np.ndarray, size: int, rng: np.random.Generator, crop_min: float, flip: bool) -> np.ndarray:
    """A random square of side U(crop_min, 1)·short side, rescaled to `size`, flipped half the time."""
    h, w = image.shape[:2]
    short = min(h, w)
    side = max(1, int(round(short * rng.uniform(crop_min, 1.0))))
    y = int(rng.integers(0, h - side + 1))
    x = int(rng.integers(0, w - side + 1))
    crop = image[y : y + side, x : x + side]
    out = resize_square(crop, size)
    if flip and rng.random() < 0.5:
        out = out[:, ::-1]
    return np.ascontiguousarray(out)


def centre_square(image: np.ndarray, size: int) -> np.ndarray:
    h, w = image.shape[:2]
    side = min(h, w)
    y, x = (h - side) // 2, (w - side) // 2
    return resize_square(image[y : y + side, x : x + side], size)


def resize_square(image: np.ndarray, size: int) -> np.ndarray:
    if image.shape[0] == size and image.shape[1] == size:
        return np.ascontiguousarray(image)
    interp = cv2.INTER_AREA if image.shape[0] > size else cv2.INTER_CUBIC
    return np.ascontiguousarray(cv2.resize(image, (size, size), interpolation=interp))


# --- masks -------------------------------------------------------------------------------------


def synthetic_mask_fn(kind: str, hole_ratio: list[float] | None = None) -> MaskFn:
    """A mask generator from `core.synthesis` (all return uint8 H×W with 255 = hole)."""
    from inpaint_studio.core import synthesis

    if kind == "deepfill":
        return synthesis.deepfill_training_mask
    if kind == "free_form":
        return synthesis.free_form_mask
    if kind == "box":
        return synthesis.random_box_mask
    if kind == "vcnet":
        return synthesis.vcnet_stroke_mask
    if kind == "centre":
        return lambda h, w, rng: synthesis.centre_box_mask(h, w)
    if kind == "glcic":
        return synthesis.glcic_box_mask
    if kind == "mixed":
        # A broad mix for a network that must not break on any hole shape (PGGAN's instance norm amplified
        # the sparse mask channel of thin strokes it never saw into saturated streaks).
        kinds = (synthesis.deepfill_training_mask, synthesis.free_form_mask, synthesis.vcnet_stroke_mask,
                 synthesis.thin_stroke_mask)
        return lambda h, w, rng: kinds[int(rng.integers(len(kinds)))](h, w, rng)
    if kind == "bucket":
        if not hole_ratio or len(hole_ratio) != 2:
            raise DataError("mask_kind 'bucket' needs hole_ratio = [lo, hi]")
        lo, hi = float(hole_ratio[0]), float(hole_ratio[1])
        return lambda h, w, rng: synthesis.bucketed_mask(h, w, (lo, hi), rng)
    raise DataError(f"unknown mask kind '{kind}' (deepfill, free_form, box, vcnet, centre, glcic, bucket, mixed)")


class MaskFolder:
    """Irregular masks from a folder (white = hole), randomly flipped/rotated and resized (nearest)."""

    def __init__(self, root: Path) -> None:
        self.files = list_images(root)

    def __call__(self, h: int, w: int, rng: np.random.Generator) -> np.ndarray:
        for _ in range(len(self.files)):
            path = self.files[int(rng.integers(len(self.files)))]
            try:
                with Image.open(path) as im:
                    m = np.asarray(im.convert("L"))
                break
            except (OSError, ValueError):
                continue
        else:
            raise DataError(f"no readable mask in {self.files[0].parent}")
        m = np.rot90(m, int(rng.integers(4)))
        if rng.random() < 0.5:
            m = m[:, ::-1]
        m = cv2.resize(np.ascontiguousarray(m), (w, h), interpolation=cv2.INTER_NEAREST)
        return np.where(m > 127, 255, 0).astype(np.uint8)


# --- datasets ------------------------------------------------------------------------------------


class InpaintingDataset(torch.utils.data.Dataset):
    """Samples for one recipe: dict of numpy arrays `image`, `mask`, optionally `edges` (Canny of the whole
    image, the edge model's target), `input` (the contaminated image for VCNet; for mask-based recipes
    the network builds its own input from image and mask) and `prefill` (the classical fill of the hole a
    prefill network corrects).

    `train=True`: random crops, flips, fresh masks per epoch. `train=False`: centre crops and masks fixed
    by (seed, index) — the validation set is identical at every evaluation and across runs.
    """

    def __init__(
        self,
        root: Path,
        size: int,
        *,
        mask_fn: MaskFn | None = None,
        edges: bool = False,
        edge_sigma: float = 2.0,
        damage: list[str] | None = None,
        train: bool = True,
        seed: int = 0,
        crop_min: float = 0.6,
        limit: int | None = None,
        cache_mb: int = 0,
        prefill: PrefillFn | None = None,
        translucent_negatives: bool = False,
    ) -> None:
        self.files = list_images(Path(root))
        if limit:
            self.files = self.files[:limit]
        self.size = size
        self.mask_fn = mask_fn
        self.edges = edges
        self.edge_sigma = edge_sigma
        self.damage = list(damage or [])
        self.train = train
        self.seed = seed
        self.crop_min = crop_min
        self.prefill = prefill
        self.translucent_negatives = translucent_negatives  # translucent damage gets an empty mask (not a hole)
        self.epoch = 0
        self.bad: set[Path] = set()
        self._warned = False
        # Decoded photos kept in memory: decoding a PNG costs most of a sample's preparation (~28 ms of ~36 at
        # 128² on this CPU), and every epoch decodes every photo again. Filled first come, up to the budget.
        self.cache_bytes = max(int(cache_mb), 0) * 2**20
        self._cache: dict[Path, np.ndarray] = {}
        self._cached_bytes = 0
        if mask_fn is None and not self.damage:
            raise DataError("a dataset needs a mask source or a damage kind")
        from inpaint_studio.core.damage_families import FAMILIES
        from inpaint_studio.core.synthesis import DAMAGE_KINDS

        known = (*DAMAGE_KINDS, *(f for f in FAMILIES if f not in DAMAGE_KINDS), CLEAN)
        unknown = [k for k in self.damage if k not in known]
        if unknown:
            raise DataError(f"unknown damage kind(s) {', '.join(unknown)} (known: {', '.join(known)})")

    def __len__(self) -> int:
        return len(self.files)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def _rng(self, index: int) -> np.random.Generator:
        key = [self.seed, self.epoch, index] if self.train else [self.seed, 0x7A1, index]
        return np.random.default_rng(key)

    def _photo(self, index: int, rng: np.random.Generator) -> np.ndarray:
        """Decode file `index` (or the next decodable one: bad files are skipped and counted)."""
        n = len(self.files)
        for k in range(n):
            path = self.files[(index + k) % n]
            if path in self.bad:
                continue
            try:
                rgb = self._decode(path)
            except ImageLoadError:
                self.bad.add(path)
                if not self._warned:
                    log.warning("skipping undecodable image %s (further ones are counted silently)", path)
                    self._warned = True
                continue
            if self.train:
                return random_square(rgb, self.size, rng, self.crop_min, flip=True)
            return centre_square(rgb, self.size)
        raise DataError(f"none of the {n} images under {self.files[0].parent} could be decoded")

    def _decode(self, path: Path) -> np.ndarray:
        cached = self._cache.get(path)
        if cached is not None:
            return cached
        rgb = load_rgb(path)  # EXIF orientation, any mode → RGB, decompression-bomb limit
        if self._cached_bytes + rgb.nbytes <= self.cache_bytes:
            rgb.setflags(write=False)  # shared by every later sample: crops must copy, never write into it
            self._cache[path] = rgb
            self._cached_bytes += rgb.nbytes
        return rgb

    def __getitem__(self, index: int) -> dict[str, np.ndarray]:
        rng = self._rng(index)
        image = self._photo(index, rng)
        sample: dict[str, np.ndarray] = {"image": image}
        if self.damage:
            from inpaint_studio.core import synthesis

            kind = self.damage[int(rng.integers(len(self.damage)))]
            if kind == CLEAN:  # a negative: nothing to find, so the mask network learns to stay quiet
                sample["input"] = image.copy()
                sample["mask"] = np.zeros(image.shape[:2], np.uint8)
                return self._with_edges(sample, image)
            if kind not in synthesis.DAMAGE_KINDS:  # a newer damage family (core.damage_families)
                return self._with_edges(self._quiet_if_translucent(self._family_sample(index, rng, image, kind),
                                                                   kind), image)
            noise = None
            if kind in ("contamination", "mixed"):
                # VCNet's noise N: a patch of another photo of the set.
                other = (index + 1 + int(rng.integers(max(1, len(self.files) - 1)))) % len(self.files)
                noise = self._photo(other, rng)
            result = synthesis.synthesize_damage(image, rng, kind, noise_source=noise)
            sample["input"] = np.ascontiguousarray(result.image)
            sample["mask"] = np.where(result.mask > 0, 255, 0).astype(np.uint8)
            sample = self._quiet_if_translucent(sample, kind)
        else:
            assert self.mask_fn is not None
            sample["mask"] = np.where(self.mask_fn(self.size, self.size, rng) > 0, 255, 0).astype(np.uint8)
            if self.prefill is not None:
                sample["prefill"] = self.prefill(image, sample["mask"])
        return self._with_edges(sample, image)

    def _family_sample(self, index: int, rng: np.random.Generator, image: np.ndarray, kind: str) -> dict[str, np.ndarray]:
        """A sample damaged by a `core.damage_families` family; the pasting ones take a patch of another photo.
        The mask is the pixels the damage visibly changed (a faint tint's or grain's fringe is not a hole)."""
        from inpaint_studio.core.damage_families import FAMILIES, draw_damage

        source = None
        if FAMILIES[kind].uses_source:
            other = (index + 1 + int(rng.integers(max(1, len(self.files) - 1)))) % len(self.files)
            source = self._photo(other, rng)
        result = draw_damage(image, rng, kind, source)
        return {"image": image, "input": np.ascontiguousarray(result.image),
                "mask": np.where(result.mask > 0, 255, 0).astype(np.uint8)}

    def _quiet_if_translucent(self, sample: dict[str, np.ndarray], kind: str) -> dict[str, np.ndarray]:
        """With `translucent_negatives`, a translucent kind's sample keeps its damaged input but an empty mask."""
        from inpaint_studio.core.damage_families import FAMILIES

        if self.translucent_negatives and kind in FAMILIES and FAMILIES[kind].translucent:
            sample["mask"] = np.zeros_like(sample["mask"])
        return sample

    def _with_edges(self, sample: dict[str, np.ndarray], image: np.ndarray) -> dict[str, np.ndarray]:
        if self.edges:
            from inpaint_studio.core.edges import canny_edges

            sample["edges"] = canny_edges(image, None, sigma=self.edge_sigma)
        return sample

    @property
    def skipped(self) -> int:
        return len(self.bad)


def to_tensors(batch: list[dict[str, np.ndarray]]) -> dict[str, torch.Tensor]:
    """Collate: images → N×3×H×W float in [0, 1]; masks and edges → N×1×H×W float in {0, 1}."""
    out: dict[str, torch.Tensor] = {}
    for key in batch[0]:
        arr = np.stack([b[key] for b in batch])
        t = torch.from_numpy(arr)
        t = t.permute(0, 3, 1, 2) if t.dim() == 4 else t.unsqueeze(1)
        out[key] = t.float().div_(255.0).contiguous()
    return out


def to_uint8_image(t: torch.Tensor) -> np.ndarray:
    """3×H×W float [0, 1] → H×W×3 uint8."""
    return (t.detach().float().clamp(0, 1).mul(255).round().byte().permute(1, 2, 0).cpu().numpy()).copy()


def to_uint8_map(t: torch.Tensor) -> np.ndarray:
    """1×H×W float [0, 1] → H×W uint8."""
    return t.detach().float().clamp(0, 1).mul(255).round().byte()[0].cpu().numpy().copy()
