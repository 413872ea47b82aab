"""Score inpainting methods on photos with known ground truth (the table of the seed papers: model × hole-ratio
bucket), and blind methods on synthetically damaged photos.

Preprocessing (stated in every report): each photo is scaled so its short side is `size` (INTER_AREA when
shrinking, INTER_CUBIC when enlarging) and centre-cropped to size × size. Generated masks depend only on
(seed, image file name, bucket), so every method sees exactly the same holes and reruns are reproducible.
Given masks (`masks_dir`, matched by stem or STEM_mask) get the same scale + crop (nearest-neighbour) and are
grouped into 10 %-wide hole-ratio buckets.
"""

from __future__ import annotations

import json
import math
import re
import time
import zlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from inpaint_studio.core.atomic import atomic_write_text
from inpaint_studio.core.errors import InpaintStudioError, UnknownModelError
from inpaint_studio.core.hd import HDConfig, HDStrategy
from inpaint_studio.core.imageio import load_rgb
from inpaint_studio.core.masks import load_mask
from inpaint_studio.engine.base import ProgressFn, create_method, report
from inpaint_studio.engine.manager import ModelManager

# (low, high) hole ratio of generated free-form holes, or a hole shape: "centre" (the centre box, a quarter of the
# image) or "thin" (thin strokes 1–8 px wide, as painted over a scratch or a wire)
Bucket = tuple[float, float] | str
SHAPE_BUCKETS = ("centre", "thin")
DAMAGE_KINDS = ("contamination", "scratch", "stain", "ink", "graffiti")
IMAGE_METRICS = ("l1_hole", "psnr_hole", "ssim_hole", "l1", "psnr", "ssim", "detail", "swd")
EDGE_METRICS = ("edge_precision", "edge_recall")
MASK_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".bmp")


@dataclass
class EvalResult:
    settings: dict[str, Any]
    buckets: list[str]  # labels, in table order
    # {"model", "bucket", "n", and the IMAGE_METRICS means}
    rows: list[dict[str, Any]] = field(default_factory=list)
    # (each row also has "seconds_per_image": mean wall time of one fill, mask prediction included)
    # blind / mask-predicting methods on damaged photos: {"model", "kind", "n", "mask_bce", "mask_iou",
    # "psnr", "ssim", "input_psnr", "input_ssim", "telea_true_mask_psnr", "telea_true_mask_ssim"}; the last two
    # are OpenCV Telea given the exact damage mask, the reference a blind method has to approach
    restoration: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # "name: reason" for models and images left out

    def row(self, model: str, bucket: str) -> dict[str, Any] | None:
        return next((r for r in self.rows if r["model"] == model and r["bucket"] == bucket), None)

    def to_dict(self) -> dict[str, Any]:
        return _finite(asdict(self))


def bucket_label(bucket: Bucket) -> str:
    if isinstance(bucket, str):
        if bucket not in SHAPE_BUCKETS:
            raise InpaintStudioError(f"unknown hole shape '{bucket}' (known: {', '.join(SHAPE_BUCKETS)})")
        return bucket
    low, high = bucket
    return f"{round(low * 100)}-{round(high * 100)}%"


# --- inputs ----------------------------------------------------------------------------------------


