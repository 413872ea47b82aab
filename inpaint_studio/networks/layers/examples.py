"""Example inputs for a network's shape checks (`example_inputs`): one rectangular hole, the same in every family."""

from __future__ import annotations

import torch


def example_hole(batch: int, h: int, w: int) -> torch.Tensor:
    """N×1×H×W, 1 = hole: a box off-centre, away from the borders at any size the tests use."""
    hole = torch.zeros(batch, 1, h, w)
    hole[..., h // 4 : h // 2 + h // 8, w // 3 : w // 3 + w // 4] = 1.0
    return hole
