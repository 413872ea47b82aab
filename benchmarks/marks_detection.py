"""How well marks networks find thin damage on whole photos, seen and unseen side by side: no fill, no verifier,
only the network's map at a threshold — the quick check that chooses a marks run before the whole blind pipeline
(`blind_generalisation.py`) measures it.

Each run (a `python -m trainer marks` run directory, or a VCNet checkpoint with a `marks` component) looks at the
same photos — validation photos and the held-out photo source (the unseen split), scaled to 512 px long — each
damaged by every family once (the seeds `blind_generalisation.py` uses). Per family and photo group: recall (the
share of the damage's pixels found), precision, and the share of the photo marked outside the damage (dilated
2 px: an anti-aliased edge found is not a false find). Clean photos: the share marked, mean and max.

    python benchmarks/marks_detection.py models/training/marks-small models/training/marks-hard --limit 8
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from blind_generalisation import photo_groups  # noqa: E402

from inpaint_studio.core.damage_families import draw_damage  # noqa: E402
from inpaint_studio.core.imageio import load_rgb  # noqa: E402
from inpaint_studio.core.paths import user_cache_dir  # noqa: E402
from inpaint_studio.engine.evaluate import mask_rng, prepare  # noqa: E402

FAMILIES = ("hairline", "dust", "scratch", "text", "foxing", "stain", "coffee", "water")
THIN = ("hairline", "dust", "scratch", "text")  # what the network should find; the rest it should leave


def load_network(path: Path) -> torch.nn.Module:
    """The marks network of a run directory or of a VCNet checkpoint."""
    from inpaint_studio.networks.registry import create_network

    if path.is_dir():
        from trainer.stain import load_state

        settings = json.loads((path / "run.json").read_text(encoding="utf-8"))
        net = create_network(settings["network"], **settings["config"])
        net.load_state_dict(load_state(path)["network"])
    else:
        from inpaint_studio.engine.checkpoints import load_checkpoint

        ckpt = load_checkpoint(path)
        spec = ckpt.components["marks"]
        net = create_network(spec["network"], **spec["config"])
        net.load_state_dict({k: v.float() for k, v in ckpt.state_dict("marks").items()})
    return net.eval()


def predict(net: torch.nn.Module, image: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        x = torch.from_numpy(image).permute(2, 0, 1)[None].float() / 255
        return torch.sigmoid(net(x))[0, 0].numpy()


def measure(nets: dict[str, torch.nn.Module], photos: list[tuple[str, str, np.ndarray]], families: tuple[str, ...],
            threshold: float) -> dict[str, Any]:
    rows: dict[tuple[str, str, str], list[tuple[float, float, float]]] = {}
    clean: dict[tuple[str, str], list[float]] = {}
    for i, (group, name, photo) in enumerate(photos):
        source = photos[(i + 1) % len(photos)][2]
        for label, net in nets.items():
            clean.setdefault((label, group), []).append(float((predict(net, photo) >= threshold).mean()))
        for k, family in enumerate(families):
            damage = draw_damage(photo, mask_rng(0, name, 2000 + k), family, source)
            truth = damage.mask > 0
            near = cv2.dilate(truth.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
            for label, net in nets.items():
                found = predict(net, damage.image) >= threshold
                recall = float(found[truth].mean()) if truth.any() else float("nan")
                precision = float(near[found].mean()) if found.any() else float("nan")
                rows.setdefault((label, family, group), []).append((recall, precision, float((found & ~near).mean())))
    return {"rows": rows, "clean": clean}


def _mean(values: np.ndarray) -> float:
    """The mean of the defined values (precision is undefined where nothing was marked)."""
    kept = values[~np.isnan(values)]
    return float(kept.mean()) if kept.size else float("nan")


def report(result: dict[str, Any], labels: list[str], groups: list[str], families: tuple[str, ...]) -> str:
    out = ["| run | family | " + " | ".join(f"{g}: recall / precision / false % " for g in groups) + "|",
           "|---|---|" + "---|" * len(groups)]
    for label in labels:
        for family in families:
            cells = []
            for g in groups:
                v = np.array(result["rows"][(label, family, g)], dtype=np.float64)
                cells.append(f"{_mean(v[:, 0]):.2f} / {_mean(v[:, 1]):.2f} / {100 * v[:, 2].mean():.2f}"
                             if family in THIN else f"— / — / {100 * v[:, 2].mean():.2f}")
            out.append(f"| {label} | {family} | " + " | ".join(cells) + " |")
        cells = [f"{100 * np.mean(result['clean'][(label, g)]):.2f} % (max {100 * np.max(result['clean'][(label, g)]):.2f})"
                 for g in groups]
        out.append(f"| {label} | clean photos: share marked | " + " | ".join(cells) + " |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("runs", nargs="+", type=Path, help="marks run directories or VCNet checkpoints")
    ap.add_argument("--limit", type=int, default=8, help="photos per group (the unseen split: twice as many)")
    ap.add_argument("--threshold", type=float, default=0.85)
    ap.add_argument("--families", default=",".join(FAMILIES))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--photos", type=Path, help="a folder of photos instead of the photo set's (one group)")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    nets = {f"{p.parent.name}/{p.name}" if p.is_dir() else p.stem: load_network(p) for p in args.runs}
    photos = []
    if args.photos is not None:
        files = sorted(f for f in args.photos.iterdir() if f.suffix.lower() in (".png", ".jpg", ".jpeg"))
        photos = [("--photos", f.name, prepare(load_rgb(f), 512)) for f in files[: args.limit]]
    else:
        for split in ("val", "unseen"):
            for files in photo_groups(user_cache_dir() / "photos" / split, max(1, args.limit // 2), split).values():
                label = "held-out source" if split == "unseen" else "validation photos"
                photos += [(label, f.name, prepare(load_rgb(f), 512)) for f in files]
    groups = list(dict.fromkeys(g for g, _, _ in photos))
    families = tuple(f for f in args.families.split(",") if f)
    result = measure(nets, photos, families, args.threshold)
    print(f"{len(photos)} photos, threshold {args.threshold:g}\n")
    print(report(result, list(nets), groups, families))
    return 0


if __name__ == "__main__":
    sys.exit(main())