def prepare(image: np.ndarray, size: int, *, nearest: bool = False) -> np.ndarray:
    """Scale the short side to `size`, then centre-crop to size × size."""
    h, w = image.shape[:2]
    scale = size / min(h, w)
    nh, nw = max(size, round(h * scale)), max(size, round(w * scale))
    if (nh, nw) != (h, w):
        interp = cv2.INTER_NEAREST if nearest else (cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
        image = cv2.resize(image, (nw, nh), interpolation=interp)
    y0, x0 = (nh - size) // 2, (nw - size) // 2
    return np.ascontiguousarray(image[y0 : y0 + size, x0 : x0 + size])


def mask_rng(seed: int, image_name: str, salt: int) -> np.random.Generator:
    # The file name, not the image's position in the list: a different --limit keeps the same masks.
    return np.random.default_rng([seed, zlib.crc32(image_name.encode("utf-8")), salt])


def generated_mask(size: int, bucket: Bucket, seed: int, image_name: str, index: int) -> np.ndarray:
    from inpaint_studio.core.synthesis import bucketed_mask, centre_box_mask, thin_stroke_mask

    if bucket == "thin":
        return thin_stroke_mask(size, size, mask_rng(seed, image_name, index))
    if isinstance(bucket, str):
        return centre_box_mask(size, size)
    return bucketed_mask(size, size, tuple(bucket), mask_rng(seed, image_name, index))


def _find_mask(masks_dir: Path, stem: str) -> Path | None:
    for name in (stem, f"{stem}_mask"):
        for suffix in MASK_SUFFIXES:
            if (masks_dir / f"{name}{suffix}").is_file():
                return masks_dir / f"{name}{suffix}"
    return None


def _ratio_bucket(mask: np.ndarray) -> str:
    ratio = float((mask > 0).mean())
    low = min(int(ratio * 10), 9) / 10
    return bucket_label((low, low + 0.1))


# --- evaluation ------------------------------------------------------------------------------------


def _finite(obj: Any) -> Any:
    """JSON has no inf/nan: a perfect PSNR is reported as null."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite(v) for v in obj]
    return obj


def _mean(values: list[float]) -> float:
    # A hole filled perfectly gives PSNR = inf; average the finite ones so one lucky image does not win.
    finite = [v for v in values if math.isfinite(v)]
    return float(np.mean(finite)) if finite else float("inf")


_OPTION = re.compile(r"^([A-Za-z_]\w*)=([^=:]*)$")


def _option_value(text: str) -> Any:
    """"0.7" → 0.7, "3" → 3, "true"/"false" → bool, anything else stays text."""
    low = text.strip().lower()
    if low in ("true", "false"):
        return low == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return text.strip()


def method_spec(entry: str) -> tuple[str, str, dict[str, Any]]:
    """A model reference (`NAME`, `METHOD:CHECKPOINT_NAME`, a checkpoint's name, `NAME=CHECKPOINT_FILE`;
    `engine.named_checkpoints`), followed by any `:OPTION=VALUE` parts → (report label, method name, activation
    options). The label of a checkpoint is `NAME[STEM]`, so two checkpoints of one method can be compared in one
    table; options stay in the label (`vcnet:detector=mpn`: VCNet's mask network alone beside its shipped blind
    setting). Option parts are peeled from the right (an option holds `=`, a checkpoint name never does), so a
    checkpoint path may hold a drive letter's colon."""
    options: dict[str, Any] = {}
    suffix = ""
    head = entry.strip()
    while ":" in head:
        rest, _, last = head.rpartition(":")
        match = _OPTION.match(last.strip())
        if match is None:
            break
        options = {match.group(1): _option_value(match.group(2)), **options}
        suffix = f":{last.strip()}{suffix}"
        head = rest
    name, sep, path = head.partition("=")
    name, path = name.strip(), path.strip()
    if "checkpoint" in options:
        raise InpaintStudioError(f"'{entry}': give a checkpoint as NAME=PATH, not as an option")
    if sep and not path:
        raise InpaintStudioError(f"'{entry}': give a checkpoint after '=' (NAME=PATH)")
    if sep:  # the file is checked where it is used: a missing one is reported, not fatal here
        return f"{name}[{Path(path).stem}]{suffix}", name, {"checkpoint": Path(path), **options}
    from inpaint_studio.engine.named_checkpoints import resolve_model

    choice = resolve_model(head)
    return choice.label + suffix, choice.method, {**choice.options(), **options}


def evaluate(
    images: Sequence[Path],
    methods: Sequence[str],
    *,
    masks_dir: Path | None = None,
    generate: Sequence[Bucket] | None = None,
    seed: int = 0,
    size: int = 256,
    contaminate: bool = False,
    guide_edges: bool = False,
    device: str = "auto",
    progress: ProgressFn | None = None,
) -> EvalResult:
    """Run every method on every (image, mask) pair and average the metrics per (method, bucket).

    `guide_edges`: every method that accepts edges is given the photo's own Canny edges (sigma 2), as if a person
    had traced them through the hole, and every row also reports edge precision / recall of its fill inside the
    hole against those edges (`core.metrics.edge_adherence`)."""
    from inpaint_studio.core.edges import canny_edges
    from inpaint_studio.core.metrics import bce, edge_adherence, image_metrics, iou, psnr, ssim

    if (masks_dir is None) == (generate is None):
        raise InpaintStudioError("evaluate needs either a masks folder or mask ratio buckets to generate, not both")
    settings = {
        "images": [str(p) for p in images],
        "methods": list(methods),
        "size": size,
        "preprocessing": f"short side scaled to {size} (INTER_AREA down / INTER_CUBIC up), centre crop {size}x{size}",
        "masks": str(masks_dir) if masks_dir is not None else "generated",
        "buckets": [bucket_label(b) for b in generate] if generate is not None else "10%-wide hole-ratio bins",
        "seed": seed,
        "contaminate": contaminate,
        "guide_edges": "the photo's own Canny edges (sigma 2) given to edge-aware methods" if guide_edges else False,
        "device": device,
    }
    result = EvalResult(settings=settings, buckets=[])

    # Load every photo once; one failing file is reported, not fatal.
    photos: list[tuple[str, np.ndarray]] = []
    for path in images:
        try:
            photos.append((Path(path).name, prepare(load_rgb(path), size)))
        except InpaintStudioError as exc:
            result.skipped.append(f"{Path(path).name}: {exc}")

    # The (image, bucket, mask) cases every method sees.
    cases: list[tuple[int, str, np.ndarray]] = []
    for i, (name, _) in enumerate(photos):
        if generate is not None:
            for b, bucket in enumerate(generate):
                cases.append((i, bucket_label(bucket), generated_mask(size, bucket, seed, name, b)))
        else:
            assert masks_dir is not None
            found = _find_mask(masks_dir, Path(name).stem)
            if found is None:
                result.skipped.append(f"{name}: no mask in {masks_dir}")
                continue
            try:
                mask = prepare(load_mask(found), size, nearest=True)
            except InpaintStudioError as exc:
                result.skipped.append(f"{name}: {exc}")
                continue
            if mask.any():
                cases.append((i, _ratio_bucket(mask), mask))
    if generate is not None:
        result.buckets = [bucket_label(b) for b in generate]
    else:
        result.buckets = sorted({c[1] for c in cases}, key=lambda s: float(s.split("-")[0]))

    damaged = damaged_cases(photos, seed) if contaminate else []
    guides = [canny_edges(image) for _, image in photos] if guide_edges else []
    metric_keys = IMAGE_METRICS + (EDGE_METRICS if guide_edges else ())
    true_mask_fills: dict[int, np.ndarray] = {}  # Telea given the exact damage, computed once per case
    manager = ModelManager(device=device, hd_config=HDConfig(strategy=HDStrategy.ORIGINAL))
    total = max(len(methods) * (len(cases) + len(damaged)), 1)
    done = 0
    for entry in methods:
        try:
            name, method_name, options = method_spec(entry)
        except UnknownModelError as exc:  # an unknown name is reported like a model that fails to load
            result.skipped.append(f"{entry}: {exc}")
            done += len(cases) + len(damaged)
            continue
        try:
            manager.activate(method_name, load=True, **options)
        except InpaintStudioError as exc:
            result.skipped.append(f"{name}: {exc}")
            done += len(cases) + len(damaged)
            continue
        scores: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
        for i, label, mask in cases:
            report(progress, done / total, f"{name} {photos[i][0]} {label}")
            start = time.perf_counter()
            filled = manager.run(photos[i][1], mask, guides[i] if guide_edges else None)
            scores[label]["seconds_per_image"].append(time.perf_counter() - start)
            measured = image_metrics(filled, photos[i][1], mask)
            if guide_edges:
                measured.update(edge_adherence(filled, guides[i], mask))
            for key, value in measured.items():
                scores[label][key].append(float(value))
            done += 1
        for label in result.buckets:
            if label in scores:
                n = len(scores[label]["l1_hole"])
                result.rows.append(
                    {
                        "model": name,
                        "bucket": label,
                        "n": n,
                        **{k: _mean(scores[label][k]) for k in metric_keys},
                        "seconds_per_image": float(np.mean(scores[label]["seconds_per_image"])),
                    }
                )

        caps = manager.capabilities
        if damaged and caps is not None and (caps.predicts_mask or caps.blind):
            per_kind: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
            for c, (kind, clean, dirty, target) in enumerate(damaged):
                report(progress, done / total, f"{name} {kind}")
                s = per_kind[kind]
                start = time.perf_counter()
                if caps.predicts_mask:
                    pred = manager.predict_mask(dirty)
                    s["mask_bce"].append(bce(pred.probability, target))
                    s["mask_iou"].append(iou(pred.mask, target))
                    restored = manager.run(dirty, None if caps.blind else pred.mask)
                else:
                    restored = manager.run(dirty, None)
                s["seconds_per_image"].append(time.perf_counter() - start)
                if c not in true_mask_fills:
                    true_mask_fills[c] = create_method("telea").inpaint(dirty, target)
                reference = true_mask_fills[c]
                s["telea_true_mask_psnr"].append(psnr(reference, clean))
                s["telea_true_mask_ssim"].append(ssim(reference, clean))
                s["psnr"].append(psnr(restored, clean))
                s["ssim"].append(ssim(restored, clean))
                s["input_psnr"].append(psnr(dirty, clean))
                s["input_ssim"].append(ssim(dirty, clean))
                done += 1
            for kind in DAMAGE_KINDS:
                if kind in per_kind:
                    s = per_kind[kind]
                    row = {"model": name, "kind": kind, "n": len(s["psnr"])}
                    for key in (
                        "mask_bce",
                        "mask_iou",
                        "psnr",
                        "ssim",
                        "input_psnr",
                        "input_ssim",
                        "telea_true_mask_psnr",
                        "telea_true_mask_ssim",
                        "seconds_per_image",
                    ):
                        row[key] = _mean(s[key]) if s.get(key) else None
                    result.restoration.append(row)
        elif damaged:
            done += len(damaged)
        manager.unload()
    report(progress, 1.0, "done")
    return result


def damaged_cases(photos: list[tuple[str, np.ndarray]], seed: int) -> list[tuple[str, np.ndarray, np.ndarray, np.ndarray]]:
    """(kind, clean, damaged, changed-pixel mask) for every photo and damage kind; contamination pastes
    another photo of the set (the next one) as VCNet does."""
    from inpaint_studio.core.synthesis import synthesize_damage

    out = []
    for i, (name, clean) in enumerate(photos):
        other = photos[(i + 1) % len(photos)][1] if len(photos) > 1 else None
        for k, kind in enumerate(DAMAGE_KINDS):
            if kind == "contamination" and other is None:
                continue
            damage = synthesize_damage(clean, mask_rng(seed, name, 1000 + k), kind, noise_source=other)
            if damage.mask.any():
                out.append((kind, clean, damage.image, damage.mask))
    return out


# --- reports ---------------------------------------------------------------------------------------


def _fmt(value: Any, digits: int) -> str:
    if value is None:
        return "–"
    if isinstance(value, float) and math.isinf(value):
        return "inf"
    return f"{value:.{digits}f}"


def format_table(result: EvalResult) -> str:
    """Markdown: one row per model, PSNR / SSIM / hole L1 per bucket (then the restoration table)."""
    lines = []
    header = ["model"]
    for b in result.buckets:
        header += [f"{b} PSNR", f"{b} SSIM", f"{b} L1 hole"]
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "---|" * len(header))
    for model in dict.fromkeys(r["model"] for r in result.rows):
        cells = [model]
        for b in result.buckets:
            r = result.row(model, b)
            cells += [_fmt(r["psnr"], 2), _fmt(r["ssim"], 4), _fmt(r["l1_hole"], 2)] if r else ["–"] * 3
        lines.append("| " + " | ".join(cells) + " |")
    if result.restoration:
        lines += ["", "Blind restoration of damaged photos (input = the damaged photo, untouched; Telea + true mask ="
                  " OpenCV Telea told exactly where the damage is):", ""]
        cols = ["model", "damage", "n", "mask BCE", "mask IoU", "PSNR", "SSIM", "input PSNR", "input SSIM",
                "Telea + true mask PSNR"]
        lines.append("| " + " | ".join(cols) + " |")
        lines.append("|" + "---|" * len(cols))
        for r in result.restoration:
            lines.append(
                f"| {r['model']} | {r['kind']} | {r['n']} | {_fmt(r['mask_bce'], 4)} | {_fmt(r['mask_iou'], 4)} | "
                f"{_fmt(r['psnr'], 2)} | {_fmt(r['ssim'], 4)} | {_fmt(r['input_psnr'], 2)} | {_fmt(r['input_ssim'], 4)} | "
                f"{_fmt(r.get('telea_true_mask_psnr'), 2)} |"
            )
    return "\n".join(lines)


