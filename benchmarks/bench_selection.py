"""Object selection (`core/selection.py`) against hand-made object masks on the bundled sample photos.

`tests/data/selection/NAME.png` are object masks drawn by hand (polygons and circles read off zoomed crops of
the photo, not produced by any selector); `prompts.json` holds what a user gives per object: a box dragged
around it, a click on it, and the corrective clicks made after looking at the box's result. Printed per object,
as mask IoU with the hand-made mask:

- box: GrabCut from the box alone; click: one click, no box; box + clicks: the box and the corrections;
- wand: the magic wand (tolerance 32, contiguous) at the click — the baseline a one-colour tool gives;
- loose → snapped: the hand mask grown by 6 px (a sloppy brush outline), then "shrink to edges" with an 8 px band.

    .venv/bin/python benchmarks/bench_selection.py
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import cv2
import numpy as np

from inpaint_studio.core.imageio import load_image
from inpaint_studio.core.masks import grow_mask
from inpaint_studio.core.metrics import iou
from inpaint_studio.core.paths import RESOURCES_DIR
from inpaint_studio.core.selection import Prompt, magic_wand, select_object, snap_to_edges

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "selection"


def main() -> None:
    specs = json.loads((DATA / "prompts.json").read_text())
    cols = ("box", "click", "box + clicks", "wand", "loose", "snapped")
    print("| object | " + " | ".join(cols) + " | s per box |")
    print("|---|" + "---|" * (len(cols) + 1))
    sums = np.zeros(len(cols))
    for name, spec in specs.items():
        image = load_image(RESOURCES_DIR / "samples" / spec["photo"]).rgb
        truth = cv2.imread(str(DATA / f"{name}.png"), cv2.IMREAD_GRAYSCALE)
        fix = spec["corrections"]
        start = time.perf_counter()
        by_box = select_object(image, Prompt(box=tuple(spec["box"])))
        seconds = time.perf_counter() - start
        loose = grow_mask(truth, 6)
        masks = (
            by_box,
            select_object(image, Prompt(positives=[tuple(spec["click"])])),
            select_object(image, Prompt(box=tuple(spec["box"]), positives=[tuple(p) for p in fix["positives"]],
                                        negatives=[tuple(p) for p in fix["negatives"]])),
            magic_wand(image, tuple(spec["click"])),
            loose,
            snap_to_edges(image, loose, 8, direction="shrink"),
        )
        scores = np.array([iou(m, truth) for m in masks])
        sums += scores
        print(f"| {name} | " + " | ".join(f"{s:.2f}" for s in scores) + f" | {seconds:.2f} |")
    print("| **mean** | " + " | ".join(f"**{s:.2f}**" for s in sums / len(specs)) + " | |")


if __name__ == "__main__":
    main()
