"""Sketched edges split a hole into regions, and each region takes its texture from its own side of the edges.

This is what makes "draw an outline through the hole" work without learned weights: a fill restricted to the
known pixels on one side of a drawn line cannot smear the sky into the roof. The engine's `edge_guided` method
runs a fill per region with the other side excluded (`sources_for`).

- Regions: the hole minus the drawn edge pixels, 4-connected (so a 1-px diagonal line is a real barrier).
- Sides: every known pixel belongs to the side of the hole region nearest to it (a Voronoi partition of the
  known image by region), so a line that ends at the hole's border is, in effect, continued outward.
- The edge pixels themselves are filled last, from the regions around them: the drawn line becomes the
  boundary between two fills.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class EdgeSplit:
    labels: np.ndarray  # int32 H×W: 1..count for hole regions, 0 elsewhere (known pixels and edge pixels)
    count: int
    side: np.ndarray  # int32 H×W: for every pixel, the label of the nearest hole region (0 when there is none)
    edge_pixels: np.ndarray  # bool H×W: drawn edge pixels inside the hole (filled after the regions)


def split_by_edges(mask: np.ndarray, edges: np.ndarray | None) -> EdgeSplit:
    """Split the hole (mask > 127) by the drawn edges (edges > 127) inside it."""
    hole = mask > 127
    barrier = hole & (edges > 127) if edges is not None else np.zeros_like(hole)
    open_hole = (hole & ~barrier).astype(np.uint8)
    count, labels = cv2.connectedComponents(open_hole, connectivity=4)
    labels = labels.astype(np.int32)
    count -= 1
    if count == 0:
        return EdgeSplit(labels, 0, np.zeros_like(labels), barrier)
    # distanceTransformWithLabels labels each zero pixel of its input; every pixel gets the label of the nearest.
    _, nearest = cv2.distanceTransformWithLabels(
        (labels == 0).astype(np.uint8), cv2.DIST_L2, 5, labelType=cv2.DIST_LABEL_PIXEL
    )
    zero_ys, zero_xs = np.nonzero(labels != 0)  # the order in which distanceTransformWithLabels numbers them
    lookup = np.zeros(len(zero_ys) + 1, np.int32)
    lookup[1:] = labels[zero_ys, zero_xs]
    side = lookup[nearest]
    return EdgeSplit(labels, count, side, barrier)


def sources_for(split: EdgeSplit, region: int, mask: np.ndarray) -> np.ndarray:
    """bool H×W of the pixels that must neither be filled nor copied from when filling `region`: the known
    pixels of every other side, and every other hole pixel."""
    hole = mask > 127
    other_side = (split.side != region) & ~hole
    other_holes = hole & (split.labels != region)
    return other_side | other_holes