def format_markdown(result: EvalResult) -> str:
    s = result.settings
    parts = [
        "# Inpainting evaluation",
        "",
        f"- images: {len(s['images'])}; {s['preprocessing']}",
        f"- masks: {s['masks']} (buckets: {', '.join(result.buckets)}); seed {s['seed']}",
        "- PSNR / SSIM on the full image, L1 (0–255 grey levels) over hole pixels only",
        "",
        format_table(result),
    ]
    if result.skipped:
        parts += ["", "Left out:", ""] + [f"- {line}" for line in result.skipped]
    return "\n".join(parts) + "\n"


def write_report(result: EvalResult, outdir: Path, stem: str = "evaluation") -> tuple[Path, Path]:
    """Write STEM.json (every number) and STEM.md (the table) into `outdir`, each atomically."""
    outdir = Path(outdir)
    try:
        outdir.mkdir(parents=True, exist_ok=True)
        json_path, md_path = outdir / f"{stem}.json", outdir / f"{stem}.md"
        atomic_write_text(json_path, json.dumps(result.to_dict(), indent=2) + "\n")
        atomic_write_text(md_path, format_markdown(result))
    except OSError as exc:
        raise InpaintStudioError(f"cannot write the evaluation report to '{outdir}': {exc.strerror or exc}") from None
    return json_path, md_path
