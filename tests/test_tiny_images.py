"""Every registered method on photos a few pixels wide (1×1, 3×5, 8×8): a fill that keeps the known pixels, or
one plain message, never an internal error (EdgeConnect's residual blocks once failed below 12 px)."""

from __future__ import annotations

import numpy as np
import pytest

from inpaint_studio.core.errors import InpaintStudioError
from inpaint_studio.engine.base import create_method, method_specs
from inpaint_studio.engine.manager import ModelManager

pytestmark = pytest.mark.shipped_models  # the learned methods run with the weights models/ ships

SIZES = [(1, 1), (3, 5), (8, 8)]


def _case(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    image = np.random.default_rng(h * 100 + w).integers(0, 256, (h, w, 3), dtype=np.uint8)
    mask = np.zeros((h, w), np.uint8)
    mask[h // 2, w // 2] = 255
    return image, mask


@pytest.mark.parametrize("spec", method_specs(), ids=lambda s: s.name)
def test_every_method_fills_a_tiny_photo_or_says_why(spec):
    if not create_method(spec.name).is_available():
        pytest.skip(f"{spec.name}: no weights here")
    manager = ModelManager(device="cpu")
    manager.activate(spec.name, load=True)
    for h, w in SIZES:
        image, mask = _case(h, w)
        for given in ([mask, None] if spec.capabilities.blind else [mask]):
            try:
                out = manager.run(image, given)
            except InpaintStudioError as exc:  # a plain refusal is fine; an internal error is not
                assert "\n" not in str(exc) and "internal" not in str(exc)
                continue
            assert out.shape == image.shape and out.dtype == np.uint8, (spec.name, h, w)
            if given is not None:
                assert np.array_equal(out[mask == 0], image[mask == 0]), (spec.name, h, w)
