"""A learned fill runs at its checkpoint's working size: a larger photo is filled on a shrunk copy, only the
hole pixels come back (enlarged), and an option overrides the recorded size."""

from __future__ import annotations

import imagegen as gen
import numpy as np
import pytest
import torch

from inpaint_studio.engine.methods.deepfill_v2 import DeepFillV2Method
from inpaint_studio.networks.registry import create_network


def _method(meta=None, **options) -> tuple[DeepFillV2Method, list[tuple[int, int]]]:
    torch.manual_seed(0)
    net = create_network("deepfill_v2_generator", cnum=4).eval()
    seen: list[tuple[int, int]] = []
    net.register_forward_pre_hook(lambda m, a: seen.append(tuple(a[0].shape[-2:])))
    return DeepFillV2Method.from_modules({"generator": net}, meta=meta, **options), seen


def _scene() -> tuple[np.ndarray, np.ndarray]:
    image = gen.textured(96, 144, seed=4)
    mask = np.zeros((96, 144), np.uint8)
    mask[30:60, 50:100] = 255
    return image, mask


def test_a_recorded_working_size_fills_a_shrunk_copy_and_keeps_the_rest():
    image, mask = _scene()
    method, seen = _method(meta={"inference": {"working_size": 48}})
    assert method.working_size == 48
    out = method.inpaint(image, mask)
    assert max(seen[-1]) <= 48 + 8  # the network saw the 48-px copy (padded to its multiple)
    assert out.shape == image.shape and np.array_equal(out[mask == 0], image[mask == 0])
    # the hole holds the enlarged small fill, not the full-size one
    full, _ = _method()
    assert not np.array_equal(out[mask > 0], full.inpaint(image, mask)[mask > 0])


def test_small_images_and_the_option_run_at_full_size():
    image, mask = _scene()
    method, seen = _method(meta={"inference": {"working_size": 200}})
    method.inpaint(image, mask)
    assert seen[-1] == (96, 144)  # already within the working size
    method, seen = _method(meta={"inference": {"working_size": 48}}, working_size=0)
    assert method.working_size == 0
    method.inpaint(image, mask)
    assert seen[-1] == (96, 144)
    with pytest.raises(ValueError, match="working_size"):
        _method(working_size=-1)
