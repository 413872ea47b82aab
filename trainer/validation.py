"""Validation: the recipe's fills on a fixed set of images, scored with `core.metrics` next to Telea
(cv2.INPAINT_TELEA) on the very same images and masks, plus mask BCE/IoU for mask predictors and edge
L1/precision/recall for edge generators. Also draws the sample grids."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

from inpaint_studio.core import metrics
from inpaint_studio.engine.base import create_method
from trainer.data import InpaintingDataset, to_tensors, to_uint8_image, to_uint8_map
from trainer.recipes.base import Recipe


class Validator:
    """Holds the validation samples (decoded once) and Telea's scores on them (computed once)."""

    def __init__(self, dataset: InpaintingDataset, count: int, batch_size: int) -> None:
        self.samples = [dataset[i] for i in range(min(count, len(dataset)))]
        self.batch_size = max(1, batch_size)
        self._telea: dict[str, float] | None = None

    def batches(self, device: torch.device) -> list[dict[str, torch.Tensor]]:
        out = []
        for i in range(0, len(self.samples), self.batch_size):
            batch = to_tensors(self.samples[i : i + self.batch_size])
            out.append({k: v.to(device) for k, v in batch.items()})
        return out

    def telea(self) -> dict[str, float]:
        if self._telea is None:
            # Telea gets the true mask (VCNet: an oracle the blind network does not have).
            telea = create_method("telea")  # the engine's classical baseline (cv2 INPAINT_TELEA, radius 5)
            fills = [telea.inpaint(s.get("input", s["image"]), s["mask"]) for s in self.samples]
            self._telea = _mean([metrics.image_metrics(f, s["image"], s["mask"]) for f, s in
                                 zip(fills, self.samples, strict=True)])
        return self._telea

    @torch.no_grad()
    def evaluate(self, recipe: Recipe, device: torch.device) -> tuple[dict[str, float], list[dict[str, np.ndarray]]]:
        """Metrics of the recipe (keys as core.metrics, plus mask_/edge_ ones) and Telea's (`telea_*`),
        and the per-sample outputs for the sample grid."""
        recipe.train_mode(False)
        rows: list[dict[str, float]] = []
        outputs: list[dict[str, np.ndarray]] = []
        try:
            k = 0
            for batch in self.batches(device):
                pred = recipe.predict(batch)
                for j in range(batch["image"].shape[0]):
                    s = self.samples[k]
                    k += 1
                    row: dict[str, float] = {}
                    out: dict[str, np.ndarray] = {}
                    if "output" in pred:
                        out["output"] = to_uint8_image(pred["output"][j])
                        row.update(metrics.image_metrics(out["output"], s["image"], s["mask"]))
                    if "mask_prob" in pred:
                        prob = pred["mask_prob"][j, 0].float().cpu().numpy()
                        out["mask_prob"] = to_uint8_map(pred["mask_prob"][j])
                        row["mask_bce"] = metrics.bce(prob, s["mask"])
                        row["mask_bce_tau"] = tau_weighted_bce(prob, s["mask"])
                        row["mask_iou"] = metrics.iou(np.where(prob >= 0.5, 255, 0).astype(np.uint8), s["mask"])
                    if "edges" in pred:
                        row.update(edge_metrics(pred["edges"][j, 0].float().cpu().numpy(), s["edges"], s["mask"]))
                        out["edges"] = to_uint8_map(pred["edges"][j])
                    rows.append(row)
                    outputs.append(out)
        finally:
            recipe.train_mode(True)
        result = _mean(rows)
        if any("output" in o for o in outputs):
            result.update({f"telea_{k}": v for k, v in self.telea().items()})
        return result, outputs

    def grid(self, outputs: list[dict[str, np.ndarray]], path: Path, rows: int = 4) -> None:
        """Columns: input, mask, edges (given and predicted), output, target — one row per image."""
        tiles_per_row = []
        for s, o in list(zip(self.samples, outputs, strict=True))[:rows]:
            hole = s["mask"] > 0
            shown = s["input"].copy() if "input" in s else _grey_hole(s["image"], hole)
            tiles = [shown, _rgb(s["mask"])]
            if "edges" in s:
                tiles.append(_rgb(np.where(hole, 0, s["edges"]).astype(np.uint8)))
            if "edges" in o:
                tiles.append(_rgb(o["edges"]))
            if "mask_prob" in o:
                tiles.append(_rgb(o["mask_prob"]))
            if "output" in o:
                tiles.append(o["output"])
            tiles.append(s["image"])
            tiles_per_row.append(np.concatenate(tiles, axis=1))
        if not tiles_per_row:
            return
        width = max(t.shape[1] for t in tiles_per_row)
        padded = [np.pad(t, ((0, 0), (0, width - t.shape[1]), (0, 0)), constant_values=255) for t in tiles_per_row]
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp.png")
        Image.fromarray(np.concatenate(padded, axis=0)).save(tmp)
        tmp.replace(path)


def edge_metrics(prob: np.ndarray, target: np.ndarray, mask: np.ndarray) -> dict[str, float]:
    """Inside the hole: L1 of the probability to the 0/1 Canny target, precision and recall at 0.5
    (EdgeConnect's accuracy measures)."""
    hole = mask > 0
    t = target[hole] > 0
    p = prob[hole]
    if p.size == 0:
        return {}
    hit = p >= 0.5
    tp = float(np.sum(hit & t))
    return {
        "edge_l1_hole": float(np.mean(np.abs(p - t))),
        "edge_precision": tp / max(1.0, float(np.sum(hit))),
        "edge_recall": tp / max(1.0, float(np.sum(t))),
    }


def tau_weighted_bce(prob: np.ndarray, mask: np.ndarray, eps: float = 1e-6) -> float:
    """VCNet's training objective for the mask (see `losses.tau_weighted_bce`), on one image: early in
    training it falls while the plain BCE may not, because τ deliberately biases predictions to the hole."""
    t = (mask > 127).astype(np.float64)
    tau = 1.0 - t.mean()
    p = np.clip(prob.astype(np.float64), eps, 1 - eps)
    return float(-np.mean(tau * t * np.log(p) + (1 - tau) * (1 - t) * np.log(1 - p)))


def _mean(rows: list[dict[str, float]]) -> dict[str, float]:
    keys = {k for r in rows for k in r}
    out = {}
    for k in sorted(keys):
        vals = [r[k] for r in rows if k in r and np.isfinite(r[k])]
        if vals:
            out[k] = float(np.mean(vals))
    return out


def _rgb(grey: np.ndarray) -> np.ndarray:
    return np.repeat(grey[:, :, None], 3, axis=2)


def _grey_hole(image: np.ndarray, hole: np.ndarray) -> np.ndarray:
    out = image.copy()
    out[hole] = 128
    return out
