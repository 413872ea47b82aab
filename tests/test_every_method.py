"""Every registered method that can run here fills a hole plausibly and leaves the rest untouched.

Methods without weights are skipped with the reason; the learned-method tests cover random weights."""

from __future__ import annotations

import imagegen as gen
import numpy as np
import pytest

from inpaint_studio.core.metrics import l1
from inpaint_studio.engine.base import create_method, method_specs

pytestmark = pytest.mark.shipped_models  # these check what models/ really holds

H, W = 96, 128


def _hole() -> np.ndarray:
    # A box plus a thin diagonal stroke: one compact region and one scratch-like region.
    mask = gen.box_mask(H, W, 40, 56, 56, 76)
    for i in range(60):
        mask[10 + i // 3, 20 + i : 23 + i] = 255
    return mask


@pytest.mark.parametrize("spec", method_specs(), ids=lambda s: s.name)
def test_method_fills_only_the_hole_better_than_grey(spec):
    method = create_method(spec.name)
    if not method.is_available():
        pytest.skip(f"{spec.name}: {method.weights_info()}")
    image, mask = gen.textured(H, W, seed=3), _hole()
    corrupted = image.copy()
    corrupted[mask > 0] = 0  # the method must not see the ground truth in the hole
    try:
        method.load()
        out = method.inpaint(corrupted, mask)
    finally:
        method.unload()

    assert out.shape == image.shape and out.dtype == np.uint8
    assert np.array_equal(out[mask == 0], corrupted[mask == 0])
    grey = corrupted.copy()
    grey[mask > 0] = 128
    assert l1(out, image, mask) < l1(grey, image, mask)
